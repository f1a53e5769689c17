"""The `context` object, as FC's Python runtime builds it."""
import json

CONTEXT = """
import json
def handler(event, c):
    cr, fn, sv, tr = c.credentials, c.function, c.service, c.tracing
    return {
        "request_id": c.request_id, "requestId": c.requestId,
        "creds": [cr.access_key_id, cr.access_key_secret, cr.security_token,
                  cr.accessKeyId, cr.accessKeySecret, cr.securityToken],
        "function": [fn.name, fn.handler, fn.memory, fn.timeout, fn.initializer],
        "service": [sv.name, sv.log_project, sv.log_store, sv.qualifier, sv.version_id],
        "region": c.region, "account_id": c.account_id, "retry_count": c.retry_count,
        "tracing": [tr.span_context, tr.jaeger_endpoint, tr.span_baggages, tr.parent_span_id],
        "logger": type(c.getLogger()).__name__,
        "to_json": json.loads(c.to_json()),
    }
def init(c):
    pass
"""


def test_context_attributes(runtime_factory):
    rt = runtime_factory({"index.py": CONTEXT}, initializer="index.init", memory=512, timeout=30)
    creds = {"accessKeyId": "STS.ak", "accessKeySecret": "sk", "securityToken": "tok"}
    out = rt.invoke(request_id="rid-ctx", credentials=creds).json()
    assert out["request_id"] == out["requestId"] == "rid-ctx"
    assert out["creds"] == ["STS.ak", "sk", "tok"] * 2
    assert out["function"] == ["f", "index.handler", 512, 30, "index.init"]
    assert out["service"] == ["s", "proj", "store", "LATEST", ""]
    assert out["region"] == "local"
    assert out["account_id"] == "1234567890123456"
    assert out["retry_count"] == 0
    assert out["tracing"] == ["", "", {}, ""]
    assert out["logger"] == "RootLogger"
    assert out["to_json"] == {
        "requestId": "rid-ctx",
        "credentials": creds,
        "function": {"name": "f", "handler": "index.handler", "memory": 512, "timeout": 30},
        "service": {"name": "s", "logProject": "proj", "logStore": "store", "qualifier": "LATEST",
                    "versionId": ""},
        "region": "local", "accountId": "1234567890123456", "retryCount": 0,
        "tracing": {"openTracingSpanContext": "", "openTracingSpanBaggages": {}, "jaegerEndpoint": ""},
    }


def test_each_request_gets_its_own_credentials(runtime_factory):
    src = "def handler(e, c):\n    return c.credentials.access_key_id + '/' + c.request_id\n"
    rt = runtime_factory({"index.py": src})
    assert rt.invoke(request_id="a", credentials={"accessKeyId": "one"}).body == b"one/a"
    assert rt.invoke(request_id="b", credentials={"accessKeyId": "two"}).body == b"two/b"


def test_context_can_be_returned_as_json(runtime_factory):
    # FC's serializer uses an object's to_json(): returning the context gives its JSON text as a string.
    rt = runtime_factory({"index.py": "def handler(e, c):\n    return {'ctx': c}\n"})
    inner = json.loads(rt.invoke(request_id="r").json()["ctx"])
    assert inner["requestId"] == "r"
