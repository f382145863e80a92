//! How many authorization requests one client address may start in a minute, and how many
//! one client may push.
//!
//! An authorization request that starts an interaction (the login, consent or second-factor
//! page) or a device's request keeps state in the cache until it is answered or expires
//! (half an hour for an interaction, ten minutes for a device). Without a limit one address
//! could fill the cache with requests nobody will answer. A request that a session answers
//! at once (single sign-on, `prompt=none`) stores only a code for a minute and is not
//! counted: many people behind one address (an office, a carrier's NAT) renewing their
//! sign-ins silently do not use up the address's count. The count is kept in the shared
//! cache, so every node counts together; the address is the one [`crate::http::client_ip`]
//! finds (behind a trusted proxy, the one it appended to `X-Forwarded-For`), and an IPv6
//! address counts with its whole /64, the block one subscriber is usually given.
//!
//! The window slides: each key has one counter per minute of the clock, and a request is
//! let through while this minute's count plus the last minute's, weighted by the part of
//! the last minute that is still within sixty seconds, stays within the limit (the sliding
//! window counter of Cloudflare's rate limiting). A window that began with the first request
//! and ended a minute later let a burst at its end and another at the next one's start
//! through, twice the limit within seconds; here the last minute's burst still weighs on
//! the start of the next. Refused requests are not counted: a caller over the limit still
//! gets the limit's worth through, and one that waits the `Retry-After` it was given gets
//! through then.

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

/// Counts one request under `key` against `limit` a sliding window (0: no limit): `None`
/// when it is let through (and counted), otherwise whether this is the first refusal of the
/// minute (to log once a minute) and the whole seconds until one more would be let through.
async fn count(app: &App, key: &str, limit: u64) -> Result<Option<(bool, u64)>, CacheError> {
    if limit == 0 {
        return Ok(None);
    }
    let w = WINDOW.as_secs();
    let now = u64::try_from(app.now()).unwrap_or(0);
    let (minute, elapsed) = (now / w, now % w);
    let this_key = format!("{key}:{minute}");
    let read = |k: String| async move {
        let v = app.cache.get(&k).await?;
        Ok::<u64, CacheError>(v.as_deref().map(crate::cache::parse_count).unwrap_or(0))
    };
    let seen = Seen {
        last: match minute.checked_sub(1) {
            Some(m) => read(format!("{key}:{m}")).await?,
            None => 0,
        },
        this: read(this_key.clone()).await?,
        elapsed,
    };
    if (Seen {
        this: seen.this.saturating_add(1),
        ..seen
    })
    .within(limit)
    {
        // Each minute's counter lives two windows, so that the next minute can weigh it.
        // Nodes that read at once may each let one more through: the limit is a bound on a
        // flood, not an exact quota.
        app.cache.incr(&this_key, WINDOW * 2).await?;
        return Ok(None);
    }
    let first = app
        .cache
        .put_if_absent(&format!("{this_key}:refused"), b"1", WINDOW)
        .await?;
    Ok(Some((first, seen.wait(limit))))
}

/// What a key's counters say at one moment.
#[derive(Clone, Copy, Debug)]
struct Seen {
    /// The last minute's count.
    last: u64,
    /// This minute's, so far.
    this: u64,
    /// Seconds since this minute began.
    elapsed: u64,
}

impl Seen {
    /// Whether `last` weighted by the part of the last minute still within a window, plus
    /// `this`, is at most `limit` (in whole numbers: each side times the window). For the
    /// request being decided, `this` counts it.
    fn within(self, limit: u64) -> bool {
        let w = WINDOW.as_secs();
        let weight = w - self.elapsed.min(w);
        self.last
            .saturating_mul(weight)
            .saturating_add(self.this.saturating_mul(w))
            <= limit.saturating_mul(w)
    }

    /// The whole seconds, at least one, until one more request would be let through if no
    /// other came meanwhile: within this minute as the last minute's weight falls, or within
    /// the next as this minute's does; after two windows nothing is left to weigh.
    fn wait(self, limit: u64) -> u64 {
        let w = WINDOW.as_secs();
        (1..2 * w)
            .find(|&s| {
                let t = self.elapsed + s;
                let then = if t < w {
                    Seen {
                        this: self.this + 1,
                        elapsed: t,
                        ..self
                    }
                } else if t < 2 * w {
                    Seen {
                        last: self.this,
                        this: 1,
                        elapsed: t - w,
                    }
                } else {
                    return true;
                };
                then.within(limit)
            })
            .unwrap_or(2 * w)
    }
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
    use super::{bucket, Seen};

