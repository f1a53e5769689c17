'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { Runtime } = require('./harness');

const source = `
exports.handledText = (e, c, cb) => cb('This is a handled error', e);
exports.handledError = (e, c, cb) => cb(new Error('x'));
exports.handledTypeError = (e, c, cb) => cb(new TypeError('bad type'));
exports.handledObject = (e, c, cb) => cb({ code: 42 });
exports.handledBuffer = (e, c, cb) => cb(Buffer.from('from a buffer'));
exports.handledNumber = (e, c, cb) => cb(0);
exports.throws = (e, c, cb) => { e.toSting(); };
exports.throwsString = (e, c, cb) => { throw 'plain'; };
exports.rejects = async (e, c) => { throw new Error('rejected'); };
exports.rejectsValue = (e, c) => Promise.reject('nope');
exports.cyclic = (e, c, cb) => { const o = {}; o.o = o; cb(null, o); };
exports.notAFunction = 42;
exports.uncaughtInside = (e, c, cb) => { setTimeout(() => { throw new Error('in a timer'); }, 5); };
exports.uncaughtAfter = (e, c, cb) => { cb(null, 'answered'); setTimeout(() => { throw new Error('after the answer'); }, 5); };
exports.rejectionInside = (e, c, cb) => { Promise.reject(new Error('floating rejection')); };
exports.ok = (e, c, cb) => cb(null, 'alive');
`;

let rt;
async function call(handler, event = '') {
  // One runtime per handler name: the handler is fixed per instance.
  const r = await Runtime.start({ handler: `index.${handler}`, files: { 'index.js': source } });
  try {
    return { r: await r.invoke(event), rt: r };
  } catch (e) {
    await r.close();
    throw e;
  }
}

test("callback('text') → exactly {\"errorMessage\":\"text\"}, HandledInvocationError", async () => {
  const { r, rt } = await call('handledText', 'world');
  assert.equal(r.type, 'error');
  assert.equal(r.header.errorType, 'HandledInvocationError');
  assert.equal(r.text, '{"errorMessage":"This is a handled error"}');
  await rt.close();
});

test("callback(new Error('x')) → errorMessage, errorType, stackTrace lines", async () => {
  const { r, rt } = await call('handledError');
  assert.equal(r.header.errorType, 'HandledInvocationError');
  assert.deepEqual(Object.keys(r.json), ['errorMessage', 'errorType', 'stackTrace']);
  assert.equal(r.json.errorMessage, 'x');
  assert.equal(r.json.errorType, 'Error');
  assert.equal(r.json.stackTrace[0], 'Error: x');
  assert.match(r.json.stackTrace[1], /^ {4}at /);
  assert.ok(r.json.stackTrace.some((l) => l.includes(rt.codeDir)));
  await rt.close();
});

test('callback(err) with other values: errorType is the name; objects JSON; Buffers text; 0 is an error', async () => {
  for (const [h, check] of [
    ['handledTypeError', (r) => assert.equal(r.json.errorType, 'TypeError')],
    ['handledObject', (r) => assert.equal(r.text, '{"errorMessage":"{\\"code\\":42}"}')],
    ['handledBuffer', (r) => assert.equal(r.text, '{"errorMessage":"from a buffer"}')],
    ['handledNumber', (r) => assert.equal(r.text, '{"errorMessage":"0"}')],
  ]) {
    const { r, rt } = await call(h);
    assert.equal(r.header.errorType, 'HandledInvocationError', h);
    check(r);
    await rt.close();
  }
});

test('a synchronous throw is an UnhandledInvocationError with the error', async () => {
  const { r, rt } = await call('throws');
  assert.equal(r.type, 'error');
  assert.equal(r.header.errorType, 'UnhandledInvocationError');
  assert.equal(r.json.errorType, 'TypeError');
  assert.equal(r.json.errorMessage, 'e.toSting is not a function');
  assert.ok(Array.isArray(r.json.stackTrace));
  // The process survives and the next request works.
  assert.equal((await rt.invoke('')).type, 'error');
  assert.equal(rt.child.exitCode, null);
  await rt.close();
});

test('throwing a non-Error value gives {"errorMessage": value}', async () => {
  const { r, rt } = await call('throwsString');
  assert.equal(r.header.errorType, 'UnhandledInvocationError');
  assert.equal(r.text, '{"errorMessage":"plain"}');
  await rt.close();
});

test('a rejected promise is an UnhandledInvocationError', async () => {
  for (const [h, check] of [
    ['rejects', (r) => assert.equal(r.json.errorMessage, 'rejected')],
    ['rejectsValue', (r) => assert.equal(r.text, '{"errorMessage":"nope"}')],
  ]) {
    const { r, rt } = await call(h);
    assert.equal(r.header.errorType, 'UnhandledInvocationError', h);
    check(r);
    await rt.close();
  }
});

