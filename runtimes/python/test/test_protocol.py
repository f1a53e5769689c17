"""Process and frame behaviour of runtimes/PROTOCOL.md."""
import json
import os
import struct
import subprocess
import time

from harness import PYTHON, Runtime, write_code

ECHO_ENV = """
import os, sys, json
def handler(event, context):
    return json.dumps({"fd": os.environ.get("FERRIC_CONTROL_FD"), "path0": sys.path[0], "cwd": os.getcwd(),
                       "func": os.environ.get("FC_FUNCTION_NAME"), "code": os.environ.get("FC_FUNC_CODE_PATH"),
                       "sys_path": sys.path})
"""


def _version():
    out = subprocess.check_output([PYTHON, "-c", "import sys; print('%d.%d.%d' % sys.version_info[:3])"])
    return out.decode().strip()


def test_ready_names_the_interpreter(runtime_factory):
    rt = runtime_factory({"index.py": "def handler(e, c):\n    return 'x'\n"})
    header, body = rt.ready
    assert header == {"type": "ready", "runtime": "python " + _version()}
    assert body == b""


def test_environment_and_import_path(runtime_factory):
    rt = runtime_factory({"index.py": ECHO_ENV})
    out = rt.invoke().json()
    assert out["fd"] is None
    assert out["path0"] == rt.code_dir
    assert out["cwd"] == rt.code_dir
    assert out["func"] == "f"
    runtime_dir = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    assert runtime_dir not in out["sys_path"]


def test_user_modules_named_like_the_helpers_are_not_shadowed(runtime_factory):
    files = {"index.py": "import server, frames, logs, context, wsgi, bootstrap\n"
                         "def handler(e, c):\n"
                         "    return ','.join(m.NAME for m in (server, frames, logs, context, wsgi, bootstrap))\n"}
    for name in ("server", "frames", "logs", "context", "wsgi", "bootstrap"):
        files[name + ".py"] = "NAME = 'user-%s'\n" % name
    rt = runtime_factory(files)
    answer = rt.invoke()
    assert answer.body == b"user-server,user-frames,user-logs,user-context,user-wsgi,user-bootstrap"


def test_exits_when_the_socket_closes(runtime_factory):
    rt = runtime_factory({"index.py": "def handler(e, c):\n    return 'x'\n"})
    assert rt.invoke().body == b"x"
    assert rt.close(timeout=5) == 0


def test_exits_on_eof_even_with_user_threads(runtime_factory):
    src = """
    import threading, time
    def handler(e, c):
        threading.Thread(target=time.sleep, args=(60,)).start()
        return 'started'
    """
    for concurrency in (1, 3):
        rt = runtime_factory({"index.py": src}, concurrency=concurrency)
        assert rt.invoke().body == b"started"
        started = time.time()
        assert rt.close(timeout=5) == 0
        assert time.time() - started < 5


def test_exits_on_eof_before_init():
    rt = Runtime(write_code({"index.py": ""}), send_init=False)
    assert rt.close(timeout=5) == 0


def test_malformed_frame_ends_the_process():
    rt = Runtime(write_code({"index.py": "def handler(e, c):\n    return 'x'\n"}))
    rt.sock.sendall(struct.pack(">II", 0xFFFFFFF0, 2))
    assert rt.proc.wait(5) != 0
    assert b"malformed" in rt.proc.stderr.read()
    rt.close()


def test_frames_split_across_writes(runtime_factory):
    rt = runtime_factory({"index.py": "def handler(e, c):\n    return e[::-1]\n"})
    header = json.dumps({"type": "invoke", "id": 9, "requestId": "r9", "credentials": {}, "http": None}).encode()
    body = b"abcdef"
    wire = struct.pack(">II", 4 + len(header) + len(body), len(header)) + header + body
    for i in range(len(wire)):
        rt.sock.sendall(wire[i:i + 1])
    answer = rt.wait(9)
    assert answer.header == {"type": "result", "id": 9}
    assert answer.body == b"fedcba"


def test_two_frames_in_one_write(runtime_factory):
    rt = runtime_factory({"index.py": "def handler(e, c):\n    return e\n"})
    wire = b""
    for i in (1, 2):
        header = json.dumps({"type": "invoke", "id": i, "requestId": "r%d" % i}).encode()
        wire += struct.pack(">II", 4 + len(header) + 1, len(header)) + header + str(i).encode()
    rt.sock.sendall(wire)
    assert rt.wait(1).body == b"1"
    assert rt.wait(2).body == b"2"


