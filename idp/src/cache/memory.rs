//! The in-process cache for a single node: sharded maps with lazy expiry and a bounded sweep.

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

struct Entry {
    value: Vec<u8>,
    expires: Instant,
}

/// One shard: the entries plus an expiry queue (which may hold stale deadlines of overwritten
/// keys; those are skipped when popped, and the queue is rebuilt if they pile up).
#[derive(Default)]
struct Shard {
    map: HashMap<String, Entry>,
    queue: BinaryHeap<Reverse<(Instant, String)>>,
}

impl Shard {
    /// The live entry under `key`, removing it first if it has expired.
    fn live(&mut self, key: &str, now: Instant) -> Option<&mut Entry> {
        if self.map.get(key).is_some_and(|e| e.expires <= now) {
            self.map.remove(key);
        }
        self.map.get_mut(key)
    }

    fn insert(&mut self, key: &str, value: Vec<u8>, expires: Instant, now: Instant) {
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
                    self.map.remove(&key);
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
    /// An empty cache (spawns the sweeper if a Tokio runtime is running).
    pub fn new() -> MemoryCache {
        let shards = (0..SHARDS).map(|_| Mutex::new(Shard::default())).collect();
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
        self.inner
            .shard(key)
            .insert(key, value.to_vec(), deadline(now, ttl), now);
        Ok(())
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
        s.insert(key, value.to_vec(), deadline(now, ttl), now);
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
        Ok(s.map.remove(key).map(|e| e.value))
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        self.inner.shard(key).map.remove(key);
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
            e.value = n.to_string().into_bytes();
            return Ok(n);
        }
        s.insert(key, b"1".to_vec(), deadline(now, ttl), now);
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
