//! The public keys of `private_key_jwt` clients registered with a `jwks_uri` (RFC 7591 §2,
//! OpenID Connect Dynamic Client Registration §2) instead of a key set: fetched from the
//! client's own server, kept for `cache_max_age`, and fetched again early when an assertion
//! names a key that is not in the set (the client has rotated), at most once per `cooldown`,
//! so assertions with made-up key ids cannot make vhod hammer the client's server. This is
//! how node-oidc-provider (jose's `createRemoteJWKSet`) and Keycloak ("Use JWKS URL") behave.
//!
//! Rules: one fetch per set at a time (the others wait for its result); no redirects; the
//! answer must be `200`, at most [`MAX_JWKS_BYTES`], within the timeout as a whole, and a
//! JWKS. Keys vhod cannot verify with (`use: enc`, unsupported types, short RSA keys) are
//! skipped, not fatal: clients often publish their encryption keys in the same set. When a
//! refetch fails, the keys fetched before stay in use until one succeeds.
//!
//! Each node keeps its own copy; nothing here is shared through the cache, since every node
//! can fetch the same set itself.

use keys::{Jwks, PublicKey};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The largest key set accepted, bytes.
pub const MAX_JWKS_BYTES: usize = 64 * 1024;

/// How key sets are fetched and kept.
#[derive(Clone, Debug)]
pub struct RemoteKeySettings {
    /// How long a fetched set is used before it is fetched again.
    pub cache_max_age: Duration,
    /// How long after a fetch (or a failed one) an unknown key id may cause another.
    pub cooldown: Duration,
    /// How long one fetch may take, from connecting to the last byte.
    pub timeout: Duration,
}

impl Default for RemoteKeySettings {
    fn default() -> Self {
        RemoteKeySettings {
            cache_max_age: Duration::from_secs(600),
            cooldown: Duration::from_secs(30),
            timeout: Duration::from_secs(5),
        }
    }
}

/// Why a key set could not be had.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// Connecting, sending or reading failed, or took too long.
    #[error("unreachable: {0}")]
    Unreachable(String),
    /// An answer other than 200 (a redirect included: none is followed).
    #[error("answered HTTP {0}")]
    Status(u16),
    /// More than [`MAX_JWKS_BYTES`].
    #[error("answered more than {MAX_JWKS_BYTES} bytes")]
    TooLarge,
    /// Not a JSON Web Key Set.
    #[error("answered something that is not a JWKS")]
    NotJwks,
    /// A JWKS without a key vhod can verify signatures with.
    #[error("answered a JWKS without a usable signature key")]
    NoUsableKey,
    /// The last attempt failed within the cooldown; not tried again yet.
    #[error("the last attempt failed less than the cooldown ago")]
    Cooling,
}

#[derive(Default)]
struct Entry {
    keys: Option<Arc<Jwks>>,
    fetched_at: Option<Instant>,
    tried_at: Option<Instant>,
}

/// Key sets fetched from clients, by URI.
pub struct RemoteKeys {
    settings: RemoteKeySettings,
    sets: Mutex<HashMap<String, Arc<tokio::sync::Mutex<Entry>>>>,
}

/// More sets than any deployment has clients with a `jwks_uri`: past it, the map starts over.
const MAX_SETS: usize = 10_000;

impl RemoteKeys {
    /// An empty cache.
    pub fn new(settings: RemoteKeySettings) -> RemoteKeys {
        RemoteKeys {
            settings,
            sets: Mutex::new(HashMap::new()),
        }
    }

    /// The key set at `uri`. It is fetched first when none is held or the one held is older
    /// than `cache_max_age`, or when `kid` is given and not in it; in each case only if the
    /// last attempt was at least `cooldown` ago. A failed fetch leaves the held set in use.
    pub async fn get(&self, uri: &str, kid: Option<&str>) -> Result<Arc<Jwks>, FetchError> {
        let entry = {
            let mut sets = self.sets.lock().unwrap_or_else(|p| p.into_inner());
            if sets.len() >= MAX_SETS && !sets.contains_key(uri) {
                sets.clear();
            }
            sets.entry(uri.to_owned()).or_default().clone()
        };
        // Held across the fetch: whoever comes meanwhile waits for its result.
        let mut e = entry.lock().await;
        let now = Instant::now();
        if let Some(keys) = &e.keys {
            let fresh = e
                .fetched_at
                .is_some_and(|t| now.duration_since(t) < self.settings.cache_max_age);
            let has_kid = kid.is_none_or(|k| keys.keys.iter().any(|j| j.kid.as_deref() == Some(k)));
            if fresh && has_kid {
                return Ok(keys.clone());
            }
        }
        if e.tried_at
            .is_some_and(|t| now.duration_since(t) < self.settings.cooldown)
        {
            return e.keys.clone().ok_or(FetchError::Cooling);
        }
        e.tried_at = Some(now);
        match fetch(uri, self.settings.timeout).await {
            Ok(set) => {
                let set = Arc::new(set);
                e.keys = Some(set.clone());
                e.fetched_at = Some(Instant::now());
                Ok(set)
            }
            Err(err) => {
                tracing::warn!(jwks_uri = uri, error = %err, "fetching a client's key set failed");
                e.keys.clone().ok_or(err)
            }
        }
    }
}

/// Why a client's public keys could not be had.
#[derive(Debug)]
pub enum ClientKeysError {
    /// The client registered no keys (neither `jwks` nor `jwks_uri`).
    NoKeys,
    /// Its registered `jwks` does not parse (a store written by hand).
    Malformed,
    /// Its `jwks_uri` could not be fetched.
    Fetch(FetchError),
}

