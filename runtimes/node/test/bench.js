'use strict';
// Micro-benchmark (not a test): warm invoke round trip over the control socket, one request in flight.
//
//   node runtimes/node/test/bench.js [iterations]
//
// Runs three peers behind the same harness-side framing code:
//   echo       a minimal Node process that answers every invoke frame with an empty result: the floor
//              (socketpair + two event loops + frame encode/decode), with no runtime work at all;
//   bootstrap  bootstrap.js with a noop callback handler `(event, context, callback) => callback(null, 'ok')`;
//   async      bootstrap.js with `async (event, context) => 'ok'`;
//   http       bootstrap.js with an HTTP invoke and `(request, response, context) => response.send('ok')`;
// and prints p50 / p99 / mean round trip and requests/s for each, and bootstrap's overhead over echo.

const { spawn } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');
const { encode, BOOTSTRAP, NODE_PATH } = require('./harness');

const N = parseInt(process.argv[2], 10) || 20000;
const WARMUP = Math.min(2000, N);

const ECHO = `
const net = require('net');
const s = new net.Socket({ fd: 3, readable: true, writable: true });
const ready = Buffer.from('{"type":"ready","runtime":"echo"}');
const pre = Buffer.alloc(8); pre.writeUInt32BE(4 + ready.length, 0); pre.writeUInt32BE(ready.length, 4);
s.write(Buffer.concat([pre, ready]));
let buf = Buffer.alloc(0);
s.on('data', (c) => {
  buf = buf.length ? Buffer.concat([buf, c]) : c;
  while (buf.length >= 8) {
    const n = buf.readUInt32BE(0); if (buf.length < 4 + n) break;
    const h = JSON.parse(buf.toString('utf8', 8, 8 + buf.readUInt32BE(4)));
    buf = buf.subarray(4 + n);
    if (h.type !== 'invoke') continue;
    const head = '{"type":"result","id":' + h.id + '}';
    const out = Buffer.allocUnsafe(8 + head.length + 2);
    out.writeUInt32BE(4 + head.length + 2, 0); out.writeUInt32BE(head.length, 4); out.write(head, 8); out.write('ok', 8 + head.length);
    s.write(out);
  }
});
s.on('end', () => process.exit(0));
`;

function startPeer(args, codeDir, handler) {
  const child = spawn(process.execPath, args, {
    cwd: codeDir,
    stdio: ['ignore', 'inherit', 'inherit', 'pipe'],
    env: {
      FERRIC_CONTROL_FD: '3', FC_FUNC_CODE_PATH: codeDir, FC_FUNCTION_HANDLER: handler, FC_FUNCTION_NAME: 'bench',
      FC_SERVICE_NAME: 's', FC_REGION: 'local', FC_ACCOUNT_ID: '1', PATH: '/usr/bin:/bin', NODE_PATH, LANG: 'C.UTF-8',
    },
  });
  const ctl = child.stdio[3];
  let buf = Buffer.alloc(0);
  let waiter = null;
  ctl.on('data', (c) => {
    buf = buf.length ? Buffer.concat([buf, c]) : c;
    while (buf.length >= 8) {
      const n = buf.readUInt32BE(0);
      if (buf.length < 4 + n) break;
      const h = JSON.parse(buf.toString('utf8', 8, 8 + buf.readUInt32BE(4)));
      buf = buf.subarray(4 + n);
      if (waiter !== null && (h.type === 'ready' || h.type === 'result' || h.type === 'error')) {
        const w = waiter;
        waiter = null;
        w(h);
      }
    }
  });
  const next = () => new Promise((resolve) => (waiter = resolve));
  return { child, ctl, next };
}

const HTTP = {
  method: 'GET', path: '/', requestURI: '/2016-08-15/proxy/s/bench/', clientIP: '127.0.0.1', host: 'localhost',
  headers: { 'user-agent': ['bench'], accept: ['*/*'] }, queries: {},
};

async function measure(name, args, codeDir, handler, http = null) {
  const peer = startPeer(args, codeDir, handler);
  await peer.next();
  peer.ctl.write(encode({
    type: 'init',
    function: { name: 'bench', handler, memory: 128, timeout: 3, initializer: null, initializationTimeout: 3 },
    service: { name: 's', logProject: '', logStore: '', qualifier: 'LATEST', versionId: '' },
    region: 'local', accountId: '1', instanceConcurrency: 1,
  }));
  const event = Buffer.from('{"hello":"world"}');
  const credentials = { accessKeyId: '', accessKeySecret: '', securityToken: '' };
  const samples = new Float64Array(N);
  let id = 0;
  const one = async () => {
    id++;
    const frame = encode({ type: 'invoke', id, requestId: 'req-' + id, credentials, http }, event);
    const t0 = process.hrtime.bigint();
    const answer = peer.next();
    peer.ctl.write(frame);
    const h = await answer;
    if (h.type !== 'result') throw new Error(`${name}: ${JSON.stringify(h)}`);
    return Number(process.hrtime.bigint() - t0) / 1000;
  };
  for (let i = 0; i < WARMUP; i++) await one();
  const start = process.hrtime.bigint();
  for (let i = 0; i < N; i++) samples[i] = await one();
  const wall = Number(process.hrtime.bigint() - start) / 1e9;
  peer.ctl.end();
  await new Promise((r) => peer.child.on('exit', r));
  samples.sort();
  const mean = samples.reduce((a, b) => a + b, 0) / N;
  const r = { name, p50: samples[Math.floor(N * 0.5)], p99: samples[Math.floor(N * 0.99)], mean, rps: N / wall };
  console.log(`${name.padEnd(10)} p50 ${r.p50.toFixed(1).padStart(6)} µs   p99 ${r.p99.toFixed(1).padStart(6)} µs   mean ${r.mean.toFixed(1).padStart(6)} µs   ${Math.round(r.rps).toString().padStart(6)} req/s (1 in flight)`);
  return r;
}

(async () => {
  if (process.env.NODE_TEST_CONTEXT) return; // picked up by `node --test <dir>`: not a test, do nothing
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferric-node-bench-'));
  fs.writeFileSync(path.join(dir, 'index.js'),
    "exports.handler = (event, context, callback) => callback(null, 'ok');\n" +
    "exports.asyncHandler = async (event, context) => 'ok';\n" +
    "exports.httpHandler = (request, response, context) => response.send('ok');\n");
  console.log(`node ${process.version}, ${N} sequential invokes after ${WARMUP} warm-up`);
  await measure('(warm-up)', ['-e', ECHO], dir, 'index.handler');
  const boot = await measure('bootstrap', [BOOTSTRAP], dir, 'index.handler');
  const asyncR = await measure('async', [BOOTSTRAP], dir, 'index.asyncHandler');
  const httpR = await measure('http', [BOOTSTRAP], dir, 'index.httpHandler', HTTP);
  const echo = await measure('echo', ['-e', ECHO], dir, 'index.handler');
  console.log(`bootstrap overhead over echo: p50 ${(boot.p50 - echo.p50).toFixed(1)} µs (callback), ` +
    `${(asyncR.p50 - echo.p50).toFixed(1)} µs (async), ${(httpR.p50 - echo.p50).toFixed(1)} µs (HTTP handler)`);
  fs.rmSync(dir, { recursive: true, force: true });
})();
