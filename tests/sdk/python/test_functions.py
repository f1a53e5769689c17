"""Functions through the Python SDK: code from a zip file and a directory, checksums, FC defaults, partial
updates, runtime validation, conflicts and not-found errors."""

import io
import os

import fc2

from fcutil import (NODE_HANDLER_SRC, TIME_RE, crc64, make_zip, py_zip, raises_fc, uniq, write_zip)


def check_function(data, name, runtime, handler, code):
    assert data["functionName"] == name
    assert data["runtime"] == runtime
    assert data["handler"] == handler
    assert data["codeSize"] == len(code)
    assert data["codeChecksum"] == str(crc64(code)), "codeChecksum must be CRC-64/XZ of the zip, in decimal"
    for key in ("functionId", "createdTime", "lastModifiedTime", "memorySize", "timeout", "description",
                "instanceType"):
        assert key in data, "function response lacks {0!r}: {1}".format(key, data)
    assert data["functionId"]
    assert TIME_RE.match(data["createdTime"]), data["createdTime"]
    assert TIME_RE.match(data["lastModifiedTime"]), data["lastModifiedTime"]


def test_crc64_vectors():
    # The reference values from the wire contract; guards the test's own implementation.
    assert crc64(b"123456789") == 11051210869376104954
    assert crc64(b"") == 0
    assert crc64(b"hello world") == 5981764153023615706


def test_create_from_zip_file(client, svc, tmp_path):
    fn = uniq("fn_zip")
    code = py_zip()
    desc = u"这是测试function"
    resp = client.create_function(svc, fn, runtime="python3.9", handler="index.handler",
                                  codeZipFile=write_zip(tmp_path, code), description=desc,
                                  environmentVariables={"testKey": "testValue"})
    etag = resp.headers["etag"]
    assert etag, "CreateFunction must answer with a non-empty ETag"
    data = resp.data
    check_function(data, fn, "python3.9", "index.handler", code)
    assert data["description"] == desc
    assert data["environmentVariables"] == {"testKey": "testValue"}
    assert data["instanceType"] == "e1"
    # What the SDK sends when not told otherwise.
    assert data["memorySize"] == 256
    assert data["timeout"] == 60
    assert data["initializationTimeout"] == 30

    got = client.get_function(svc, fn)
    assert got.headers["etag"] == etag
    assert got.data["functionId"] == data["functionId"]
    assert got.data["codeChecksum"] == data["codeChecksum"]
    assert got.data["environmentVariables"] == {"testKey": "testValue"}

    latest = client.get_function(svc, fn, qualifier="LATEST")
    assert latest.data["functionName"] == fn
    assert latest.data["codeChecksum"] == data["codeChecksum"]

    with raises_fc(412, "PreconditionFailed"):
        client.delete_function(svc, fn, headers={"if-match": "invalid etag"})
    client.delete_function(svc, fn, headers={"if-match": etag})
    with raises_fc(404, "FunctionNotFound"):
        client.get_function(svc, fn)


def test_create_from_code_dir(client, svc, tmp_path):
    src = tmp_path / "src"
    (src / "lib").mkdir(parents=True)
    (src / "empty").mkdir()
    (src / "index.py").write_text("from lib import util\n\ndef handler(event, context):\n    return util.X\n")
    (src / "lib" / "__init__.py").write_text("")
    (src / "lib" / "util.py").write_text("X = 'hello'\n")
    os.symlink("index.py", str(src / "alias.py"))  # a relative symlink that stays inside the package

    # The SDK zips the directory itself; zipping it the same way here gives the exact bytes it uploads.
    expected = io.BytesIO()
    fc2.util.zip_dir(str(src), expected)
    expected = expected.getvalue()

    fn = uniq("fn_dir")
    data = client.create_function(svc, fn, runtime="python3.10", handler="index.handler",
                                  codeDir=str(src)).data
    check_function(data, fn, "python3.10", "index.handler", expected)


