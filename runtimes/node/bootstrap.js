'use strict';
// Ferric's Node.js runtime: runs one instance of one FC function and speaks runtimes/PROTOCOL.md over the
// control socket on fd 3. Only Node built-ins are used.
//
// Files (all embedded in the ferric binary, written under <data-dir>/runtimes/node/):
//   bootstrap.js                      this file: control loop, invoke/initialize, results and errors
//   lib/frames.js                     frame reader/writer
//   lib/logging.js                    console / stdout / stderr → `log` frames, context.logger
//   lib/context.js                    the `context` object
//   lib/loader.js                     handler string → function (require / import, cached)
//   lib/http.js                       HTTP-trigger request/response objects (loaded on first HTTP invoke)
//   node_modules/raw-body/index.js    FC provides `raw-body` to function code (found through NODE_PATH)
//   node_modules/raw-body/package.json
//
// Behaviour PROTOCOL.md leaves to the runtime (all of it: runtimes/node/README.md, not embedded):
// - Event handlers: the first of callback(...) / the returned promise's settlement wins. A promise that
//   resolves to `undefined` from a handler that declares the callback (3+ parameters, or a rest parameter)
//   waits for the callback; a non-promise return answers at once unless the handler declares the callback.
// - A synchronous throw or a rejection is UnhandledInvocationError; so is any load failure, and any
//   initializer failure (callback(err) included).
// - Uncaught exceptions and unhandled rejections never end the process. One raised inside a request
//   (AsyncLocalStorage) fails that request if it is still pending, else is logged to it as an [error] line.
//   One raised outside any request fails the most recently started pending request, if any, else is logged.
// - Every error answer is also logged to the request as an FC `[error]` line carrying the error JSON.

const net = require('net');
const { AsyncLocalStorage } = require('async_hooks');
const util = require('util');
const { FrameReader, writeFrame, MAX_FRAME } = require('./lib/frames');
const logging = require('./lib/logging');
const { configure, Context } = require('./lib/context');
const loader = require('./lib/loader');

const fd = parseInt(process.env.FERRIC_CONTROL_FD, 10);
delete process.env.FERRIC_CONTROL_FD;
if (!(fd >= 0)) {
  process._rawDebug('ferric bootstrap: FERRIC_CONTROL_FD is not set');
  process.exit(2);
}

const HANDLED = 'HandledInvocationError';
const UNHANDLED = 'UnhandledInvocationError';
const MAX_BODY = MAX_FRAME - 64 * 1024; // result bodies above this are refused (the frame must fit)

const als = new AsyncLocalStorage();
const pending = new Map(); // id → Request, in start order
let latest = { requestId: '', logHeader: null, dropped: null }; // output outside any request goes here
let handlerSpec = process.env.FC_FUNCTION_HANDLER || '';
let initializerSpec = process.env.FC_FUNCTION_INITIALIZER || '';
let httpLib = null;

/** One initialize or invoke. Also the log target of the output its code writes. */
class Request {
  constructor(header) {
    this.id = header.id;
    this.requestId = typeof header.requestId === 'string' ? header.requestId : String(header.requestId);
    this.credentials = header.credentials;
    this.service = header.service; // the caller's qualifier, for the context (lib/context.js)
    this.tracing = header.tracing;
    this.logHeader = null;
    this.dropped = null; // output dropped while the invoker was behind (lib/logging.js)
    this.done = false; // answered (or its answer decided: an HTTP body stream being read)
  }
}

// ---------------------------------------------------------------------------------------------------
// Control socket

const socket = new net.Socket({ fd, readable: true, writable: true });
const reader = new FrameReader(onFrame, (reason) => {
  process._rawDebug(`ferric bootstrap: malformed frame from the invoker (${reason}); closing`);
  socket.destroy();
  process.exit(1);
});
socket.on('data', (chunk) => reader.push(chunk));
socket.on('end', () => process.exit(0));
socket.on('close', () => process.exit(0));
socket.on('error', () => process.exit(1));

logging.install({ socket, writeFrame, current: () => als.getStore() || latest });
process.on('uncaughtException', stray);
process.on('unhandledRejection', stray);

writeFrame(socket, JSON.stringify({ type: 'ready', runtime: 'node ' + process.version }), null);

