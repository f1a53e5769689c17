# Hostile Python functions for crates/cli/tests/sandbox.rs. Each handler attempts one escape from its
# sandbox and answers {"blocked": bool, "detail": str} rather than crashing, except where crashing (or
# exhausting a limit) is the point. The event is the JSON the harness sends (see `event` in sandbox.rs).
# Anything an attempt manages to create on the host is removed again before answering.

import ctypes
import errno
import http.client
import json
import os
import signal
import socket
import subprocess
import time

MIB = 1 << 20


def parse(event):
    return json.loads(event or b"{}")


def why(e):
    if isinstance(e, OSError) and e.errno is not None:
        return errno.errorcode.get(e.errno, str(e.errno))
    return "%s: %s" % (type(e).__name__, e)


def answer(blocked, detail, **extra):
    out = {"blocked": bool(blocked), "detail": json.dumps(detail)}
    out.update(extra)
    return json.dumps(out)


def libc():
    lib = ctypes.CDLL(None, use_errno=True)
    lib.syscall.restype = ctypes.c_long
    lib.ptrace.restype = ctypes.c_long
    lib.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
    lib.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_void_p]
    lib.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
    lib.unshare.argtypes = [ctypes.c_int]
    return lib


def call(fn, *args):
    """Calls a libc function; returns (result, errno name)."""
    ctypes.set_errno(0)
    r = fn(*args)
    e = ctypes.get_errno()
    return r, errno.errorcode.get(e, str(e)) if r == -1 else None


def try_read(target):
    try:
        if os.path.isdir(target):
            return {"target": target, "ok": True, "entries": sorted(os.listdir(target))[:20]}
        with open(target, "rb") as f:
            return {"target": target, "ok": True, "text": f.read(200).decode("latin1")}
    except Exception as e:
        return {"target": target, "ok": False, "error": why(e)}


# 1. Another function's code, by its host path.
def readVictim(event, context):
    ev = parse(event)
    d = ev["victimDir"]
    tries = [try_read(t) for t in (d, os.path.join(d, "secret.txt"), os.path.join(d, "index.py"))]
    return answer(not any(t["ok"] for t in tries), tries)


# 2. The server's data directory, directly and through the server's /proc/<pid>/root.
def readDataDir(event, context):
    ev = parse(event)
    d = ev["dataDir"]
    targets = [
        d,
        os.path.join(d, "ferric.db"),
        os.path.join(d, "credentials.json"),
        "/proc/%d/root%s" % (ev["serverPid"], os.path.join(d, "credentials.json")),
    ]
    tries = [try_read(t) for t in targets]
    return answer(not any(t["ok"] for t in tries), tries)


def try_create(path):
    try:
        # O_EXCL: never overwrite something that exists.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(fd, b"hostile")
        os.close(fd)
    except Exception as e:
        return {"file": path, "written": False, "error": why(e)}
    try:
        os.unlink(path)
    except Exception as e:
        return {"file": path, "written": True, "cleanup": why(e)}
    return {"file": path, "written": True}


# 3. Writing anywhere but /tmp: the code (/code and FC_FUNC_CODE_PATH), /etc, /usr, /, /var.
def writeOutsideTmp(event, context):
    ev = parse(event)
    name = "ferric-hostile-" + ev["token"]
    dirs = ["/code", os.environ.get("FC_FUNC_CODE_PATH"), "/etc", "/usr", "/", "/var"]
    tries = [try_create(os.path.join(d, name)) if d else {"file": "FC_FUNC_CODE_PATH unset", "written": False} for d in dirs]
    control = try_create(os.path.join("/tmp", name))
    blocked = control["written"] and not any(t["written"] for t in tries)
    return answer(blocked, {"control": control, "tries": tries})


