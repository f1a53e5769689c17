"""The SDK's ACS3 signature: a wrong secret or an unknown key is refused with FC's codes."""

from alibabacloud_fc_open20210406 import models

from conftest import fc_error, make_client


def test_wrong_secret_is_refused():
    with fc_error("SignatureNotMatch", 403):
        make_client(secret="not-the-secret").list_services(models.ListServicesRequest())


def test_unknown_key_is_refused():
    with fc_error("InvalidAccessKeyID", 403):
        make_client(key_id="NOSUCHKEY").list_services(models.ListServicesRequest())


def test_the_async_transport_signs_the_same_way(client, function):
    """The SDK's *_async methods go through aiohttp, not requests; the server accepts both."""
    import asyncio

    async def run():
        listed = await client.list_services_async(models.ListServicesRequest(limit=1))
        assert listed.status_code == 200
        with fc_error("ServiceNotFound", 404):
            await client.get_service_async("no_such_service_21", models.GetServiceRequest())
        service, fn = function
        out = await client.invoke_function_async(service, fn, models.InvokeFunctionRequest(body=b"aio"))
        assert out.body == b"v1:aio"

    asyncio.run(run())
