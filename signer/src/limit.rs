//! Per-client request limits for the signer's public endpoints. The signer does not own the
//! shared cache: the composition root plugs in a [`RateLimiter`] over it (so every node counts
//! together, and a trusted proxy's `X-Forwarded-For` names the client); [`LocalLimiter`] is
//! the in-process stand-in a bare [`Signer`](crate::Signer) starts with. The same plug also
//! remembers one-time values (DPoP proofs' `jti`) for every node.

use axum::http::HeaderMap;
use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Counts requests per client in fixed windows.
#[async_trait::async_trait]
pub trait RateLimiter: Send + Sync {
    /// Counts one request in `bucket` from the client that sent it (`peer`, or the address a
    /// trusted proxy put in `headers`); `Ok(false)` once that client is over `limit` within
    /// the current `window`. `Err` when the counter could not be kept.
    async fn allow(
        &self,
        bucket: &str,
        limit: u64,
        window: Duration,
        peer: SocketAddr,
        headers: &HeaderMap,
    ) -> Result<bool, String>;

    /// Remembers `key` for `ttl`; `Ok(true)` the first time, `Ok(false)` while it is
    /// remembered. `Err` when it could not be kept.
    async fn first_use(&self, key: &str, ttl: Duration) -> Result<bool, String>;
}

/// In-process counters keyed by the peer address (no proxy is trusted).
#[derive(Debug, Default)]
pub struct LocalLimiter {
    windows: Mutex<HashMap<(String, IpAddr), (Instant, u64)>>,
    seen: Mutex<HashMap<String, Instant>>,
}

/// Entries kept before expired windows are swept.
const SWEEP_AT: usize = 10_000;

/// The map behind `lock`, with the entries `live` refuses dropped once it holds
/// [`SWEEP_AT`]; `what` names it in the error when the lock is poisoned.
fn swept<'a, K: Eq + std::hash::Hash, V>(
    lock: &'a Mutex<HashMap<K, V>>,
    what: &str,
    live: impl Fn(&V) -> bool,
) -> Result<std::sync::MutexGuard<'a, HashMap<K, V>>, String> {
    let mut map = lock.lock().map_err(|_| format!("{what} are poisoned"))?;
    if map.len() >= SWEEP_AT {
        map.retain(|_, v| live(v));
    }
    Ok(map)
}

#[async_trait::async_trait]
impl RateLimiter for LocalLimiter {
    async fn allow(
        &self,
        bucket: &str,
        limit: u64,
        window: Duration,
        peer: SocketAddr,
        _: &HeaderMap,
    ) -> Result<bool, String> {
        let now = Instant::now();
        let mut map = swept(&self.windows, "the rate-limit counters", |(start, _)| {
            now.duration_since(*start) < window
        })?;
        let entry = map
            .entry((bucket.to_owned(), peer.ip()))
            .or_insert((now, 0));
        if now.duration_since(entry.0) >= window {
            *entry = (now, 0);
        }
        entry.1 += 1;
        Ok(entry.1 <= limit)
    }

    async fn first_use(&self, key: &str, ttl: Duration) -> Result<bool, String> {
        let now = Instant::now();
        let mut seen = swept(&self.seen, "the one-time values", |until| *until > now)?;
        match seen.get(key) {
            Some(until) if *until > now => Ok(false),
            _ => {
                seen.insert(key.to_owned(), now + ttl);
                Ok(true)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{LocalLimiter, RateLimiter};
    use std::time::Duration;

    #[tokio::test]
    async fn a_client_over_the_limit_is_refused_and_others_are_not() {
        let l = LocalLimiter::default();
        let a = "192.0.2.1:1".parse().unwrap();
        let b = "192.0.2.2:1".parse().unwrap();
        let h = Default::default();
        let w = Duration::from_secs(60);
        assert!(l.allow("v", 2, w, a, &h).await.unwrap());
        assert!(l.allow("v", 2, w, a, &h).await.unwrap());
        assert!(!l.allow("v", 2, w, a, &h).await.unwrap());
        assert!(l.allow("v", 2, w, b, &h).await.unwrap());
        assert!(l.allow("other", 2, w, a, &h).await.unwrap());
    }

    #[tokio::test]
    async fn a_one_time_value_is_new_once_until_it_expires() {
        let l = LocalLimiter::default();
        let ttl = Duration::from_millis(50);
        assert!(l.first_use("k", ttl).await.unwrap());
        assert!(!l.first_use("k", ttl).await.unwrap());
        assert!(l.first_use("other", ttl).await.unwrap());
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert!(l.first_use("k", ttl).await.unwrap());
    }
}
