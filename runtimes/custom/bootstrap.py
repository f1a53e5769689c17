"""Ferric's custom-runtime adapter: runs inside the instance's sandbox, next to the function's own server.

It speaks the runtime protocol (runtimes/PROTOCOL.md) to the invoker on fd 3 and FC's custom-runtime HTTP
contract (runtimes/custom/README.md) to the function's server on 127.0.0.1:<caPort>, which only this instance's
network namespace can reach. It also serves FC's runtime API (FC_RUNTIME_API) for runtimes that pull work.

Configuration comes from FERRIC_* variables, removed before the function's command starts:
FERRIC_CA_PORT, FERRIC_CA_COMMAND (a JSON array), FERRIC_START_TIMEOUT (seconds), FERRIC_RUNTIME_API_PORT.
"""

import http.client
import http.server
import json
import os
import queue
import select
import socket
import struct
import subprocess
import sys
import threading
import time

MAX_FRAME = 64 * 1024 * 1024 + 64 * 1024
API_PREFIX = '/2020-11-11/runtime/'
HOP_BY_HOP = {'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade',
              'content-length'}
UNHANDLED = 'UnhandledInvocationError'


def fail(message):
    sys.stderr.write('ferric custom runtime: %s\n' % message)
    sys.stderr.flush()
    os._exit(1)


class Control:
    """The invoker's end: framed messages on fd 3, one writer at a time."""

    def __init__(self, fd):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM, fileno=fd)
        self.lock = threading.Lock()

    def send(self, header, body=b''):
        head = json.dumps(header, separators=(',', ':')).encode()
        if 8 + len(head) + len(body) > MAX_FRAME:
            body = body[:MAX_FRAME - 8 - len(head)]
        frame = struct.pack('>II', 4 + len(head) + len(body), len(head)) + head + body
        with self.lock:
            self.sock.sendall(frame)

    def _exact(self, n):
        chunks = []
        while n:
            chunk = self.sock.recv(min(n, 1 << 20))
            if not chunk:
                return None
            chunks.append(chunk)
            n -= len(chunk)
        return b''.join(chunks)

    def recv(self):
        prefix = self._exact(8)
        if prefix is None:
            return None
        total, head_len = struct.unpack('>II', prefix)
        if total > MAX_FRAME or head_len + 4 > total:
            return None
        rest = self._exact(total - 4)
        if rest is None:
            return None
        return json.loads(rest[:head_len]), rest[head_len:]


class Output:
    """The server's stdout and stderr become `log` frames of the latest request. Output written before the
    first request is held and given to it; before an answer, what the server already wrote is sent first."""

    def __init__(self, control, fds):
        self.control = control
        self.fds = fds
        self.lock = threading.Lock()
        self.request_id = None
        self.early = []
        for fd in fds:
            os.set_blocking(fd, False)

    def start(self, request_id):
        with self.lock:
            self.request_id = request_id
            early, self.early = self.early, []
        for chunk in early:
            self.control.send({'type': 'log', 'requestId': request_id}, chunk)

    def drain(self, fds=None):
        with self.lock:
            for fd in fds or self.fds:
                while True:
                    try:
                        chunk = os.read(fd, 64 * 1024)
                    except BlockingIOError:
                        break
                    except OSError:
                        chunk = b''
                    if not chunk:
                        if fd in self.fds:
                            self.fds.remove(fd)
                        break
                    if self.request_id is None:
                        self.early.append(chunk)
                    else:
                        self.control.send({'type': 'log', 'requestId': self.request_id}, chunk)

    def early_text(self):
        with self.lock:
            return b''.join(self.early).decode('utf-8', 'replace')

    def pump(self):
        while self.fds:
            readable, _, _ = select.select(list(self.fds), [], [], 1.0)
            if readable:
                self.drain(readable)


class Work:
    """One initialize or invoke the invoker sent, waiting for its answer from a puller."""

    def __init__(self, header, body):
        self.header = header
        self.body = body
        self.done = threading.Event()
        self.answer = None