function onFrame(header, body) {
  switch (header.type) {
    case 'invoke': {
      const req = new Request(header);
      pending.set(req.id, req);
      latest = req;
      if (header.http != null) als.run(req, invokeHttp, req, header.http, body);
      else als.run(req, invokeEvent, req, body);
      return;
    }
    case 'initialize': {
      const req = new Request(header);
      pending.set(req.id, req);
      latest = req;
      als.run(req, initialize, req);
      return;
    }
    case 'specialize':
      specialize(header);
      return;
    case 'init':
      configure(header);
      if (header.function) {
        if (typeof header.function.handler === 'string') handlerSpec = header.function.handler;
        initializerSpec = typeof header.function.initializer === 'string' ? header.function.initializer : '';
      }
      return;
    default:
      return; // unknown messages are ignored
  }
}

/**
 * A stem cell (PROTOCOL.md "specialize"): started generic, it takes its function's environment here and
 * moves into the code directory mounted over the empty one it started in; `init` follows as usual.
 */
function specialize(header) {
  const env = header.env !== null && typeof header.env === 'object' ? header.env : {};
  for (const key of Object.keys(process.env)) delete process.env[key];
  for (const [key, value] of Object.entries(env)) process.env[key] = String(value);
  handlerSpec = process.env.FC_FUNCTION_HANDLER || handlerSpec;
  initializerSpec = process.env.FC_FUNCTION_INITIALIZER || '';
  try {
    process.chdir(process.env.FC_FUNC_CODE_PATH || process.cwd());
  } catch {}
}

// ---------------------------------------------------------------------------------------------------
// Answers

/** Body bytes for a returned value (PROTOCOL.md "result"), or throws if it cannot be encoded. */
function encodeResult(v) {
  if (v === undefined || v === null) return null;
  switch (typeof v) {
    case 'string':
      return v;
    case 'object':
      if (v instanceof Uint8Array) return v;
      if (v instanceof ArrayBuffer) return new Uint8Array(v);
      v = JSON.stringify(v);
      return v === undefined ? null : v;
    default:
      return String(v); // number, boolean, bigint, ...
  }
}

function isError(e) {
  return e instanceof Error || util.types.isNativeError(e);
}

/** The string form of a non-Error value passed as an error (FC's errorMessage). */
function errorText(v) {
  if (typeof v === 'string') return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString();
  if (v !== null && typeof v === 'object') {
    try {
      const s = JSON.stringify(v);
      if (s !== undefined) return s;
    } catch {}
  }
  return String(v);
}

/** FC's error JSON for a thrown / passed value. */
function errorBody(e) {
  if (isError(e)) {
    let stack;
    try {
      stack = e.stack;
    } catch {}
    const name = e.name === undefined ? 'Error' : String(e.name);
    const message = e.message === undefined ? '' : String(e.message);
    return JSON.stringify({
      errorMessage: message,
      errorType: name,
      stackTrace: typeof stack === 'string' ? stack.split('\n') : [`${name}: ${message}`],
    });
  }
  return JSON.stringify({ errorMessage: errorText(e) });
}

const ERROR_LOG_LIMIT = 4096;

function sendError(req, errorType, body) {
  req.done = true;
  pending.delete(req.id);
  logging.flushDropped(req);
  const text = body.length > ERROR_LOG_LIMIT ? body.slice(0, ERROR_LOG_LIMIT) + '... Truncated by FunctionCompute' : body;
  logging.line(req, 'error', text);
  writeFrame(socket, '{"type":"error","id":' + req.id + ',"errorType":"' + errorType + '"}', body);
}

function fail(req, errorType, e) {
  if (req.done) return logStray(req, e);
  sendError(req, errorType, errorBody(e));
}

function sendResult(req, body, httpHead) {
  req.done = true;
  pending.delete(req.id);
  logging.flushDropped(req);
  const header = httpHead === undefined
    ? '{"type":"result","id":' + req.id + '}'
    : '{"type":"result","id":' + req.id + ',"http":' + httpHead + '}';
  if (!writeFrame(socket, header, body)) {
    sendError(req, UNHANDLED, JSON.stringify({
      errorMessage: `Response payload size exceeded maximum allowed payload size (${MAX_BODY} bytes).`,
    }));
  }
}

function succeed(req, value) {
  if (req.done) return;
  let body;
  try {
    body = encodeResult(value);
  } catch (e) {
    return sendError(req, UNHANDLED, errorBody(e));
  }
  sendResult(req, body, undefined);
}

function logStray(target, e) {
  let text;
  if (isError(e)) {
    try {
      text = String(e.stack || e);
    } catch {
      text = String(e.message);
    }
  } else {
    text = errorText(e);
  }
  logging.line(target, 'error', 'Uncaught ' + text);
}

