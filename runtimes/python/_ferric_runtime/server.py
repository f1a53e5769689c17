"""The request loop: `ready`, `init`, then `initialize` / `invoke` until the control socket reaches EOF.

With instanceConcurrency 1 each request runs inline on the main thread (the reader), as FC's runtime does;
above 1, requests run on a pool of at most instanceConcurrency worker threads, started on demand, while the
main thread keeps reading. Answers are matched by id, so they may leave in any order.
"""
import os
import sys
import _thread

from . import frames, logs, loader
from .context import ContextFactory

BANNER = b"FunctionCompute python3 runtime inited.\n"

_channel = None
_contexts = None
_init = None
_handler_name = ""
_initializer_name = None
_multithread = False


def _exit_process(code):
    logs.flush_all()
    os._exit(code)


def _system_exit_code(exc):
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        sys.stderr.write(str(code) + "\n")
    except Exception:
        pass
    return 1


def handle(header, body):
    """Runs one `initialize` or `invoke` and sends its answer after its logs."""
    req_id = header.get("id", 0)
    rid = header.get("requestId") or ""
    logs.current_request.set(rid)
    logs.last_request_id = rid
    try:
        if header.get("type") == "initialize":
            answer = _initialize(header, rid)
        else:
            answer = _invoke(header, body, rid)
    except SystemExit as exc:
        _exit_process(_system_exit_code(exc))
    except Exception as exc:
        # A failure of the runtime itself: still an answer, never a silent hang.
        answer = frames.error_header(req_id), loader.to_json(loader.exception_body(exc)).encode("utf-8")
    except BaseException:
        # KeyboardInterrupt or another non-Exception: the process dies, as FC's would.
        try:
            import traceback
            traceback.print_exc()
        finally:
            _exit_process(1)
    logs.flush(rid)
    _channel.send(answer[0], answer[1])


def _error(req_id, rid, body, log_message):
    logs.log_error(rid, log_message)
    return frames.error_header(req_id), loader.to_json(body).encode("utf-8")


def _load(req_id, rid, name):
    """(callable, None) or (None, error answer)."""
    try:
        return loader.get(name), None
    except loader.LoadError as exc:
        # FC logs the error object itself (a dict) for load failures.
        return None, _error(req_id, rid, exc.body, repr(exc.body))


def _initialize(header, rid):
    req_id = header.get("id", 0)
    if not _initializer_name:
        return frames.result_header(req_id), b""
    fn, failed = _load(req_id, rid, _initializer_name)
    if failed:
        return failed
    try:
        fn(_contexts.make(header))
    except Exception as exc:
        body = loader.exception_body(exc)
        return _error(req_id, rid, body, loader.to_json(body))
    return frames.result_header(req_id), b""


def _invoke(header, body, rid):
    req_id = header.get("id", 0)
    fn = loader.cache.get(_handler_name)
    if fn is None:
        fn, failed = _load(req_id, rid, _handler_name)
        if failed:
            return failed
    context = _contexts.make(header)
    http = header.get("http")
    if http:
        from . import wsgi
        try:
            status, headers, data = wsgi.call(fn, http, body, context, _multithread)
        except Exception as exc:
            wsgi.log_traceback(rid)
            error = loader.exception_body(exc)
            return _error(req_id, rid, error, loader.to_json(error))
        return frames.http_result_header(req_id, status, headers), _bounded(data)
    try:
        data = loader.encode_result(fn(body, context))
    except Exception as exc:
        error = loader.exception_body(exc)
        return _error(req_id, rid, error, loader.to_json(error))
    return frames.result_header(req_id), _bounded(data)


def _bounded(data):
    # A body that cannot fit a frame is cut at the frame limit; the invoker then refuses it as over FC's
    # payload limit (far below this) instead of reading a malformed frame.
    limit = frames.MAX_FRAME - 4096
    return data if len(data) <= limit else memoryview(data)[:limit]


# ---- worker pool (instanceConcurrency > 1) ----

