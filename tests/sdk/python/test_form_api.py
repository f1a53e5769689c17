"""The seed's form API (/api/v1/func...): multipart/form-data, unsigned from loopback, answers
{"Code": 0, "Data": ...} or a non-zero Code with a message. Its functions live in service `default` of the
default account, where the FC API (and so the official SDK) sees them."""

import base64
import json
import uuid

import pytest
import requests

from fcutil import crc64, make_zip, raises_fc, zip_names, zip_read

DEFAULT_SERVICE = "default"
SOURCE = "def handler(event, context):\n    return 'from the form api'\n"


def fname():
    return "form{0}".format(uuid.uuid4().hex[:12])


def form(fields):
    """multipart/form-data parts: text fields as (None, value); a list repeats the field."""
    parts = []
    for key, value in fields.items():
        for v in (value if isinstance(value, list) else [value]):
            parts.append((key, v if isinstance(v, tuple) else (None, v)))
    return parts


def ci_get(obj, key):
    """A field of Data, whatever its case (the seed shows PascalCase for FunctionName only)."""
    for k, v in obj.items():
        if k.lower() == key.lower():
            return v
    raise AssertionError("{0!r} not in {1}".format(key, obj))


class Form(object):
    def __init__(self, endpoint):
        self.base = endpoint + "/api/v1/func"

    def post(self, path, fields):
        r = requests.post(self.base + path, files=form(fields), timeout=20)
        return self._json(r)

    def get(self, path, params):
        return self._json(requests.get(self.base + path, params=params, timeout=20))

    @staticmethod
    def _json(r):
        assert r.headers.get("content-type", "").startswith("application/json"), (r.status_code, r.text[:300])
        body = r.json()
        assert "Code" in body, body
        return body

    def ok(self, path, fields):
        body = self.post(path, fields)
        assert body["Code"] == 0, body
        return body

    def create(self, name, code=SOURCE, runtime="python3.9", handler="index.handler", description="v1.0.0"):
        return self.ok("/", {"FunctionName": name, "Code": code, "Runtime": runtime, "Handler": handler,
                             "Description": description})

    def show(self, name):
        return self.get("", {"FunctionName": name})


def check_error(body):
    assert body["Code"] != 0, body
    messages = [v for k, v in body.items() if k != "Code" and isinstance(v, str) and v]
    assert messages, "a form API error must carry a message: {0}".format(body)


@pytest.fixture
def api(endpoint):
    made = []
    f = Form(endpoint)
    f.track = made.append
    yield f
    for name in made:
        try:
            requests.post(f.base + "/delete", files=form({"FunctionName": name}), timeout=20)
        except requests.RequestException:
            pass


def test_create_and_get(api, client):
    name = fname()
    api.track(name)
    assert api.create(name)["Code"] == 0

    body = api.show(name)
    assert body["Code"] == 0, body
    data = body["Data"]
    assert data["FunctionName"] == name
    assert ci_get(data, "Runtime") == "python3.9"
    assert ci_get(data, "Handler") == "index.handler"
    assert ci_get(data, "Description") == "v1.0.0"

    # The same function through the FC API: service `default`, the source stored as the handler's module.
    fn = client.get_function(DEFAULT_SERVICE, name).data
    assert fn["runtime"] == "python3.9"
    assert fn["handler"] == "index.handler"
    assert fn["description"] == "v1.0.0"
    code = client.get_function_code(DEFAULT_SERVICE, name).data
    package = requests.get(code["url"], timeout=20).content
    assert str(crc64(package)) == code["checksum"] == fn["codeChecksum"]
    assert "index.py" in zip_names(package)
    assert zip_read(package, "index.py").decode() == SOURCE


def test_code_as_base64_zip(api, client):
    name = fname()
    api.track(name)
    package = make_zip({"main.py": SOURCE, "lib/helper.py": "X = 1\n"})
    api.create(name, code=base64.b64encode(package).decode(), handler="main.handler")
    fn = client.get_function(DEFAULT_SERVICE, name).data
    assert fn["codeChecksum"] == str(crc64(package))
    assert fn["codeSize"] == len(package)


