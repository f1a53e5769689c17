"""Log frames: FC's logging format, print/stdout/stderr capture, attribution to requests."""
import datetime
import re

LINE = r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.\d{3}Z %s \[%s\] %s\n"

LOGGING = """
import logging, sys
logging.getLogger().info("at import")
def handler(event, context):
    logger = logging.getLogger()
    logger.info("info %s", event.decode())
    logger.warning("warn")
    logger.debug("hidden at INFO")
    logging.getLogger("named.child").error("from a named logger")
    print("printed", 1, 2)
    print("no newline", end="")
    sys.stdout.write("stdout write\\n")
    sys.stderr.write("to stderr\\n")
    sys.stdout.buffer.write(b"raw bytes\\n")
    return "ok"
"""


def test_formats_and_attribution(runtime_factory):
    rt = runtime_factory({"index.py": LOGGING})
    first = rt.invoke(b"one", request_id="rid-1")
    assert first.body == b"ok"
    assert {rid for rid, _ in first.logs} == {"rid-1"}
    text = first.log_text
    lines = text.splitlines(True)
    assert lines[0] == "FunctionCompute python3 runtime inited.\n"
    assert re.fullmatch(LINE % ("rid-1", "INFO", "at import"), lines[1])
    assert re.fullmatch(LINE % ("rid-1", "INFO", "info one"), lines[2])
    assert re.fullmatch(LINE % ("rid-1", "WARNING", "warn"), lines[3])
    assert re.fullmatch(LINE % ("rid-1", "ERROR", "from a named logger"), lines[4])
    assert lines[5:] == ["printed 1 2\n", "no newlinestdout write\n", "to stderr\n", "raw bytes\n"]
    assert "hidden" not in text
    # UTC timestamps.
    stamp = datetime.datetime.strptime(re.match(LINE % ("rid-1", "INFO", "info one"), lines[2]).group(1),
                                       "%Y-%m-%dT%H:%M:%S")
    assert abs((datetime.datetime.utcnow() - stamp).total_seconds()) < 60

    second = rt.invoke(b"two", request_id="rid-2")
    assert {rid for rid, _ in second.logs} == {"rid-2"}
    assert "runtime inited" not in second.log_text
    assert "at import" not in second.log_text
    assert re.search(LINE % ("rid-2", "INFO", "info two"), second.log_text)


def test_partial_line_is_flushed_before_the_answer(runtime_factory):
    rt = runtime_factory({"index.py": "def handler(e, c):\n    print('partial', end='')\n    return 'x'\n"})
    answer = rt.invoke()
    assert answer.log_text.endswith("partial")
    assert rt.invoke().log_text == "partial"


def test_flush_sends_a_partial_line(runtime_factory):
    src = "import sys\ndef handler(e, c):\n    print('a', end='', flush=True)\n    print('b')\n    return 'x'\n"
    answer = runtime_factory({"index.py": src}).invoke()
    assert [data for _, data in answer.logs][1:] == [b"a", b"b\n"]


def test_large_output_is_split_into_bounded_frames(runtime_factory):
    src = "def handler(e, c):\n    print('x' * (600 * 1024))\n    return 'done'\n"
    answer = runtime_factory({"index.py": src}).invoke()
    sizes = [len(data) for _, data in answer.logs[1:]]
    assert max(sizes) <= 256 * 1024
    assert b"".join(data for _, data in answer.logs[1:]) == b"x" * (600 * 1024) + b"\n"


def test_log_level_from_the_environment(runtime_factory):
    src = "import logging\ndef handler(e, c):\n    logging.info('i')\n    logging.warning('w')\n    return 1\n"
    text = runtime_factory({"index.py": src}, env={"FC_SERVER_LOG_LEVEL": "WARNING"}).invoke().log_text
    assert "[INFO]" not in text
    assert "[WARNING] w\n" in text
    text = runtime_factory({"index.py": src}, env={"FC_SERVER_LOG_LEVEL": "DEBUG"}).invoke().log_text
    assert "[INFO] i\n" in text


def test_logger_exception_carries_the_traceback(runtime_factory):
    src = ("import logging\n"
           "def handler(e, c):\n"
           "    try:\n"
           "        1 / 0\n"
           "    except ZeroDivisionError:\n"
           "        logging.getLogger().exception('failed')\n"
           "    return 1\n")
    text = runtime_factory({"index.py": src}).invoke(request_id="r").log_text
    assert re.search(r"Z r \[ERROR\] failed\nTraceback \(most recent call last\):\n.*ZeroDivisionError: division by zero\n$",
                     text, re.S)


