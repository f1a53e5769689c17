//! Connections: accepting them, bounding them, and handing their requests to the router.
//!
//! Every connection is owned by one task running hyper's HTTP/1 server over a [`guard::Guarded`]
//! socket, which ends clients that stall (idle, head and body clocks) and refuses bad heads in FC's
//! format (`framing`). The number of connections is capped: at the cap, the connection idle the longest
//! (no request in flight) is closed to make room, so a crowd of idle or trickling clients never locks
//! out a real one (or `/healthz`); when every connection is busy, the newcomer gets 503
//! `TooManyConnections`. Each limit that bites is counted for `/metrics` and logged, at most once per
//! reason every ten seconds.

mod framing;
mod guard;
mod stats;

use std::collections::HashMap;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, Response};
use axum::Router;
use futures_util::task::AtomicWaker;
use hyper::body::{Frame, Incoming, SizeHint};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tower::ServiceExt;

pub use framing::HeadLimits;
pub(crate) use stats::Bite;
pub use stats::ConnStats;

/// How long clients may take and how many may be connected at once.
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    /// From the first byte of a request head to its end.
    pub header_timeout: Duration,
    /// Longest pause between bytes of a request body while the server waits for it.
    pub body_timeout: Duration,
    /// Longest idle time between requests on one connection.
    pub keep_alive: Duration,
    /// Most open connections.
    pub max_connections: usize,
    pub head: HeadLimits,
}

impl Default for ConnLimits {
    fn default() -> Self {
        ConnLimits {
            // Generous for a slow mobile link, short enough that a slow-loris crowd drains quickly.
            header_timeout: Duration::from_secs(20),
            body_timeout: Duration::from_secs(30),
            // Below the 75 s at which common proxies and clients give up on an idle connection themselves.
            keep_alive: Duration::from_secs(60),
            max_connections: 4096,
            head: HeadLimits::default(),
        }
    }
}

/// What a connection's guard and its requests share.
pub(crate) struct Conn {
    /// Set to close the connection at its next read (the cap needs room).
    evict: AtomicBool,
    /// The guard's read task, woken when a response ends (the idle clock may start) or on eviction.
    waker: AtomicWaker,
    activity: Mutex<Activity>,
}

struct Activity {
    in_flight: usize,
    /// When the last response ended (or the connection opened).
    idle_since: Instant,
}

