"""Request-attributed output: `log` frames, the sys.stdout/sys.stderr writers and FC's logging format.

Every piece of output belongs to a request id: the one in the `current_request` context variable (set at
the start of each request on the thread that runs it), or else the most recent request's id. Text is
line-buffered per request id and each complete piece goes out as one `log` frame of at most MAX_LOG bytes;
server.py flushes a request's partial line before answering it.

Logging is configured the moment user code imports `logging` (a sys.meta_path hook), so that a handler
which never logs does not pay for importing it: the root logger gets one handler writing
`%(asctime)s.%(msecs)03dZ %(fc_request_id)s [%(levelname)s] %(message)s` in UTC, level FC_SERVER_LOG_LEVEL.
"""
import io
import os
import sys
import time
import _thread
from contextvars import ContextVar

from . import frames

MAX_LOG = 256 * 1024
LOG_FORMAT = "%(asctime)s.%(msecs)03dZ %(fc_request_id)s [%(levelname)s] %(message)s"
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S"
_LEVELS = {"CRITICAL": 50, "FATAL": 50, "ERROR": 40, "WARN": 30, "WARNING": 30, "INFO": 20, "DEBUG": 10,
           "NOTSET": 0}

current_request = ContextVar("fc_request_id", default=None)
last_request_id = ""      # the most recent request's id (server.py sets it)
concurrency = 1           # instanceConcurrency (server.py sets it)
forked = False            # True in a child made by os.fork(): write to fds 1/2, not the socket

_channel = None
_plock = _thread.allocate_lock()
_pending = {}             # request id -> [size, [bytes, ...]]  (partial lines)
_header_cache = [None, b""]
_level_name = "INFO"
_logging_ready = False
_fixed_handler = None


def request_id():
    rid = current_request.get()
    return last_request_id if rid is None else rid


def _encode(text):
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace")


def _send(rid, data):
    # Caller holds _plock, so the frames of one request leave in the order they were written.
    if _header_cache[0] != rid:
        _header_cache[0] = rid
        _header_cache[1] = frames.log_header(rid)
    header = _header_cache[1]
    if len(data) <= MAX_LOG:
        _channel.send(header, data)
        return
    view = memoryview(data)
    for start in range(0, len(view), MAX_LOG):
        _channel.send(header, view[start:start + MAX_LOG])


def _write_fd(fd, data):
    try:
        view = memoryview(data)
        while len(view):
            view = view[os.write(fd, view):]
    except OSError:
        pass


def write(rid, data):
    """Logs `data` (bytes) against request `rid`."""
    if not data:
        return
    if forked or _channel is None:
        _write_fd(1, data)
        return
    complete = data[-1:] == b"\n"
    with _plock:
        entry = _pending.get(rid)
        if entry is None:
            if complete:
                _send(rid, data)
            elif len(data) >= MAX_LOG:
                _send(rid, data)
            else:
                _pending[rid] = [len(data), [data]]
            return
        entry[0] += len(data)
        entry[1].append(data)
        if complete or entry[0] >= MAX_LOG:
            del _pending[rid]
            _send(rid, b"".join(entry[1]))


def flush(rid):
    """Sends what request `rid` wrote without a final newline."""
    if _pending and not forked:
        with _plock:
            entry = _pending.pop(rid, None)
            if entry is not None:
                _send(rid, b"".join(entry[1]))


def flush_all():
    with _plock:
        for rid in list(_pending):
            entry = _pending.pop(rid)
            if _channel is not None and not forked:
                _send(rid, b"".join(entry[1]))


class _LogStream(object):
    """What the text and binary writers share: an unseekable, write-only stream into the request log whose
    fileno() is the real descriptor, so a child process given it writes to the pipe the invoker reads."""

    def writelines(self, lines):
        for line in lines:
            self.write(line)

    def flush(self):
        flush(request_id())

    def fileno(self):
        return self._fd

    def isatty(self):
        return False

    def readable(self):
        return False

    def writable(self):
        return True

    def seekable(self):
        return False

    def close(self):
        pass


class _BinaryWriter(_LogStream):
    """sys.stdout.buffer / sys.stderr.buffer."""

    mode = "wb"
    closed = False

    def __init__(self, fd, name):
        self._fd = fd
        self.name = name

    def write(self, data):
        n = len(data)
        if n:
            write(request_id(), bytes(data))
        return n


