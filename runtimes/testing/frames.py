"""The runtime protocol's frames (runtimes/PROTOCOL.md) as the runtimes' own test suites speak them over
one end of a socketpair: `[total length u32][header length u32][JSON header][body]`, big-endian, where the
total counts everything after itself. A mixin for a suite's driver class, which sets `self.sock`; sends
are serialised, so threads of one driver may send at once (the concurrency tests do)."""

import json
import struct
import threading


class Frames:
    #: Named in the error when the other end closes mid-frame.
    peer = "runtime"

    def send(self, header, body=b""):
        raw = json.dumps(header).encode()
        frame = struct.pack(">II", 4 + len(raw) + len(body), len(raw)) + raw + body
        with self._send_lock():
            self.sock.sendall(frame)

    def recv(self):
        total, hlen = struct.unpack(">II", self.exact(8))
        rest = self.exact(total - 4)
        return json.loads(rest[:hlen]), rest[hlen:]

    def exact(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise EOFError(self.peer + " closed the socket")
            data += chunk
        return data

    def _send_lock(self):
        lock = self.__dict__.get("_frames_lock")
        if lock is None:
            lock = self.__dict__.setdefault("_frames_lock", threading.Lock())
        return lock