# 4. Host processes in /proc.
def seeProcesses(event, context):
    ev = parse(event)
    error = None
    try:
        pids = [n for n in os.listdir("/proc") if n.isdigit()]
    except Exception as e:
        pids, error = [], why(e)
    server_visible = os.path.exists("/proc/%d" % ev["serverPid"])
    blocked = not server_visible and len(pids) < 20
    return answer(blocked, {"serverVisible": server_visible, "count": len(pids), "pids": pids[:30], "error": error})


# 5. Signalling the server and other instances (signal 0: the permission check without the harm).
def signalServer(event, context):
    ev = parse(event)
    tries = []
    for pid in [ev["serverPid"]] + list(ev.get("peerPids") or []):
        try:
            os.kill(pid, 0)
            tries.append({"pid": pid, "signalled": True})
        except Exception as e:
            tries.append({"pid": pid, "signalled": False, "error": why(e)})
    return answer(not any(t["signalled"] for t in tries), tries)


# 6. ptrace: PTRACE_ATTACH (16) on pid 1 of the sandbox and on a process of the server's uid outside it,
# then PTRACE_TRACEME (0). A successful attach is undone at once (wait for the stop, PTRACE_DETACH).
def ptrace(event, context):
    ev = parse(event)
    lib = libc()
    try:
        same_pidns = os.readlink("/proc/self/ns/pid") == ev["hostPidNs"]
    except Exception:
        same_pidns = False
    tries = []
    targets = [ev["ptracePid"]]
    if same_pidns:
        # Never attach to the host's init: this process shares the host's pid namespace, which already fails.
        tries.append({"pid": 1, "attached": True, "note": "shares the host pid namespace; host pid 1 not touched"})
    else:
        targets.insert(0, 1)
    for pid in targets:
        r, err = call(lib.ptrace, 16, pid, None, None)
        if r == 0:
            try:
                os.waitpid(pid, 0x40000000)  # __WALL
            except Exception:
                pass
            lib.ptrace(17, pid, None, None)  # PTRACE_DETACH
        tries.append({"pid": pid, "attached": r == 0, "error": err})
    # PTRACE_TRACEME in a child, so that this instance never becomes traced by whatever started it.
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(rfd)
            os.write(wfd, json.dumps(call(lib.ptrace, 0, 0, None, None)).encode())
        finally:
            os._exit(0)
    os.close(wfd)
    with os.fdopen(rfd, "rb") as f:
        said = f.read()
    os.waitpid(pid, 0)
    r, err = json.loads(said) if said else (-1, "child killed")
    tries.append({"traceme": True, "attached": r == 0, "error": err})
    return answer(not any(t["attached"] for t in tries), tries)


# 7. Mounting a tmpfs.
def mount(event, context):
    ev = parse(event)
    lib = libc()
    d = "/tmp/ferric-m-" + ev["token"]
    os.makedirs(d, exist_ok=True)
    r, err = call(lib.mount, b"none", d.encode(), b"tmpfs", 0, None)
    if r == 0:
        lib.umount2(d.encode(), 2)  # MNT_DETACH
    try:
        os.rmdir(d)
    except Exception:
        pass
    return answer(r == -1, {"result": r, "error": err})


# 8. A new user namespace (CLONE_NEWUSER); the shell must keep working.
def unshare(event, context):
    lib = libc()
    control = subprocess.run(["/bin/sh", "-c", "echo ok"], capture_output=True, timeout=10)
    control_ok = control.returncode == 0 and control.stdout == b"ok\n"
    r, err = call(lib.unshare, 0x10000000)
    detail = {"control": {"ok": control_ok, "status": control.returncode}, "result": r, "error": err}
    return answer(control_ok and r == -1, detail)


# 9. Loading a kernel module: init_module (175) with a junk image, finit_module (313) on fd -1.
def kernelModule(event, context):
    lib = libc()
    image = ctypes.create_string_buffer(64)
    r1, e1 = call(lib.syscall, ctypes.c_long(175), image, ctypes.c_ulong(64), ctypes.c_char_p(b""))
    r2, e2 = call(lib.syscall, ctypes.c_long(313), ctypes.c_int(-1), ctypes.c_char_p(b""), ctypes.c_int(0))
    ok = ("EPERM", "ENOSYS")
    blocked = r1 == -1 and e1 in ok and r2 == -1 and e2 in ok
    return answer(blocked, {"init_module": [r1, e1], "finit_module": [r2, e2]})


