"""Concurrent clients: conflicts and If-Match stay exact under races, and no race surfaces as a 5xx."""

from concurrent.futures import ThreadPoolExecutor

import fc2

from fcutil import check_request_id, py_zip, uniq, write_zip

WORKERS = 8


def race(calls):
    """Run the callables at once; return (results, FcErrors). Anything else propagates."""
    def run(call):
        try:
            return ("ok", call())
        except fc2.FcError as e:
            check_request_id(e)
            return ("err", e)
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        outcomes = list(pool.map(run, calls))
    oks = [v for k, v in outcomes if k == "ok"]
    errs = [v for k, v in outcomes if k == "err"]
    for e in errs:
        assert e.status_code < 500, "a race must not surface as {0}: {1}".format(e.status_code, e.message)
    return oks, errs


def test_parallel_create_same_service(client, cleanup):
    name = uniq("svc_race")
    cleanup(name)
    oks, errs = race([lambda: client.create_service(name)] * WORKERS)
    assert len(oks) == 1, "exactly one create wins: {0}".format([e.err_code for e in errs])
    assert {(e.status_code, e.err_code) for e in errs} == {(409, "ServiceAlreadyExists")}


def test_parallel_create_same_function(client, svc, tmp_path):
    path = write_zip(tmp_path, py_zip())
    fn = uniq("fn_race")
    oks, errs = race([lambda: client.create_function(svc, fn, runtime="python3.9", handler="index.handler",
                                                     codeZipFile=path)] * WORKERS)
    assert len(oks) == 1
    assert {(e.status_code, e.err_code) for e in errs} == {(409, "FunctionAlreadyExists")}


def test_parallel_creates_of_distinct_functions(client, svc, tmp_path):
    path = write_zip(tmp_path, py_zip())
    names = sorted(uniq("fn_par") for _ in range(16))
    oks, errs = race([(lambda n=n: client.create_function(svc, n, runtime="python3.9", handler="index.handler",
                                                          codeZipFile=path)) for n in names])
    assert not errs, [e.message for e in errs]
    listed = client.list_functions(svc, limit=100).data["functions"]
    assert [f["functionName"] for f in listed] == names


def test_if_match_is_compare_and_set(client, svc):
    etag = client.get_service(svc).headers["etag"]
    calls = [(lambda i=i: client.update_service(svc, description="writer {0}".format(i),
                                                headers={"if-match": etag})) for i in range(WORKERS)]
    oks, errs = race(calls)
    assert len(oks) == 1, "only one writer may win with the same If-Match; {0} did".format(len(oks))
    assert {(e.status_code, e.err_code) for e in errs} == {(412, "PreconditionFailed")}
    assert client.get_service(svc).data["description"] == oks[0].data["description"]


def test_delete_service_racing_create_function(client, tmp_path):
    """Either the function lands (and the delete is ServiceNotEmpty) or the service goes first (and the create
    is ServiceNotFound); never an orphan function, never a 5xx."""
    path = write_zip(tmp_path, py_zip())
    for _ in range(5):
        name = uniq("svc_del_race")
        client.create_service(name)
        fn = uniq("fn")
        oks, errs = race([lambda: client.delete_service(name),
                          lambda: client.create_function(name, fn, runtime="python3.9", handler="index.handler",
                                                         codeZipFile=path)])
        codes = sorted(e.err_code for e in errs)
        assert codes in (["ServiceNotEmpty"], ["ServiceNotFound"]), codes
        if codes == ["ServiceNotEmpty"]:
            assert client.get_function(name, fn).data["functionName"] == fn
            client.delete_function(name, fn)
            client.delete_service(name)
        else:
            try:
                client.get_service(name)
                raise AssertionError("the service should be gone")
            except fc2.FcError as e:
                assert e.err_code == "ServiceNotFound"
