//! The per-request timeout and retries, fun's `TIMEOUT` and `RETRIES`: fun gives every request
//! `TIMEOUT` seconds and retries a failed deploy call `RETRIES` times, waiting 1 s, 2 s, 4 s, ...
//!
//! Which failures are retried is narrower than fun's "any error with a code", because a retried
//! request must not do its work twice: a request that never reached the server (the connection was
//! refused or could not be made) is retried whatever its method; a timeout, a broken connection, or
//! an answer saying "not now" (429 throttled, 502, 503, 504) only for an idempotent method (GET, HEAD,
//! PUT, DELETE) of the API. A POST that may have arrived (an invocation, a create) is never sent again,
//! nor is any request to a function (`/invocations`, an HTTP trigger's `/proxy/`: a function's 502 is
//! its own failure, and running it again is not the client's choice).

use std::time::Duration;

use reqwest::Method;

use crate::{ClientError, Response};

/// How the client bounds and repeats each request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientOptions {
    /// The whole request, answer included (fun's `TIMEOUT`, in seconds there).
    pub timeout: Duration,
    /// How many times a failed request is sent again (fun's `RETRIES`).
    pub retries: u32,
    /// The first wait between tries; each next one doubles.
    pub backoff: Duration,
}

impl Default for ClientOptions {
    /// A two-minute timeout and no retries: a library caller (a test, a benchmark) sees every failure.
    /// The `ferric` tools apply fun's defaults instead (`RETRIES` 3).
    fn default() -> ClientOptions {
        ClientOptions { timeout: Duration::from_secs(120), retries: 0, backoff: Duration::from_secs(1) }
    }
}

/// The longest wait between two tries, whatever the attempt.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

impl ClientOptions {
    /// The wait before try `attempt + 2` (after `attempt + 1` failures).
    pub fn backoff_after(&self, attempt: u32) -> Duration {
        self.backoff.saturating_mul(2u32.saturating_pow(attempt)).min(MAX_BACKOFF)
    }
}

/// Whether this outcome of a `method` request to `path` may be retried (see the module's rules).
pub(crate) fn retryable(method: &Method, path: &str, outcome: &Result<Response, ClientError>) -> bool {
    let runs_a_function = path.contains("/proxy/") || path.ends_with("/invocations");
    let idempotent = !runs_a_function && matches!(*method, Method::GET | Method::HEAD | Method::PUT | Method::DELETE);
    match outcome {
        Ok(response) => idempotent && matches!(response.status, 429 | 502 | 503 | 504),
        Err(ClientError::Transport { source, .. }) => source.is_connect() || idempotent,
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16) -> Result<Response, ClientError> {
        Ok(Response { status, headers: Default::default(), body: Vec::new() })
    }

    #[test]
    fn only_idempotent_methods_retry_an_answer() {
        let api = "/2016-08-15/services/s";
        assert!(retryable(&Method::GET, api, &answer(503)));
        assert!(retryable(&Method::PUT, api, &answer(429)));
        assert!(!retryable(&Method::POST, api, &answer(503)), "a POST may have done its work");
        assert!(!retryable(&Method::GET, api, &answer(404)));
        assert!(!retryable(&Method::GET, api, &answer(500)), "a server error is not 'try later'");
        assert!(!retryable(&Method::GET, api, &answer(200)));
        assert!(!retryable(&Method::GET, "/2016-08-15/proxy/s/f/", &answer(502)), "the function's own 502");
    }

    #[test]
    fn backoff_doubles_from_the_first_wait_and_is_capped() {
        let options = ClientOptions { backoff: Duration::from_secs(1), ..ClientOptions::default() };
        let waits: Vec<u64> = (0..4).map(|a| options.backoff_after(a).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8]);
        assert_eq!(options.backoff_after(40), MAX_BACKOFF);
    }
}
