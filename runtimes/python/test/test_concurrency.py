"""instanceConcurrency: overlapping invokes answered by id, logs attributed per request."""
import re
import time

SLEEPY = """
import logging, threading, time
def handler(event, context):
    name = event.decode()
    logging.info("start %s", name)
    if name.startswith("slow"):
        time.sleep(0.6)
    print("print", name)
    logging.info("end %s", name)
    return name + ":" + threading.current_thread().name
"""


def test_answers_out_of_order_by_id(runtime_factory):
    rt = runtime_factory({"index.py": SLEEPY}, concurrency=2)
    started = time.time()
    slow_id, slow_rid = rt.start("invoke", b"slow", request_id="rid-slow")
    fast_id, fast_rid = rt.start("invoke", b"fast", request_id="rid-fast")
    order = []
    frames = []
    while len(order) < 2:
        header, body = rt.recv()
        frames.append((header, body))
        if header["type"] != "log":
            order.append((header["id"], body))
    elapsed = time.time() - started
    assert [i for i, _ in order] == [fast_id, slow_id]
    assert order[0][1].startswith(b"fast:")
    assert order[1][1].startswith(b"slow:")
    assert elapsed < 1.0
    # Every log frame carries the id of the request that wrote it, and comes before that request's answer.
    seen_answer = set()
    for header, body in frames:
        if header["type"] == "log":
            text = body.decode()
            name = "slow" if "slow" in text else ("fast" if "fast" in text else None)
            if name:
                assert header["requestId"] == "rid-" + name
                assert "rid-" + name not in seen_answer
                m = re.match(r".*Z (\S+) \[INFO\]", text)
                if m:
                    assert m.group(1) == "rid-" + name
        else:
            seen_answer.add(slow_rid if header["id"] == slow_id else fast_rid)


def test_many_concurrent_requests_overlap(runtime_factory):
    rt = runtime_factory({"index.py": SLEEPY}, concurrency=4)
    started = time.time()
    ids = [rt.start("invoke", ("slow%d" % i).encode())[0] for i in range(4)]
    bodies = [rt.wait(i).body for i in ids]
    assert time.time() - started < 1.5
    assert [b.split(b":")[0] for b in bodies] == [b"slow0", b"slow1", b"slow2", b"slow3"]
    # The pool has at most 4 threads and reuses them.
    names = {b.split(b":")[1] for b in bodies}
    more = [rt.wait(rt.start("invoke", b"fast")[0]).body.split(b":")[1] for _ in range(6)]
    assert len(names | set(more)) <= 4


def test_concurrency_one_runs_on_the_main_thread(runtime_factory):
    rt = runtime_factory({"index.py": SLEEPY}, concurrency=1)
    assert rt.invoke(b"fast").body == b"fast:MainThread"


def test_more_requests_than_workers_are_queued_not_lost(runtime_factory):
    rt = runtime_factory({"index.py": SLEEPY}, concurrency=2)
    ids = [rt.start("invoke", b"slow-%d" % i)[0] for i in range(4)]
    assert [rt.wait(i).body.split(b":")[0] for i in ids] == [b"slow-0", b"slow-1", b"slow-2", b"slow-3"]
    # Afterwards the pool still serves two at once.
    started = time.time()
    ids = [rt.start("invoke", b"slow-again")[0] for _ in range(2)]
    for i in ids:
        rt.wait(i)
    assert time.time() - started < 1.1


def test_import_happens_once_under_concurrency(runtime_factory):
    src = ("import time\n"
           "time.sleep(0.3)\n"
           "import os\n"
           "with open(os.path.join(os.environ['TMPDIR'], 'imports'), 'a') as f:\n"
           "    f.write('x')\n"
           "def handler(e, c):\n"
           "    return open(os.path.join(os.environ['TMPDIR'], 'imports')).read()\n")
    rt = runtime_factory({"index.py": src}, concurrency=3)
    ids = [rt.start("invoke")[0] for _ in range(3)]
    assert [rt.wait(i).body for i in ids] == [b"x", b"x", b"x"]


def test_banner_once_even_when_the_first_requests_overlap(runtime_factory):
    rt = runtime_factory({"index.py": SLEEPY}, concurrency=3)
    ids = [rt.start("invoke", b"slow")[0] for _ in range(3)]
    text = "".join(rt.wait(i).log_text for i in ids)
    assert text.count("FunctionCompute python3 runtime inited.") == 1
