//! Where each request of a connection begins and ends, read off the bytes before hyper sees them.
//!
//! hyper answers a request head it cannot parse (too large, a path too long, a header that is not text)
//! by itself, with an empty body and none of our headers. To answer those in FC's format instead, the
//! connection guard checks every head first, with the same parser (httparse) and the same framing rules as
//! hyper's HTTP/1 server, and hands hyper only heads that hyper will accept. Between heads it follows the
//! body (`Content-Length`, or chunked coding as hyper decodes it) so that it knows where the next head
//! starts, also for pipelined requests.
//!
//! The framer never holds bytes itself: [`Framer::advance`] says how many bytes of the given input belong
//! to heads it accepted and bodies that follow them; the caller keeps the rest (a head still arriving)
//! and offers it again, with more, later. After a bad head it accepts nothing more and holds the
//! [`Refusal`] for the caller to take.

use std::mem::MaybeUninit;

use ferric_types::{ErrorCode, FcError};

/// Header slots kept on the stack while a head is parsed; a larger `max_headers` uses the heap.
const STACK_HEADERS: usize = 100;

/// Bounds on a request head, below hyper's own so that ours always bite first.
#[derive(Debug, Clone, Copy)]
pub struct HeadLimits {
    /// The whole head: request line and headers.
    pub max_head_bytes: usize,
    /// The request target (path and query).
    pub max_uri_bytes: usize,
    /// Header lines; hyper's default is 100.
    pub max_headers: usize,
}

impl Default for HeadLimits {
    fn default() -> Self {
        // 64 KiB holds any head an SDK sends (the largest are a few KiB of x-fc-* headers) and is well
        // below hyper's 400 KiB buffer; 16 KiB of path and query is twice nginx's default line.
        HeadLimits { max_head_bytes: 64 * 1024, max_uri_bytes: 16 * 1024, max_headers: 100 }
    }
}

/// A head the server refuses: the FC error it is answered with (which carries the status).
pub type Refusal = FcError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Waiting for (the rest of) a request head.
    Head,
    /// Inside a body of known length: this many bytes are left.
    Length(u64),
    /// Inside a chunked body.
    Chunked(Chunk),
    /// A head was refused; nothing after it is read.
    Refused,
}

/// hyper's chunked decoder states (`proto/h1/decode.rs`), without its checks: a malformed chunk is
/// hyper's to refuse, and the connection ends then anyway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    Start,
    Size(u64),
    SizeLws(u64),
    Extension(u64),
    SizeLf(u64),
    Body(u64),
    BodyCr,
    BodyLf,
    Trailer,
    TrailerLf,
    EndCr,
    EndLf,
}

#[derive(Debug)]
pub struct Framer {
    state: State,
    limits: HeadLimits,
    /// How far into the pending head the end-of-head search has already looked.
    scanned: usize,
    refusal: Option<Refusal>,
}

impl Framer {
    pub fn new(limits: HeadLimits) -> Framer {
        Framer { state: State::Head, limits, scanned: 0, refusal: None }
    }

    /// True between requests or while a head arrives: the only times a connection may be idle.
    pub fn awaiting_head(&self) -> bool {
        self.state == State::Head
    }

    /// The refusal of the last head, once.
    pub fn take_refusal(&mut self) -> Option<Refusal> {
        self.refusal.take()
    }

    /// Consumes `input` (which starts where the last call stopped accepting) and returns how many of its
    /// bytes are accepted. A partial head at the end is left unaccepted, to be offered again with more; a
    /// bad head is left unaccepted too, and refused.
    pub fn advance(&mut self, input: &[u8]) -> usize {
        let mut at = 0;
        while at < input.len() {
            match self.state {
                State::Refused => return at,
                State::Head => match self.head(&input[at..]) {
                    Ok(Some((len, next))) => {
                        at += len;
                        self.state = next;
                        self.scanned = 0;
                    }
                    Ok(None) => return at,
                    Err(refusal) => {
                        self.state = State::Refused;
                        self.refusal = Some(refusal);
                        return at;
                    }
                },
                State::Length(left) => {
                    let take = left.min((input.len() - at) as u64);
                    at += take as usize;
                    self.state = if take == left { State::Head } else { State::Length(left - take) };
                }
                State::Chunked(Chunk::Body(left)) => {
                    let take = left.min((input.len() - at) as u64);
                    at += take as usize;
                    let next = if take == left { Chunk::BodyCr } else { Chunk::Body(left - take) };
                    self.state = State::Chunked(next);
                }
                State::Chunked(chunk) => {
                    self.state = step(chunk, input[at]);
                    at += 1;
                }
            }
        }
        at
    }

