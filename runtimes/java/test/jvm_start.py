#!/usr/bin/env python3
"""What the runtime's class-data-sharing archive saves a JVM, outside the server and the sandbox.

Builds the runtime jar from runtimes/java/src with the JDK's javac and jar, trains an archive of it the way
the invoker does (ferric.runtime.Train, -XX:+RecordDynamicDumpInfo; the archive frame goes to a file), then
starts JVMs with the invoker's options, with and without -XX:SharedArchiveFile, interleaved, each speaking
runtimes/PROTOCOL.md over a socketpair on its fd 3: ready, init, one invoke of the training stream handler.
Prints the medians of the time to the first result and of the JVM's CPU time (user + system, less noisy than
wall time on a busy machine).

    python3 runtimes/java/test/jvm_start.py [runs]      (default 21 runs of each)
"""

import json
import os
import resource
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))  # runtimes/java/test (not embedded: build.rs skips test/)
SRC = os.path.join(HERE, "..", "src")
# crates/invoker/src/java.rs::jvm_options for a 128 MB function.
OPTIONS = ["-Xmx96m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto", "-XX:-UsePerfData",
           "-XX:+ExitOnOutOfMemoryError", "--add-opens", "java.base/java.io=ALL-UNNAMED"]
QUIET = ["-Xlog:cds=off,cds+dynamic=off"]


def frame(header, body=b""):
    head = json.dumps(header).encode()
    return struct.pack(">II", 4 + len(head) + len(body), len(head)) + head + body


def read_frame(sock):
    def exact(n):
        data = b""
        while len(data) < n:
            chunk = sock.recv(n - len(data))
            if not chunk:
                raise EOFError("the JVM closed its socket")
            data += chunk
        return data
    total, head = struct.unpack(">II", exact(8))
    rest = exact(total - 4)
    return json.loads(rest[:head]), rest[head:]


def build(work):
    classes = os.path.join(work, "classes")
    sources = [os.path.join(d, f) for d, _, fs in os.walk(SRC) for f in fs if f.endswith(".java")]
    subprocess.run(["javac", "--release", "8", "-Xlint:-options", "-nowarn", "-encoding", "UTF-8", "-d", classes]
                   + sources, check=True)
    jar = os.path.join(work, "runtime.jar")
    subprocess.run(["jar", "--create", "--file", jar, "-C", classes, "."], check=True)
    archive = os.path.join(work, "runtime.jsa")
    with open(os.path.join(work, "archive-frame"), "wb") as fd3:
        subprocess.run(["java"] + OPTIONS + ["-XX:+RecordDynamicDumpInfo"] + QUIET
                       + ["-cp", jar, "ferric.runtime.Train", archive],
                       pass_fds=(fd3.fileno(),), env={"FERRIC_CONTROL_FD": str(fd3.fileno()), "PATH": "/usr/bin:/bin"},
                       stdout=subprocess.DEVNULL, check=True)
    return jar, archive


def first_result(jar, extra, code):
    ours, theirs = socket.socketpair()
    started = time.perf_counter()
    jvm = subprocess.Popen(["java"] + OPTIONS + extra + ["-cp", jar, "ferric.runtime.Bootstrap"],
                           pass_fds=(theirs.fileno(),), stdout=subprocess.DEVNULL,
                           env={"FERRIC_CONTROL_FD": str(theirs.fileno()), "PATH": "/usr/bin:/bin",
                                "FC_FUNC_CODE_PATH": code})
    theirs.close()
    assert read_frame(ours)[0]["type"] == "ready"
    function = {"handler": "ferric.runtime.Train$Handler::handleRequest", "initializer": None, "memory": 128,
                "name": "bench", "timeout": 3}
    ours.sendall(frame({"function": function, "instanceConcurrency": 1, "service": {"name": "bench"},
                        "type": "init"}))
    ours.sendall(frame({"credentials": {}, "http": None, "id": 1, "requestId": "r1", "type": "invoke"}, b"hello"))
    while read_frame(ours)[0]["type"] not in ("result", "error"):
        pass
    took = time.perf_counter() - started
    ours.close()
    jvm.wait()
    return took


def main():
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 21
    with tempfile.TemporaryDirectory() as work:
        jar, archive = build(work)
        code = os.path.join(work, "code")
        os.mkdir(code)
        modes = {"without the archive": [], "with the archive": ["-XX:SharedArchiveFile=" + archive] + QUIET}
        seen = {name: [] for name in modes}
        for _ in range(runs):
            for name, extra in modes.items():
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                took = first_result(jar, extra, code)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
                seen[name].append((took, cpu))
        print("archive: %d bytes; %d runs of each, interleaved; medians" % (os.path.getsize(archive), runs))
        for name, samples in seen.items():
            median = lambda i: sorted(s[i] for s in samples)[len(samples) // 2] * 1000
            print("%-20s first result %6.1f ms   JVM CPU %6.1f ms" % (name, median(0), median(1)))


if __name__ == "__main__":
    main()
