"""InvokeFunction through the Python SDK (`invoke_function`): results, function errors, initializers, timeouts,
crashes, log tails, async invocations and code updates — each against a Python and a Node function built from
tests/sdk/fixtures. Mirrors fc-python-sdk test/function_test.py (test_invoke, test_initialize, test_fc_error_code)
and adds what FC code relies on (§8, §10, §15 of the wire contract)."""

import base64
import io
import json
import re
import time

import fc2
import pytest

from fcutil import (LOG_TIME, RUNTIMES, TIME_RE, UUID_RE, check_request_id, fetch_logs, fixture_zip, function_error,
                    invoke_raw, raises_fc, signed, uniq, write_zip)

LANGS = ["python", "node"]

CRASH_RE = re.compile(r"^Process exited unexpectedly before completing request "
                      r"\(duration: \d+ms, maxMemoryUsage: \d+(\.\d+)?MB\)$")


def decode_tail(resp):
    assert "x-fc-log-result" in resp.headers, "X-Fc-Log-Type: Tail must answer X-Fc-Log-Result: {0}".format(
        dict(resp.headers))
    tail = base64.b64decode(resp.headers["x-fc-log-result"])
    # A cold call ends with Ferric's companion line after FC Invoke End; the framing checks read the log
    # without it (tests/testkit cold_start checks the line itself).
    lines = tail.split(b"\n")
    if len(lines) >= 2 and lines[-1] == b"" and lines[-2].startswith(b"FC Cold Start RequestId: "):
        assert lines[-2].endswith(b" ms"), tail
        assert "x-fc-init-duration" in resp.headers, dict(resp.headers)
        tail = b"\n".join(lines[:-2]) + b"\n"
    return tail


# ------------------------------------------------------------------ results

@pytest.mark.parametrize("lang", LANGS)
def test_invoke_echoes_payload_bytes(client, svc, deploy, lang):
    fn = deploy(lang, "main.echo")
    payload = b"hello \x00\xff\xfe binary\r\n" + bytes(range(256))
    r = client.invoke_function(svc, fn, payload=payload)
    assert r.data == payload, "the event must reach the function byte for byte and come back unchanged"

    rid = r.headers["x-fc-request-id"]
    assert UUID_RE.match(rid), rid
    ctype = r.headers.get("content-type", "")
    assert not ctype.startswith("application/json"), \
        "a successful result must not be labelled JSON (the Node SDK would parse it), got {0!r}".format(ctype)
    assert "x-fc-error-type" not in r.headers
    assert "x-fc-log-result" not in r.headers, "no log tail unless asked for"
    assert r.headers["x-fc-code-checksum"] == client.get_function(svc, fn).data["codeChecksum"]
    assert r.headers["x-fc-invocation-service-version"] == "LATEST"
    assert int(r.headers["x-fc-invocation-duration"]) >= 0
    assert float(r.headers["x-fc-max-memory-usage"]) >= 0

    # JSON-looking text is a plain result, and every call gets its own request id.
    r2 = client.invoke_function(svc, fn, payload=b'{"a": 1}')
    assert r2.data == b'{"a": 1}'
    assert r2.headers["x-fc-request-id"] != rid
    # No payload at all: an empty event, an empty result.
    assert client.invoke_function(svc, fn).data == b""
    # The SDK's file-like payload.
    assert client.invoke_function(svc, fn, payload=io.BytesIO(b"from a file")).data == b"from a file"


@pytest.mark.parametrize("lang,payload,expected", [
    ("python", None, b"hello world"),
    ("node", b"world", b"hello world"),
])
def test_invoke_hello_world(client, svc, deploy, lang, payload, expected):
    # The SDKs' own first invocation test, with and without the LATEST qualifier.
    fn = deploy(lang, "main.hello")
    assert client.invoke_function(svc, fn, payload=payload).data == expected
    assert client.invoke_function(svc, fn, payload=payload, qualifier="LATEST").data == expected


