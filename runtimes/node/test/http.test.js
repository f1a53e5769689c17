'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { Runtime } = require('./harness');

const source = `
const getRawBody = require('raw-body');
const http = require('http');
const { Readable } = require('stream');

// Like the official SDK's fixture: echo what came in, queries become response headers, 202.
exports.echo = function (request, response, context) {
  getRawBody(request, function (err, body) {
    if (err) throw err;
    for (const key in request.queries) response.setHeader(key, request.queries[key]);
    response.setHeader('content-type', 'application/json');
    response.setStatusCode(202);
    response.send(JSON.stringify({
      method: request.method, path: request.path, url: request.url, clientIP: request.clientIP,
      headers: request.headers, queries: request.queries, body: body.toString(),
      getHeader: request.getHeader('X-Custom'), isIncoming: request instanceof http.IncomingMessage,
      bodyProp: Buffer.isBuffer(request.body) ? request.body.toString() : null,
      requestId: context.requestId,
    }));
  });
};

exports.events = (request, response) => {
  const chunks = [];
  request.on('data', (c) => chunks.push(c));
  request.on('end', () => response.send(Buffer.concat(chunks)));
};

exports.promise = async (request, response) => {
  const body = await getRawBody(request, { encoding: true, limit: '1kb' });
  response.send('got ' + body);
};

exports.stream = (request, response) => {
  response.setHeader('x-multi', ['a', 'b']);
  response.send(Readable.from([Buffer.from('part1,'), 'part2']));
};

exports.defaults = (request, response) => response.send();

exports.headerOps = (request, response) => {
  response.setHeader('X-Remove', 'gone');
  response.setHeader('Content-Length', 5);
  const had = response.hasHeader('x-remove');
  response.deleteHeader('x-REMOVE');
  let err = '';
  try { response.setHeader('bad', 'a\\r\\nb'); } catch (e) { err = e.constructor.name; }
  response.setHeader('x-results', [String(had), String(response.hasHeader('x-remove')), err]);
  response.send(Buffer.from('bytes'));
  try { response.send('again'); } catch (e) { console.log('second send: ' + e.message); }
};

exports.throws = (request, response, context) => { context.toSting(); };
exports.rejects = async (request, response) => { throw new Error('async http failure'); };
exports.throwsAfterSend = (request, response) => { response.send('sent'); throw new Error('too late'); };
exports.brokenStream = (request, response) => {
  const s = new Readable({ read() { this.destroy(new Error('stream broke')); } });
  response.send(s);
};
`;

const httpParams = {
  method: 'POST',
  path: '/sub/path with space',
  requestURI: '/2016-08-15/proxy/s/f/sub/path%20with%20space?a=1&x=awsome&x=2',
  clientIP: '10.0.0.7',
  host: '127.0.0.1:8080',
  headers: {
    'content-type': ['text/plain'],
    'x-custom': ['a', 'b'],
    'set-cookie': ['c=1'],
    'user-agent': ['first', 'second'],
  },
  queries: { a: ['1'], x: ['awsome', '2'] },
};

async function start(handler) {
  return Runtime.start({ handler: `index.${handler}`, files: { 'index.js': source } });
}

test('HTTP handler: method, path, url, clientIP, headers, queries, body in; status, headers, body out', async () => {
  const rt = await start('echo');
  const r = await rt.invoke('the body', { http: httpParams, requestId: 'http-rid' });
  assert.equal(r.type, 'result');
  assert.deepEqual(r.header.http, {
    status: 202,
    headers: { a: ['1'], x: ['awsome', '2'], 'content-type': ['application/json'] },
  });
  const out = JSON.parse(r.text);
  assert.equal(out.method, 'POST');
  assert.equal(out.path, '/sub/path with space');
  assert.equal(out.url, httpParams.requestURI);
  assert.equal(out.clientIP, '10.0.0.7');
  assert.deepEqual(out.headers, {
    'content-type': 'text/plain', 'x-custom': 'a, b', 'set-cookie': ['c=1'], 'user-agent': 'first', host: '127.0.0.1:8080',
  });
  assert.equal(out.getHeader, 'a, b');
  assert.deepEqual(out.queries, { a: '1', x: ['awsome', '2'] });
  assert.equal(out.body, 'the body');
  assert.equal(out.bodyProp, 'the body');
  assert.equal(out.isIncoming, true);
  assert.equal(out.requestId, 'http-rid');
  await rt.close();
});

