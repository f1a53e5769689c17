'use strict';
// Shared helpers for the Node SDK suite: clients, unique names, zips, CRC-64/XZ and FC error checks.
//
// Required environment (loading this file throws, naming what is missing, when any is unset):
//   FC_ENDPOINT, FC_ACCOUNT_ID, FC_ACCESS_KEY_ID, FC_ACCESS_KEY_SECRET                   main account
//   FERRIC_OTHER_ACCOUNT_ID, FERRIC_OTHER_ACCESS_KEY_ID, FERRIC_OTHER_ACCESS_KEY_SECRET  a second account
// FC_REGION is optional ('cn-local').

const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');

const FC = require('@alicloud/fc2');

const REQUIRED = [
  'FC_ENDPOINT', 'FC_ACCOUNT_ID', 'FC_ACCESS_KEY_ID', 'FC_ACCESS_KEY_SECRET',
  'FERRIC_OTHER_ACCOUNT_ID', 'FERRIC_OTHER_ACCESS_KEY_ID', 'FERRIC_OTHER_ACCESS_KEY_SECRET',
];
const missing = REQUIRED.filter((k) => !process.env[k]);
if (missing.length) {
  throw new Error(`tests/sdk/node needs a running Ferric server; unset: ${missing.join(', ')}`);
}

const ENDPOINT = process.env.FC_ENDPOINT.replace(/\/+$/, '');
const REGION = process.env.FC_REGION || 'cn-local';
const ACCOUNT_ID = process.env.FC_ACCOUNT_ID;
const OTHER_ACCOUNT_ID = process.env.FERRIC_OTHER_ACCOUNT_ID;

function makeClient(accountId, accessKeyID, accessKeySecret, extra = {}) {
  return new FC(accountId, {
    accessKeyID, accessKeySecret, region: REGION, endpoint: ENDPOINT, timeout: 20000, ...extra,
  });
}

const client = makeClient(ACCOUNT_ID, process.env.FC_ACCESS_KEY_ID, process.env.FC_ACCESS_KEY_SECRET);
const otherClient = makeClient(OTHER_ACCOUNT_ID, process.env.FERRIC_OTHER_ACCESS_KEY_ID,
  process.env.FERRIC_OTHER_ACCESS_KEY_SECRET);

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TIME_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;

function uniq(prefix) {
  return `${prefix}_${crypto.randomBytes(6).toString('hex')}`;
}

// ---------------------------------------------------------------- CRC-64/XZ and CRC-32

const CRC64_POLY = 0xC96C5795D7870F42n;
const MASK64 = 0xFFFFFFFFFFFFFFFFn;
const CRC64_TABLE = Array.from({ length: 256 }, (_, i) => {
  let c = BigInt(i);
  for (let k = 0; k < 8; k++) c = (c & 1n) ? (c >> 1n) ^ CRC64_POLY : c >> 1n;
  return c;
});

/** CRC-64/XZ (ECMA-182 reflected) as FC's codeChecksum, as a decimal string. */
function crc64(buf) {
  let crc = MASK64;
  for (const b of buf) crc = CRC64_TABLE[Number((crc ^ BigInt(b)) & 0xFFn)] ^ (crc >> 8n);
  return (crc ^ MASK64).toString();
}

const CRC32_TABLE = Array.from({ length: 256 }, (_, i) => {
  let c = i;
  for (let k = 0; k < 8; k++) c = (c & 1) ? (c >>> 1) ^ 0xEDB88320 : c >>> 1;
  return c >>> 0;
});

function crc32(buf) {
  let crc = 0xFFFFFFFF;
  for (const b of buf) crc = CRC32_TABLE[(crc ^ b) & 0xFF] ^ (crc >>> 8);
  return (crc ^ 0xFFFFFFFF) >>> 0;
}

// ---------------------------------------------------------------- a small, deterministic zip writer

/** files: { name: string|Buffer } → a deflated zip as a Buffer (fixed timestamps, so equal input gives equal bytes). */
function makeZip(files) {
  const locals = [];
  const centrals = [];
  let offset = 0;
  const DOS_TIME = 0;
  const DOS_DATE = (40 << 9) | (1 << 5) | 1; // 2020-01-01
  for (const [name, content] of Object.entries(files)) {
    const data = Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8');
    const packed = zlib.deflateRawSync(data);
    const nameBuf = Buffer.from(name, 'utf8');
    const crc = crc32(data);

    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(packed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBuf.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, nameBuf, packed);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE((3 << 8) | 20, 4); // made by unix
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(packed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBuf.length, 28);
    central.writeUInt32LE(((0o100644 << 16) >>> 0), 38); // regular file, rw-r--r--
    central.writeUInt32LE(offset, 42);
    centrals.push(central, nameBuf);

    offset += local.length + nameBuf.length + packed.length;
  }
  const centralBuf = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  const count = Object.keys(files).length;
  end.writeUInt16LE(count, 8);
  end.writeUInt16LE(count, 10);
  end.writeUInt32LE(centralBuf.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, centralBuf, end]);
}

