"""Async invoke configs through the Python SDK: put, get, list and delete, per qualifier (LATEST and an
alias), as fc2's put/get/list/delete_function_async_invoke_config(s) send them."""

from fcutil import py_zip, raises_fc, write_zip


def _function(client, svc, tmp_path):
    client.create_function(svc, "f", handler="index.handler", runtime="python3.10",
                           codeZipFile=write_zip(tmp_path, py_zip()))
    client.create_function(svc, "sink", handler="index.handler", runtime="python3.10",
                           codeZipFile=write_zip(tmp_path, py_zip(), "sink.zip"))


def test_async_invoke_config_crud_per_qualifier(client, svc, tmp_path, account_id):
    _function(client, svc, tmp_path)
    client.publish_version(svc, "v1")
    client.create_alias(svc, "prod", "1")
    sink = "acs:fc:::services/{0}/functions/sink".format(svc)

    with raises_fc(404, "AsyncConfigNotExists"):
        client.get_function_async_invoke_config(svc, "LATEST", "f")

    latest = {"maxAsyncEventAgeInSeconds": 300, "maxAsyncRetryAttempts": 1,
              "destinationConfig": {"onFailure": {"destination": sink}}}
    put = client.put_function_async_invoke_config(svc, "LATEST", "f", latest).data
    assert put["maxAsyncEventAgeInSeconds"] == 300
    assert put["maxAsyncRetryAttempts"] == 1
    assert put["destinationConfig"]["onFailure"]["destination"] == sink
    assert (put["service"], put["function"], put["qualifier"]) == (svc, "f", "LATEST")
    assert "createdTime" in put and "lastModifiedTime" in put

    got = client.get_function_async_invoke_config(svc, "LATEST", "f").data
    assert got["maxAsyncRetryAttempts"] == 1

    prod = client.put_function_async_invoke_config(svc, "prod", "f", {"maxAsyncRetryAttempts": 0}).data
    assert (prod["qualifier"], prod["maxAsyncRetryAttempts"]) == ("prod", 0)
    assert client.get_function_async_invoke_config(svc, "prod", "f").data["maxAsyncRetryAttempts"] == 0

    # The list of a function (no qualifier in its path) holds every qualifier's config.
    listed = client.list_function_async_invoke_configs(svc, "f", limit=10).data
    assert sorted(c["qualifier"] for c in listed["configs"]) == ["LATEST", "prod"]
    assert "nextToken" in listed

    with raises_fc(400, "InvalidArgument"):
        client.put_function_async_invoke_config(svc, "LATEST", "f", {"maxAsyncRetryAttempts": -1})

    client.delete_function_async_invoke_config(svc, "prod", "f")
    with raises_fc(404, "AsyncConfigNotExists"):
        client.get_function_async_invoke_config(svc, "prod", "f")
    listed = client.list_function_async_invoke_configs(svc, "f").data
    assert [c["qualifier"] for c in listed["configs"]] == ["LATEST"]
