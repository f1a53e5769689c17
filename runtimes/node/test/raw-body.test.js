'use strict';
// Unit tests of Ferric's raw-body (runtimes/node/node_modules/raw-body) against raw-body's documented API.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('path');
const { Readable, PassThrough } = require('stream');

const getRawBody = require(path.join(__dirname, '..', 'node_modules', 'raw-body'));

const stream = (...chunks) => Readable.from(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)), { objectMode: false });

test('package.json names raw-body', () => {
  const pkg = require(path.join(__dirname, '..', 'node_modules', 'raw-body', 'package.json'));
  assert.equal(pkg.name, 'raw-body');
  assert.match(pkg.version, /^2\./);
});

test('callback API yields a Buffer', async () => {
  const buf = await new Promise((resolve, reject) => getRawBody(stream('ab', 'cd'), (e, b) => (e ? reject(e) : resolve(b))));
  assert.ok(Buffer.isBuffer(buf));
  assert.equal(buf.toString(), 'abcd');
});

test('promise API; encoding true → utf-8 string; string encoding; options.encoding', async () => {
  assert.equal((await getRawBody(stream('x'))).toString(), 'x');
  assert.equal(await getRawBody(stream(Buffer.from([0xc3]), Buffer.from([0xa9])), true), 'é');
  assert.equal(await getRawBody(stream('hi'), 'hex'), '6869');
  assert.equal(await getRawBody(stream('hi'), { encoding: 'base64' }), 'aGk=');
  assert.equal(await getRawBody(stream('\ufeffbom'), { encoding: 'utf8' }), 'bom');
  assert.equal(await getRawBody(stream(Buffer.from([0xe9])), { encoding: 'iso-8859-2' }), 'é');
});

test('limit: number and "1kb"-style strings; 413 entity.too.large', async () => {
  assert.equal((await getRawBody(stream('abc'), { limit: 3 })).toString(), 'abc');
  await assert.rejects(getRawBody(stream('abcd'), { limit: 3 }), (e) => {
    assert.equal(e.type, 'entity.too.large');
    assert.equal(e.status, 413);
    assert.equal(e.statusCode, 413);
    assert.equal(e.expose, true);
    assert.equal(e.message, 'request entity too large');
    assert.equal(e.limit, 3);
    assert.equal(e.received, 4);
    assert.equal(e.name, 'PayloadTooLargeError');
    assert.ok(e instanceof Error);
    return true;
  });
  await assert.rejects(getRawBody(stream(Buffer.alloc(1025)), { limit: '1kb' }), { type: 'entity.too.large' });
  assert.equal((await getRawBody(stream(Buffer.alloc(1024)), { limit: '1KB' })).length, 1024);
  assert.equal((await getRawBody(stream(Buffer.alloc(1500)), { limit: '1.5kb' })).length, 1500);
  assert.equal((await getRawBody(stream(Buffer.alloc(10)), { limit: '1mb' })).length, 10);
});

test('length: mismatch is 400 request.size.invalid; length over limit fails before reading', async () => {
  assert.equal((await getRawBody(stream('abc'), { length: 3 })).toString(), 'abc');
  assert.equal((await getRawBody(stream('abc'), { length: '3' })).toString(), 'abc');
  await assert.rejects(getRawBody(stream('abc'), { length: 4 }), (e) => {
    assert.equal(e.type, 'request.size.invalid');
    assert.equal(e.status, 400);
    assert.equal(e.expected, 4);
    assert.equal(e.received, 3);
    assert.equal(e.message, 'request size did not match content length');
    return true;
  });
  const s = new PassThrough();
  await assert.rejects(getRawBody(s, { length: 10, limit: 5 }), (e) => {
    assert.equal(e.type, 'entity.too.large');
    assert.equal(e.expected, 10);
    assert.equal(e.length, 10);
    return true;
  });
});

test('unsupported encoding is 415 encoding.unsupported; a stream with an encoding set is 500', async () => {
  await assert.rejects(getRawBody(stream('x'), { encoding: 'no-such-encoding' }), (e) => {
    assert.equal(e.type, 'encoding.unsupported');
    assert.equal(e.status, 415);
    assert.equal(e.encoding, 'no-such-encoding');
    return true;
  });
  const s = new PassThrough();
  s.setEncoding('utf8');
  await assert.rejects(getRawBody(s), { type: 'stream.encoding.set', status: 500 });
});

test('stream errors are passed through; aborted requests are 400 request.aborted', async () => {
  const s = new PassThrough();
  const p = getRawBody(s);
  s.emit('error', new Error('boom'));
  await assert.rejects(p, { message: 'boom' });
  const a = new PassThrough();
  const q = getRawBody(a);
  a.write('abc');
  setImmediate(() => a.emit('aborted'));
  await assert.rejects(q, { type: 'request.aborted', status: 400, code: 'ECONNABORTED' });
});

test('argument checks throw TypeError synchronously', () => {
  assert.throws(() => getRawBody(), TypeError);
  assert.throws(() => getRawBody('not a stream'), TypeError);
  assert.throws(() => getRawBody(stream('x'), {}, 'not a function'), TypeError);
});

test('the callback runs in the caller\'s async context', async () => {
  const { AsyncLocalStorage } = require('async_hooks');
  const als = new AsyncLocalStorage();
  const s = new PassThrough();
  const seen = await new Promise((resolve) => {
    als.run('ctx', () => getRawBody(s, () => resolve(als.getStore())));
    als.run('other', () => s.end('x'));
  });
  assert.equal(seen, 'ctx');
});
