"""HTTP-trigger requests as WSGI calls."""
from harness import http_request

ECHO = """
import json
def handler(environ, start_response):
    body = environ['wsgi.input'].read(int(environ['CONTENT_LENGTH']))
    keys = ['REQUEST_METHOD', 'PATH_INFO', 'QUERY_STRING', 'CONTENT_LENGTH', 'CONTENT_TYPE', 'SERVER_NAME',
            'SERVER_PORT', 'SERVER_PROTOCOL', 'REMOTE_ADDR', 'SCRIPT_NAME', 'HTTP_X_CUSTOM', 'HTTP_HOST',
            'HTTP_X_FC_FUNCTION_HANDLER', 'fc.request_uri', 'wsgi.url_scheme', 'HTTP_CONTENT_TYPE', 'FC_REGION']
    out = {k: environ.get(k) for k in keys}
    out['body'] = body.decode('latin-1')
    out['wsgi.version'] = list(environ['wsgi.version'])
    out['flags'] = [environ['wsgi.multithread'], environ['wsgi.multiprocess'], environ['wsgi.run_once']]
    out['context_rid'] = environ['fc.context'].request_id
    environ['wsgi.errors'].write('to wsgi.errors\\n')
    start_response('202 Accepted', [('Content-Type', 'application/json'), ('X-Multi', 'a'), ('X-Multi', 'b'),
                                    ('set-cookie', 'c=1')])
    return [json.dumps(out).encode('utf-8')]
"""

# The official Python SDK's fixture (aliyun/fc-python-sdk test/hello_world/main.py), which returns bare bytes.
HELLO_WORLD = """import json

def my_handler(event, context):
    return 'hello world'

def wsgi_echo_handler(environ, start_response):
    path = environ['PATH_INFO']
    method = environ['REQUEST_METHOD']
    request_uri = environ['fc.request_uri']
    client_ip =environ['REMOTE_ADDR']
    query_string = environ.get('QUERY_STRING', '')
    ctx = environ["fc.context"]
    rfile = environ['wsgi.input']
    length = int(environ['CONTENT_LENGTH'])
    body = rfile.read(length)

    ret = {
        "path" : path,
        "method": method,
        "client_ip": client_ip,
        "request_uri": request_uri,
        "query_string": query_string,
        "body": str(body.decode()),
    }
    resp_headers_items = [("key1", "value1"), ("key2", "value2")]
    start_response('202 Accepted', resp_headers_items)
    return json.dumps(ret).encode()
"""


def test_request_in_response_out(runtime_factory):
    rt = runtime_factory({"index.py": ECHO})
    http = http_request("POST", "/action with space", "a=1&b=x%20y&a=2",
                        {"content-type": ["text/plain"], "x-custom": ["v1", "v2"], "host": ["example.com:9000"]},
                        host="example.com:9000")
    answer = rt.invoke(b"hello \x00 body", http=http, request_id="rid-http")
    assert answer.header == {"type": "result", "id": 1,
                             "http": {"status": 202, "headers": {"Content-Type": ["application/json"],
                                                                 "X-Multi": ["a", "b"],
                                                                 "set-cookie": ["c=1"]}}}
    out = answer.json()
    assert out == {
        "REQUEST_METHOD": "POST", "PATH_INFO": "/action with space", "QUERY_STRING": "a=1&b=x%20y&a=2",
        "CONTENT_LENGTH": "12", "CONTENT_TYPE": "text/plain", "SERVER_NAME": "example.com", "SERVER_PORT": "9000",
        "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "10.0.0.1", "SCRIPT_NAME": "", "HTTP_X_CUSTOM": "v1,v2",
        "HTTP_HOST": "example.com:9000", "HTTP_X_FC_FUNCTION_HANDLER": "index.handler",
        "fc.request_uri": "/2016-08-15/proxy/s/f/action with space?a=1&b=x%20y&a=2", "wsgi.url_scheme": "http",
        "HTTP_CONTENT_TYPE": None, "FC_REGION": "local",
        "body": "hello \x00 body", "wsgi.version": [1, 0], "flags": [False, False, False],
        "context_rid": "rid-http",
    }
    assert ("rid-http", b"to wsgi.errors\n") in answer.logs


def test_get_without_body_has_content_length_zero(runtime_factory):
    rt = runtime_factory({"index.py": ECHO})
    out = rt.invoke(b"", http=http_request("GET", "/")).json()
    assert out["CONTENT_LENGTH"] == "0"
    assert out["CONTENT_TYPE"] == "application/octet-stream"
    assert out["QUERY_STRING"] == ""
    assert out["SERVER_NAME"] == "127.0.0.1"
    assert out["HTTP_HOST"] == "127.0.0.1:8080"


def test_query_rebuilt_when_the_uri_has_none(runtime_factory):
    rt = runtime_factory({"index.py": ECHO})
    http = http_request("GET", "/p")
    http["queries"] = {"k": ["a b", "c"], "z": ["1"]}
    assert rt.invoke(b"", http=http).json()["QUERY_STRING"] == "k=a%20b&k=c&z=1"