class _Pool(object):
    def __init__(self, size):
        from _queue import SimpleQueue
        self.size = size
        self.jobs = SimpleQueue()
        self.lock = _thread.allocate_lock()
        self.workers = 0
        self.idle = 0
        self.owed = 0   # jobs queued beyond the workers (only if the invoker sends more than allowed)

    def submit(self, header, body):
        spawn = False
        with self.lock:
            if self.idle > 0:
                self.idle -= 1
            elif self.workers < self.size:
                self.workers += 1
                spawn = True
            else:
                self.owed += 1
        self.jobs.put((header, body))
        if spawn:
            _thread.start_new_thread(self._work, ())

    def _work(self):
        jobs = self.jobs
        lock = self.lock
        while True:
            header, body = jobs.get()
            handle(header, body)
            with lock:
                if self.owed > 0:
                    self.owed -= 1
                else:
                    self.idle += 1


# ---- main ----

def _fatal(message):
    logs._write_fd(2, ("ferric python runtime: %s\n" % message).encode("utf-8", "replace"))
    os._exit(1)


def _specialize(header, code_dir):
    env = header.get("env")
    if isinstance(env, dict):
        os.environ.clear()
        for key, value in env.items():
            os.environ[str(key)] = str(value)
    try:
        os.chdir(os.environ.get("FC_FUNC_CODE_PATH") or code_dir)
    except OSError:
        pass
    import importlib
    sys.path_importer_cache.pop(code_dir, None)
    importlib.invalidate_caches()


def run(code_dir):
    global _channel, _contexts, _init, _handler_name, _initializer_name, _multithread
    fd = int(os.environ.pop("FERRIC_CONTROL_FD", "3") or "3")
    try:
        os.set_blocking(fd, True)
        os.set_inheritable(fd, False)
    except OSError as exc:
        _fatal("control socket fd %d unusable: %s" % (fd, exc))
    _channel = channel = frames.Channel(fd)
    if os.environ.pop("FERRIC_STEM_CELL", None):
        # A stem cell starts ahead of demand: what specialize and a first request would import lazily
        # (importlib to drop the cached listing of /code, json for results) is loaded now, off the path.
        import importlib  # noqa: F401
        import json  # noqa: F401
    version = "%d.%d.%d" % sys.version_info[:3]
    channel.send(b'{"type":"ready","runtime":"python ' + version.encode("ascii") + b'"}')

    loader.code_dir = code_dir
    logs.install(channel)

    try:
        init_frame = channel.read()
    except (frames.FrameError, ValueError) as exc:
        _fatal("malformed frame: %s" % exc)
    if init_frame is None:
        os._exit(0)
    _init = init_frame[0]
    if _init.get("type") == "specialize":
        # A stem cell: its function's environment, and the code now mounted over the empty directory it
        # started in (the cwd and any cached listing still name the old one). `init` follows.
        _specialize(_init, code_dir)
        try:
            init_frame = channel.read()
        except (frames.FrameError, ValueError) as exc:
            _fatal("malformed frame: %s" % exc)
        if init_frame is None:
            os._exit(0)
        _init = init_frame[0]
    if _init.get("type") != "init":
        _fatal("expected init, got %r" % _init.get("type"))
    concurrency = int(_init.get("instanceConcurrency") or 1)
    logs.concurrency = concurrency
    _multithread = concurrency > 1
    _contexts = ContextFactory(_init)
    _handler_name = _contexts.function.handler
    _initializer_name = _contexts.function.initializer
    dispatch = _Pool(concurrency).submit if concurrency > 1 else handle

    read = channel.read
    first = True
    while True:
        try:
            frame = read()
        except (frames.FrameError, ValueError) as exc:
            _fatal("malformed frame: %s" % exc)
        if frame is None:
            break
        kind = frame[0].get("type")
        if kind == "invoke" or kind == "initialize":
            if first:
                # FC prints this when the instance starts; it lands in the first request's log.
                first = False
                logs.write(frame[0].get("requestId") or "", BANNER)
            dispatch(frame[0], frame[1])
        # Other types are not part of the protocol yet; they are ignored.
    _exit_process(0)
