'use strict';
// Layers through the unchanged 2021-04-06 client (@alicloud/fc-open20210406): createLayerVersion (its
// body spells the package `Code`), getLayerVersion, listLayerVersions, listLayers, deleteLayerVersion.
const test = require('node:test');
const assert = require('node:assert/strict');
const { FC, makeClient, uniq, zipB64, fcError } = require('./helpers');

const client = makeClient();

test('layers: create versions, get, list, delete', async () => {
  const name = uniq('layer21');
  const zip = zipB64('nodejs/node_modules/m/index.js', 'module.exports = 21;\n');
  const request = () => new FC.CreateLayerVersionRequest({
    code: new FC.Code({ zipFile: zip }), compatibleRuntime: ['nodejs18'], description: 'from 2021',
  });
  const v1 = await client.createLayerVersion(name, request());
  assert.equal(v1.statusCode, 200);
  assert.equal(v1.body.layerName, name);
  assert.equal(v1.body.version, 1);
  assert.deepEqual(v1.body.compatibleRuntime, ['nodejs18']);
  assert.ok(v1.body.arn.endsWith(`#${name}#1`), v1.body.arn);
  assert.equal((await client.createLayerVersion(name, request())).body.version, 2);
  assert.equal((await client.getLayerVersion(name, '1')).body.description, 'from 2021');
  const page = await client.listLayerVersions(name, new FC.ListLayerVersionsRequest({ limit: 1 }));
  assert.deepEqual(page.body.layers.map((l) => l.version), [1]);
  assert.equal(page.body.nextVersion, 2);
  const listed = await client.listLayers(new FC.ListLayersRequest({ prefix: name }));
  assert.deepEqual(listed.body.layers.map((l) => [l.layerName, l.version]), [[name, 2]]);
  await client.deleteLayerVersion(name, '1');
  await fcError(client.getLayerVersion(name, '1'), 'LayerNotFound', 404);
});
