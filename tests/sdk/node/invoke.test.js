'use strict';
// InvokeFunction through the official Node SDK (@alicloud/fc2 invokeFunction): string results stay strings,
// function errors come back as parsed objects with X-Fc-Error-Type, initializer counter, log tail, async.
// Mirrors fc-nodejs-sdk test/client.test.js ('function should ok') with its figures rewritten in
// tests/sdk/fixtures/node.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const {
  client, uniq, expectFcError, purgeService, createFunction, fixtureZip, UUID_RE,
} = require('./helpers');

const svc = uniq('invnode');
const NODE = fixtureZip('node');
const PYTHON = fixtureZip('python');
const CRASH_RE = /^Process exited unexpectedly before completing request \(duration: \d+ms, maxMemoryUsage: \d+(\.\d+)?MB\)$/;
const LOG_TIME = '\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z';

/** A new function in `svc` running the Node fixtures with this handler (extra: createFunction options). */
async function deploy(handler, extra = {}, code = NODE) {
  const name = uniq('fn');
  await createFunction(svc, name, { handler, ...extra }, code);
  return name;
}

before(async () => {
  await client.createService(svc);
});
after(async () => {
  await purgeService(client, svc);
});

test('invokeFunction returns the result as a string (String and Buffer events, LATEST qualifier)', async () => {
  const fn = await deploy('main.hello');
  let res = await client.invokeFunction(svc, fn, 'world', {}, 'LATEST');
  assert.equal(res.data, 'hello world');
  res = await client.invokeFunction(svc, fn, Buffer.from('world'));
  assert.equal(typeof res.data, 'string');
  assert.equal(res.data, 'hello world');
  res = await client.invokeFunction(svc, fn, Buffer.from('world'), {}, 'LATEST', { rawBuf: false });
  assert.equal(res.data, 'hello world');
  assert.match(res.headers['x-fc-request-id'], UUID_RE);
  assert.equal(res.headers['x-fc-error-type'], undefined);
  assert.equal(res.headers['x-fc-invocation-service-version'], 'LATEST');
  assert.ok(res.headers['x-fc-code-checksum'], 'X-Fc-Code-Checksum must be sent');
});

test('a JSON-looking success body is not labelled JSON, so the SDK does not parse it', async () => {
  const fn = await deploy('main.echo');
  const res = await client.invokeFunction(svc, fn, '{"a": [1, 2]}');
  assert.equal(typeof res.data, 'string', `the SDK parsed a success body: content-type ${res.headers['content-type']}`);
  assert.equal(res.data, '{"a": [1, 2]}');
  assert.ok(!(res.headers['content-type'] || '').startsWith('application/json'), res.headers['content-type']);

  // An object result is JSON text, still delivered as a string.
  const described = await deploy('main.describe');
  const out = await client.invokeFunction(svc, described, 'ctx');
  assert.equal(typeof out.data, 'string');
  const ctx = JSON.parse(out.data);
  assert.equal(ctx.requestId, out.headers['x-fc-request-id'], 'context.requestId must equal X-Fc-Request-Id');
  assert.equal(ctx.functionName, described);
  assert.equal(ctx.serviceName, svc);
  assert.equal(ctx.event, 'ctx');
  assert.equal(ctx.contextIsJson, true);
  assert.equal(ctx.hasLogger, true);
});

test('invokeFunction with rawBuf returns the exact bytes as a Buffer', async () => {
  const fn = await deploy('main.echo');
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const bytes = Buffer.concat([Buffer.from([0, 0xff, 0xfe, 0x80]), Buffer.from('world'), all]);
  const res = await client.invokeFunction(svc, fn, bytes, {}, 'LATEST', { rawBuf: true });
  assert.ok(Buffer.isBuffer(res.data));
  assert.deepEqual(res.data, bytes);
});

test('handled error: callback(string) → exactly {errorMessage}, X-Fc-Error-Type HandledInvocationError', async () => {
  const fn = await deploy('main.handled');
  const res = await client.invokeFunction(svc, fn, Buffer.from('world'), {}, 'LATEST', { rawBuf: true });
  assert.ok(!Buffer.isBuffer(res.data), 'an error body is decoded as utf8 even with rawBuf');
  assert.equal(JSON.stringify(res.data), JSON.stringify({ errorMessage: 'This is a handled error' }));
  assert.deepEqual(res.data, { errorMessage: 'This is a handled error' });
  assert.equal(res.headers['x-fc-error-type'], 'HandledInvocationError');
  assert.match(res.headers['content-type'], /^application\/json/);
});

test('handled error: callback(new Error()) → errorType and stackTrace', async () => {
  const fn = await deploy('main.handledError');
  const res = await client.invokeFunction(svc, fn, 'world');
  assert.equal(res.headers['x-fc-error-type'], 'HandledInvocationError');
  assert.equal(res.data.errorMessage, 'handled: world');
  assert.equal(res.data.errorType, 'Error');
  assert.ok(Array.isArray(res.data.stackTrace) && res.data.stackTrace.length > 0, JSON.stringify(res.data));
  assert.equal(res.data.stackTrace[0], 'Error: handled: world');
});

