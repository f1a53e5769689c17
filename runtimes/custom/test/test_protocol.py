"""Protocol tests for runtimes/custom/bootstrap.py (the custom runtime's adapter): plays the invoker's side of
runtimes/PROTOCOL.md over a socketpair on fd 3, below the server and without a sandbox, against a tiny package
whose server is Python's http.server (written by each test into a temporary code directory). The adapter gets the
FERRIC_* variables the invoker gives it, with free ports instead of 9000/9001 (there is no network namespace
here)."""
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
ADAPTER = os.path.join(os.path.dirname(HERE), "bootstrap.py")
PYTHON = os.environ.get("FERRIC_TEST_PYTHON", "/usr/bin/python3")

SERVER = """
import http.server, json, os, sys
state = {"initialized": 0}
print("server starting", flush=True)

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *args):
        pass
    def answer(self, status, body, headers=()):
        self.send_response(status)
        self.send_header("content-length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length") or 0))
        if self.path == "/initialize":
            state["initialized"] += 1
            return self.answer(200, b"")
        if body == b"headers":
            fc = {k: v for k, v in self.headers.items() if k.lower().startswith("x-fc-")}
            return self.answer(200, json.dumps({"path": self.path, "ct": self.headers.get("content-type"),
                                                "fc": fc}).encode())
        if body == b"initialized":
            return self.answer(200, str(state["initialized"]).encode())
        if body == b"log":
            print("to stdout", flush=True)
            sys.stderr.write("to stderr\\n")
            sys.stderr.flush()
            return self.answer(200, b"logged")
        if body == b"fail":
            return self.answer(200, json.dumps({"errorMessage": "it failed"}).encode(), [("x-fc-status", "404")])
        if body == b"status500":
            return self.answer(500, b"plain failure")
        if body == b"exit":
            os._exit(3)
        self.answer(200, body)
    def do_GET(self):
        text = "%s %s base=%s" % (self.command, self.path, self.headers.get("x-fc-base-path"))
        self.answer(201, text.encode(), [("x-custom", "yes"), ("set-cookie", "a=1"), ("set-cookie", "b=2")])

http.server.ThreadingHTTPServer(("127.0.0.1", int(os.environ["FC_SERVER_PORT"])), Handler).serve_forever()
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Adapter(Frames):
    peer = "adapter"

    def __init__(self, command=None, initializer=None, start_timeout=5):
        self.code = tempfile.mkdtemp(prefix="ferric-custom-code-")
        with open(os.path.join(self.code, "server.py"), "w") as f:
            f.write(textwrap.dedent(SERVER))
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock, self.next_id = ours, 1
        fd = theirs.fileno()
        self.port = free_port()
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "FERRIC_CONTROL_FD": "3", "HOME": self.code,
               "FC_FUNC_CODE_PATH": self.code, "FERRIC_CA_PORT": str(self.port),
               "FERRIC_CA_COMMAND": json.dumps(command or [sys.executable, "-u", "server.py"]),
               "FERRIC_START_TIMEOUT": str(start_timeout), "FERRIC_RUNTIME_API_PORT": str(free_port())}
        self.proc = subprocess.Popen(
            [PYTHON, "-u", "-B", ADAPTER], cwd=self.code, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, close_fds=False, preexec_fn=lambda: os.dup2(fd, 3),
            start_new_session=True)
        theirs.close()
        self.sock.settimeout(20)
        self.initializer = initializer

    def handshake(self):
        self.ready, _ = self.recv()
        self.send({"type": "init",
                   "function": {"name": "f", "handler": "index.handler", "memory": 128, "timeout": 3,
                                "initializer": self.initializer, "initializationTimeout": 3},
                   "service": {"name": "s", "logProject": "p", "logStore": "l", "qualifier": "LATEST",
                               "versionId": ""},
                   "region": "local", "accountId": "1234567890123456", "instanceConcurrency": 1})
        return self

    def request(self, kind="invoke", event=b"", http=None):
        rid, req = str(uuid.uuid4()), self.next_id
        self.next_id += 1
        header = {"type": kind, "id": req, "requestId": rid,
                  "credentials": {"accessKeyId": "AK", "accessKeySecret": "SK", "securityToken": "T"}}
        if kind == "invoke":
            header["http"] = http
        self.send(header, event)
        logs = []
        while True:
            header, body = self.recv()
            if header["type"] == "log":
                assert header["requestId"] == rid, header
                logs.append(body.decode())
            else:
                assert header["id"] == req
                return header, body, rid, "".join(logs)

    def close(self):
        self.sock.close()
        code = self.proc.wait(10)
        self.proc.stdout.close()
        self.proc.stderr.close()
        return code


def test_ready_once_the_server_accepts_then_events_pass_byte_for_byte_with_fc_headers():
    rt = Adapter().handshake()
    assert rt.ready["type"] == "ready" and rt.ready["runtime"].startswith("custom "), rt.ready
    payload = b"bytes \x00\xff\r\n" + bytes(range(256))
    header, body, _, logs = rt.request(event=payload)
    assert header == {"type": "result", "id": 1} and body == payload
    assert "server starting" in logs, "start-up output goes to the first request's log"
    header, body, rid, _ = rt.request(event=b"headers")
    got = json.loads(body)
    assert got["path"] == "/invoke" and got["ct"] == "application/octet-stream"
    fc = {k.lower(): v for k, v in got["fc"].items()}
    assert fc["x-fc-request-id"] == rid and fc["x-fc-control-path"] == "/invoke"
    assert (fc["x-fc-function-name"], fc["x-fc-service-name"], fc["x-fc-access-key-id"]) == ("f", "s", "AK")
    assert (fc["x-fc-function-memory"], fc["x-fc-account-id"], fc["x-fc-region"]) == ("128", "1234567890123456", "local")
    assert rt.close() == 0  # EOF on fd 3 stops the server and the adapter


def test_the_initializer_is_forwarded_once_as_post_initialize():
    rt = Adapter(initializer="index.init").handshake()
    header, body, _, _ = rt.request("initialize")
    assert header == {"type": "result", "id": 1} and body == b""
    assert rt.request(event=b"initialized")[1] == b"1"
    assert rt.request(event=b"initialized")[1] == b"1"
    rt.close()


def test_failures_answer_fc_error_json():
    rt = Adapter().handshake()
    header, body, _, _ = rt.request(event=b"fail")
    assert header == {"type": "error", "id": 1, "errorType": "UnhandledInvocationError"}
    assert json.loads(body) == {"errorMessage": "it failed"}
    header, body, _, _ = rt.request(event=b"status500")
    assert header["type"] == "error" and json.loads(body) == {"errorMessage": "plain failure"}
    assert rt.request(event=b"still up")[1] == b"still up"
    rt.close()


def test_server_output_is_the_request_s_log():
    rt = Adapter().handshake()
    rt.request(event=b"warm")
    header, body, _, logs = rt.request(event=b"log")
    assert body == b"logged" and "to stdout\n" in logs and "to stderr\n" in logs, logs
    rt.close()


def test_http_requests_pass_method_path_status_and_repeated_headers():
    rt = Adapter().handshake()
    http = {"method": "GET", "path": "/p", "requestURI": "/2016-08-15/proxy/s/f/p?a=1", "clientIP": "10.0.0.1",
            "host": "h:1", "headers": {"x-fc-forged": ["no"], "accept": ["*/*"]}, "queries": {"a": ["1"]}}
    header, body, _, _ = rt.request(http=http)
    assert header["type"] == "result" and header["http"]["status"] == 201, header
    assert header["http"]["headers"]["x-custom"] == ["yes"]
    assert header["http"]["headers"]["set-cookie"] == ["a=1", "b=2"]
    assert body == b"GET /2016-08-15/proxy/s/f/p?a=1 base=/2016-08-15/proxy/s/f"
    rt.close()


def test_a_server_that_dies_mid_request_ends_the_adapter_with_its_status():
    rt = Adapter().handshake()
    rt.request(event=b"warm")
    rid = str(uuid.uuid4())
    rt.send({"type": "invoke", "id": 9, "requestId": rid, "credentials": {}, "http": None}, b"exit")
    with pytest.raises(EOFError):
        while True:
            header, _ = rt.recv()
            assert header["type"] == "log", header  # no answer: the invoker reports the exit
    assert rt.proc.wait(10) == 3


def test_a_command_that_exits_before_listening_ends_the_adapter_before_ready():
    rt = Adapter(command=["/bin/sh", "-c", "echo cannot start; exit 4"])
    with pytest.raises(EOFError):
        rt.recv()
    assert rt.proc.wait(10) == 1
    assert b"cannot start" in rt.proc.stderr.read()
