"""Provisioned and on-demand instances through the Python SDK, after the SDK's own test/provision_test.py and
test/on_demand_config_test.py (which need python2.7 and a cloud account, so cannot run unchanged), plus
list_instances and a provisioned instance replaced after `kill -9`. The server runs on this machine, so
an instance's processes are found in /proc by its FC_INSTANCE_ID."""

import os
import re
import signal
import time

from fcutil import RUNTIMES, py_zip, raises_fc, write_zip

HANDLER = "import os\n\n\ndef handler(event, context):\n    return os.environ['FC_INSTANCE_ID']\n"


def _functions_behind_alias(client, svc, tmp_path, names):
    for name in names:
        client.create_function(svc, name, handler="index.handler", runtime=RUNTIMES["python"],
                               codeZipFile=write_zip(tmp_path, py_zip(HANDLER), name + ".zip"))
    v1 = client.publish_version(svc, "test service v1").data["versionId"]
    data = client.create_alias(svc, "test", v1, "test alias").data
    assert data["aliasName"] == "test"
    assert data["versionId"] == v1
    return v1


def _wait_current(client, svc, function, want, timeout=30):
    deadline = time.time() + timeout
    while True:
        data = client.get_provision_config(svc, "test", function).data
        if data["current"] == want:
            return data
        assert time.time() < deadline, "current never reached {0}: {1}".format(want, data)
        time.sleep(0.1)


def _instances(client, svc, function):
    return client.list_instances(svc, "test", function).data["instances"]


def _pids_of(instance_id):
    needle = "FC_INSTANCE_ID={0}\0".format(instance_id).encode()
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/{0}/environ".format(entry), "rb") as f:
                if needle in f.read():
                    pids.append(int(entry))
        except OSError:
            pass
    return pids


def test_provision(client, svc, account_id, tmp_path):
    fn = "provisioned"
    _functions_behind_alias(client, svc, tmp_path, [fn, fn + "2"])
    try:
        r = client.put_provision_config(svc, "test", fn, 2).data
        assert r["target"] == 2
        assert r["resource"] == "{0}#{1}#{2}#{3}".format(account_id, svc, "test", fn)
        r = client.put_provision_config(svc, "test", fn + "2", 1).data
        assert r["target"] == 1
        assert r["resource"] == "{0}#{1}#{2}#{3}".format(account_id, svc, "test", fn + "2")

        r = client.get_provision_config(svc, "test", fn).data
        assert r["target"] == 2
        assert r["current"] >= 0
        assert r["resource"] == "{0}#{1}#{2}#{3}".format(account_id, svc, "test", fn)

        r = client.list_provision_configs(svc, "test").data
        assert len(r["provisionConfigs"]) == 2
        assert "nextToken" not in r
        r = client.list_provision_configs(svc, "test", limit=1).data
        assert len(r["provisionConfigs"]) == 1
        assert "nextToken" in r

        assert _wait_current(client, svc, fn, 2)["target"] == 2
        _wait_current(client, svc, fn + "2", 1)
    finally:
        client.put_provision_config(svc, "test", fn, 0)
        client.put_provision_config(svc, "test", fn + "2", 0)
    assert client.get_provision_config(svc, "test", fn).data["target"] == 0


def test_provision_qualifiers_and_bodies(client, svc, tmp_path):
    v1 = _functions_behind_alias(client, svc, tmp_path, ["f"])
    with raises_fc(400, "InvalidArgument"):
        client.put_provision_config(svc, v1, "f", 1)
    with raises_fc(404, "AliasNotFound"):
        client.put_provision_config(svc, "nope", "f", 1)
    with raises_fc(404, "FunctionNotFound"):
        client.put_provision_config(svc, "test", "missing", 1)
    with raises_fc(400, "InvalidArgument"):
        client.put_provision_config(svc, "test", "f", -1)


def test_provisioned_instances_serve_and_are_replaced_after_a_kill(client, svc, tmp_path):
    v1 = _functions_behind_alias(client, svc, tmp_path, ["f"])
    try:
        client.put_provision_config(svc, "test", "f", 2)
        _wait_current(client, svc, "f", 2)
        listed = _instances(client, svc, "f")
        assert len(listed) == 2
        assert all(i["versionId"] == v1 for i in listed)
        ids = [i["instanceId"] for i in listed]

        answer = client.invoke_function(svc, "f", payload=b"", qualifier="test")
        assert answer.data.decode() in ids, "a provisioned instance served the call"

        victim = ids[0]
        pids = _pids_of(victim)
        assert pids, "the processes of {0} are in /proc".format(victim)
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        deadline = time.time() + 30
        while True:
            now = [i["instanceId"] for i in _instances(client, svc, "f")]
            if len(now) == 2 and victim not in now:
                break
            assert time.time() < deadline, "{0} was not replaced: {1}".format(victim, now)
            time.sleep(0.1)
        assert ids[1] in now
        _wait_current(client, svc, "f", 2)
        assert client.list_instances(svc, "test", "f", params={"limit": 1}).data["instances"][0]["instanceId"] in now
    finally:
        client.put_provision_config(svc, "test", "f", 0)


def test_on_demand_config(client, svc, tmp_path):
    f1, f2 = svc + "_f1", svc + "_f2"
    _functions_behind_alias(client, svc, tmp_path, [f1, f2])
    resource = re.compile(r"services/([a-zA-Z0-9_\-]+)\.([a-zA-Z0-9_\-]+)/functions/([a-zA-Z0-9_\-]+)$")

    mine = lambda configs: [c for c in configs if c["resource"].startswith("services/{0}.".format(svc))]
    list_ret = client.list_on_demand_config().data
    assert mine(list_ret.get("configs") or []) == []

    client.put_on_demand_config(svc, "test", f1, 1)
    got = client.get_on_demand_config(svc, "test", f1).data
    assert got["maximumInstanceCount"] == 1
    assert got["resource"] == "services/%s.%s/functions/%s" % (svc, "test", f1)
    assert resource.match(got["resource"]).groups() == (svc, "test", f1)

    prefix = "services/{0}.".format(svc)
    list_ret = client.list_on_demand_config(prefix=prefix).data
    assert list_ret.get("nextToken") is None
    assert len(list_ret["configs"]) == 1

    client.put_on_demand_config(svc, "test", f2, 2)
    got = client.get_on_demand_config(svc, "test", f2).data
    assert got["maximumInstanceCount"] == 2
    assert got["resource"] == "services/%s.%s/functions/%s" % (svc, "test", f2)

    first = client.list_on_demand_config(limit=1, prefix=prefix).data
    assert len(first["configs"]) == 1
    assert first.get("nextToken") is not None
    second = client.list_on_demand_config(nextToken=first["nextToken"], prefix=prefix).data
    assert len(second["configs"]) == 1
    assert second.get("nextToken") is None

    client.delete_on_demand_config(svc, "test", f2)
    list_ret = client.list_on_demand_config(limit=2, prefix=prefix).data
    assert len(list_ret["configs"]) == 1
    assert list_ret.get("nextToken") is None
    with raises_fc(404, "OnDemandConfigNotFound"):
        client.get_on_demand_config(svc, "test", f2)

    # Deleting the function removes its config: the SDK test's tearDown leaves none behind.
    client.delete_function(svc, f1)
    assert client.list_on_demand_config(prefix=prefix).data.get("configs") is None
