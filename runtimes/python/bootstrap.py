# Ferric's Python runtime: runs one instance of one FC Python function (event and WSGI handlers) and speaks
# runtimes/PROTOCOL.md over the control socket on FERRIC_CONTROL_FD (3). Standard library only, Python 3.8+.
#
# Files (all embedded in the ferric binary, written below <data-dir>/runtimes/python/):
#   bootstrap.py                  this entry point (kept tiny: the script itself is never byte-compiled)
#   _ferric_runtime/__init__.py   package marker
#   _ferric_runtime/frames.py     frame codec over the raw descriptor
#   _ferric_runtime/logs.py       log frames, sys.stdout/sys.stderr writers, FC logging format
#   _ferric_runtime/context.py    the `context` object
#   _ferric_runtime/loader.py     handler import, result encoding, FC's error bodies
#   _ferric_runtime/wsgi.py       HTTP triggers as WSGI calls
#   _ferric_runtime/server.py     ready/init/initialize/invoke loop, worker pool
#
# Started as `python3 -u -B bootstrap.py` with the function's code directory as the working directory.
import os
import sys


def _main():
    here = os.path.dirname(os.path.abspath(__file__))
    code_dir = os.environ.get("FC_FUNC_CODE_PATH") or os.getcwd()
    # The script's directory must not shadow user modules: drop it, load the helpers, put the code first.
    if sys.path and sys.path[0] and os.path.realpath(sys.path[0]) == os.path.realpath(here):
        del sys.path[0]
    sys.path.insert(0, here)
    # The helpers are byte-compiled into their own __pycache__ (best effort) despite -B, which keeps cold
    # starts fast; user code stays under -B.
    no_bytecode = sys.dont_write_bytecode
    sys.dont_write_bytecode = False
    try:
        from _ferric_runtime import server, wsgi  # noqa: F401  (wsgi: compiled now, used by HTTP calls)
    finally:
        sys.dont_write_bytecode = no_bytecode
        del sys.path[0]
    sys.path.insert(0, code_dir)
    server.run(code_dir)


if __name__ == "__main__":
    _main()
