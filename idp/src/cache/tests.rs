//! Behaviour tests written once and run against both backends (Redis when
//! `VHOD_TEST_REDIS_URL` is set), plus backend-specific checks.
#![allow(clippy::unwrap_used)]

use super::*;
use std::sync::Arc;
use std::time::Duration;

const LONG: Duration = Duration::from_secs(30);
const SHORT: Duration = Duration::from_millis(50);

async fn sleep_past(ttl: Duration) {
    tokio::time::sleep(ttl + Duration::from_millis(60)).await;
}

/// A fresh Redis cache with its own prefix, or None (with a note) when no Redis is configured.
async fn redis() -> Option<Arc<dyn Cache>> {
    let Ok(url) = std::env::var("VHOD_TEST_REDIS_URL") else {
        eprintln!("note: VHOD_TEST_REDIS_URL unset, Redis variant skipped (CI sets it)");
        return None;
    };
    let prefix = format!("vhod:test-{}:", uuid::Uuid::new_v4());
    Some(Arc::new(RedisCache::connect(&url, &prefix).await.unwrap()))
}

/// Generates `memory::<name>` and `redis::<name>` tests from one behaviour function.
macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod memory_backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(std::sync::Arc::new(super::MemoryCache::new())).await;
                }
            )*
        }
        mod redis_backend {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(c) = super::redis().await else { return };
                    super::$name(c).await;
                }
            )*
        }
    };
}

both!(
    put_get,
    overwrite,
    expiry,
    put_if_absent_once,
    put_if_absent_concurrent,
    consume_once,
    consume_concurrent,
    delete,
    incr_counts_and_expires,
    ttl,
    json_helpers,
);

async fn put_get(c: Arc<dyn Cache>) {
    assert_eq!(c.get("k").await.unwrap(), None);
    c.put("k", b"\x00bytes\xff", LONG).await.unwrap();
    assert_eq!(
        c.get("k").await.unwrap().as_deref(),
        Some(&b"\x00bytes\xff"[..])
    );
    assert_eq!(c.get("other").await.unwrap(), None);
}

async fn overwrite(c: Arc<dyn Cache>) {
    c.put("k", b"1", LONG).await.unwrap();
    c.put("k", b"2", SHORT).await.unwrap();
    assert_eq!(c.get("k").await.unwrap().as_deref(), Some(&b"2"[..]));
    sleep_past(SHORT).await;
    assert_eq!(
        c.get("k").await.unwrap(),
        None,
        "overwrite also replaces the TTL"
    );
}

async fn expiry(c: Arc<dyn Cache>) {
    c.put("k", b"v", SHORT).await.unwrap();
    assert!(c.get("k").await.unwrap().is_some());
    sleep_past(SHORT).await;
    assert_eq!(c.get("k").await.unwrap(), None);
    assert_eq!(c.consume("k").await.unwrap(), None);
    assert_eq!(c.ttl("k").await.unwrap(), None);
}

async fn put_if_absent_once(c: Arc<dyn Cache>) {
    assert!(c.put_if_absent("k", b"1", SHORT).await.unwrap());
    assert!(!c.put_if_absent("k", b"2", SHORT).await.unwrap());
    assert_eq!(c.get("k").await.unwrap().as_deref(), Some(&b"1"[..]));
    sleep_past(SHORT).await;
    assert!(
        c.put_if_absent("k", b"3", LONG).await.unwrap(),
        "free again once expired"
    );
    assert_eq!(c.get("k").await.unwrap().as_deref(), Some(&b"3"[..]));
}

async fn put_if_absent_concurrent(c: Arc<dyn Cache>) {
    let tasks: Vec<_> = (0..20u8)
        .map(|i| {
            let c = c.clone();
            tokio::spawn(async move { c.put_if_absent("k", &[i], LONG).await.unwrap() })
        })
        .collect();
    let mut stored = 0;
    for t in tasks {
        stored += usize::from(t.await.unwrap());
    }
    assert_eq!(stored, 1);
}

async fn consume_once(c: Arc<dyn Cache>) {
    c.put("k", b"v", LONG).await.unwrap();
    assert_eq!(c.consume("k").await.unwrap().as_deref(), Some(&b"v"[..]));
    assert_eq!(c.consume("k").await.unwrap(), None);
    assert_eq!(c.get("k").await.unwrap(), None);
}