def test_node_runtime_and_initializer(client, svc, tmp_path):
    fn = uniq("fn_node")
    code = make_zip({"index.js": NODE_HANDLER_SRC})
    data = client.create_function(svc, fn, runtime="nodejs20", handler="index.handler",
                                  initializer="index.initializer", initializationTimeout=30,
                                  codeZipFile=write_zip(tmp_path, code), instanceConcurrency=2).data
    check_function(data, fn, "nodejs20", "index.handler", code)
    assert data["initializer"] == "index.initializer"
    assert data["initializationTimeout"] == 30
    assert data["instanceConcurrency"] == 2

    data = client.update_function(svc, fn, initializationTimeout=60, instanceConcurrency=10).data
    assert data["initializationTimeout"] == 60
    assert data["instanceConcurrency"] == 10
    assert data["initializer"] == "index.initializer"


def test_sdk_test_runtimes_are_accepted(client, svc, tmp_path):
    # The official suites create functions with these runtimes; they must all be accepted.
    path = write_zip(tmp_path, py_zip())
    for rt in ("python2.7", "python3", "nodejs4.4", "nodejs6", "nodejs10", "custom"):
        fn = uniq("fn_rt")
        assert client.create_function(svc, fn, runtime=rt, handler="main.handler",
                                      codeZipFile=path).data["runtime"] == rt


def test_update(client, svc, tmp_path):
    fn = uniq("fn_upd")
    code1 = py_zip()
    created = client.create_function(svc, fn, runtime="python3.9", handler="index.handler",
                                     codeZipFile=write_zip(tmp_path, code1, "one.zip"),
                                     environmentVariables={"testKey0": "testValue0", "testKey1": "testValue1"})
    etag0 = created.headers["etag"]

    resp = client.update_function(svc, fn, description="function description",
                                  environmentVariables={"newTestKey": "newTestValue"})
    etag1 = resp.headers["etag"]
    assert etag1 and etag1 != etag0, "ETag must change on update"
    data = resp.data
    assert data["description"] == "function description"
    assert data["environmentVariables"] == {"newTestKey": "newTestValue"}, "env vars are replaced, not merged"
    assert data["codeChecksum"] == str(crc64(code1)), "code is kept when not sent"
    assert data["runtime"] == "python3.9"
    assert data["createdTime"] == created.data["createdTime"]
    assert data["functionId"] == created.data["functionId"]

    # New code; description and env vars are kept.
    code2 = py_zip("def handler(event, context):\n    return 'v2'\n")
    data = client.update_function(svc, fn, codeZipFile=write_zip(tmp_path, code2, "two.zip")).data
    assert data["codeChecksum"] == str(crc64(code2))
    assert data["codeSize"] == len(code2)
    assert data["description"] == "function description"
    assert data["environmentVariables"] == {"newTestKey": "newTestValue"}

    # environmentVariables={} clears them.
    data = client.update_function(svc, fn, environmentVariables={}).data
    assert data["environmentVariables"] == {}
    assert client.get_function(svc, fn).data["environmentVariables"] == {}

    # Runtime, handler, memory, timeout.
    code3 = make_zip({"index.js": NODE_HANDLER_SRC})
    data = client.update_function(svc, fn, runtime="nodejs20", handler="index.handler", memorySize=512,
                                  timeout=10, codeZipFile=write_zip(tmp_path, code3, "three.zip")).data
    assert data["runtime"] == "nodejs20"
    assert data["memorySize"] == 512
    assert data["timeout"] == 10
    assert data["codeChecksum"] == str(crc64(code3))
    assert data["description"] == "function description"

    # If-Match: stale is refused and changes nothing, current is accepted.
    current = client.get_function(svc, fn).headers["etag"]
    with raises_fc(412, "PreconditionFailed"):
        client.update_function(svc, fn, description="invalid", headers={"if-match": etag0})
    assert client.get_function(svc, fn).data["description"] == "function description"
    data = client.update_function(svc, fn, description="ok", headers={"if-match": current}).data
    assert data["description"] == "ok"