test('unhandled error: a throw → UnhandledInvocationError with the error type', async () => {
  const fn = await deploy('main.fail');
  const res = await client.invokeFunction(svc, fn, Buffer.from('world'), {}, 'LATEST', { rawBuf: true });
  assert.ok(!Buffer.isBuffer(res.data));
  assert.equal(res.headers['x-fc-error-type'], 'UnhandledInvocationError');
  assert.equal(res.data.errorMessage, 'event.toSting is not a function');
  assert.equal(res.data.errorType, 'TypeError');
  assert.ok(Array.isArray(res.data.stackTrace), JSON.stringify(res.data));
});

test('unhandled error: process.exit → "Process exited unexpectedly", then a fresh instance', async () => {
  const fn = await deploy('main.count');
  assert.equal((await client.invokeFunction(svc, fn, 'tick')).data, '1');
  assert.equal((await client.invokeFunction(svc, fn, 'tick')).data, '2');
  const res = await client.invokeFunction(svc, fn, Buffer.from('exit'), {}, 'LATEST', { rawBuf: true });
  assert.ok(!Buffer.isBuffer(res.data));
  assert.equal(res.headers['x-fc-error-type'], 'UnhandledInvocationError');
  // The SDK's own check: a prefix of the JSON text.
  assert.ok(JSON.stringify(res.data).includes(
    JSON.stringify({ errorMessage: 'Process exited unexpectedly before completing request' }).slice(0, -2)),
  JSON.stringify(res.data));
  assert.match(res.data.errorMessage, CRASH_RE);
  assert.equal((await client.invokeFunction(svc, fn, 'tick')).data, '1');
});

test('timeout: the instance is killed at `timeout` seconds', async () => {
  const fn = await deploy('main.count', { timeout: 1 });
  const started = Date.now();
  const res = await client.invokeFunction(svc, fn, 'sleep'); // the handler answers after 3 s
  const elapsed = Date.now() - started;
  assert.equal(res.headers['x-fc-error-type'], 'UnhandledInvocationError');
  assert.match(res.data.errorMessage, /timed out/);
  assert.ok(elapsed < 2500, `the timeout answer must come at ~1 s, took ${elapsed} ms`);
  assert.equal((await client.invokeFunction(svc, fn, 'tick')).data, '1');
});

for (const [runtime, code] of [['nodejs4.4', NODE], ['nodejs20', NODE], ['python3.9', PYTHON]]) {
  test(`initializer counter on ${runtime}: '2' then '3'`, async () => {
    const fn = await deploy('counter.handler', {
      runtime, initializer: 'counter.initializer', initializationTimeout: 10, timeout: 10,
    }, code);
    assert.equal((await client.getFunction(svc, fn)).data.initializer, 'counter.initializer');
    assert.equal((await client.invokeFunction(svc, fn, null)).data, '2');
    assert.equal((await client.invokeFunction(svc, fn, null)).data, '3');
  });
}

test('X-Fc-Log-Type: Tail → base64 log with the Start/End frame and console.log lines', async () => {
  const fn = await deploy('main.hello');
  const res = await client.invokeFunction(svc, fn, 'world', { 'x-fc-log-type': 'Tail' });
  assert.equal(res.data, 'hello world');
  const rid = res.headers['x-fc-request-id'];
  assert.ok(res.headers['x-fc-log-result'], 'X-Fc-Log-Result missing');
  const log = Buffer.from(res.headers['x-fc-log-result'], 'base64').toString('utf8');
  const lines = log.replace(/\n$/, '').split('\n');
  // A cold call ends with Ferric's companion line after FC Invoke End (its init duration).
  if (lines[lines.length - 1].startsWith(`FC Cold Start RequestId: ${rid}, Init Duration: `)) lines.pop();
  assert.equal(lines[0], `FC Invoke Start RequestId: ${rid}`, log);
  assert.equal(lines[lines.length - 1], `FC Invoke End RequestId: ${rid}`, log);
  const line = new RegExp(`^${LOG_TIME} ${rid} \\[verbose\\] event: world$`);
  assert.ok(lines.some((l) => line.test(l)), `no console.log line in:\n${log}`);

  const quiet = await client.invokeFunction(svc, fn, 'world');
  assert.equal(quiet.headers['x-fc-log-result'], undefined, 'no log tail unless asked for');
});

test('async invocation → empty data (both header spellings, with and without an event)', async () => {
  const fn = await deploy('main.hello');
  let res = await client.invokeFunction(svc, fn, Buffer.from('world'), { 'x-fc-invocation-type': 'Async' });
  assert.equal(res.data, '');
  assert.match(res.headers['x-fc-request-id'], UUID_RE);
  res = await client.invokeFunction(svc, fn, null, { 'x-fc-invocation-type': 'Async' });
  assert.equal(res.data, '');
  res = await client.invokeFunction(svc, fn, Buffer.from('world'), { 'X-Fc-Invocation-Type': 'Async' });
  assert.equal(res.data, '');
});

test('invokeFunction with an invalid event fails in the SDK; unknown function → 404 FunctionNotFound', async () => {
  assert.throws(() => client.invokeFunction(svc, 'whatever', { event: 'hello world' }), /"event" must be String or Buffer/);
  await expectFcError(client.invokeFunction(svc, 'undefine_function', 'x'), { status: 404, code: 'FunctionNotFound' });
});
