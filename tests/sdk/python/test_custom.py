"""The custom runtime (`custom.debian10`) through the official Python SDK: the package's own HTTP server (a shell
`bootstrap` running Python's http.server, tests/sdk/fixtures/custom) answering bytes unchanged, the initializer
once per instance and instance reuse, FC's errors for a failing answer, a timeout and a dying server, log tails
of the server's stdout and stderr, async invocations and an HTTP trigger (`do_http_request`)."""

import base64
import io
import os
import zipfile

import fc2
import pytest

from fcutil import CRASH_PREFIX, FIXTURES_DIR, UUID_RE, fetch_logs, function_error, uniq, write_zip

CUSTOM = "custom.debian10"


def custom_zip():
    """tests/sdk/fixtures/custom with `bootstrap` executable (fcutil.make_zip writes 0644)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, mode in (("bootstrap", 0o755), ("server.py", 0o644)):
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(os.path.join(FIXTURES_DIR, "custom", name), "rb") as f:
                z.writestr(info, f.read())
    return buf.getvalue()


@pytest.fixture
def deploy_custom(client, svc, tmp_path):
    def _deploy(**kwargs):
        name = uniq("fn_cu")
        client.create_function(svc, name, runtime=CUSTOM, handler="index.handler",
                               codeZipFile=write_zip(tmp_path, custom_zip(), name + ".zip"), **kwargs)
        return name
    return _deploy


def test_custom_echoes_bytes_and_initializes_once_per_reused_instance(client, svc, deploy_custom):
    fn = deploy_custom(initializer="index.init")
    payload = b"hello \x00\xff binary\r\n" + bytes(range(256))
    assert client.invoke_function(svc, fn, payload=payload).data == payload
    assert client.invoke_function(svc, fn, payload=b"count").data == b"2"
    assert client.invoke_function(svc, fn, payload=b"count").data == b"3"


def test_custom_failure_timeout_and_exit_map_to_fc_errors(client, svc, deploy_custom):
    fn = deploy_custom(timeout=2)
    with pytest.raises(fc2.FcError) as info:
        client.invoke_function(svc, fn, payload=b"fail")
    assert function_error(info) == {"errorMessage": "custom failed"}

    with pytest.raises(fc2.FcError) as info:
        client.invoke_function(svc, fn, payload=b"slow")
    assert function_error(info)["errorMessage"].startswith("Function timed out after 2 seconds")

    with pytest.raises(fc2.FcError) as info:
        client.invoke_function(svc, fn, payload=b"exit")
    assert function_error(info)["errorMessage"].startswith(CRASH_PREFIX)
    assert client.invoke_function(svc, fn, payload=b"back").data == b"back", "a new instance serves"


def test_custom_log_tail_and_async(client, svc, deploy_custom):
    fn = deploy_custom()
    r = client.invoke_function(svc, fn, payload=b"log tail me", headers={"x-fc-log-type": "Tail"})
    assert r.data == b"logged"
    rid = r.headers["x-fc-request-id"]
    log = base64.b64decode(r.headers["x-fc-log-result"]).decode()
    assert "FC Invoke Start RequestId: " + rid in log and "FC Invoke End RequestId: " + rid in log, log
    assert "printed: log tail me\n" in log and "stderr: log tail me\n" in log, log

    r = client.invoke_function(svc, fn, payload=b"log async event", headers={"x-fc-invocation-type": "Async"})
    rid = r.headers["x-fc-request-id"]
    assert r.data == b"" and UUID_RE.match(rid)
    records = fetch_logs(client, rid, until="FC Invoke End RequestId: " + rid)
    assert "printed: log async event" in "".join(rec["content"] for rec in records), records


def test_custom_server_behind_an_http_trigger(client, svc, deploy_custom):
    fn = deploy_custom()
    client.create_trigger(svc, fn, "http", "http", {"authType": "function", "methods": ["GET", "POST"]}, None, None)
    r = client.do_http_request("POST", svc, fn, "/some/path", headers={"Foo": "Bar"}, body="posted")
    assert r.status_code == 200, r.text
    assert r.headers["x-custom-runtime"] == "yes"
    assert r.text == "POST /2016-08-15/proxy/{0}/{1}/some/path foo=Bar body=posted".format(svc, fn)
