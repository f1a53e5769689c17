'use strict';
// Shared by the 2021-04-06 suite: a client of the unchanged @alicloud/fc-open20210406 (ACS3 signatures)
// pointed at FC_ENDPOINT, unique names, zips, and the error check.
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const zlib = require('node:zlib');
const FC = require('@alicloud/fc-open20210406');
const OpenApi = require('@alicloud/openapi-client');
const Util = require('@alicloud/tea-util');

for (const k of ['FC_ENDPOINT', 'FC_ACCOUNT_ID', 'FC_ACCESS_KEY_ID', 'FC_ACCESS_KEY_SECRET']) {
  if (!process.env[k]) throw new Error(`tests/sdk/node2021 needs a running Ferric server; ${k} is unset`);
}

function makeClient(keyId, secret) {
  const [protocol, host] = process.env.FC_ENDPOINT.replace(/\/$/, '').split('://');
  return new FC.default(new OpenApi.Config({
    accessKeyId: keyId || process.env.FC_ACCESS_KEY_ID,
    accessKeySecret: secret || process.env.FC_ACCESS_KEY_SECRET,
    endpoint: host,
    protocol,
    regionId: 'cn-local',
    readTimeout: 30000,
    connectTimeout: 5000,
  }));
}

const uniq = (prefix) => `${prefix}_${crypto.randomBytes(5).toString('hex')}`;

// A one-file stored zip (no compression needed), built by hand so the suite needs no zip package.
function crc32(buf) {
  return zlib.crc32(buf) >>> 0;
}
function zipB64(name, content) {
  const data = Buffer.from(content);
  const nameBuf = Buffer.from(name);
  const crc = crc32(data);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0); local.writeUInt16LE(20, 4); local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(data.length, 18); local.writeUInt32LE(data.length, 22); local.writeUInt16LE(nameBuf.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0); central.writeUInt16LE(20, 4); central.writeUInt16LE(20, 6);
  central.writeUInt32LE(crc, 16); central.writeUInt32LE(data.length, 20); central.writeUInt32LE(data.length, 24);
  central.writeUInt16LE(nameBuf.length, 28); central.writeUInt32LE((0o100644 << 16) >>> 0, 38);
  const centralStart = local.length + nameBuf.length + data.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(1, 8); end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + nameBuf.length, 12); end.writeUInt32LE(centralStart, 16);
  return Buffer.concat([local, nameBuf, data, central, nameBuf, end]).toString('base64');
}

const NODE_ECHO = "exports.handler = (event, context, callback) => callback(null, 'v1:' + event.toString());\n";

// The SDK throws with code, data.statusCode and data.RequestId from Ferric's 2021 error body.
async function fcError(promise, code, status) {
  await assert.rejects(promise, (e) => {
    assert.equal(e.code, code, e.message);
    assert.equal(e.data && e.data.statusCode, status, e.message);
    assert.ok(e.data.RequestId, JSON.stringify(e.data));
    assert.equal(e.data.ErrorCode, undefined);
    return true;
  });
}

async function withFunction(client, fn) {
  const service = uniq('svc21n');
  const name = uniq('fn21n');
  await client.createService(new FC.CreateServiceRequest({ serviceName: service }));
  try {
    await client.createFunction(service, new FC.CreateFunctionRequest({
      functionName: name, runtime: 'nodejs18', handler: 'index.handler', memorySize: 128, timeout: 10,
      code: new FC.Code({ zipFile: zipB64('index.js', NODE_ECHO) }),
    }));
    await fn(service, name);
  } finally {
    await purge(client, service);
  }
}

async function purge(client, service) {
  const ignore = () => {};
  const aliases = await client.listAliases(service, new FC.ListAliasesRequest({ limit: 100 })).catch(ignore);
  for (const a of (aliases && aliases.body.aliases) || []) await client.deleteAlias(service, a.aliasName).catch(ignore);
  const fns = await client.listFunctions(service, new FC.ListFunctionsRequest({ limit: 100 })).catch(ignore);
  for (const f of (fns && fns.body.functions) || []) {
    const ts = await client.listTriggers(service, f.functionName, new FC.ListTriggersRequest({ limit: 100 })).catch(ignore);
    for (const t of (ts && ts.body.triggers) || []) await client.deleteTrigger(service, f.functionName, t.triggerName).catch(ignore);
    await client.deleteFunction(service, f.functionName).catch(ignore);
  }
  const vs = await client.listServiceVersions(service, new FC.ListServiceVersionsRequest({ limit: 100 })).catch(ignore);
  for (const v of (vs && vs.body.versions) || []) await client.deleteServiceVersion(service, v.versionId).catch(ignore);
  await client.deleteService(service).catch(ignore);
}

module.exports = { FC, Util, makeClient, uniq, zipB64, NODE_ECHO, fcError, withFunction };
