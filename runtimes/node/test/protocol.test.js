'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { Runtime, encode } = require('./harness');

const echo = { 'index.js': 'exports.handler = (event, context, callback) => callback(null, event);\n' };

test('ready carries the Node version; init, invoke, result', async () => {
  const rt = new Runtime({ files: echo });
  const ready = await rt.ready;
  assert.equal(ready.type, 'ready');
  assert.equal(ready.runtime, `node ${process.version}`);
  assert.equal(rt.frames.length, 1);
  rt.sendInit();
  const r = await rt.invoke('hello');
  assert.equal(r.type, 'result');
  assert.equal(r.header.id, 1);
  assert.equal(r.text, 'hello');
  assert.deepEqual(await rt.close(), { code: 0, signal: null });
});

test('the control fd variable is gone before user code runs; env, cwd and FC variables are there', async () => {
  const rt = await Runtime.start({
    files: {
      'index.js': `exports.handler = (e, c, cb) => cb(null, {
        fd: process.env.FERRIC_CONTROL_FD === undefined ? 'unset' : 'set',
        cwd: process.cwd(), code: process.env.FC_FUNC_CODE_PATH, name: process.env.FC_FUNCTION_NAME,
        nodePath: !!process.env.NODE_PATH });\n`,
    },
  });
  const out = JSON.parse((await rt.invoke('')).text);
  assert.equal(out.fd, 'unset');
  assert.equal(out.cwd, rt.codeDir);
  assert.equal(out.code, rt.codeDir);
  assert.equal(out.name, 'f');
  assert.equal(out.nodePath, true);
  await rt.close();
});

test('the process exits when the socket closes, even with timers pending', async () => {
  const rt = await Runtime.start({
    files: { 'index.js': 'setInterval(() => {}, 1000);\nexports.handler = (e, c, cb) => cb(null, "x");\n' },
  });
  assert.equal((await rt.invoke('')).text, 'x');
  assert.deepEqual(await rt.close(), { code: 0, signal: null });
});

test('the process stays up with no request in flight until the socket closes', async () => {
  const rt = await Runtime.start({ files: echo });
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(rt.child.exitCode, null);
  assert.equal((await rt.invoke('still here')).text, 'still here');
  await rt.close();
});

test('concurrent invokes are answered by id, out of order', async () => {
  const rt = await Runtime.start({
    files: {
      'index.js': `exports.handler = (event, context, callback) => {
        const ms = Number(event.toString());
        setTimeout(() => callback(null, 'slept ' + ms), ms);
      };\n`,
    },
  });
  const order = [];
  const slow = rt.invoke('300', { id: 10 }).then((r) => (order.push(r.header.id), r));
  const fast = rt.invoke('10', { id: 11 }).then((r) => (order.push(r.header.id), r));
  const [s, f] = await Promise.all([slow, fast]);
  assert.deepEqual(order, [11, 10]);
  assert.equal(s.text, 'slept 300');
  assert.equal(f.text, 'slept 10');
  await rt.close();
});

test('frames split at every byte and frames batched in one write are both read', async () => {
  const rt = await Runtime.start({ files: echo });
  const a = rt.request('invoke', 'first', { id: 1, requestId: 'a' });
  // The harness wrote frame 1 normally; now frame 2 one byte at a time, then frames 3 and 4 in one write.
  const answers = [];
  const wait = (id) => new Promise((resolve) => rt.waiters.set(id, (h, b) => resolve(b.toString())));
  const second = encode({ type: 'invoke', id: 2, requestId: 'b', credentials: {}, http: null }, 'second');
  const w2 = wait(2);
  for (const byte of second) {
    rt.ctl.write(Buffer.from([byte]));
    await new Promise((r) => setImmediate(r));
  }
  const w3 = wait(3);
  const w4 = wait(4);
  rt.ctl.write(Buffer.concat([
    encode({ type: 'invoke', id: 3, requestId: 'c', credentials: {}, http: null }, 'third'),
    encode({ type: 'invoke', id: 4, requestId: 'd', credentials: {}, http: null }, ''),
  ]));
  answers.push((await a).text, await w2, await w3, await w4);
  assert.deepEqual(answers, ['first', 'second', 'third', '']);
  await rt.close();
});

test('a large binary event and result round-trip unchanged', async () => {
  const rt = await Runtime.start({ files: echo });
  const big = Buffer.alloc(5 * 1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7919) & 0xff;
  const r = await rt.invoke(big);
  assert.equal(r.body.length, big.length);
  assert.ok(r.body.equals(big));
  await rt.close();
});

test('a malformed frame makes the runtime close and exit', async () => {
  const rt = await Runtime.start({ files: echo });
  const bad = Buffer.alloc(12);
  bad.writeUInt32BE(8, 0);
  bad.writeUInt32BE(100, 4); // header longer than the frame
  rt.ctl.write(bad);
  const e = await rt.exited;
  assert.notEqual(e.code, 0);
  await rt.close();
});

test('unknown message types are ignored', async () => {
  const rt = await Runtime.start({ files: echo });
  rt.send({ type: 'something-new', id: 99 });
  assert.equal((await rt.invoke('ok')).text, 'ok');
  await rt.close();
});

test('child_process works inside the instance', async () => {
  const rt = await Runtime.start({
    files: {
      'index.js': `const cp = require('child_process');
        exports.handler = (e, c, cb) => cb(null, cp.execSync('echo hi').toString() + cp.execSync('/bin/sh -c "echo \\$HOME"').toString());\n`,
    },
  });
  assert.equal((await rt.invoke('')).text, `hi\n${rt.tmp}\n`);
  await rt.close();
});

test('process.exit() ends the process (the invoker reports it)', async () => {
  const rt = await Runtime.start({ files: { 'index.js': 'exports.handler = () => process.exit(3);\n' } });
  rt.invoke('').catch(() => {});
  assert.equal((await rt.exited).code, 3);
  await rt.close();
});
