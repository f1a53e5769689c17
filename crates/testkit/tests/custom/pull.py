#!/usr/bin/env python3
# A custom runtime that pulls its work from FC's runtime API instead of serving HTTP.
import json, os, urllib.request

api = 'http://%s/2020-11-11/runtime' % os.environ['FC_RUNTIME_API']
if os.path.exists('/code/broken'):
    urllib.request.urlopen(urllib.request.Request(api + '/init/error', data=b'{"errorMessage": "cannot init"}'))
while True:
    with urllib.request.urlopen(api + '/invocation/next') as r:
        rid, event = r.headers['x-fc-request-id'], r.read()
    print('pulled', rid, flush=True)
    if event == b'fail':
        path, body = '/error', json.dumps({'errorMessage': 'pulled and failed', 'errorType': 'Oops'}).encode()
    else:
        path, body = '/response', json.dumps({'event': event.decode(), 'rid': rid,
                                              'fn': r.headers['x-fc-function-name']}).encode()
    urllib.request.urlopen(urllib.request.Request('%s/invocation/%s%s' % (api, rid, path), data=body)).read()
