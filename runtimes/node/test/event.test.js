'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { Runtime } = require('./harness');

async function run(source, event = '', options = {}) {
  const rt = await Runtime.start({ files: { 'index.js': source, ...(options.files || {}) }, ...options });
  try {
    return await rt.invoke(event);
  } finally {
    await rt.close();
  }
}

test('result encoding through the callback: string, Buffer, object, array, number, boolean, null, undefined', async () => {
  const rt = await Runtime.start({
    files: {
      'index.js': `const values = {
        string: 'hello wörld', object: { a: 1, b: [true, null] }, array: [1, 'two'], number: 3, float: 1.5,
        boolean: true, null: null, undefined: undefined, nested: { s: 'é' } };
        exports.handler = (event, context, callback) => {
          const k = event.toString();
          if (k === 'buffer') return callback(null, Buffer.from([0, 255, 128, 10, 13]));
          callback(null, values[k]);
        };\n`,
    },
  });
  const text = async (k) => (await rt.invoke(k)).text;
  assert.equal(await text('string'), 'hello wörld');
  assert.equal(await text('object'), '{"a":1,"b":[true,null]}');
  assert.equal(await text('array'), '[1,"two"]');
  assert.equal(await text('number'), '3');
  assert.equal(await text('float'), '1.5');
  assert.equal(await text('boolean'), 'true');
  assert.equal((await rt.invoke('null')).body.length, 0);
  assert.equal((await rt.invoke('undefined')).body.length, 0);
  assert.deepEqual([...(await rt.invoke('buffer')).body], [0, 255, 128, 10, 13]);
  assert.equal(await text('nested'), '{"s":"é"}');
  await rt.close();
});

test('the event is a Buffer of the exact bytes (every byte value round-trips)', async () => {
  const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  const r = await run('exports.handler = (event, context, callback) => callback(null, Buffer.isBuffer(event) ? event : "not a buffer");\n', all);
  assert.ok(r.body.equals(all));
});

test('first callback wins: callback(err) then callback(null, x) is the error', async () => {
  const r = await run("exports.handler = (e, c, cb) => { cb('first'); cb(null, 'second'); };\n");
  assert.equal(r.type, 'error');
  assert.equal(r.text, '{"errorMessage":"first"}');
});

test('first callback wins: callback(null, x) then callback(err) is x', async () => {
  const r = await run("exports.handler = (e, c, cb) => { cb(null, 'first'); cb(new Error('second')); };\n");
  assert.equal(r.type, 'result');
  assert.equal(r.text, 'first');
});

test('async handler with two parameters answers with the resolved value', async () => {
  const r = await run("exports.handler = async (event, context) => { await new Promise(r => setTimeout(r, 5)); return { got: event.toString() }; };\n", 'x');
  assert.equal(r.text, '{"got":"x"}');
});

test('async handler with two parameters resolving to undefined answers empty', async () => {
  const r = await run('exports.handler = async (event, context) => {};\n');
  assert.equal(r.type, 'result');
  assert.equal(r.body.length, 0);
});

test('promise-returning (non-async) handler answers with the resolved value', async () => {
  const r = await run("exports.handler = (event, context) => Promise.resolve('from promise');\n");
  assert.equal(r.text, 'from promise');
});

test('async handler with three parameters answers through the callback', async () => {
  const r = await run(`exports.handler = async (event, context, callback) => {
    await new Promise(r => setTimeout(r, 5));
    setTimeout(() => callback(null, 'via callback'), 20);
  };\n`);
  assert.equal(r.text, 'via callback');
});

test('async handler with three parameters that returns a value answers with it', async () => {
  const r = await run("exports.handler = async (event, context, callback) => 'returned';\n");
  assert.equal(r.text, 'returned');
});

test('async handler calling the callback before resolving: the callback wins', async () => {
  const r = await run("exports.handler = async (event, context, callback) => { callback(null, 'cb'); return 'returned'; };\n");
  assert.equal(r.text, 'cb');
});

test('a synchronous two-parameter handler answers with its return value', async () => {
  const r = await run("exports.handler = function (event, context) { return 'sync ' + event; };\n", 'v');
  assert.equal(r.text, 'sync v');
});

test('a handler taking the callback ignores its plain return value and waits for the callback', async () => {
  const r = await run("exports.handler = function (e, c, callback) { setTimeout(() => callback(null, 'late'), 10); return 'ignored'; };\n");
  assert.equal(r.text, 'late');
});

