'use strict';
// The php7.2, java11 and custom (custom.debian10) runtimes through the official Node SDK (@alicloud/fc2), as
// tests/sdk/python/test_php.py, test_java.py and test_custom.py do through the Python one: createFunction with a
// code zip, sync invokeFunction (bytes unchanged), the initializer once per instance, a function error in FC's
// shape, X-Fc-Log-Type: Tail, an async invocation whose log arrives later (GET /ferric/v1/logs) and an HTTP
// trigger. The code is tests/sdk/fixtures/{php,java,custom}; the Java fixture is compiled here with the JDK's
// javac against Ferric's copy of FC's interfaces (runtimes/java/src), which stays out of the zip.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const {
  FC, ENDPOINT, client, uniq, purgeService, createFunction, fixtureZip, makeZip, UUID_RE,
} = require('./helpers');

const svc = uniq('rtnode');
const ROOT = path.join(__dirname, '..', '..', '..');
const FIXTURES = path.join(__dirname, '..', 'fixtures');
const LOG_TIME = '\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}\\.\\d{3}Z';

/** Sets the unix mode of `name` in a zip from helpers.makeZip (which writes 0644), in its central directory. */
function withMode(zip, name, mode) {
  const out = Buffer.from(zip);
  for (let at = out.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02])); at >= 0;
    at = at === 0 ? -1 : out.lastIndexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]), at - 1)) {
    const nameLength = out.readUInt16LE(at + 28);
    if (out.toString('utf8', at + 46, at + 46 + nameLength) === name) {
      out.writeUInt32LE(((0o100000 | mode) << 16) >>> 0, at + 38);
      return out;
    }
  }
  throw new Error(`${name} is not in the zip`);
}

