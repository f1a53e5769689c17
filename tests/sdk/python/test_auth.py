"""Authentication and account isolation, as the Python SDK (and, through its signer, other clients) meet them."""

import email.utils
import time

import requests

from fcutil import check_json_error, py_zip, raises_fc, signed, uniq, write_zip


def test_wrong_secret_is_signature_not_match(make_client, creds):
    bad = make_client(creds["accessKeyID"], "not-the-secret")
    with raises_fc(403, "SignatureNotMatch",
                   "The request signature we calculated does not match the signature you provided"):
        bad.list_services()
    with raises_fc(403, "SignatureNotMatch"):
        bad.create_service(uniq("svc_badsig"))


def test_unknown_key_is_invalid_access_key_id(make_client):
    bad = make_client("NoSuchAccessKey", "whatever")
    with raises_fc(403, "InvalidAccessKeyID", "invalid access key ID 'NoSuchAccessKey'"):
        bad.list_services()


def test_missing_authorization(endpoint):
    r = requests.get(endpoint + "/2016-08-15/services",
                     headers={"date": email.utils.formatdate(usegmt=True)}, timeout=20)
    check_json_error(r, 403)


def test_missing_date(client):
    h = client._build_common_headers("GET", "/2016-08-15/services", {})
    del h["date"], h["content-length"]
    r = requests.get(client.endpoint + "/2016-08-15/services", headers=h, timeout=20)
    assert r.status_code in (400, 403), r.status_code
    check_json_error(r, r.status_code)


def test_garbled_authorization(endpoint):
    for value in ("FC", "FC nocolon", "Bearer abc", "FC :", ""):
        r = requests.get(endpoint + "/2016-08-15/services",
                         headers={"date": email.utils.formatdate(usegmt=True), "authorization": value},
                         timeout=20)
        check_json_error(r, 403)


def test_date_skew_is_refused(client):
    old = email.utils.formatdate(time.time() - 20 * 60, usegmt=True)
    body = check_json_error(signed(client, "GET", "/2016-08-15/services", headers={"date": old}), 403)
    assert body["ErrorCode"] not in ("SignatureNotMatch", "InvalidAccessKeyID"), body
    assert "too large" in body["ErrorMessage"] or "time" in body["ErrorMessage"].lower(), body
    future = email.utils.formatdate(time.time() + 20 * 60, usegmt=True)
    check_json_error(signed(client, "GET", "/2016-08-15/services", headers={"date": future}), 403)
    # Within 15 minutes is fine.
    near = email.utils.formatdate(time.time() - 5 * 60, usegmt=True)
    assert signed(client, "GET", "/2016-08-15/services", headers={"date": near}).status_code == 200


def test_query_is_not_signed_on_api_paths(client, svc):
    # The SDKs sign only the path; the query (limit, prefix, ...) may be anything.
    r = signed(client, "GET", "/2016-08-15/services", params={"prefix": svc, "limit": "5"})
    assert r.status_code == 200, r.text
    assert [s["serviceName"] for s in r.json()["services"]] == [svc]


def test_signed_x_fc_headers(client, svc):
    # Extra x-fc-* headers are part of the signature: the SDK signs them, the server must too.
    assert client.get_service(svc, headers={"x-fc-trace-id": "abc-123", "X-Fc-Custom": "Mixed Case"}
                              ).data["serviceName"] == svc
    # The Go SDK sends an empty x-fc-account-id; it is canonicalised as "x-fc-account-id:".
    assert client.get_service(svc, headers={"x-fc-account-id": ""}).data["serviceName"] == svc


def test_content_md5_is_not_validated(client, svc):
    # Node sends base64(hex md5), Go sends hex md5: neither is a standard Content-MD5; never check it.
    body = b'{"description": "md5 ignored"}'
    r = signed(client, "PUT", "/2016-08-15/services/" + svc, body=body,
               headers={"content-md5": "bm90IGFuIG1kNQ=="})
    assert r.status_code == 200, r.text
    assert r.json()["description"] == "md5 ignored"


def test_tampered_request_is_refused(client, svc):
    h = client._build_common_headers("GET", "/2016-08-15/services/" + svc, {})
    h.pop("content-length")
    r = requests.get(client.endpoint + "/2016-08-15/services/" + svc + "x", headers=h, timeout=20)
    check_json_error(r, 403, "SignatureNotMatch")


def test_account_id_header_must_match(client, svc, account_id, other_account_id):
    assert client.get_service(svc, headers={"x-fc-account-id": account_id}).data["serviceName"] == svc
    # The contract's recommendation (real FC's exact code is unverified): 403 AccessDenied.
    with raises_fc(403, "AccessDenied"):
        client.get_service(svc, headers={"x-fc-account-id": other_account_id})
    with raises_fc(403, "AccessDenied"):
        client.list_services(headers={"x-fc-account-id": "9999999999999999"})


# ------------------------------------------------------------------ cross-account isolation

def test_other_account_cannot_see_or_change(client, other_client, svc, tmp_path):
    fn = uniq("fn_iso")
    client.create_function(svc, fn, runtime="python3.9", handler="index.handler",
                           codeZipFile=write_zip(tmp_path, py_zip()))

    with raises_fc(404, "ServiceNotFound"):
        other_client.get_service(svc)
    with raises_fc(404, "ServiceNotFound"):
        other_client.update_service(svc, description="hijacked")
    with raises_fc(404, "ServiceNotFound"):
        other_client.delete_service(svc)
    with raises_fc(404, "ServiceNotFound"):
        other_client.list_functions(svc)
    with raises_fc(404, "ServiceNotFound"):
        other_client.get_function(svc, fn)
    with raises_fc(404, "ServiceNotFound"):
        other_client.get_function_code(svc, fn)
    with raises_fc(404, "ServiceNotFound"):
        other_client.delete_function(svc, fn)
    with raises_fc(404, "ServiceNotFound"):
        other_client.create_function(svc, uniq("fn"), runtime="python3.9", handler="index.handler",
                                     codeZipFile=write_zip(tmp_path, py_zip()))
    assert other_client.list_services(prefix=svc).data["services"] == []

    # Untouched for its owner.
    data = client.get_service(svc).data
    assert data["description"] == "sdk test service"
    assert client.get_function(svc, fn).data["functionName"] == fn


def test_same_name_in_two_accounts(client, other_client, cleanup):
    name = uniq("svc_shared")
    cleanup(name)
    cleanup(name, other_client)
    a = client.create_service(name, description="mine").data
    b = other_client.create_service(name, description="theirs").data
    assert a["serviceId"] != b["serviceId"]
    assert client.get_service(name).data["description"] == "mine"
    assert other_client.get_service(name).data["description"] == "theirs"

    other_client.delete_service(name)
    assert client.get_service(name).data["description"] == "mine"
    with raises_fc(404, "ServiceNotFound"):
        other_client.get_service(name)