def test_context_get_logger(runtime_factory):
    src = ("import logging\n"
           "def handler(e, c):\n"
           "    log = c.getLogger()\n"
           "    log.info('via context')\n"
           "    return str(log is logging.getLogger())\n")
    answer = runtime_factory({"index.py": src}).invoke(request_id="ctx-1")
    assert answer.body == b"True"     # FC: the root logger when instanceConcurrency is 1
    assert re.search(LINE % ("ctx-1", "INFO", "via context"), answer.log_text)


def test_context_get_logger_with_concurrency(runtime_factory):
    src = ("import threading\n"
           "def handler(e, c):\n"
           "    log = c.getLogger()\n"
           "    t = threading.Thread(target=log.info, args=('from a user thread',))\n"
           "    t.start(); t.join()\n"
           "    return 'ok'\n")
    rt = runtime_factory({"index.py": src}, concurrency=4)
    answer = rt.invoke(request_id="conc-1")
    # The context logger is bound to its request even on threads the handler starts.
    assert re.search(LINE % ("conc-1", "INFO", "from a user thread"), answer.log_text)


def test_user_log_handlers_and_basic_config(runtime_factory):
    src = ("import logging\n"
           "logging.basicConfig(level=logging.DEBUG, format='%(message)s')\n"
           "log = logging.getLogger(__name__)\n"
           "log.setLevel(logging.DEBUG)\n"
           "def handler(e, c):\n"
           "    log.debug('debug from module logger')\n"
           "    return 1\n")
    text = runtime_factory({"index.py": src}).invoke(request_id="b").log_text
    # basicConfig is a no-op (the root logger already has FC's handler), as on FC.
    assert re.search(LINE % ("b", "DEBUG", "debug from module logger"), text)


def test_logging_imported_by_a_dependency(runtime_factory):
    # A module imported at load time that itself imports logging first: still configured.
    files = {"helper.py": "import logging\nLOG = logging.getLogger('helper')\n",
             "index.py": "import helper\ndef handler(e, c):\n    helper.LOG.warning('hello')\n    return 1\n"}
    text = runtime_factory(files).invoke(request_id="h").log_text
    assert re.search(LINE % ("h", "WARNING", "hello"), text)


def test_output_of_background_threads_goes_to_the_latest_request(runtime_factory):
    src = ("import threading, time\n"
           "ev = threading.Event()\n"
           "def later():\n"
           "    ev.wait()\n"
           "    print('late line')\n"
           "def handler(e, c):\n"
           "    if e == b'start':\n"
           "        threading.Thread(target=later).start()\n"
           "    else:\n"
           "        ev.set(); time.sleep(0.2)\n"
           "    return 'ok'\n")
    rt = runtime_factory({"index.py": src})
    rt.invoke(b"start", request_id="first")
    answer = rt.invoke(b"go", request_id="second")
    assert ("second", b"late line\n") in answer.logs


def test_error_log_respects_the_level(runtime_factory):
    src = "def handler(e, c):\n    raise Exception('x')\n"
    text = runtime_factory({"index.py": src}, env={"FC_SERVER_LOG_LEVEL": "CRITICAL"}).invoke().log_text
    assert "[ERROR]" not in text


def test_non_ascii_and_surrogates(runtime_factory):
    src = "def handler(e, c):\n    print('日本語 ✓')\n    print('bad \\udcff')\n    return 1\n"
    answer = runtime_factory({"index.py": src}).invoke()
    assert "日本語 ✓\n" in answer.log_text
    assert "bad \\udcff\n" in answer.log_text


def test_stdout_attributes(runtime_factory):
    src = ("import io, sys\n"
           "def handler(e, c):\n"
           "    s = sys.stdout\n"
           "    return '%s %s %s %s %s' % (isinstance(s, io.TextIOBase), s.fileno(), sys.stderr.fileno(),\n"
           "                             s.isatty(), s.encoding)\n")
    assert runtime_factory({"index.py": src}).invoke().body == b"True 1 2 False utf-8"


def test_logging_imported_before_the_runtime_starts(runtime_factory, tmp_path):
    # sitecustomize (on PYTHONPATH) imports logging before bootstrap.py runs.
    (tmp_path / "sitecustomize.py").write_text("import logging\nlogging.EARLY = True\n")
    src = "import logging\ndef handler(e, c):\n    logging.info('configured anyway')\n    return logging.EARLY\n"
    answer = runtime_factory({"index.py": src}, env={"PYTHONPATH": str(tmp_path)}).invoke(request_id="s")
    assert answer.body == b"true"
    text = answer.log_text
    assert re.search(LINE % ("s", "INFO", "configured anyway"), text)