/** tests/sdk/fixtures/java/sdk compiled with javac --release 8 against runtimes/java/src, as `sdk/*.class`. */
function javaZip() {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'ferric-node-java-'));
  try {
    const src = path.join(FIXTURES, 'java', 'sdk');
    const sources = fs.readdirSync(src).filter((n) => n.endsWith('.java')).sort().map((n) => path.join(src, n));
    execFileSync('javac', ['--release', '8', '-Xlint:-options', '-nowarn', '-sourcepath',
      path.join(ROOT, 'runtimes', 'java', 'src'), '-d', out, ...sources], { stdio: ['ignore', 'inherit', 'inherit'] });
    const files = {};
    for (const name of fs.readdirSync(path.join(out, 'sdk')).sort()) {
      files[`sdk/${name}`] = fs.readFileSync(path.join(out, 'sdk', name));
    }
    return makeZip(files);
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

/** GET /ferric/v1/logs?requestId= signed with the SDK's own signer; polls until a record contains `until`. */
async function fetchLogs(requestId, until) {
  const deadline = Date.now() + 10000;
  for (;;) {
    const apiPath = '/ferric/v1/logs';
    const headers = client.buildHeaders();
    headers.authorization = FC.getSignature(process.env.FC_ACCESS_KEY_ID, process.env.FC_ACCESS_KEY_SECRET, 'GET',
      apiPath, headers, null);
    const resp = await fetch(`${ENDPOINT}${apiPath}?requestId=${requestId}`, { headers });
    assert.equal(resp.status, 200, await resp.clone().text());
    const { logs } = await resp.json();
    const text = logs.map((rec) => rec.content || '').join('');
    if (text.includes(until) || Date.now() > deadline) return text;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** The Tail log's lines, after checking its FC Invoke Start/End frame for `rid`. */
function tailLines(res) {
  const rid = res.headers['x-fc-request-id'];
  assert.ok(res.headers['x-fc-log-result'], 'X-Fc-Log-Result missing');
  const lines = Buffer.from(res.headers['x-fc-log-result'], 'base64').toString('utf8').replace(/\n$/, '').split('\n');
  if (lines[lines.length - 1].startsWith(`FC Cold Start RequestId: ${rid}`)) lines.pop();
  assert.equal(lines[0], `FC Invoke Start RequestId: ${rid}`, lines.join('\n'));
  assert.equal(lines[lines.length - 1], `FC Invoke End RequestId: ${rid}`, lines.join('\n'));
  return lines;
}

// Per runtime: its code, handler names, the events the fixture understands, and what its answers look like.
const RUNTIMES = {
  php: {
    runtime: 'php7.2',
    code: () => fixtureZip('php'),
    echo: { handler: 'main.echo_event' },
    counter: { handler: 'main.counter', initializer: 'main.initializer' },
    countEvent: 'x',
    fail: { handler: 'main.fail', event: 'x' },
    checkError(data) {
      assert.equal(data.errorMessage, 'php failed');
      assert.equal(data.errorType, 'DomainException');
      assert.ok(Array.isArray(data.stackTrace) && data.stackTrace.length > 0, JSON.stringify(data));
    },
    log: { handler: 'main.log_event', event: (tag) => tag },
    checkLog(lines, rid, tag) {
      assert.ok(lines.some((l) => new RegExp(`^${LOG_TIME} ${rid} \\[INFO\\] event: ${tag}$`).test(l)), lines.join('\n'));
      assert.ok(lines.includes(`printed: ${tag}`), lines.join('\n'));
    },
    http: { handler: 'main.http_echo', header: 'x-php', path: '/some/path' },
  },
  java: {
    runtime: 'java11',
    code: javaZip,
    echo: { handler: 'sdk.Events::handleRequest' },
    counter: { handler: 'sdk.Events::handleRequest', initializer: 'sdk.Events::initialize' },
    countEvent: 'count',
    fail: { handler: 'sdk.Events::handleRequest', event: 'fail' },
    checkError(data) {
      assert.equal(data.errorMessage, 'java failed');
      assert.equal(data.errorType, 'java.lang.IllegalStateException');
      assert.ok(data.stackTrace[0].startsWith('sdk.Events.handleRequest(Events.java:'), JSON.stringify(data));
    },
    log: { handler: 'sdk.Events::handleRequest', event: (tag) => `log ${tag}` },
    checkLog(lines, rid, tag) {
      assert.ok(lines.some((l) => new RegExp(`^${LOG_TIME} ${rid} \\[INFO\\] event: log ${tag}$`).test(l)),
        lines.join('\n'));
      assert.ok(lines.includes(`printed: log ${tag}`), lines.join('\n'));
    },
    http: { handler: 'sdk.Web::handleRequest', header: 'x-java', path: '/some/path' },
  },
  custom: {
    runtime: 'custom.debian10',
    code: () => withMode(fixtureZip('custom'), 'bootstrap', 0o755),
    echo: { handler: 'index.handler' },
    counter: { handler: 'index.handler', initializer: 'index.init' },
    countEvent: 'count',
    fail: { handler: 'index.handler', event: 'fail' },
    checkError(data) {
      assert.deepEqual(data, { errorMessage: 'custom failed' });
    },
    log: { handler: 'index.handler', event: (tag) => `log ${tag}` },
    checkLog(lines, rid, tag) {
      assert.ok(lines.includes(`printed: log ${tag}`), lines.join('\n'));
      assert.ok(lines.includes(`stderr: log ${tag}`), lines.join('\n'));
    },
    http: { handler: 'index.handler', header: 'x-custom-runtime', path: '/some/path' },
  },
};

const zips = {};

before(async () => {
  await client.createService(svc);
  for (const [name, rt] of Object.entries(RUNTIMES)) zips[name] = rt.code();
});
after(async () => {
  await purgeService(client, svc);
});

async function deploy(name, extra) {
  const fn = uniq(`fn_${name}`);
  const created = await createFunction(svc, fn, { runtime: RUNTIMES[name].runtime, ...extra }, zips[name]);
  assert.equal(created.data.runtime, RUNTIMES[name].runtime);
  assert.equal(created.data.codeSize, zips[name].length);
  return fn;
}

for (const [name, rt] of Object.entries(RUNTIMES)) {
  test(`${rt.runtime}: createFunction with a zip, then sync invokeFunction returns the bytes unchanged`, async () => {
    const fn = await deploy(name, { handler: rt.echo.handler });
    const bytes = Buffer.concat([Buffer.from('hello \x00 binary\r\n'), Buffer.from(Array.from({ length: 256 }, (_, i) => i))]);
    const res = await client.invokeFunction(svc, fn, bytes, {}, 'LATEST', { rawBuf: true });
    assert.ok(Buffer.isBuffer(res.data));
    assert.deepEqual(res.data, bytes);
    assert.match(res.headers['x-fc-request-id'], UUID_RE);
    assert.equal(res.headers['x-fc-error-type'], undefined);
  });

  test(`${rt.runtime}: the initializer runs once per instance`, async () => {
    const fn = await deploy(name, rt.counter);
    assert.equal((await client.invokeFunction(svc, fn, rt.countEvent)).data, '2');
    assert.equal((await client.invokeFunction(svc, fn, rt.countEvent)).data, '3');
  });

  test(`${rt.runtime}: a function error comes back in FC's shape, and the next call succeeds`, async () => {
    const fn = await deploy(name, { handler: rt.fail.handler });
    const res = await client.invokeFunction(svc, fn, rt.fail.event);
    assert.equal(res.headers['x-fc-error-type'], 'UnhandledInvocationError');
    assert.match(res.headers['content-type'], /^application\/json/);
    assert.equal(typeof res.data, 'object', 'the SDK parses the error JSON');
    rt.checkError(res.data);
    if (rt.fail.handler === rt.echo.handler) {
      assert.equal((await client.invokeFunction(svc, fn, 'still up')).data, 'still up');
    }
  });

  test(`${rt.runtime}: X-Fc-Log-Type Tail and an async invocation's log`, async () => {
    const fn = await deploy(name, { handler: rt.log.handler });
    let res = await client.invokeFunction(svc, fn, rt.log.event('tailme'), { 'x-fc-log-type': 'Tail' });
    assert.equal(res.data, 'logged');
    rt.checkLog(tailLines(res), res.headers['x-fc-request-id'], 'tailme');

    res = await client.invokeFunction(svc, fn, rt.log.event('asyncme'), { 'x-fc-invocation-type': 'Async' });
    const rid = res.headers['x-fc-request-id'];
    assert.match(rid, UUID_RE);
    assert.equal(res.data, '');
    const text = await fetchLogs(rid, `FC Invoke End RequestId: ${rid}`);
    assert.ok(text.includes(`FC Invoke End RequestId: ${rid}`), text);
    assert.ok(text.includes('asyncme'), text);
  });

  test(`${rt.runtime}: an HTTP trigger reaches the handler through client.post on /proxy`, async () => {
    const fn = await deploy(name, { handler: rt.http.handler });
    await client.createTrigger(svc, fn, {
      triggerName: 'http', triggerType: 'http', triggerConfig: { authType: 'function', methods: ['GET', 'POST'] },
    });
    const resp = await client.post(`/proxy/${svc}/${fn}${rt.http.path}`, 'posted', { foo: 'Bar' }, { a: '1' });
    assert.equal(resp.headers[rt.http.header], 'yes');
    const want = name === 'custom'
      ? `POST /2016-08-15/proxy/${svc}/${fn}${rt.http.path}?a=1 foo=Bar body=posted`
      : `POST ${rt.http.path} a=1 foo=Bar body=posted`;
    assert.equal(resp.data, want);
  });
}
