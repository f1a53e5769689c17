"""Wire details other official clients rely on, sent with the Python SDK's signer: case-insensitive JSON keys,
null meaning absent (the Go SDK), streamed octet-stream bodies (fun), unknown keys, FC's server-side defaults,
request ids and JSON error bodies."""

import base64
import json

import requests

from fcutil import UUID_RE, check_json_error, crc64, py_zip, raises_fc, signed, uniq


def test_healthz(endpoint):
    r = requests.get(endpoint + "/healthz", timeout=10)
    assert r.status_code == 200


def test_every_response_has_a_request_id(client, svc):
    ids = set()
    for resp in (client.get_service(svc), client.list_services(limit=1), client.list_functions(svc)):
        rid = resp.headers.get("x-fc-request-id", "")
        assert UUID_RE.match(rid), "X-Fc-Request-Id should be a UUID, got {0!r}".format(rid)
        ids.add(rid)
    assert len(ids) == 3, "request ids must be unique per request"


def test_success_bodies_are_json(client, svc):
    r = signed(client, "GET", "/2016-08-15/services/" + svc)
    assert r.headers.get("content-type", "").startswith("application/json")


def test_case_insensitive_keys_and_unknown_keys(client, cleanup):
    name = uniq("svc_case")
    cleanup(name)
    body = json.dumps({"ServiceName": name, "DESCRIPTION": "caps", "somethingElse": {"x": 1}}).encode()
    r = signed(client, "POST", "/2016-08-15/services", body=body)
    assert r.status_code == 200, r.text
    assert r.json()["serviceName"] == name
    assert r.json()["description"] == "caps"
    assert "somethingElse" not in r.json()
    assert client.get_service(name).data["description"] == "caps"


def test_streamed_octet_stream_body(client, svc):
    """fun streams createFunction: Transfer-Encoding chunked, Content-Type application/octet-stream."""
    fn = uniq("fn_stream")
    code = py_zip()
    payload = json.dumps({"functionName": fn, "runtime": "python3.9", "handler": "index.handler",
                          "code": {"zipFile": base64.b64encode(code).decode()}}).encode()
    chunks = iter([payload[i:i + 100] for i in range(0, len(payload), 100)])
    r = signed(client, "POST", "/2016-08-15/services/{0}/functions".format(svc), body=chunks,
               headers={"content-type": "application/octet-stream"})
    assert r.status_code == 200, r.text
    assert r.json()["codeChecksum"] == str(crc64(code))
    assert client.get_function(svc, fn).data["codeSize"] == len(code)


def test_nulls_mean_absent(client, svc):
    """The Go SDK sends every field, null when unset, on create and update."""
    client.update_service(svc, description="keep", role="acs:ram::1:role/r")
    body = json.dumps({"description": None, "role": None, "logConfig": None, "vpcConfig": None,
                       "internetAccess": None, "nasConfig": None, "tracingConfig": None}).encode()
    r = signed(client, "PUT", "/2016-08-15/services/" + svc, body=body)
    assert r.status_code == 200, r.text
    assert r.json()["description"] == "keep"
    assert r.json()["role"] == "acs:ram::1:role/r"

    fn = uniq("fn_null")
    payload = {"functionName": fn, "runtime": "python3.9", "handler": "index.handler",
               "code": {"zipFile": base64.b64encode(py_zip()).decode(), "ossBucketName": None,
                        "ossObjectName": None},
               "description": None, "initializer": None, "memorySize": None, "timeout": None,
               "initializationTimeout": None, "environmentVariables": None, "instanceConcurrency": None,
               "customContainerConfig": None, "caPort": None, "instanceType": None}
    r = signed(client, "POST", "/2016-08-15/services/{0}/functions".format(svc),
               body=json.dumps(payload).encode())
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["description"] == ""
    assert data["instanceType"] == "e1"
    assert isinstance(data["memorySize"], int) and data["memorySize"] > 0
    assert isinstance(data["timeout"], int) and data["timeout"] > 0


def test_server_side_function_defaults(client, svc):
    """What FC fills in when a client (Node, Go, curl) leaves fields out; the Python SDK always sends some."""
    fn = uniq("fn_defaults")
    payload = {"functionName": fn, "runtime": "nodejs20", "handler": "index.handler",
               "code": {"zipFile": base64.b64encode(py_zip()).decode()}}
    r = signed(client, "POST", "/2016-08-15/services/{0}/functions".format(svc),
               body=json.dumps(payload).encode())
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["memorySize"] == 128
    assert data["timeout"] == 3
    assert data["instanceType"] == "e1"
    assert data["description"] == ""
    assert data.get("environmentVariables") in ({}, None)


def test_bad_json_body_is_400(client):
    r = signed(client, "POST", "/2016-08-15/services", body=b"{not json")
    check_json_error(r, 400, "InvalidArgument")
    r = signed(client, "POST", "/2016-08-15/services", body=b"[1, 2]")
    check_json_error(r, 400)


def test_missing_required_fields_are_400(client, svc):
    r = signed(client, "POST", "/2016-08-15/services", body=b"{}")
    check_json_error(r, 400)
    r = signed(client, "POST", "/2016-08-15/services/{0}/functions".format(svc),
               body=json.dumps({"functionName": uniq("f"), "runtime": "python3.9"}).encode())
    check_json_error(r, 400)


def test_wrong_types_are_400_not_500(client, svc):
    r = signed(client, "PUT", "/2016-08-15/services/" + svc, body=json.dumps({"description": 5}).encode())
    check_json_error(r, 400)
    fn = uniq("fn_types")
    payload = {"functionName": fn, "runtime": "python3.9", "handler": "index.handler", "memorySize": "lots",
               "code": {"zipFile": base64.b64encode(py_zip()).decode()}}
    r = signed(client, "POST", "/2016-08-15/services/{0}/functions".format(svc),
               body=json.dumps(payload).encode())
    check_json_error(r, 400)


def test_unknown_route_is_a_json_4xx(client):
    r = signed(client, "GET", "/2016-08-15/no-such-thing")
    assert 400 <= r.status_code < 500, r.status_code
    check_json_error(r, r.status_code)


def test_fc_error_carries_request_id(client):
    # Every FcError the SDK raises carries X-Fc-Request-Id (checked inside raises_fc).
    with raises_fc(404, "ServiceNotFound", "does not exist"):
        client.get_service(uniq("svc_nope"))
