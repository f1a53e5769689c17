"""Protocol tests for runtimes/php/bootstrap.php: plays the invoker's side of runtimes/PROTOCOL.md over a
socketpair on fd 3 against the real PHP CLI (FERRIC_TEST_PHP, default /usr/bin/php), started as the invoker
starts it (`php -n -d memory_limit=...`)."""
import json
import os
import socket
import subprocess
import sys
import tempfile
import textwrap
import uuid

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "testing"))
from frames import Frames  # noqa: E402  (the shared frame codec, runtimes/testing)

HERE = os.path.dirname(os.path.abspath(__file__))
BOOTSTRAP = os.path.join(os.path.dirname(HERE), "bootstrap.php")
PHP = os.environ.get("FERRIC_TEST_PHP", "/usr/bin/php")


class Runtime(Frames):
    def __init__(self, source, handler="index.handler", initializer=None, memory=128):
        self.code = tempfile.mkdtemp(prefix="ferric-php-code-")
        with open(os.path.join(self.code, "index.php"), "w") as f:
            f.write(textwrap.dedent(source))
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock, self.next_id, self.logs = ours, 1, []
        fd = theirs.fileno()
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "FERRIC_CONTROL_FD": "3", "HOME": self.code}
        self.proc = subprocess.Popen(
            [PHP, "-n", "-d", "memory_limit=%dM" % memory, "-d", "display_errors=0", BOOTSTRAP], cwd=self.code, env=env,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, close_fds=False,
            preexec_fn=lambda: os.dup2(fd, 3), start_new_session=True)
        theirs.close()
        self.sock.settimeout(20)
        self.ready, _ = self.recv()
        self.send({"type": "init",
                   "function": {"name": "f", "handler": handler, "memory": memory, "timeout": 3,
                                "initializer": initializer, "initializationTimeout": 3},
                   "service": {"name": "s", "logProject": "p", "logStore": "l", "qualifier": "LATEST",
                               "versionId": ""},
                   "region": "local", "accountId": "1234567890123456", "instanceConcurrency": 1})

    def request(self, kind="invoke", event=b"", http=None):
        rid, req = str(uuid.uuid4()), self.next_id
        self.next_id += 1
        header = {"type": kind, "id": req, "requestId": rid,
                  "credentials": {"accessKeyId": "AK", "accessKeySecret": "SK", "securityToken": "T"}}
        if kind == "invoke":
            header["http"] = http
        self.send(header, event)
        self.logs = []
        while True:
            header, body = self.recv()
            if header["type"] == "log":
                assert header["requestId"] == rid
                self.logs.append(body.decode())
            else:
                assert header["id"] == req
                return header, body, rid

    def close(self):
        self.sock.close()
        code = self.proc.wait(10)
        self.proc.stdout.close()
        self.proc.stderr.close()
        return code


def test_ready_then_event_handler_gets_the_event_and_fc_context():
    rt = Runtime("""<?php
        function handler($event, $context) {
            return json_encode(['event' => $event, 'context' => $context]);
        }
    """)
    assert rt.ready["type"] == "ready" and rt.ready["runtime"].startswith("php 8")
    header, body, rid = rt.request(event=b'{"a":1}')
    assert header == {"type": "result", "id": 1}
    got = json.loads(body)
    assert got["event"] == '{"a":1}'
    ctx = got["context"]
    assert ctx["requestId"] == rid and ctx["region"] == "local" and ctx["accountId"] == "1234567890123456"
    assert ctx["credentials"] == {"accessKeyId": "AK", "accessKeySecret": "SK", "securityToken": "T"}
    assert ctx["function"]["name"] == "f" and ctx["function"]["handler"] == "index.handler"
    assert ctx["service"]["logProject"] == "p" and ctx["service"]["qualifier"] == "LATEST"
    assert rt.close() == 0  # EOF on fd 3 ends the process cleanly


def test_the_process_and_its_globals_are_reused_and_the_file_loads_once():
    rt = Runtime("""<?php
        $GLOBALS['loads'] = ($GLOBALS['loads'] ?? 0) + 1;
        function handler($event, $context) {
            static $calls = 0;
            $calls++;
            return "{$GLOBALS['loads']}:$calls:" . getmypid();
        }
    """)
    first = rt.request()[1].decode().split(":")
    second = rt.request()[1].decode().split(":")
    assert first[:2] == ["1", "1"] and second[:2] == ["1", "2"] and first[2] == second[2]
    rt.close()


def test_logger_and_echo_become_log_frames_of_the_request_before_the_answer():
    rt = Runtime("""<?php
        function handler($event, $context) {
            $logger = $GLOBALS['fcLogger'];
            $logger->info("hello\\nworld");
            $logger->debug('dbg');
            $logger->setLevel('WARNING');
            $logger->info('hidden');
            $logger->error('bad');
            echo "printed\\n";
            $undefined = [] ['nope'];
            return 'ok';
        }
    """)
    header, body, rid = rt.request()
    text = "".join(rt.logs)
    lines = text.split("\n")
    assert lines[0].endswith(" %s [INFO] hello\rworld" % rid), lines
    assert lines[0][:4].isdigit() and lines[0][10] == "T" and lines[0].split(" ")[0].endswith("Z")
    assert lines[1].endswith("[DEBUG] dbg")
    assert "hidden" not in text and lines[2].endswith("[ERROR] bad")
    assert "printed\n" in text and body == b"ok"
    assert 'PHP Warning:  Undefined array key "nope" in' in text
    rt.close()


