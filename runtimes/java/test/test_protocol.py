"""Protocol tests for the Java runtime (runtimes/java/src): plays the invoker's side of runtimes/PROTOCOL.md over a
socketpair on fd 3 against a real JVM, below the server. The module's setup builds the runtime jar as the invoker
does (`javac --release 8`, then `jar`, into a temporary directory) and compiles the test's handlers against it; each
test starts `java <the invoker's JVM options> -cp <jar> ferric.runtime.Bootstrap` in the handlers' class directory.
FERRIC_TEST_JAVA picks the JDK's `java` (default: the one on PATH, with `javac` and `jar` beside it)."""
import json
import os
import shutil
import socket
import subprocess
import sys
import textwrap
import uuid

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "testing"))
from frames import Frames  # noqa: E402  (the shared frame codec, runtimes/testing)

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(os.path.dirname(HERE), "src")
JAVA = os.path.realpath(os.environ.get("FERRIC_TEST_JAVA") or shutil.which("java") or "/usr/bin/java")
JDK_BIN = os.path.dirname(JAVA)

HANDLERS = {
    "Stream.java": """
        package t;
        import com.aliyun.fc.runtime.*;
        import java.io.*;
        import java.nio.charset.StandardCharsets;
        public class Stream implements StreamRequestHandler, FunctionInitializer {
            static int inits;
            static String initRequest = "none";
            public void initialize(Context context) { inits++; initRequest = context.getRequestId(); }
            public void handleRequest(InputStream in, OutputStream out, Context context) throws IOException {
                ByteArrayOutputStream buf = new ByteArrayOutputStream();
                byte[] chunk = new byte[4096];
                for (int n; (n = in.read(chunk)) > 0; ) buf.write(chunk, 0, n);
                String event = new String(buf.toByteArray(), StandardCharsets.UTF_8);
                if (event.equals("init")) {
                    out.write((inits + ":" + initRequest).getBytes(StandardCharsets.UTF_8));
                } else if (event.equals("ctx")) {
                    out.write((context.getRequestId() + "|" + context.getFunctionParam().getFunctionName() + "|"
                            + context.getFunctionParam().getFunctionHandler() + "|"
                            + context.getFunctionParam().getMemoryLimitInMB() + "|"
                            + context.getService().getName() + "|" + context.getExecutionCredentials().getAccessKeyId()
                            ).getBytes(StandardCharsets.UTF_8));
                } else if (event.equals("fail")) {
                    throw new IllegalStateException("stream failed", new IOException("root cause"));
                } else if (event.startsWith("log ")) {
                    String tag = event.substring(4);
                    context.getLogger().info("logger " + tag);
                    System.out.println("stdout " + tag);
                    System.err.print("stderr " + tag);
                    try { Thread.sleep(150); } catch (InterruptedException e) { Thread.currentThread().interrupt(); }
                    System.err.println(" end " + tag);
                    out.write(("logged " + tag).getBytes(StandardCharsets.UTF_8));
                } else {
                    out.write(buf.toByteArray());
                }
            }
        }
    """,
    "Pojo.java": """
        package t;
        import com.aliyun.fc.runtime.*;
        public class Pojo implements PojoRequestHandler<Pojo.In, Pojo.Out> {
            public static class In {
                private String name; public int times;
                public void setName(String name) { this.name = name; }
                public String getName() { return name; }
            }
            public static class Out {
                public String greeting; public int length;
            }
            public Out handleRequest(In in, Context context) {
                Out out = new Out();
                StringBuilder b = new StringBuilder();
                for (int i = 0; i < in.times; i++) b.append("hi ").append(in.getName()).append(i + 1 < in.times ? " " : "");
                out.greeting = b.toString();
                out.length = out.greeting.length();
                return out;
            }
        }
    """,
}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """(runtime jar, class directory of the handlers), built with the JDK's own tools as the invoker builds."""
    for tool in ("javac", "jar"):
        if not os.path.exists(os.path.join(JDK_BIN, tool)):
            assert not os.environ.get("CI"), "no JDK: scripts/setup-sdks installs it"
            pytest.skip("no JDK beside %s (scripts/setup-sdks installs it)" % JAVA)
    work = tmp_path_factory.mktemp("ferric-java")
    sources = [os.path.join(d, n) for d, _, names in os.walk(SRC) for n in names if n.endswith(".java")]
    classes = work / "runtime-classes"
    subprocess.run([os.path.join(JDK_BIN, "javac"), "--release", "8", "-Xlint:-options", "-encoding", "UTF-8",
                    "-nowarn", "-d", str(classes)] + sorted(sources), check=True)
    jar = work / "runtime.jar"
    subprocess.run([os.path.join(JDK_BIN, "jar"), "--create", "--file", str(jar), "-C", str(classes), "."],
                   check=True)
    code = work / "code"
    handler_src = work / "handlers"
    handler_src.mkdir()
    for name, text in HANDLERS.items():
        (handler_src / name).write_text(textwrap.dedent(text))
    subprocess.run([os.path.join(JDK_BIN, "javac"), "--release", "8", "-Xlint:-options", "-nowarn", "-cp", str(jar),
                    "-d", str(code)] + sorted(str(p) for p in handler_src.iterdir()), check=True)
    return str(jar), str(code)


