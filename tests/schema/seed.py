"""Creates the resources the spec's examples name, so the fuzzer's requests find something to answer
with 200: service `demo`, function `hello` (Python; answers events and, behind its `web` HTTP trigger,
HTTP requests), its timer trigger `every5m`, an async-invoke-config, version 1 with the alias `prod`, one async invocation
(`demo-invocation-1`) and one sync one (a log to list), and the form API's function `0001`.

Usage: python seed.py <endpoint>   (keys from FC_ACCESS_KEY_ID / FC_ACCESS_KEY_SECRET)
"""

import base64
import io
import json
import sys
import zipfile

import requests

from fcauth import from_env

HANDLER = '''\
def handler(event, context):
    if callable(context):  # an HTTP trigger calls a WSGI app: (environ, start_response)
        context("200 OK", [("Content-Type", "text/plain")])
        return [b"hello"]
    return "hello"
'''


def main(endpoint):
    session = requests.Session()
    session.auth = from_env()

    def call(method, path, body=None, ok=(200, 202, 204)):
        data = None if body is None else json.dumps(body)
        r = session.request(method, endpoint + path, data=data, headers={"Content-Type": "application/json"})
        if r.status_code not in ok:
            sys.exit("seed: {0} {1} -> {2} {3}".format(method, path, r.status_code, r.text))
        return r

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("index.py", HANDLER)
    code = base64.b64encode(buf.getvalue()).decode()

    call("POST", "/2016-08-15/services", {"serviceName": "demo", "description": "schema fuzzing"})
    call("POST", "/2016-08-15/services/demo/functions",
         {"functionName": "hello", "runtime": "python3.10", "handler": "index.handler", "code": {"zipFile": code}})
    call("POST", "/2016-08-15/services/demo/functions/hello/triggers",
         {"triggerName": "every5m", "triggerType": "timer",
          "triggerConfig": {"cronExpression": "@every 5m", "payload": "{}", "enable": True}})
    call("POST", "/2016-08-15/services/demo/functions/hello/triggers",
         {"triggerName": "web", "triggerType": "http",
          "triggerConfig": {"authType": "anonymous",
                            "methods": ["GET", "POST", "PUT", "DELETE", "HEAD", "PATCH", "OPTIONS"]}})
    call("PUT", "/2016-08-15/services/demo/functions/hello/async-invoke-config", {"maxAsyncRetryAttempts": 1})
    # Version 1 and the alias `prod` on it (the spec's examples name both).
    call("POST", "/2016-08-15/services/demo/versions", {"description": "schema fuzzing"})
    call("POST", "/2016-08-15/services/demo/aliases", {"aliasName": "prod", "versionId": "1"})
    r = session.post(endpoint + "/2016-08-15/services/demo/functions/hello/invocations", data=b"{}",
                     headers={"X-Fc-Invocation-Type": "Async",
                              "X-Fc-Stateful-Async-Invocation-Id": "demo-invocation-1"})
    if r.status_code != 202:
        sys.exit("seed: async invoke -> {0} {1}".format(r.status_code, r.text))
    r = session.post(endpoint + "/2016-08-15/services/demo/functions/hello/invocations", data=b"{}",
                     headers={"X-Fc-Log-Type": "Tail"})
    if r.status_code != 200:
        sys.exit("seed: invoke -> {0} {1}".format(r.status_code, r.text))
    r = session.post(endpoint + "/api/v1/func/",
                     files={"FunctionName": (None, "0001"), "Code": (None, HANDLER)})
    if r.status_code != 200:
        sys.exit("seed: form create -> {0} {1}".format(r.status_code, r.text))
    print("seed: demo/hello (triggers every5m, web), async config and invocation, form function 0001")


if __name__ == "__main__":
    main(sys.argv[1].rstrip("/"))