@pytest.mark.parametrize("lang", LANGS)
def test_invoke_context_and_environment(client, svc, deploy, account_id, lang):
    fn = deploy(lang, "main.describe", memorySize=256, timeout=7, environmentVariables={"GREETING": "hi there"})
    r = client.invoke_function(svc, fn, payload=b"ctx")
    d = json.loads(r.data)  # an object/dict result comes back as JSON text
    assert d["requestId"] == r.headers["x-fc-request-id"], "context request id must equal X-Fc-Request-Id"
    assert d["functionName"] == fn
    assert d["handler"] == "main.describe"
    assert d["memory"] == 256
    assert d["timeout"] == 7
    assert d["serviceName"] == svc
    assert d["accountId"] == account_id
    assert isinstance(d["region"], str) and d["region"]
    assert d["event"] == "ctx"
    assert d["greeting"] == "hi there", "environmentVariables must reach the instance"
    assert d["fcFunctionName"] == fn
    if lang == "python":
        assert d["requestIdCamel"] == d["requestId"]
    else:
        assert d["contextIsJson"] is True
        assert d["hasLogger"] is True


# ------------------------------------------------------------------ initializer

@pytest.mark.parametrize("lang,runtime", [
    ("python", "python3.9"),
    ("python", "python3"),
    ("node", "nodejs20"),
    ("node", "nodejs4.4"),  # the runtime string the Node SDK's own counter test deploys
])
def test_initializer_counter(client, svc, deploy, lang, runtime):
    # fc-python-sdk test_initialize / fc-nodejs-sdk counter: the initializer runs once per instance, before the
    # first call, and module state survives on the warm instance.
    fn = deploy(lang, "counter.handler", initializer="counter.initializer", runtime=runtime)
    assert client.get_function(svc, fn).data["initializer"] == "counter.initializer"
    r = client.invoke_function(svc, fn)
    assert r.data.decode("utf-8") == "2"
    r = client.invoke_function(svc, fn)
    assert r.data.decode("utf-8") == "3"


def test_initializer_logs_in_first_tail(client, svc, deploy):
    fn = deploy("python", "counter.handler", initializer="counter.initializer")
    r = client.invoke_function(svc, fn, headers={"x-fc-log-type": "Tail"})
    assert r.data == b"2"
    log = decode_tail(r).decode()
    assert "initializer ran, counter=1" in log, log
    assert "handler ran, counter=2" in log, log
    assert "FC Initialize Start RequestId: " in log, log
    assert "FC Initialize End RequestId: " in log, log


# ------------------------------------------------------------------ function errors

def test_handled_error_node_callback_string(client, svc, deploy):
    # fc-nodejs-sdk main.test_buf_handled_err: callback('This is a handled error').
    fn = deploy("node", "main.handled")
    with pytest.raises(fc2.FcError) as info:
        client.invoke_function(svc, fn, payload=b"world")
    assert function_error(info) == {"errorMessage": "This is a handled error"}

    raw = invoke_raw(client, svc, fn, b"world", headers={"x-fc-log-type": "Tail"})
    assert raw.status_code == 200
    assert raw.headers.get("x-fc-error-type") == "HandledInvocationError"
    assert raw.headers.get("content-type", "").startswith("application/json")
    assert raw.content == b'{"errorMessage":"This is a handled error"}', \
        "callback('text') must answer exactly {\"errorMessage\":\"text\"}, got " + repr(raw.content)
    rid = raw.headers["x-fc-request-id"]
    last = decode_tail(raw).decode().rstrip("\n").split("\n")[-1]
    assert last == "FC Invoke End RequestId: {0}, Error: Handled function error".format(rid)


def test_handled_error_node_callback_error(client, svc, deploy):
    fn = deploy("node", "main.handledError")
    with pytest.raises(fc2.FcError) as info:
        client.invoke_function(svc, fn, payload=b"world")
    body = function_error(info)
    assert body["errorMessage"] == "handled: world"
    assert body["errorType"] == "Error"
    assert isinstance(body["stackTrace"], list) and body["stackTrace"], body
    assert all(isinstance(line, str) for line in body["stackTrace"]), body
    assert body["stackTrace"][0] == "Error: handled: world"
    raw = invoke_raw(client, svc, fn, b"world")
    assert raw.headers.get("x-fc-error-type") == "HandledInvocationError"