    /// Feeds `times` (seconds on the clock, in order) to the counters as [`super::count`]
    /// does, and says which requests were let through (and counted).
    fn let_through(times: &[u64], limit: u64) -> Vec<bool> {
        let mut minutes = std::collections::HashMap::<u64, u64>::new();
        times
            .iter()
            .map(|&t| {
                let seen = seen_at(&minutes, t);
                let through = Seen {
                    this: seen.this + 1,
                    ..seen
                }
                .within(limit);
                if through {
                    *minutes.entry(t / 60).or_default() += 1;
                }
                through
            })
            .collect()
    }

    fn seen_at(minutes: &std::collections::HashMap<u64, u64>, t: u64) -> Seen {
        let count = |m: Option<u64>| m.and_then(|m| minutes.get(&m)).copied().unwrap_or(0);
        Seen {
            last: count((t / 60).checked_sub(1)),
            this: count(Some(t / 60)),
            elapsed: t % 60,
        }
    }

    fn through(times: &[u64], limit: u64, from: usize) -> usize {
        let_through(times, limit)[from..]
            .iter()
            .filter(|x| **x)
            .count()
    }

    #[test]
    fn a_burst_at_a_minutes_end_still_weighs_on_the_next() {
        // Ten at 0:59, then ten more at 1:01: a window that began with the first took all
        // twenty.
        let mut times = vec![59; 10];
        times.extend([61; 10]);
        assert_eq!(through(&times, 10, 0), 10);
        // At 1:40 the last minute weighs a third: six more get through.
        let mut later = times.clone();
        later.extend([100; 10]);
        assert_eq!(through(&later, 10, 20), 6);
        // Two minutes on, nothing is left of the burst.
        let mut much_later = times;
        much_later.extend([180; 10]);
        assert_eq!(through(&much_later, 10, 20), 10);
    }

    #[test]
    fn a_steady_caller_gets_the_limit_through() {
        // One request every seven seconds for ten minutes, under a limit of ten a minute.
        let times: Vec<u64> = (0..86).map(|i| i * 7).collect();
        assert_eq!(through(&times, 10, 0), times.len());
        // One every second: at most ten a minute get through, and not many fewer (the
        // weighted estimate errs on the side of the limit), the first minute's ten at once.
        let times: Vec<u64> = (0..600).collect();
        let n = through(&times, 10, 0);
        assert!((85..=100).contains(&n), "{n}");
        assert!(let_through(&times, 10)[..10].iter().all(|x| *x));
    }

    #[test]
    fn the_wait_given_is_exactly_when_the_next_request_gets_through() {
        for limit in [1, 3, 10, 300] {
            for last in [0, limit / 2, limit, limit * 3] {
                for elapsed in [0, 1, 30, 59] {
                    // This minute's count, as high as the last minute's weight lets it be.
                    let mut minutes = std::collections::HashMap::from([(0, last)]);
                    let t = 60 + elapsed;
                    let times = vec![t; limit as usize + 1];
                    let mut counted = 0;
                    for x in let_through(&times, limit) {
                        counted += u64::from(x);
                    }
                    minutes.insert(1, counted);
                    let seen = seen_at(&minutes, t);
                    assert!(!Seen {
                        this: seen.this + 1,
                        ..seen
                    }
                    .within(limit));
                    let wait = seen.wait(limit);
                    assert!((1..=120).contains(&wait), "{seen:?}: {wait}");
                    let next_through = |s: u64| {
                        let later = seen_at(&minutes, t + s);
                        Seen {
                            this: later.this + 1,
                            ..later
                        }
                        .within(limit)
                    };
                    assert!(next_through(wait), "{seen:?}: not through after {wait} s");
                    if wait > 1 {
                        assert!(!next_through(wait - 1), "{seen:?}: through before {wait} s");
                    }
                }
            }
        }
    }

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