test('HTTP request is a readable stream (data/end), binary-safe', async () => {
  const rt = await start('events');
  const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => 255 - i));
  const r = await rt.invoke(bytes, { http: { ...httpParams, headers: {}, queries: {} } });
  assert.ok(r.body.equals(bytes));
  assert.deepEqual(r.header.http, { status: 200, headers: {} });
  // An empty body ends the stream at once.
  const empty = await rt.invoke('', { http: { ...httpParams, method: 'GET' } });
  assert.equal(empty.body.length, 0);
  await rt.close();
});

test('raw-body with the promise API, encoding and limit inside an async handler', async () => {
  const rt = await start('promise');
  assert.equal((await rt.invoke('small', { http: httpParams })).text, 'got small');
  const tooBig = await rt.invoke(Buffer.alloc(2048, 97), { http: httpParams });
  assert.equal(tooBig.type, 'error');
  assert.equal(tooBig.header.errorType, 'UnhandledInvocationError');
  assert.equal(tooBig.json.errorMessage, 'request entity too large');
  assert.equal(tooBig.json.errorType, 'PayloadTooLargeError');
  await rt.close();
});

test('send(Readable) is read to its end; header arrays are kept', async () => {
  const rt = await start('stream');
  const r = await rt.invoke('', { http: httpParams });
  assert.equal(r.text, 'part1,part2');
  assert.deepEqual(r.header.http, { status: 200, headers: { 'x-multi': ['a', 'b'] } });
  await rt.close();
});

test('send() with nothing: 200, no headers, empty body', async () => {
  const rt = await start('defaults');
  const r = await rt.invoke('', { http: httpParams });
  assert.equal(r.type, 'result');
  assert.deepEqual(r.header.http, { status: 200, headers: {} });
  assert.equal(r.body.length, 0);
  await rt.close();
});

test('setHeader / hasHeader / deleteHeader are case-insensitive; bad values throw; a second send throws', async () => {
  const rt = await start('headerOps');
  const r = await rt.invoke('', { http: httpParams });
  assert.equal(r.text, 'bytes');
  assert.deepEqual(r.header.http.headers, { 'content-length': ['5'], 'x-results': ['true', 'false', 'TypeError'] });
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(rt.logs.get(r.requestId).some((l) => l.includes('second send: can not send multi times')));
  await rt.close();
});

test('HTTP handler failures are error frames: throw, rejection, broken stream', async () => {
  for (const [h, message] of [
    ['throws', 'context.toSting is not a function'],
    ['rejects', 'async http failure'],
    ['brokenStream', 'stream broke'],
  ]) {
    const rt = await start(h);
    const r = await rt.invoke('', { http: httpParams });
    assert.equal(r.type, 'error', h);
    assert.equal(r.header.errorType, 'UnhandledInvocationError');
    assert.equal(r.json.errorMessage, message);
    await rt.close();
  }
});

test('a throw after send() does not change the answer; it is logged', async () => {
  const rt = await start('throwsAfterSend');
  const r = await rt.invoke('', { http: httpParams });
  assert.equal(r.type, 'result');
  assert.equal(r.text, 'sent');
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.ok(rt.logs.get(r.requestId).some((l) => l.includes('[error] Uncaught Error: too late')));
  await rt.close();
});

test('event invokes and HTTP invokes can share one instance', async () => {
  const rt = await Runtime.start({
    files: {
      'index.js': `exports.handler = (a, b, c) => {
        if (typeof b.send === 'function') b.send('http ' + a.method); else c(null, 'event ' + a);
      };\n`,
    },
  });
  assert.equal((await rt.invoke('e')).text, 'event e');
  assert.equal((await rt.invoke('', { http: httpParams })).text, 'http POST');
  await rt.close();
});
