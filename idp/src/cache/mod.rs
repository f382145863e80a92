//! Short-lived protocol state: one [`Cache`] trait with an in-process and a Redis backend.

pub mod json;
pub mod memory;
pub mod redis_cache;

#[cfg(test)]
mod tests;

pub use json::CacheJson;
pub use memory::MemoryCache;
pub use redis_cache::RedisCache;

use std::time::Duration;

/// A counter's value as [`Cache::incr`] stores it (decimal text); 0 when unreadable.
pub fn parse_count(raw: &[u8]) -> u64 {
    std::str::from_utf8(raw)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

/// Logs that the cache refused a write because it is full, at most once a minute (a flood
/// of refusals must not flood the log).
pub fn log_full() {
    use std::sync::atomic::{AtomicU64, Ordering};
    static LAST: AtomicU64 = AtomicU64::new(0);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let last = LAST.load(Ordering::Relaxed);
    if now >= last.saturating_add(60)
        && LAST
            .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
            .is_ok()
    {
        tracing::warn!(
            "the cache is full: new sign-ins, codes and sessions are refused until entries expire"
        );
    }
}

/// The longest time to live either backend stores (longer requests are clamped to it).
pub const MAX_TTL: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// Why a cache operation failed.
#[derive(Debug, thiserror::Error)]
pub enum CacheError {
    /// The backend could not be reached at start-up (the message never holds a password).
    #[error("cache connection failed: {0}")]
    Connect(String),
    /// The backend failed or rejected an operation (e.g. incrementing a non-numeric value).
    #[error("cache backend error: {0}")]
    Backend(String),
    /// A value could not be serialised to JSON.
    #[error("cache value could not be encoded: {0}")]
    Encode(#[source] serde_json::Error),
    /// A stored value is not the JSON the caller expected.
    #[error("cache value could not be decoded: {0}")]
    Decode(#[source] serde_json::Error),
    /// The cache holds all it may (the in-process cache's bound, or Redis at its
    /// `maxmemory` refusing writes): nothing was stored. It empties as entries expire.
    #[error("cache full: nothing more can be stored until entries expire")]
    Full,
}

/// Short-lived protocol state (codes, sessions, interactions, OTP challenges, rate counters,
/// replay caches).
#[async_trait::async_trait]
pub trait Cache: Send + Sync + 'static {
    /// Store `value` under `key` for `ttl` (overwrites).
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError>;
    /// Store only if absent; true if this call stored it (atomic across nodes: Redis SET NX PX).
    async fn put_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, CacheError>;
    /// The live value under `key`, if any.
    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError>;
    /// Atomically read and delete (Redis GETDEL): of concurrent callers, exactly one gets the value.
    async fn consume(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError>;
    /// Remove `key` (absent is not an error).
    async fn delete(&self, key: &str) -> Result<(), CacheError>;
    /// Increment a counter, creating it with `ttl` on first increment (the window does not
    /// slide); returns the new value. The counter reads back through [`Cache::get`] as decimal
    /// ASCII. Atomic (Redis: one Lua script).
    async fn incr(&self, key: &str, ttl: Duration) -> Result<u64, CacheError>;
    /// Remaining time to live, None if absent (`Duration::MAX` for a key without expiry,
    /// which only a foreign Redis writer can create).
    async fn ttl(&self, key: &str) -> Result<Option<Duration>, CacheError>;
}
