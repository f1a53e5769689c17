"""The php7.2 runtime through the official Python SDK (`invoke_function`): results byte for byte, FC's context,
the initializer once per instance, FC's error JSON, timeouts, crashes, log tails and async invocations, with
the function code in tests/sdk/fixtures/php."""

import base64
import json
import re

import fc2
import pytest

from fcutil import LOG_TIME, UUID_RE, fetch_logs, function_error

PHP = "php7.2"


def test_php_echoes_bytes_and_passes_fc_context(client, svc, deploy, account_id):
    fn = deploy("php", "main.echo_event", runtime=PHP)
    payload = b"hello \x00\xff binary\r\n" + bytes(range(256))
    assert client.invoke_function(svc, fn, payload=payload).data == payload

    fn = deploy("php", "main.context", runtime=PHP, memorySize=256, timeout=7)
    r = client.invoke_function(svc, fn)
    got = json.loads(r.data)
    assert got["requestId"] == r.headers["x-fc-request-id"]
    assert got["function"]["name"] == fn and got["function"]["handler"] == "main.context"
    assert (got["function"]["memory"], got["function"]["timeout"]) == (256, 7)
    assert (got["service"], got["accountId"], got["env"]) == (svc, account_id, fn)


def test_php_initializer_runs_once_per_instance(client, svc, deploy):
    fn = deploy("php", "main.counter", initializer="main.initializer", runtime=PHP)
    assert client.invoke_function(svc, fn).data == b"2"
    assert client.invoke_function(svc, fn).data == b"3"


def test_php_exception_timeout_and_exit_map_to_fc_errors(client, svc, deploy):
    fn = deploy("php", "main.fail", runtime=PHP)
    with pytest.raises(fc2.FcError) as info:
        client.invoke_function(svc, fn)
    body = function_error(info)
    assert (body["errorMessage"], body["errorType"]) == ("php failed", "DomainException")
    assert isinstance(body["stackTrace"], list) and body["stackTrace"]

    fn = deploy("php", "main.slow", runtime=PHP, timeout=1)
    with pytest.raises(fc2.FcError) as info:
        client.invoke_function(svc, fn)
    assert function_error(info)["errorMessage"].startswith("Function timed out after 1 seconds")

    fn = deploy("php", "main.quit", runtime=PHP)
    with pytest.raises(fc2.FcError) as info:
        client.invoke_function(svc, fn)
    assert function_error(info)["errorMessage"].startswith("Process exited unexpectedly before completing request")


def test_php_log_tail_and_async(client, svc, deploy):
    fn = deploy("php", "main.log_event", runtime=PHP)
    r = client.invoke_function(svc, fn, payload=b"tail me", headers={"x-fc-log-type": "Tail"})
    assert r.data == b"logged"
    rid = r.headers["x-fc-request-id"]
    lines = base64.b64decode(r.headers["x-fc-log-result"]).decode().rstrip("\n").split("\n")
    if lines[-1].startswith("FC Cold Start RequestId: " + rid):
        lines.pop()  # the cold call's companion line after FC Invoke End
    assert lines[0] == "FC Invoke Start RequestId: " + rid and lines[-1] == "FC Invoke End RequestId: " + rid
    assert any(re.fullmatch(r"{0} {1} \[INFO\] event: tail me".format(LOG_TIME, rid), line) for line in lines), lines
    assert "printed: tail me" in lines, lines

    r = client.invoke_function(svc, fn, payload=b"async event", headers={"x-fc-invocation-type": "Async"})
    rid = r.headers["x-fc-request-id"]
    assert r.data == b"" and UUID_RE.match(rid)
    records = fetch_logs(client, rid, until="FC Invoke End RequestId: " + rid)
    assert "event: async event" in "".join(rec["content"] for rec in records), records
