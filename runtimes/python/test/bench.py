"""Micro-benchmark of the Python runtime through its control socket (not a test).

    python3 runtimes/python/test/bench.py [--seconds 3]

Measures, with one request in flight: the warm invoke round trip (p50/p99) and requests/s for a noop event
handler and a noop WSGI handler, and the cold start (spawn -> ready -> first result). For scale it also runs
`floor`: a 15-line loop in the same interpreter that reads a frame and answers it with nothing else, so
`runtime - floor` is what the bootstrap adds per request. The client is a tight loop over pre-encoded
frames, so its own cost is the same in every row.
"""
import argparse
import json
import os
import shutil
import struct
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import harness  # noqa: E402
from harness import Runtime, http_request, write_code  # noqa: E402

FLOOR = r"""
import os
fd = 3
h = b'{"type":"ready","runtime":"floor"}'
os.write(fd, (4 + len(h)).to_bytes(4, "big") + len(h).to_bytes(4, "big") + h)
buf = b""
while True:
    while True:
        if len(buf) >= 8:
            total = int.from_bytes(buf[:4], "big")
            if len(buf) >= total + 4:
                break
        chunk = os.read(fd, 65536)
        if not chunk:
            os._exit(0)
        buf += chunk
    hlen = int.from_bytes(buf[4:8], "big")
    frame, buf = buf[:total + 4], buf[total + 4:]
    if b'"invoke"' in frame[8:8 + hlen]:
        rid = int(frame[8:8 + hlen].split(b'"id": ')[1].split(b",")[0])
        h = b'{"type":"result","id":%d}' % rid
        os.write(fd, (4 + len(h) + 2).to_bytes(4, "big") + len(h).to_bytes(4, "big") + h + b"ok")
"""

NOOP = """
def handler(event, context):
    return 'ok'

def wsgi(environ, start_response):
    start_response('200 OK', [('Content-Type', 'text/plain')])
    return [b'ok']
"""


def frame(header, body=b""):
    raw = json.dumps(header).encode()
    return struct.pack(">II", 4 + len(raw) + len(body), len(raw)) + raw + body


def measure(rt, seconds, http=None):
    sock = rt.sock
    recv = sock.recv
    frames = [frame({"type": "invoke", "id": i, "requestId": "bench-%d" % i,
                     "credentials": {"accessKeyId": "", "accessKeySecret": "", "securityToken": ""},
                     "http": http}, b"{}") for i in range(1, 1001)]
    # warm up (imports the handler)
    for f in frames[:200]:
        sock.sendall(f)
        _read_answer(recv)
    samples = []
    clock = time.perf_counter
    deadline = clock() + seconds
    started = clock()
    n = 0
    while clock() < deadline:
        for f in frames:
            t0 = clock()
            sock.sendall(f)
            _read_answer(recv)
            samples.append(clock() - t0)
        n += len(frames)
    wall = clock() - started
    samples.sort()
    return {"p50_us": samples[len(samples) // 2] * 1e6, "p99_us": samples[int(len(samples) * 0.99)] * 1e6,
            "rps": n / wall, "n": n}


def _read_answer(recv):
    # Reads frames until a non-log one (the loop's requests never log).
    while True:
        head = recv(8)
        while len(head) < 8:
            head += recv(8 - len(head))
        total, hlen = struct.unpack(">II", head)
        rest = total - 4
        data = recv(rest) if rest else b""
        while len(data) < rest:
            data += recv(rest - len(data))
        if b'"log"' not in data[:hlen]:
            return data


def cold_start(code_dir, runs=15):
    rows = []
    for _ in range(runs):
        t0 = time.perf_counter()
        rt = Runtime(code_dir)
        t1 = time.perf_counter()
        rt.invoke(b"{}")
        t2 = time.perf_counter()
        rt.close()
        rows.append(((t1 - t0) * 1e3, (t2 - t0) * 1e3))
    rows.sort(key=lambda r: r[1])
    return rows[len(rows) // 2]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=3.0)
    args = parser.parse_args()
    code = write_code({"index.py": NOOP})
    floor_dir = write_code({"floor.py": FLOOR})
    print("interpreter: %s" % harness.PYTHON)
    try:
        saved = harness.BOOTSTRAP
        harness.BOOTSTRAP = os.path.join(floor_dir, "floor.py")
        rt = Runtime(code)
        floor = measure(rt, args.seconds)
        rt.close()
        harness.BOOTSTRAP = saved

        rt = Runtime(code, handler="index.handler")
        event = measure(rt, args.seconds)
        rt.close()

        rt = Runtime(code, handler="index.wsgi")
        http = measure(rt, args.seconds, http=http_request("GET", "/", "a=1", {"host": ["127.0.0.1:8080"]}))
        rt.close()

        ready, first = cold_start(code)
    finally:
        shutil.rmtree(code, ignore_errors=True)
        shutil.rmtree(floor_dir, ignore_errors=True)

    print("%-26s %9s %9s %10s" % ("1 in flight, warm", "p50 us", "p99 us", "req/s"))
    for name, row in (("floor (bare frame loop)", floor), ("event handler (noop)", event),
                      ("WSGI handler (noop)", http)):
        print("%-26s %9.1f %9.1f %10.0f" % (name, row["p50_us"], row["p99_us"], row["rps"]))
    print("added by the runtime (p50): event %.1f us, WSGI %.1f us"
          % (event["p50_us"] - floor["p50_us"], http["p50_us"] - floor["p50_us"]))
    print("cold start (median of 15): spawn -> ready %.1f ms, spawn -> first result %.1f ms" % (ready, first))


if __name__ == "__main__":
    tempfile.tempdir = None
    main()
