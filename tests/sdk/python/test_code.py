"""GetFunctionCode (a signed download URL that needs no FC auth) and code-package safety."""

import base64
import io
import json
import zipfile
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
import requests

from fcutil import (check_json_error, crc64, make_zip, py_zip, raises_fc, signed, uniq, write_zip, zip_read)


def create(client, svc, tmp_path, code, name=None):
    fn = name or uniq("fn_code")
    client.create_function(svc, fn, runtime="python3.9", handler="index.handler",
                           codeZipFile=write_zip(tmp_path, code, fn + ".zip"))
    return fn


def test_get_function_code_downloads_exact_zip(client, svc, tmp_path):
    code = make_zip({"index.py": "def handler(e, c):\n    return 'x'\n", "data/blob.bin": bytes(range(256)) * 8})
    fn = create(client, svc, tmp_path, code)
    meta = client.get_function(svc, fn).data

    resp = client.get_function_code(svc, fn)
    assert set(["url", "checksum"]) <= set(resp.data), resp.data
    assert resp.data["checksum"] == meta["codeChecksum"] == str(crc64(code))
    url = resp.data["url"]
    assert url.startswith("http://") or url.startswith("https://"), url

    # A plain GET, no FC signature: the URL itself is the credential.
    dl = requests.get(url, timeout=20)
    assert dl.status_code == 200, dl.text
    assert dl.content == code
    assert str(crc64(dl.content)) == resp.data["checksum"]

    latest = client.get_function_code(svc, fn, qualifier="LATEST").data
    assert latest["checksum"] == resp.data["checksum"]
    assert requests.get(latest["url"], timeout=20).content == code


def test_code_url_follows_updates(client, svc, tmp_path):
    fn = create(client, svc, tmp_path, py_zip())
    code2 = py_zip("def handler(e, c):\n    return 'v2'\n")
    client.update_function(svc, fn, codeZipFile=write_zip(tmp_path, code2, "v2.zip"))
    resp = client.get_function_code(svc, fn).data
    assert resp["checksum"] == str(crc64(code2))
    assert requests.get(resp["url"], timeout=20).content == code2


def _tampered(url, key, value):
    parts = urlsplit(url)
    pairs = [(k, value if k == key else v) for k, v in parse_qsl(parts.query, keep_blank_values=True)]
    return urlunsplit(parts._replace(query=urlencode(pairs)))


def _flip(value):
    if not value:
        return "x"
    last = value[-1]
    return value[:-1] + ("1" if last != "1" else "2")


def test_tampered_code_url_is_refused(client, svc, tmp_path):
    code = py_zip()
    fn = create(client, svc, tmp_path, code)
    url = client.get_function_code(svc, fn).data["url"]
    parts = urlsplit(url)
    params = parse_qsl(parts.query, keep_blank_values=True)
    assert params, "the code URL should carry its signature and expiry in the query: {0}".format(url)
    assert requests.get(url, timeout=20).status_code == 200

    for key, value in params:
        bad = _tampered(url, key, _flip(value))
        r = requests.get(bad, timeout=20)
        assert r.status_code == 403, "changing {0!r} must be refused with 403, got {1}: {2}".format(
            key, r.status_code, r.text[:200])
        assert r.content != code

    stripped = urlunsplit(parts._replace(query=""))
    r = requests.get(stripped, timeout=20)
    assert r.status_code in (403, 404), "the URL without its query must not download: {0}".format(r.status_code)
    assert r.content != code


def test_code_url_of_another_function_cannot_be_forged(client, svc, tmp_path):
    """A URL signed for one package must not fetch another by editing the path."""
    code_a = py_zip("def handler(e, c):\n    return 'a'\n")
    code_b = py_zip("def handler(e, c):\n    return 'b'\n")
    fa = create(client, svc, tmp_path, code_a)
    fb = create(client, svc, tmp_path, code_b)
    ua = urlsplit(client.get_function_code(svc, fa).data["url"])
    ub = urlsplit(client.get_function_code(svc, fb).data["url"])
    if ua.path == ub.path:
        pytest.skip("code URLs differ only in the query; covered by test_tampered_code_url_is_refused")
    forged = urlunsplit(ua._replace(path=ub.path))
    r = requests.get(forged, timeout=20)
    assert r.status_code == 403, r.status_code
    assert r.content != code_b