    /// A complete, acceptable head at the start of `input`: its length and the body framing after it.
    fn head(&mut self, input: &[u8]) -> Result<Option<(usize, State)>, Refusal> {
        // Parse only once the end of the head can be there, so a head sent a byte at a time costs linear
        // time; httparse itself skips the empty lines a client may send between requests.
        let from = self.scanned.saturating_sub(3);
        let ended = find_head_end(&input[from..]).is_some();
        self.scanned = input.len();
        if !ended {
            return self.check_partial(input).map(|()| None);
        }
        // Room for the headers without a heap allocation per request in the usual case (the default
        // limit); httparse fills only what it uses, so nothing needs initialising either.
        let mut on_stack = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; STACK_HEADERS];
        let mut on_heap = Vec::new();
        let headers = if self.limits.max_headers <= STACK_HEADERS {
            &mut on_stack[..self.limits.max_headers]
        } else {
            on_heap.resize_with(self.limits.max_headers, MaybeUninit::uninit);
            &mut on_heap[..]
        };
        let mut request = httparse::Request::new(&mut []);
        let len = match request.parse_with_uninit_headers(input, headers) {
            Ok(httparse::Status::Complete(len)) => len,
            Ok(httparse::Status::Partial) => return self.check_partial(input).map(|()| None),
            Err(httparse::Error::TooManyHeaders) => {
                return Err(FcError::new(
                    ErrorCode::RequestHeaderFieldsTooLarge,
                    format!("a request may carry at most {} headers", self.limits.max_headers),
                ))
            }
            Err(e) => return Err(FcError::invalid(format!("the request is not valid HTTP/1.1: {}", describe(e)))),
        };
        let path = request.path.unwrap_or("");
        if path.len() > self.limits.max_uri_bytes {
            return Err(uri_too_long(self.limits.max_uri_bytes));
        }
        if len > self.limits.max_head_bytes {
            return Err(head_too_large(self.limits.max_head_bytes));
        }
        let method = request.method.unwrap_or("");
        if axum::http::Method::from_bytes(method.as_bytes()).is_err() {
            return Err(FcError::invalid("the request method is not valid"));
        }
        if method == "CONNECT" {
            return Err(FcError::new(ErrorCode::MethodNotAllowed, "CONNECT is not supported"));
        }
        if axum::http::Uri::try_from(path).is_err() {
            return Err(FcError::invalid("the request path is not a valid URI"));
        }
        let http11 = request.version == Some(1);
        let next = framing(request.headers, http11)?;
        Ok(Some((len, next)))
    }

    fn check_partial(&self, input: &[u8]) -> Result<(), Refusal> {
        // The request line alone is the method, the target and the version: if no line end has come after
        // more than the target may hold, the target is too long.
        let line_end = input.iter().position(|&b| b == b'\n');
        if line_end.is_none() && input.len() > self.limits.max_uri_bytes + 32 {
            return Err(uri_too_long(self.limits.max_uri_bytes));
        }
        if input.len() > self.limits.max_head_bytes {
            return Err(head_too_large(self.limits.max_head_bytes));
        }
        Ok(())
    }
}

/// The body after a head, by hyper's rules: `Transfer-Encoding` wins over `Content-Length` and must end
/// in `chunked`; HTTP/1.0 may not use it; several `Content-Length` lines must agree.
fn framing(headers: &[httparse::Header<'_>], http11: bool) -> Result<State, Refusal> {
    let mut chunked = None;
    let mut length: Option<u64> = None;
    for header in headers {
        if let Err(e) = axum::http::HeaderName::from_bytes(header.name.as_bytes()) {
            return Err(FcError::invalid(format!("header name is not valid: {e}")));
        }
        if header.name.eq_ignore_ascii_case("transfer-encoding") {
            if !http11 {
                return Err(FcError::invalid("HTTP/1.0 requests cannot use Transfer-Encoding"));
            }
            let last = header.value.rsplit(|&b| b == b',').next().unwrap_or(b"");
            chunked = Some(last.trim_ascii().eq_ignore_ascii_case(b"chunked"));
        } else if header.name.eq_ignore_ascii_case("content-length") && chunked.is_none() {
            let value = std::str::from_utf8(header.value)
                .ok()
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()));
            let Some(n) = value.and_then(|v| v.parse::<u64>().ok()).filter(|n| *n < u64::MAX) else {
                return Err(FcError::invalid("Content-Length is not a valid length"));
            };
            if length.is_some_and(|prev| prev != n) {
                return Err(FcError::invalid("the request carries different Content-Length values"));
            }
            length = Some(n);
        }
    }
    match (chunked, length) {
        (Some(true), _) => Ok(State::Chunked(Chunk::Start)),
        (Some(false), _) => Err(FcError::invalid("Transfer-Encoding must end with chunked")),
        (None, Some(n)) if n > 0 => Ok(State::Length(n)),
        (None, _) => Ok(State::Head),
    }
}

