//! The in-process cache for a single node: sharded maps with lazy expiry, a bounded sweep
//! and a bound on the memory it holds.

use super::{Cache, CacheError, MAX_TTL};
use std::cmp::Reverse;
use std::collections::hash_map::RandomState;
use std::collections::{BinaryHeap, HashMap};
use std::hash::BuildHasher;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

/// Number of independently locked shards.
const SHARDS: usize = 16;
/// Expired entries a write removes from its shard (bounded work on the hot path).
const SWEEP_PER_WRITE: usize = 8;
/// Expired entries the background sweeper removes per shard per tick.
const SWEEP_PER_TICK: usize = 1024;
/// How often the background sweeper runs.
const SWEEP_INTERVAL: Duration = Duration::from_secs(1);

/// What the cache may hold unless told otherwise: 256 MiB.
pub const DEFAULT_MAX_BYTES: usize = 256 << 20;

/// What an entry is counted as beyond its key and value: the map's and the expiry queue's
/// bookkeeping (the key is held twice, once in each).
const ENTRY_OVERHEAD: usize = 128;

struct Entry {
    value: Vec<u8>,
    expires: Instant,
}

/// The memory an entry is counted as.
fn cost(key: &str, value: &[u8]) -> usize {
    2 * key.len() + value.len() + ENTRY_OVERHEAD
}

/// One shard: the entries plus an expiry queue (which may hold stale deadlines of overwritten
/// keys; those are skipped when popped, and the queue is rebuilt if they pile up).
struct Shard {
    map: HashMap<String, Entry>,
    queue: BinaryHeap<Reverse<(Instant, String)>>,
    /// What the live and not yet swept entries are counted as (see [`cost`]).
    bytes: usize,
    /// The most `bytes` may reach by storing values.
    cap: usize,
    /// The most `bytes` may reach by starting counters: an eighth more than `cap`, kept for
    /// them, so that a full cache still counts failed sign-ins and requests over a limit
    /// (a limit that could not count would not hold).
    counter_cap: usize,
}

impl Shard {
    fn new(cap: usize) -> Shard {
        Shard {
            map: HashMap::new(),
            queue: BinaryHeap::new(),
            bytes: 0,
            cap,
            counter_cap: cap.saturating_add(cap / 8),
        }
    }

    /// The live entry under `key`, removing it first if it has expired.
    fn live(&mut self, key: &str, now: Instant) -> Option<&mut Entry> {
        if self.map.get(key).is_some_and(|e| e.expires <= now) {
            self.remove(key);
        }
        self.map.get_mut(key)
    }

    /// Removes `key`'s entry, expired or not.
    fn remove(&mut self, key: &str) -> Option<Entry> {
        let e = self.map.remove(key)?;
        self.bytes = self.bytes.saturating_sub(cost(key, &e.value));
        Some(e)
    }

    /// Whether the shard can take `add` more bytes without going over `cap` (after sweeping
    /// every expired entry if it cannot at first).
    fn room(&mut self, add: usize, cap: usize, now: Instant) -> bool {
        if self.bytes.saturating_add(add) <= cap {
            return true;
        }
        self.sweep(now, usize::MAX);
        self.bytes.saturating_add(add) <= cap
    }

    /// Stores `value` under `key`, or refuses with [`CacheError::Full`] when the shard would
    /// go over `cap`; then nothing is changed.
    fn insert(
        &mut self,
        key: &str,
        value: Vec<u8>,
        expires: Instant,
        now: Instant,
        cap: usize,
    ) -> Result<(), CacheError> {
        let old = self.map.get(key).map_or(0, |e| cost(key, &e.value));
        let new = cost(key, &value);
        if new > old && !self.room(new - old, cap, now) {
            return Err(CacheError::Full);
        }
        // The sweep may have removed the old entry: count what is there now.
        let old = self.map.get(key).map_or(0, |e| cost(key, &e.value));
        self.bytes = self.bytes.saturating_sub(old).saturating_add(new);
        self.map.insert(key.to_owned(), Entry { value, expires });
        self.queue.push(Reverse((expires, key.to_owned())));
        if self.queue.len() > 2 * self.map.len() + 1024 {
            let live = self
                .map
                .iter()
                .map(|(k, e)| Reverse((e.expires, k.clone())));
            self.queue = live.collect();
        }
        self.sweep(now, SWEEP_PER_WRITE);
        Ok(())
    }

    /// Removes up to `limit` expired entries, soonest deadline first.
    fn sweep(&mut self, now: Instant, limit: usize) {
        for _ in 0..limit {
            match self.queue.peek() {
                Some(Reverse((at, _))) if *at <= now => {}
                _ => return,
            }
            if let Some(Reverse((at, key))) = self.queue.pop() {
                if self.map.get(&key).is_some_and(|e| e.expires == at) {
                    self.remove(&key);
                }
            }
        }
    }
}

struct Inner {
    shards: Vec<Mutex<Shard>>,
    hasher: RandomState,
}

impl Inner {
    fn shard(&self, key: &str) -> MutexGuard<'_, Shard> {
        let i = (self.hasher.hash_one(key) as usize) % self.shards.len();
        lock(&self.shards[i])
    }
}

