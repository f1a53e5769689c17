'use strict';
// Function logs (PROTOCOL.md "log"): console.* become FC-format lines, process.stdout/stderr.write pass
// through as written; every piece of output becomes one `log` frame of the request whose code wrote it.

const util = require('util');

const LINE_LIMIT = 256 * 1024; // bytes of one log frame body; the rest is cut with a marker
const BACKLOG_LIMIT = 16 * 1024 * 1024; // unsent bytes on the socket above which log output is dropped
// Of the output dropped, the latest bytes are kept and sent when the backlog drains (or before the answer):
// the end of a log is what matters most. More than the invoker's exact tail (4 KiB).
const KEEP_LATEST = 64 * 1024;
const LEVELS = { error: 0, warn: 1, info: 2, verbose: 3, debug: 4, silly: 5 };
const kTarget = Symbol('ferric.logTarget');

let socket = null;
let writeFrame = null;
let current = null; // () => the request output is attributed to (has requestId, logHeader)
let consoleLevel = LEVELS.silly;

/** The `log` frame header for a request, built once per request. */
function logHeader(target) {
  let h = target.logHeader;
  if (h === null) {
    h = target.logHeader = '{"type":"log","requestId":' + JSON.stringify(target.requestId) + '}';
  }
  return h;
}

/** Sends `data` (string or bytes) as one log frame of `target` (an object with requestId and logHeader). */
function emit(target, data) {
  if (socket === null || socket.destroyed) return;
  const size = data.length; // string: UTF-16 units, a lower bound of its bytes
  if (size === 0) return;
  if (socket.writableLength > BACKLOG_LIMIT) {
    // The invoker is not keeping up: drop rather than grow without bound, keeping the latest output.
    keepLatest(target, data);
    return;
  }
  if (target.dropped) flushDropped(target);
  if (typeof data === 'string') {
    if (size > LINE_LIMIT / 3 && Buffer.byteLength(data) > LINE_LIMIT) data = truncate(Buffer.from(data));
  } else if (size > LINE_LIMIT) {
    data = truncate(data);
  }
  writeFrame(socket, logHeader(target), data);
}

/** Keeps `data` among the latest dropped output of `target`, dropping (and counting) what falls out. */
function keepLatest(target, data) {
  let d = target.dropped;
  if (!d) d = target.dropped = { bytes: 0, chunks: [], kept: 0 };
  // A copy: the caller may reuse its buffer.
  const chunk = typeof data === 'string' ? Buffer.from(data) : Buffer.from(data);
  d.chunks.push(chunk);
  d.kept += chunk.length;
  while (d.kept - d.chunks[0].length >= KEEP_LATEST) {
    const old = d.chunks.shift();
    d.kept -= old.length;
    d.bytes += old.length;
  }
  if (d.kept > KEEP_LATEST) {
    const cut = d.kept - KEEP_LATEST;
    d.chunks[0] = d.chunks[0].subarray(cut);
    d.kept -= cut;
    d.bytes += cut;
  }
}

/**
 * Sends what was kept of the dropped output, with the count of bytes dropped before it in the frame's
 * `dropped` field (the invoker marks the cut); called before a log line goes out and before any answer.
 */
function flushDropped(target) {
  const d = target.dropped;
  if (!d || socket === null || socket.destroyed) return;
  target.dropped = null;
  let header = logHeader(target);
  if (d.bytes > 0) header = header.slice(0, -1) + ',"dropped":' + d.bytes + '}';
  writeFrame(socket, header, Buffer.concat(d.chunks, d.kept));
}

function truncate(bytes) {
  let cut = LINE_LIMIT;
  // Do not split a UTF-8 sequence.
  while (cut > 0 && (bytes[cut] & 0xc0) === 0x80) cut--;
  const marker = `... [truncated: ${bytes.length} bytes in total]\n`;
  return Buffer.concat([bytes.subarray(0, cut), Buffer.from(marker)]);
}

/** One FC console line: `<ISO time> <requestId> [<level>] <message>\n`, inner `\n` → `\r`. */
function formatLine(level, requestId, message) {
  let line = new Date().toISOString() + ' ' + requestId + ' [' + level + '] ' + message;
  if (line.indexOf('\n') !== -1) line = line.replace(/\n/g, '\r');
  return line + '\n';
}

function consoleMethod(level, rank) {
  return function (...args) {
    if (rank > consoleLevel) return;
    const target = current();
    emit(target, formatLine(level, target.requestId, util.format(...args)));
  };
}

function patchStream(stream) {
  stream.write = function write(chunk, encoding, cb) {
    if (typeof encoding === 'function') {
      cb = encoding;
      encoding = undefined;
    }
    let data;
    if (typeof chunk === 'string') {
      data = encoding === undefined || encoding === 'utf8' || encoding === 'utf-8' ? chunk : Buffer.from(chunk, encoding);
    } else if (chunk instanceof Uint8Array) {
      data = chunk;
    } else {
      const err = new TypeError('The "chunk" argument must be of type string or an instance of Buffer or Uint8Array');
      err.code = 'ERR_INVALID_ARG_TYPE';
      throw err;
    }
    emit(current(), data);
    if (typeof cb === 'function') process.nextTick(cb);
    return true;
  };
}

/**
 * Redirects console and process.stdout/stderr to log frames.
 * @param {object} options socket, writeFrame, current
 */
function install(options) {
  socket = options.socket;
  writeFrame = options.writeFrame;
  current = options.current;
  console.log = consoleMethod('verbose', LEVELS.verbose);
  console.info = consoleMethod('info', LEVELS.info);
  console.warn = consoleMethod('warn', LEVELS.warn);
  console.error = consoleMethod('error', LEVELS.error);
  console.debug = consoleMethod('debug', LEVELS.debug);
  // FC's console.setLogLevel(level): lines below `level` are not written.
  console.setLogLevel = function setLogLevel(level) {
    const rank = LEVELS[String(level).toLowerCase()];
    if (rank !== undefined) consoleLevel = rank;
  };
  patchStream(process.stdout);
  patchStream(process.stderr);
}

/** `context.logger`: FC's ContextLog. Only data fields are own properties, so JSON.stringify(context) works. */
class ContextLogger {
  constructor(target) {
    this.requestId = target.requestId;
    this.logLevel = 'silly';
    this[kTarget] = target;
  }
  setLogLevel(level) {
    const lv = String(level).toLowerCase();
    if (LEVELS[lv] !== undefined) this.logLevel = lv;
  }
  log(...args) {
    emit(this[kTarget], formatLine(this.logLevel, this.requestId, util.format(...args)));
  }
  debug(...args) {
    emit(this[kTarget], formatLine('debug', this.requestId, util.format(...args)));
  }
  info(...args) {
    emit(this[kTarget], formatLine('info', this.requestId, util.format(...args)));
  }
  warn(...args) {
    emit(this[kTarget], formatLine('warn', this.requestId, util.format(...args)));
  }
  error(...args) {
    emit(this[kTarget], formatLine('error', this.requestId, util.format(...args)));
  }
}

/** Writes one FC-format line for `target` regardless of the console level (runtime messages). */
function line(target, level, text) {
  emit(target, formatLine(level, target.requestId, text));
}

module.exports = { install, emit, line, flushDropped, formatLine, ContextLogger };