@pytest.mark.parametrize("lang,message,error_type", [
    ("python", "python says no: world", "ValueError"),
    ("node", "event.toSting is not a function", "TypeError"),
])
def test_unhandled_error(client, svc, deploy, lang, message, error_type):
    fn = deploy(lang, "main.fail")
    with pytest.raises(fc2.FcError) as info:
        client.invoke_function(svc, fn, payload=b"world")
    body = function_error(info)
    assert body["errorMessage"] == message
    assert body["errorType"] == error_type
    trace = body["stackTrace"]
    assert isinstance(trace, list) and trace, body
    if lang == "python":
        # FC's Python runtimes: one [file, line, function, code] list per frame.
        assert all(isinstance(frame, list) for frame in trace), trace
        assert any("fail" in " ".join(map(str, frame)) for frame in trace), trace
    else:
        assert all(isinstance(line, str) for line in trace), trace
        assert trace[0] == "TypeError: event.toSting is not a function", trace

    raw = invoke_raw(client, svc, fn, b"world", headers={"x-fc-log-type": "Tail"})
    assert raw.status_code == 200
    assert raw.headers.get("x-fc-error-type") == "UnhandledInvocationError"
    assert raw.headers.get("content-type", "").startswith("application/json")
    rid = raw.headers["x-fc-request-id"]
    last = decode_tail(raw).decode().rstrip("\n").split("\n")[-1]
    assert last == "FC Invoke End RequestId: {0}, Error: Unhandled function error".format(rid)


@pytest.mark.parametrize("lang,handler,message", [
    ("python", "main.nope", "Handler 'nope' missing on module 'main'"),
    ("node", "main.nope", "Handler 'nope' missing on module 'main'"),
    ("python", "nomodule.handler", "Unable to import module 'nomodule'"),
    ("node", "nomodule.handler", "Cannot find module"),
])
def test_missing_handler_or_module(client, svc, deploy, lang, handler, message):
    fn = deploy(lang, handler)
    with pytest.raises(fc2.FcError) as info:
        client.invoke_function(svc, fn)
    body = function_error(info)
    assert message in body["errorMessage"], body
    raw = invoke_raw(client, svc, fn)
    assert raw.headers.get("x-fc-error-type") == "UnhandledInvocationError"


@pytest.mark.parametrize("lang", LANGS)
def test_initializer_failure(client, svc, deploy, lang):
    fn = deploy(lang, "counter.handler", initializer="counter.badInitializer")
    for _ in range(2):  # the failed instance is not reused as if initialised
        with pytest.raises(fc2.FcError) as info:
            client.invoke_function(svc, fn)
        body = function_error(info)
        assert "initializer says no" in body["errorMessage"], body
    raw = invoke_raw(client, svc, fn)
    assert raw.headers.get("x-fc-error-type") == "UnhandledInvocationError"


# ------------------------------------------------------------------ timeouts and crashes

@pytest.mark.parametrize("lang", LANGS)
def test_timeout_kills_the_instance(client, svc, deploy, lang):
    fn = deploy(lang, "main.count", timeout=1)
    assert client.invoke_function(svc, fn, payload=b"tick").data == b"1"
    started = time.monotonic()
    with pytest.raises(fc2.FcError) as info:
        client.invoke_function(svc, fn, payload=b"sleep")  # the handler sleeps 3 s
    elapsed = time.monotonic() - started
    body = function_error(info)
    assert "timed out" in body["errorMessage"], body
    assert re.match(r"^Function timed out after 1 seconds", body["errorMessage"]), body
    assert elapsed < 2.5, "the timeout answer must come at ~1 s, not when the handler ends ({0:.2f}s)".format(elapsed)
    # The timed-out instance was killed: the next call starts a fresh one (module state reset).
    assert client.invoke_function(svc, fn, payload=b"tick").data == b"1"


