"""Custom domains, tags and account reads through the Python SDK, after its own repository's
custom_domain_test.py, tag_test.py, get_account_test.py and reserved_capacity_test.py."""

import os
import uuid

import fc2

from fcutil import TIME_RE, raises_fc, uniq

CERT = {"certName": "test-ssl", "certificate": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
        "privateKey": "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----"}


def domain_name():
    return "pythonSDK{0}.cn-local.example.test".format(uuid.uuid4().hex[:10])


def check(resp, name, route_config=None, cert=None):
    assert resp["domainName"] == name
    assert TIME_RE.match(resp["createdTime"]) and TIME_RE.match(resp["lastModifiedTime"])
    if route_config:
        assert resp["routeConfig"] == route_config
    if cert:
        assert resp["certConfig"]["certName"] == cert["certName"]
        assert resp["certConfig"]["certificate"] == cert["certificate"]
        assert resp["certConfig"]["privateKey"] is None


def test_custom_domain_lifecycle(client, other_client):
    name = domain_name()
    with raises_fc(404, "DomainNameNotFound"):
        client.get_custom_domain(name)
    check(client.create_custom_domain(name).data, name)
    with raises_fc(409, "DomainNameAlreadyExists"):
        client.create_custom_domain(name)
    with raises_fc(404, "DomainNameNotFound"):
        other_client.get_custom_domain(name)
    check(client.get_custom_domain(name).data, name)

    routes = {"routes": [
        {"serviceName": "s1", "functionName": "f1", "path": "/a", "qualifier": None},
        {"serviceName": "s2", "functionName": "f2", "path": "/b", "qualifier": None},
    ]}
    check(client.update_custom_domain(name, "HTTP,HTTPS", routes, certConfig=CERT).data, name, routes, CERT)
    check(client.update_custom_domain(name, "HTTP", routes).data, name, routes)
    listed = client.list_custom_domains(prefix=name[:19]).data
    assert [d["domainName"] for d in listed["customDomains"]] == [name]

    client.delete_custom_domain(name)
    check(client.create_custom_domain(name, "HTTP,HTTPS", certConfig=CERT).data, name, cert=CERT)
    client.delete_custom_domain(name)
    with raises_fc(404, "DomainNameNotFound"):
        client.delete_custom_domain(name)


def test_custom_domain_refusals(client):
    for bad in ("localhost", "127.0.0.1", "no_underscores.example.test"):
        with raises_fc(400, "InvalidArgument"):
            client.create_custom_domain(bad)
    with raises_fc(400, "InvalidArgument"):
        client.create_custom_domain(domain_name(), "HTTP,HTTPS")


def test_tags(client, cleanup, account_id):
    region = os.environ.get("FC_REGION", "cn-local")
    for i in range(3):
        name = uniq("test_tag_{0}".format(i))
        cleanup(name)
        client.create_service(name)
        arn = "acs:fc:{0}:{1}:services/{2}".format(region, account_id, name)
        client.tag_resource(arn, {"k3": "v3"})
        client.tag_resource(arn, {"k1": "v1"} if i % 2 == 0 else {"k2": "v2"})
        resp = client.get_resource_tags(arn).data
        assert resp["resourceArn"] == arn
        assert resp["tags"] == ({"k1": "v1", "k3": "v3"} if i % 2 == 0 else {"k2": "v2", "k3": "v3"})
        client.untag_resource(arn, ["k3"])
        assert client.get_resource_tags(arn).data["tags"] == ({"k1": "v1"} if i % 2 == 0 else {"k2": "v2"})
        client.untag_resource(arn, [], True)
        assert len(client.get_resource_tags(arn).data["tags"]) == 0
    with raises_fc(404, "ServiceNotFound"):
        client.tag_resource("acs:fc:{0}:{1}:services/{2}".format(region, account_id, uniq("none")), {"k": "v"})
    with raises_fc(400, "InvalidArgument"):
        client.tag_resource("acs:fc:{0}:999999:services/x".format(region), {"k": "v"})


def test_account_settings_and_reserved_capacities(client):
    zones = client.get_account_settings().data["availableAZs"]
    assert len(zones) == 1 and zones[0]
    assert client.list_reserved_capacities(limit=5).data["reservedCapacities"] == []