test('a rest-parameter handler gets the callback and is waited for', async () => {
  const r = await run("exports.handler = (...args) => { setTimeout(() => args[2](null, 'rest ' + args.length), 10); };\n");
  assert.equal(r.text, 'rest 3');
});

test('ES module: index.mjs with a named export', async () => {
  const rt = await Runtime.start({
    files: { 'index.mjs': "import os from 'node:os';\nexport const handler = async (event, context) => `esm ${event} ${typeof os.cpus}`;\n" },
  });
  assert.equal((await rt.invoke('ok')).text, 'esm ok function');
  await rt.close();
});

test('ES module: .js under package.json "type": "module", with top-level await', async () => {
  const rt = await Runtime.start({
    files: {
      'package.json': '{"type":"module"}',
      'index.js': "const v = await Promise.resolve('tla');\nexport function handler(event, context, callback) { callback(null, v); }\n",
    },
  });
  assert.equal((await rt.invoke('')).text, 'tla');
  await rt.close();
});

test('ES module: a default-exported object with the handler', async () => {
  const rt = await Runtime.start({
    files: { 'index.mjs': "export default { handler: async () => 'from default' };\n" },
  });
  assert.equal((await rt.invoke('')).text, 'from default');
  await rt.close();
});

test('export names other than handler, and other file names (helloworld.index)', async () => {
  const rt = await Runtime.start({
    handler: 'helloworld.index',
    files: { 'helloworld.js': "exports.index = (e, c, cb) => cb(null, 'hello world');\n" },
  });
  assert.equal((await rt.invoke('')).text, 'hello world');
  await rt.close();
});

test('handler in a sub-directory, a .cjs file, and a directory with index.js', async () => {
  for (const [handler, files] of [
    ['src/app.main', { 'src/app.js': "exports.main = (e, c, cb) => cb(null, 'sub');\n" }],
    ['lib.main', { 'lib.cjs': "exports.main = (e, c, cb) => cb(null, 'cjs');\n" }],
    ['pkg.main', { 'pkg/index.js': "exports.main = (e, c, cb) => cb(null, 'dir');\n" }],
  ]) {
    const rt = await Runtime.start({ handler, files });
    assert.match((await rt.invoke('')).text, /^(sub|cjs|dir)$/);
    await rt.close();
  }
});

test('node_modules inside the code directory resolve, and raw-body resolves through NODE_PATH', async () => {
  const rt = await Runtime.start({
    files: {
      'node_modules/leftpad/index.js': "module.exports = (s, n) => String(s).padStart(n, '*');\n",
      'node_modules/leftpad/package.json': '{"name":"leftpad","main":"index.js"}',
      'index.js': "const lp = require('leftpad'); const rb = require('raw-body');\nexports.handler = (e, c, cb) => cb(null, lp('x', 3) + ' ' + typeof rb);\n",
    },
  });
  assert.equal((await rt.invoke('')).text, '**x function');
  await rt.close();
});

test('initializer runs once; module state persists across invokes (counter 2 then 3)', async () => {
  const rt = await Runtime.start({
    handler: 'counter.handler',
    initializer: 'counter.initializer',
    files: {
      'counter.js': `var counter = 0;
        exports.initializer = function (ctx, callback) { ++counter; callback(null, ''); };
        exports.handler = function (event, context, callback) { console.log('initialize and invoke normal'); ++counter; callback(null, String(counter)); };\n`,
    },
  });
  const init = await rt.initialize();
  assert.equal(init.type, 'result');
  assert.equal(init.body.length, 0);
  assert.equal((await rt.invoke('')).text, '2');
  assert.equal((await rt.invoke('')).text, '3');
  await rt.close();
});

test('initializer: async, and its context carries accountId, credentials, region and initializer', async () => {
  const rt = await Runtime.start({
    handler: 'index.handler',
    initializer: 'index.init',
    files: {
      'index.js': `let seen;
        exports.init = async (context) => { await new Promise(r => setTimeout(r, 5)); seen = context; };
        exports.handler = (e, c, cb) => cb(null, { accountId: seen.accountId, region: seen.region,
          key: seen.credentials.accessKeyId, initializer: seen.function.initializer, rid: seen.requestId });\n`,
    },
  });
  const init = await rt.initialize({ requestId: 'init-rid', credentials: { accessKeyId: 'AK', accessKeySecret: 'S', securityToken: 'T' } });
  assert.equal(init.type, 'result');
  assert.deepEqual(JSON.parse((await rt.invoke('')).text), {
    accountId: '1234567890123456', region: 'local', key: 'AK', initializer: 'index.init', rid: 'init-rid',
  });
  await rt.close();
});

