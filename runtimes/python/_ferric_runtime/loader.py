"""Handler loading, result encoding and error bodies, as FC's Python runtime does them.

Error bodies are `json.dumps(..., indent=4, sort_keys=True)` like FC's `to_json`. Load failures:

    ImportError (incl. a missing module)  -> ImportModuleError   "Unable to import module '<module>'"
    SyntaxError                           -> UserCodeSyntaxError "Syntax error in module '<module>'"
    ValueError                            -> InvalidHandleName   "Invalid handler '<module>'"
    any other exception at import         -> UserCodeError       "Module initialization error: '<str(e)>'"
    handler without a dot                 -> InvalidHandleName   "Invalid handler '<handler>'"

each with FC's stackTrace: the lines of `traceback.format_exception_only` of the cause, the first one
split at commas. A missing function is exactly {"errorMessage": "Handler 'X' missing on module 'Y'"}
(runtimes/PROTOCOL.md). Load failures are not cached: the next request tries again, as on FC.
"""
import os
import sys
import _thread

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))
_BOOTSTRAP = os.path.join(os.path.dirname(_PACKAGE_DIR), "bootstrap.py")

cache = {}            # handler name -> callable (successes only)
_lock = _thread.allocate_lock()
code_dir = "."


class LoadError(Exception):
    """A handler that cannot be loaded; `body` is the error object, `log` what FC logs for it."""

    def __init__(self, body):
        Exception.__init__(self, body.get("errorMessage"))
        self.body = body


def to_json(value):
    import json
    return json.dumps(value, default=_default, indent=4, sort_keys=True)


def _default(obj):
    # FC's serializer: Decimal -> float, date/datetime -> isoformat, objects with to_json() -> its value.
    decimal = sys.modules.get("decimal")
    if decimal is not None and isinstance(obj, decimal.Decimal):
        return float(obj)
    datetime = sys.modules.get("datetime")
    if datetime is not None and isinstance(obj, (datetime.datetime, datetime.date)):
        return obj.isoformat()
    if hasattr(obj, "to_json"):
        return obj.to_json()
    raise TypeError(repr(obj) + " is not JSON serializable")


def encode_result(value):
    """A handler's return value as body bytes (runtimes/PROTOCOL.md): may raise TypeError/ValueError."""
    kind = type(value)
    if kind is str:
        return value.encode("utf-8")
    if kind is bytes:
        return value
    if value is None:
        return b""
    if kind is bool:
        return b"true" if value else b"false"
    if kind is int:
        return str(value).encode("ascii")
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, str):
        return str(value).encode("utf-8")
    return to_json(value).encode("utf-8")


def _frames(tb):
    import traceback
    out = []
    for entry in traceback.extract_tb(tb):
        filename = entry.filename
        if filename == _BOOTSTRAP or os.path.dirname(filename) == _PACKAGE_DIR:
            continue
        out.append(['File "%s"' % filename, "line %s" % entry.lineno, "in %s" % entry.name,
                    (entry.line or "").strip()])
    return out


def exception_body(exc, tb=None):
    """{"errorMessage", "errorType", "stackTrace": [[file, line, fn, code], ...]} for an exception."""
    body = {"errorMessage": _str(exc), "errorType": type(exc).__name__}
    trace = _frames(tb if tb is not None else exc.__traceback__)
    if trace:
        body["stackTrace"] = trace
    return body


def _str(exc):
    try:
        return str(exc)
    except Exception:
        return "<unprintable %s object>" % type(exc).__name__


def _cause_lines(exc):
    import traceback
    lines = []
    for index, chunk in enumerate(traceback.format_exception_only(type(exc), exc)):
        for line in chunk.split("\n"):
            line = line.replace("^", "").strip()
            if not line:
                continue
            if index == 0:
                lines.extend(part.strip() for part in line.split(",") if part.strip())
            else:
                lines.append(line)
    return lines


def _load_failure(error_type, message, cause):
    body = {"errorMessage": message, "errorType": error_type}
    lines = _cause_lines(cause)
    if lines:
        body["stackTrace"] = lines
    return LoadError(body)


def _import(modname):
    module = sys.modules.get(modname)
    if module is not None:
        return module
    slash = modname.rfind("/")
    if slash < 0:
        __import__(modname)
        return sys.modules[modname]
    # FC accepts "dir/sub/module.func": module.py is looked up in <code>/dir/sub.
    from importlib.machinery import PathFinder
    from importlib.util import module_from_spec
    search = [os.path.join(code_dir, modname[:slash])]
    spec = None
    for segment in modname[slash + 1:].split("."):
        spec = PathFinder.find_spec(segment, search)
        if spec is None:
            raise ModuleNotFoundError("No module named %r" % segment, name=segment)
        search = spec.submodule_search_locations
    module = module_from_spec(spec)
    sys.modules[modname] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(modname, None)
        raise
    return module


def _load(handler):
    try:
        modname, fname = handler.rsplit(".", 1)
    except ValueError as exc:
        raise _load_failure("InvalidHandleName", "Invalid handler '%s'" % handler, exc)
    try:
        module = _import(modname)
    except ImportError as exc:
        raise _load_failure("ImportModuleError", "Unable to import module '%s'" % modname, exc)
    except SyntaxError as exc:
        raise _load_failure("UserCodeSyntaxError", "Syntax error in module '%s'" % modname, exc)
    except ValueError as exc:
        raise _load_failure("InvalidHandleName", "Invalid handler '%s'" % modname, exc)
    except Exception as exc:
        raise _load_failure("UserCodeError", "Module initialization error: '%s'" % _str(exc), exc)
    try:
        return getattr(module, fname)
    except AttributeError:
        raise LoadError({"errorMessage": "Handler '%s' missing on module '%s'" % (fname, modname)})


def get(handler):
    """The callable named by `handler` ("module.func", "pkg.mod.func", "dir/module.func"), cached."""
    fn = cache.get(handler)
    if fn is not None:
        return fn
    with _lock:
        fn = cache.get(handler)
        if fn is None:
            fn = _load(handler)
            cache[handler] = fn
    return fn
