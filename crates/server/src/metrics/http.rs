//! The server's own requests: `ferric_http_requests_total{route,method,status}` and their duration by
//! route. The route is the template the router matched (`/2016-08-15/services/{service}`), never the raw
//! path, so the label set is bounded by the route table.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::state::AppState;

/// The route label of a request no route matched.
pub const UNMATCHED: &str = "unmatched";

/// Set on a response by a layer that served the request itself, so it is counted under this route.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ServedAs(pub &'static str);

/// Set on a response by a router mounted inside another (`api2021`): the inner route's template, which
/// the outer router's `MatchedPath` cannot know. One per route, so the label set stays bounded.
#[derive(Debug, Clone)]
pub(crate) struct RouteTemplate(pub String);

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: String,
    method: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

pub(crate) struct HttpMetrics {
    requests: Family<RequestLabels, Counter>,
    duration: Family<RouteLabels, Histogram>,
}

fn histogram() -> Histogram {
    Histogram::new([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0])
}

impl HttpMetrics {
    pub fn register(registry: &mut Registry) -> HttpMetrics {
        let requests = Family::<RequestLabels, Counter>::default();
        let duration = Family::<RouteLabels, Histogram>::new_with_constructor(histogram as fn() -> _);
        registry.register(
            "ferric_http_requests",
            "Requests the server answered, by route template, method and status",
            requests.clone(),
        );
        registry.register(
            "ferric_http_request_duration_seconds",
            "How long the server took to answer, by route template (to the response head)",
            duration.clone(),
        );
        HttpMetrics { requests, duration }
    }

    fn record(&self, route: &str, method: &Method, status: u16, seconds: f64) {
        let labels = RequestLabels {
            route: route.to_string(),
            method: method_label(method).to_string(),
            status: status.to_string(),
        };
        self.requests.get_or_create(&labels).inc();
        self.duration.get_or_create(&RouteLabels { route: route.to_string() }).observe(seconds);
    }
}

/// Standard methods by name; any other (HTTP triggers take every method) as `other`.
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [Method; 9] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::OPTIONS,
        Method::CONNECT,
        Method::TRACE,
    ];
    KNOWN.iter().find(|m| *m == method).map_or("other", |m| m.as_str())
}

pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let matched = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_string());
    let response = next.run(request).await;
    let route = match response.extensions().get::<ServedAs>() {
        Some(ServedAs(route)) => route.to_string(),
        None => match response.extensions().get::<RouteTemplate>() {
            Some(RouteTemplate(route)) => route.clone(),
            None => matched.unwrap_or_else(|| UNMATCHED.to_string()),
        },
    };
    state.metrics().http().record(&route, &method, response.status().as_u16(), started.elapsed().as_secs_f64());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_methods_share_one_label() {
        assert_eq!(method_label(&Method::GET), "GET");
        assert_eq!(method_label(&Method::from_bytes(b"BREW").expect("method")), "other");
    }
}