test('initializer failures are unhandled errors: throw, rejection, callback(err), missing export', async () => {
  const cases = {
    'index.throws': ['UnhandledInvocationError', (j) => assert.equal(j.errorMessage, 'boom')],
    'index.rejects': ['UnhandledInvocationError', (j) => assert.equal(j.errorType, 'RangeError')],
    'index.callbackErr': ['UnhandledInvocationError', (j) => assert.deepEqual(j, { errorMessage: 'init failed' })],
    'index.nothere': ['UnhandledInvocationError', (j) => assert.deepEqual(j, { errorMessage: "Handler 'nothere' missing on module 'index'" })],
  };
  for (const [initializer, [type, check]] of Object.entries(cases)) {
    const rt = await Runtime.start({
      initializer,
      files: {
        'index.js': `exports.throws = (ctx, cb) => { throw new Error('boom'); };
          exports.rejects = async (ctx) => { throw new RangeError('r'); };
          exports.callbackErr = (ctx, cb) => cb('init failed');
          exports.handler = (e, c, cb) => cb(null, 'x');\n`,
      },
    });
    const r = await rt.initialize();
    assert.equal(r.type, 'error', initializer);
    assert.equal(r.header.errorType, type);
    check(r.json);
    await rt.close();
  }
});

test('an initialize without a configured initializer answers an empty result', async () => {
  const rt = await Runtime.start({ files: { 'index.js': 'exports.handler = (e, c, cb) => cb(null, 1);\n' } });
  const r = await rt.initialize();
  assert.equal(r.type, 'result');
  assert.equal(r.body.length, 0);
  await rt.close();
});

test('context: JSON-serialisable, requestId matches, FC fields, credentials, logger', async () => {
  const rt = await Runtime.start({
    functionName: 'fn1',
    memory: 256,
    timeout: 7,
    files: {
      'index.js': `exports.handler = (event, context, callback) => {
        const json = JSON.stringify(context);
        callback(null, { json: JSON.parse(json), loggerMethods: ['info', 'warn', 'error', 'debug', 'log'].every(m => typeof context.logger[m] === 'function') });
      };\n`,
    },
  });
  const creds = { accessKeyId: 'STS.ak', accessKeySecret: 'sk', securityToken: 'tok' };
  const r = await rt.invoke('', { requestId: 'rid-123', credentials: creds });
  const { json, loggerMethods } = JSON.parse(r.text);
  assert.equal(loggerMethods, true);
  assert.equal(json.requestId, 'rid-123');
  assert.deepEqual(json.credentials, creds);
  assert.deepEqual(json.function, { name: 'fn1', handler: 'index.handler', memory: 256, timeout: 7, initializer: null });
  assert.deepEqual(json.service, { name: 's', logProject: 'lp', logStore: 'ls', qualifier: 'LATEST', versionId: '' });
  assert.equal(json.region, 'local');
  assert.equal(json.accountId, '1234567890123456');
  assert.equal(json.retryCount, 0);
  assert.deepEqual(json.tracing, { openTracingSpanContext: '', openTracingSpanBaggages: {}, jaegerEndpoint: '' });
  assert.equal(json.waitsForEmptyEventLoopBeforeCallback, false);
  assert.deepEqual(Object.keys(json), ['requestId', 'credentials', 'function', 'service', 'region', 'accountId',
    'logger', 'retryCount', 'tracing', 'waitsForEmptyEventLoopBeforeCallback']);
  await rt.close();
});

test('context.function is per request: a handler mutating it does not affect the next request', async () => {
  const rt = await Runtime.start({
    files: { 'index.js': "exports.handler = (e, c, cb) => { const before = c.function.name; c.function.name = 'changed'; cb(null, before); };\n" },
  });
  assert.equal((await rt.invoke('')).text, 'f');
  assert.equal((await rt.invoke('')).text, 'f');
  await rt.close();
});
