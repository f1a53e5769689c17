'use strict';
// Provisioned and on-demand instances through the official Node SDK (@alicloud/fc2), after the SDK's
// own "manage provision config should be ok" in test/client.test.js, plus its on-demand methods,
// listInstances and an on-demand cap that really throttles.

const { test, after } = require('node:test');
const assert = require('node:assert/strict');

const { client, uniq, expectFcError, purgeService, createFunction, nodeZip, ACCOUNT_ID } = require('./helpers');

// Answers with the instance's id after the event's number of milliseconds.
const INSTANCE_ID = 'exports.handler = (e, c, cb) => {\n'
  + '  setTimeout(() => cb(null, process.env.FC_INSTANCE_ID), Number(e.toString() || 0));\n};\n';

const made = [];
after(async () => {
  for (const name of made) await purgeService(client, name);
});

async function serviceWithAlias(functionName) {
  const svc = uniq('provnode');
  made.push(svc);
  await client.createService(svc);
  // A 10 s timeout: the slow call below outlasts the server's 3 s queue timeout, not its own.
  await createFunction(svc, functionName, { timeout: 10 }, nodeZip(INSTANCE_ID));
  await client.publishVersion(svc, 'test version 1');
  await client.createAlias(svc, 'prod', '1', { description: 'test alias', additionalVersionWeight: {} });
  return svc;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function waitCurrent(svc, functionName, want) {
  const deadline = Date.now() + 30000;
  for (;;) {
    const { data } = await client.getProvisionConfig(svc, functionName, 'prod');
    if (data.current === want) return data;
    assert.ok(Date.now() < deadline, `current never reached ${want}: ${JSON.stringify(data)}`);
    await sleep(100);
  }
}

test('provision config: put, get, list, instances, and target 0', async () => {
  const functionName = 'testProvisionConfig';
  const svc = await serviceWithAlias(functionName);
  try {
    const put = await client.putProvisionConfig(svc, functionName, 'prod', { target: 1 });
    assert.equal(put.data.target, 1);
    assert.equal(put.data.resource, `${ACCOUNT_ID}#${svc}#prod#${functionName}`);

    const got = await client.getProvisionConfig(svc, functionName, 'prod');
    assert.equal(got.data.target, 1);
    assert.ok(got.data.resource);

    const list = await client.listProvisionConfigs({ serviceName: svc, qualifier: 'prod' });
    assert.equal(list.data.provisionConfigs.length, 1);
    for (const elem of list.data.provisionConfigs) {
      assert.equal(elem.target, 1);
      assert.ok(elem.resource);
    }

    await waitCurrent(svc, functionName, 1);
    const { data } = await client.listInstances(svc, functionName, 'prod');
    assert.equal(data.instances.length, 1);
    assert.equal(data.instances[0].versionId, '1');
    const answer = await client.invokeFunction(svc, functionName, '', {}, 'prod');
    assert.equal(answer.data, data.instances[0].instanceId, 'the provisioned instance served the call');
    assert.equal(answer.headers['x-fc-init-duration'], undefined);
  } finally {
    await client.putProvisionConfig(svc, functionName, 'prod', { target: 0 });
  }
  assert.equal((await client.getProvisionConfig(svc, functionName, 'prod')).data.target, 0);
  await expectFcError(client.putProvisionConfig(svc, functionName, '1', { target: 1 }),
    { status: 400, code: 'InvalidArgument' });
  await expectFcError(client.putProvisionConfig(svc, functionName, 'nope', { target: 1 }),
    { status: 404, code: 'AliasNotFound' });
});

test('on-demand config: put, get, list, delete, and the cap throttles', async () => {
  const svc = await serviceWithAlias('capped');
  const put = await client.putOnDemandConfig(svc, 'capped', 'prod', { maximumInstanceCount: 1 });
  assert.deepEqual(put.data, { resource: `services/${svc}.prod/functions/capped`, maximumInstanceCount: 1 });
  const got = await client.getOnDemandConfig(svc, 'capped', 'prod');
  assert.equal(got.data.maximumInstanceCount, 1);
  const list = await client.listOnDemandConfigs({ prefix: `services/${svc}.` });
  assert.equal(list.data.configs.length, 1);
  assert.equal(list.data.nextToken, undefined);

  // One instance at most: a second call while a slow one runs waits, then is throttled (the server's
  // queue timeout is 3 s; the slow call takes 5).
  const first = await client.invokeFunction(svc, 'capped', '', {}, 'prod');
  const slow = client.invokeFunction(svc, 'capped', '5000', {}, 'prod');
  await sleep(1000);
  await expectFcError(client.invokeFunction(svc, 'capped', '', {}, 'prod'), { status: 429, code: 'ResourceExhausted' });
  assert.equal((await slow).data, first.data, 'the one instance ran both');
  const { data } = await client.listInstances(svc, 'capped', 'prod');
  assert.equal(data.instances.length, 1);

  await client.deleteOnDemandConfig(svc, 'capped', 'prod');
  await expectFcError(client.getOnDemandConfig(svc, 'capped', 'prod'), { status: 404, code: 'OnDemandConfigNotFound' });
  assert.equal((await client.listOnDemandConfigs({ prefix: `services/${svc}.` })).data.configs, undefined);
});