impl Conn {
    pub(crate) fn new() -> Conn {
        let activity = Activity { in_flight: 0, idle_since: Instant::now() };
        Conn { evict: AtomicBool::new(false), waker: AtomicWaker::new(), activity: Mutex::new(activity) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Activity> {
        // A poisoned lock only means a panic elsewhere while counting; the counts are still usable.
        self.activity.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// When the connection became idle, or `None` while a request is being served.
    pub(crate) fn idle_since(&self) -> Option<Instant> {
        let activity = self.lock();
        (activity.in_flight == 0).then_some(activity.idle_since)
    }

    fn begin(self: &Arc<Self>) -> InFlight {
        self.lock().in_flight += 1;
        InFlight(self.clone())
    }

    fn evict(&self) {
        self.evict.store(true, Ordering::Release);
        self.waker.wake();
    }
}

/// One request being served; dropped with its response body, or with the handler if it is cancelled.
struct InFlight(Arc<Conn>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut activity = self.0.lock();
        activity.in_flight = activity.in_flight.saturating_sub(1);
        if activity.in_flight == 0 {
            activity.idle_since = Instant::now();
            drop(activity);
            self.0.waker.wake();
        }
    }
}

/// A response body that keeps its request counted as in flight until hyper has sent it all.
struct Tracked {
    body: Body,
    _in_flight: InFlight,
}

impl hyper::body::Body for Tracked {
    type Data = bytes::Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

/// The open connections, for choosing which to close at the cap.
#[derive(Default)]
struct Registry {
    conns: Mutex<HashMap<u64, Arc<Conn>>>,
}

impl Registry {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<Conn>>> {
        self.conns.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Marks the connection idle the longest for closing; false when every connection is busy.
    fn evict_one(&self) -> bool {
        let conns = self.lock();
        let victim = conns
            .values()
            .filter(|c| !c.evict.load(Ordering::Acquire))
            .filter_map(|c| c.idle_since().map(|since| (since, c)))
            .min_by_key(|(since, _)| *since);
        match victim {
            Some((_, conn)) => {
                conn.evict();
                true
            }
            None => false,
        }
    }
}

/// What every connection task shares.
#[derive(Clone)]
pub struct Served {
    pub router: Router,
    pub limits: ConnLimits,
    pub stats: Arc<ConnStats>,
    /// Whether refusals get an access line (routed requests get theirs from `access_log`).
    pub access_log: bool,
}

/// Serves on `listener` until `shutdown` completes, then lets open connections finish.
pub async fn serve(
    listener: TcpListener,
    served: Served,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let Served { limits, stats, .. } = served.clone();
    let registry = Arc::new(Registry::default());
    let (closing, _) = tokio::sync::watch::channel(false);
    let tasks = tokio_util::task::TaskTracker::new();
    let mut next_id = 0u64;
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors, mostly: give closing connections a moment rather than spin.
                    stats.bite(Bite::AcceptFailed, &e.to_string());
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        if stats.live() >= limits.max_connections && !registry.evict_one() {
            stats.bite(Bite::Full, "every connection is busy");
            tasks.spawn(refuse_busy(stream, peer, limits.max_connections, served.access_log));
            continue;
        }
        next_id += 1;
        let id = next_id;
        let conn = Arc::new(Conn::new());
        registry.lock().insert(id, conn.clone());
        let (registry, served, closing) = (registry.clone(), served.clone(), closing.subscribe());
        tasks.spawn(async move {
            let stats = served.stats.clone();
            let _live = stats.open();
            let _ = stream.set_nodelay(true);
            serve_connection(stream, peer, conn, served, closing).await;
            registry.lock().remove(&id);
        });
    }
    let _ = closing.send(true);
    tasks.close();
    tasks.wait().await;
    Ok(())
}

/// Byte streams a connection can run over: TCP, and in-memory pipes in tests.
pub(crate) trait Stream: AsyncRead + AsyncWrite + Unpin + Send + 'static {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send + 'static> Stream for T {}

pub(crate) async fn serve_connection<S: Stream>(
    stream: S,
    peer: SocketAddr,
    conn: Arc<Conn>,
    served: Served,
    mut closing: tokio::sync::watch::Receiver<bool>,
) {
    let Served { router, limits, stats, access_log } = served;
    let guarded = guard::Guarded::new(stream, conn.clone(), stats, limits);
    let service = hyper::service::service_fn(move |request: Request<Incoming>| {
        let in_flight = conn.begin();
        let mut request = request.map(Body::new);
        request.extensions_mut().insert(ConnectInfo(peer));
        let router = router.clone();
        Box::pin(async move {
            let response = match router.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            };
            Ok::<_, Infallible>(response.map(|body| Tracked { body, _in_flight: in_flight }))
        }) as Pin<Box<dyn Future<Output = Result<Response<Tracked>, Infallible>> + Send>>
    });
    let mut http = hyper::server::conn::http1::Builder::new();
    http.max_headers(limits.head.max_headers);
    let mut connection = http.serve_connection(TokioIo::new(guarded), service);
    let mut draining = false;
    let result = loop {
        tokio::select! {
            result = std::future::poll_fn(|cx| connection.poll_without_shutdown(cx)) => break result,
            changed = closing.changed(), if !draining => {
                draining = true;
                if changed.is_ok() {
                    Pin::new(&mut connection).graceful_shutdown();
                }
            }
        }
    };
    if let Err(e) = result {
        tracing::debug!(%peer, error = %e, "connection ended with an error");
    }
    let mut guarded = connection.into_parts().io.into_inner();
    if let Some(refusal) = guarded.take_refusal() {
        answer_and_linger(guarded.get_mut(), peer, &refusal, access_log).await;
    }
}

/// Writes a refusal, closes the sending side and reads what the client still sends for a moment, so
/// that closing with unread bytes (which resets the connection) does not destroy the answer in flight.
async fn answer_and_linger<S: Stream>(stream: &mut S, peer: SocketAddr, refusal: &ferric_types::FcError, log: bool) {
    let request_id = crate::request_id::new_id();
    if log {
        crate::access_log::refused(peer, refusal.code.status(), &request_id);
    }
    let response = raw_response(refusal, &request_id);
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.write_all(&response)).await;
    let _ = stream.shutdown().await;
    let linger = async {
        let mut sink = [0u8; 4096];
        let mut left = 256 * 1024usize;
        while left > 0 {
            match stream.read(&mut sink).await {
                Ok(0) | Err(_) => break,
                Ok(n) => left = left.saturating_sub(n),
            }
        }
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), linger).await;
}

async fn refuse_busy(mut stream: TcpStream, peer: SocketAddr, max: usize, log: bool) {
    let error = ferric_types::FcError::new(
        ferric_types::ErrorCode::TooManyConnections,
        format!("the server holds its limit of {max} connections, all busy; retry later"),
    );
    answer_and_linger(&mut stream, peer, &error, log).await;
}

/// A whole HTTP/1.1 response in FC's error format, for answers given outside hyper.
fn raw_response(error: &ferric_types::FcError, request_id: &str) -> Vec<u8> {
    let body = crate::error::error_body(error);
    let status = axum::http::StatusCode::from_u16(error.code.status()).unwrap_or(axum::http::StatusCode::BAD_REQUEST);
    let mut out = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nx-fc-request-id: {}\r\n\
         connection: close\r\ndate: {}\r\n\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        body.len(),
        request_id,
        chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT"),
    )
    .into_bytes();
    out.extend_from_slice(&body);
    out
}

#[cfg(test)]
mod tests;
