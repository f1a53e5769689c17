"""HTTP-trigger requests as WSGI (PEP 3333) calls: `handler(environ, start_response)`.

The environ follows FC's fc_rapis_wsgi: the process environment, then CGI/WSGI keys, HTTP_* for every
request header (values joined with ","; Content-Type only as CONTENT_TYPE), CONTENT_LENGTH always (the body
length, "0" when empty), REMOTE_ADDR, fc.context, fc.request_uri and HTTP_X_FC_FUNCTION_HANDLER.
"""
import io
import os
import sys

from . import logs

_STATIC = {
    "HTTP": "on",
    "SCRIPT_NAME": "",
    "SERVER_PROTOCOL": "HTTP/1.1",
    "SERVER_SOFTWARE": "FCRUNTIME/1.0",
    "wsgi.version": (1, 0),
    "wsgi.url_scheme": "http",
    "wsgi.multiprocess": False,
    "wsgi.run_once": False,
}


def _query_string(http):
    uri = http.get("requestURI") or ""
    mark = uri.find("?")
    if mark >= 0:
        return uri[mark + 1:]
    queries = http.get("queries") or {}
    if not queries:
        return ""
    from urllib.parse import quote
    parts = []
    for name, values in queries.items():
        if not isinstance(values, list):
            values = [values]
        for value in values:
            parts.append(quote(str(name), safe="") + "=" + quote(str(value), safe=""))
    return "&".join(parts)


_env_cache = [None, {}]   # [raw os.environ data it was decoded from, decoded copy]


def _process_environment():
    # dict(os.environ) decodes every entry (~0.4 us each); reuse the decoded copy while nothing changed.
    raw = getattr(os.environ, "_data", None)
    if raw is None:
        return dict(os.environ)
    if raw != _env_cache[0]:
        _env_cache[0] = dict(raw)
        _env_cache[1] = dict(os.environ)
    return _env_cache[1].copy()


def environ_for(http, body, context, multithread):
    environ = _process_environment()
    environ.update(_STATIC)
    host = http.get("host") or ""
    name, colon, port = host.rpartition(":")
    if not colon or not port.isdigit() or "]" in port:
        name, port = host, "80"
    environ["SERVER_NAME"] = name or "localhost"
    environ["SERVER_PORT"] = port
    environ["REQUEST_METHOD"] = http.get("method") or "GET"
    environ["PATH_INFO"] = http.get("path") or "/"
    environ["QUERY_STRING"] = _query_string(http)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ["CONTENT_TYPE"] = "application/octet-stream"
    environ["REMOTE_ADDR"] = http.get("clientIP") or ""
    for key, values in (http.get("headers") or {}).items():
        value = ",".join(values) if isinstance(values, list) else str(values)
        if key.lower() == "content-type":
            environ["CONTENT_TYPE"] = value
        elif key.lower() == "content-length":
            # CGI carries the length only as CONTENT_LENGTH, computed from the body actually received.
            continue
        else:
            environ["HTTP_" + key.upper().replace("-", "_")] = value
    if "HTTP_HOST" not in environ and host:
        environ["HTTP_HOST"] = host
    environ["HTTP_X_FC_FUNCTION_HANDLER"] = context.function.handler
    environ["wsgi.input"] = io.BytesIO(body)
    environ["wsgi.errors"] = sys.stderr
    environ["wsgi.multithread"] = multithread
    environ["fc.context"] = context
    environ["fc.request_uri"] = http.get("requestURI") or ""
    return environ


class StartResponse(object):
    def __init__(self):
        self.status = None
        self.headers = None
        self.written = []

    def __call__(self, status, headers, exc_info=None):
        # Nothing is sent before the app returns, so a second call (with exc_info) just replaces the first.
        code = int(str(status).split()[0])
        grouped = {}
        for name, value in headers:
            name = str(name)
            values = grouped.get(name)
            if values is None:
                grouped[name] = [str(value)]
            else:
                values.append(str(value))
        self.status = code
        self.headers = grouped
        return self.written.append


def _as_bytes(chunk):
    if isinstance(chunk, (bytes, bytearray, memoryview)):
        return chunk
    if isinstance(chunk, str):
        return chunk.encode("utf-8")
    raise Exception("invalid response type")


def call(app, http, body, context, multithread):
    """Runs the app: (status, headers dict, body bytes). Exceptions propagate to the caller."""
    start = StartResponse()
    result = app(environ_for(http, body, context, multithread), start)
    try:
        if isinstance(result, (bytes, bytearray)):
            chunks = [result]            # a bare bytes return is the body, not an iterable of ints
        elif isinstance(result, str):
            chunks = [result.encode("utf-8")]
        elif result is None:
            chunks = []
        else:
            chunks = [_as_bytes(chunk) for chunk in result]
    finally:
        close = getattr(result, "close", None)
        if close is not None and not isinstance(result, (bytes, bytearray, str)):
            close()
    if start.status is None:
        raise Exception("start_response was not called")
    if start.written:
        chunks = [_as_bytes(c) for c in start.written] + chunks
    data = chunks[0] if len(chunks) == 1 and type(chunks[0]) is bytes else b"".join(chunks)
    return start.status, start.headers, data


def log_traceback(rid):
    """FC logs the traceback of a failed WSGI call before its error JSON."""
    import traceback
    logs.log_error(rid, traceback.format_exc())
