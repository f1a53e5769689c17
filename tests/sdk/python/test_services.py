"""Services through the Python SDK: CRUD, FC defaults, ETag / If-Match, qualifiers, errors."""

import uuid

import fc2

from fcutil import TIME_RE, py_zip, raises_fc, uniq, write_zip


def test_create_get_delete_with_etag(client, cleanup):
    name = uniq("svc_crud")
    cleanup(name)
    desc = u"这是测试service"
    created = client.create_service(name, description=desc)
    etag = created.headers["etag"]
    assert etag, "CreateService must answer with a non-empty ETag"

    data = created.data
    assert data["serviceName"] == name
    assert data["description"] == desc
    for key in ("createdTime", "lastModifiedTime", "logConfig", "role", "serviceId"):
        assert key in data, "service response lacks {0!r}: {1}".format(key, data)
    assert data["serviceId"]
    assert TIME_RE.match(data["createdTime"]), data["createdTime"]
    assert TIME_RE.match(data["lastModifiedTime"]), data["lastModifiedTime"]

    got = client.get_service(name, headers={"x-fc-trace-id": "trace-" + name})
    assert got.headers["etag"] == etag
    assert got.data["serviceName"] == name
    assert got.data["description"] == desc
    assert got.data["serviceId"] == data["serviceId"]
    assert got.data["createdTime"] == data["createdTime"]

    with raises_fc(412, "PreconditionFailed"):
        client.delete_service(name, headers={"if-match": "invalid etag"})
    assert client.get_service(name).data["serviceName"] == name, "a refused delete must not delete"

    client.delete_service(name, headers={"if-match": etag})
    with raises_fc(404, "ServiceNotFound"):
        client.get_service(name)


def test_description_defaults_to_empty_string(client):
    # A bare create_service sends "description": null.
    name = uniq("svc_nodesc")
    client.create_service(name)
    try:
        data = client.get_service(name).data
        assert data["description"] == ""
        assert "logConfig" in data and "role" in data
    finally:
        client.delete_service(name)


def test_get_with_latest_qualifier(client, svc):
    plain = client.get_service(svc)
    latest = client.get_service(svc, qualifier="LATEST")
    assert latest.data["serviceName"] == svc
    assert latest.data["serviceId"] == plain.data["serviceId"]


def test_update_changes_etag_and_if_match(client, svc):
    before = client.get_service(svc)
    old_etag = before.headers["etag"]

    updated = client.update_service(svc, description="service description")
    new_etag = updated.headers["etag"]
    assert updated.data["description"] == "service description"
    assert updated.data["serviceName"] == svc
    assert new_etag and new_etag != old_etag, "ETag must change when the service changes"
    assert updated.data["createdTime"] == before.data["createdTime"]
    assert updated.data["lastModifiedTime"] >= before.data["lastModifiedTime"]
    assert client.get_service(svc).headers["etag"] == new_etag

    # A stale ETag is refused and changes nothing.
    with raises_fc(412, "PreconditionFailed", "the resource being modified has been changed"):
        client.update_service(svc, description="invalid", headers={"if-match": old_etag})
    assert client.get_service(svc).data["description"] == "service description"

    # The current ETag is accepted.
    third = client.update_service(svc, description="third", headers={"if-match": new_etag})
    assert third.data["description"] == "third"


def test_update_is_a_partial_merge(client, svc):
    role = "acs:ram::1234567890:role/fc-test"
    client.update_service(svc, description="keep me")
    data = client.update_service(svc, role=role).data
    assert data["role"] == role
    assert data["description"] == "keep me", "fields absent from the update must be kept"
    data = client.update_service(svc, description="changed").data
    assert data["role"] == role
    assert data["description"] == "changed"


def test_log_config_round_trip(client, cleanup):
    name = uniq("svc_log")
    cleanup(name)
    log = {"project": "proj", "logstore": "store", "enableRequestMetrics": False,
           "enableInstanceMetrics": False}
    data = client.create_service(name, logConfig=log, internetAccess=True).data
    assert data["logConfig"]["project"] == "proj"
    assert data["logConfig"]["logstore"] == "store"
    got = client.get_service(name).data
    assert got["logConfig"]["project"] == "proj"
    assert got["logConfig"]["logstore"] == "store"


def test_service_already_exists(client, svc):
    with raises_fc(409, "ServiceAlreadyExists"):
        client.create_service(svc)


def test_service_not_found(client):
    missing = uniq("svc_missing")
    with raises_fc(404, "ServiceNotFound"):
        client.get_service(missing)
    with raises_fc(404, "ServiceNotFound"):
        client.update_service(missing, description="x")
    with raises_fc(404, "ServiceNotFound"):
        client.delete_service(missing)
    with raises_fc(404, "ServiceNotFound"):
        client.list_functions(missing)


def test_service_not_empty(client, svc, tmp_path):
    fn = uniq("fn")
    client.create_function(svc, fn, runtime="python3.9", handler="index.handler",
                           codeZipFile=write_zip(tmp_path, py_zip()))
    with raises_fc(409, "ServiceNotEmpty"):
        client.delete_service(svc)
    assert client.get_function(svc, fn).data["functionName"] == fn
    client.delete_function(svc, fn)
    client.delete_service(svc)
    with raises_fc(404, "ServiceNotFound"):
        client.get_service(svc)


def test_invalid_service_names(client):
    for bad in ("1starts_with_digit", "-dash_first", "has.dot", "has space", "x" * 129, u"中文"):
        with raises_fc(400, "InvalidArgument"):
            client.create_service(bad)
    # The longest legal name works.
    longest = ("s" + uuid.uuid4().hex * 4)[:128]
    try:
        assert client.create_service(longest).data["serviceName"] == longest
    finally:
        try:
            client.delete_service(longest)
        except fc2.FcError:
            pass


def test_list_services_returns_full_objects(client, svc):
    data = client.list_services(prefix=svc).data
    assert [s["serviceName"] for s in data["services"]] == [svc]
    s = data["services"][0]
    for key in ("serviceId", "description", "createdTime", "lastModifiedTime", "logConfig", "role"):
        assert key in s, "listed service lacks {0!r}".format(key)
    assert "nextToken" not in data or not data["nextToken"]


def test_an_unset_tracing_config_reads_back_as_fcs_nulls(client, svc):
    # Issue 11 item 8: both SDKs' own suites expect the keys, with null values.
    assert client.get_service(svc).data["tracingConfig"] == {"type": None, "params": None}