/** A zip of every file in tests/sdk/fixtures/<lang>/ (function code shared with the Python suite), plus `extra`. */
function fixtureZip(lang, extra = {}) {
  const dir = path.join(__dirname, '..', 'fixtures', lang);
  const files = {};
  for (const name of fs.readdirSync(dir).sort()) {
    const file = path.join(dir, name);
    if (fs.statSync(file).isFile()) files[name] = fs.readFileSync(file);
  }
  return makeZip({ ...files, ...extra });
}

const NODE_SRC = "exports.handler = (event, context, callback) => callback(null, 'hello world');\n";
const nodeZip = (src = NODE_SRC) => makeZip({ 'index.js': src });

// ---------------------------------------------------------------- errors

/** Parses the SDK's error message: "<METHOD> <path> failed with <status>. requestid: <id>, message: <msg>." */
function parseError(err) {
  const m = /failed with (\d+)\. requestid: ([^,]*), message: ([\s\S]*)\.$/.exec(err.message || '');
  assert.ok(m, `not an FC SDK error: ${err && err.stack}`);
  return { status: Number(m[1]), requestId: m[2], message: m[3] };
}

/** Awaits a rejected SDK call and checks status, ErrorCode (err.code / err.name) and the request id. */
async function expectFcError(promise, { status, code, message } = {}) {
  let err;
  try {
    await promise;
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected an FC error (${status} ${code || ''}), but the call succeeded`);
  const parsed = parseError(err);
  const detail = `status=${parsed.status} name=${err.name} code=${err.code} message=${parsed.message}`;
  if (status !== undefined) assert.equal(parsed.status, status, detail);
  if (code !== undefined) {
    assert.equal(err.code, code, detail);
    assert.equal(err.name, `FC${code}Error`, detail);
  } else {
    assert.ok(typeof err.code === 'string' && err.code, `error must carry an ErrorCode: ${detail}`);
  }
  assert.match(parsed.requestId, UUID_RE, `request id must be a 36-char UUID: ${detail}`);
  assert.equal(parsed.requestId.length, 36);
  assert.ok(parsed.message && parsed.message !== 'undefined', `error must carry an ErrorMessage: ${detail}`);
  if (message !== undefined) assert.ok(parsed.message.includes(message), detail);
  return { err, ...parsed };
}

// ---------------------------------------------------------------- cleanup

async function purgeService(c, name) {
  try {
    const fns = (await c.listFunctions(name, { limit: 100 })).data.functions || [];
    for (const f of fns) {
      try {
        const trs = (await c.listTriggers(name, f.functionName, { limit: 100 })).data.triggers || [];
        for (const t of trs) await c.deleteTrigger(name, f.functionName, t.triggerName).catch(() => {});
      } catch (e) { /* gone already */ }
      await c.deleteFunction(name, f.functionName).catch(() => {});
    }
    // Aliases first: a version an alias routes to cannot be deleted.
    const aliases = (await c.listAliases(name, { limit: 100 })).data.aliases || [];
    for (const a of aliases) await c.deleteAlias(name, a.aliasName).catch(() => {});
    const versions = (await c.listVersions(name, { limit: 100 })).data.versions || [];
    for (const v of versions) await c.deleteVersion(name, v.versionId).catch(() => {});
    await c.deleteService(name);
  } catch (e) { /* gone already */ }
}

async function createFunction(svc, name, extra = {}, code = nodeZip()) {
  return client.createFunction(svc, {
    functionName: name,
    handler: 'index.handler',
    runtime: 'nodejs20',
    code: { zipFile: code.toString('base64') },
    ...extra,
  });
}

module.exports = {
  FC, ENDPOINT, REGION, ACCOUNT_ID, OTHER_ACCOUNT_ID, UUID_RE, TIME_RE,
  client, otherClient, makeClient, uniq, crc64, crc32, makeZip, nodeZip, fixtureZip, NODE_SRC,
  parseError, expectFcError, purgeService, createFunction,
};