def test_code_as_uploaded_file_part(api, client):
    name = fname()
    api.track(name)
    package = make_zip({"index.py": SOURCE})
    api.ok("/", {"FunctionName": name, "Code": ("code.zip", package, "application/zip"),
                 "Runtime": "python3.9", "Handler": "index.handler", "Description": "file part"})
    fn = client.get_function(DEFAULT_SERVICE, name).data
    assert fn["codeChecksum"] == str(crc64(package))
    assert fn["description"] == "file part"


def test_node_source_file(api, client):
    name = fname()
    api.track(name)
    src = "exports.handler = (e, c, cb) => cb(null, 'hi');\n"
    api.create(name, code=src, runtime="nodejs20", handler="index.handler")
    code = client.get_function_code(DEFAULT_SERVICE, name).data
    package = requests.get(code["url"], timeout=20).content
    assert zip_read(package, "index.js").decode() == src


def test_update(api, client):
    name = fname()
    api.track(name)
    api.create(name)
    before = client.get_function(DEFAULT_SERVICE, name).data

    new_src = "def handler(event, context):\n    return 'v2'\n"
    api.ok("/update", {"FunctionName": name, "Code": new_src, "Description": "v2.0.0"})
    body = api.show(name)
    assert body["Code"] == 0
    assert ci_get(body["Data"], "Description") == "v2.0.0"
    assert ci_get(body["Data"], "Runtime") == "python3.9", "fields not sent are kept"

    after = client.get_function(DEFAULT_SERVICE, name).data
    assert after["description"] == "v2.0.0"
    assert after["codeChecksum"] != before["codeChecksum"]
    package = requests.get(client.get_function_code(DEFAULT_SERVICE, name).data["url"], timeout=20).content
    assert zip_read(package, "index.py").decode() == new_src

    # Only the description: the code stays.
    api.ok("/update", {"FunctionName": name, "Description": "v3"})
    assert client.get_function(DEFAULT_SERVICE, name).data["codeChecksum"] == after["codeChecksum"]


def test_config(api, client):
    name = fname()
    api.track(name)
    api.create(name)
    config = {"memorySize": 256, "timeout": 10, "environmentVariables": {"A": "1"}}
    api.ok("/config", {"FunctionName": name,
                       "FunctionConfig": base64.b64encode(json.dumps(config).encode()).decode()})

    got = ci_get(api.show(name)["Data"], "FunctionConfig")
    if isinstance(got, str):
        got = json.loads(got)
    assert got == config, "GET must return the FunctionConfig decoded"

    # The config is the function's configuration as the FC API sees it.
    fn = client.get_function(DEFAULT_SERVICE, name).data
    assert fn["memorySize"] == 256
    assert fn["timeout"] == 10
    assert fn["environmentVariables"] == {"A": "1"}


def test_config_errors(api):
    name = fname()
    api.track(name)
    api.create(name)
    # Text that is not base64 (the seed's own example is "xxxxx") is stored as given, not applied.
    api.ok("/config", {"FunctionName": name, "FunctionConfig": "%%% not base64 %%%"})
    assert ci_get(api.show(name)["Data"], "FunctionConfig") == "%%% not base64 %%%"
    check_error(api.post("/config", {"FunctionName": fname(),
                                     "FunctionConfig": base64.b64encode(b"{}").decode()}))


