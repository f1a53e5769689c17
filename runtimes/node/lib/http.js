'use strict';
// HTTP-trigger handlers: FC's `handler(request, response, context)`.
//
// request: an http.IncomingMessage (as on FC) yielding the body as a stream, with method, path, url
// (the request URI), clientIP, ip, headers (lower-case names; repeated values joined with ", ", except
// set-cookie, an array, and the single-valued names, which keep their first value: FC's rules), queries
// (a string, or an array when repeated), body (the body Buffer) and getHeader(name).
// response: statusCode, headers, headersMap, setStatusCode, setHeader, getHeader, deleteHeader, hasHeader,
// send(Buffer | string | Readable). Header names are case-insensitive and sent lower-case.

const http = require('http');
const { EventEmitter } = require('events');
const { Readable } = require('stream');

// Names with one value: a repeat is ignored (FC's runtime, after Node's http module).
const SINGLE = new Set([
  'age', 'authorization', 'content-length', 'content-type', 'etag', 'expires', 'from', 'host',
  'if-modified-since', 'if-unmodified-since', 'last-modified', 'location', 'max-forwards',
  'proxy-authorization', 'referer', 'retry-after', 'user-agent',
]);
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[\r\n\0]/;
const EMPTY = Buffer.alloc(0);

/** Stands in for the TCP socket frameworks look at (remoteAddress, encrypted, address()). */
class FakeSocket extends EventEmitter {
  constructor(ip) {
    super();
    this.remoteAddress = ip;
    this.remotePort = 0;
    this.remoteFamily = ip.indexOf(':') === -1 ? 'IPv4' : 'IPv6';
    this.encrypted = false;
    this.readable = false;
    this.writable = false;
    this.destroyed = false;
  }
  address() {
    return { address: '', family: this.remoteFamily, port: 0 };
  }
  destroy() {
    this.destroyed = true;
    return this;
  }
  end() {
    return this;
  }
  setTimeout() {
    return this;
  }
  setNoDelay() {
    return this;
  }
  setKeepAlive() {
    return this;
  }
}

const kBody = Symbol('ferric.body');

class FCRequest extends http.IncomingMessage {
  /** @param {object} p the invoke frame's `http`; @param {Buffer} body */
  constructor(p, body) {
    const ip = typeof p.clientIP === 'string' ? p.clientIP : '';
    super(new FakeSocket(ip));
    this.httpVersionMajor = 1;
    this.httpVersionMinor = 1;
    this.httpVersion = '1.1';
    this.complete = true;
    this.method = typeof p.method === 'string' ? p.method : '';
    this.url = typeof p.requestURI === 'string' ? p.requestURI : '';
    this.path = typeof p.path === 'string' && p.path !== '' ? p.path : '/';
    this.clientIP = ip;
    this.ip = ip;
    const headers = {};
    const raw = [];
    const hm = p.headers;
    if (hm !== null && typeof hm === 'object') {
      for (const name of Object.keys(hm)) {
        const values = Array.isArray(hm[name]) ? hm[name] : [hm[name]];
        const key = name.toLowerCase();
        for (let i = 0; i < values.length; i++) {
          const v = String(values[i]);
          raw.push(name, v);
          const prev = headers[key];
          if (prev === undefined) headers[key] = key === 'set-cookie' ? [v] : v;
          else if (key === 'set-cookie') prev.push(v);
          else if (!SINGLE.has(key)) headers[key] = prev + ', ' + v;
        }
      }
    }
    if (headers.host === undefined && typeof p.host === 'string' && p.host !== '') {
      headers.host = p.host;
      raw.push('host', p.host);
    }
    this.headers = headers;
    this.rawHeaders = raw;
    const queries = {};
    const qm = p.queries;
    if (qm !== null && typeof qm === 'object') {
      for (const name of Object.keys(qm)) {
        const v = qm[name];
        queries[name] = Array.isArray(v) ? (v.length === 1 ? v[0] : v.slice()) : v;
      }
    }
    this.queries = queries;
    this.body = body;
    this[kBody] = body;
  }

  getHeader(name) {
    return this.headers[String(name).toLowerCase()];
  }

  _read() {
    const body = this[kBody];
    this[kBody] = null;
    if (body !== null && body.length !== 0) this.push(body);
    this.push(null);
  }

