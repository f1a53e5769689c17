'use strict';
// Functions and GetFunctionCode through the official Node SDK (@alicloud/fc2).

const { test, before, after } = require('node:test');
const assert = require('node:assert/strict');

const {
  client, uniq, crc64, makeZip, nodeZip, expectFcError, purgeService, createFunction, TIME_RE,
} = require('./helpers');

const svc = uniq('fnnode');
before(async () => {
  await client.createService(svc);
});
after(async () => {
  await purgeService(client, svc);
});

test('createFunction with code.zipFile: checksum, size and FC defaults', async () => {
  const name = uniq('fn');
  const code = nodeZip();
  const resp = await createFunction(svc, name, { description: 'function desc' }, code);
  assert.ok(resp.headers.etag, 'CreateFunction must send an ETag');
  const f = resp.data;
  assert.equal(f.functionName, name);
  assert.equal(f.runtime, 'nodejs20');
  assert.equal(f.handler, 'index.handler');
  assert.equal(f.description, 'function desc');
  assert.equal(f.codeSize, code.length);
  assert.equal(f.codeChecksum, crc64(code));
  assert.equal(f.memorySize, 128, 'FC default memorySize');
  assert.equal(f.timeout, 3, 'FC default timeout');
  assert.equal(f.instanceType, 'e1');
  assert.ok(f.functionId);
  assert.match(f.createdTime, TIME_RE);
  assert.match(f.lastModifiedTime, TIME_RE);
});

test('createFunction with initializer and explicit sizes', async () => {
  const name = uniq('counter');
  const f = (await createFunction(svc, name, {
    memorySize: 128, timeout: 10, initializer: 'index.initializer', initializationTimeout: 10,
    environmentVariables: { A: '1', B: 'two' },
  })).data;
  assert.equal(f.initializer, 'index.initializer');
  assert.equal(f.initializationTimeout, 10);
  assert.equal(f.timeout, 10);
  assert.deepEqual(f.environmentVariables, { A: '1', B: 'two' });

  // The SDK turns string numbers into integers before sending.
  const u = (await client.updateFunction(svc, name, {
    description: 'updated function desc', initializationTimeout: '20',
  })).data;
  assert.equal(u.description, 'updated function desc');
  assert.equal(u.initializationTimeout, 20);
  assert.equal(u.initializer, 'index.initializer');
  assert.deepEqual(u.environmentVariables, { A: '1', B: 'two' });
});

test('getFunction and listFunctions, with and without LATEST', async () => {
  const local = await client.createService(uniq('fnlist')).then((r) => r.data.serviceName);
  try {
    const names = [uniq('b_fn'), uniq('a_fn')];
    for (const n of names) {
      await client.createFunction(local, {
        functionName: n, handler: 'index.handler', runtime: 'nodejs20', code: { zipFile: nodeZip().toString('base64') },
      });
    }
    const sorted = [...names].sort();
    for (const resp of [await client.listFunctions(local), await client.listFunctions(local, {}, {}, 'LATEST')]) {
      assert.deepEqual(resp.data.functions.map((f) => f.functionName), sorted);
    }
    const got = await client.getFunction(local, names[0], {}, 'LATEST');
    assert.equal(got.data.functionName, names[0]);
    assert.equal(got.data.codeChecksum, crc64(nodeZip()));
    assert.equal((await client.getFunction(local, names[1])).data.functionName, names[1]);

    const page = (await client.listFunctions(local, { limit: 1 })).data;
    assert.equal(page.functions.length, 1);
    assert.ok(page.nextToken);
    const rest = (await client.listFunctions(local, { limit: 1, nextToken: page.nextToken })).data;
    assert.deepEqual(rest.functions.map((f) => f.functionName), [sorted[1]]);
    assert.ok(!('nextToken' in rest));
  } finally {
    await purgeService(client, local);
  }
});

test('getFunctionCode gives a URL that downloads the exact zip', async () => {
  const name = uniq('fncode');
  const code = makeZip({ 'index.js': "exports.handler = (e, c, cb) => cb(null, 'x');\n", 'data.bin': Buffer.alloc(4096, 7) });
  await createFunction(svc, name, {}, code);
  for (const resp of [await client.getFunctionCode(svc, name), await client.getFunctionCode(svc, name, {}, 'LATEST')]) {
    assert.ok(resp.data.url, 'url');
    assert.equal(resp.data.checksum, crc64(code));
    const dl = await fetch(resp.data.url);
    assert.equal(dl.status, 200);
    const body = Buffer.from(await dl.arrayBuffer());
    assert.ok(body.equals(code), 'downloaded bytes must equal the uploaded zip');
  }
});

