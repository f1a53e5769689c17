"""Plays the invoker's side of runtimes/PROTOCOL.md against a real bootstrap.py process.

The bootstrap runs under a plain interpreter (FERRIC_TEST_PYTHON, default /usr/bin/python3), never a venv,
with the environment PROTOCOL.md lists and the control socket on fd 3.
"""
import json
import os
import socket
import struct
import subprocess
import sys
import tempfile
import textwrap
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
BOOTSTRAP = os.path.join(os.path.dirname(HERE), "bootstrap.py")
PYTHON = os.environ.get("FERRIC_TEST_PYTHON", "/usr/bin/python3")


def write_code(files):
    """A temporary code directory holding `files` (name -> source, dedented)."""
    code_dir = tempfile.mkdtemp(prefix="ferric-py-code-")
    for name, source in files.items():
        path = os.path.join(code_dir, name)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write(textwrap.dedent(source))
    return code_dir


class Answer(object):
    def __init__(self, header, body, logs):
        self.header = header
        self.body = body
        self.logs = logs          # list of (requestId, bytes) in arrival order

    @property
    def type(self):
        return self.header["type"]

    @property
    def log_text(self):
        return b"".join(data for _, data in self.logs).decode("utf-8")

    def json(self):
        return json.loads(self.body.decode("utf-8"))


class Runtime(object):
    def __init__(self, code_dir, handler="index.handler", initializer=None, concurrency=1, env=None,
                 send_init=True, python=PYTHON, memory=128, timeout=3):
        self.code_dir = code_dir
        self.handler = handler
        self.initializer = initializer
        self.concurrency = concurrency
        self.next_id = 1
        self.pending_logs = []    # log frames not yet handed out
        self.answers = {}         # id -> (header, body) received early
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock = ours
        self.scratch = tempfile.mkdtemp(prefix="ferric-py-tmp-")
        environment = {
            "FC_FUNC_CODE_PATH": code_dir,
            "FC_FUNCTION_MEMORY_SIZE": str(memory),
            "FC_RUNTIME_VERSION": "python3.10",
            "FC_ACCOUNT_ID": "1234567890123456",
            "FC_FUNCTION_HANDLER": handler,
            "FC_FUNCTION_NAME": "f",
            "FC_SERVICE_NAME": "s",
            "FC_QUALIFIER": "LATEST",
            "FC_VER_ID": "LATEST",
            "FC_REGION": "local",
            "FC_INSTANCE_ID": uuid.uuid4().hex,
            "FC_SERVER_LOG_LEVEL": "INFO",
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "HOME": self.scratch,
            "TMPDIR": self.scratch,
            "LANG": "C.UTF-8",
            "FERRIC_CONTROL_FD": "3",
        }
        if initializer:
            environment["FC_FUNCTION_INITIALIZER"] = initializer
        environment.update(env or {})
        child_fd = theirs.fileno()

        def to_fd3():
            os.dup2(child_fd, 3)

        self.proc = subprocess.Popen(
            [python, "-u", "-B", BOOTSTRAP], cwd=code_dir, env=environment, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, close_fds=False, preexec_fn=to_fd3,
            start_new_session=True)
        theirs.close()
        self.sock.settimeout(20)
        self.ready = self.recv()
        if send_init:
            self.send_init(memory, timeout)

    def send_init(self, memory=128, timeout=3):
        self.send({"type": "init",
                   "function": {"name": "f", "handler": self.handler, "memory": memory, "timeout": timeout,
                                "initializer": self.initializer, "initializationTimeout": 3},
                   "service": {"name": "s", "logProject": "proj", "logStore": "store", "qualifier": "LATEST",
                               "versionId": ""},
                   "region": "local", "accountId": "1234567890123456",
                   "instanceConcurrency": self.concurrency})

    # ---- raw frames ----

    def send(self, header, body=b""):
        raw = json.dumps(header).encode("utf-8")
        self.sock.sendall(struct.pack(">II", 4 + len(raw) + len(body), len(raw)) + raw + body)

    def _exact(self, n):
        chunks = []
        while n:
            chunk = self.sock.recv(min(n, 1 << 20))
            if not chunk:
                raise EOFError("runtime closed the socket")
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def recv(self):
        total, hlen = struct.unpack(">II", self._exact(8))
        rest = self._exact(total - 4)
        return json.loads(rest[:hlen].decode("utf-8")), rest[hlen:]

    # ---- requests ----

    def start(self, kind="invoke", event=b"", http=None, request_id=None, credentials=None):
        """Sends an invoke/initialize without waiting; returns (id, requestId)."""
        req_id = self.next_id
        self.next_id += 1
        rid = request_id or str(uuid.uuid4())
        header = {"type": kind, "id": req_id, "requestId": rid,
                  "credentials": credentials or {"accessKeyId": "AK", "accessKeySecret": "SK",
                                                 "securityToken": "TOKEN"}}
        if kind == "invoke":
            header["http"] = http
        self.send(header, event if kind == "invoke" else b"")
        return req_id, rid

    def wait(self, req_id):
        """Reads frames until the answer for `req_id`; returns it with the log frames seen meanwhile."""
        while req_id not in self.answers:
            header, body = self.recv()
            if header["type"] == "log":
                self.pending_logs.append((header["requestId"], body))
            else:
                self.answers[header["id"]] = (header, body)
        header, body = self.answers.pop(req_id)
        logs, self.pending_logs = self.pending_logs, []
        return Answer(header, body, logs)

    def invoke(self, event=b"", http=None, request_id=None, credentials=None):
        req_id, _ = self.start("invoke", event, http, request_id, credentials)
        return self.wait(req_id)

    def initialize(self, request_id=None):
        req_id, _ = self.start("initialize", request_id=request_id)
        return self.wait(req_id)

    def close(self, timeout=10):
        try:
            self.sock.close()
        except OSError:
            pass
        try:
            return self.proc.wait(timeout)
        finally:
            if self.proc.poll() is None:
                os.killpg(self.proc.pid, 9)
                self.proc.wait()
            self.proc.stdout.close()
            self.proc.stderr.close()


def http_request(method="GET", path="/", query="", headers=None, host="127.0.0.1:8080", client_ip="10.0.0.1",
                 queries=None):
    uri = "/2016-08-15/proxy/s/f" + path + ("?" + query if query else "")
    return {"method": method, "path": path, "requestURI": uri, "clientIP": client_ip, "host": host,
            "headers": headers or {}, "queries": queries or {}}


if __name__ == "__main__":
    sys.exit("harness.py is a helper for the tests and bench.py")