def test_official_hello_world_fixture(runtime_factory):
    rt = runtime_factory({"main.py": HELLO_WORLD}, handler="main.wsgi_echo_handler")
    http = http_request("POST", "/action with space", "x=1", {"content-type": ["text/plain"]})
    answer = rt.invoke(b"abc", http=http)
    assert answer.header["http"] == {"status": 202, "headers": {"key1": ["value1"], "key2": ["value2"]}}
    assert answer.json() == {"path": "/action with space", "method": "POST", "client_ip": "10.0.0.1",
                             "request_uri": "/2016-08-15/proxy/s/f/action with space?x=1", "query_string": "x=1",
                             "body": "abc"}


BODIES = """
class Closing(object):
    closed = []
    def __iter__(self):
        yield b'it'
        yield 'ér'
    def close(self):
        Closing.closed.append(1)

def generator(environ, start_response):
    start_response('200 OK', [])
    yield b'a'
    yield b''
    yield 'b'

def closing(environ, start_response):
    start_response('201 Created', [('X-Closed-Before', str(len(Closing.closed)))])
    return Closing()

def writer(environ, start_response):
    write = start_response('200 OK', [])
    write(b'written-')
    return [b'returned']

def bare_bytes(environ, start_response):
    start_response('200 OK', [('Content-Type', 'application/octet-stream')])
    return bytes(range(256))

def bare_str(environ, start_response):
    start_response('200 OK', [])
    return 'plain'

def late_start(environ, start_response):
    def body():
        start_response('404 Not Found', [('A', 'b')])
        yield b'late'
    return body()

def error_then_restart(environ, start_response):
    start_response('200 OK', [('X', '1')])
    try:
        raise ValueError('x')
    except ValueError:
        import sys
        start_response('500 Internal Server Error', [('X', '2')], sys.exc_info())
    return [b'recovered']

def closed_count(environ, start_response):
    start_response('200 OK', [])
    return [str(len(Closing.closed)).encode()]

def raises(environ, start_response):
    raise KeyError('missing')

def no_start(environ, start_response):
    return [b'x']

def bad_item(environ, start_response):
    start_response('200 OK', [])
    return [1, 2]
"""


def _call(runtime_factory, name):
    rt = runtime_factory({"index.py": BODIES}, handler="index." + name)
    return rt, rt.invoke(b"", http=http_request())


def test_body_forms(runtime_factory):
    assert _call(runtime_factory, "generator")[1].body == b"ab"
    assert _call(runtime_factory, "writer")[1].body == b"written-returned"
    answer = _call(runtime_factory, "bare_bytes")[1]
    assert answer.body == bytes(range(256))
    assert _call(runtime_factory, "bare_str")[1].body == b"plain"
    answer = _call(runtime_factory, "late_start")[1]
    assert answer.header["http"] == {"status": 404, "headers": {"A": ["b"]}}
    assert answer.body == b"late"
    answer = _call(runtime_factory, "error_then_restart")[1]
    assert answer.header["http"] == {"status": 500, "headers": {"X": ["2"]}}


def test_close_is_called(runtime_factory):
    rt, answer = _call(runtime_factory, "closing")
    assert answer.header["http"]["status"] == 201
    assert answer.body == "itér".encode("utf-8")
    assert answer.header["http"]["headers"] == {"X-Closed-Before": ["0"]}


def test_app_exception_is_an_error(runtime_factory):
    rt, answer = _call(runtime_factory, "raises")
    assert answer.header == {"type": "error", "id": 1, "errorType": "UnhandledInvocationError"}
    body = answer.json()
    assert body["errorType"] == "KeyError"
    assert body["errorMessage"] == "'missing'"
    assert body["stackTrace"][-1][2:] == ["in raises", "raise KeyError('missing')"]
    # FC logs the traceback, then the error JSON.
    assert "Traceback (most recent call last)" in answer.log_text
    assert "KeyError: 'missing'" in answer.log_text


def test_start_response_not_called(runtime_factory):
    answer = _call(runtime_factory, "no_start")[1]
    assert answer.header["type"] == "error"
    assert answer.json()["errorMessage"] == "start_response was not called"


def test_invalid_body_item(runtime_factory):
    answer = _call(runtime_factory, "bad_item")[1]
    assert answer.header["type"] == "error"
    assert answer.json()["errorMessage"] == "invalid response type"


def test_multithread_flag_follows_concurrency(runtime_factory):
    rt = runtime_factory({"index.py": ECHO}, concurrency=5)
    assert rt.invoke(b"", http=http_request()).json()["flags"] == [True, False, False]


def test_event_and_http_calls_share_the_instance(runtime_factory):
    src = ("def handler(a, b):\n"
           "    if isinstance(a, dict):\n"
           "        b('200 OK', [])\n"
           "        return [b'http']\n"
           "    return 'event'\n")
    rt = runtime_factory({"index.py": src})
    assert rt.invoke(b"").body == b"event"
    assert rt.invoke(b"", http=http_request()).body == b"http"


def test_environ_follows_os_environ_changes(runtime_factory):
    src = ("import os\n"
           "def handler(environ, start_response):\n"
           "    start_response('200 OK', [])\n"
           "    seen = environ.get('MY_FLAG', '-')\n"
           "    os.environ['MY_FLAG'] = 'set'\n"
           "    return [seen.encode()]\n")
    rt = runtime_factory({"index.py": src}, env={"MY_FLAG": "initial"})
    assert rt.invoke(b"", http=http_request()).body == b"initial"
    assert rt.invoke(b"", http=http_request()).body == b"set"
