"""FC's request signature for the schema-fuzzing run, as the official SDKs compute it.

`Authorization: FC <accessKeyId>:<base64(HMAC-SHA256(secret, StringToSign))>` with
StringToSign = METHOD, Content-MD5, Content-Type, Date, then the sorted `x-fc-*` header lines and the
resource (the percent-decoded path; HTTP-trigger paths add one sorted `key=value` line per query pair).
The same definition as `crates/types/src/signature.rs` and aliyun-fc2's `fc2/auth.py`.

Signing happens on the prepared `requests` request (a `requests.auth.AuthBase`), after the body is
encoded, so a multipart boundary or a generated `Content-Type` is signed exactly as sent.
"""

import base64
import email.utils
import hashlib
import hmac
import os
from urllib.parse import unquote, urlsplit

import requests


def canonical_headers(headers):
    lines = sorted((k.lower(), v) for k, v in headers.items() if k.lower().startswith("x-fc-"))
    return "".join("{0}:{1}\n".format(k, v) for k, v in lines)


def resource(path_url):
    parts = urlsplit(path_url)
    path = unquote(parts.path)
    if not path.startswith("/2016-08-15/proxy/"):
        return path
    lines = []
    for pair in parts.query.split("&") if parts.query else []:
        key, eq, value = pair.partition("=")
        key, value = unquote(key.replace("+", " ")), unquote(value.replace("+", " "))
        lines.append("{0}={1}".format(key, value) if eq else key)
    return path + "\n" + "\n".join(sorted(lines))


def sign(secret, method, headers, path_url):
    string_to_sign = "\n".join([
        method.upper(),
        headers.get("Content-MD5", ""),
        headers.get("Content-Type", ""),
        headers.get("Date", ""),
        canonical_headers(headers) + resource(path_url),
    ])
    digest = hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


class FcAuth(requests.auth.AuthBase):
    """Signs every request with one access key; the `Date` is always now (a fuzzed one is replaced)."""

    def __init__(self, key_id, secret):
        self.key_id = key_id
        self.secret = secret

    def __call__(self, r):
        r.headers["Date"] = email.utils.formatdate(usegmt=True)
        # Header values must be text for the signature to match what is sent.
        for name in list(r.headers):
            if isinstance(r.headers[name], bytes):
                r.headers[name] = r.headers[name].decode("latin-1")
        r.headers["Authorization"] = "FC {0}:{1}".format(
            self.key_id, sign(self.secret, r.method, r.headers, r.path_url))
        return r


def from_env():
    return FcAuth(os.environ["FC_ACCESS_KEY_ID"], os.environ["FC_ACCESS_KEY_SECRET"])
