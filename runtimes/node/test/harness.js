'use strict';
// Test harness: runs `node bootstrap.js` the way the invoker does (control socket on fd 3, a cleared
// environment with FC's variables, cwd = a code directory) and speaks PROTOCOL.md frames to it.
// Deliberately independent of lib/frames.js, so the runtime's codec is checked against a second one.

const { spawn } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');

const ROOT = path.resolve(__dirname, '..');
const live = new Set(); // runtimes not closed yet: killed when the test file ends, so a failed test cannot hang it

const mainFile = (require.main && require.main.filename) || '';
if (process.env.NODE_TEST_CONTEXT || mainFile.endsWith('.test.js')) {
  require('node:test').after(() => {
    for (const rt of live) rt.kill();
  });
}
const BOOTSTRAP = path.join(ROOT, 'bootstrap.js');
const NODE_PATH = path.join(ROOT, 'node_modules');

function encode(header, body) {
  const h = Buffer.from(JSON.stringify(header));
  const b = body === undefined || body === null ? Buffer.alloc(0) : Buffer.isBuffer(body) ? body : Buffer.from(body);
  const pre = Buffer.alloc(8);
  pre.writeUInt32BE(4 + h.length + b.length, 0);
  pre.writeUInt32BE(h.length, 4);
  return Buffer.concat([pre, h, b]);
}

function writeFiles(dir, files) {
  for (const [name, content] of Object.entries(files)) {
    const p = path.join(dir, name);
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.writeFileSync(p, content);
  }
}

class Runtime {
  /**
   * options: files {relative path: content}, handler, initializer, env (extra), init (false: do not send
   * init), memory, timeout, functionName.
   */
  static async start(options = {}) {
    const rt = new Runtime(options);
    await rt.ready;
    if (options.init !== false) rt.sendInit();
    return rt;
  }

  constructor(options) {
    this.options = options;
    this.handler = options.handler || 'index.handler';
    this.initializer = options.initializer || null;
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferric-node-test-'));
    this.codeDir = path.join(this.dir, 'code');
    this.tmp = path.join(this.dir, 'tmp');
    fs.mkdirSync(this.codeDir);
    fs.mkdirSync(this.tmp);
    writeFiles(this.codeDir, options.files || {});
    const env = {
      FC_FUNC_CODE_PATH: this.codeDir,
      FC_FUNCTION_MEMORY_SIZE: String(options.memory || 128),
      FC_RUNTIME_VERSION: 'nodejs20',
      FC_ACCOUNT_ID: '1234567890123456',
      FC_FUNCTION_HANDLER: this.handler,
      FC_FUNCTION_NAME: options.functionName || 'f',
      FC_SERVICE_NAME: 's',
      FC_QUALIFIER: 'LATEST',
      FC_VER_ID: 'LATEST',
      FC_REGION: 'local',
      FC_INSTANCE_ID: 'i-test',
      FC_SERVER_LOG_LEVEL: 'INFO',
      PATH: '/usr/local/bin:/usr/bin:/bin',
      HOME: this.tmp,
      TMPDIR: this.tmp,
      LANG: 'C.UTF-8',
      NODE_PATH,
      FERRIC_CONTROL_FD: '3',
      ...(this.initializer ? { FC_FUNCTION_INITIALIZER: this.initializer } : {}),
      ...(options.env || {}),
    };
    this.child = spawn(process.execPath, [BOOTSTRAP], { cwd: this.codeDir, env, stdio: ['ignore', 'pipe', 'pipe', 'pipe'] });
    live.add(this);
    this.ctl = this.child.stdio[3];
    this.stdout = '';
    this.stderr = '';
    this.child.stdout.on('data', (d) => (this.stdout += d));
    this.child.stderr.on('data', (d) => (this.stderr += d));
    this.exited = new Promise((resolve) => this.child.on('exit', (code, signal) => resolve({ code, signal })));
    this.frames = []; // every frame received, in order: {header, body}
    this.logs = new Map(); // requestId → [string]
    this.waiters = new Map(); // id → resolve
    this.nextId = 1;
    this.buf = Buffer.alloc(0);
    this.ready = new Promise((resolve, reject) => {
      this.onReady = resolve;
      this.exited.then((e) => reject(new Error(`runtime exited before ready: ${JSON.stringify(e)} ${this.stderr}`)));
    });
    this.ctl.on('data', (chunk) => this.onData(chunk));
    this.ctl.on('error', () => {});
  }

  onData(chunk) {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (this.buf.length >= 8) {
      const n = this.buf.readUInt32BE(0);
      if (this.buf.length < 4 + n) break;
      const h = this.buf.readUInt32BE(4);
      const header = JSON.parse(this.buf.toString('utf8', 8, 8 + h));
      const body = Buffer.from(this.buf.subarray(8 + h, 4 + n));
      this.buf = this.buf.subarray(4 + n);
      this.onFrame(header, body);
    }
  }

  onFrame(header, body) {
    this.frames.push({ header, body });
    if (header.type === 'ready') return this.onReady(header);
    if (header.type === 'log') {
      if (!this.logs.has(header.requestId)) this.logs.set(header.requestId, []);
      this.logs.get(header.requestId).push(body.toString());
      return;
    }
    const w = this.waiters.get(header.id);
    if (w) {
      this.waiters.delete(header.id);
      w(header, body);
    }
  }

  send(header, body) {
    this.ctl.write(encode(header, body));
  }

  sendInit(overrides = {}) {
    this.send({
      type: 'init',
      function: {
        name: this.options.functionName || 'f',
        handler: this.handler,
        memory: this.options.memory || 128,
        timeout: this.options.timeout || 3,
        initializer: this.initializer,
        initializationTimeout: 3,
      },
      service: { name: 's', logProject: 'lp', logStore: 'ls', qualifier: 'LATEST', versionId: '' },
      region: 'local',
      accountId: '1234567890123456',
      instanceConcurrency: 10,
      ...overrides,
    });
  }

  /** Sends a request and resolves with its answer: {type, header, body, text, json, logs, requestId}. */
  request(type, body, opts = {}) {
    const id = opts.id || this.nextId++;
    const requestId = opts.requestId || crypto.randomUUID();
    const header = {
      type,
      id,
      requestId,
      credentials: opts.credentials || { accessKeyId: '', accessKeySecret: '', securityToken: '' },
    };
    if (type === 'invoke') header.http = opts.http || null;
    const answer = new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${type} ${id} (stderr: ${this.stderr})`)), opts.timeout || 10000);
      this.waiters.set(id, (h, b) => {
        clearTimeout(timer);
        const text = b.toString();
        let json;
        if (h.type === 'error') json = JSON.parse(text);
        resolve({ type: h.type, header: h, body: b, text, json, logs: (this.logs.get(requestId) || []).slice(), requestId });
      });
    });
    this.send(header, body);
    return answer;
  }

  invoke(event, opts) {
    return this.request('invoke', event, opts);
  }

  initialize(opts) {
    return this.request('initialize', null, opts);
  }

  kill() {
    live.delete(this);
    this.child.kill('SIGKILL');
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  /** Closes the control socket and waits for the process to exit. */
  async close() {
    live.delete(this);
    this.ctl.end();
    const e = await Promise.race([
      this.exited,
      new Promise((resolve) => setTimeout(() => resolve(null), 5000)),
    ]);
    if (e === null) this.child.kill('SIGKILL');
    fs.rmSync(this.dir, { recursive: true, force: true });
    return e;
  }
}

module.exports = { Runtime, encode, BOOTSTRAP, NODE_PATH };