test('updateFunction: partial merge, env clearing, runtime, code, ETag', async () => {
  const name = uniq('fnupd');
  const created = await createFunction(svc, name, { environmentVariables: { K: 'V' }, description: 'd1' });
  const etag0 = created.headers.etag;

  let u = await client.updateFunction(svc, name, { description: 'd2' });
  assert.ok(u.headers.etag && u.headers.etag !== etag0, 'ETag must change');
  assert.equal(u.data.description, 'd2');
  assert.deepEqual(u.data.environmentVariables, { K: 'V' });
  assert.equal(u.data.codeChecksum, created.data.codeChecksum);

  u = await client.updateFunction(svc, name, { environmentVariables: {} });
  assert.deepEqual(u.data.environmentVariables, {});

  const py = makeZip({ 'index.py': "def handler(event, context):\n    return 'py'\n" });
  u = await client.updateFunction(svc, name, { runtime: 'python3.9', code: { zipFile: py.toString('base64') } });
  assert.equal(u.data.runtime, 'python3.9');
  assert.equal(u.data.codeChecksum, crc64(py));
  assert.equal(u.data.codeSize, py.length);
  assert.equal(u.data.description, 'd2');

  await expectFcError(client.updateFunction(svc, name, { description: 'x' }, { 'if-match': etag0 }),
    { status: 412, code: 'PreconditionFailed' });
  const current = (await client.getFunction(svc, name)).headers.etag;
  u = await client.updateFunction(svc, name, { description: 'd3' }, { 'if-match': current });
  assert.equal(u.data.description, 'd3');
});

test('invalid runtime is 400 InvalidArgument "Runtime is set to an invalid value"', async () => {
  const name = uniq('fnbadrt');
  const { err } = await expectFcError(createFunction(svc, name, { runtime: 10 }),
    { status: 400, code: 'InvalidArgument', message: 'Runtime is set to an invalid value' });
  assert.ok(err.stack.includes('FCInvalidArgumentError'));
  await createFunction(svc, name);
  await expectFcError(client.updateFunction(svc, name, { description: 'x', runtime: 10 }),
    { status: 400, code: 'InvalidArgument', message: 'Runtime is set to an invalid value' });
  assert.equal((await client.getFunction(svc, name)).data.description, '');
});

test('OSS code is refused with 400', async () => {
  const name = uniq('fnoss');
  await expectFcError(client.createFunction(svc, {
    functionName: name, handler: 'index.handler', runtime: 'nodejs20',
    code: { ossBucketName: 'bucket', ossObjectName: 'code.zip' },
  }), { status: 400 });
  await expectFcError(client.getFunction(svc, name), { status: 404, code: 'FunctionNotFound' });
});

test('FunctionAlreadyExists, FunctionNotFound, FunctionNotEmpty', async () => {
  const name = uniq('fnerr');
  await createFunction(svc, name);
  await expectFcError(createFunction(svc, name), { status: 409, code: 'FunctionAlreadyExists' });

  const missing = uniq('fnmissing');
  await expectFcError(client.getFunction(svc, missing), { status: 404, code: 'FunctionNotFound', message: missing });
  await expectFcError(client.getFunctionCode(svc, missing), { status: 404, code: 'FunctionNotFound' });
  await expectFcError(client.updateFunction(svc, missing, { description: 'x' }), { status: 404, code: 'FunctionNotFound' });
  await expectFcError(client.deleteFunction(svc, missing), { status: 404, code: 'FunctionNotFound' });

  await client.createTrigger(svc, name, {
    triggerName: 't', triggerType: 'timer',
    triggerConfig: { payload: '', cronExpression: '@every 5m', enable: true },
  });
  await expectFcError(client.deleteFunction(svc, name), { status: 409, code: 'FunctionNotEmpty' });
  await client.deleteTrigger(svc, name, 't');
  // deleteFunction(service, function, query, headers): If-Match travels in the fourth argument.
  await expectFcError(client.deleteFunction(svc, name, {}, { 'if-match': 'stale' }),
    { status: 412, code: 'PreconditionFailed' });
  await client.deleteFunction(svc, name);
  await expectFcError(client.getFunction(svc, name), { status: 404, code: 'FunctionNotFound' });
});

test('withoutCodeLimit (upload through a temporary OSS bucket) fails fast with a 4xx', async () => {
  // The SDK first asks for a temporary bucket token; with no object storage here that must be a clean error.
  const { status } = await expectFcError(client.createFunction(svc, {
    functionName: uniq('fnbig'), handler: 'index.handler', runtime: 'nodejs20', withoutCodeLimit: true,
    code: { zipFile: '/nonexistent/code.zip' },
  }));
  assert.ok(status >= 400 && status < 500, `status ${status}`);
});