@pytest.mark.parametrize("lang", LANGS)
def test_process_exit(client, svc, deploy, lang):
    # fc-nodejs-sdk 'invokeFunction with unhandled error': a dying process → "Process exited unexpectedly ...".
    fn = deploy(lang, "main.count")
    assert client.invoke_function(svc, fn, payload=b"tick").data == b"1"
    assert client.invoke_function(svc, fn, payload=b"tick").data == b"2", "a warm instance keeps module state"
    with pytest.raises(fc2.FcError) as info:
        client.invoke_function(svc, fn, payload=b"exit")  # os._exit(3) / process.exit(3)
    body = function_error(info)
    assert CRASH_RE.match(body["errorMessage"]), body
    assert client.invoke_function(svc, fn, payload=b"tick").data == b"1", "the next call gets a fresh instance"

    raw = invoke_raw(client, svc, fn, b"exit")
    assert raw.status_code == 200
    assert raw.headers.get("x-fc-error-type") == "UnhandledInvocationError"
    assert CRASH_RE.match(raw.json()["errorMessage"]), raw.text


# ------------------------------------------------------------------ logs

@pytest.mark.parametrize("lang", LANGS)
def test_log_tail(client, other_client, svc, deploy, lang):
    fn = deploy(lang, "main.log")
    r = client.invoke_function(svc, fn, payload=b"tail me", headers={"x-fc-log-type": "Tail"})
    assert r.data == b"logged"
    rid = r.headers["x-fc-request-id"]
    log = decode_tail(r).decode()
    lines = log.rstrip("\n").split("\n")
    assert lines[0] == "FC Invoke Start RequestId: " + rid, log
    assert lines[-1] == "FC Invoke End RequestId: " + rid, log
    if lang == "python":
        expected = [r"{0} {1} \[INFO\] event: tail me".format(LOG_TIME, rid),
                    r"{0} {1} \[WARNING\] context logger: tail me".format(LOG_TIME, rid),
                    r"printed: tail me"]
    else:
        expected = [r"{0} {1} \[verbose\] event: tail me".format(LOG_TIME, rid),
                    r"{0} {1} \[error\] to stderr: tail me".format(LOG_TIME, rid),
                    r"written: tail me"]
    for pattern in expected:
        assert any(re.fullmatch(pattern, line) for line in lines), "no line like {0!r} in:\n{1}".format(pattern, log)

    # Kept in the store, readable by request id through Ferric's log endpoint.
    records = fetch_logs(client, rid)
    assert [rec["requestId"] for rec in records] == [rid], records
    rec = records[0]
    assert rec["serviceName"] == svc and rec["functionName"] == fn, rec
    assert TIME_RE.match(rec["time"]), rec
    assert "FC Invoke Start RequestId: " + rid in rec["content"], rec
    assert "FC Invoke End RequestId: " + rid in rec["content"], rec
    assert "tail me" in rec["content"], rec
    # Another account cannot read them.
    other = signed(other_client, "GET", "/ferric/v1/logs", params={"requestId": rid})
    if other.status_code == 200:
        assert other.json()["logs"] == [], "another account read this account's logs: " + other.text
    else:
        assert other.status_code in (403, 404), (other.status_code, other.text)

    # The header is case-insensitive in name; its absence means no tail.
    r = client.invoke_function(svc, fn, payload=b"x", headers={"X-Fc-Log-Type": "Tail"})
    assert "x-fc-log-result" in r.headers
    r = client.invoke_function(svc, fn, payload=b"x", headers={"x-fc-log-type": "None"})
    assert "x-fc-log-result" not in r.headers


def test_log_tail_is_the_last_4kb(client, svc, deploy):
    fn = deploy("python", "main.log")
    big = b"z" * 10000
    r = client.invoke_function(svc, fn, payload=big, headers={"x-fc-log-type": "Tail"})
    rid = r.headers["x-fc-request-id"]
    tail = decode_tail(r)
    assert 0 < len(tail) <= 4096, "X-Fc-Log-Result is the last 4 KB, got {0} bytes".format(len(tail))
    assert tail.decode().endswith("FC Invoke End RequestId: {0}\n".format(rid)), tail[-200:]


# ------------------------------------------------------------------ async