def test_large_event_and_result(runtime_factory):
    rt = runtime_factory({"index.py": "def handler(e, c):\n    return e + b'!'\n"})
    event = os.urandom(5 * 1024 * 1024)
    answer = rt.invoke(event)
    assert answer.body == event + b"!"


def test_unknown_message_types_are_ignored(runtime_factory):
    rt = runtime_factory({"index.py": "def handler(e, c):\n    return 'still here'\n"})
    rt.send({"type": "something-new", "id": 77})
    assert rt.invoke().body == b"still here"


def test_sys_exit_in_a_handler_ends_the_process(runtime_factory):
    rt = runtime_factory({"index.py": "import sys\ndef handler(e, c):\n    print('bye')\n    sys.exit(3)\n"})
    rt.start("invoke")
    frames = []
    try:
        while True:
            frames.append(rt.recv())
    except EOFError:
        pass
    assert [h["type"] for h, _ in frames] == ["log", "log"]
    assert frames[1][1] == b"bye\n"
    assert rt.proc.wait(5) == 3


def test_os_exit_in_a_handler_ends_the_process(runtime_factory):
    rt = runtime_factory({"index.py": "import os\ndef handler(e, c):\n    os._exit(0)\n"})
    rt.start("invoke")
    assert rt.proc.wait(5) == 0


def test_child_processes_and_shell(runtime_factory):
    src = """
    import os, subprocess, sys
    def handler(e, c):
        out = subprocess.run(["/bin/sh", "-c", "echo $((40 + 2))"], capture_output=True).stdout
        return out + subprocess.check_output("echo $HOME", shell=True)
    """
    rt = runtime_factory({"index.py": src})
    assert rt.invoke().body == b"42\n" + rt.scratch.encode() + b"\n"


def test_child_output_goes_to_the_stdout_pipe():
    src = """
    import os, subprocess, sys
    def handler(e, c):
        os.system("echo from-os-system")
        subprocess.run(["echo", "inherited"], stdout=sys.stdout)
        return "ok"
    """
    rt = Runtime(write_code({"index.py": src}))
    answer = rt.invoke()
    assert answer.body == b"ok"
    assert b"from-os-system" not in answer.log_text.encode()
    rt.sock.close()
    out = rt.proc.stdout.read()
    rt.proc.wait(5)
    assert b"from-os-system\n" in out
    assert b"inherited\n" in out
    rt.proc.stdout.close()
    rt.proc.stderr.close()


def test_control_socket_is_not_inherited_by_children(runtime_factory):
    src = """
    import subprocess
    def handler(e, c):
        # close_fds=False: only descriptors marked inheritable reach the child.
        return subprocess.run(["/bin/sh", "-c", "readlink /proc/$$/fd/3 || echo none"], close_fds=False,
                              capture_output=True).stdout
    """
    rt = runtime_factory({"index.py": src})
    assert rt.invoke().body == b"none\n"


def test_fork_child_output_does_not_touch_the_socket(runtime_factory):
    src = """
    import os
    def handler(e, c):
        pid = os.fork()
        if pid == 0:
            print("child says hi" * 1000)
            os._exit(0)
        os.waitpid(pid, 0)
        print("parent")
        return "ok"
    """
    rt = runtime_factory({"index.py": src})
    answer = rt.invoke()
    assert answer.body == b"ok"
    assert "child says hi" not in answer.log_text
    assert answer.log_text.endswith("parent\n")
    assert rt.invoke().body == b"ok"



def test_user_code_keeps_dont_write_bytecode(runtime_factory):
    rt = runtime_factory({"index.py": "import sys\ndef handler(e, c):\n    return sys.dont_write_bytecode\n"})
    assert rt.invoke().body == b"true"
    assert not os.path.exists(os.path.join(rt.code_dir, "__pycache__"))


def test_event_bytes_are_exact(runtime_factory):
    rt = runtime_factory({"index.py": "def handler(e, c):\n    return e\n"})
    for event in (b"", b"\x00", b"\r\n\xff\xfe", "é".encode("utf-16")):
        assert rt.invoke(event).body == event
