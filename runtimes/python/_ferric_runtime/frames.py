"""The control socket: frames of runtimes/PROTOCOL.md over a raw file descriptor.

    u32 BE total length N (4 + H + body) | u32 BE header length H | H bytes JSON header | body

The descriptor is used with os.read/os.write rather than the socket module (which costs milliseconds to
import at every cold start). JSON headers are parsed with the C scanner of `_json`, which avoids importing
`json` (and `re`) on the start path; headers we send are formatted by hand.
"""
import os
import _thread

MAX_FRAME = 64 * 1024 * 1024 + 64 * 1024
_READ_SIZE = 256 * 1024
_JOIN_LIMIT = 64 * 1024


class FrameError(Exception):
    """A malformed frame: the peer closes the socket."""


try:
    from _json import encode_basestring_ascii as quote
    from _json import make_scanner as _make_scanner
except ImportError:  # not CPython: fall back to the json package
    _make_scanner = None

    def quote(s):
        import json
        return json.dumps(s)


def _constant(name):
    return {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}[name]


class _ScanContext(object):
    # The attributes _json's scanner reads from a JSONDecoder.
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = staticmethod(_constant)


_scan = _make_scanner(_ScanContext()) if _make_scanner is not None else None
_WS = " \t\r\n"


def parse_header(raw):
    """Decodes a JSON object from bytes."""
    text = bytes(raw).decode("utf-8")
    if _scan is None:
        import json
        value = json.loads(text)
    else:
        start = len(text) - len(text.lstrip(_WS))
        try:
            value, end = _scan(text, start)
        except StopIteration:
            raise FrameError("header is not JSON")
        if text[end:].strip(_WS):
            raise FrameError("trailing data after the JSON header")
    if not isinstance(value, dict):
        raise FrameError("header is not a JSON object")
    return value


class Channel(object):
    """Reads frames on one thread; sends frames from any thread (one lock, one write per frame)."""

    def __init__(self, fd):
        self.fd = fd
        self._buf = b""
        self._wlock = _thread.allocate_lock()
        self.closed = False

    # ---- reading (one reader thread) ----

    def read(self):
        """The next (header dict, body bytes), or None at EOF. Raises FrameError when malformed."""
        fd = self.fd
        buf = self._buf
        while len(buf) < 8:
            chunk = os.read(fd, _READ_SIZE)
            if not chunk:
                if buf:
                    raise FrameError("EOF inside a frame")
                return None
            buf = buf + chunk if buf else chunk
        total = int.from_bytes(buf[0:4], "big")
        hlen = int.from_bytes(buf[4:8], "big")
        if total < 4 or total > MAX_FRAME or hlen > total - 4:
            raise FrameError("bad lengths %d/%d" % (total, hlen))
        end = 4 + total
        have = len(buf)
        if have < end:
            if end - have <= _READ_SIZE:
                while len(buf) < end:
                    chunk = os.read(fd, _READ_SIZE)
                    if not chunk:
                        raise FrameError("EOF inside a frame")
                    buf += chunk
            else:
                # Large frame: read straight into one preallocated buffer.
                whole = bytearray(end)
                whole[:have] = buf
                view = memoryview(whole)
                pos = have
                while pos < end:
                    n = os.readv(fd, [view[pos:]])
                    if n == 0:
                        raise FrameError("EOF inside a frame")
                    pos += n
                header = parse_header(view[8:8 + hlen])
                body = bytes(view[8 + hlen:end])
                view.release()
                self._buf = b""
                return header, body
        header = parse_header(buf[8:8 + hlen])
        body = buf[8 + hlen:end]
        self._buf = buf[end:] if len(buf) > end else b""
        return header, body

    # ---- writing (any thread) ----

    def send(self, header, body=b""):
        """Sends one frame; `header` is the JSON header as bytes, `body` any bytes-like object."""
        hlen = len(header)
        blen = len(body)
        prefix = (4 + hlen + blen).to_bytes(4, "big") + hlen.to_bytes(4, "big")
        if blen <= _JOIN_LIMIT:
            data = b"".join((prefix, header, body))
            with self._wlock:
                self._write(data)
        else:
            with self._wlock:
                self._write(prefix + header)
                self._write(body)

    def _write(self, data):
        if self.closed:
            return
        fd = self.fd
        try:
            n = os.write(fd, data)
            if n < len(data):
                view = memoryview(data)
                while n < len(view):
                    n += os.write(fd, view[n:])
        except OSError:
            # The invoker has gone: nothing can be answered any more.
            os._exit(0)


def result_header(req_id):
    return b'{"type":"result","id":%d}' % req_id


def error_header(req_id, error_type="UnhandledInvocationError"):
    return b'{"type":"error","id":%d,"errorType":"%s"}' % (req_id, error_type.encode("ascii"))


def http_result_header(req_id, status, headers):
    """`headers`: dict name -> list of str values."""
    parts = []
    for name, values in headers.items():
        parts.append("%s:[%s]" % (quote(name), ",".join([quote(v) for v in values])))
    return ('{"type":"result","id":%d,"http":{"status":%d,"headers":{%s}}}'
            % (req_id, status, ",".join(parts))).encode("ascii")


def log_header(request_id):
    return ('{"type":"log","requestId":%s}' % quote(request_id)).encode("ascii")
