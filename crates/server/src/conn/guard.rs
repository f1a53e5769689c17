//! The guard between a client's socket and hyper: it hands hyper only request heads hyper will accept
//! (see `framing`), and ends connections whose client stalls.
//!
//! Three clocks, one at a time, each running only while the guard waits for the client:
//! - idle: no request is being served and no byte of the next head has come (`keep_alive`);
//! - head: the first byte of a head has come but not its end (`header_timeout`, from that first byte,
//!   so a client trickling a byte at a time gains nothing);
//! - body: hyper wants body bytes and none come (`body_timeout`, restarted by every byte that does).
//!
//! A refused or timed-out head is not answered here: once no request is in flight, the guard reports
//! end-of-stream to hyper, hyper finishes the connection, and the connection task then writes the
//! refusal (`take_refusal`), so it never interleaves with a response hyper is still writing.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::{ready, Context, Poll};

use bytes::{Buf, BytesMut};
use ferric_types::ErrorCode;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

use super::framing::{Framer, Refusal};
use super::{Bite, Conn, ConnLimits, ConnStats};

pub struct Guarded<S> {
    io: S,
    conn: Arc<Conn>,
    stats: Arc<ConnStats>,
    limits: ConnLimits,
    framer: Framer,
    /// Bytes read from the client: first `accepted` of them cleared for hyper, the rest a head still
    /// arriving (so the rest always starts at a head).
    buf: BytesMut,
    accepted: usize,
    /// When the first byte of the head now arriving came.
    head_started: Option<Instant>,
    /// When hyper began waiting for body bytes that have not come.
    body_wait: Option<Instant>,
    sleep: Pin<Box<Sleep>>,
    /// The deadline `sleep` is set to, if it is in use.
    armed: Option<Instant>,
    /// Reading has ended (end of stream, a clock ran out, an eviction, a refusal): hyper sees the end,
    /// once no request is in flight (hyper drops requests in flight at the end of the stream).
    stopped: bool,
    /// The client itself ended the stream: hyper sees that at once, as it would without the guard.
    client_eof: bool,
    /// The answer owed for a refused or timed-out head.
    refusal: Option<Refusal>,
}

const READ_CHUNK: usize = 8 * 1024;
/// Below this much room in hyper's buffer, reads go through `buf` rather than one tiny read at a time.
const MIN_DIRECT_READ: usize = 1024;

impl<S> Guarded<S> {
    pub fn new(io: S, conn: Arc<Conn>, stats: Arc<ConnStats>, limits: ConnLimits) -> Guarded<S> {
        Guarded {
            io,
            conn,
            stats,
            framer: Framer::new(limits.head),
            limits,
            buf: BytesMut::new(),
            accepted: 0,
            head_started: None,
            body_wait: None,
            sleep: Box::pin(tokio::time::sleep_until(Instant::now())),
            armed: None,
            stopped: false,
            client_eof: false,
            refusal: None,
        }
    }

    /// The answer owed to the client, once hyper has finished with the connection.
    pub fn take_refusal(&mut self) -> Option<Refusal> {
        self.refusal.take()
    }

    pub fn get_mut(&mut self) -> &mut S {
        &mut self.io
    }

    fn refuse(&mut self, refusal: Refusal, bite: Bite) {
        self.stats.bite(bite, &refusal.message);
        self.refusal = Some(refusal);
        self.stopped = true;
    }

    /// Runs the framer over the unaccepted bytes in `buf`.
    fn frame_buffered(&mut self) {
        self.accepted += self.framer.advance(&self.buf[self.accepted..]);
        self.after_framing();
    }

    /// Starts or stops the head clock, and takes a refusal from the framer.
    fn after_framing(&mut self) {
        if self.accepted == self.buf.len() {
            self.head_started = None;
        } else if self.head_started.is_none() {
            self.head_started = Some(Instant::now());
        }
        if let Some(refusal) = self.framer.take_refusal() {
            let bite = match refusal.code {
                ErrorCode::UriTooLong => Bite::UriTooLong,
                ErrorCode::RequestHeaderFieldsTooLarge => Bite::HeadTooLarge,
                _ => Bite::BadHead,
            };
            self.refuse(refusal, bite);
        }
    }