# ------------------------------------------------------------------ package safety

def _raw_create(client, svc, fn, zip_b64):
    body = json.dumps({"functionName": fn, "runtime": "python3.9", "handler": "index.handler",
                       "code": {"zipFile": zip_b64}}).encode()
    return signed(client, "POST", "/2016-08-15/services/{0}/functions".format(svc), body=body)


@pytest.mark.parametrize("label,code", [
    ("path traversal", lambda: make_zip({"index.py": "x = 1\n"}, raw_names={"../evil.py": "boom"})),
    ("deep traversal", lambda: make_zip({"index.py": "x = 1\n"}, raw_names={"a/../../evil.py": "boom"})),
    ("absolute path", lambda: make_zip({"index.py": "x = 1\n"}, raw_names={"/tmp/ferric-evil.py": "boom"})),
    ("absolute symlink", lambda: make_zip({"index.py": "x = 1\n"}, symlinks={"passwd": "/etc/passwd"})),
    ("escaping symlink", lambda: make_zip({"index.py": "x = 1\n"}, symlinks={"up": "../../../etc"})),
])
def test_hostile_zip_is_refused(client, svc, tmp_path, label, code):
    fn = uniq("fn_evil")
    with raises_fc(400):
        client.create_function(svc, fn, runtime="python3.9", handler="index.handler",
                               codeZipFile=write_zip(tmp_path, code()))
    with raises_fc(404, "FunctionNotFound"):
        client.get_function(svc, fn)


def test_hostile_zip_on_update_keeps_old_code(client, svc, tmp_path):
    good = py_zip()
    fn = create(client, svc, tmp_path, good)
    evil = make_zip({"index.py": "x = 1\n"}, raw_names={"../evil.py": "boom"})
    with raises_fc(400):
        client.update_function(svc, fn, codeZipFile=write_zip(tmp_path, evil, "evil.zip"))
    data = client.get_function(svc, fn).data
    assert data["codeChecksum"] == str(crc64(good))
    url = client.get_function_code(svc, fn).data["url"]
    assert requests.get(url, timeout=20).content == good


def test_not_a_zip_is_refused(client, svc):
    fn = uniq("fn_notzip")
    check_json_error(_raw_create(client, svc, fn, base64.b64encode(b"this is not a zip").decode()), 400)
    check_json_error(_raw_create(client, svc, fn, "***not base64***"), 400)
    with raises_fc(404, "FunctionNotFound"):
        client.get_function(svc, fn)


@pytest.fixture(scope="module")
def huge_zip():
    """520 MiB of zeros, deflated to about half a MiB: over the 500 MiB unpacked limit and a bomb by ratio."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("index.py", "x = 1\n")
        with z.open("zeros.bin", "w", force_zip64=True) as f:
            chunk = b"\0" * (1 << 20)
            for _ in range(520):
                f.write(chunk)
    return buf.getvalue()


def test_zip_bomb_is_refused(client, svc, huge_zip):
    fn = uniq("fn_bomb")
    check_json_error(_raw_create(client, svc, fn, base64.b64encode(huge_zip).decode()), 400)
    with raises_fc(404, "FunctionNotFound"):
        client.get_function(svc, fn)


def test_symlink_inside_package_is_kept(client, svc, tmp_path):
    code = make_zip({"index.py": "def handler(e, c):\n    return 1\n", "lib/a.py": "A = 1\n"},
                    symlinks={"alias.py": "index.py", "lib/b.py": "a.py"})
    fn = create(client, svc, tmp_path, code)
    url = client.get_function_code(svc, fn).data["url"]
    dl = requests.get(url, timeout=20).content
    assert dl == code
    assert zip_read(dl, "alias.py") == b"index.py"
