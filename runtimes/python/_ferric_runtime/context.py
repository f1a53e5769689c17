"""The `context` argument, with the attribute names of FC's Python runtime (snake_case, plus the camelCase
credential names FC also accepts, and `to_json()`)."""
from . import logs


class Credentials(object):
    def __init__(self, access_key_id, access_key_secret, security_token):
        self.access_key_id = access_key_id
        self.access_key_secret = access_key_secret
        self.security_token = security_token

    @property
    def accessKeyId(self):
        return self.access_key_id

    @property
    def accessKeySecret(self):
        return self.access_key_secret

    @property
    def securityToken(self):
        return self.security_token

    def to_dict(self):
        return {"accessKeyId": self.access_key_id, "accessKeySecret": self.access_key_secret,
                "securityToken": self.security_token}


class FunctionMeta(object):
    def __init__(self, name, handler, memory, timeout, initializer=None, initialization_timeout=None):
        self.name = name
        self.handler = handler
        self.memory = memory
        self.timeout = timeout
        self.initializer = initializer
        self.initialization_timeout = initialization_timeout

    def to_dict(self):
        return {"name": self.name, "handler": self.handler, "memory": self.memory, "timeout": self.timeout}


class ServiceMeta(object):
    def __init__(self, name, log_project, log_store, qualifier, version_id):
        self.name = name
        self.log_project = log_project
        self.log_store = log_store
        self.qualifier = qualifier
        self.version_id = version_id

    def to_dict(self):
        return {"name": self.name, "logProject": self.log_project, "logStore": self.log_store,
                "qualifier": self.qualifier, "versionId": self.version_id}


class Tracing(object):
    def __init__(self, span_context="", span_baggages=None, jaeger_endpoint="", parent_span_id=""):
        self.span_context = span_context
        self.jaeger_endpoint = jaeger_endpoint
        self.span_baggages = {} if span_baggages is None else span_baggages
        self.parent_span_id = parent_span_id

    def to_dict(self):
        return {"openTracingSpanContext": self.span_context, "openTracingSpanBaggages": self.span_baggages,
                "jaegerEndpoint": self.jaeger_endpoint}


class FCContext(object):
    def __init__(self, account_id, request_id, credentials, function_meta, service_meta, region, tracing,
                 retry_count=0):
        self.requestId = request_id
        self.request_id = request_id
        self.credentials = credentials
        self.function = function_meta
        self.service = service_meta
        self.region = region
        self.account_id = account_id
        self.retry_count = retry_count
        self.tracing = tracing

    def getLogger(self):
        logger = self.__dict__.get("_logger")
        if logger is None:
            logger = self._logger = logs.get_logger(self.request_id)
        return logger

    def to_json(self):
        import json
        return json.dumps({"requestId": self.request_id, "credentials": self.credentials.to_dict(),
                           "function": self.function.to_dict(), "service": self.service.to_dict(),
                           "region": self.region, "accountId": self.account_id, "retryCount": self.retry_count,
                           "tracing": self.tracing.to_dict()})


class ContextFactory(object):
    """Builds each request's context from the `init` message and the request's header."""

    def __init__(self, init):
        fn = init.get("function") or {}
        svc = init.get("service") or {}
        self.function = FunctionMeta(fn.get("name", ""), fn.get("handler", ""), int(fn.get("memory") or 0),
                                     int(fn.get("timeout") or 0), fn.get("initializer"),
                                     fn.get("initializationTimeout"))
        self.service = ServiceMeta(svc.get("name", ""), svc.get("logProject", ""), svc.get("logStore", ""),
                                   svc.get("qualifier", "LATEST"), svc.get("versionId", ""))
        self.region = init.get("region", "")
        self.account_id = init.get("accountId", "")

    def make(self, header):
        creds = header.get("credentials") or {}
        return FCContext(self.account_id, header.get("requestId") or "",
                         Credentials(creds.get("accessKeyId", ""), creds.get("accessKeySecret", ""),
                                     creds.get("securityToken", "")),
                         self.function, self._service(header.get("service")), self.region,
                         _tracing(header.get("tracing")))

    def _service(self, asked):
        """An invoke's `service` names the qualifier the caller asked for (an alias and its versions share
        instances); without one the instance's stands."""
        if not isinstance(asked, dict):
            return self.service
        s = self.service
        return ServiceMeta(s.name, s.log_project, s.log_store, asked.get("qualifier", s.qualifier),
                           asked.get("versionId", s.version_id))


def _tracing(t):
    """`context.tracing` from an invoke's `tracing` (FC's field names), or the empty default."""
    if not isinstance(t, dict):
        return Tracing()
    baggages = t.get("openTracingSpanBaggages")
    return Tracing(t.get("openTracingSpanContext") or "", baggages if isinstance(baggages, dict) else {},
                   t.get("jaegerEndpoint") or "")
