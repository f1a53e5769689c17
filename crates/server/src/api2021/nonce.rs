//! Replay protection for ACS3-signed requests: a signed request's `x-acs-signature-nonce` is accepted once
//! while its `x-acs-date` is inside the clock window. A nonce is remembered until its request would be
//! refused as too old anyway, so memory stays bounded by the request rate over the window, and by
//! [`MAX_NONCES`] under a flood (the oldest are forgotten first: a replay of one of those is still refused
//! once its date leaves the window).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// The most nonces remembered at once.
pub const MAX_NONCES: usize = 100_000;

#[derive(Default)]
pub struct NonceCache {
    inner: Mutex<Seen>,
}

#[derive(Default)]
struct Seen {
    /// Nonce → the unix second after which it is forgotten.
    expiry: HashMap<String, i64>,
    /// Insertion order, for expiry and for dropping the oldest at the cap.
    order: VecDeque<(i64, String)>,
}

impl NonceCache {
    /// Records `nonce`, to be remembered until `forget_at` (unix seconds); false when it was already seen
    /// and not yet forgotten at `now`.
    pub fn first_use(&self, nonce: &str, now: i64, forget_at: i64) -> bool {
        let mut seen = self.inner.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        while let Some((at, _)) = seen.order.front() {
            if *at > now && seen.order.len() < MAX_NONCES {
                break;
            }
            let (at, old) = seen.order.pop_front().expect("front exists");
            // A nonce seen again after it was forgotten has a newer entry; keep that one.
            if seen.expiry.get(&old) == Some(&at) {
                seen.expiry.remove(&old);
            }
        }
        if seen.expiry.get(nonce).is_some_and(|at| *at > now) {
            return false;
        }
        seen.expiry.insert(nonce.to_string(), forget_at);
        seen.order.push_back((forget_at, nonce.to_string()));
        true
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.inner.lock().expect("not poisoned").expiry.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_nonce_is_accepted_once_inside_its_window() {
        let cache = NonceCache::default();
        assert!(cache.first_use("n1", 1000, 1900));
        assert!(!cache.first_use("n1", 1001, 1901));
        assert!(cache.first_use("n2", 1001, 1901));
        assert!(!cache.first_use("n1", 1899, 2799));
    }

    #[test]
    fn a_nonce_is_forgotten_once_its_window_has_passed() {
        let cache = NonceCache::default();
        assert!(cache.first_use("n1", 1000, 1900));
        assert!(cache.first_use("n2", 1901, 2801));
        assert_eq!(cache.len(), 1, "n1 expired and was dropped");
        assert!(cache.first_use("n1", 1901, 2801));
    }

    #[test]
    fn the_cache_is_bounded() {
        let cache = NonceCache::default();
        for i in 0..MAX_NONCES + 10 {
            assert!(cache.first_use(&format!("n{i}"), 1000, 1900));
        }
        assert!(cache.len() <= MAX_NONCES);
        assert!(!cache.first_use(&format!("n{}", MAX_NONCES + 9), 1000, 1900), "recent nonces are kept");
    }
}
