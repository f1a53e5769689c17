'use strict';
// Layers through the official Node SDK (@alicloud/fc2): publishLayerVersion, getLayerVersion,
// getLayerVersionByArn, listLayerVersions, listLayers, putLayerACL, deleteLayerVersion, and a function
// that lists a layer importing its module from /opt/nodejs/node_modules. After the SDK's own
// "publish layer version should ok" in test/client.test.js (which needs OSS, so it uses
// publishLayerVersionForBigCode; here the package goes inline as code.zipFile).

const { test, after } = require('node:test');
const assert = require('node:assert/strict');

const {
  client, otherClient, uniq, expectFcError, purgeService, createFunction, makeZip, crc64, TIME_RE, REGION, ACCOUNT_ID,
} = require('./helpers');

const services = [];
after(async () => {
  for (const name of services) await purgeService(client, name);
});

const LAYER_ZIP = makeZip({ 'nodejs/node_modules/greeting/index.js': "module.exports = () => 'hello from a layer';\n" });

async function publish(name, extra = {}) {
  return client.publishLayerVersion(name, {
    code: { zipFile: LAYER_ZIP.toString('base64') },
    description: 'test sdk publishLayerVersion',
    compatibleRuntime: ['nodejs20', 'nodejs18'],
    ...extra,
  });
}

test('publish, get, list, get by ARN, ACL and delete a layer version', async () => {
  const name = uniq('nodelayer');
  const res = await publish(name);
  const v1 = res.data;
  assert.equal(v1.layerName, name);
  assert.equal(v1.version, 1);
  assert.equal(v1.description, 'test sdk publishLayerVersion');
  assert.deepEqual(v1.compatibleRuntime, ['nodejs20', 'nodejs18']);
  assert.equal(v1.codeSize, LAYER_ZIP.length);
  assert.equal(v1.codeChecksum, crc64(LAYER_ZIP));
  assert.equal(v1.acl, 0);
  assert.match(v1.createTime, TIME_RE);
  assert.equal(v1.arnV2, `acs:fc:${v1.arnV2.split(':')[2]}:${ACCOUNT_ID}:layers/${name}/versions/1`);
  assert.ok(v1.arn.endsWith(`#${name}#1`), v1.arn);
  const download = await fetch(v1.code.location);
  assert.equal(download.status, 200);
  assert.deepEqual(Buffer.from(await download.arrayBuffer()), LAYER_ZIP);

  assert.equal((await publish(name, { description: 'second' })).data.version, 2);
  const got = await client.getLayerVersion(name, 2);
  assert.equal(got.data.description, 'second');
  for (const arn of [v1.arnV2, v1.arn]) {
    assert.equal((await client.getLayerVersionByArn(arn)).data.version, 1, arn);
  }

  const page = await client.listLayerVersions(name, { limit: 1 });
  assert.deepEqual(page.data.layers.map((l) => l.version), [1]);
  assert.equal(page.data.nextVersion, 2);
  const rest = await client.listLayerVersions(name, { startVersion: 2 });
  assert.deepEqual(rest.data.layers.map((l) => l.version), [2]);

  const listed = await client.listLayers({ prefix: name });
  assert.deepEqual(listed.data.layers.map((l) => [l.layerName, l.version]), [[name, 2]]);
  assert.deepEqual((await client.listLayers({ official: true })).data.layers, []);
  await client.putLayerACL(name, { public: true });
  const pub = await client.listLayers({ public: true, prefix: name });
  assert.equal(pub.data.layers[0].acl, 1);

  await client.deleteLayerVersion(name, 1);
  await expectFcError(client.getLayerVersion(name, 1), { status: 404, code: 'LayerNotFound' });
  await expectFcError(client.deleteLayerVersion(name, 1), { status: 404, code: 'LayerNotFound' });
  assert.equal((await publish(name)).data.version, 3);
  await expectFcError(otherClient.getLayerVersion(name, 2), { status: 404, code: 'LayerNotFound' });
  await expectFcError(client.getLayerVersion(uniq('nolayer'), 1), { status: 404, code: 'LayerNotFound' });
  await expectFcError(client.publishLayerVersion(uniq('badzip'), { code: { zipFile: 'bm90IGEgemlw' } }),
    { status: 400, code: 'InvalidArgument' });
});

test('a function that lists a layer requires its module from /opt', async () => {
  const name = uniq('greetlayer');
  const layer = (await publish(name)).data;
  const svc = uniq('layersvc');
  services.push(svc);
  await client.createService(svc);
  const src = "exports.handler = (e, c, cb) => cb(null, require('greeting')() + ' ' + process.env.NODE_PATH.split(':')[0]);\n";
  const created = await createFunction(svc, 'greet', { layers: [layer.arnV2] }, makeZip({ 'index.js': src }));
  assert.deepEqual(created.data.layers, [layer.arnV2]);
  assert.deepEqual((await client.getFunction(svc, 'greet')).data.layers, [layer.arnV2]);
  const res = await client.invokeFunction(svc, 'greet', '{}');
  assert.match(res.data.toString(), /^hello from a layer /);

  const unknown = `acs:fc:${REGION}:${ACCOUNT_ID}:layers/${name}/versions/9`;
  await expectFcError(createFunction(svc, 'missing', { layers: [unknown] }), { status: 404, code: 'LayerNotFound' });
  await expectFcError(createFunction(svc, 'python-runtime', { layers: [layer.arnV2], runtime: 'python3.10', handler: 'index.handler' }),
    { status: 400, code: 'InvalidArgument' });
});
