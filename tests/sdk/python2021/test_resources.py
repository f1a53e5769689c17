"""Control-plane methods of alibabacloud_fc_open20210406 against Ferric's /2021-04-06 API."""

import json

from alibabacloud_fc_open20210406 import models

from conftest import PY_ECHO, fc_error, uniq, zip_b64


def test_service_crud_and_pagination(client):
    names = sorted(uniq("svc21p") for _ in range(3))
    try:
        for n in names:
            body = client.create_service(models.CreateServiceRequest(service_name=n, description="d")).body
            assert body.service_name == n and body.service_id and body.created_time
        got = client.get_service(names[0], models.GetServiceRequest()).body
        assert got.description == "d"
        updated = client.update_service(names[0], models.UpdateServiceRequest(description="new")).body
        assert updated.description == "new"
        prefix = names[0][:6]
        page = client.list_services(models.ListServicesRequest(limit=2, prefix="svc21p_")).body
        assert len(page.services) == 2 and page.next_token
        rest = client.list_services(models.ListServicesRequest(limit=100, prefix="svc21p_",
                                                               next_token=page.next_token)).body
        listed = [s.service_name for s in page.services + rest.services]
        assert set(names) <= set(listed), (prefix, listed)
        with fc_error("ServiceAlreadyExists", 409):
            client.create_service(models.CreateServiceRequest(service_name=names[0]))
    finally:
        for n in names:
            try:
                client.delete_service(n)
            except Exception:
                pass
    with fc_error("ServiceNotFound", 404):
        client.get_service(names[0], models.GetServiceRequest())


def test_function_crud_and_code(client, service):
    name = uniq("fn21c")
    created = client.create_function(service, models.CreateFunctionRequest(
        function_name=name, runtime="python3.9", handler="index.handler", memory_size=256, timeout=5,
        environment_variables={"A": "1"}, description="first",
        code=models.Code(zip_file=zip_b64({"index.py": PY_ECHO})))).body
    assert created.function_name == name and created.code_checksum and created.memory_size == 256
    got = client.get_function(service, name, models.GetFunctionRequest()).body
    assert got.environment_variables == {"A": "1"} and got.code_checksum == created.code_checksum
    latest = client.get_function(service, name, models.GetFunctionRequest(qualifier="LATEST")).body
    assert latest.function_name == name
    code = client.get_function_code(service, name, models.GetFunctionCodeRequest()).body
    assert code.checksum == created.code_checksum and code.url.startswith("http")
    updated = client.update_function(service, name, models.UpdateFunctionRequest(
        description="second", timeout=7, code=models.Code(zip_file=zip_b64({"index.py": PY_ECHO + "\n# v2\n"})))).body
    assert updated.description == "second" and updated.timeout == 7
    assert updated.code_checksum != created.code_checksum
    listed = client.list_functions(service, models.ListFunctionsRequest(limit=10)).body.functions
    assert [f.function_name for f in listed] == [name]
    with fc_error("FunctionAlreadyExists", 409):
        client.create_function(service, models.CreateFunctionRequest(
            function_name=name, runtime="python3.9", handler="index.handler",
            code=models.Code(zip_file=zip_b64({"index.py": PY_ECHO}))))
    with fc_error("InvalidArgument", 400):
        client.create_function(service, models.CreateFunctionRequest(
            function_name=uniq("bad"), runtime="no-such-runtime", handler="index.handler",
            code=models.Code(zip_file=zip_b64({"index.py": PY_ECHO}))))
    client.delete_function(service, name)
    with fc_error("FunctionNotFound", 404):
        client.get_function(service, name, models.GetFunctionRequest())


def test_triggers(client, function):
    service, fn = function
    timer = client.create_trigger(service, fn, models.CreateTriggerRequest(
        trigger_name="every", trigger_type="timer",
        trigger_config=json.dumps({"cronExpression": "@every 60m", "enable": False, "payload": "p"}))).body
    assert timer.trigger_name == "every" and timer.trigger_type == "timer"
    http = client.create_trigger(service, fn, models.CreateTriggerRequest(
        trigger_name="web", trigger_type="http",
        trigger_config=json.dumps({"authType": "anonymous", "methods": ["GET", "POST"]}))).body
    assert http.trigger_type == "http"
    got = client.get_trigger(service, fn, "every").body
    assert json.loads(got.trigger_config)["cronExpression"] == "@every 60m"
    upd = client.update_trigger(service, fn, "every", models.UpdateTriggerRequest(
        description="hourly", trigger_config=json.dumps({"cronExpression": "@every 30m", "enable": False}))).body
    assert upd.description == "hourly"
    names = [t.trigger_name for t in client.list_triggers(service, fn, models.ListTriggersRequest()).body.triggers]
    assert sorted(names) == ["every", "web"]
    client.delete_trigger(service, fn, "web")
    client.delete_trigger(service, fn, "every")
    with fc_error("TriggerNotFound", 404):
        client.get_trigger(service, fn, "every")


