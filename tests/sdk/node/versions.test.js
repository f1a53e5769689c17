'use strict';
// Versions and aliases through the official Node SDK (@alicloud/fc2), after the SDK's own
// "versions test" and "alias test" in test/client.test.js.

const { test, after } = require('node:test');
const assert = require('node:assert/strict');

const { client, uniq, expectFcError, purgeService, createFunction, nodeZip } = require('./helpers');

const made = [];
after(async () => {
  for (const name of made) await purgeService(client, name);
});

async function serviceWithFunction() {
  const name = uniq('vernode');
  made.push(name);
  await client.createService(name);
  await createFunction(name, 'hello-world');
  return name;
}

test('publishVersion numbers versions and never reuses an id', async () => {
  const svc = await serviceWithFunction();
  assert.equal((await client.publishVersion(svc)).data.versionId, '1');
  await expectFcError(client.publishVersion(svc, 'unchanged'), { status: 400, code: 'InvalidArgument' });
  const deleted = await client.deleteVersion(svc, '1');
  assert.equal(deleted.data, '');
  const version = await client.publishVersion(svc, 'test version');
  assert.equal(version.data.versionId, '2');
  assert.equal(version.data.description, 'test version');
  const list = await client.listVersions(svc);
  assert.deepEqual(list.data.versions.map((v) => v.versionId), ['2']);
  await expectFcError(client.deleteVersion(svc, '9'), { status: 404, code: 'VersionNotFound' });
});

test('aliases: create, update weights, get, list, delete', async () => {
  const svc = await serviceWithFunction();
  await client.publishVersion(svc, 'test version 1');
  await client.updateFunction(svc, 'hello-world', { description: 'updated function desc' });
  await client.publishVersion(svc, 'test version 2');

  const created = await client.createAlias(svc, 'new-version', '1', { description: 'test alias' });
  assert.equal(created.data.aliasName, 'new-version');
  assert.equal(created.data.versionId, '1');
  assert.equal(created.data.description, 'test alias');
  assert.ok(created.headers.etag);

  let res = await client.updateAlias(svc, 'new-version', null, {
    additionalVersionWeight: { 2: 0.3 }, description: '',
  });
  assert.equal(res.data.versionId, '1');
  assert.equal(res.data.description, '');
  assert.deepEqual(res.data.additionalVersionWeight, { 2: 0.3 });
  res = await client.updateAlias(svc, 'new-version', '1', { additionalVersionWeight: { 2: 0.5 } });
  assert.equal(res.data.description, '');
  assert.deepEqual(res.data.additionalVersionWeight, { 2: 0.5 });

  const got = await client.getAlias(svc, 'new-version');
  assert.deepEqual(got.data.additionalVersionWeight, { 2: 0.5 });
  const list = await client.listAliases(svc);
  assert.equal(list.data.aliases.length, 1);
  assert.equal(list.data.aliases[0].versionId, '1');
  await expectFcError(client.deleteVersion(svc, '2'), { status: 400, code: 'InvalidArgument' });

  const fn = await client.getFunction(svc, 'hello-world', {}, 'new-version');
  assert.equal(fn.data.description, '');
  const deleted = await client.deleteAlias(svc, 'new-version');
  assert.equal(deleted.data, '');
  await expectFcError(client.getAlias(svc, 'new-version'), { status: 404, code: 'AliasNotFound' });
});

test('invokeFunction by version and alias', async () => {
  const name = uniq('vernode');
  made.push(name);
  await client.createService(name);
  await createFunction(name, 'f', {}, nodeZip("exports.handler = (e, c, cb) => cb(null, 'one');"));
  await client.publishVersion(name);
  await client.updateFunction(name, 'f', {
    code: { zipFile: nodeZip("exports.handler = (e, c, cb) => cb(null, 'two');").toString('base64') },
  });
  await client.createAlias(name, 'prod', '1', { additionalVersionWeight: {} });
  const latest = await client.invokeFunction(name, 'f', 'x');
  assert.equal(latest.data, 'two');
  assert.equal(latest.headers['x-fc-invocation-service-version'], 'LATEST');
  const byAlias = await client.invokeFunction(name, 'f', 'x', {}, 'prod');
  assert.equal(byAlias.data, 'one');
  assert.equal(byAlias.headers['x-fc-invocation-service-version'], '1');
  assert.equal((await client.invokeFunction(name, 'f', 'x', {}, '1')).data, 'one');
});
