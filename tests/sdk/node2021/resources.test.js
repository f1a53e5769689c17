'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { FC, makeClient, uniq, zipB64, NODE_ECHO, fcError, withFunction } = require('./helpers');

const client = makeClient();

test('services: create, get, update, list, delete', async () => {
  const name = uniq('svc21s');
  const made = await client.createService(new FC.CreateServiceRequest({ serviceName: name, description: 'd' }));
  assert.equal(made.statusCode, 200);
  assert.equal(made.body.serviceName, name);
  assert.equal((await client.getService(name, new FC.GetServiceRequest({}))).body.description, 'd');
  const upd = await client.updateService(name, new FC.UpdateServiceRequest({ description: 'e' }));
  assert.equal(upd.body.description, 'e');
  const list = await client.listServices(new FC.ListServicesRequest({ prefix: name, limit: 10 }));
  assert.deepEqual(list.body.services.map((s) => s.serviceName), [name]);
  await fcError(client.createService(new FC.CreateServiceRequest({ serviceName: name })), 'ServiceAlreadyExists', 409);
  await client.deleteService(name);
  await fcError(client.getService(name, new FC.GetServiceRequest({})), 'ServiceNotFound', 404);
});

test('functions: create with zip, get, code, update, list, delete', async () => {
  await withFunction(client, async (service, fn) => {
    const got = await client.getFunction(service, fn, new FC.GetFunctionRequest({}));
    assert.equal(got.body.runtime, 'nodejs18');
    const code = await client.getFunctionCode(service, fn, new FC.GetFunctionCodeRequest({}));
    assert.equal(code.body.checksum, got.body.codeChecksum);
    const upd = await client.updateFunction(service, fn, new FC.UpdateFunctionRequest({
      description: 'two', code: new FC.Code({ zipFile: zipB64('index.js', NODE_ECHO + '// v2\n') }),
    }));
    assert.equal(upd.body.description, 'two');
    assert.notEqual(upd.body.codeChecksum, got.body.codeChecksum);
    const list = await client.listFunctions(service, new FC.ListFunctionsRequest({}));
    assert.deepEqual(list.body.functions.map((f) => f.functionName), [fn]);
    await fcError(client.getFunction(service, fn + 'x', new FC.GetFunctionRequest({})), 'FunctionNotFound', 404);
  });
});

test('triggers: triggerConfig travels as JSON text', async () => {
  await withFunction(client, async (service, fn) => {
    const config = JSON.stringify({ cronExpression: '@every 60m', enable: false });
    const made = await client.createTrigger(service, fn, new FC.CreateTriggerRequest({
      triggerName: 'tick', triggerType: 'timer', triggerConfig: config,
    }));
    assert.equal(made.body.triggerName, 'tick');
    assert.deepEqual(JSON.parse(made.body.triggerConfig), { cronExpression: '@every 60m', enable: false });
    const upd = await client.updateTrigger(service, fn, 'tick', new FC.UpdateTriggerRequest({ description: 'x' }));
    assert.equal(upd.body.description, 'x');
    const list = await client.listTriggers(service, fn, new FC.ListTriggersRequest({}));
    assert.equal(typeof list.body.triggers[0].triggerConfig, 'string');
    await client.deleteTrigger(service, fn, 'tick');
    await fcError(client.getTrigger(service, fn, 'tick'), 'TriggerNotFound', 404);
  });
});

test('versions and aliases, invoked by qualifier', async () => {
  await withFunction(client, async (service, fn) => {
    const v1 = await client.publishServiceVersion(service, new FC.PublishServiceVersionRequest({ description: 'one' }));
    assert.equal(v1.body.versionId, '1');
    const alias = await client.createAlias(service, new FC.CreateAliasRequest({ aliasName: 'live', versionId: '1' }));
    assert.equal(alias.body.versionId, '1');
    assert.equal((await client.getAlias(service, 'live')).body.aliasName, 'live');
    const list = await client.listAliases(service, new FC.ListAliasesRequest({}));
    assert.deepEqual(list.body.aliases.map((a) => a.aliasName), ['live']);
    const out = await client.invokeFunction(service, fn, new FC.InvokeFunctionRequest({ body: Buffer.from('q'), qualifier: 'live' }));
    assert.equal(out.body.toString(), 'v1:q');
    assert.equal(out.headers['x-fc-invocation-service-version'], '1');
    const vs = await client.listServiceVersions(service, new FC.ListServiceVersionsRequest({}));
    assert.deepEqual(vs.body.versions.map((v) => v.versionId), ['1']);
    await client.updateAlias(service, 'live', new FC.UpdateAliasRequest({ description: 'moved' }));
    await client.deleteAlias(service, 'live');
    await client.deleteServiceVersion(service, '1');
    await fcError(client.getAlias(service, 'live'), 'AliasNotFound', 404);
  });
});

test('custom domains', async () => {
  await withFunction(client, async (service, fn) => {
    const domain = uniq('n').replace('_', '-') + '.example.test';
    const routes = [new FC.PathConfig({ path: '/*', serviceName: service, functionName: fn })];
    const made = await client.createCustomDomain(new FC.CreateCustomDomainRequest({
      domainName: domain, protocol: 'HTTP', routeConfig: new FC.RouteConfig({ routes }),
    }));
    assert.equal(made.body.domainName, domain);
    assert.equal((await client.getCustomDomain(domain)).body.routeConfig.routes[0].functionName, fn);
    await client.updateCustomDomain(domain, new FC.UpdateCustomDomainRequest({ protocol: 'HTTP' }));
    const list = await client.listCustomDomains(new FC.ListCustomDomainsRequest({ prefix: domain.slice(0, 8) }));
    assert.ok(list.body.customDomains.some((d) => d.domainName === domain));
    await client.deleteCustomDomain(domain);
    await fcError(client.getCustomDomain(domain), 'DomainNameNotFound', 404);
  });
});

test('tags, account settings, reserved capacities', async () => {
  await withFunction(client, async (service) => {
    const arn = `acs:fc:cn-local:${process.env.FC_ACCOUNT_ID}:services/${service}`;
    await client.tagResource(new FC.TagResourceRequest({ resourceArn: arn, tags: { a: '1', b: '2' } }));
    const tags = await client.getResourceTags(new FC.GetResourceTagsRequest({ resourceArn: arn }));
    assert.deepEqual(tags.body.tags, { a: '1', b: '2' });
    const listed = await client.listTaggedResources(new FC.ListTaggedResourcesRequest({ limit: 100 }));
    assert.ok(listed.body.resources.some((r) => r.resourceArn.endsWith(`:services/${service}`)));
    await client.untagResource(new FC.UntagResourceRequest({ resourceArn: arn, tagKeys: ['a'] }));
    assert.deepEqual((await client.getResourceTags(new FC.GetResourceTagsRequest({ resourceArn: arn }))).body.tags, { b: '2' });
  });
  const settings = await client.getAccountSettings();
  assert.equal(settings.statusCode, 200);
  const caps = await client.listReservedCapacities(new FC.ListReservedCapacitiesRequest({}));
  assert.equal(caps.statusCode, 200);
});

test('a wrong secret and an unknown key are refused', async () => {
  await fcError(makeClient(null, 'wrong').listServices(new FC.ListServicesRequest({})), 'SignatureNotMatch', 403);
  await fcError(makeClient('NOSUCHKEY').listServices(new FC.ListServicesRequest({})), 'InvalidAccessKeyID', 403);
});
