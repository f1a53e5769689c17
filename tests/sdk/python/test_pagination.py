"""Pagination of ListServices and ListFunctions: limit, nextToken (omitted at the end), prefix (applied with
nextToken too), startKey (inclusive, ignored with nextToken), byte-order sorting."""

import uuid

import pytest

from fcutil import purge_service, py_zip, write_zip

# Byte order puts upper case before lower case: a case-insensitive sort would interleave them.
SUFFIXES = ["A0", "a1", "a2", "b1", "b2", "b3", "z9"]


@pytest.fixture(scope="module")
def svc_set(client):
    prefix = "pg{0}_".format(uuid.uuid4().hex[:10])
    names = [prefix + s for s in SUFFIXES]
    for n in reversed(names):  # created out of order on purpose
        client.create_service(n)
    yield prefix, names
    for n in names:
        purge_service(client, n)


@pytest.fixture(scope="module")
def fn_set(client, tmp_path_factory):
    svc = "pgf{0}".format(uuid.uuid4().hex[:10])
    client.create_service(svc)
    path = write_zip(tmp_path_factory.mktemp("pg"), py_zip())
    prefix = "f_"
    names = [prefix + s for s in SUFFIXES]
    for n in reversed(names):
        client.create_function(svc, n, runtime="python3.9", handler="index.handler", codeZipFile=path)
    yield svc, prefix, names
    purge_service(client, svc)


def lister(kind, client, fixture):
    """A uniform (list call, item key, prefix, names) for services and functions."""
    if kind == "services":
        prefix, names = fixture
        return (lambda **kw: client.list_services(**kw).data), "serviceName", prefix, names
    svc, prefix, names = fixture
    return (lambda **kw: client.list_functions(svc, **kw).data), "functionName", prefix, names


@pytest.fixture(params=["services", "functions"])
def listing(request, client):
    fixture = request.getfixturevalue("svc_set" if request.param == "services" else "fn_set")
    call, key, prefix, names = lister(request.param, client, fixture)
    return request.param, call, key, prefix, names


def names_of(kind, data, key):
    return [x[key] for x in data[kind]]


def test_pages_through_next_token(listing):
    kind, call, key, prefix, names = listing
    pages, token = [], None
    while True:
        data = call(limit=3, prefix=prefix, nextToken=token)
        pages.append(names_of(kind, data, key))
        token = data.get("nextToken")
        if not token:
            assert "nextToken" not in data, "nextToken must be omitted on the last page: {0}".format(data)
            break
        assert len(pages) < 10, "pagination does not terminate"
    assert [len(p) for p in pages] == [3, 3, 1]
    assert sum(pages, []) == names, "pages must be sorted by name in byte order"


def test_no_limit_returns_all_sorted(listing):
    kind, call, key, prefix, names = listing
    data = call(prefix=prefix)
    assert names_of(kind, data, key) == names
    assert "nextToken" not in data


def test_exact_fit_has_no_next_token(listing):
    kind, call, key, prefix, names = listing
    data = call(prefix=prefix, limit=len(names))
    assert names_of(kind, data, key) == names
    assert "nextToken" not in data, "a page that ends the listing must not carry nextToken"


def test_prefix(listing):
    kind, call, key, prefix, names = listing
    assert names_of(kind, call(prefix=prefix + "a"), key) == [prefix + "a1", prefix + "a2"]
    assert names_of(kind, call(prefix=prefix + "b", limit=2), key) == [prefix + "b1", prefix + "b2"]
    assert names_of(kind, call(prefix=prefix + "q"), key) == []


def test_start_key_is_inclusive(listing):
    kind, call, key, prefix, names = listing
    assert names_of(kind, call(prefix=prefix, startKey=prefix + "b2"), key) == \
        [prefix + "b2", prefix + "b3", prefix + "z9"]
    # A startKey that is not a name starts at the next name.
    data = call(prefix=prefix, startKey=prefix + "b", limit=2)
    assert names_of(kind, data, key) == [prefix + "b1", prefix + "b2"]
    assert data.get("nextToken")
    # prefix and startKey together.
    assert names_of(kind, call(prefix=prefix + "a", startKey=prefix + "a2", limit=2), key) == [prefix + "a2"]


def test_start_key_ignored_with_next_token(listing):
    kind, call, key, prefix, names = listing
    first = call(prefix=prefix, limit=2)
    assert names_of(kind, first, key) == names[:2]
    token = first["nextToken"]
    # startKey points far ahead; with a nextToken it must not matter.
    data = call(prefix=prefix, limit=2, startKey=prefix + "z", nextToken=token)
    assert names_of(kind, data, key) == names[2:4]
    data = call(prefix=prefix, limit=2, nextToken=token)
    assert names_of(kind, data, key) == names[2:4]


def test_prefix_applies_with_next_token(listing):
    kind, call, key, prefix, names = listing
    token = call(prefix=prefix, limit=2)["nextToken"]
    assert names_of(kind, call(prefix=prefix + "x", limit=2, nextToken=token), key) == []


def test_limit_bounds(listing):
    kind, call, key, prefix, names = listing
    data = call(prefix=prefix, limit=1)
    assert names_of(kind, data, key) == names[:1]
    assert data.get("nextToken")
    data = call(prefix=prefix, limit=100)
    assert names_of(kind, data, key) == names


def test_limit_out_of_range_is_a_clean_4xx_or_clamped(client):
    # FC caps limit at 100; whether a larger value is refused or clamped is not pinned down, but it is never
    # a 5xx, and a clamped answer holds at most 100 items.
    from fcutil import check_json_error, signed
    for value in ("101", "1000", "0", "-1", "abc"):
        r = signed(client, "GET", "/2016-08-15/services", params={"limit": value})
        if r.status_code == 200:
            assert len(r.json()["services"]) <= 100
        else:
            check_json_error(r, 400, "InvalidArgument")
