'use strict';
// Frame codec of runtimes/PROTOCOL.md:
//   u32 BE total length N (4 + header length + body length) | u32 BE header length H | H bytes JSON | body
//
// Reading is incremental and linear: complete frames are sliced straight out of the chunk the socket
// delivered (no copy); only a frame that spans chunks is assembled, with one Buffer.concat once all of
// its bytes have arrived.

const MAX_FRAME = 64 * 1024 * 1024 + 64 * 1024; // largest N accepted (and sent)
const SMALL_BODY = 64 * 1024; // bodies up to this size are copied into the frame buffer: one write

class FrameReader {
  /**
   * @param {(header: object, body: Buffer) => void} onFrame
   * @param {(reason: string) => void} onMalformed called once; no frame is delivered afterwards
   */
  constructor(onFrame, onMalformed) {
    this.onFrame = onFrame;
    this.onMalformed = onMalformed;
    this.parts = []; // chunks of an incomplete frame
    this.size = 0; // bytes in parts
    this.need = 0; // bytes the frame in parts needs in total (0: not known yet)
    this.broken = false;
  }

  push(chunk) {
    if (this.broken) return;
    if (this.size !== 0) {
      this.parts.push(chunk);
      this.size += chunk.length;
      if (this.need === 0) {
        if (this.size < 4) return;
        if (this.parts[0].length < 4) this.parts = [Buffer.concat(this.parts, this.size)];
        const n = this.parts[0].readUInt32BE(0);
        if (n < 4 || n > MAX_FRAME) return this.fail(`frame length ${n}`);
        this.need = 4 + n;
      }
      if (this.size < this.need) return;
      chunk = this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.size);
      this.parts = [];
      this.size = 0;
      this.need = 0;
    }
    this.scan(chunk);
  }

  scan(buf) {
    const len = buf.length;
    let off = 0;
    while (len - off >= 4) {
      const n = buf.readUInt32BE(off);
      if (n < 4 || n > MAX_FRAME) return this.fail(`frame length ${n}`);
      if (len - off - 4 < n) {
        this.need = 4 + n;
        break;
      }
      const h = buf.readUInt32BE(off + 4);
      if (h > n - 4) return this.fail(`header length ${h} > ${n - 4}`);
      const hs = off + 8;
      const bs = hs + h;
      const end = off + 4 + n;
      let header;
      try {
        header = JSON.parse(buf.toString('utf8', hs, bs));
      } catch (e) {
        return this.fail(`header is not JSON: ${e.message}`);
      }
      if (header === null || typeof header !== 'object') return this.fail('header is not an object');
      off = end;
      this.onFrame(header, buf.subarray(bs, end));
      if (this.broken) return;
    }
    if (off < len) {
      const rest = off === 0 ? buf : buf.subarray(off);
      this.parts.push(rest);
      this.size = rest.length;
      if (rest.length < 4) this.need = 0;
    } else {
      this.need = 0;
    }
  }

  fail(reason) {
    this.broken = true;
    this.parts = [];
    this.size = 0;
    this.onMalformed(reason);
  }
}

/**
 * Writes one frame. `header` is the JSON text of the header; `body` is null, a string (sent as UTF-8) or a
 * Uint8Array. Small frames go out as one buffer in one write; big bodies are written uncopied behind the
 * prefix inside a cork so they leave in a single writev.
 * Returns false (and writes nothing) when the frame would exceed the protocol's limit.
 */
function writeFrame(socket, header, body) {
  const hl = Buffer.byteLength(header);
  let bl = 0;
  if (body !== null) bl = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  if (4 + hl + bl > MAX_FRAME) return false;
  if (bl <= SMALL_BODY) {
    const buf = Buffer.allocUnsafe(8 + hl + bl);
    buf.writeUInt32BE(4 + hl + bl, 0);
    buf.writeUInt32BE(hl, 4);
    buf.write(header, 8);
    if (bl !== 0) {
      if (typeof body === 'string') buf.write(body, 8 + hl);
      else buf.set(body, 8 + hl);
    }
    socket.write(buf);
    return true;
  }
  const pre = Buffer.allocUnsafe(8 + hl);
  pre.writeUInt32BE(4 + hl + bl, 0);
  pre.writeUInt32BE(hl, 4);
  pre.write(header, 8);
  socket.cork();
  socket.write(pre);
  socket.write(typeof body === 'string' ? Buffer.from(body) : body);
  socket.uncork();
  return true;
}

module.exports = { FrameReader, writeFrame, MAX_FRAME };
