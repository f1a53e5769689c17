"""Fixtures for driving a running Ferric server's 2021-04-06 API with the unchanged official Python SDK
(alibabacloud_fc_open20210406, which signs with ACS3-HMAC-SHA256).

Required environment: FC_ENDPOINT, FC_ACCOUNT_ID, FC_ACCESS_KEY_ID, FC_ACCESS_KEY_SECRET (as for
tests/sdk/python).
"""

import base64
import io
import os
import uuid
import zipfile
from contextlib import contextmanager

import pytest
from alibabacloud_fc_open20210406 import models
from alibabacloud_fc_open20210406.client import Client
from alibabacloud_tea_openapi import models as open_api_models
from alibabacloud_tea_util import models as util_models

REQUIRED_ENV = ("FC_ENDPOINT", "FC_ACCOUNT_ID", "FC_ACCESS_KEY_ID", "FC_ACCESS_KEY_SECRET")


def pytest_configure(config):
    missing = [k for k in REQUIRED_ENV if not os.environ.get(k)]
    if missing:
        raise pytest.UsageError("tests/sdk/python2021 needs a running Ferric server; unset: " + ", ".join(missing))


def make_client(key_id=None, secret=None):
    endpoint = os.environ["FC_ENDPOINT"].rstrip("/")
    scheme, host = endpoint.split("://", 1)
    return Client(open_api_models.Config(
        access_key_id=key_id or os.environ["FC_ACCESS_KEY_ID"],
        access_key_secret=secret or os.environ["FC_ACCESS_KEY_SECRET"],
        endpoint=host,
        protocol=scheme,
        region_id="cn-local",
        read_timeout=30000,
        connect_timeout=5000,
    ))


@pytest.fixture(scope="session")
def client():
    return make_client()


@pytest.fixture(scope="session")
def account_id():
    return os.environ["FC_ACCOUNT_ID"]


def uniq(prefix):
    return "{0}_{1}".format(prefix, uuid.uuid4().hex[:10])


def zip_b64(files):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, content in files.items():
            z.writestr(name, content)
    return base64.b64encode(buf.getvalue()).decode()


PY_ECHO = ("import json\n"
           "def handler(event, context):\n"
           "    print('log line from ' + context.function.name)\n"
           "    return 'v1:' + event.decode()\n")


@contextmanager
def fc_error(code, status):
    """The SDK raises a Tea exception whose code and status come from Ferric's 2021 error body."""
    with pytest.raises(Exception) as info:
        yield info
    e = info.value
    assert getattr(e, "code", None) == code, repr(e)
    assert getattr(e, "status_code", None) == status, repr(e)
    data = getattr(e, "data", None) or {}
    assert data.get("Code") == code and data.get("RequestId"), data
    assert "ErrorCode" not in data, data


def runtime():
    return util_models.RuntimeOptions()


def purge_service(client, name):
    """Deletes a service with everything in it (best effort: cleanup after a failed test)."""
    try:
        for a in client.list_aliases(name, models.ListAliasesRequest(limit=100)).body.aliases or []:
            client.delete_alias(name, a.alias_name)
        fns = client.list_functions(name, models.ListFunctionsRequest(limit=100)).body.functions or []
        for f in fns:
            for t in client.list_triggers(name, f.function_name, models.ListTriggersRequest(limit=100)).body.triggers or []:
                client.delete_trigger(name, f.function_name, t.trigger_name)
            client.delete_function(name, f.function_name)
        for v in client.list_service_versions(name, models.ListServiceVersionsRequest(limit=100)).body.versions or []:
            client.delete_service_version(name, v.version_id)
        client.delete_service(name)
    except Exception:
        pass


@pytest.fixture
def service(client):
    name = uniq("svc21")
    client.create_service(models.CreateServiceRequest(service_name=name, description="2021 suite"))
    yield name
    purge_service(client, name)


@pytest.fixture
def function(client, service):
    name = uniq("fn21")
    client.create_function(service, models.CreateFunctionRequest(
        function_name=name, runtime="python3.9", handler="index.handler", memory_size=128, timeout=10,
        code=models.Code(zip_file=zip_b64({"index.py": PY_ECHO}))))
    return service, name
