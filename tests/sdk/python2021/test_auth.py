"""The SDK's ACS3 signature: a wrong secret or an unknown key is refused with FC's codes."""

from alibabacloud_fc_open20210406 import models

from conftest import fc_error, make_client


def test_wrong_secret_is_refused():
    with fc_error("SignatureNotMatch", 403):
        make_client(secret="not-the-secret").list_services(models.ListServicesRequest())


def test_unknown_key_is_refused():
    with fc_error("InvalidAccessKeyID", 403):
        make_client(key_id="NOSUCHKEY").list_services(models.ListServicesRequest())
