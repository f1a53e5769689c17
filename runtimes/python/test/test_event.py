"""Event handlers: results, errors, handler loading, initializer."""
import json
import os

import pytest

RETURNS = """
import datetime, decimal
def text(e, c): return 'héllo wörld'
def raw(e, c): return e
def array(e, c): return bytearray(b'\\x00\\xffab')
def obj(e, c): return {"b": 1, "a": [1, 2.5, None], "c": {"z": True}}
def lst(e, c): return [3, "x"]
def integer(e, c): return 3
def big(e, c): return 2 ** 70
def true(e, c): return True
def false(e, c): return False
def flt(e, c): return 1.5
def none(e, c): return None
def nothing(e, c): pass
def event_type(e, c): return type(e).__name__ + ':' + str(len(e))
def special(e, c): return {"d": decimal.Decimal("1.25"), "t": datetime.date(2024, 2, 3)}
def unserializable(e, c): return {"x": object()}
class Money(object):
    def to_json(self): return "12 EUR"
def custom(e, c): return Money()
"""


@pytest.mark.parametrize("name,event,expected", [
    ("text", b"", "héllo wörld".encode("utf-8")),
    ("raw", bytes(range(256)) * 3, bytes(range(256)) * 3),
    ("array", b"", b"\x00\xffab"),
    ("obj", b"", json.dumps({"b": 1, "a": [1, 2.5, None], "c": {"z": True}}, indent=4, sort_keys=True).encode()),
    ("lst", b"", b'[\n    3,\n    "x"\n]'),
    ("integer", b"", b"3"),
    ("big", b"", str(2 ** 70).encode()),
    ("true", b"", b"true"),
    ("false", b"", b"false"),
    ("flt", b"", b"1.5"),
    ("none", b"", b""),
    ("nothing", b"", b""),
    ("event_type", b"\x00\x01\x02", b"bytes:3"),
    ("event_type", b"", b"bytes:0"),
    ("special", b"", b'{\n    "d": 1.25,\n    "t": "2024-02-03"\n}'),
    ("custom", b"", b'"12 EUR"'),
])
def test_return_values(runtime_factory, name, event, expected):
    rt = runtime_factory({"index.py": RETURNS}, handler="index." + name)
    answer = rt.invoke(event)
    assert answer.header == {"type": "result", "id": 1}
    assert answer.body == expected


def test_unserializable_result_is_an_error(runtime_factory):
    rt = runtime_factory({"index.py": RETURNS}, handler="index.unserializable")
    answer = rt.invoke()
    assert answer.header == {"type": "error", "id": 1, "errorType": "UnhandledInvocationError"}
    body = answer.json()
    assert body["errorType"] == "TypeError"
    assert "is not JSON serializable" in body["errorMessage"]


def test_exception_shape(runtime_factory):
    src = ("def helper(x):\n"
           "    raise ValueError('boom %s' % x)\n"
           "\n"
           "def handler(event, context):\n"
           "    return helper(1)\n")
    rt = runtime_factory({"index.py": src})
    answer = rt.invoke()
    assert answer.header == {"type": "error", "id": 1, "errorType": "UnhandledInvocationError"}
    path = os.path.join(rt.code_dir, "index.py")
    expected = {"errorMessage": "boom 1", "errorType": "ValueError",
                "stackTrace": [['File "%s"' % path, "line 5", "in handler", "return helper(1)"],
                               ['File "%s"' % path, "line 2", "in helper", "raise ValueError('boom %s' % x)"]]}
    assert answer.json() == expected
    # FC's to_json: indent=4, sorted keys.
    assert answer.body.decode() == json.dumps(expected, indent=4, sort_keys=True)
    # FC logs the error JSON at ERROR before answering.
    assert "[ERROR] {\n" in answer.log_text
    assert '"errorMessage": "boom 1"' in answer.log_text


def test_custom_exception_class_name(runtime_factory):
    src = "class MyError(Exception):\n    pass\ndef handler(e, c):\n    raise MyError('mine')\n"
    body = runtime_factory({"index.py": src}).invoke().json()
    assert body["errorType"] == "MyError"
    assert body["errorMessage"] == "mine"


def test_missing_module(runtime_factory):
    rt = runtime_factory({"other.py": ""}, handler="index.handler")
    answer = rt.invoke()
    assert answer.header["errorType"] == "UnhandledInvocationError"
    assert answer.json() == {"errorMessage": "Unable to import module 'index'", "errorType": "ImportModuleError",
                             "stackTrace": ["ModuleNotFoundError: No module named 'index'"]}
    # FC logs the error object (a dict) for load failures.
    assert "[ERROR] {'errorMessage': \"Unable to import module 'index'\"" in answer.log_text
    # Not cached: the next request tries again and fails the same way.
    assert rt.invoke().json()["errorMessage"] == "Unable to import module 'index'"


def test_module_with_a_missing_dependency(runtime_factory):
    rt = runtime_factory({"index.py": "import not_installed_anywhere\ndef handler(e, c):\n    return 1\n"})
    body = rt.invoke().json()
    assert body["errorMessage"] == "Unable to import module 'index'"
    assert body["stackTrace"] == ["ModuleNotFoundError: No module named 'not_installed_anywhere'"]