class Runtime(Frames):
    def __init__(self, built, handler, initializer=None, concurrency=1, memory=128):
        jar, code = built
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock, self.next_id = ours, 1
        fd = theirs.fileno()
        env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "FERRIC_CONTROL_FD": "3", "HOME": code,
               "FC_FUNC_CODE_PATH": code, "FC_SERVER_LOG_LEVEL": "INFO", "FC_FUNCTION_HANDLER": handler}
        # The invoker's JVM options (crates/invoker/src/java.rs `jvm_options`), without a CDS archive.
        heap = max(memory * 3 // 4, 32)
        args = [JAVA, "-Xmx%dm" % heap, "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
                "-XX:-UsePerfData", "-XX:+ExitOnOutOfMemoryError", "--add-opens", "java.base/java.io=ALL-UNNAMED",
                "-cp", jar, "ferric.runtime.Bootstrap"]
        self.proc = subprocess.Popen(args, cwd=code, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, close_fds=False, preexec_fn=lambda: os.dup2(fd, 3),
                                     start_new_session=True)
        theirs.close()
        self.sock.settimeout(30)
        self.ready, _ = self.recv()
        self.send({"type": "init",
                   "function": {"name": "f", "handler": handler, "memory": memory, "timeout": 3,
                                "initializer": initializer, "initializationTimeout": 3},
                   "service": {"name": "s", "logProject": "p", "logStore": "l", "qualifier": "LATEST",
                               "versionId": ""},
                   "region": "local", "accountId": "1234567890123456", "instanceConcurrency": concurrency})

    def start(self, kind="invoke", event=b""):
        """Sends one request; returns (frame id, request id)."""
        rid, req = str(uuid.uuid4()), self.next_id
        self.next_id += 1
        header = {"type": kind, "id": req, "requestId": rid,
                  "credentials": {"accessKeyId": "AK", "accessKeySecret": "SK", "securityToken": "T"}}
        if kind == "invoke":
            header["http"] = None
        self.send(header, event)
        return req, rid

    def collect(self, pending):
        """Reads frames until every id in `pending` ({id: requestId}) is answered: {id: (header, body, log text)}."""
        by_rid = {rid: [] for rid in pending.values()}
        done = {}
        while len(done) < len(pending):
            header, body = self.recv()
            if header["type"] == "log":
                assert header["requestId"] in by_rid, header
                by_rid[header["requestId"]].append(body.decode())
            else:
                assert header["id"] in pending and header["id"] not in done, header
                done[header["id"]] = (header, body, "".join(by_rid[pending[header["id"]]]))
        return done

    def request(self, kind="invoke", event=b""):
        req, rid = self.start(kind, event)
        header, body, logs = self.collect({req: rid})[req]
        return header, body, rid, logs

    def close(self):
        self.sock.close()
        code = self.proc.wait(15)
        self.proc.stdout.close()
        self.proc.stderr.close()
        return code


def test_ready_then_a_stream_handler_gets_the_bytes_and_fc_context(built):
    rt = Runtime(built, "t.Stream::handleRequest")
    assert rt.ready["type"] == "ready" and rt.ready["runtime"].startswith("java"), rt.ready
    payload = b"bytes \x00\xff\r\n" + bytes(range(256))
    header, body, _, _ = rt.request(event=payload)
    assert header == {"type": "result", "id": 1} and body == payload
    header, body, rid, _ = rt.request(event=b"ctx")
    assert body.decode().split("|") == [rid, "f", "t.Stream::handleRequest", "128", "s", "AK"]
    assert rt.close() == 0  # EOF on fd 3 ends the JVM cleanly


def test_a_pojo_handler_reads_and_writes_json(built):
    rt = Runtime(built, "t.Pojo::handleRequest")
    header, body, _, _ = rt.request(event=b'{"name": "ann", "times": 2, "unknown": [1]}')
    assert header["type"] == "result", body
    assert json.loads(body) == {"greeting": "hi ann hi ann", "length": 13}
    rt.close()


def test_the_initializer_runs_once_with_its_own_request(built):
    rt = Runtime(built, "t.Stream::handleRequest", initializer="t.Stream::initialize")
    header, body, init_rid, _ = rt.request("initialize")
    assert header == {"type": "result", "id": 1} and body == b""
    assert rt.request(event=b"init")[1].decode() == "1:" + init_rid
    assert rt.request(event=b"init")[1].decode() == "1:" + init_rid, "the same JVM and object serve again"
    rt.close()


def test_an_exception_answers_fc_error_json_logs_it_and_the_jvm_stays_up(built):
    rt = Runtime(built, "t.Stream::handleRequest")
    header, body, _, logs = rt.request(event=b"fail")
    assert header == {"type": "error", "id": 1, "errorType": "UnhandledInvocationError"}
    err = json.loads(body)
    assert err["errorMessage"] == "stream failed" and err["errorType"] == "java.lang.IllegalStateException"
    assert err["errorCause"] == "root cause"
    assert err["stackTrace"][0].startswith("t.Stream.handleRequest(Stream.java:"), err["stackTrace"]
    assert not any(line.startswith(("java.lang.reflect", "ferric.runtime", "sun.reflect", "jdk.internal"))
                   for line in err["stackTrace"]), err["stackTrace"]
    assert "[ERROR]" in logs and "stream failed" in logs, logs
    assert rt.request(event=b"after")[1] == b"after"
    rt.close()


def test_missing_class_and_missing_method_use_fc_messages(built):
    rt = Runtime(built, "t.Nope::handleRequest")
    header, body, _, _ = rt.request()
    assert header["type"] == "error"
    assert json.loads(body) == {"errorMessage": "Class not found: t.Nope", "errorType": "java.lang.ClassNotFoundException"}
    rt.close()
    rt = Runtime(built, "t.Stream::nothere")
    assert json.loads(rt.request()[1]) == {"errorMessage": "Handler 'nothere' missing on module 't.Stream'"}
    rt.close()


def test_logs_are_framed_per_request_in_fc_format(built):
    rt = Runtime(built, "t.Stream::handleRequest")
    header, body, rid, logs = rt.request(event=b"log one")
    assert body == b"logged one"
    lines = logs.rstrip("\n").split("\n")
    logger = [line for line in lines if line.endswith(" [INFO] logger one")]
    assert len(logger) == 1 and logger[0].split(" ")[1] == rid, lines
    stamp = logger[0].split(" ")[0]
    assert len(stamp) == 24 and stamp[10] == "T" and stamp.endswith("Z"), stamp
    assert "stdout one" in lines and "stderr one end one" in lines, lines
    rt.close()


def test_concurrent_requests_keep_their_own_whole_log_lines(built):
    rt = Runtime(built, "t.Stream::handleRequest", concurrency=4)
    tags = ["a", "b", "c", "d"]
    pending = {}
    for tag in tags:
        req, rid = rt.start(event=("log " + tag).encode())
        pending[req] = rid
    done = rt.collect(pending)
    for req, tag in zip(sorted(pending), tags):
        header, body, logs = done[req]
        assert header["type"] == "result" and body == ("logged " + tag).encode()
        lines = logs.rstrip("\n").split("\n")
        assert "stdout " + tag in lines and "stderr %s end %s" % (tag, tag) in lines, (tag, lines)
        assert any(line.endswith("[INFO] logger " + tag) and pending[req] in line for line in lines), lines
        others = [t for t in tags if t != tag]
        assert not any(line.endswith(" " + t) for line in lines for t in others), (tag, lines)
    rt.close()
