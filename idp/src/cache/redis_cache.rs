//! The shared cache on Redis: every node sees the same codes, sessions and counters.
//! `consume` is GETDEL and `put_if_absent` is SET NX PX, so one-time values stay one-time
//! across nodes.

use super::{Cache, CacheError, MAX_TTL};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use std::time::Duration;

/// INCR, and set the expiry only when the counter has none (first increment): a fixed window.
const INCR_SCRIPT: &str = r"
local n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('PTTL', KEYS[1]) == -1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return n
";

/// A Redis-backed cache over an auto-reconnecting connection; every key is prefixed.
#[derive(Clone)]
pub struct RedisCache {
    conn: ConnectionManager,
    prefix: String,
    incr: redis::Script,
}

impl std::fmt::Debug for RedisCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisCache")
            .field("prefix", &self.prefix)
            .finish_non_exhaustive()
    }
}

fn backend(e: redis::RedisError) -> CacheError {
    // Redis at its `maxmemory` with a no-eviction policy answers writes with OOM.
    if e.code() == Some("OOM") {
        return CacheError::Full;
    }
    CacheError::Backend(format!("redis: {e}"))
}

/// A TTL in whole milliseconds, at least 1 (Redis rejects PX 0) and at most [`MAX_TTL`].
fn ms(ttl: Duration) -> u64 {
    u64::try_from(ttl.min(MAX_TTL).as_millis())
        .unwrap_or(u64::MAX)
        .max(1)
}

/// `url` with any password replaced, for error messages and logs.
fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            u.to_string()
        }
        Err(_) => "<unparsable Redis URL>".to_owned(),
    }
}

impl RedisCache {
    /// Connects to `url` (reconnecting later as needed) and checks the server answers; every
    /// key is stored as `prefix` + key. Errors name the URL without its password.
    pub async fn connect(url: &str, prefix: &str) -> Result<RedisCache, CacheError> {
        let shown = redacted(url);
        let fail = |e: redis::RedisError| CacheError::Connect(format!("{shown}: {e}"));
        let client = redis::Client::open(url).map_err(fail)?;
        // Backoff between attempts is 1 s * factor^n (redis' default factor of 100 would make a
        // dead server take minutes to report).
        let config = ConnectionManagerConfig::new()
            .set_factor(2)
            .set_max_delay(2_000)
            .set_number_of_retries(2)
            .set_connection_timeout(Duration::from_secs(5))
            .set_response_timeout(Duration::from_secs(5));
        let conn = ConnectionManager::new_with_config(client, config)
            .await
            .map_err(fail)?;
        let c = RedisCache {
            conn,
            prefix: prefix.to_owned(),
            incr: redis::Script::new(INCR_SCRIPT),
        };
        c.ping()
            .await
            .map_err(|e| CacheError::Connect(format!("{shown}: {e}")))?;
        Ok(c)
    }

    /// The server's `maxmemory-policy`, or `None` when it will not say (`CONFIG` is renamed
    /// or refused on many managed services).
    ///
    /// Anything but `noeviction` lets Redis drop keys when it is full, and every key here has
    /// a lifetime, so even the `volatile-*` policies may drop any of them: sessions, one-time
    /// codes, and the records that keep codes, tokens' `jti` and DPoP proofs single-use.
    pub async fn eviction_policy(&self) -> Result<Option<String>, CacheError> {
        let mut c = self.conn.clone();
        let answer: redis::RedisResult<Vec<String>> = redis::cmd("CONFIG")
            .arg("GET")
            .arg("maxmemory-policy")
            .query_async(&mut c)
            .await;
        match answer {
            Ok(pair) => Ok(pair.get(1).cloned()),
            Err(e) if e.kind() == redis::ErrorKind::IoError => Err(backend(e)),
            Err(_) => Ok(None),
        }
    }

    /// Checks the server answers PING.
    pub async fn ping(&self) -> Result<(), CacheError> {
        let mut c = self.conn.clone();
        let _: String = redis::cmd("PING")
            .query_async(&mut c)
            .await
            .map_err(backend)?;
        Ok(())
    }

    fn k(&self, key: &str) -> String {
        format!("{}{}", self.prefix, key)
    }

    async fn query<T: redis::FromRedisValue>(&self, cmd: &redis::Cmd) -> Result<T, CacheError> {
        let mut c = self.conn.clone();
        cmd.query_async(&mut c).await.map_err(backend)
    }
}

#[async_trait::async_trait]
impl Cache for RedisCache {
    async fn put(&self, key: &str, value: &[u8], ttl: Duration) -> Result<(), CacheError> {
        self.query(
            redis::cmd("SET")
                .arg(self.k(key))
                .arg(value)
                .arg("PX")
                .arg(ms(ttl)),
        )
        .await
    }

    async fn put_if_absent(
        &self,
        key: &str,
        value: &[u8],
        ttl: Duration,
    ) -> Result<bool, CacheError> {
        let set = redis::cmd("SET")
            .arg(self.k(key))
            .arg(value)
            .arg("NX")
            .arg("PX")
            .arg(ms(ttl))
            .clone();
        let r: Option<String> = self.query(&set).await?;
        Ok(r.is_some())
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        self.query(redis::cmd("GET").arg(self.k(key))).await
    }

    async fn consume(&self, key: &str) -> Result<Option<Vec<u8>>, CacheError> {
        self.query(redis::cmd("GETDEL").arg(self.k(key))).await
    }

    async fn delete(&self, key: &str) -> Result<(), CacheError> {
        let _: i64 = self.query(redis::cmd("DEL").arg(self.k(key))).await?;
        Ok(())
    }

    async fn incr(&self, key: &str, ttl: Duration) -> Result<u64, CacheError> {
        let mut c = self.conn.clone();
        self.incr
            .key(self.k(key))
            .arg(ms(ttl))
            .invoke_async(&mut c)
            .await
            .map_err(backend)
    }

    async fn ttl(&self, key: &str) -> Result<Option<Duration>, CacheError> {
        let t: i64 = self.query(redis::cmd("PTTL").arg(self.k(key))).await?;
        Ok(match t {
            -1 => Some(Duration::MAX),
            t => u64::try_from(t).ok().map(Duration::from_millis),
        })
    }
}