def test_invalid_runtime(client, svc, tmp_path):
    path = write_zip(tmp_path, py_zip())
    fn = uniq("fn_badrt")
    with raises_fc(400, "InvalidArgument", "Runtime is set to an invalid value"):
        client.create_function(svc, fn, runtime=10, handler="index.handler", codeZipFile=path)
    with raises_fc(404, "FunctionNotFound"):
        client.get_function(svc, fn)

    client.create_function(svc, fn, runtime="python3.9", handler="index.handler", codeZipFile=path)
    with raises_fc(400, "InvalidArgument", "Runtime is set to an invalid value"):
        client.update_function(svc, fn, runtime=10)
    with raises_fc(400, "InvalidArgument", "Runtime is set to an invalid value"):
        client.update_function(svc, fn, runtime="Python3.9")
    assert client.get_function(svc, fn).data["runtime"] == "python3.9"


def test_oss_code_is_refused(client, svc):
    fn = uniq("fn_oss")
    with raises_fc(400):
        client.create_function(svc, fn, runtime="python3.9", handler="index.handler",
                               codeOSSBucket="my-bucket", codeOSSObject="code.zip")
    with raises_fc(400):
        client.create_function(svc, fn, runtime="python3.9", handler="index.handler",
                               codeOSSBucket=10, codeOSSObject="hello")
    with raises_fc(404, "FunctionNotFound"):
        client.get_function(svc, fn)


def test_function_already_exists(client, svc, tmp_path):
    fn = uniq("fn_dup")
    path = write_zip(tmp_path, py_zip())
    client.create_function(svc, fn, runtime="python3.9", handler="index.handler", codeZipFile=path)
    with raises_fc(409, "FunctionAlreadyExists"):
        client.create_function(svc, fn, runtime="python3.9", handler="index.handler", codeZipFile=path)


def test_function_not_found(client, svc, tmp_path):
    missing = uniq("fn_missing")
    for call in (lambda: client.get_function(svc, missing),
                 lambda: client.get_function_code(svc, missing),
                 lambda: client.update_function(svc, missing, description="x"),
                 lambda: client.delete_function(svc, missing),
                 lambda: client.list_triggers(svc, missing)):
        with raises_fc(404, "FunctionNotFound", missing):
            call()
    # The function's service missing is reported as such.
    with raises_fc(404, "ServiceNotFound"):
        client.create_function(uniq("svc_missing"), missing, runtime="python3.9", handler="index.handler",
                               codeZipFile=write_zip(tmp_path, py_zip()))
    with raises_fc(404, "ServiceNotFound"):
        client.get_function(uniq("svc_missing"), missing)


def test_function_not_empty(client, svc, tmp_path):
    fn = uniq("fn_trig")
    client.create_function(svc, fn, runtime="python3.9", handler="index.handler",
                           codeZipFile=write_zip(tmp_path, py_zip()))
    client.create_trigger(svc, fn, "timer1", "timer",
                          {"payload": "x", "cronExpression": "@every 5m", "enable": True}, None, None)
    with raises_fc(409, "FunctionNotEmpty"):
        client.delete_function(svc, fn)
    assert client.get_function(svc, fn).data["functionName"] == fn
    client.delete_trigger(svc, fn, "timer1")
    client.delete_function(svc, fn)


def test_invalid_function_names(client, svc, tmp_path):
    path = write_zip(tmp_path, py_zip())
    for bad in ("9lives", "-x", "a.b", "with space", "f" * 129):
        with raises_fc(400, "InvalidArgument"):
            client.create_function(svc, bad, runtime="python3.9", handler="index.handler", codeZipFile=path)


def test_list_functions_with_latest_qualifier(client, svc, tmp_path):
    path = write_zip(tmp_path, py_zip())
    names = sorted(uniq("fn_l") for _ in range(2))
    for n in names:
        client.create_function(svc, n, runtime="python3.9", handler="index.handler", codeZipFile=path)
    plain = client.list_functions(svc).data["functions"]
    latest = client.list_functions(svc, qualifier="LATEST").data["functions"]
    assert [f["functionName"] for f in plain] == names
    assert [f["functionName"] for f in latest] == names
    assert plain[0]["codeChecksum"] == str(crc64(py_zip()))