def test_return_values_are_encoded():
    rt = Runtime("""<?php
        function handler($event, $context) {
            return match ($event) { 'n' => null, 'i' => 3, 'b' => true, 'a' => ['x' => 1], default => $event };
        }
    """)
    for event, want in [(b"n", b""), (b"i", b"3"), (b"b", b"true"), (b"a", b'{"x":1}'), (b"\xff\x00", b"\xff\x00")]:
        assert rt.request(event=event)[1] == want
    rt.close()


def test_an_exception_maps_to_fc_error_json_and_the_process_stays_up():
    rt = Runtime("""<?php
        function handler($event, $context) {
            if ($event === 'throw') { throw new InvalidArgumentException('nope'); }
            return 'fine';
        }
    """)
    header, body, _ = rt.request(event=b"throw")
    assert header == {"type": "error", "id": 1, "errorType": "UnhandledInvocationError"}
    err = json.loads(body)
    assert err["errorMessage"] == "nope" and err["errorType"] == "InvalidArgumentException"
    assert any("index.php" in line for line in err["stackTrace"])
    assert "[ERROR]" in "".join(rt.logs) and '"errorMessage":"nope"' in "".join(rt.logs)
    assert rt.request()[1] == b"fine"
    rt.close()


def test_missing_module_and_missing_handler_use_fc_messages():
    rt = Runtime("<?php\n", handler="index.nothere")
    assert json.loads(rt.request()[1]) == {"errorMessage": "Handler 'nothere' missing on module 'index'"}
    rt.close()
    rt = Runtime("<?php\n", handler="other.handler")
    err = json.loads(rt.request()[1])
    assert err == {"errorMessage": "Unable to import module 'other'", "errorType": "ImportModuleError"}
    rt.close()


def test_initializer_gets_the_context():
    rt = Runtime("""<?php
        function initializer($context) { $GLOBALS['init'] = $context['requestId']; }
        function handler($event, $context) { return $GLOBALS['init'] ?? 'none'; }
    """, initializer="index.initializer")
    header, body, rid = rt.request("initialize")
    assert header == {"type": "result", "id": 1} and body == b""
    assert rt.request()[1].decode() == rid
    rt.close()


def test_http_handler_gets_a_psr7_request_and_returns_a_response():
    rt = Runtime("""<?php
        use RingCentral\\Psr7\\Response;
        function handler($request, $context) {
            $out = [
                'method' => $request->getMethod(), 'path' => $request->getAttribute('path'),
                'uriPath' => $request->getUri()->getPath(), 'query' => $request->getUri()->getQuery(),
                'params' => $request->getQueryParams(), 'ct' => $request->getHeaderLine('Content-Type'),
                'x' => $request->getHeader('x-multi'), 'ip' => $request->getAttribute('clientIP'),
                'uri' => $request->getAttribute('requestURI'), 'body' => $request->getBody()->getContents(),
            ];
            $response = new Response(201, ['Content-Type' => 'application/json'], json_encode($out));
            return $response->withHeader('X-Set', ['a', 'b'])->withStatus(202);
        }
    """)
    http = {"method": "POST", "path": "/sub/p", "requestURI": "/2016-08-15/proxy/s/f/sub/p?a=1&b=2&b=3",
            "clientIP": "10.0.0.1", "host": "h:1",
            "headers": {"content-type": ["text/plain"], "x-multi": ["1", "2"]},
            "queries": {"a": ["1"], "b": ["2", "3"]}}
    header, body, _ = rt.request(event=b"payload", http=http)
    assert header["type"] == "result"
    assert header["http"] == {"status": 202, "headers": {"Content-Type": ["application/json"], "X-Set": ["a", "b"]}}
    got = json.loads(body)
    assert got == {"method": "POST", "path": "/sub/p", "uriPath": "/sub/p", "query": "a=1&b=2&b=3",
                   "params": {"a": "1", "b": ["2", "3"]}, "ct": "text/plain", "x": ["1", "2"], "ip": "10.0.0.1",
                   "uri": "/2016-08-15/proxy/s/f/sub/p?a=1&b=2&b=3", "body": "payload"}
    rt.close()


def test_an_http_handler_returning_no_response_is_an_error():
    rt = Runtime("<?php function handler($request, $context) { return 'text'; }\n")
    header, body, _ = rt.request(http={"method": "GET", "path": "/", "requestURI": "/", "headers": {}, "queries": {}})
    assert header["type"] == "error" and json.loads(body)["errorType"] == "TypeError"
    rt.close()


def test_a_fatal_error_ends_the_process_after_logging_it():
    rt = Runtime("""<?php
        function handler($event, $context) { $a = []; while (true) { $a[] = str_repeat('x', 1 << 20); } }
    """, memory=32)
    rid = str(uuid.uuid4())
    rt.send({"type": "invoke", "id": 1, "requestId": rid, "credentials": {}, "http": None})
    logs = []
    with pytest.raises(EOFError):
        while True:
            header, body = rt.recv()
            assert header["type"] == "log"
            logs.append(body.decode())
    assert "Allowed memory size" in "".join(logs)
    assert rt.proc.wait(10) != 0