async fn consume_concurrent(c: Arc<dyn Cache>) {
    for round in 0..5 {
        let key = format!("code{round}");
        c.put(&key, b"v", LONG).await.unwrap();
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let (c, key) = (c.clone(), key.clone());
                tokio::spawn(async move { c.consume(&key).await.unwrap() })
            })
            .collect();
        let mut winners = 0;
        for t in tasks {
            if let Some(v) = t.await.unwrap() {
                assert_eq!(v, b"v");
                winners += 1;
            }
        }
        assert_eq!(winners, 1, "exactly one of 20 consumers gets the value");
    }
}

async fn delete(c: Arc<dyn Cache>) {
    c.put("k", b"v", LONG).await.unwrap();
    c.delete("k").await.unwrap();
    assert_eq!(c.get("k").await.unwrap(), None);
    c.delete("never-there").await.unwrap();
}

async fn incr_counts_and_expires(c: Arc<dyn Cache>) {
    let window = Duration::from_millis(150);
    assert_eq!(c.incr("n", window).await.unwrap(), 1);
    assert_eq!(c.incr("n", window).await.unwrap(), 2);
    tokio::time::sleep(Duration::from_millis(80)).await;
    assert_eq!(c.incr("n", window).await.unwrap(), 3);
    assert_eq!(
        c.get("n").await.unwrap().as_deref(),
        Some(&b"3"[..]),
        "reads back as decimal"
    );
    assert!(
        c.ttl("n").await.unwrap().unwrap() <= Duration::from_millis(80),
        "window does not slide"
    );
    tokio::time::sleep(Duration::from_millis(130)).await;
    assert_eq!(c.get("n").await.unwrap(), None);
    assert_eq!(c.incr("n", window).await.unwrap(), 1, "a new window starts");
    c.put("text", b"abc", LONG).await.unwrap();
    assert!(matches!(
        c.incr("text", LONG).await,
        Err(CacheError::Backend(_))
    ));
}

async fn ttl(c: Arc<dyn Cache>) {
    assert_eq!(c.ttl("k").await.unwrap(), None);
    c.put("k", b"v", Duration::from_secs(10)).await.unwrap();
    let t = c.ttl("k").await.unwrap().unwrap();
    assert!(
        t <= Duration::from_secs(10) && t > Duration::from_secs(9),
        "{t:?}"
    );
}

async fn json_helpers(c: Arc<dyn Cache>) {
    #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
    struct Rec {
        sub: String,
        n: u32,
    }
    let rec = Rec {
        sub: "alice".into(),
        n: 7,
    };
    c.put_json("j", &rec, LONG).await.unwrap();
    assert_eq!(c.get_json::<Rec>("j").await.unwrap(), Some(rec));
    assert_eq!(
        c.consume_json::<Rec>("j").await.unwrap().map(|r| r.n),
        Some(7)
    );
    assert_eq!(c.consume_json::<Rec>("j").await.unwrap(), None);
    c.put("bad", b"not json", LONG).await.unwrap();
    assert!(matches!(
        c.get_json::<Rec>("bad").await,
        Err(CacheError::Decode(_))
    ));
}

#[tokio::test]
async fn memory_writes_sweep_expired_entries() {
    let c = MemoryCache::new();
    for i in 0..100 {
        c.put(&format!("old{i}"), b"v", Duration::from_millis(10))
            .await
            .unwrap();
    }
    tokio::time::sleep(Duration::from_millis(30)).await;
    for i in 0..200 {
        c.put(&format!("new{i}"), b"v", LONG).await.unwrap();
    }
    assert_eq!(
        c.len(),
        200,
        "expired entries are dropped by later writes, unread"
    );
}

#[tokio::test]
async fn memory_background_sweep() {
    let c = MemoryCache::new();
    for i in 0..50 {
        c.put(&format!("k{i}"), b"v", Duration::from_millis(10))
            .await
            .unwrap();
    }
    assert_eq!(c.len(), 50);
    tokio::time::sleep(Duration::from_millis(1300)).await;
    assert!(
        c.is_empty(),
        "the sweeper task removes expired entries without any access"
    );
}

#[tokio::test]
async fn memory_overwrites_do_not_grow_the_queue_forever() {
    let c = MemoryCache::new();
    for _ in 0..10_000 {
        c.put("same", b"v", LONG).await.unwrap();
    }
    let queued = c.queued();
    assert!(queued <= 1027, "{queued}");
}