fn step(chunk: Chunk, byte: u8) -> State {
    let hex = |b: u8| (b as char).to_digit(16).map(u64::from);
    let next = match (chunk, byte) {
        (Chunk::Start, b) => match hex(b) {
            Some(d) => Chunk::Size(d),
            None => return State::Head,
        },
        (Chunk::Size(n), b) if hex(b).is_some() => {
            Chunk::Size(n.saturating_mul(16).saturating_add(hex(b).unwrap_or(0)))
        }
        (Chunk::Size(n) | Chunk::SizeLws(n), b'\t' | b' ') => Chunk::SizeLws(n),
        (Chunk::Size(n) | Chunk::SizeLws(n) | Chunk::Extension(n), b';') => Chunk::Extension(n),
        (Chunk::Size(n) | Chunk::SizeLws(n) | Chunk::Extension(n), b'\r') => Chunk::SizeLf(n),
        (Chunk::Extension(n), b) if b != b'\n' => Chunk::Extension(n),
        (Chunk::SizeLf(0), b'\n') => Chunk::EndCr,
        (Chunk::SizeLf(n), b'\n') => Chunk::Body(n),
        (Chunk::BodyCr, b'\r') => Chunk::BodyLf,
        (Chunk::BodyLf, b'\n') => Chunk::Start,
        (Chunk::EndCr, b'\r') => Chunk::EndLf,
        (Chunk::Trailer, b'\r') => Chunk::TrailerLf,
        (Chunk::EndCr | Chunk::Trailer, _) => Chunk::Trailer,
        (Chunk::TrailerLf, b'\n') => Chunk::EndCr,
        (Chunk::EndLf, b'\n') => return State::Head,
        // hyper refuses the body here and the connection ends: what follows is never a head it reads.
        _ => return State::Head,
    };
    State::Chunked(next)
}

/// The end of a head: an empty line, with or without its carriage return.
fn find_head_end(bytes: &[u8]) -> Option<usize> {
    bytes.windows(2).position(|w| w == b"\n\n").or_else(|| bytes.windows(3).position(|w| w == b"\n\r\n"))
}

fn uri_too_long(max: usize) -> Refusal {
    FcError::new(ErrorCode::UriTooLong, format!("the request path and query exceed {max} bytes"))
}

fn head_too_large(max: usize) -> Refusal {
    FcError::new(ErrorCode::RequestHeaderFieldsTooLarge, format!("the request line and headers exceed {max} bytes"))
}

