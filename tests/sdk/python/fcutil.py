"""Helpers shared by the SDK suite: names, zips, CRC-64/XZ, FcError checks and raw signed requests.

Everything here talks to Ferric through the unchanged official SDK (`aliyun-fc2`), or, for wire details the
SDK cannot express (chunked bodies, PascalCase keys, a skewed Date), through `requests` signed with the SDK's
own signer (`Client._build_common_headers`), so the signature is exactly what the SDK would send.
"""

import io
import json
import os
import re
import time
import uuid
import zipfile
from contextlib import contextmanager

import fc2
import pytest
import requests

UUID_RE = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")
LOG_TIME = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z"
"""The time stamp of an FC log line."""
CRASH_PREFIX = "Process exited unexpectedly before completing request"

PY_HANDLER_SRC = "def handler(event, context):\n    return 'hello world'\n"
NODE_HANDLER_SRC = "exports.handler = (event, context, callback) => callback(null, 'hello world');\n"


def uniq(prefix):
    """A name no other test (or earlier run) uses: letters first, then a random hex suffix."""
    return "{0}_{1}".format(prefix, uuid.uuid4().hex[:12])


# ------------------------------------------------------------------ CRC-64/XZ (ECMA-182, reflected)

_CRC64_POLY = 0xC96C5795D7870F42
_CRC64_TABLE = []
for _i in range(256):
    _c = _i
    for _ in range(8):
        _c = (_c >> 1) ^ _CRC64_POLY if _c & 1 else _c >> 1
    _CRC64_TABLE.append(_c)