/// The client's public keys: its registered `jwks`, else the set at its `jwks_uri` (fetched
/// again when `kid` is not in the set held).
pub async fn of_client(
    app: &crate::app::App,
    client: &crate::store::Client,
    kid: Option<&str>,
) -> Result<Arc<Jwks>, ClientKeysError> {
    match (&client.jwks, &client.jwks_uri) {
        (Some(j), _) => serde_json::from_str(j)
            .map(Arc::new)
            .map_err(|_| ClientKeysError::Malformed),
        (None, Some(uri)) => app
            .client_keys
            .get(uri, kid)
            .await
            .map_err(ClientKeysError::Fetch),
        (None, None) => Err(ClientKeysError::NoKeys),
    }
}

/// The key of `set` that verifies a JWS with header `h`: the one named by its `kid`, or,
/// without a `kid`, the first one.
pub fn key_for(set: &Jwks, h: &keys::JwsHeader) -> Option<PublicKey> {
    set.keys
        .iter()
        .find(|k| h.kid.is_none() || k.kid.as_deref() == h.kid.as_deref())
        .and_then(|k| PublicKey::from_jwk(k).ok())
}

/// Whether `uri` may be registered as a client's `jwks_uri` (or `backchannel_logout_uri`, held to
/// the same rules): an absolute `https` URL, or plain `http` on a loopback host (a client on
/// the same machine); without credentials in it (they would reach the logs) or a fragment.
pub fn check_jwks_uri(uri: &str) -> Result<(), &'static str> {
    if uri.len() > 2000 {
        return Err("is longer than 2000 characters");
    }
    let u = url::Url::parse(uri).map_err(|_| "is not an absolute URL")?;
    if !u.username().is_empty() || u.password().is_some() {
        return Err("must not carry credentials");
    }
    if u.fragment().is_some() {
        return Err("must not have a fragment");
    }
    match (u.scheme(), u.host()) {
        ("https", Some(_)) => Ok(()),
        ("http", Some(url::Host::Domain(d))) if d.eq_ignore_ascii_case("localhost") => Ok(()),
        ("http", Some(url::Host::Ipv4(a))) if a.is_loopback() => Ok(()),
        ("http", Some(url::Host::Ipv6(a))) if a.is_loopback() => Ok(()),
        ("http", _) => Err("must use https (plain http only on a loopback host)"),
        _ => Err("must be an https URL"),
    }
}

async fn fetch(uri: &str, timeout: Duration) -> Result<Jwks, FetchError> {
    let unreachable = |e: reqwest::Error| FetchError::Unreachable(e.without_url().to_string());
    // Built per fetch, as the registry check does: fetches are rare (at most one per set per
    // cooldown), and a client that cannot be built is then one failed fetch, not a failed start.
    let http = reqwest::Client::builder()
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(unreachable)?;
    let mut r = http
        .get(uri)
        .header(
            reqwest::header::ACCEPT,
            "application/jwk-set+json, application/json",
        )
        .send()
        .await
        .map_err(unreachable)?;
    if r.status() != reqwest::StatusCode::OK {
        return Err(FetchError::Status(r.status().as_u16()));
    }
    if r.content_length()
        .is_some_and(|n| n > MAX_JWKS_BYTES as u64)
    {
        return Err(FetchError::TooLarge);
    }
    let mut body = Vec::new();
    while let Some(chunk) = r.chunk().await.map_err(unreachable)? {
        if body.len() + chunk.len() > MAX_JWKS_BYTES {
            return Err(FetchError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    let set: Jwks = serde_json::from_slice(&body).map_err(|_| FetchError::NotJwks)?;
    let keys: Vec<_> = set
        .keys
        .into_iter()
        .filter(|k| k.use_.as_deref().is_none_or(|u| u == "sig"))
        .filter(|k| PublicKey::from_jwk(k).is_ok())
        .collect();
    if keys.is_empty() {
        return Err(FetchError::NoUsableKey);
    }
    Ok(Jwks { keys })
}

#[cfg(test)]
mod tests {
    use super::check_jwks_uri;

    #[test]
    fn only_https_or_loopback_http_jwks_uris_are_accepted() {
        for ok in [
            "https://rp.example/jwks.json",
            "https://rp.example:8443/.well-known/jwks?v=2",
            "http://127.0.0.1:9000/jwks",
            "http://localhost/jwks",
            "http://[::1]:80/jwks",
        ] {
            assert_eq!(check_jwks_uri(ok), Ok(()), "{ok}");
        }
        for (bad, why) in [
            (
                "http://rp.example/jwks",
                "must use https (plain http only on a loopback host)",
            ),
            (
                "http://10.0.0.1/jwks",
                "must use https (plain http only on a loopback host)",
            ),
            ("ftp://rp.example/jwks", "must be an https URL"),
            ("file:///etc/passwd", "must be an https URL"),
            ("/jwks", "is not an absolute URL"),
            (
                "https://user:pw@rp.example/jwks",
                "must not carry credentials",
            ),
            ("https://rp.example/jwks#k", "must not have a fragment"),
        ] {
            assert_eq!(check_jwks_uri(bad), Err(why), "{bad}");
        }
        let long = format!("https://rp.example/{}", "a".repeat(2000));
        assert_eq!(check_jwks_uri(&long), Err("is longer than 2000 characters"));
    }
}