fn describe(e: httparse::Error) -> &'static str {
    match e {
        httparse::Error::HeaderName => "invalid header name",
        httparse::Error::HeaderValue => "a header value is not text",
        httparse::Error::NewLine => "invalid line ending",
        httparse::Error::Status => "invalid status",
        httparse::Error::Token => "invalid method or path",
        httparse::Error::TooManyHeaders => "too many headers",
        httparse::Error::Version => "invalid HTTP version",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ferric_types::ErrorCode::*;

    fn framer() -> Framer {
        Framer::new(HeadLimits { max_head_bytes: 1024, max_uri_bytes: 100, max_headers: 8 })
    }

    /// What a fresh framer makes of `input`: the bytes accepted, or the refusal.
    fn refusal(input: &[u8]) -> Refusal {
        let mut f = framer();
        let accepted = f.advance(input);
        assert_eq!(accepted, 0);
        f.take_refusal().expect("refused")
    }

    /// A head of `n` header lines.
    fn head_with_headers(n: usize) -> Vec<u8> {
        let mut head = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..n {
            head.extend_from_slice(format!("x-h{i}: v\r\n").as_bytes());
        }
        head.extend_from_slice(b"\r\n");
        head
    }

    #[test]
    fn header_limits_above_and_below_the_stack_slots_hold_exactly() {
        // Up to STACK_HEADERS the header slots live on the stack, above it on the heap: the limit is the
        // same rule either way.
        for max_headers in [8, STACK_HEADERS, STACK_HEADERS + 50] {
            let limits = HeadLimits { max_head_bytes: 64 * 1024, max_uri_bytes: 100, max_headers };
            let fits = head_with_headers(max_headers);
            assert_eq!(Framer::new(limits).advance(&fits), fits.len(), "{max_headers} headers fit");
            let mut f = Framer::new(limits);
            assert_eq!(f.advance(&head_with_headers(max_headers + 1)), 0);
            assert_eq!(f.take_refusal().expect("refused").code, RequestHeaderFieldsTooLarge, "{max_headers}");
        }
    }

    #[test]
    fn accepts_a_head_without_body_and_stops_at_the_next_partial_head() {
        let mut f = framer();
        let first = b"GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
        let mut input = first.to_vec();
        input.extend_from_slice(b"GET /b HTT");
        assert_eq!(f.advance(&input), first.len());
        assert!(f.awaiting_head());
        assert_eq!(f.advance(b"GET /b HTTP/1.1\r\n\r\n"), 19);
    }

    #[test]
    fn follows_a_sized_body_across_reads() {
        let mut f = framer();
        let head = b"POST / HTTP/1.1\r\ncontent-length: 10\r\n\r\n";
        let mut input = head.to_vec();
        input.extend_from_slice(b"01234");
        assert_eq!(f.advance(&input), input.len());
        assert!(!f.awaiting_head());
        // The rest of the body, then a pipelined bad head: the body is accepted, the head refused.
        assert_eq!(f.advance(b"56789GET / HTTP/1.1\r\nbad\x01: v\r\n\r\n"), 5);
        assert_eq!(f.take_refusal().expect("bad header name").code, InvalidArgument);
        assert_eq!(f.advance(b"GET / HTTP/1.1\r\n\r\n"), 0, "nothing after a refusal");
    }

    #[test]
    fn follows_chunked_bodies_with_extensions_and_trailers() {
        let body = b"POST / HTTP/1.1\r\ntransfer-encoding: gzip, chunked\r\ncontent-length: 3\r\n\r\n\
                     5;ext=1\r\nhello\r\nA \r\n0123456789\r\n0\r\nx-trailer: 1\r\n\r\n";
        // Byte at a time, keeping what is not accepted yet, as the guard does.
        let mut f = framer();
        let mut pending = Vec::new();
        for b in body.iter() {
            pending.push(*b);
            let accepted = f.advance(&pending);
            pending.drain(..accepted);
        }
        assert!(pending.is_empty());
        assert!(f.awaiting_head());
        let mut f = framer();
        assert_eq!(f.advance(body), body.len());
        assert!(f.awaiting_head());
    }

    #[test]
    fn refuses_what_hyper_would_answer_with_an_empty_body() {
        let long_path = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(200));
        assert_eq!(refusal(long_path.as_bytes()).code, UriTooLong);
        // Still arriving, with no line end in sight.
        let partial = format!("GET /{}", "a".repeat(200));
        assert_eq!(refusal(partial.as_bytes()).code, UriTooLong);

        let big = format!("GET / HTTP/1.1\r\nx-big: {}\r\n", "b".repeat(2000));
        let err = refusal(big.as_bytes());
        assert_eq!(err.code, RequestHeaderFieldsTooLarge);

        let many: String = (0..9).map(|i| format!("x-{i}: v\r\n")).collect();
        let err = refusal(format!("GET / HTTP/1.1\r\n{many}\r\n").as_bytes());
        assert_eq!(err.code, RequestHeaderFieldsTooLarge);

        for bad in [
            &b"GET / HTTP/1.1\r\nx-bin: a\x00b\r\n\r\n"[..],
            b"GET / HTTP/2.0\r\n\r\n",
            b"GET / HTTP/1.1\r\ncontent-length: 1, 1\r\n\r\n",
            b"GET / HTTP/1.1\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n",
            b"POST / HTTP/1.1\r\ntransfer-encoding: gzip\r\n\r\n",
            b"POST / HTTP/1.0\r\ntransfer-encoding: chunked\r\n\r\n",
        ] {
            let err = refusal(bad);
            assert_eq!(err.code, InvalidArgument, "{}", String::from_utf8_lossy(bad));
        }
        let err = refusal(b"CONNECT x:1 HTTP/1.1\r\n\r\n");
        assert_eq!(err.code, MethodNotAllowed);
    }

    #[test]
    fn a_head_sent_a_byte_at_a_time_is_found() {
        let mut f = framer();
        let head = b"GET /x HTTP/1.1\r\nhost: a\r\n\r\n";
        let mut pending = Vec::new();
        for b in head {
            pending.push(*b);
            let accepted = f.advance(&pending);
            pending.drain(..accepted);
        }
        assert!(pending.is_empty());
        assert!(f.awaiting_head());
    }
}