class RequestWriter(_LogStream, io.TextIOBase):
    """sys.stdout / sys.stderr: text goes to the current request's log, as written."""

    encoding = "utf-8"
    errors = "strict"
    newlines = None
    line_buffering = True
    mode = "w"

    def __init__(self, fd, name):
        io.TextIOBase.__init__(self)
        self._fd = fd
        self.name = name
        self.buffer = _BinaryWriter(fd, name)

    def write(self, text):
        if type(text) is not str and not isinstance(text, str):
            raise TypeError("write() argument must be str, not %s" % type(text).__name__)
        if text:
            write(request_id(), _encode(text))
        return len(text)


def format_line(rid, level, message):
    """One line in FC's logging format, without the logging module."""
    now = time.time()
    return "%s.%03dZ %s [%s] %s\n" % (time.strftime(DATE_FORMAT, time.gmtime(now)),
                                     int((now - int(now)) * 1000), rid, level, message)


def log_error(rid, message):
    """Logs `message` at ERROR as FC's runtime does before answering an error."""
    logging = sys.modules.get("logging")
    if _logging_ready and logging is not None:
        logging.getLogger().error(message)
    elif _LEVELS.get(_level_name, 20) <= 40:
        write(rid, _encode(format_line(rid, "ERROR", message)))


# ---- logging ----

def configure_logging(logging):
    """Installs FC's handler on the root logger (FC replaces any handlers there)."""
    global _logging_ready, _fixed_handler

    class FCLogHandler(logging.Handler):
        def emit(self, record):
            try:
                text = self.format(record)
                if text[-1:] != "\n":
                    text += "\n"
                write(record.fc_request_id, _encode(text))
            except RecursionError:
                raise
            except Exception:
                self.handleError(record)

    def current_id(record):
        record.fc_request_id = request_id()
        return True

    def logger_name_id(record):
        record.fc_request_id = record.name
        return True

    logging.Formatter.converter = time.gmtime   # as FC: every formatter prints UTC
    formatter = logging.Formatter(LOG_FORMAT, DATE_FORMAT)
    handler = FCLogHandler()
    handler.setFormatter(formatter)
    handler.addFilter(current_id)
    fixed = FCLogHandler()
    fixed.setFormatter(formatter)
    fixed.addFilter(logger_name_id)
    _fixed_handler = fixed
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(_level_name)
    _logging_ready = True


def get_logger(rid):
    """context.getLogger(): the root logger (FC with instanceConcurrency 1), else a logger bound to `rid`."""
    logging = sys.modules.get("logging")
    if logging is None:
        import logging
    if concurrency <= 1:
        return logging.getLogger()
    logger = logging.Logger(rid)
    logger.addHandler(_fixed_handler)
    logger.setLevel(_level_name)
    return logger


class _LoggingLoader(object):
    def __init__(self, inner):
        self._inner = inner

    def create_module(self, spec):
        create = getattr(self._inner, "create_module", None)
        return create(spec) if create is not None else None

    def exec_module(self, module):
        self._inner.exec_module(module)
        configure_logging(module)

    def __getattr__(self, name):
        return getattr(self._inner, name)


class _LoggingFinder(object):
    """Configures `logging` right after the first `import logging`, then leaves sys.meta_path."""

    def find_spec(self, name, path=None, target=None):
        if name != "logging":
            return None
        try:
            sys.meta_path.remove(self)
        except ValueError:
            pass
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            if find is None:
                continue
            spec = find(name, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _LoggingLoader(spec.loader)
                return spec
        return None


def _after_fork_in_child():
    global forked, _plock
    forked = True
    _plock = _thread.allocate_lock()   # another thread may have held it at fork time
    _pending.clear()
    if _channel is not None:
        _channel.closed = True
        try:
            os.close(_channel.fd)
        except OSError:
            pass


def install(channel):
    """Routes sys.stdout, sys.stderr and logging into `channel`."""
    global _channel, _level_name
    _channel = channel
    level = (os.environ.get("FC_SERVER_LOG_LEVEL") or "INFO").strip().upper()
    _level_name = level if level in _LEVELS else "INFO"
    sys.stdout = RequestWriter(1, "<stdout>")
    sys.stderr = RequestWriter(2, "<stderr>")
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=_after_fork_in_child)
    if "logging" in sys.modules:
        configure_logging(sys.modules["logging"])
    else:
        sys.meta_path.insert(0, _LoggingFinder())
