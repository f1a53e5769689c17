"""Layers with the Python SDK. aliyun-fc2 2.5.2 has no layer methods (its client.py names no layer route)
and create_function takes no `layers`, so these requests are built here and signed by the SDK's own
signer (`client._build_common_headers`), as a Python user of that SDK would have to: publish, get, list,
get by ARN, delete, and a Python function whose layer's package it imports from /opt/python."""

import base64
import json
from urllib.parse import quote

import requests

from fcutil import check_json_error, make_zip, py_zip, signed, uniq, write_zip


def _json(client, method, path, body=None, params=None):
    data = None if body is None else json.dumps(body).encode()
    r = signed(client, method, path, body=data, params=params)
    return r


def _publish(client, name, files, runtimes=None):
    body = {"code": {"zipFile": base64.b64encode(make_zip(files)).decode()}, "description": "py layer"}
    if runtimes is not None:
        body["compatibleRuntime"] = runtimes
    r = _json(client, "POST", "/2016-08-15/layers/{0}/versions".format(name), body)
    assert r.status_code == 200, r.text
    return r.json()


def _by_arn(client, arn):
    # Signed over the decoded path, as the SDK signs every path; sent percent-encoded.
    path = "/2016-08-15/layerarn/" + arn
    headers = client._build_common_headers("GET", path, {})
    return requests.get(client.endpoint + "/2016-08-15/layerarn/" + quote(arn, safe=""), headers=headers, timeout=20)


def test_layer_versions(client, other_client):
    name = uniq("pylayer")
    files = {"python/helper.py": "VALUE = 'one'\n"}
    v1 = _publish(client, name, files, ["python3.9", "python3.10"])
    assert v1["layerName"] == name and v1["version"] == 1
    assert v1["compatibleRuntime"] == ["python3.9", "python3.10"]
    assert v1["codeSize"] == len(make_zip(files))
    assert requests.get(v1["code"]["location"], timeout=20).content == make_zip(files)
    assert _publish(client, name, {"python/helper.py": "VALUE = 'two'\n"})["version"] == 2

    got = _json(client, "GET", "/2016-08-15/layers/{0}/versions/1".format(name))
    assert got.status_code == 200 and got.json()["codeChecksum"] == v1["codeChecksum"]
    for arn in (v1["arnV2"], v1["arn"]):
        r = _by_arn(client, arn)
        assert r.status_code == 200, r.text
        assert r.json()["version"] == 1

    page = _json(client, "GET", "/2016-08-15/layers/{0}/versions".format(name), params={"limit": "1"}).json()
    assert [l["version"] for l in page["layers"]] == [1] and page["nextVersion"] == 2
    listed = _json(client, "GET", "/2016-08-15/layers", params={"prefix": name}).json()
    assert [(l["layerName"], l["version"]) for l in listed["layers"]] == [(name, 2)]

    r = _json(client, "DELETE", "/2016-08-15/layers/{0}/versions/1".format(name))
    assert r.status_code == 204, r.text
    check_json_error(_json(client, "GET", "/2016-08-15/layers/{0}/versions/1".format(name)), 404, "LayerNotFound")
    check_json_error(_json(other_client, "GET", "/2016-08-15/layers/{0}/versions/2".format(name)), 404,
                     "LayerNotFound")
    bad = {"code": {"zipFile": base64.b64encode(b"no zip").decode()}}
    check_json_error(_json(client, "POST", "/2016-08-15/layers/{0}/versions".format(name), bad), 400,
                     "InvalidArgument")


def test_a_function_imports_its_layer_from_opt(client, svc, tmp_path):
    layer = _publish(client, uniq("pkg"), {"python/layered_pkg/__init__.py": "NAME = 'from the layer'\n"})
    source = ("import layered_pkg\n"
              "def handler(event, context):\n"
              "    return layered_pkg.NAME + ' ' + layered_pkg.__file__\n")
    client.create_function(svc, "fn", runtime="python3.10", handler="index.handler",
                           codeZipFile=write_zip(tmp_path, py_zip(source)))
    # create_function has no `layers` parameter: the update goes through the SDK's signer.
    r = _json(client, "PUT", "/2016-08-15/services/{0}/functions/fn".format(svc), {"layers": [layer["arnV2"]]})
    assert r.status_code == 200, r.text
    assert client.get_function(svc, "fn").data["layers"] == [layer["arnV2"]]
    out = client.invoke_function(svc, "fn").data.decode()
    assert out.startswith("from the layer "), out
    assert "/python/layered_pkg/__init__.py" in out, out

    unknown = layer["arnV2"].rsplit("/", 1)[0] + "/9"
    r = _json(client, "PUT", "/2016-08-15/services/{0}/functions/fn".format(svc), {"layers": [unknown]})
    check_json_error(r, 404, "LayerNotFound")