@pytest.mark.parametrize("lang", LANGS)
def test_async_invoke(client, svc, deploy, lang):
    fn = deploy(lang, "main.log")
    r = client.invoke_function(svc, fn, payload=b"async event", headers={"x-fc-invocation-type": "Async"})
    assert r.data == b"", "an async invocation answers an empty body"
    rid = r.headers["x-fc-request-id"]
    assert UUID_RE.match(rid), rid

    raw = invoke_raw(client, svc, fn, b"async raw", headers={"X-Fc-Invocation-Type": "Async"})
    assert raw.status_code == 202, (raw.status_code, raw.text)
    assert raw.content == b""
    assert UUID_RE.match(raw.headers.get("x-fc-request-id", "")), raw.headers

    # It does run, later, under the request id it was given.
    records = fetch_logs(client, rid, until="FC Invoke End RequestId: " + rid)
    content = "".join(rec["content"] for rec in records)
    assert "FC Invoke End RequestId: " + rid in content, "the async invocation never finished: {0}".format(records)
    assert "event: async event" in content, content


def test_async_payload_limit(client, svc, deploy):
    # FC caps async events at 128 KB; over it: 400 EntityTooLarge.
    fn = deploy("python", "main.echo")
    limit = 128 * 1024
    r = client.invoke_function(svc, fn, payload=b"a" * limit, headers={"x-fc-invocation-type": "Async"})
    assert r.data == b""
    with raises_fc(400, "EntityTooLarge"):
        client.invoke_function(svc, fn, payload=b"a" * (limit + 1), headers={"x-fc-invocation-type": "Async"})


# ------------------------------------------------------------------ updates and lookups

def test_update_function_runs_new_code(client, svc, deploy, tmp_path):
    fn = deploy("python", "version.handler", extra={"VERSION": "v1"}, environmentVariables={"GREETING": "hello"})
    first = client.invoke_function(svc, fn)
    assert first.data == b"v1 hello"
    assert client.invoke_function(svc, fn).data == b"v1 hello"  # warm

    updated = client.update_function(svc, fn, codeZipFile=write_zip(tmp_path, fixture_zip("python", {"VERSION": "v2"}),
                                                                    "v2.zip"))
    r = client.invoke_function(svc, fn)
    assert r.data == b"v2 hello", "after UpdateFunction the next call must run the new code"
    assert r.headers["x-fc-code-checksum"] == updated.data["codeChecksum"] != first.headers["x-fc-code-checksum"]

    client.update_function(svc, fn, environmentVariables={"GREETING": "bonjour"})
    assert client.invoke_function(svc, fn).data == b"v2 bonjour", "new environment after UpdateFunction"

    client.update_function(svc, fn, handler="main.hello")
    assert client.invoke_function(svc, fn).data == b"hello world", "new handler after UpdateFunction"


def test_invoke_unknown_function_or_service(client, other_client, svc, deploy):
    # fc-python-sdk test_fc_error_code.
    with raises_fc(404, "FunctionNotFound") as info:
        client.invoke_function(svc, "undefine_function")
    for key in ("RequestId", "ErrorCode", "ErrorMessage"):
        assert key in info.value.message
    with raises_fc(404, "ServiceNotFound"):
        client.invoke_function(uniq("nosvc"), "undefine_function")
    # Another account does not see this account's function.
    fn = deploy("python", "main.hello")
    with raises_fc(404, "ServiceNotFound"):
        other_client.invoke_function(svc, fn)


@pytest.mark.parametrize("runtime", ["python2.7", "dotnetcore3.1"])
def test_runtime_not_offered_fails_at_invoke(client, svc, deploy, runtime):
    # Accepted at create (it is an FC runtime), refused at invoke with a message naming what this server runs.
    fn = deploy("python", "main.hello", runtime=runtime)
    with pytest.raises(fc2.FcError) as info:
        client.invoke_function(svc, fn)
    err = info.value
    check_request_id(err)
    assert runtime in err.message, err.message
    for offered in RUNTIMES.values():
        assert offered in err.message, "the error should name the runtimes offered: " + err.message
