"""Triggers through the Python SDK: timer and http, triggerConfig echoed verbatim, validation, conflicts,
not-found errors, ETag and pagination."""

import pytest

from fcutil import TIME_RE, py_zip, raises_fc, uniq, write_zip


@pytest.fixture
def fn(client, svc, tmp_path):
    name = uniq("fn_t")
    client.create_function(svc, name, runtime="python3.9", handler="index.handler",
                           codeZipFile=write_zip(tmp_path, py_zip()))
    return name


def check_trigger(data, name, ttype, config):
    assert data["triggerName"] == name
    assert data["triggerType"] == ttype
    assert data["triggerConfig"] == config, "triggerConfig must round-trip exactly"
    for key in ("createdTime", "lastModifiedTime"):
        assert key in data, "trigger response lacks {0!r}: {1}".format(key, data)
        assert TIME_RE.match(data[key]), data[key]


def test_timer_trigger_lifecycle(client, svc, fn):
    config = {"payload": "awesome-fc", "cronExpression": "0 0/5 * * * *", "enable": True}
    created = client.create_trigger(svc, fn, "timer", "timer", config, None, None)
    check_trigger(created.data, "timer", "timer", config)
    etag = created.headers["etag"]
    assert etag, "CreateTrigger must answer with a non-empty ETag"

    got = client.get_trigger(svc, fn, "timer")
    check_trigger(got.data, "timer", "timer", config)
    assert got.headers["etag"] == etag

    config2 = {"payload": "", "cronExpression": "@every 5m", "enable": False}
    updated = client.update_trigger(svc, fn, "timer", triggerConfig=config2, description="every five")
    check_trigger(updated.data, "timer", "timer", config2)
    assert updated.data["description"] == "every five"
    assert updated.data["createdTime"] == created.data["createdTime"]
    assert updated.headers["etag"] != etag, "ETag must change on update"
    check_trigger(client.get_trigger(svc, fn, "timer").data, "timer", "timer", config2)

    # Partial update: only the description; the config stays.
    data = client.update_trigger(svc, fn, "timer", description="still every five").data
    assert data["triggerConfig"] == config2
    assert data["description"] == "still every five"

    listed = client.list_triggers(svc, fn).data["triggers"]
    assert [t["triggerName"] for t in listed] == ["timer"]
    check_trigger(listed[0], "timer", "timer", config2)

    client.delete_trigger(svc, fn, "timer")
    with raises_fc(404, "TriggerNotFound"):
        client.get_trigger(svc, fn, "timer")
    with raises_fc(404, "TriggerNotFound"):
        client.delete_trigger(svc, fn, "timer")
    assert client.list_triggers(svc, fn).data["triggers"] == []


def test_http_trigger_lifecycle(client, svc, fn):
    config = {"authType": "anonymous", "methods": ["GET", "POST"]}
    created = client.create_trigger(svc, fn, "http", "http", config, None, None)
    check_trigger(created.data, "http", "http", config)

    config2 = {"authType": "function", "methods": ["GET", "PUT", "DELETE"]}
    updated = client.update_trigger(svc, fn, "http", triggerConfig=config2)
    check_trigger(updated.data, "http", "http", config2)
    check_trigger(client.get_trigger(svc, fn, "http").data, "http", "http", config2)

    listed = client.list_triggers(svc, fn).data["triggers"]
    assert [t["triggerName"] for t in listed] == ["http"]
    client.delete_trigger(svc, fn, "http")
    with raises_fc(404, "TriggerNotFound"):
        client.get_trigger(svc, fn, "http")


def test_http_trigger_ignores_source_arn(client, svc, fn):
    # The SDK's own suite: an http trigger has no event source, so a given sourceArn is not echoed,
    # while invocationRole comes back as sent.
    data = client.create_trigger(svc, fn, "http2", "http", {"authType": "anonymous", "methods": ["GET"]},
                                 "dummy_arn", "").data
    assert data["sourceArn"] is None
    assert data["invocationRole"] == ""


@pytest.mark.parametrize("cron", [
    "0 0/5 * * * *",
    "@every 5m",
    "@every 1h30m",
    "0 0 8 * * *",
    "0 30 9 ? * MON-FRI",
    "0 0 12 * * 1-5",
    "0 0 0 1 1 *",
    "CRON_TZ=Asia/Shanghai 0 0 8 * * *",
])
def test_valid_cron_expressions(client, svc, fn, cron):
    config = {"payload": "p", "cronExpression": cron, "enable": True}
    data = client.create_trigger(svc, fn, "cron", "timer", config, None, None).data
    assert data["triggerConfig"] == config


@pytest.mark.parametrize("cron", [
    "*/5 * * * *",           # five fields: FC's cron has seconds first
    "0 0 25 * * *",          # hour out of range
    "60 * * * * *",          # second out of range
    "not a cron",
    "@every 5x",
    "@every",
    "",
    "CRON_TZ=Not/AZone 0 0 8 * * *",
])
def test_invalid_cron_expressions(client, svc, fn, cron):
    with raises_fc(400, "InvalidArgument"):
        client.create_trigger(svc, fn, "cron", "timer", {"payload": "p", "cronExpression": cron, "enable": True},
                              None, None)
    with raises_fc(404, "TriggerNotFound"):
        client.get_trigger(svc, fn, "cron")