class Adapter:
    def __init__(self):
        self.control = Control(int(os.environ.pop('FERRIC_CONTROL_FD', '3')))
        self.port = int(os.environ.pop('FERRIC_CA_PORT', '9000'))
        self.command = json.loads(os.environ.pop('FERRIC_CA_COMMAND', '["/code/bootstrap"]'))
        self.start_timeout = float(os.environ.pop('FERRIC_START_TIMEOUT', '3'))
        self.api_port = int(os.environ.pop('FERRIC_RUNTIME_API_PORT', '9001'))
        self.init = {}
        self.pulling = False
        self.ready = threading.Event()
        self.init_error = None
        self.work = queue.Queue()
        self.waiting = {}
        self.waiting_lock = threading.Lock()
        self.child = None
        self.output = None

    # -- start -------------------------------------------------------------------------------------

    def accepts(self):
        try:
            socket.create_connection(('127.0.0.1', self.port), timeout=0.5).close()
            return True
        except OSError:
            return False

    def start(self):
        if self.accepts():
            fail('port %d already accepts connections before the function started: this instance shares '
                 "the host's network (no network namespace), so custom runtimes cannot run here" % self.port)
        api = self.serve_runtime_api()
        env = dict(os.environ)
        env['FC_RUNTIME_API'] = '127.0.0.1:%d' % api.server_address[1]
        env['FC_SERVER_PORT'] = str(self.port)
        try:
            self.child = subprocess.Popen(self.command, cwd=os.environ.get('FC_FUNC_CODE_PATH', '/code'), env=env,
                                          stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        except OSError as e:
            fail('cannot start %s: %s' % (json.dumps(self.command), e.strerror or e))
        self.output = Output(self.control, [self.child.stdout.fileno(), self.child.stderr.fileno()])
        threading.Thread(target=self.output.pump, daemon=True).start()
        deadline = time.monotonic() + self.start_timeout
        while not self.ready.is_set():
            if self.child.poll() is not None and self.init_error is None:
                time.sleep(0.05)
                self.output.drain()
                fail('%s exited with status %d before port %d accepted connections; its output: %s'
                     % (json.dumps(self.command), self.child.returncode, self.port, self.output.early_text()[-2000:]))
            if self.accepts():
                break
            if time.monotonic() > deadline:
                self.output.drain()
                fail('the function did not accept connections on port %d within %g s (initializationTimeout); '
                     'its output: %s' % (self.port, self.start_timeout, self.output.early_text()[-2000:]))
            self.ready.wait(0.01)
        threading.Thread(target=self.watch_child, daemon=True).start()
        self.control.send({'type': 'ready', 'runtime': 'custom %s' % ' '.join(self.command)})

    def watch_child(self):
        code = self.child.wait()
        time.sleep(0.05)
        self.output.drain()
        # The invoker answers pending requests with "Process exited unexpectedly" when this process ends.
        os._exit(code if 0 < code < 256 else 1)

    # -- invoker requests --------------------------------------------------------------------------

    def run(self):
        self.start()
        while True:
            message = self.control.recv()
            if message is None:
                self.child.kill()
                os._exit(0)
            header, body = message
            kind = header.get('type')
            if kind == 'init':
                self.init = header
            elif kind in ('initialize', 'invoke'):
                threading.Thread(target=self.handle, args=(header, body), daemon=True).start()

    def handle(self, header, body):
        self.output.start(header['requestId'])
        if self.init_error is not None:
            answer = ('error', self.init_error, None)
        elif self.pulling:
            answer = self.pull(header, body)
        else:
            answer = self.forward(header, body)
        self.output.drain()
        kind, payload, http = answer
        if kind == 'result':
            frame = {'type': 'result', 'id': header['id']}
            if http is not None:
                frame['http'] = http
        else:
            frame = {'type': 'error', 'id': header['id'], 'errorType': UNHANDLED}
        self.control.send(frame, payload)
        if self.init_error is not None:
            time.sleep(0.05)
            self.child.kill()

    def common_headers(self, header, control_path):
        function = self.init.get('function', {})
        service = self.init.get('service', {})
        credentials = header.get('credentials') or {}
        return {
            'x-fc-request-id': header['requestId'],
            'x-fc-access-key-id': credentials.get('accessKeyId', ''),
            'x-fc-access-key-secret': credentials.get('accessKeySecret', ''),
            'x-fc-security-token': credentials.get('securityToken', ''),
            'x-fc-function-name': function.get('name', ''),
            'x-fc-function-handler': function.get('handler', ''),
            'x-fc-function-memory': str(function.get('memory', '')),
            'x-fc-function-timeout': str(function.get('timeout', '')),
            'x-fc-function-initializer': function.get('initializer') or '',
            'x-fc-initialization-timeout': str(function.get('initializationTimeout', '')),
            'x-fc-service-name': service.get('name', ''),
            'x-fc-service-logproject': service.get('logProject', ''),
            'x-fc-service-logstore': service.get('logStore', ''),
            'x-fc-qualifier': service.get('qualifier', ''),
            'x-fc-version-id': service.get('versionId', ''),
            'x-fc-region': self.init.get('region', ''),
            'x-fc-account-id': self.init.get('accountId', ''),
            'x-fc-control-path': control_path,
        }

    def forward(self, header, body):
        http = header.get('http')
        if header['type'] == 'initialize':
            method, path, headers, control = 'POST', '/initialize', [], '/initialize'
        elif http is None:
            method, path, control = 'POST', '/invoke', '/invoke'
            headers = [('content-type', 'application/octet-stream')]
        else:
            method, path, control = http['method'], http['requestURI'] or '/', '/http-invoke'
            headers = [(name, value) for name, values in http.get('headers', {}).items()
                       if name not in HOP_BY_HOP and not name.startswith('x-fc-') for value in values]
            segments = path.split('?', 1)[0].split('/')
            if len(segments) >= 5 and segments[2] == 'proxy':
                headers.append(('x-fc-base-path', '/'.join(segments[:5])))
        headers.extend(self.common_headers(header, control).items())
        connection = http_client(self.port)
        try:
            connection.putrequest(method, path, skip_host=any(n == 'host' for n, _ in headers),
                                  skip_accept_encoding=True)
            for name, value in headers:
                connection.putheader(name, value)
            connection.putheader('content-length', str(len(body)))
            connection.endheaders(body)
            response = connection.getresponse()
            payload = response.read()
        except (OSError, http_client_errors()) as e:
            # A server that died mid-request: let the exit answer ("Process exited unexpectedly").
            if self.child.poll() is None:
                time.sleep(0.5)
            if self.child.poll() is not None:
                self.watch_child()
            return ('error', error_body('the function closed the connection without an answer: %s' % e), None)
        finally:
            connection.close()
        status = response.status
        fc_status = response.getheader('x-fc-status')
        failed = (fc_status.strip() != '200') if fc_status is not None else not (200 <= status < 300)
        if http is not None:
            if fc_status is not None and fc_status.strip() != '200':
                return ('error', error_body_of(payload), None)
            out = {}
            for name, value in response.getheaders():
                name = name.lower()
                if name not in HOP_BY_HOP and name != 'x-fc-status':
                    out.setdefault(name, []).append(value)
            return ('result', payload, {'status': status, 'headers': out})
        if failed:
            return ('error', error_body_of(payload), None)
        return ('result', payload, None)

    # -- the runtime API ---------------------------------------------------------------------------

    def pull(self, header, body):
        if header.get('http') is not None:
            return ('error', error_body('a custom runtime that pulls work through FC_RUNTIME_API serves events, '
                                        'not HTTP-trigger requests'), None)
        work = Work(header, body)
        with self.waiting_lock:
            self.waiting[header['requestId']] = work
        self.work.put(work)
        work.done.wait()
        return work.answer

    def serve_runtime_api(self):
        adapter = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = 'HTTP/1.1'

            def log_message(self, *args):
                pass

            def reply(self, status, body=b'{}', headers=()):
                self.send_response(status)
                self.send_header('content-type', 'application/json')
                self.send_header('content-length', str(len(body)))
                for name, value in headers:
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self):
                if self.path != API_PREFIX + 'invocation/next':
                    return self.reply(404, error_body('no such runtime API path: %s' % self.path))
                adapter.pulling = True
                adapter.ready.set()
                work = adapter.work.get()
                control = '/initialize' if work.header['type'] == 'initialize' else '/invoke'
                headers = list(adapter.common_headers(work.header, control).items())
                self.reply(200, work.body, headers)

            def do_POST(self):
                length = int(self.headers.get('content-length') or 0)
                body = self.rfile.read(length) if length else b''
                parts = self.path[len(API_PREFIX):].split('/') if self.path.startswith(API_PREFIX) else []
                if parts == ['init', 'error']:
                    adapter.init_error = error_body_of(body)
                    adapter.ready.set()
                    return self.reply(202)
                if len(parts) == 3 and parts[0] == 'invocation' and parts[2] in ('response', 'error'):
                    with adapter.waiting_lock:
                        work = adapter.waiting.pop(parts[1], None)
                    if work is None:
                        return self.reply(400, error_body('no invocation %s is waiting for an answer' % parts[1]))
                    work.answer = ('result', body, None) if parts[2] == 'response' else ('error', error_body_of(body), None)
                    work.done.set()
                    return self.reply(202)
                return self.reply(404, error_body('no such runtime API path: %s' % self.path))

        try:
            server = http.server.ThreadingHTTPServer(('127.0.0.1', self.api_port), Handler)
        except OSError:
            server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


def http_client(port):
    return http.client.HTTPConnection('127.0.0.1', port)


def http_client_errors():
    return http.client.HTTPException


def error_body(message):
    return json.dumps({'errorMessage': message}).encode()


def error_body_of(payload):
    """A JSON object answers as it is; anything else becomes FC's {"errorMessage": text}."""
    try:
        if isinstance(json.loads(payload), dict):
            return payload
    except ValueError:
        pass
    return error_body(payload.decode('utf-8', 'replace'))


if __name__ == '__main__':
    Adapter().run()
