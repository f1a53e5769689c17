'use strict';
// HTTP triggers through the official Node SDK: client.get/post/put on '/proxy/<svc>/<fn>/<path>' (the SDK signs the
// query for proxy paths), against a handler that reads the body with require('raw-body'). Mirrors
// fc-nodejs-sdk test/client.test.js ('http trigger should be ok') and its figures/main.js http_handler.

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const {
  client, makeClient, uniq, expectFcError, parseError, purgeService, createFunction, fixtureZip,
  ENDPOINT, ACCOUNT_ID, UUID_RE,
} = require('./helpers');

const svc = uniq('httpnode');
const echoFn = uniq('echo'); // main.httpEcho behind authType=function, GET/POST
const anonFn = uniq('anon'); // main.httpEcho behind authType=anonymous, GET/POST
const throwFn = uniq('throw'); // main.httpThrow, anonymous
const exitFn = uniq('exit'); // main.httpExit, anonymous
const CRASH_PREFIX = 'Process exited unexpectedly before completing request';

// The SDK's own http test builds its client with constructor headers and checks the function sees them.
const hclient = makeClient(ACCOUNT_ID, process.env.FC_ACCESS_KEY_ID, process.env.FC_ACCESS_KEY_SECRET, {
  headers: { 'custom-header-in-constructor': 'abcd' },
});

async function deployHttp(name, handler, authType, methods) {
  await createFunction(svc, name, { handler }, fixtureZip('node'));
  const trigger = await client.createTrigger(svc, name, {
    triggerName: 'http-trigger', triggerType: 'http', triggerConfig: { authType, methods },
  });
  assert.equal(trigger.data.triggerName, 'http-trigger');
}

before(async () => {
  await client.createService(svc);
  await deployHttp(echoFn, 'main.httpEcho', 'function', ['GET', 'POST']);
  await deployHttp(anonFn, 'main.httpEcho', 'anonymous', ['GET', 'POST']);
  await deployHttp(throwFn, 'main.httpThrow', 'anonymous', ['GET', 'POST']);
  await deployHttp(exitFn, 'main.httpExit', 'anonymous', ['GET', 'POST']);
});
after(async () => {
  await purgeService(client, svc);
});

test('signed GET: queries (spaces, repeated keys) and headers reach the handler; its headers come back', async () => {
  const path = `/proxy/${svc}/${echoFn}/action`;
  const queries = { x: 'awsome', y: 'serverless', 'key with space': 'value with space', multi: ['2', '1'] };
  const resp = await hclient.get(path, queries, { 'custom-header': 'abc' });
  // The handler copies each query into a response header.
  assert.equal(resp.headers.x, 'awsome');
  assert.equal(resp.headers.y, 'serverless');
  assert.equal(resp.headers.multi, '2, 1');
  assert.match(resp.headers['x-fc-request-id'], UUID_RE);
  assert.equal(typeof resp.data, 'string', 'the handler sends JSON text without a JSON Content-Type');
  const body = JSON.parse(resp.data);
  assert.equal(body.method, 'GET');
  assert.equal(body.path, '/action');
  assert.equal(body.headers['custom-header'], 'abc');
  assert.equal(body.headers['custom-header-in-constructor'], 'abcd');
  assert.deepEqual(body.queries, { x: 'awsome', y: 'serverless', 'key with space': 'value with space', multi: ['2', '1'] });
  assert.ok(body.url.startsWith(`/2016-08-15/proxy/${svc}/${echoFn}/action?`), body.url);
  assert.equal(body.clientIP, '127.0.0.1');
  assert.equal(body.body, '');
  assert.equal(body.requestId, resp.headers['x-fc-request-id'], 'context.requestId must equal X-Fc-Request-Id');
});

test('a Content-Type set by the handler is the one the client sees (the SDK then parses JSON)', async () => {
  // httpEcho copies queries into response headers, so this query makes it answer application/json.
  const resp = await hclient.get(`/proxy/${svc}/${echoFn}/json`, { 'content-type': 'application/json' });
  assert.equal(resp.headers['content-type'], 'application/json');
  assert.equal(typeof resp.data, 'object', `not parsed as JSON: content-type ${resp.headers['content-type']}`);
  assert.equal(resp.data.path, '/json');
});

test('signed GET with no queries and no headers', async () => {
  const resp = await hclient.get(`/proxy/${svc}/${echoFn}/`);
  const body = JSON.parse(resp.data);
  assert.equal(body.method, 'GET');
  assert.equal(body.path, '/');
  assert.deepEqual(body.queries, {});
});

