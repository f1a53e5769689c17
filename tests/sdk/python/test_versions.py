"""Versions and aliases through the Python SDK, after the SDK's own test/version_test.py: publish,
refuse an unchanged publish, page, read a service and function as a version or alias, invoke by
qualifier, and alias CRUD."""

from fcutil import py_zip, raises_fc, write_zip


def _answer(text):
    return "def handler(event, context):\n    return {0!r}\n".format(text)


def _publish_all_pages(client, svc):
    data = client.list_versions(svc, limit=2).data
    versions = list(data["versions"])
    token = data.get("nextToken")
    while token:
        data = client.list_versions(svc, nextToken=token).data
        versions.extend(data["versions"])
        token = data.get("nextToken")
    return versions


def test_version(client, svc):
    v1 = client.publish_version(svc, "test service v1").data
    assert v1["versionId"] == "1"
    assert v1["description"] == "test service v1"
    assert "createdTime" in v1 and "lastModifiedTime" in v1

    with raises_fc(400, "InvalidArgument"):
        client.publish_version(svc, "test service v2")
    with raises_fc(409, "ServiceNotEmpty"):
        client.delete_service(svc)

    client.delete_version(svc, v1["versionId"])
    assert client.list_versions(svc, limit=2).data["versions"] == []

    for i in range(6):
        desc = "service description" + str(i)
        assert client.update_service(svc, desc).data["description"] == desc
        version = str(i + 2)
        data = client.publish_version(svc, "test service v" + version).data
        assert data["versionId"] == version

    first = client.list_versions(svc, limit=2).data
    assert [v["versionId"] for v in first["versions"]] == ["7", "6"]
    assert first["nextToken"]
    assert len(_publish_all_pages(client, svc)) == 6
    forward = client.list_versions(svc, direction="FORWARD", startKey="3").data["versions"]
    assert [v["versionId"] for v in forward] == ["3", "4", "5", "6", "7"]


def test_alias(client, svc):
    v1 = client.publish_version(svc, "test service v1").data["versionId"]
    created = client.create_alias(svc, "test", v1, "test alias", {"1": 0.9})
    assert created.headers["etag"]
    data = created.data
    assert data["aliasName"] == "test"
    assert data["versionId"] == v1
    assert data["description"] == "test alias"
    assert data["additionalVersionWeight"] == {"1": 0.9}

    got = client.get_alias(svc, "test").data
    assert got["additionalVersionWeight"] == {"1": 0.9}
    updated = client.update_alias(svc, "test", v1, "test alias_update", {"1": 0.8}).data
    assert updated["description"] == "test alias_update"
    assert updated["additionalVersionWeight"] == {"1": 0.8}
    with raises_fc(412, "PreconditionFailed"):
        client.update_alias(svc, "test", v1, headers={"if-match": created.headers["etag"]})
    with raises_fc(404, "VersionNotFound"):
        client.create_alias(svc, "other", "42")

    client.delete_alias(svc, "test")
    with raises_fc(404, "AliasNotFound"):
        client.get_alias(svc, "test")

    for i in range(6):
        client.update_service(svc, "service description" + str(i))
        client.publish_version(svc, "v" + str(i + 2))
        client.create_alias(svc, "test" + str(i + 2), v1, "alias", {"1": 0.9})
    page = client.list_aliases(svc, limit=2).data
    assert len(page["aliases"]) == 2 and page["nextToken"]
    total = 2
    token = page["nextToken"]
    while token:
        page = client.list_aliases(svc, nextToken=token).data
        total += len(page["aliases"])
        token = page.get("nextToken")
    assert total == 6


def test_get_service_and_function_by_qualifier(client, svc, tmp_path):
    code = write_zip(tmp_path, py_zip(_answer("hello world"), "main.py"), "a.zip")
    client.create_function(svc, "f", handler="main.handler", runtime="python3.10", codeZipFile=code,
                           description="first")
    v1 = client.publish_version(svc, "v1 desc").data["versionId"]
    client.create_alias(svc, "test", v1, "alias")
    checksum = client.get_function(svc, "f").data["codeChecksum"]

    code2 = write_zip(tmp_path, py_zip(_answer("new hello world"), "main.py"), "b.zip")
    client.update_function(svc, "f", codeZipFile=code2, description="second")
    client.update_service(svc, "updated")
    v2 = client.publish_version(svc, "v2 desc").data["versionId"]
    client.create_alias(svc, "prod", v2, "alias")

    assert client.get_service(svc, qualifier=v1).data["description"] != "updated"
    assert client.get_service(svc, qualifier="prod").data["description"] == "updated"
    for q in (v1, "test"):
        assert client.get_function(svc, "f", qualifier=q).data["description"] == "first"
        assert client.get_function_code(svc, "f", qualifier=q).data["checksum"] == checksum
        assert client.invoke_function(svc, "f", qualifier=q).data.decode() == "hello world"
        assert len(client.list_functions(svc, qualifier=q).data["functions"]) == 1
    for q in (None, v2, "prod"):
        assert client.invoke_function(svc, "f", qualifier=q).data.decode() == "new hello world"
    with raises_fc(404, "AliasNotFound"):
        client.invoke_function(svc, "f", qualifier="nope")
    assert isinstance(client.get_function_code(svc, "f", qualifier=v1).data["url"], str)
