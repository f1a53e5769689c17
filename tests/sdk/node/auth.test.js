'use strict';
// Authentication and account isolation as the Node SDK meets them. The Node SDK always sends (and signs)
// x-fc-account-id, a Host without the port and a base64(hex md5) Content-MD5.

const { test, after } = require('node:test');
const assert = require('node:assert/strict');

const {
  client, otherClient, makeClient, uniq, expectFcError, purgeService, createFunction,
  ACCOUNT_ID, OTHER_ACCOUNT_ID,
} = require('./helpers');

const cleanups = [];
after(async () => {
  for (const [c, name] of cleanups) await purgeService(c, name);
});

test('an unknown access key is 403 InvalidAccessKeyID', async () => {
  const bad = makeClient(ACCOUNT_ID, 'invalidAccessKeyID', 'invalidAccessKeySecret');
  const { err } = await expectFcError(bad.listServices(), { status: 403, code: 'InvalidAccessKeyID' });
  assert.match(err.message,
    /GET \/services failed with 403\. requestid: .{36}, message: invalid access key ID 'invalidAccessKeyID'\./);
});

test('a wrong secret is 403 SignatureNotMatch', async () => {
  const bad = makeClient(ACCOUNT_ID, process.env.FC_ACCESS_KEY_ID, 'invalidAccessKeySecret');
  const { err } = await expectFcError(bad.listServices(), { status: 403, code: 'SignatureNotMatch' });
  assert.match(err.message,
    /GET \/services failed with 403\. requestid: .{36}, message: The request signature we calculated does not match the signature you provided\./);
  await expectFcError(bad.createService(uniq('nope')), { status: 403, code: 'SignatureNotMatch' });
});

test('an x-fc-account-id that is not the key\'s account is refused with 403', async () => {
  const wrong = makeClient('9999999999999999', process.env.FC_ACCESS_KEY_ID, process.env.FC_ACCESS_KEY_SECRET);
  // 403 AccessDenied is the wire contract's recommendation (real FC's exact code is unverified).
  await expectFcError(wrong.listServices(), { status: 403, code: 'AccessDenied' });
  await expectFcError(wrong.createService(uniq('wrongacct')), { status: 403, code: 'AccessDenied' });
  // The other account's id with this account's key: also refused.
  const crossed = makeClient(OTHER_ACCOUNT_ID, process.env.FC_ACCESS_KEY_ID, process.env.FC_ACCESS_KEY_SECRET);
  await expectFcError(crossed.listServices(), { status: 403, code: 'AccessDenied' });
});

test('extra headers from the constructor are signed and accepted', async () => {
  const c = makeClient(ACCOUNT_ID, process.env.FC_ACCESS_KEY_ID, process.env.FC_ACCESS_KEY_SECRET, {
    headers: { 'custom-header-in-constructor': 'abcd', 'x-fc-trace-id': 'node-trace-1' },
  });
  const { data } = await c.listServices({ limit: 1 });
  assert.ok(Array.isArray(data.services));
});

test('another account cannot see or change this account\'s service', async () => {
  const svc = uniq('isonode');
  cleanups.push([client, svc]);
  await client.createService(svc, { description: 'mine' });
  const fn = uniq('fn');
  await createFunction(svc, fn);

  await expectFcError(otherClient.getService(svc), { status: 404, code: 'ServiceNotFound' });
  await expectFcError(otherClient.updateService(svc, { description: 'hijack' }), { status: 404, code: 'ServiceNotFound' });
  await expectFcError(otherClient.deleteService(svc), { status: 404, code: 'ServiceNotFound' });
  await expectFcError(otherClient.getFunction(svc, fn), { status: 404, code: 'ServiceNotFound' });
  await expectFcError(otherClient.getFunctionCode(svc, fn), { status: 404, code: 'ServiceNotFound' });
  await expectFcError(otherClient.deleteFunction(svc, fn), { status: 404, code: 'ServiceNotFound' });
  const listed = (await otherClient.listServices({ prefix: svc })).data.services;
  assert.deepEqual(listed, []);

  assert.equal((await client.getService(svc)).data.description, 'mine');
  assert.equal((await client.getFunction(svc, fn)).data.functionName, fn);
});

test('both accounts can own a service of the same name', async () => {
  const name = uniq('sharednode');
  cleanups.push([client, name], [otherClient, name]);
  const a = (await client.createService(name, { description: 'mine' })).data;
  const b = (await otherClient.createService(name, { description: 'theirs' })).data;
  assert.notEqual(a.serviceId, b.serviceId);
  assert.equal((await client.getService(name)).data.description, 'mine');
  assert.equal((await otherClient.getService(name)).data.description, 'theirs');
  await otherClient.deleteService(name);
  assert.equal((await client.getService(name)).data.description, 'mine');
});
