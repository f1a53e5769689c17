//! What the connection limits did: counted for `/metrics`, and logged without flooding the log when a
//! crowd of clients trips the same limit at once.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// A limit that ended or refused a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Bite {
    /// Idle past the keep-alive time: normal, never logged above debug.
    Idle,
    HeaderTimeout,
    BodyTimeout,
    HeadTooLarge,
    UriTooLong,
    BadHead,
    /// Closed while idle to make room at the connection cap.
    Evicted,
    /// Refused at the cap: every connection was busy.
    Full,
    /// `accept` itself failed (out of descriptors, mostly).
    AcceptFailed,
}

const BITES: [Bite; 9] = [
    Bite::Idle,
    Bite::HeaderTimeout,
    Bite::BodyTimeout,
    Bite::HeadTooLarge,
    Bite::UriTooLong,
    Bite::BadHead,
    Bite::Evicted,
    Bite::Full,
    Bite::AcceptFailed,
];

impl Bite {
    fn index(self) -> usize {
        BITES.iter().position(|b| *b == self).unwrap_or(0)
    }

    fn label(self) -> &'static str {
        match self {
            Bite::Idle => "idle",
            Bite::HeaderTimeout => "header_timeout",
            Bite::BodyTimeout => "body_timeout",
            Bite::HeadTooLarge => "head_too_large",
            Bite::UriTooLong => "uri_too_long",
            Bite::BadHead => "bad_head",
            Bite::Evicted => "evicted",
            Bite::Full => "full",
            Bite::AcceptFailed => "accept_failed",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Bite::Idle => "closed an idle connection",
            Bite::HeaderTimeout => "closed a connection whose request head did not arrive in time",
            Bite::BodyTimeout => "closed a connection whose request body stalled",
            Bite::HeadTooLarge => "refused a request head that is too large",
            Bite::UriTooLong => "refused a request path that is too long",
            Bite::BadHead => "refused a request head that is not valid HTTP/1.1",
            Bite::Evicted => "closed an idle connection to stay within the connection limit",
            Bite::Full => "refused a connection: at the connection limit and none idle",
            Bite::AcceptFailed => "could not accept a connection",
        }
    }
}

/// One report per reason at most this often; the count says how many were folded into it.
const REPORT_EVERY: Duration = Duration::from_secs(10);

#[derive(Default)]
pub struct ConnStats {
    live: AtomicUsize,
    totals: [AtomicU64; BITES.len()],
    reports: Mutex<[Option<(Instant, u64)>; BITES.len()]>,
}

/// Holds one connection in the live count.
pub(crate) struct Live<'a>(&'a ConnStats);

impl Drop for Live<'_> {
    fn drop(&mut self) {
        self.0.live.fetch_sub(1, Ordering::AcqRel);
    }
}

impl ConnStats {
    pub(crate) fn live(&self) -> usize {
        self.live.load(Ordering::Acquire)
    }

    /// How many times `bite` has bitten.
    pub(crate) fn total(&self, bite: Bite) -> u64 {
        self.totals[bite.index()].load(Ordering::Relaxed)
    }

    pub(crate) fn open(&self) -> Live<'_> {
        self.live.fetch_add(1, Ordering::AcqRel);
        Live(self)
    }

    /// Counts a limit that bit, and logs it unless one like it was logged in the last ten seconds.
    pub(crate) fn bite(&self, bite: Bite, detail: &str) {
        let total = self.totals[bite.index()].fetch_add(1, Ordering::Relaxed) + 1;
        if bite == Bite::Idle {
            tracing::debug!("{}", bite.describe());
            return;
        }
        let now = Instant::now();
        let folded = {
            let mut reports = self.reports.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let slot = &mut reports[bite.index()];
            match *slot {
                Some((at, _)) if now.duration_since(at) < REPORT_EVERY => return,
                Some((_, reported)) => {
                    *slot = Some((now, total));
                    total - reported
                }
                None => {
                    *slot = Some((now, total));
                    1
                }
            }
        };
        let detail = if detail.is_empty() { String::new() } else { format!(": {detail}") };
        if folded > 1 {
            tracing::warn!(
                limit = bite.label(),
                count = folded,
                "{}{detail} ({folded} times since the last report)",
                bite.describe()
            );
        } else {
            tracing::warn!(limit = bite.label(), "{}{detail}", bite.describe());
        }
    }

    /// The connection gauge and counters, for `/metrics`.
    pub fn register(&self, registry: &mut prometheus_client::registry::Registry) {
        use prometheus_client::metrics::{counter::Counter, family::Family, gauge::Gauge};
        let live = Gauge::<i64>::default();
        live.set(i64::try_from(self.live()).unwrap_or(i64::MAX));
        registry.register("ferric_http_connections", "Open client connections", live);
        let closed = Family::<[(&'static str, &'static str); 1], Counter>::default();
        for bite in BITES {
            closed.get_or_create(&[("limit", bite.label())]).inc_by(self.total(bite));
        }
        registry.register(
            "ferric_http_connections_closed",
            "Connections ended or refused by a limit, by limit",
            closed,
        );
    }
}
