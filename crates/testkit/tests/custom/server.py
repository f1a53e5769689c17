# A custom runtime's server for the tests: python's http.server behind a shell bootstrap.
import http.server, json, os, sys, time

PORT = int(os.environ.get('FC_SERVER_PORT', '9000'))
state = {'initialized': 0, 'invokes': 0}
print('server starting on', PORT, flush=True)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = 'HTTP/1.1'

    def log_message(self, *args):
        pass

    def answer(self, status, body, headers=()):
        body = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header('content-length', str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def body(self):
        return self.rfile.read(int(self.headers.get('content-length') or 0))

    def do_POST(self):
        rid = self.headers.get('x-fc-request-id')
        event = self.body()
        if self.path == '/initialize':
            state['initialized'] += 1
            print('initializing', rid, flush=True)
            return self.answer(200, b'')
        if self.path != '/invoke':
            return self.http(event)
        state['invokes'] += 1
        word = event.decode()
        print('FC Invoke Start RequestId: %s' % rid, flush=True)
        sys.stderr.write('event %s\n' % word)
        sys.stderr.flush()
        if word == 'crash':
            os._exit(3)
        if word.startswith('sleep'):
            time.sleep(float(word.split()[1]))
        if word == 'fail':
            return self.answer(404, {'errorMessage': 'it failed'}, [('x-fc-status', '404')])
        if word == 'text-fail':
            return self.answer(500, b'plain failure')
        headers = {k: v for k, v in self.headers.items() if k.lower().startswith('x-fc-')}
        self.answer(200, {'event': word, 'pid': os.getpid(), 'initialized': state['initialized'],
                          'invokes': state['invokes'], 'headers': headers,
                          'contentType': self.headers.get('content-type')}, [('x-fc-status', '200')])

    def http(self, body):
        self.answer(201, {'method': self.command, 'path': self.path, 'body': body.decode(),
                          'custom': self.headers.get('x-custom'), 'basePath': self.headers.get('x-fc-base-path'),
                          'control': self.headers.get('x-fc-control-path'), 'rid': self.headers.get('x-fc-request-id')},
                    [('content-type', 'application/json'), ('x-echo', 'yes'), ('set-cookie', 'a=1'), ('set-cookie', 'b=2')])

    do_GET = do_PUT = lambda self: self.http(self.body())


http.server.ThreadingHTTPServer(('0.0.0.0', PORT), Handler).serve_forever()