test('a result that cannot be encoded (a cycle) is an UnhandledInvocationError', async () => {
  const { r, rt } = await call('cyclic');
  assert.equal(r.header.errorType, 'UnhandledInvocationError');
  assert.equal(r.json.errorType, 'TypeError');
  assert.match(r.json.errorMessage, /circular/i);
  await rt.close();
});

test('missing module: Cannot find module <code dir>/<file>.js, on every invoke', async () => {
  const rt = await Runtime.start({ handler: 'nothere.handler', files: { 'index.js': source } });
  for (let i = 0; i < 2; i++) {
    const r = await rt.invoke('');
    assert.equal(r.header.errorType, 'UnhandledInvocationError');
    assert.equal(r.json.errorMessage, `Cannot find module '${rt.codeDir}/nothere.js'`);
    assert.equal(r.json.errorType, 'Error');
    assert.ok(Array.isArray(r.json.stackTrace));
  }
  await rt.close();
});

test("missing handler / non-function export: exactly {\"errorMessage\":\"Handler 'X' missing on module 'Y'\"}", async () => {
  for (const h of ['nothere', 'notAFunction']) {
    const { r, rt } = await call(h);
    assert.equal(r.header.errorType, 'UnhandledInvocationError');
    assert.equal(r.text, JSON.stringify({ errorMessage: `Handler '${h}' missing on module 'index'` }));
    await rt.close();
  }
});

test('a syntax error and a throw at module load are reported with the error, on every invoke, loading once', async () => {
  let rt = await Runtime.start({ files: { 'index.js': 'exports.handler = (e, c, cb) => {\n' } });
  for (let i = 0; i < 2; i++) {
    const r = await rt.invoke('');
    assert.equal(r.header.errorType, 'UnhandledInvocationError');
    assert.equal(r.json.errorType, 'SyntaxError');
  }
  await rt.close();
  rt = await Runtime.start({ files: { 'index.js': "console.log('top level ran');\nthrow new Error('load failed');\n" } });
  const first = await rt.invoke('');
  const second = await rt.invoke('');
  assert.equal(first.json.errorMessage, 'load failed');
  assert.equal(second.json.errorMessage, 'load failed');
  assert.equal(first.logs.filter((l) => l.includes('top level ran')).length, 1);
  assert.equal(second.logs.filter((l) => l.includes('top level ran')).length, 0);
  await rt.close();
});

test('an invalid handler string is reported', async () => {
  const rt = await Runtime.start({ handler: 'nodot', files: { 'index.js': source } });
  const r = await rt.invoke('');
  assert.equal(r.text, '{"errorMessage":"Invalid handler \'nodot\'"}');
  await rt.close();
});

test('an uncaught exception inside a pending request fails that request; the process stays up', async () => {
  const { r, rt } = await call('uncaughtInside');
  assert.equal(r.header.errorType, 'UnhandledInvocationError');
  assert.equal(r.json.errorMessage, 'in a timer');
  assert.equal(rt.child.exitCode, null);
  const again = await rt.invoke('');
  assert.equal(again.json.errorMessage, 'in a timer');
  await rt.close();
});

test('an unhandled rejection inside a pending request fails that request', async () => {
  const { r, rt } = await call('rejectionInside');
  assert.equal(r.header.errorType, 'UnhandledInvocationError');
  assert.equal(r.json.errorMessage, 'floating rejection');
  await rt.close();
});

test('an uncaught exception after the answer is logged to that request and the process stays up', async () => {
  const { r, rt } = await call('uncaughtAfter');
  assert.equal(r.text, 'answered');
  await new Promise((resolve) => setTimeout(resolve, 100));
  const logs = rt.logs.get(r.requestId);
  assert.equal(logs.length, 1);
  assert.match(logs[0], new RegExp(`^\\S+Z ${r.requestId} \\[error\\] Uncaught Error: after the answer\\r {4}at `));
  assert.equal((await rt.invoke('')).text, 'answered');
  await rt.close();
});

test('every error answer is preceded by an [error] log line carrying the error JSON', async () => {
  const { r, rt } = await call('handledText');
  assert.equal(r.logs.length, 1);
  assert.match(r.logs[0], new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z ${r.requestId} \\[error\\] \\{"errorMessage":"This is a handled error"\\}\\n$`));
  const idxLog = rt.frames.findIndex((f) => f.header.type === 'log');
  const idxErr = rt.frames.findIndex((f) => f.header.type === 'error');
  assert.ok(idxLog < idxErr);
  await rt.close();
});