#[tokio::test]
async fn redis_prefixes_isolate() {
    let Ok(url) = std::env::var("VHOD_TEST_REDIS_URL") else {
        eprintln!("note: VHOD_TEST_REDIS_URL unset, Redis variant skipped (CI sets it)");
        return;
    };
    let a = RedisCache::connect(&url, &format!("vhod:test-{}:", uuid::Uuid::new_v4()))
        .await
        .unwrap();
    let b = RedisCache::connect(&url, &format!("vhod:test-{}:", uuid::Uuid::new_v4()))
        .await
        .unwrap();
    a.ping().await.unwrap();
    a.put("k", b"a", LONG).await.unwrap();
    assert_eq!(b.get("k").await.unwrap(), None);
    assert_eq!(a.get("k").await.unwrap().as_deref(), Some(&b"a"[..]));
}

#[tokio::test]
async fn redis_connect_error_hides_password() {
    let err = RedisCache::connect("redis://user:s3cret@127.0.0.1:1/", "vhod:test:")
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, CacheError::Connect(_)), "{msg}");
    assert!(!msg.contains("s3cret"), "{msg}");
    assert!(msg.contains("127.0.0.1:1"), "{msg}");
}

/// Fills `c` with `size`-byte values under fresh keys until writes are refused; the keys
/// written.
async fn fill(c: &MemoryCache, size: usize) -> Vec<String> {
    let value = vec![b'v'; size];
    let mut keys = Vec::new();
    let (mut refused_in_a_row, mut i) = (0, 0);
    // A shard with room escapes 300 refusals in a row (each new key lands in one of 16
    // shards at random) about once in 250 million.
    while refused_in_a_row < 300 {
        i += 1;
        let key = format!("k{size}-{i}");
        match c.put(&key, &value, LONG).await {
            Ok(()) => {
                keys.push(key);
                refused_in_a_row = 0;
            }
            Err(CacheError::Full) => refused_in_a_row += 1,
            Err(e) => panic!("{e}"),
        }
        assert!(keys.len() < 100_000, "never full");
    }
    keys
}

#[tokio::test]
async fn memory_refuses_writes_past_its_bound_and_changes_nothing() {
    // 16 shards of 4 KiB each.
    let c = MemoryCache::with_max_bytes(64 << 10);
    let keys = fill(&c, 1000).await;
    // 4 KiB per shard holds three 1000-byte entries (each counted with its key and the
    // bookkeeping, 1 140 to 1 144 bytes), not four: 48 in all.
    assert_eq!(keys.len(), 48);
    assert!(c.bytes() <= 64 << 10, "{}", c.bytes());
    let before = c.bytes();
    // Refused: a new key, a counter, a put_if_absent; nothing was stored.
    let big = vec![b'x'; 1000];
    assert!(matches!(
        c.put("new", &big, LONG).await,
        Err(CacheError::Full)
    ));
    assert_eq!(c.get("new").await.unwrap(), None);
    assert!(matches!(
        c.put_if_absent("new", &big, LONG).await,
        Err(CacheError::Full)
    ));
    assert_eq!(c.bytes(), before);
    // Everything stored is still there, and may be overwritten with a value no larger.
    for k in &keys {
        assert_eq!(c.get(k).await.unwrap().map(|v| v.len()), Some(1000));
    }
    c.put(&keys[0], b"smaller", LONG).await.unwrap();
    assert_eq!(
        c.get(&keys[0]).await.unwrap().as_deref(),
        Some(&b"smaller"[..])
    );
    // A growing overwrite that does not fit is refused and keeps the old value.
    assert!(matches!(
        c.put(&keys[1], &[b'x'; 2000], LONG).await,
        Err(CacheError::Full)
    ));
    assert_eq!(c.get(&keys[1]).await.unwrap().map(|v| v.len()), Some(1000));
    // Taking values out gives the room back: empty, the count is zero.
    c.consume(&keys[1]).await.unwrap();
    for k in &keys {
        c.delete(k).await.unwrap();
    }
    assert_eq!(c.bytes(), 0);
    assert!(c.is_empty());
    let again = fill(&c, 1000).await;
    assert_eq!(again.len(), 48);
}

#[tokio::test]
async fn memory_makes_room_from_expired_entries() {
    let c = MemoryCache::with_max_bytes(64 << 10);
    let value = vec![b'v'; 1000];
    let mut short = 0;
    while c.put(&format!("s{short}"), &value, SHORT).await.is_ok() {
        short += 1;
        assert!(short < 100, "never full");
    }
    sleep_past(SHORT).await;
    // Nothing has been swept yet (no reads, and the sweeper runs once a second): the writes
    // that find their shard full sweep it first.
    let long = fill(&c, 1000).await;
    assert_eq!(long.len(), 48, "after {short} that expired");
    for k in &long {
        assert!(c.get(k).await.unwrap().is_some());
    }
}

