'use strict';
const test = require('node:test');
const assert = require('node:assert/strict');
const { FC, Util, makeClient, fcError, withFunction } = require('./helpers');

const client = makeClient();

test('invoke sync with a log tail, and async', async () => {
  await withFunction(client, async (service, fn) => {
    const out = await client.invokeFunctionWithOptions(service, fn,
      new FC.InvokeFunctionRequest({ body: Buffer.from('hi') }),
      new FC.InvokeFunctionHeaders({ xFcLogType: 'Tail' }), new Util.RuntimeOptions({}));
    assert.equal(out.statusCode, 200);
    assert.equal(out.body.toString(), 'v1:hi');
    assert.ok(Buffer.from(out.headers['x-fc-log-result'], 'base64').toString().includes('FC Invoke End'));
    const later = await client.invokeFunctionWithOptions(service, fn,
      new FC.InvokeFunctionRequest({ body: Buffer.from('later') }),
      new FC.InvokeFunctionHeaders({ xFcInvocationType: 'Async' }), new Util.RuntimeOptions({}));
    assert.equal(later.statusCode, 202);
    await fcError(client.invokeFunction(service, fn + 'x', new FC.InvokeFunctionRequest({ body: Buffer.from('') })),
      'FunctionNotFound', 404);
  });
});

test('async invoke config', async () => {
  await withFunction(client, async (service, fn) => {
    const put = await client.putFunctionAsyncInvokeConfig(service, fn, new FC.PutFunctionAsyncInvokeConfigRequest({
      maxAsyncRetryAttempts: 2, maxAsyncEventAgeInSeconds: 600,
    }));
    assert.equal(put.body.maxAsyncRetryAttempts, 2);
    const got = await client.getFunctionAsyncInvokeConfig(service, fn, new FC.GetFunctionAsyncInvokeConfigRequest({}));
    assert.equal(got.body.maxAsyncEventAgeInSeconds, 600);
    const list = await client.listFunctionAsyncInvokeConfigs(service, fn, new FC.ListFunctionAsyncInvokeConfigsRequest({}));
    assert.equal(list.body.configs.length, 1);
    await client.deleteFunctionAsyncInvokeConfig(service, fn, new FC.DeleteFunctionAsyncInvokeConfigRequest({}));
    await fcError(client.getFunctionAsyncInvokeConfig(service, fn, new FC.GetFunctionAsyncInvokeConfigRequest({})),
      'AsyncConfigNotExists', 404);
  });
});
