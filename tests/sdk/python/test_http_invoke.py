"""HTTP triggers through the Python SDK (`do_http_request`): authType function (signed with the proxy rule: decoded
path, then sorted `key=value` query lines) and anonymous, methods enforced, and method, path, headers, query and
body reaching WSGI and Node handlers with status, headers and body coming back unchanged. Mirrors fc-python-sdk
test/trigger_test.py test_http_trigger and its hello_world/main.py wsgi_echo_handler."""

import base64
import json
from urllib.parse import parse_qs, unquote

import pytest
import requests

from fcutil import CRASH_PREFIX, UUID_RE, check_json_error



def proxy_url(client, svc, fn, path="/"):
    return "{0}/2016-08-15/proxy/{1}/{2}{3}".format(client.endpoint, svc, fn, path)


def add_http_trigger(client, svc, fn, auth_type, methods):
    config = {"authType": auth_type, "methods": methods}
    client.create_trigger(svc, fn, "http", "http", config, None, None)
    return fn


@pytest.fixture
def wsgi_fn(client, svc, deploy):
    """The WSGI echo app behind an authType=function trigger allowing GET and POST."""
    return add_http_trigger(client, svc, deploy("python", "wsgi.echo"), "function", ["GET", "POST"])


@pytest.fixture
def raw_fn(client, svc, deploy):
    """The WSGI byte-echo app behind an anonymous trigger allowing POST and PUT."""
    return add_http_trigger(client, svc, deploy("python", "wsgi.raw"), "anonymous", ["POST", "PUT"])


# ------------------------------------------------------------------ authType function

def test_signed_post_with_spaces_and_repeated_query_keys(client, svc, wsgi_fn):
    # The SDK's own call: an escaped path (signed unescaped), query keys and values with spaces, a custom header.
    params = {"key with space": "value with space", "key": "value", "multi": ["b", "a"]}
    r = client.do_http_request("POST", svc, wsgi_fn, "/action%20with%20space", headers={"Foo": "Bar"},
                               params=params, body="hello world")
    assert r.status_code == 202, (r.status_code, r.text)
    assert r.headers["key1"] == "value1" and r.headers["key2"] == "value2", "custom response headers must pass"
    rid = r.headers.get("x-fc-request-id", "")
    assert UUID_RE.match(rid), r.headers

    d = r.json()
    assert d["body"] == "hello world"
    assert d["method"] == "POST"
    assert d["path"] == "/action with space", "PATH_INFO is the decoded path after the function name"
    assert parse_qs(d["query_string"]) == {"key with space": ["value with space"], "key": ["value"],
                                           "multi": ["b", "a"]}, d["query_string"]
    assert d["foo"] == "Bar"
    assert d["content_length"] == "11"
    assert d["client_ip"] == "127.0.0.1"
    assert unquote(d["request_uri"]).startswith(
        "/2016-08-15/proxy/{0}/{1}/action with space?".format(svc, wsgi_fn)), d["request_uri"]
    assert d["request_id"] == rid, "environ['fc.context'].request_id must equal X-Fc-Request-Id"
    assert d["function_name"] == wsgi_fn
    # The app's own Content-Type, once (not next to a default one).
    assert r.raw.headers.getlist("Content-Type") == ["application/json"], r.raw.headers


def test_signed_request_encoding_edge_cases(client, svc, wsgi_fn):
    # Non-ASCII, '+', '=' and '&' in values, an empty value and an x-fc-* header: all inside the proxy signature.
    params = {"plus": "a+b", "eq": "x=y&z", "empty": "", "ключ": "значение"}
    r = client.do_http_request("GET", svc, wsgi_fn, "/caf%C3%A9/a+b", params=params,
                               headers={"x-fc-trace-id": "trace-1"})
    assert r.status_code == 202, (r.status_code, r.text)
    d = r.json()
    # PEP 3333 would carry the UTF-8 bytes as latin-1 text; either form names the same decoded path.
    assert d["path"] in ("/café/a+b", "/café/a+b".encode().decode("latin-1")), d["path"]
    assert parse_qs(d["query_string"], keep_blank_values=True) == {k: [v] for k, v in params.items()}, \
        d["query_string"]


def test_signed_get_root_and_qualifier(client, svc, wsgi_fn):
    r = client.do_http_request("GET", svc, wsgi_fn, "")
    assert r.status_code == 202, (r.status_code, r.text)
    d = r.json()
    assert d["method"] == "GET"
    assert d["path"] == "/", "an empty sub-path reaches the app as '/'"
    assert d["body"] == ""
    assert d["content_length"] in ("", "0"), d

    r = client.do_http_request("GET", svc + ".LATEST", wsgi_fn, "/q", params={"a": "1"})
    assert r.status_code == 202, (r.status_code, r.text)
    assert r.json()["path"] == "/q"
    assert parse_qs(r.json()["query_string"]) == {"a": ["1"]}