#[tokio::test]
async fn memory_counters_count_within_the_bound() {
    let c = MemoryCache::with_max_bytes(64 << 10);
    for _ in 0..1000 {
        c.incr("n", LONG).await.unwrap();
    }
    assert_eq!(c.get("n").await.unwrap().as_deref(), Some(&b"1000"[..]));
    let one = c.bytes();
    c.delete("n").await.unwrap();
    assert_eq!(c.bytes(), 0);
    assert!(one > 4 && one < 300, "{one}");
    // Filled with values to the last small one, the cache still starts counters (failed
    // sign-ins, requests over a limit) in the room kept for them: 512 bytes a shard, three
    // or four counters of 141 bytes each with what the values left.
    assert_eq!(fill(&c, 1000).await.len(), 48);
    fill(&c, 16).await;
    assert!(matches!(
        c.put("another", b"v", LONG).await,
        Err(CacheError::Full)
    ));
    let (mut started, mut refused_in_a_row, mut i) = (Vec::new(), 0, 0);
    while refused_in_a_row < 300 {
        i += 1;
        let key = format!("f{i:05}");
        match c.incr(&key, LONG).await {
            Ok(n) => {
                assert_eq!(n, 1);
                started.push(key);
                refused_in_a_row = 0;
            }
            Err(CacheError::Full) => refused_in_a_row += 1,
            Err(e) => panic!("{e}"),
        }
    }
    assert!((48..=64).contains(&started.len()), "{}", started.len());
    // A counter already started still counts.
    assert_eq!(c.incr(&started[0], LONG).await.unwrap(), 2);
}

/// A `redis-server` of the test's own (so the shared one is left as it is), started with
/// `args`, and a cache connected to it; the server stops when the first value drops.
/// `None` where CI's Redis is not configured (the machine has no Redis to test with then).
async fn own_redis(args: &[&str]) -> Option<(OwnRedis, RedisCache)> {
    if std::env::var("VHOD_TEST_REDIS_URL").is_err() {
        eprintln!("note: VHOD_TEST_REDIS_URL unset, Redis variant skipped (CI sets it)");
        return None;
    }
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let server = std::process::Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .args(args)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("redis-server (Debian's redis-server package) must be installed");
    let server = OwnRedis(server);
    let url = format!("redis://127.0.0.1:{port}/");
    for _ in 0..100 {
        if let Ok(c) = RedisCache::connect(&url, "vhod:test:").await {
            return Some((server, c));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the test's redis-server did not start");
}

/// Stops a test's own `redis-server` when dropped.
struct OwnRedis(std::process::Child);

impl Drop for OwnRedis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A Redis at its `maxmemory` refuses writes with OOM, which reads as
/// [`CacheError::Full`]; reads still work.
#[tokio::test]
async fn redis_at_maxmemory_is_full() {
    let Some((_server, c)) =
        own_redis(&["--maxmemory", "2mb", "--maxmemory-policy", "noeviction"]).await
    else {
        return;
    };
    c.put("first", b"kept", LONG).await.unwrap();
    let value = vec![b'v'; 64 << 10];
    let mut refused = None;
    for i in 0..200 {
        if let Err(e) = c.put(&format!("k{i}"), &value, LONG).await {
            refused = Some(e);
            break;
        }
    }
    let kept = c.get("first").await;
    assert!(
        matches!(refused, Some(CacheError::Full)),
        "expected Full, got {refused:?}"
    );
    assert_eq!(kept.unwrap().as_deref(), Some(&b"kept"[..]));
}

/// A Redis says which keys it would drop when full (start-up refuses, in production, one
/// that would drop any); one whose `CONFIG` command is renamed away says nothing.
#[tokio::test]
async fn redis_tells_whether_it_evicts() {
    for (args, policy) in [
        (["--maxmemory-policy", "noeviction"], Some("noeviction")),
        (["--maxmemory-policy", "volatile-lru"], Some("volatile-lru")),
        (["--rename-command", "CONFIG"], None),
    ] {
        let mut args = args.to_vec();
        if policy.is_none() {
            args.push("");
        }
        let Some((_server, c)) = own_redis(&args).await else {
            return;
        };
        assert_eq!(
            c.eviction_policy().await.unwrap().as_deref(),
            policy,
            "{args:?}"
        );
    }
}
