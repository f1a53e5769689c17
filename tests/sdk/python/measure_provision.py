"""Seconds from PUT provision-config to `current == target`, and from `kill -9` of one provisioned instance to
its replacement, against a running `ferric serve` on this machine (instances are found in /proc).

Usage: FC_ENDPOINT=... FC_ACCESS_KEY_ID=... FC_ACCESS_KEY_SECRET=... .venv/bin/python \
           tests/sdk/python/measure_provision.py <runtime> <target>
"""
import fc2, os, signal, sys, time, uuid, pathlib
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fcutil import make_zip, write_zip
c = fc2.Client(endpoint=os.environ["FC_ENDPOINT"], accessKeyID=os.environ["FC_ACCESS_KEY_ID"],
               accessKeySecret=os.environ["FC_ACCESS_KEY_SECRET"], Timeout=30)
runtime = sys.argv[1]
target = int(sys.argv[2])
svc = "m_" + uuid.uuid4().hex[:8]
c.create_service(svc)
p = pathlib.Path("/tmp/prov-measure"); p.mkdir(exist_ok=True)
files = {"index.js": "exports.handler = (e, c, cb) => cb(null, process.env.FC_INSTANCE_ID);\n"} if runtime.startswith("node") else {"index.py": "import os\ndef handler(e, c):\n    return os.environ['FC_INSTANCE_ID']\n"}
c.create_function(svc, "f", handler="index.handler", runtime=runtime, codeZipFile=write_zip(p, make_zip(files)))
c.publish_version(svc, "v1"); c.create_alias(svc, "prod", "1")
def wait(n):
    while c.get_provision_config(svc, "prod", "f").data["current"] != n:
        time.sleep(0.01)
t = time.time(); c.put_provision_config(svc, "prod", "f", target); wait(target); up = time.time() - t
ids = [i["instanceId"] for i in c.list_instances(svc, "prod", "f").data["instances"]]
needle = "FC_INSTANCE_ID={0}\0".format(ids[0]).encode()
def env(d):
    try:
        return open("/proc/%s/environ" % d, "rb").read()
    except OSError:
        return b""
pids = [int(d) for d in os.listdir("/proc") if d.isdigit() and needle in env(d)]
t = time.time()
for pid in pids: os.kill(pid, signal.SIGKILL)
while True:
    now = [i["instanceId"] for i in c.list_instances(svc, "prod", "f").data["instances"]]
    if len(now) == target and ids[0] not in now: break
    time.sleep(0.01)
back = time.time() - t
c.put_provision_config(svc, "prod", "f", 0)
print("%s target=%d: PUT -> current=%d in %.2f s; kill -9 -> replaced in %.2f s" % (runtime, target, target, up, back))