/// A poisoned shard only means another thread panicked mid-operation; its map is still valid.
fn lock(m: &Mutex<Shard>) -> MutexGuard<'_, Shard> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

fn deadline(now: Instant, ttl: Duration) -> Instant {
    now.checked_add(ttl.min(MAX_TTL)).unwrap_or(now)
}

/// An in-process cache for a single node (tests, development, one-node deployments).
///
/// Expired entries vanish on access; each write also drops a few expired entries of its shard,
/// and when built inside a Tokio runtime a background task (holding only a weak reference,
/// so it ends with the cache) sweeps every shard once a second.
///
/// It holds at most a set number of bytes (keys, values and bookkeeping, counted per shard:
/// each of the 16 may hold a sixteenth), and an eighth more for counters ([`Cache::incr`]),
/// so that the limits counted in it still count when values fill it. A write that would go
/// over is refused with [`CacheError::Full`] and changes nothing: nothing live is ever
/// evicted to make room, so a flood of new sign-ins cannot push out the sessions and codes
/// people are using, and the process does not grow until the kernel kills it.
#[derive(Clone)]
pub struct MemoryCache {
    inner: Arc<Inner>,
}

impl Default for MemoryCache {
    fn default() -> Self {
        MemoryCache::new()
    }
}

impl MemoryCache {
    /// An empty cache holding at most [`DEFAULT_MAX_BYTES`] (spawns the sweeper if a Tokio
    /// runtime is running).
    pub fn new() -> MemoryCache {
        MemoryCache::with_max_bytes(DEFAULT_MAX_BYTES)
    }

    /// An empty cache holding at most `max_bytes` (see [`MemoryCache`]).
    pub fn with_max_bytes(max_bytes: usize) -> MemoryCache {
        let cap = (max_bytes / SHARDS).max(1);
        let shards = (0..SHARDS).map(|_| Mutex::new(Shard::new(cap))).collect();
        let inner = Arc::new(Inner {
            shards,
            hasher: RandomState::new(),
        });
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(sweeper(Arc::downgrade(&inner)));
        }
        MemoryCache { inner }
    }

    /// Number of stored entries, including expired ones not yet swept.
    pub fn len(&self) -> usize {
        self.inner.shards.iter().map(|s| lock(s).map.len()).sum()
    }

    /// Whether no entries are stored.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// What the stored entries are counted as, in bytes (see [`MemoryCache`]).
    pub fn bytes(&self) -> usize {
        self.inner.shards.iter().map(|s| lock(s).bytes).sum()
    }

    /// Number of queued expiry deadlines, stale ones included.
    #[cfg(test)]
    pub(super) fn queued(&self) -> usize {
        self.inner.shards.iter().map(|s| lock(s).queue.len()).sum()
    }
}

async fn sweeper(inner: Weak<Inner>) {
    let mut tick = tokio::time::interval(SWEEP_INTERVAL);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let Some(inner) = inner.upgrade() else { return };
        let now = Instant::now();
        for s in &inner.shards {
            lock(s).sweep(now, SWEEP_PER_TICK);
        }
    }
}

#[async_trait::async_trait]
impl Cache for MemoryCache {
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        let now = Instant::now();
        let mut s = self.inner.shard(key);
        let cap = s.cap;
        s.insert(key, value.to_vec(), deadline(now, ttl), now, cap)
    }

    async fn put_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, CacheError> {
        let now = Instant::now();
        let mut s = self.inner.shard(key);
        if s.live(key, now).is_some() {
            return Ok(false);
        }
        let cap = s.cap;
        s.insert(key, value.to_vec(), deadline(now, ttl), now, cap)?;
        Ok(true)
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        Ok(self
            .inner
            .shard(key)
            .live(key, Instant::now())
            .map(|e| e.value.clone()))
    }

    async fn consume(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        let mut s = self.inner.shard(key);
        s.live(key, Instant::now());
        Ok(s.remove(key).map(|e| e.value))
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        self.inner.shard(key).remove(key);
        Ok(())
    }

    async fn incr(&self, key: &str, ttl: Duration) -> Result<u64, CacheError> {
        let now = Instant::now();
        let mut s = self.inner.shard(key);
        if let Some(e) = s.live(key, now) {
            let n = std::str::from_utf8(&e.value)
                .ok()
                .and_then(|v| v.parse::<u64>().ok())
                .and_then(|n| n.checked_add(1))
                .ok_or_else(|| CacheError::Backend(format!("value of {key:?} is not a counter")))?;
            let (old, value) = (e.value.len(), n.to_string().into_bytes());
            // A counter grows by a digit at most now and then: counted, never refused.
            s.bytes = s.bytes.saturating_add(value.len().saturating_sub(old));
            if let Some(e) = s.map.get_mut(key) {
                e.value = value;
            }
            return Ok(n);
        }
        let cap = s.counter_cap;
        s.insert(key, b"1".to_vec(), deadline(now, ttl), now, cap)?;
        Ok(1)
    }

    async fn ttl(&self, key: &str) -> Result<Option<Duration>, CacheError> {
        let now = Instant::now();
        Ok(self
            .inner
            .shard(key)
            .live(key, now)
            .map(|e| e.expires.saturating_duration_since(now)))
    }
}