def test_invalid_cron_on_update_keeps_old(client, svc, fn):
    config = {"payload": "p", "cronExpression": "@every 5m", "enable": True}
    client.create_trigger(svc, fn, "cron", "timer", config, None, None)
    with raises_fc(400, "InvalidArgument"):
        client.update_trigger(svc, fn, "cron", triggerConfig={"payload": "p", "cronExpression": "bad",
                                                              "enable": True})
    assert client.get_trigger(svc, fn, "cron").data["triggerConfig"] == config


@pytest.mark.parametrize("config", [
    {"authType": "nobody", "methods": ["GET"]},
    {"authType": "anonymous", "methods": ["FETCH"]},
    {"authType": "anonymous", "methods": "GET"},
])
def test_invalid_http_config(client, svc, fn, config):
    with raises_fc(400, "InvalidArgument"):
        client.create_trigger(svc, fn, "h", "http", config, None, None)


def test_unsupported_trigger_type(client, svc, fn):
    config = {"events": ["oss:ObjectCreated:*"], "filter": {"key": {"prefix": "p", "suffix": "s"}}}
    with raises_fc(400) as info:
        client.create_trigger(svc, fn, "oss", "oss", config, "acs:oss:cn-local:123:bucket",
                              "acs:ram::123:role/x")
    message = info.value.message
    assert "timer" in message and "http" in message, \
        "the error should name the supported trigger types: {0}".format(message)
    with raises_fc(400):
        client.create_trigger(svc, fn, "weird", "no-such-type", {}, None, None)


def test_trigger_already_exists(client, svc, fn):
    config = {"payload": "", "cronExpression": "@every 1m", "enable": True}
    client.create_trigger(svc, fn, "dup", "timer", config, None, None)
    with raises_fc(409, "TriggerAlreadyExists"):
        client.create_trigger(svc, fn, "dup", "timer", config, None, None)


def test_trigger_not_found_and_parents(client, svc, fn):
    missing = uniq("t_missing")
    with raises_fc(404, "TriggerNotFound"):
        client.get_trigger(svc, fn, missing)
    with raises_fc(404, "TriggerNotFound"):
        client.update_trigger(svc, fn, missing, description="x")
    with raises_fc(404, "TriggerNotFound"):
        client.delete_trigger(svc, fn, missing)
    config = {"payload": "", "cronExpression": "@every 1m", "enable": True}
    with raises_fc(404, "FunctionNotFound"):
        client.create_trigger(svc, uniq("fn_missing"), "t", "timer", config, None, None)
    with raises_fc(404, "ServiceNotFound"):
        client.create_trigger(uniq("svc_missing"), fn, "t", "timer", config, None, None)
    with raises_fc(404, "ServiceNotFound"):
        client.get_trigger(uniq("svc_missing"), fn, "t")


def test_trigger_if_match(client, svc, fn):
    config = {"payload": "", "cronExpression": "@every 1m", "enable": True}
    etag = client.create_trigger(svc, fn, "im", "timer", config, None, None).headers["etag"]
    new_etag = client.update_trigger(svc, fn, "im", description="v2").headers["etag"]
    with raises_fc(412, "PreconditionFailed"):
        client.update_trigger(svc, fn, "im", description="v3", headers={"if-match": etag})
    with raises_fc(412, "PreconditionFailed"):
        client.delete_trigger(svc, fn, "im", headers={"if-match": etag})
    client.delete_trigger(svc, fn, "im", headers={"if-match": new_etag})


def test_list_triggers_pages(client, svc, fn):
    names = ["t{0}".format(i) for i in range(5)]
    for i, n in enumerate(names):
        client.create_trigger(svc, fn, n, "timer",
                              {"payload": n, "cronExpression": "@every {0}m".format(i + 1), "enable": True},
                              None, None)
    assert [t["triggerName"] for t in client.list_triggers(svc, fn).data["triggers"]] == names

    seen, calls, token = [], 0, None
    while True:
        data = client.list_triggers(svc, fn, limit=2, nextToken=token).data
        calls += 1
        seen += [t["triggerName"] for t in data["triggers"]]
        token = data.get("nextToken")
        if not token:
            assert "nextToken" not in data, "nextToken must be omitted on the last page"
            break
    assert calls == 3
    assert seen == names
    assert [t["triggerName"] for t in client.list_triggers(svc, fn, prefix="t3").data["triggers"]] == ["t3"]
    assert [t["triggerName"] for t in client.list_triggers(svc, fn, startKey="t2").data["triggers"]] == \
        ["t2", "t3", "t4"]


def test_invalid_trigger_name(client, svc, fn):
    config = {"payload": "", "cronExpression": "@every 1m", "enable": True}
    for bad in ("1t", "a.b", "x" * 129):
        with raises_fc(400, "InvalidArgument"):
            client.create_trigger(svc, fn, bad, "timer", config, None, None)