# 10, 11. TCP connections to the host (listeners of the harness, Ferric's own API port).
def netConnect(event, context):
    ev = parse(event)
    tries = []
    for t in ev["targets"]:
        try:
            s = socket.create_connection((t["host"], t["port"]), timeout=2)
            s.close()
            tries.append({"target": t, "connected": True})
        except Exception as e:
            tries.append({"target": t, "connected": False, "error": why(e)})
    return answer(not any(t["connected"] for t in tries), tries)


# 11. An unsigned form-API request to Ferric from inside a function (with host networking).
def formApi(event, context):
    ev = parse(event)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", ev["apiPort"], timeout=5)
        conn.request("GET", "/api/v1/func/list?Offset=0&Limit=20")
        res = conn.getresponse()
        status, body = res.status, res.read().decode("utf-8", "replace")
        conn.close()
    except Exception as e:
        return answer(True, {"connected": False, "error": why(e)})
    try:
        accepted = status == 200 and json.loads(body).get("Code") == 0
    except Exception:
        accepted = False
    return answer(not accepted, {"status": status, "body": body[:300]})


# 12. Fork bomb: fork sleeping children until refused (or the limit is reached), then kill them all.
def forkBomb(event, context):
    ev = parse(event)
    pids, failure = [], None
    deadline = time.time() + 15
    try:
        while len(pids) < ev["limit"] and time.time() < deadline:
            pid = os.fork()
            if pid == 0:
                try:
                    time.sleep(20)
                finally:
                    os._exit(0)
            pids.append(pid)
    except Exception as e:
        failure = why(e)
    finally:
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except Exception:
                pass
        for pid in pids:
            try:
                os.waitpid(pid, 0)
            except Exception:
                pass
    return answer(len(pids) < ev["limit"], {"created": len(pids), "failure": failure}, created=len(pids))


# 13. Memory past memorySize: must fail (MemoryError, or the instance's death, is the answer).
def memoryHog(event, context):
    ev = parse(event)
    chunks = []
    for i in range(ev["mib"]):
        chunks.append(bytes([i & 255]) * MIB)
    return answer(False, "allocated %d MiB" % len(chunks))


# 14. Filling /tmp: must stop with ENOSPC before ev["mib"] MiB.
def tmpFill(event, context):
    ev = parse(event)
    path = "/tmp/ferric-fill-" + ev["token"]
    chunk = b"\x07" * MIB
    written, error, fd = 0, None, None
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        while written < ev["mib"] * MIB:
            written += os.write(fd, chunk)
    except Exception as e:
        error = why(e)
    finally:
        if fd is not None:
            os.close(fd)
        try:
            os.unlink(path)
        except Exception:
            pass
    blocked = written < ev["mib"] * MIB and error in ("ENOSPC", "EDQUOT")
    return answer(blocked, {"writtenMiB": written / MIB, "error": error}, written=written)


# 15. A detached child left behind by an exiting instance.
def leaveChild(event, context):
    ev = parse(event)
    subprocess.Popen(
        ["sleep", ev["sleepArg"]],
        start_new_session=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(0.3)
    os._exit(1)


# 16. Host paths in the mount tables (the data dir, code checksums, the curated /etc's source).
def hostPaths(event, context):
    ev = parse(event)
    tables = []
    for name in ("/proc/self/mountinfo", "/proc/mounts", "/proc/self/mountstats"):
        try:
            with open(name) as f:
                tables.append(f.read())
        except Exception:
            tables.append("")
    found = [p for p in ev["hostPaths"] if any(p in t for t in tables)]
    return answer(not found, {"found": found, "mountinfo": tables[0]})
