"""InvokeFunction, async-invoke-config and stateful async invocations through the 2021 SDK."""

import base64
import time

from alibabacloud_fc_open20210406 import models

from conftest import fc_error, runtime, uniq


def test_invoke_sync_with_log_tail(client, function):
    service, fn = function
    out = client.invoke_function_with_options(
        service, fn, models.InvokeFunctionRequest(body=b"hello"),
        models.InvokeFunctionHeaders(x_fc_log_type="Tail"), runtime())
    assert out.status_code == 200 and out.body == b"v1:hello"
    assert out.headers.get("x-fc-request-id")
    log = base64.b64decode(out.headers["x-fc-log-result"]).decode()
    assert "log line from " + fn in log


def test_invoke_async(client, function):
    service, fn = function
    out = client.invoke_function_with_options(
        service, fn, models.InvokeFunctionRequest(body=b"later"),
        models.InvokeFunctionHeaders(x_fc_invocation_type="Async"), runtime())
    assert out.status_code == 202 and out.headers.get("x-fc-request-id")


def test_async_invoke_config_and_stateful_invocations(client, function):
    service, fn = function
    put = client.put_function_async_invoke_config(service, fn, models.PutFunctionAsyncInvokeConfigRequest(
        max_async_retry_attempts=1, max_async_event_age_in_seconds=300, stateful_invocation=True)).body
    assert put.max_async_retry_attempts == 1 and put.stateful_invocation is True
    got = client.get_function_async_invoke_config(service, fn, models.GetFunctionAsyncInvokeConfigRequest()).body
    assert got.max_async_event_age_in_seconds == 300
    configs = client.list_function_async_invoke_configs(
        service, fn, models.ListFunctionAsyncInvokeConfigsRequest()).body.configs
    assert len(configs) == 1

    job = uniq("job")
    out = client.invoke_function_with_options(
        service, fn, models.InvokeFunctionRequest(body=b"job"),
        models.InvokeFunctionHeaders(x_fc_invocation_type="Async", x_fc_stateful_async_invocation_id=job),
        runtime())
    assert out.status_code == 202
    deadline = time.time() + 30
    while True:
        inv = client.get_stateful_async_invocation(
            service, fn, job, models.GetStatefulAsyncInvocationRequest()).body
        if inv.status == "Succeeded" or time.time() > deadline:
            break
        time.sleep(0.2)
    assert inv.status == "Succeeded", inv.to_map()
    listed = client.list_stateful_async_invocations(
        service, fn, models.ListStatefulAsyncInvocationsRequest(include_payload=True)).body.invocations
    assert [i.invocation_id for i in listed] == [job]
    with fc_error("StatefulAsyncInvocationNotFound", 404):
        client.get_stateful_async_invocation(service, fn, "job-404", models.GetStatefulAsyncInvocationRequest())

    client.delete_function_async_invoke_config(service, fn, models.DeleteFunctionAsyncInvokeConfigRequest())
    with fc_error("AsyncConfigNotExists", 404):
        client.get_function_async_invoke_config(service, fn, models.GetFunctionAsyncInvokeConfigRequest())


def test_invoke_errors_have_the_2021_shape(client, function):
    service, fn = function
    with fc_error("FunctionNotFound", 404):
        client.invoke_function(service, fn + "x", models.InvokeFunctionRequest(body=b""))
    with fc_error("ServiceNotFound", 404):
        client.invoke_function(service + "x", fn, models.InvokeFunctionRequest(body=b""))
