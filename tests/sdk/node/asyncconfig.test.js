'use strict';
// Async invoke configs through the official Node SDK (@alicloud/fc2): put, get, list and delete per
// qualifier, as putFunctionAsyncConfig / getFunctionAsyncConfig / listFunctionAsyncConfigs /
// deleteFunctionAsyncConfig send them.

const { test, after } = require('node:test');
const assert = require('node:assert/strict');

const { client, uniq, expectFcError, purgeService, createFunction } = require('./helpers');

const made = [];
after(async () => {
  for (const name of made) await purgeService(client, name);
});

test('async invoke config CRUD per qualifier', async () => {
  const svc = uniq('asyncnode');
  made.push(svc);
  await client.createService(svc);
  await createFunction(svc, 'f');
  await createFunction(svc, 'sink');
  await client.publishVersion(svc, 'v1');
  await client.createAlias(svc, 'prod', '1');
  const sink = `acs:fc:::services/${svc}/functions/sink`;

  await expectFcError(client.getFunctionAsyncConfig(svc, 'f', 'LATEST'), { status: 404, code: 'AsyncConfigNotExists' });
  const put = await client.putFunctionAsyncConfig(svc, 'f', 'LATEST', {
    maxAsyncEventAgeInSeconds: 120,
    maxAsyncRetryAttempts: 2,
    destinationConfig: { onSuccess: { destination: sink } },
  });
  assert.equal(put.data.maxAsyncEventAgeInSeconds, 120);
  assert.equal(put.data.destinationConfig.onSuccess.destination, sink);
  assert.deepEqual([put.data.service, put.data.function, put.data.qualifier], [svc, 'f', 'LATEST']);

  // Without a qualifier the SDK's path is the plain service: LATEST.
  const got = await client.getFunctionAsyncConfig(svc, 'f');
  assert.equal(got.data.maxAsyncRetryAttempts, 2);
  const prod = await client.putFunctionAsyncConfig(svc, 'f', 'prod', { maxAsyncRetryAttempts: 0 });
  assert.equal(prod.data.qualifier, 'prod');

  const listed = await client.listFunctionAsyncConfigs(svc, 'f', { limit: 1 });
  assert.equal(listed.data.configs.length, 1);
  assert.ok(listed.data.nextToken, 'a second page follows');
  const rest = await client.listFunctionAsyncConfigs(svc, 'f', { limit: 1, nextToken: listed.data.nextToken });
  const qualifiers = [...listed.data.configs, ...rest.data.configs].map((c) => c.qualifier).sort();
  assert.deepEqual(qualifiers, ['LATEST', 'prod']);
  assert.equal(rest.data.nextToken, '');

  await expectFcError(client.putFunctionAsyncConfig(svc, 'f', 'nosuchalias', { maxAsyncRetryAttempts: 1 }),
    { status: 404, code: 'AliasNotFound' });
  await client.deleteFunctionAsyncConfig(svc, 'f', 'prod');
  await expectFcError(client.getFunctionAsyncConfig(svc, 'f', 'prod'), { status: 404, code: 'AsyncConfigNotExists' });
  await client.deleteFunctionAsyncConfig(svc, 'f', 'LATEST');
  assert.deepEqual((await client.listFunctionAsyncConfigs(svc, 'f')).data.configs, []);
});
