//! How many authorization requests one client address may start in a minute, and how many
//! one client may push.
//!
//! An authorization request that starts an interaction (the login, consent or second-factor
//! page) or a device's request keeps state in the cache until it is answered or expires
//! (half an hour for an interaction, ten minutes for a device). Without a limit one address
//! could fill the cache with requests nobody will answer. A request that a session answers
//! at once (single sign-on, `prompt=none`) stores only a code for a minute and is not
//! counted: many people behind one address (an office, a carrier's NAT) renewing their
//! sign-ins silently do not use up the address's count. The count is a fixed window per address in the shared
//! cache, so every node counts together; the address is the one [`crate::http::client_ip`]
//! finds (behind a trusted proxy, the one it appended to `X-Forwarded-For`), and an IPv6
//! address counts with its whole /64, the block one subscriber is usually given.

use crate::app::App;
use crate::cache::CacheError;
use std::net::IpAddr;
use std::time::Duration;

/// The window the limit counts in.
pub const WINDOW: Duration = Duration::from_secs(60);

/// The default number of authorization requests one address may make in [`WINDOW`].
pub const DEFAULT_PER_MINUTE: u64 = 300;

/// The default number of authorization requests one client may push in [`WINDOW`]
/// (RFC 9126 §2.3 allows a 429). A relying party's back end pushes for every one of its
/// users, so the number is a busy service's peak, not a person's: it is there so that one
/// client, its credentials stolen or its code in a loop, cannot fill the cache that every
/// other client's sign-ins need (each push is kept for `par_ttl`, a minute by default).
pub const DEFAULT_PUSHES_PER_MINUTE: u64 = 6000;

/// What `ip` is counted as: itself, or for IPv6 its /64 (an IPv4 address mapped into IPv6
/// is the IPv4 address).
fn bucket(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// Counts one authorization request from `ip`: `None` while the address is within the
/// limit (or there is none), otherwise the whole seconds until its window ends.
pub async fn authorization(app: &App, ip: IpAddr) -> Result<Option<u64>, CacheError> {
    let limit = app.settings.authorization_requests_per_minute;
    let over = count(app, &format!("rl:authz:{}", bucket(ip)), limit).await?;
    if over.is_some_and(|(first, _)| first) {
        // Once a window: a flood must not flood the log too.
        tracing::warn!(address = %bucket(ip), limit, "authorization requests over the limit");
    }
    Ok(over.map(|(_, wait)| wait))
}

/// Counts one pushed authorization request of client `client_id` (RFC 9126 §2.3): `None`
/// while the client is within its limit (or there is none), otherwise the whole seconds
/// until its window ends.
pub async fn pushed(app: &App, client_id: &str) -> Result<Option<u64>, CacheError> {
    let limit = app.settings.pushed_requests_per_minute;
    let over = count(app, &format!("rl:par:{client_id}"), limit).await?;
    if over.is_some_and(|(first, _)| first) {
        tracing::warn!(%client_id, limit, "pushed authorization requests over the limit");
    }
    Ok(over.map(|(_, wait)| wait))
}

/// Counts one request under `key` against `limit` a window (0: no limit): `None` within it,
/// otherwise whether this is the first request over it (to log once a window) and the whole
/// seconds until the window ends.
async fn count(app: &App, key: &str, limit: u64) -> Result<Option<(bool, u64)>, CacheError> {
    if limit == 0 {
        return Ok(None);
    }
    let n = app.cache.incr(key, WINDOW).await?;
    if n <= limit {
        return Ok(None);
    }
    let left = app.cache.ttl(key).await?.unwrap_or(WINDOW).min(WINDOW);
    Ok(Some((n == limit + 1, left.as_secs().max(1))))
}

/// The description of the refusal, for a client and a log.
pub fn description(wait: u64) -> String {
    format!("too many authorization requests from this address; try again in {wait} s")
}

/// The description of a refused push, for the client and a log.
pub fn pushed_description(wait: u64) -> String {
    format!("too many pushed authorization requests from this client; try again in {wait} s")
}

#[cfg(test)]
mod tests {
    use super::bucket;

    #[test]
    fn addresses_count_alone_or_by_their_64() {
        let v4: std::net::IpAddr = "203.0.113.7".parse().unwrap();
        assert_eq!(bucket(v4), "203.0.113.7");
        let a: std::net::IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: std::net::IpAddr = "2001:db8:1:2:ffff:0:0:9".parse().unwrap();
        let c: std::net::IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(bucket(a), bucket(b));
        assert_ne!(bucket(a), bucket(c));
        assert_eq!(bucket(a), "2001:db8:1:2::/64");
        let mapped: std::net::IpAddr = "::ffff:203.0.113.7".parse().unwrap();
        assert_eq!(bucket(mapped), "203.0.113.7");
    }
}