/** uncaughtException / unhandledRejection: never fatal (see the header comment). */
function stray(e) {
  const store = als.getStore();
  if (store !== undefined) {
    if (!store.done) return sendError(store, UNHANDLED, errorBody(e));
    return logStray(store, e);
  }
  let target = null;
  for (const r of pending.values()) if (!r.done) target = r;
  if (target !== null) return sendError(target, UNHANDLED, errorBody(e));
  logStray(latest, e);
}

// ---------------------------------------------------------------------------------------------------
// Running user code

function isThenable(v) {
  return v !== null && (typeof v === 'object' || typeof v === 'function') && typeof v.then === 'function';
}

/** Calls `run(entry)` once `spec` is loaded, or answers the load failure. */
function withEntry(req, spec, callbackIndex, run) {
  const entry = loader.load(spec, callbackIndex, errorBody);
  if (entry.fn !== null) return run(entry);
  if (entry.error !== null) return sendError(req, UNHANDLED, entry.error);
  entry.pending.then(() => {
    if (entry.fn !== null) run(entry);
    else sendError(req, UNHANDLED, entry.error);
  });
}

let handlerEntry = null; // the warm path skips the loader

function invokeEvent(req, event) {
  if (handlerEntry !== null) return callEvent(req, handlerEntry, event);
  withEntry(req, handlerSpec, 2, (entry) => {
    handlerEntry = entry;
    callEvent(req, entry, event);
  });
}

function callEvent(req, entry, event) {
  const callback = (err, data) => {
    if (req.done) return;
    if (err !== undefined && err !== null) sendError(req, HANDLED, errorBody(err));
    else succeed(req, data);
  };
  let ret;
  try {
    ret = entry.fn(event, new Context(req, req.credentials), callback);
  } catch (e) {
    return fail(req, UNHANDLED, e);
  }
  if (isThenable(ret)) {
    ret.then(
      (v) => {
        if (req.done || (v === undefined && entry.wantsCallback)) return;
        succeed(req, v);
      },
      (e) => fail(req, UNHANDLED, e),
    );
  } else if (!entry.wantsCallback && !req.done) {
    succeed(req, ret);
  }
}

function initialize(req) {
  if (initializerSpec === '') return sendResult(req, null, undefined);
  withEntry(req, initializerSpec, 1, (entry) => {
    const callback = (err) => {
      if (req.done) return;
      if (err !== undefined && err !== null) sendError(req, UNHANDLED, errorBody(err));
      else sendResult(req, null, undefined);
    };
    let ret;
    try {
      ret = entry.fn(new Context(req, req.credentials), callback);
    } catch (e) {
      return fail(req, UNHANDLED, e);
    }
    if (isThenable(ret)) {
      ret.then(
        (v) => {
          if (req.done || (v === undefined && entry.wantsCallback)) return;
          sendResult(req, null, undefined);
        },
        (e) => fail(req, UNHANDLED, e),
      );
    } else if (!entry.wantsCallback && !req.done) {
      sendResult(req, null, undefined);
    }
  });
}

function invokeHttp(req, params, body) {
  if (httpLib === null) httpLib = require('./lib/http');
  if (handlerEntry !== null) return callHttp(req, handlerEntry, params, body);
  withEntry(req, handlerSpec, 2, (entry) => {
    handlerEntry = entry;
    callHttp(req, entry, params, body);
  });
}

function callHttp(req, entry, params, body) {
  let request;
  try {
    request = new httpLib.FCRequest(params, body);
  } catch (e) {
    return fail(req, UNHANDLED, e);
  }
  const response = new httpLib.FCResponse((status, headers, out) => {
    if (req.done) return;
    req.done = true; // decided: later throws are only logged
    const head = JSON.stringify({ status, headers });
    if (out === null || typeof out === 'string' || out instanceof Uint8Array) return sendResult(req, out, head);
    httpLib.collect(out, MAX_BODY, (err, buf) => {
      if (err) sendError(req, UNHANDLED, errorBody(err));
      else sendResult(req, buf, head);
    });
  });
  let ret;
  try {
    ret = entry.fn(request, response, new Context(req, req.credentials));
  } catch (e) {
    return fail(req, UNHANDLED, e);
  }
  if (isThenable(ret)) ret.then(undefined, (e) => fail(req, UNHANDLED, e));
}