    /// The deadline of the clock that runs now, or `None` when the client owes nothing (a request is
    /// being served and the next head has not begun).
    fn deadline(&mut self, now: Instant) -> Option<(Instant, Bite)> {
        if !self.framer.awaiting_head() {
            let since = *self.body_wait.get_or_insert(now);
            return Some((since + self.limits.body_timeout, Bite::BodyTimeout));
        }
        if let Some(started) = self.head_started {
            return Some((started + self.limits.header_timeout, Bite::HeaderTimeout));
        }
        self.conn.idle_since().map(|since| (since + self.limits.keep_alive, Bite::Idle))
    }
}

/// What a read from the client brought.
enum Filled {
    /// End of stream.
    Eof,
    /// Accepted bytes, already in hyper's buffer.
    ToHyper,
    /// Nothing for hyper yet: the bytes are a head still arriving (or a refused one).
    Held,
}

impl<S: AsyncRead + Unpin> Guarded<S> {
    /// Reads from the client: straight into hyper's buffer between heads, keeping there only what the
    /// framer accepts; after a partial head, into `buf` behind it.
    fn poll_fill(&mut self, cx: &mut Context<'_>, out: &mut ReadBuf<'_>) -> Poll<io::Result<Filled>> {
        if self.buf.is_empty() && out.remaining() >= MIN_DIRECT_READ {
            let before = out.filled().len();
            ready!(Pin::new(&mut self.io).poll_read(cx, out))?;
            let read = out.filled().len() - before;
            if read == 0 {
                return Poll::Ready(Ok(Filled::Eof));
            }
            let accepted = self.framer.advance(&out.filled()[before..]);
            if accepted < read {
                self.buf.extend_from_slice(&out.filled()[before + accepted..]);
                out.set_filled(before + accepted);
            }
            self.after_framing();
            return Poll::Ready(Ok(if accepted > 0 { Filled::ToHyper } else { Filled::Held }));
        }
        self.buf.reserve(READ_CHUNK);
        if ready!(tokio_util::io::poll_read_buf(Pin::new(&mut self.io), cx, &mut self.buf))? == 0 {
            return Poll::Ready(Ok(Filled::Eof));
        }
        self.frame_buffered();
        Poll::Ready(Ok(Filled::Held))
    }

    /// The client sent nothing: runs the clock that applies, and says whether it ran out.
    fn poll_clock(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Some((deadline, bite)) = self.deadline(Instant::now()) else {
            // Woken when the response in flight ends (`Conn::finish`).
            self.armed = None;
            return Poll::Pending;
        };
        if self.armed != Some(deadline) {
            self.sleep.as_mut().reset(deadline);
            self.armed = Some(deadline);
        }
        ready!(self.sleep.as_mut().poll(cx));
        self.armed = None;
        match bite {
            Bite::HeaderTimeout => {
                let secs = self.limits.header_timeout.as_secs_f64();
                let refusal =
                    Refusal::new(ErrorCode::RequestTimeout, format!("the request head did not arrive within {secs} s"));
                self.refuse(refusal, Bite::HeaderTimeout);
            }
            Bite::BodyTimeout => {
                let secs = self.limits.body_timeout.as_secs_f64();
                self.stats.bite(Bite::BodyTimeout, "");
                self.stopped = true;
                let message = format!("no request body bytes arrived for {secs} s");
                return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, message)));
            }
            other => {
                self.stats.bite(other, "");
                self.stopped = true;
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Guarded<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, out: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            if this.accepted > 0 {
                let n = this.accepted.min(out.remaining());
                out.put_slice(&this.buf[..n]);
                this.buf.advance(n);
                this.accepted -= n;
                return Poll::Ready(Ok(()));
            }
            if this.stopped {
                this.conn.waker.register(cx.waker());
                if !this.client_eof && this.conn.idle_since().is_none() {
                    return Poll::Pending;
                }
                return Poll::Ready(Ok(()));
            }
            if this.conn.evict.load(Ordering::Acquire) {
                this.stats.bite(Bite::Evicted, "");
                this.stopped = true;
                continue;
            }
            this.conn.waker.register(cx.waker());
            match this.poll_fill(cx, out) {
                Poll::Ready(Ok(filled)) => {
                    this.body_wait = None;
                    this.armed = None;
                    match filled {
                        Filled::Eof => {
                            this.stopped = true;
                            this.client_eof = true;
                        }
                        Filled::ToHyper => return Poll::Ready(Ok(())),
                        Filled::Held => {}
                    }
                }
                Poll::Ready(Err(e)) => return Poll::Ready(Err(e)),
                Poll::Pending => ready!(this.poll_clock(cx))?,
            }
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Guarded<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.io).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}
