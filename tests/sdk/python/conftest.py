"""Fixtures for driving a running Ferric server with the official Python SDK (aliyun-fc2).

Required environment (the run fails at once, naming what is missing, when any is unset):
  FC_ENDPOINT, FC_ACCOUNT_ID, FC_ACCESS_KEY_ID, FC_ACCESS_KEY_SECRET                   main account
  FERRIC_OTHER_ACCOUNT_ID, FERRIC_OTHER_ACCESS_KEY_ID, FERRIC_OTHER_ACCESS_KEY_SECRET  a second account
"""

import os

import fc2
import pytest
import requests

from fcutil import RUNTIMES, fixture_zip, purge_service, uniq, write_zip

REQUIRED_ENV = (
    "FC_ENDPOINT",
    "FC_ACCOUNT_ID",
    "FC_ACCESS_KEY_ID",
    "FC_ACCESS_KEY_SECRET",
    "FERRIC_OTHER_ACCOUNT_ID",
    "FERRIC_OTHER_ACCESS_KEY_ID",
    "FERRIC_OTHER_ACCESS_KEY_SECRET",
)


def pytest_configure(config):
    missing = [k for k in REQUIRED_ENV if not os.environ.get(k)]
    if missing:
        raise pytest.UsageError(
            "tests/sdk/python needs a running Ferric server; unset: {0}".format(", ".join(missing)))
    endpoint = os.environ["FC_ENDPOINT"].rstrip("/")
    # Fail fast instead of letting the SDK retry a dead endpoint for half a minute per call.
    try:
        requests.get(endpoint + "/healthz", timeout=5)
    except requests.RequestException as e:
        raise pytest.UsageError("FC_ENDPOINT {0} is not reachable: {1}".format(endpoint, e))


@pytest.fixture(scope="session")
def endpoint():
    return os.environ["FC_ENDPOINT"].rstrip("/")


@pytest.fixture(scope="session")
def account_id():
    return os.environ["FC_ACCOUNT_ID"]


@pytest.fixture(scope="session")
def other_account_id():
    return os.environ["FERRIC_OTHER_ACCOUNT_ID"]


@pytest.fixture(scope="session")
def creds():
    return {
        "accessKeyID": os.environ["FC_ACCESS_KEY_ID"],
        "accessKeySecret": os.environ["FC_ACCESS_KEY_SECRET"],
    }


def _client(endpoint, key_id, secret):
    return fc2.Client(endpoint=endpoint, accessKeyID=key_id, accessKeySecret=secret, Timeout=30)


@pytest.fixture(scope="session")
def make_client(endpoint):
    """Build a client for any key pair (wrong secrets, unknown keys)."""
    return lambda key_id, secret: _client(endpoint, key_id, secret)


@pytest.fixture(scope="session")
def client(endpoint, creds):
    return _client(endpoint, creds["accessKeyID"], creds["accessKeySecret"])


@pytest.fixture(scope="session")
def other_client(endpoint):
    return _client(endpoint, os.environ["FERRIC_OTHER_ACCESS_KEY_ID"],
                   os.environ["FERRIC_OTHER_ACCESS_KEY_SECRET"])


@pytest.fixture
def svc(client):
    """A fresh, empty service owned by the main account; removed with its contents afterwards."""
    name = uniq("sdkpy")
    client.create_service(name, description="sdk test service")
    yield name
    purge_service(client, name)


@pytest.fixture
def cleanup(client):
    """Register service names (per client) to purge after the test, for tests that create their own."""
    todo = []
    yield lambda name, c=None: todo.append((c or client, name))
    for c, name in reversed(todo):
        purge_service(c, name)


@pytest.fixture
def deploy(client, svc, tmp_path):
    """deploy(lang, handler, extra=None, **create_function kwargs) → the name of a new function in `svc` running
    the code in tests/sdk/fixtures/<lang> ('python', 'node' or 'php'; runtime from fcutil.RUNTIMES unless given)."""
    def _deploy(lang, handler, extra=None, **kwargs):
        name = uniq("fn_" + lang[:2])
        runtime = kwargs.pop("runtime", RUNTIMES[lang])
        client.create_function(svc, name, runtime=runtime, handler=handler,
                               codeZipFile=write_zip(tmp_path, fixture_zip(lang, extra), name + ".zip"), **kwargs)
        return name
    return _deploy