def test_function_auth_rejects_bad_signatures(client, other_client, svc, wsgi_fn, make_client, creds):
    # Unsigned.
    r = requests.post(proxy_url(client, svc, wsgi_fn, "/x"), data="a", timeout=20)
    check_json_error(r, 403)
    # Wrong secret.
    bad = make_client(creds["accessKeyID"], "not-the-secret")
    r = bad.do_http_request("POST", svc, wsgi_fn, "/x", params={"a": "1"}, body="a")
    check_json_error(r, 403, "SignatureNotMatch")
    # Signed for one query, sent with another: the query is part of the proxy signature.
    path = "/2016-08-15/proxy/{0}/{1}/x".format(svc, wsgi_fn)
    headers = client._build_common_headers("GET", path, {}, {"a": "1"})
    r = requests.get(client.endpoint + path, headers=headers, params={"a": "2"}, timeout=20)
    check_json_error(r, 403, "SignatureNotMatch")
    # ... and the same request with the query it was signed for passes.
    r = requests.get(client.endpoint + path, headers=headers, params={"a": "1"}, timeout=20)
    assert r.status_code == 202, (r.status_code, r.text)
    # Another account's valid signature does not reach this account's function.
    r = other_client.do_http_request("POST", svc, wsgi_fn, "/x", body="a")
    assert r.status_code in (403, 404), (r.status_code, r.text)
    check_json_error(r, r.status_code)


def test_methods_are_enforced(client, svc, wsgi_fn):
    for method in ("PUT", "DELETE"):
        r = client.do_http_request(method, svc, wsgi_fn, "/x")
        check_json_error(r, 405)


def test_unknown_function_or_no_http_trigger(client, svc, deploy):
    fn = deploy("python", "main.hello")  # no trigger
    check_json_error(client.do_http_request("POST", svc, fn, "/"), 404)
    check_json_error(client.do_http_request("POST", svc, "no_such_function", "/"), 404)


# ------------------------------------------------------------------ anonymous, bytes, status, headers

def test_anonymous_binary_echo_status_and_repeated_headers(client, svc, raw_fn):
    body = b"\x89PNG\r\n\x1a\n\x00\xff" + bytes(range(256))
    r = requests.post(proxy_url(client, svc, raw_fn, "/upload"), params={"status": "201"}, data=body,
                      headers={"Content-Type": "image/png"}, timeout=20)
    assert r.status_code == 201, (r.status_code, r.text)
    assert r.content == body, "the body must pass through byte for byte, both ways"
    assert r.raw.headers.getlist("X-Multi") == ["one", "two"], r.raw.headers
    assert UUID_RE.match(r.headers.get("x-fc-request-id", "")), r.headers
    content_type_png = r.raw.headers.getlist("Content-Type")

    # The SDK's signed request works on an anonymous trigger too (the signature is simply not checked).
    r = client.do_http_request("PUT", svc, raw_fn, "/teapot", headers={"Content-Type": "text/plain"},
                               params={"status": "418"}, body=b"short and stout")
    assert r.status_code == 418, (r.status_code, r.text)
    assert r.content == b"short and stout"
    content_type_text = r.raw.headers.getlist("Content-Type")

    check_json_error(requests.get(proxy_url(client, svc, raw_fn, "/"), timeout=20), 405)

    # The app's own Content-Type, once (not next to a default one).
    assert content_type_png == ["image/png"], content_type_png
    assert content_type_text == ["text/plain"], content_type_text


def test_wsgi_exception_is_502(client, svc, deploy):
    fn = add_http_trigger(client, svc, deploy("python", "wsgi.fail"), "anonymous", ["POST"])
    r = requests.post(proxy_url(client, svc, fn, "/"), data="x", timeout=20)
    assert r.status_code == 502, (r.status_code, r.text)
    assert r.headers.get("x-fc-error-type") == "UnhandledInvocationError", r.headers
    assert r.headers.get("content-type", "").startswith("application/json"), r.headers
    d = r.json()
    assert d["errorMessage"] == "wsgi app failed", d
    assert d["errorType"] == "RuntimeError", d
    assert "ErrorCode" not in d


def test_wsgi_crash_is_502_and_recovers(client, svc, deploy):
    fn = add_http_trigger(client, svc, deploy("python", "wsgi.crash"), "function", ["POST"])
    for _ in range(2):  # a fresh instance each time
        r = client.do_http_request("POST", svc, fn, "/", body="x")  # POST: the SDK does not retry 502 on it
        assert r.status_code == 502, (r.status_code, r.text)
        assert r.headers.get("x-fc-error-type") == "UnhandledInvocationError", r.headers
        assert r.json()["errorMessage"].startswith(CRASH_PREFIX), r.text


# ------------------------------------------------------------------ a Node HTTP handler

def test_node_http_handler_signed(client, svc, deploy):
    fn = add_http_trigger(client, svc, deploy("node", "main.httpEcho"), "function", ["GET", "POST"])
    body = b"\x00\x01 binary \xff\xfe"
    params = {"key with space": "value with space", "k": ["b", "a"]}
    r = client.do_http_request("POST", svc, fn, "/a%20b/c", headers={"Foo": "Bar"}, params=params, body=body)
    assert r.status_code == 202, (r.status_code, r.text)
    d = json.loads(r.content)  # the handler sends JSON text without a Content-Type, as the SDK's fixture does
    assert d["method"] == "POST"
    assert d["path"] == "/a b/c"
    assert d["queries"] == {"key with space": "value with space", "k": ["b", "a"]}, d["queries"]
    assert d["headers"]["foo"] == "Bar"
    assert base64.b64decode(d["bodyBase64"]) == body, "raw-body must see the exact request bytes"
    assert d["clientIP"] == "127.0.0.1"
    assert d["requestId"] == r.headers["x-fc-request-id"]
    assert r.raw.headers.getlist("k") == ["b", "a"], "setHeader(k, [..]) sends the header once per value"