  _destroy(err, cb) {
    if (!this.readableEnded) {
      this.aborted = true;
      this.emit('aborted');
    }
    cb(err);
  }
}

const kSend = Symbol('ferric.send');

class FCResponse {
  /** @param {(status: number, headers: object, body: string|Uint8Array|Readable|null) => void} send */
  constructor(send) {
    this.statusCode = 200;
    this.headers = {};
    this.headersMap = {};
    this.body = EMPTY;
    this._headersSent = false;
    this[kSend] = send;
  }

  get headersSent() {
    return this._headersSent;
  }

  setStatusCode(statusCode) {
    if (this._headersSent) throw new Error('can not set statusCode after it is sent');
    if (!Number.isInteger(statusCode)) throw new TypeError('statusCode should be a `integer`');
    if (statusCode < 100 || statusCode > 999) throw new RangeError(`Invalid status code: ${statusCode}`);
    this.statusCode = statusCode;
  }

  setHeader(headerKey, headerValue) {
    if (this._headersSent) throw new Error('can not set headers after they are sent');
    if (typeof headerKey !== 'string' || !TOKEN.test(headerKey)) {
      throw new TypeError('headerKey should be a `string` and a valid HTTP header name');
    }
    let values;
    if (typeof headerValue === 'string' || typeof headerValue === 'number') {
      values = [String(headerValue)];
    } else if (Array.isArray(headerValue)) {
      values = headerValue.map((v) => (typeof v === 'number' ? String(v) : v));
    }
    if (values === undefined || values.some((v) => typeof v !== 'string' || BAD_VALUE.test(v))) {
      throw new TypeError('headerValue should be a `string` or an array of `string` without CR, LF or NUL');
    }
    const key = headerKey.toLowerCase();
    this.headersMap[key] = values;
    this.headers[key] = typeof headerValue === 'string' ? headerValue : values;
    return this;
  }

  getHeader(headerKey) {
    return this.headers[String(headerKey).toLowerCase()];
  }

  deleteHeader(headerKey) {
    if (this._headersSent) throw new Error('can not set headers after they are sent');
    if (typeof headerKey !== 'string') throw new TypeError('headerKey should be a `string`');
    const key = headerKey.toLowerCase();
    delete this.headers[key];
    delete this.headersMap[key];
  }

  hasHeader(headerKey) {
    return this.headersMap[String(headerKey).toLowerCase()] !== undefined;
  }

  send(body) {
    if (this._headersSent) throw new Error('can not send multi times');
    if (body === undefined || body === null) {
      body = null;
    } else if (typeof body !== 'string' && !(body instanceof Uint8Array) && !isReadable(body)) {
      throw new TypeError('buffer should be a `Buffer` or a `string` or a `stream.Readable`');
    }
    const status = this.statusCode;
    if (!Number.isInteger(status) || status < 100 || status > 999) throw new RangeError(`Invalid status code: ${status}`);
    this._headersSent = true;
    this.body = body === null ? EMPTY : body;
    this[kSend](status, this.headersMap, body);
  }
}

function isReadable(v) {
  return v instanceof Readable || (typeof v === 'object' && typeof v.pipe === 'function' && typeof v.on === 'function');
}

/** Reads a stream to its end: cb(err, Buffer). More than `limit` bytes is an error. */
function collect(stream, limit, cb) {
  const parts = [];
  let size = 0;
  let done = false;
  const finish = (err, buf) => {
    if (done) return;
    done = true;
    cb(err, buf);
  };
  stream.on('data', (chunk) => {
    if (done) return;
    if (typeof chunk === 'string') chunk = Buffer.from(chunk);
    else if (!(chunk instanceof Uint8Array)) {
      finish(new TypeError('the response stream must yield strings or Buffers'));
      return;
    }
    size += chunk.length;
    if (size > limit) {
      finish(new RangeError(`Response payload size exceeded maximum allowed payload size (${limit} bytes).`));
      if (typeof stream.destroy === 'function') stream.destroy();
      return;
    }
    parts.push(chunk);
  });
  stream.once('end', () => finish(null, Buffer.concat(parts, size)));
  stream.once('error', (err) => finish(err || new Error('response stream failed')));
  if (typeof stream.resume === 'function') stream.resume();
}

module.exports = { FCRequest, FCResponse, isReadable, collect };
