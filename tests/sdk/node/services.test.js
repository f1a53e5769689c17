'use strict';
// Services through the official Node SDK (@alicloud/fc2).

const { test, after } = require('node:test');
const assert = require('node:assert/strict');

const { client, uniq, expectFcError, purgeService, createFunction, TIME_RE } = require('./helpers');

const made = [];
const newService = async (opts) => {
  const name = uniq('svcnode');
  made.push(name);
  const resp = await client.createService(name, opts);
  return { name, resp };
};
after(async () => {
  for (const name of made) await purgeService(client, name);
});

test('createService answers the service with FC defaults and an ETag', async () => {
  const { name, resp } = await newService();
  assert.ok(resp.headers.etag, 'CreateService must send an ETag');
  const s = resp.data;
  assert.equal(s.serviceName, name);
  assert.equal(s.description, '');
  for (const key of ['serviceId', 'createdTime', 'lastModifiedTime', 'logConfig', 'role']) {
    assert.ok(key in s, `service lacks ${key}: ${JSON.stringify(s)}`);
  }
  assert.match(s.createdTime, TIME_RE);
  assert.match(s.lastModifiedTime, TIME_RE);
});

test('getService, with and without the LATEST qualifier', async () => {
  const { name, resp } = await newService({ description: 'node desc' });
  for (const got of [await client.getService(name, {}, 'LATEST'), await client.getService(name)]) {
    assert.equal(got.data.serviceName, name);
    assert.equal(got.data.description, 'node desc');
    assert.equal(got.data.serviceId, resp.data.serviceId);
  }
  assert.equal((await client.getService(name)).headers.etag, resp.headers.etag);
});

test('updateService changes the ETag; a stale If-Match is 412 PreconditionFailed', async () => {
  const { name, resp } = await newService();
  const oldEtag = resp.headers.etag;
  const updated = await client.updateService(name, { description: 'this is test update service' });
  assert.equal(updated.data.serviceName, name);
  assert.equal(updated.data.description, 'this is test update service');
  assert.ok(updated.headers.etag && updated.headers.etag !== oldEtag, 'ETag must change');

  await expectFcError(client.updateService(name, { description: 'stale' }, { 'if-match': oldEtag }),
    { status: 412, code: 'PreconditionFailed' });
  assert.equal((await client.getService(name)).data.description, 'this is test update service');

  const ok = await client.updateService(name, { description: 'fresh' }, { 'if-match': updated.headers.etag });
  assert.equal(ok.data.description, 'fresh');
});

test('deleteService honours If-Match (passed as its options argument)', async () => {
  const { name, resp } = await newService();
  await expectFcError(client.deleteService(name, { 'if-match': 'invalid etag' }),
    { status: 412, code: 'PreconditionFailed' });
  await client.deleteService(name, { 'if-match': resp.headers.etag });
  await expectFcError(client.getService(name), { status: 404, code: 'ServiceNotFound' });
});

test('tracingConfig and role round-trip', async () => {
  const tracingConfig = { type: 'Jaeger', params: { endpoint: 'http://jaeger.local:14268/api/traces' } };
  const role = 'acs:ram::1234567890:role/aliyunfclogexecutionrole';
  const { name, resp } = await newService({ tracingConfig, role });
  assert.equal(resp.data.tracingConfig.type, 'Jaeger');
  assert.equal(resp.data.tracingConfig.params.endpoint, tracingConfig.params.endpoint);
  assert.equal(resp.data.role, role);
  const got = (await client.getService(name)).data;
  assert.equal(got.role, role);
  assert.equal(got.tracingConfig.type, 'Jaeger');
});

test('ServiceAlreadyExists, ServiceNotFound, ServiceNotEmpty', async () => {
  const { name } = await newService();
  await expectFcError(client.createService(name), { status: 409, code: 'ServiceAlreadyExists' });

  const missing = uniq('svcmissing');
  await expectFcError(client.getService(missing), { status: 404, code: 'ServiceNotFound' });
  await expectFcError(client.updateService(missing, { description: 'x' }), { status: 404, code: 'ServiceNotFound' });
  await expectFcError(client.deleteService(missing), { status: 404, code: 'ServiceNotFound' });

  const fn = uniq('fn');
  await createFunction(name, fn);
  await expectFcError(client.deleteService(name), { status: 409, code: 'ServiceNotEmpty' });
  await client.deleteFunction(name, fn);
  await client.deleteService(name);
});

test('invalid service names are 400 InvalidArgument', async () => {
  for (const bad of ['1abc', 'a.b', 'has space', 'x'.repeat(129)]) {
    await expectFcError(client.createService(bad), { status: 400, code: 'InvalidArgument' });
  }
});

test('listServices pages with limit / nextToken / prefix / startKey', async () => {
  const prefix = uniq('pgnode') + '_';
  const names = ['a1', 'a2', 'b1', 'b2', 'c1'].map((s) => prefix + s);
  for (const n of [...names].reverse()) {
    made.push(n);
    await client.createService(n);
  }
  const seen = [];
  let nextToken;
  let calls = 0;
  do {
    const opts = { limit: 2, prefix };
    if (nextToken) opts.nextToken = nextToken;
    const { data } = await client.listServices(opts);
    calls += 1;
    seen.push(...data.services.map((s) => s.serviceName));
    nextToken = data.nextToken;
    if (!nextToken) assert.ok(!('nextToken' in data), 'nextToken must be omitted at the end');
  } while (nextToken && calls < 10);
  assert.equal(calls, 3);
  assert.deepEqual(seen, names);

  let { data } = await client.listServices({ prefix, startKey: prefix + 'b1' });
  assert.deepEqual(data.services.map((s) => s.serviceName), names.slice(2));
  ({ data } = await client.listServices({ prefix: prefix + 'a' }));
  assert.deepEqual(data.services.map((s) => s.serviceName), names.slice(0, 2));

  const first = (await client.listServices({ prefix, limit: 2 })).data;
  ({ data } = await client.listServices({ prefix, limit: 2, nextToken: first.nextToken, startKey: prefix + 'c' }));
  assert.deepEqual(data.services.map((s) => s.serviceName), names.slice(2, 4), 'startKey is ignored with nextToken');
});