def test_syntax_error(runtime_factory):
    rt = runtime_factory({"index.py": "def handler(e, c):\n    return (\n\nx = 1 +\n"})
    body = rt.invoke().json()
    assert body["errorMessage"] == "Syntax error in module 'index'"
    assert body["errorType"] == "UserCodeSyntaxError"
    assert body["stackTrace"][0] == 'File "%s"' % os.path.join(rt.code_dir, "index.py")
    assert body["stackTrace"][1].startswith("line ")
    assert body["stackTrace"][-1].startswith("SyntaxError")


def test_exception_at_import(runtime_factory):
    rt = runtime_factory({"index.py": "raise RuntimeError('no config')\n"})
    body = rt.invoke().json()
    assert body == {"errorMessage": "Module initialization error: 'no config'", "errorType": "UserCodeError",
                    "stackTrace": ["RuntimeError: no config"]}


def test_missing_handler_function(runtime_factory):
    rt = runtime_factory({"index.py": "def other(e, c):\n    return 1\n"}, handler="index.handler")
    answer = rt.invoke()
    assert answer.header == {"type": "error", "id": 1, "errorType": "UnhandledInvocationError"}
    assert answer.json() == {"errorMessage": "Handler 'handler' missing on module 'index'"}


def test_handler_without_a_dot(runtime_factory):
    rt = runtime_factory({"index.py": ""}, handler="index")
    body = rt.invoke().json()
    assert body["errorMessage"] == "Invalid handler 'index'"
    assert body["errorType"] == "InvalidHandleName"


def test_dotted_and_slashed_module_paths(runtime_factory):
    files = {"pkg/__init__.py": "", "pkg/sub/__init__.py": "",
             "pkg/sub/mod.py": "def handler(e, c):\n    return 'dotted:' + __name__\n",
             "src/app/main.py": "def handler(e, c):\n    return 'slashed'\n",
             "ns/plain.py": "def handler(e, c):\n    return 'namespace package'\n"}
    assert runtime_factory(files, handler="pkg.sub.mod.handler").invoke().body == b"dotted:pkg.sub.mod"
    assert runtime_factory(files, handler="src/app/main.handler").invoke().body == b"slashed"
    assert runtime_factory(files, handler="ns.plain.handler").invoke().body == b"namespace package"


def test_handler_names_other_than_handler(runtime_factory):
    rt = runtime_factory({"helloworld.py": "def index(e, c):\n    return 'hi'\n"}, handler="helloworld.index")
    assert rt.invoke().body == b"hi"


def test_module_state_survives_between_calls(runtime_factory):
    rt = runtime_factory({"index.py": "n = 0\ndef handler(e, c):\n    global n\n    n += 1\n    return n\n"})
    assert [rt.invoke().body for _ in range(3)] == [b"1", b"2", b"3"]


COUNTER = """# -*- coding: utf-8 -*-

import logging

counter = 0
def my_initializer(context):
    logger = logging.getLogger()
    global counter
    counter += 1
    logger.info(counter)

def my_handler(event, context):
    logger = logging.getLogger()
    global counter
    counter += 1
    logger.info(counter)
    return counter
"""


def test_initializer_counter_like_the_official_sdk_test(runtime_factory):
    rt = runtime_factory({"main.py": COUNTER}, handler="main.my_handler", initializer="main.my_initializer")
    init = rt.initialize()
    assert init.header == {"type": "result", "id": 1}
    assert init.body == b""
    assert init.log_text.endswith("[INFO] 1\n")
    assert rt.invoke().body == b"2"
    assert rt.invoke().body == b"3"


def test_initializer_context(runtime_factory):
    src = ("seen = {}\n"
           "def init(context):\n"
           "    seen.update(rid=context.request_id, ak=context.credentials.accessKeyId, region=context.region,\n"
           "                account=context.account_id)\n"
           "def handler(e, c):\n"
           "    return seen\n")
    rt = runtime_factory({"index.py": src}, initializer="index.init")
    rt.initialize(request_id="init-rid")
    assert rt.invoke().json() == {"rid": "init-rid", "ak": "AK", "region": "local", "account": "1234567890123456"}


def test_initializer_failure(runtime_factory):
    src = "def init(context):\n    raise Exception('cannot init')\ndef handler(e, c):\n    return 'x'\n"
    rt = runtime_factory({"index.py": src}, initializer="index.init")
    answer = rt.initialize()
    assert answer.header == {"type": "error", "id": 1, "errorType": "UnhandledInvocationError"}
    body = answer.json()
    assert body["errorMessage"] == "cannot init"
    assert body["errorType"] == "Exception"
    assert body["stackTrace"][0][2:] == ["in init", "raise Exception('cannot init')"]


def test_initializer_missing(runtime_factory):
    rt = runtime_factory({"index.py": "def handler(e, c):\n    return 'x'\n"}, initializer="index.init")
    assert rt.initialize().json() == {"errorMessage": "Handler 'init' missing on module 'index'"}


def test_initialize_without_an_initializer_is_a_no_op(runtime_factory):
    rt = runtime_factory({"index.py": "def handler(e, c):\n    return 'x'\n"})
    answer = rt.initialize()
    assert answer.header == {"type": "result", "id": 1}
    assert rt.invoke().body == b"x"


def test_official_hello_world_event_handler(runtime_factory):
    src = "import json\n\ndef my_handler(event, context):\n    return 'hello world'\n"
    rt = runtime_factory({"main.py": src}, handler="main.my_handler")
    assert rt.invoke().body == b"hello world"
