'use strict';
// Triggers through the official Node SDK (@alicloud/fc2): timer and http, triggerConfig echoed verbatim.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const { client, uniq, expectFcError, purgeService, createFunction, ACCOUNT_ID, REGION, TIME_RE } = require('./helpers');

const svc = uniq('trnode');
const fn = uniq('fn');
before(async () => {
  await client.createService(svc);
  await createFunction(svc, fn);
});
after(async () => {
  await purgeService(client, svc);
});

function checkTrigger(t, name, type, config) {
  assert.equal(t.triggerName, name);
  assert.equal(t.triggerType, type);
  assert.deepStrictEqual(t.triggerConfig, config, 'triggerConfig must round-trip exactly');
  assert.match(t.createdTime, TIME_RE);
  assert.match(t.lastModifiedTime, TIME_RE);
}

test('timer trigger: create, get, update, list, delete', async () => {
  const name = uniq('timer');
  const config = { payload: 'awesome-fc', cronExpression: '0 0/5 * * * *', enable: true };
  const created = await client.createTrigger(svc, fn, { triggerName: name, triggerType: 'timer', triggerConfig: config });
  checkTrigger(created.data, name, 'timer', config);
  assert.ok(created.headers.etag, 'CreateTrigger must send an ETag');
  checkTrigger((await client.getTrigger(svc, fn, name)).data, name, 'timer', config);

  const config2 = { payload: '', cronExpression: '@every 5m', enable: false };
  const role = `acs:ram::${ACCOUNT_ID}:role/fc-test-updated`;
  const updated = await client.updateTrigger(svc, fn, name, { triggerConfig: config2, invocationRole: role });
  checkTrigger(updated.data, name, 'timer', config2);
  assert.equal(updated.data.invocationRole, role);
  assert.notEqual(updated.headers.etag, created.headers.etag);

  const listed = (await client.listTriggers(svc, fn, { prefix: name })).data.triggers;
  assert.equal(listed.length, 1);
  checkTrigger(listed[0], name, 'timer', config2);

  await client.deleteTrigger(svc, fn, name);
  await expectFcError(client.getTrigger(svc, fn, name), { status: 404, code: 'TriggerNotFound' });
});

test('http trigger: authType and methods round-trip; sourceArn/invocationRole accepted', async () => {
  const name = uniq('http');
  const config = { authType: 'function', methods: ['GET', 'POST', 'PUT'] };
  const created = await client.createTrigger(svc, fn, {
    invocationRole: `acs:ram::${ACCOUNT_ID}:role/fc-test`,
    sourceArn: `acs:oss:${REGION}:${ACCOUNT_ID}:fc-sdk-trigger-bucket`,
    triggerName: name, triggerType: 'http', triggerConfig: config,
  });
  checkTrigger(created.data, name, 'http', config);
  const config2 = { authType: 'anonymous', methods: ['GET'] };
  checkTrigger((await client.updateTrigger(svc, fn, name, { triggerConfig: config2 })).data, name, 'http', config2);
  checkTrigger((await client.getTrigger(svc, fn, name)).data, name, 'http', config2);
  await client.deleteTrigger(svc, fn, name);
});

test('bad trigger config and unsupported types are 400', async () => {
  await expectFcError(client.createTrigger(svc, fn, {
    triggerName: 'badcron', triggerType: 'timer', triggerConfig: { payload: '', cronExpression: '*/5 * * * *', enable: true },
  }), { status: 400, code: 'InvalidArgument' });
  await expectFcError(client.createTrigger(svc, fn, {
    triggerName: 'badauth', triggerType: 'http', triggerConfig: { authType: 'root', methods: ['GET'] },
  }), { status: 400, code: 'InvalidArgument' });
  const { message } = await expectFcError(client.createTrigger(svc, fn, {
    triggerName: 'oss', triggerType: 'oss',
    sourceArn: `acs:oss:${REGION}:${ACCOUNT_ID}:bucket`, invocationRole: `acs:ram::${ACCOUNT_ID}:role/fc-test`,
    triggerConfig: { events: ['oss:ObjectCreated:*'], filter: { key: { prefix: 'p', suffix: 's' } } },
  }), { status: 400 });
  assert.ok(message.includes('timer') && message.includes('http'), `should name the supported types: ${message}`);
});

test('TriggerAlreadyExists and TriggerNotFound', async () => {
  const name = uniq('dup');
  const opts = () => ({ triggerName: name, triggerType: 'timer', triggerConfig: { payload: '', cronExpression: '@every 1m', enable: true } });
  await client.createTrigger(svc, fn, opts());
  await expectFcError(client.createTrigger(svc, fn, opts()), { status: 409, code: 'TriggerAlreadyExists' });
  await client.deleteTrigger(svc, fn, name);
  await expectFcError(client.deleteTrigger(svc, fn, name), { status: 404, code: 'TriggerNotFound' });
  await expectFcError(client.updateTrigger(svc, fn, name, { description: 'x' }), { status: 404, code: 'TriggerNotFound' });
  await expectFcError(client.createTrigger(svc, uniq('nofn'), opts()), { status: 404, code: 'FunctionNotFound' });
});

test('listTriggers pages through nextToken', async () => {
  const prefix = uniq('pg') + '_';
  const names = [0, 1, 2, 3, 4].map((i) => `${prefix}${i}`);
  for (const n of names) {
    await client.createTrigger(svc, fn, { triggerName: n, triggerType: 'timer', triggerConfig: { payload: n, cronExpression: '@every 1m', enable: true } });
  }
  const seen = [];
  let nextToken;
  let calls = 0;
  do {
    const opts = { limit: 2, prefix };
    if (nextToken) opts.nextToken = nextToken;
    const { data } = await client.listTriggers(svc, fn, opts);
    seen.push(...data.triggers.map((t) => t.triggerName));
    nextToken = data.nextToken;
    calls += 1;
  } while (nextToken && calls < 10);
  assert.equal(calls, 3);
  assert.deepEqual(seen, names);
  for (const n of names) await client.deleteTrigger(svc, fn, n);
});