test('signed POST: the body reaches raw-body byte for byte (string and Buffer), with queries', async () => {
  const path = `/proxy/${svc}/${echoFn}/upload`;
  let resp = await hclient.post(path, 'hello raw-body', { 'x-custom': 'yes' }, { q: 'a b' });
  let body = JSON.parse(resp.data);
  assert.equal(body.method, 'POST');
  assert.equal(body.path, '/upload');
  assert.equal(body.body, 'hello raw-body');
  assert.equal(body.headers['x-custom'], 'yes');
  assert.equal(body.headers['content-type'], 'application/octet-stream');
  assert.deepEqual(body.queries, { q: 'a b' });

  const bytes = Buffer.from([0, 1, 2, 0xff, 0xfe, 0x80, 0x0d, 0x0a]);
  resp = await hclient.post(path, bytes);
  body = JSON.parse(resp.data);
  assert.deepEqual(Buffer.from(body.bodyBase64, 'base64'), bytes);
});

test('authType function: wrong secret → 403 SignatureNotMatch, unsigned → 403, method not allowed → 405', async () => {
  const path = `/proxy/${svc}/${echoFn}/action`;
  const bad = makeClient(ACCOUNT_ID, process.env.FC_ACCESS_KEY_ID, 'not-the-secret');
  await expectFcError(bad.get(path, { a: '1' }), { status: 403, code: 'SignatureNotMatch' });

  const unsigned = await fetch(`${ENDPOINT}/2016-08-15${path}`);
  assert.equal(unsigned.status, 403);
  assert.match(unsigned.headers.get('content-type'), /^application\/json/);
  assert.ok((await unsigned.json()).ErrorCode);

  await expectFcError(hclient.put(path, 'x'), { status: 405 });
  await expectFcError(hclient.delete(path), { status: 405 });
});

test('anonymous trigger: a plain request gets the handler status, headers and body', async () => {
  const resp = await fetch(`${ENDPOINT}/2016-08-15/proxy/${svc}/${anonFn}/plain?x=1`, {
    method: 'POST', body: 'no signature', headers: { 'content-type': 'text/plain' },
  });
  assert.equal(resp.status, 202, 'response.setStatusCode(202) must reach the client');
  assert.equal(resp.headers.get('x'), '1');
  const body = JSON.parse(await resp.text());
  assert.equal(body.body, 'no signature');
  assert.equal(body.headers['content-type'], 'text/plain');
  assert.equal(body.headers.authorization, undefined);
  // The SDK's signed request is fine on an anonymous trigger too.
  const viaSdk = await client.get(`/proxy/${svc}/${anonFn}/sdk`);
  assert.equal(JSON.parse(viaSdk.data).path, '/sdk');
});

test('HTTP handler that throws → 502, errorMessage, X-Fc-Error-Type, no ErrorCode', async () => {
  let err;
  try {
    await client.get(`/proxy/${svc}/${throwFn}/action`);
  } catch (e) {
    err = e;
  }
  assert.ok(err, 'a failing HTTP handler must not answer 2xx');
  const parsed = parseError(err);
  assert.equal(parsed.status, 502);
  assert.equal(err.name, 'FCundefinedError');
  assert.match(parsed.requestId, UUID_RE);
  assert.equal(parsed.message, 'context.toSting is not a function');

  const raw = await fetch(`${ENDPOINT}/2016-08-15/proxy/${svc}/${throwFn}/action`);
  assert.equal(raw.status, 502);
  assert.equal(raw.headers.get('x-fc-error-type'), 'UnhandledInvocationError');
  const body = await raw.json();
  assert.equal(body.errorType, 'TypeError');
  assert.equal(body.ErrorCode, undefined);
});

test('HTTP handler that exits → 502 "Process exited unexpectedly" (the SDK suite\'s check)', async () => {
  for (let i = 0; i < 2; i++) { // a fresh instance each time
    let err;
    try {
      await client.get(`/proxy/${svc}/${exitFn}/action`);
    } catch (e) {
      err = e;
    }
    assert.ok(err, 'a crashing HTTP handler must not answer 2xx');
    assert.equal(err.name, 'FCundefinedError');
    assert.match(err.message,
      /GET .* failed with 502\. requestid: .{36}, message: Process exited unexpectedly before completing request.*/);
    assert.ok(parseError(err).message.startsWith(CRASH_PREFIX));
  }
});