def test_versions_and_aliases(client, function):
    service, fn = function
    v1 = client.publish_service_version(service, models.PublishServiceVersionRequest(description="one")).body
    assert v1.version_id == "1"
    client.update_function(service, fn, models.UpdateFunctionRequest(
        code=models.Code(zip_file=zip_b64({"index.py": PY_ECHO.replace("v1:", "v2:")}))))
    v2 = client.publish_service_version(service, models.PublishServiceVersionRequest(description="two")).body
    assert v2.version_id == "2"
    versions = client.list_service_versions(service, models.ListServiceVersionsRequest(limit=10)).body.versions
    assert [v.version_id for v in versions] == ["2", "1"]

    alias = client.create_alias(service, models.CreateAliasRequest(
        alias_name="prod", version_id="1", description="stable")).body
    assert alias.alias_name == "prod" and alias.version_id == "1"
    assert client.get_alias(service, "prod").body.description == "stable"
    moved = client.update_alias(service, "prod", models.UpdateAliasRequest(version_id="2")).body
    assert moved.version_id == "2"
    assert [a.alias_name for a in client.list_aliases(service, models.ListAliasesRequest()).body.aliases] == ["prod"]

    out = client.invoke_function(service, fn, models.InvokeFunctionRequest(body=b"x", qualifier="1"))
    assert out.body == b"v1:x"
    assert out.headers.get("x-fc-invocation-service-version") == "1"
    out = client.invoke_function(service, fn, models.InvokeFunctionRequest(body=b"x", qualifier="prod"))
    assert out.body == b"v2:x"
    assert client.get_function(service, fn, models.GetFunctionRequest(qualifier="1")).body.function_name == fn
    # A qualifier query reads the version's snapshot (the 2016 API writes it as `service.qualifier`).
    assert client.get_service(service, models.GetServiceRequest(qualifier="1")).body.service_name == service
    v1_fns = client.list_functions(service, models.ListFunctionsRequest(qualifier="prod")).body.functions
    assert [f.function_name for f in v1_fns] == [fn]
    with fc_error("VersionNotFound", 404):
        client.get_function(service, fn, models.GetFunctionRequest(qualifier="99"))

    client.delete_alias(service, "prod")
    with fc_error("AliasNotFound", 404):
        client.get_alias(service, "prod")
    client.delete_service_version(service, "1")
    with fc_error("VersionNotFound", 404):
        client.invoke_function(service, fn, models.InvokeFunctionRequest(body=b"x", qualifier="1"))


def test_custom_domains(client, function):
    service, fn = function
    domain = uniq("d").replace("_", "-") + ".example.test"
    route = models.PathConfig(path="/api/*", service_name=service, function_name=fn, methods=["GET"])
    made = client.create_custom_domain(models.CreateCustomDomainRequest(
        domain_name=domain, protocol="HTTP", route_config=models.RouteConfig(routes=[route]))).body
    assert made.domain_name == domain and made.route_config.routes[0].path == "/api/*"
    assert client.get_custom_domain(domain).body.protocol == "HTTP"
    route2 = models.PathConfig(path="/v2/*", service_name=service, function_name=fn)
    upd = client.update_custom_domain(domain, models.UpdateCustomDomainRequest(
        route_config=models.RouteConfig(routes=[route, route2]))).body
    assert len(upd.route_config.routes) == 2
    listed = client.list_custom_domains(models.ListCustomDomainsRequest(prefix=domain[:8])).body.custom_domains
    assert domain in [d.domain_name for d in listed]
    client.delete_custom_domain(domain)
    with fc_error("DomainNameNotFound", 404):
        client.get_custom_domain(domain)


def test_tags(client, service, account_id):
    arn = "acs:fc:cn-local:{0}:services/{1}".format(account_id, service)
    client.tag_resource(models.TagResourceRequest(resource_arn=arn, tags={"team": "a", "env": "dev"}))
    tags = client.get_resource_tags(models.GetResourceTagsRequest(resource_arn=arn)).body
    assert tags.tags == {"team": "a", "env": "dev"}
    tagged = client.list_tagged_resources(models.ListTaggedResourcesRequest(limit=100)).body.resources
    # Listed under the server's own region name.
    assert [r.resource_arn for r in tagged if r.resource_arn.endswith(":services/" + service)], tagged
    client.untag_resource(models.UntagResourceRequest(resource_arn=arn, tag_keys=["env"]))
    assert client.get_resource_tags(models.GetResourceTagsRequest(resource_arn=arn)).body.tags == {"team": "a"}
    client.untag_resource(models.UntagResourceRequest(resource_arn=arn, all=True))
    assert not client.get_resource_tags(models.GetResourceTagsRequest(resource_arn=arn)).body.tags


def test_account_and_reserved_capacities(client):
    settings = client.get_account_settings().body
    assert settings.to_map() is not None
    caps = client.list_reserved_capacities(models.ListReservedCapacitiesRequest(limit=10)).body
    assert not caps.reserved_capacities