def test_list_filter_offset_limit(api):
    token = "fl{0}".format(uuid.uuid4().hex[:10])
    names = [token + "x{0}".format(i) for i in range(3)]
    for n in names:
        api.track(n)
        api.create(n)

    body = api.get("/list", {"FunctionName": token})
    assert body["Code"] == 0, body
    data = body["Data"]
    assert data["Count"] == 3
    assert sorted(item["FunctionName"] for item in data["List"]) == names

    page1 = api.get("/list", {"FunctionName": token, "Offset": 0, "Limit": 2})["Data"]
    page2 = api.get("/list", {"FunctionName": token, "Offset": 2, "Limit": 2})["Data"]
    assert page1["Count"] == 3 and page2["Count"] == 3, "Count is the number of matches, not the page size"
    assert len(page1["List"]) == 2 and len(page2["List"]) == 1
    assert sorted(i["FunctionName"] for i in page1["List"] + page2["List"]) == names

    empty = api.get("/list", {"FunctionName": "nomatch" + uuid.uuid4().hex})["Data"]
    assert empty["Count"] == 0 and empty["List"] == []


def test_delete_many(api, client):
    a, b, keep = fname(), fname(), fname()
    for n in (a, b, keep):
        api.track(n)
        api.create(n)
    api.ok("/delete", {"FunctionName": [a, b]})
    for n in (a, b):
        check_error(api.show(n))
        with raises_fc(404, "FunctionNotFound"):
            client.get_function(DEFAULT_SERVICE, n)
    assert api.show(keep)["Code"] == 0


def test_errors(api):
    missing = fname()
    check_error(api.show(missing))
    check_error(api.post("/update", {"FunctionName": missing, "Description": "x"}))
    check_error(api.post("/", {"Code": SOURCE, "Runtime": "python3.9", "Handler": "index.handler"}))

    name = fname()
    api.track(name)
    api.create(name)
    check_error(api.post("/", {"FunctionName": name, "Code": SOURCE, "Runtime": "python3.9",
                               "Handler": "index.handler"}))
    # The seed's Runtime and Handler are free strings: stored as given (refused only when invoked).
    free = fname()
    api.track(free)
    api.ok("/", {"FunctionName": free, "Code": SOURCE, "Runtime": "ws", "Handler": "C"})
    assert ci_get(api.show(free)["Data"], "Runtime") == "ws"
    check_error(api.post("/", {"FunctionName": "bad name!", "Code": SOURCE, "Runtime": "python3.9",
                               "Handler": "index.handler"}))


def test_form_function_is_listed_by_fc_api(api, client):
    """The form API and the FC API share the default service."""
    name = fname()
    api.track(name)
    api.create(name)
    listed = client.list_functions(DEFAULT_SERVICE, prefix=name).data["functions"]
    assert [f["functionName"] for f in listed] == [name]


def test_seed_style_numeric_name(api, client):
    """The seed's own example names its function "0001"; the form API takes such names and the FC API reads
    them back (only FC's CreateFunction insists on a letter first)."""
    name = str(uuid.uuid4().int)[:12]
    api.track(name)
    api.create(name)
    assert api.show(name)["Data"]["FunctionName"] == name
    assert client.get_function(DEFAULT_SERVICE, name).data["functionName"] == name


def test_source_file_is_named_after_the_handler_module(api, client):
    name = fname()
    api.track(name)
    api.create(name, handler="main.handler")
    package = requests.get(client.get_function_code(DEFAULT_SERVICE, name).data["url"], timeout=20).content
    assert zip_names(package) == ["main.py"]
    assert zip_read(package, "main.py").decode() == SOURCE

    # New source for another runtime: the module file follows the runtime's extension.
    src = "exports.handler = (e, c, cb) => cb(null, 1);\n"
    api.ok("/update", {"FunctionName": name, "Runtime": "nodejs20", "Code": src})
    package = requests.get(client.get_function_code(DEFAULT_SERVICE, name).data["url"], timeout=20).content
    assert zip_names(package) == ["main.js"]
    assert client.get_function(DEFAULT_SERVICE, name).data["runtime"] == "nodejs20"


def test_list_offset_past_the_end(api):
    token = "fo{0}".format(uuid.uuid4().hex[:10])
    api.track(token + "a")
    api.create(token + "a")
    data = api.get("/list", {"FunctionName": token, "Offset": 5, "Limit": 10})["Data"]
    assert data["Count"] == 1 and data["List"] == []
    check_error(api.get("/list", {"FunctionName": token, "Offset": -1}))
