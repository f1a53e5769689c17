"""The java8/java11 runtimes through the official Python SDK (`invoke_function`, `do_http_request`): results byte
for byte, FC's Context, the initializer once per instance and instance reuse, FC's error JSON for exceptions,
timeouts, crashes and an exhausted heap, log tails in FC's format, async invocations and an HTTP trigger. The
handlers in tests/sdk/fixtures/java are compiled here with the JDK's javac against Ferric's copy of FC's
interfaces (runtimes/java/src), which stay out of the package, as a user's build leaves fc-java-core out."""

import base64
import json
import os
import re
import shutil
import subprocess

import fc2
import pytest

from fcutil import CRASH_PREFIX, FIXTURES_DIR, LOG_TIME, UUID_RE, fetch_logs, function_error, make_zip, write_zip

ROOT = os.path.abspath(os.path.join(FIXTURES_DIR, "..", "..", ".."))


@pytest.fixture(scope="module")
def java_zip(tmp_path_factory):
    """The fixture's classes (`sdk/*.class`) as a code zip."""
    javac = shutil.which("javac") or "/usr/bin/javac"
    if not os.path.exists(javac):
        assert not os.environ.get("CI"), "no JDK: scripts/setup-sdks installs it"
        pytest.skip("no JDK (scripts/setup-sdks installs it)")
    out = tmp_path_factory.mktemp("java-classes")
    src = os.path.join(FIXTURES_DIR, "java", "sdk")
    sources = sorted(os.path.join(src, n) for n in os.listdir(src) if n.endswith(".java"))
    subprocess.run([javac, "--release", "8", "-Xlint:-options", "-nowarn", "-sourcepath",
                    os.path.join(ROOT, "runtimes", "java", "src"), "-d", str(out)] + sources, check=True)
    files = {}
    for name in sorted(os.listdir(out / "sdk")):
        files["sdk/" + name] = (out / "sdk" / name).read_bytes()
    return make_zip(files)


@pytest.fixture
def deploy_java(client, svc, tmp_path, java_zip):
    def _deploy(handler="sdk.Events::handleRequest", runtime="java11", **kwargs):
        name = "fn_java_" + os.urandom(6).hex()
        client.create_function(svc, name, runtime=runtime, handler=handler,
                               codeZipFile=write_zip(tmp_path, java_zip, name + ".zip"), **kwargs)
        return name
    return _deploy


def test_java_echoes_bytes_and_passes_fc_context(client, svc, deploy_java):
    fn = deploy_java(runtime="java8")
    payload = b"hello \x00\xff binary\r\n" + bytes(range(256))
    assert client.invoke_function(svc, fn, payload=payload).data == payload

    fn = deploy_java(memorySize=256, timeout=7)
    r = client.invoke_function(svc, fn, payload=b"context")
    got = json.loads(r.data)
    assert got["requestId"] == r.headers["x-fc-request-id"]
    assert (got["function"], got["handler"], got["env"]) == (fn, "sdk.Events::handleRequest", fn)
    assert (got["memory"], got["timeout"], got["service"]) == (256, 7000, svc)


def test_java_initializer_runs_once_per_reused_instance(client, svc, deploy_java):
    fn = deploy_java(initializer="sdk.Events::initialize")
    assert client.invoke_function(svc, fn, payload=b"count").data == b"2"
    assert client.invoke_function(svc, fn, payload=b"count").data == b"3"
    assert client.invoke_function(svc, fn, payload=b"count").data == b"4"


def test_java_exception_timeout_exit_and_heap_map_to_fc_errors(client, svc, deploy_java):
    fn = deploy_java(timeout=2, memorySize=128)
    with pytest.raises(fc2.FcError) as info:
        client.invoke_function(svc, fn, payload=b"fail")
    body = function_error(info)
    assert (body["errorMessage"], body["errorType"]) == ("java failed", "java.lang.IllegalStateException")
    assert body["stackTrace"] and body["stackTrace"][0].startswith("sdk.Events.handleRequest(Events.java:"), body
    assert client.invoke_function(svc, fn, payload=b"still up").data == b"still up"

    with pytest.raises(fc2.FcError) as info:
        client.invoke_function(svc, fn, payload=b"slow")
    assert function_error(info)["errorMessage"].startswith("Function timed out after 2 seconds")

    with pytest.raises(fc2.FcError) as info:
        client.invoke_function(svc, fn, payload=b"exit")
    assert function_error(info)["errorMessage"].startswith(CRASH_PREFIX)

    with pytest.raises(fc2.FcError) as info:
        client.invoke_function(svc, fn, payload=b"eat")
    assert function_error(info)["errorMessage"].startswith(CRASH_PREFIX)
    assert client.invoke_function(svc, fn, payload=b"after").data == b"after", "a new JVM serves"


def test_java_log_tail_and_async(client, svc, deploy_java):
    fn = deploy_java()
    r = client.invoke_function(svc, fn, payload=b"log tail me", headers={"x-fc-log-type": "Tail"})
    assert r.data == b"logged"
    rid = r.headers["x-fc-request-id"]
    lines = base64.b64decode(r.headers["x-fc-log-result"]).decode().rstrip("\n").split("\n")
    if lines[-1].startswith("FC Cold Start RequestId: " + rid):
        lines.pop()  # the cold call's companion line after FC Invoke End
    assert lines[0] == "FC Invoke Start RequestId: " + rid and lines[-1] == "FC Invoke End RequestId: " + rid
    assert any(re.fullmatch(r"{0} {1} \[INFO\] event: log tail me".format(LOG_TIME, rid), l) for l in lines), lines
    assert "printed: log tail me" in lines, lines

    r = client.invoke_function(svc, fn, payload=b"log async event", headers={"x-fc-invocation-type": "Async"})
    rid = r.headers["x-fc-request-id"]
    assert r.data == b"" and UUID_RE.match(rid)
    records = fetch_logs(client, rid, until="FC Invoke End RequestId: " + rid)
    assert "event: log async event" in "".join(rec["content"] for rec in records), records


def test_java_http_handler_behind_an_http_trigger(client, svc, deploy_java):
    fn = deploy_java(handler="sdk.Web::handleRequest", runtime="java8")
    client.create_trigger(svc, fn, "http", "http", {"authType": "function", "methods": ["GET", "POST"]}, None, None)
    r = client.do_http_request("POST", svc, fn, "/some/path", headers={"Foo": "Bar"}, params={"a": "1"},
                               body="posted")
    assert r.status_code == 200, r.text
    assert r.headers["x-java"] == "yes"
    assert r.text == "POST /some/path a=1 foo=Bar body=posted"