def crc64(data):
    """CRC-64/XZ as FC's codeChecksum uses it (init and xorout all ones, reflected)."""
    crc = 0xFFFFFFFFFFFFFFFF
    table = _CRC64_TABLE
    for b in data:
        crc = table[(crc ^ b) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFFFFFFFFFF


# ------------------------------------------------------------------ zips

def make_zip(files, symlinks=None, raw_names=None):
    """A deterministic zip: `files` maps name → str|bytes, `symlinks` maps name → target (unix symlink
    entries, as fc2.util.zip_dir writes them), `raw_names` maps an arbitrary (possibly hostile) entry name →
    content, written verbatim."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, content in files.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, content)
        for name, target in (symlinks or {}).items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.create_system = 3
            info.external_attr = 0xA1ED0000  # S_IFLNK | 0755, the same magic fc2.util.zip_dir uses
            z.writestr(info, target)
        for name, content in (raw_names or {}).items():
            info = zipfile.ZipInfo("placeholder", date_time=(2020, 1, 1, 0, 0, 0))
            info.filename = name  # bypass ZipInfo's normalisation of '..' and leading '/'
            z.writestr(info, content)
    return buf.getvalue()


FIXTURES_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures")

# The runtime strings the invocation tests deploy each fixture language with.
RUNTIMES = {"python": "python3.9", "node": "nodejs20", "php": "php7.2"}


def fixture_zip(lang, extra=None):
    """A zip of every file in tests/sdk/fixtures/<lang>/ (function code shared with the Node suite), plus `extra`
    (name → str|bytes)."""
    base = os.path.join(FIXTURES_DIR, lang)
    files = {}
    for name in sorted(os.listdir(base)):
        path = os.path.join(base, name)
        if os.path.isfile(path):
            with open(path, "rb") as f:
                files[name] = f.read()
    files.update(extra or {})
    return make_zip(files)


def py_zip(body=PY_HANDLER_SRC, module="index.py"):
    return make_zip({module: body})


def write_zip(tmp_path, data, name="code.zip"):
    """The Python SDK takes codeZipFile as a path: put the bytes in a file."""
    p = tmp_path / name
    p.write_bytes(data)
    return str(p)


def zip_names(data):
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return sorted(z.namelist())


def zip_read(data, name):
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return z.read(name)


# ------------------------------------------------------------------ errors

def error_body(err):
    """The decoded error body the SDK wrapped into FcError.message (it adds RequestId)."""
    try:
        return json.loads(err.message)
    except (TypeError, ValueError):
        return {}


def check_request_id(err):
    assert isinstance(err.request_id, str) and len(err.request_id) == 36, \
        "FcError.request_id should be a 36-char UUID (X-Fc-Request-Id), got {0!r}".format(err.request_id)
    assert UUID_RE.match(err.request_id), err.request_id


def function_error(info):
    """The FcError invoke_function raises for a function error (X-Fc-Error-Type present): HTTP 200, no ErrorCode,
    the request id, and the function's error JSON (plus the SDK's RequestId) in the message."""
    err = info.value
    assert err.status_code == 200, "function errors are HTTP 200 on the invoke API, got {0}: {1}".format(
        err.status_code, err.message)
    assert err.err_code == "", err.message
    check_request_id(err)
    body = json.loads(err.message)
    assert body.pop("RequestId") == err.request_id
    return body


@contextmanager
def raises_fc(status, code=None, message_contains=None):
    """Expect an fc2.FcError with this HTTP status (and ErrorCode / message fragment when given); every
    FcError must carry the request id from X-Fc-Request-Id."""
    with pytest.raises(fc2.FcError) as info:
        yield info
    err = info.value
    body = error_body(err)
    detail = "status={0} code={1!r} body={2}".format(err.status_code, err.err_code, err.message)
    assert err.status_code == status, "expected HTTP {0}; got {1}".format(status, detail)
    if code is not None:
        assert err.err_code == code, "expected ErrorCode {0!r}; got {1}".format(code, detail)
    assert isinstance(body.get("ErrorMessage"), str) and body["ErrorMessage"], \
        "error body must carry a non-empty ErrorMessage: {0}".format(detail)
    if message_contains is not None:
        assert message_contains in body["ErrorMessage"], detail
    check_request_id(err)


# ------------------------------------------------------------------ raw requests, signed by the SDK

def signed(client, method, path, body=None, headers=None, params=None, timeout=20):
    """Send a request the SDK's own signer signed. `path` is the API path without the query (the SDKs never
    sign the query on API paths); `headers` are merged before signing, so they may override date or
    content-type. `body` may be bytes or an iterator (sent chunked)."""
    h = client._build_common_headers(method, path, dict(headers or {}))
    h.pop("content-length", None)  # let requests frame the body (length or chunked)
    return requests.request(method, client.endpoint + path, headers=h, params=params, data=body,
                            timeout=timeout)


def check_json_error(resp, status, code=None):
    assert resp.status_code == status, "expected {0}, got {1}: {2}".format(status, resp.status_code, resp.text)
    ctype = resp.headers.get("content-type", "")
    assert ctype.startswith("application/json"), "error Content-Type must be JSON, got {0!r}".format(ctype)
    body = resp.json()
    assert isinstance(body.get("ErrorCode"), str) and body["ErrorCode"], body
    assert isinstance(body.get("ErrorMessage"), str) and body["ErrorMessage"], body
    if code is not None:
        assert body["ErrorCode"] == code, body
    rid = resp.headers.get("x-fc-request-id", "")
    assert UUID_RE.match(rid), "X-Fc-Request-Id should be a UUID, got {0!r}".format(rid)
    return body


def invoke_path(svc, fn):
    return "/2016-08-15/services/{0}/functions/{1}/invocations".format(svc, fn)


def invoke_raw(client, svc, fn, payload=b"", headers=None):
    """InvokeFunction sent by `requests`, signed by the SDK: for what `invoke_function` hides (status code,
    headers of error responses, the exact body bytes)."""
    return signed(client, "POST", invoke_path(svc, fn), body=payload, headers=headers)


def fetch_logs(client, request_id, until=None, timeout=10.0):
    """GET /ferric/v1/logs?requestId=... (FC-signed) → the list of log records. With `until`, polls until some
    record's content contains that text (async invocations log after the 202)."""
    deadline = time.time() + timeout
    while True:
        r = signed(client, "GET", "/ferric/v1/logs", params={"requestId": request_id})
        assert r.status_code == 200, "GET /ferric/v1/logs: {0} {1}".format(r.status_code, r.text)
        assert r.headers.get("content-type", "").startswith("application/json"), r.headers
        logs = r.json()["logs"]
        if until is None or any(until in rec.get("content", "") for rec in logs) or time.time() > deadline:
            return logs
        time.sleep(0.05)


# ------------------------------------------------------------------ cleanup

def purge_service(client, name):
    """Delete a service with everything in it; ignore what is already gone."""
    try:
        token = None
        while True:
            fns = client.list_functions(name, limit=100, nextToken=token).data
            for f in fns.get("functions", []):
                fname = f["functionName"]
                try:
                    trs = client.list_triggers(name, fname, limit=100).data
                    for t in trs.get("triggers", []):
                        try:
                            client.delete_trigger(name, fname, t["triggerName"])
                        except fc2.FcError:
                            pass
                except fc2.FcError:
                    pass
                try:
                    client.delete_function(name, fname)
                except fc2.FcError:
                    pass
            token = fns.get("nextToken")
            if not token:
                break
        # Aliases first: a version an alias routes to cannot be deleted.
        for a in client.list_aliases(name, limit=100).data.get("aliases", []):
            try:
                client.delete_alias(name, a["aliasName"])
            except fc2.FcError:
                pass
        token = None
        while True:
            vs = client.list_versions(name, limit=100, nextToken=token).data
            for v in vs.get("versions", []):
                try:
                    client.delete_version(name, v["versionId"])
                except fc2.FcError:
                    pass
            token = vs.get("nextToken")
            if not token:
                break
        client.delete_service(name)
    except fc2.FcError:
        pass
