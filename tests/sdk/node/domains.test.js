'use strict';
// Custom domains, tags and account reads through the official Node SDK (@alicloud/fc2), after its own
// repository's client.test.js ('customDomain should be ok', tag and account-settings cases).

const { test, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');

const { client, otherClient, uniq, expectFcError, purgeService, REGION, ACCOUNT_ID } = require('./helpers');

const domainName = `sdk${crypto.randomBytes(5).toString('hex')}.${ACCOUNT_ID}.${REGION}.example.test`;
const services = [];
after(async () => {
  for (const s of services) await purgeService(client, s);
  try { await client.deleteCustomDomain(domainName); } catch (e) { /* gone */ }
});

test('custom domain CRUD', async () => {
  await expectFcError(client.getCustomDomain(domainName), { status: 404, code: 'DomainNameNotFound' });
  const created = await client.createCustomDomain(domainName);
  assert.equal(created.data.domainName, domainName);
  await expectFcError(client.createCustomDomain(domainName), { status: 409, code: 'DomainNameAlreadyExists' });
  await expectFcError(otherClient.getCustomDomain(domainName), { status: 404, code: 'DomainNameNotFound' });

  const listed = await client.listCustomDomains();
  assert.ok(listed.data.customDomains.some((d) => d.domainName === domainName));
  const routeConfig = { routes: [{ path: '/*', serviceName: 's', functionName: 'f', qualifier: null }] };
  const updated = await client.updateCustomDomain(domainName, { protocol: 'HTTP', routeConfig });
  assert.deepEqual(updated.data.routeConfig, routeConfig);
  const got = await client.getCustomDomain(domainName);
  assert.deepEqual(got.data.routeConfig, routeConfig);
  assert.ok(got.headers.etag);

  await client.deleteCustomDomain(domainName);
  await expectFcError(client.getCustomDomain(domainName), { status: 404, code: 'DomainNameNotFound' });
});

test('tags on a service', async () => {
  const name = uniq('tagnode');
  services.push(name);
  await client.createService(name);
  const resourceArn = `acs:fc:${REGION}:${ACCOUNT_ID}:services/${name}`;
  await client.tagResource(resourceArn, { a: '1', b: '2' });
  let tags = await client.getResourceTags({ resourceArn });
  assert.equal(tags.data.resourceArn, resourceArn);
  assert.deepEqual(tags.data.tags, { a: '1', b: '2' });
  await client.untagResource(resourceArn, ['a']);
  tags = await client.getResourceTags({ resourceArn });
  assert.deepEqual(tags.data.tags, { b: '2' });
  await client.untagResource(resourceArn, [], true);
  tags = await client.getResourceTags({ resourceArn });
  assert.deepEqual(tags.data.tags, {});
});

test('account settings, reserved capacities, and the cloud-only routes', async () => {
  const settings = await client.getAccountSettings();
  assert.equal(settings.data.availableAZs.length, 1);
  const rc = await client.listReservedCapacities({ limit: 5 });
  assert.deepEqual(rc.data.reservedCapacities, []);
  await expectFcError(client.getTempBucketToken(), { status: 400, code: 'PathNotSupported' });
  await expectFcError(client.getTempCodeBucketPermission('svc', 'f'), { status: 400, code: 'PathNotSupported' });
});

test('getAccountConfigs answers the code size limit publishLayerVersionForBigCode reads', async () => {
  const configs = await client.getAccountConfigs({ config: ['CodeSizeLimit'] });
  assert.equal(typeof configs.data.CodeSizeLimit, 'number');
  assert.ok(configs.data.CodeSizeLimit > 0);
  const all = await client.getAccountConfigs({});
  assert.equal(all.data.CodeSizeLimit, configs.data.CodeSizeLimit);
  await expectFcError(client.getAccountConfigs({ config: ['NoSuchConfig'] }), { status: 400, code: 'InvalidArgument' });
});
