//! Browser sessions: a random cookie value naming a record in the shared cache, so every
//! node sees the same session (single sign-on across clients).

use crate::app::App;
use crate::cache::{Cache, CacheError};
use crate::crypto::{random_token, sha256_b64};
use axum::http::{HeaderMap, HeaderValue};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A signed-in browser.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Session {
    /// Public session id (`sid` in ID tokens); not the cookie value.
    pub sid: String,
    /// The account.
    pub account_id: String,
    /// When the person authenticated.
    pub auth_time: i64,
    /// Authentication methods used (RFC 8176).
    pub amr: Vec<String>,
    /// Assurance level at authentication.
    pub acr: String,
    /// The account's session epoch when the session began; a password reset moves the
    /// epoch on, ending every older session.
    #[serde(default)]
    pub epoch: u64,
}

/// The cookie's name: `__Host-` prefixed over TLS.
pub fn cookie_name(app: &App) -> &'static str {
    if app.settings.secure_cookies {
        "__Host-vhod_session"
    } else {
        "vhod_session"
    }
}

fn key(cookie_value: &str) -> String {
    format!("sess:{}", sha256_b64(cookie_value))
}

/// The session the request's cookie names, if it is still alive.
pub async fn current(app: &App, headers: &HeaderMap) -> Result<Option<Session>, CacheError> {
    let Some(v) = crate::http::cookie(headers, cookie_name(app)) else {
        return Ok(None);
    };
    if v.len() > 128 {
        return Ok(None);
    }
    let Some(raw) = app.cache.get(&key(v)).await? else {
        return Ok(None);
    };
    let Ok(s) = serde_json::from_slice::<Session>(&raw) else {
        return Ok(None);
    };
    // Sessions begun before the account's last password reset are over.
    if s.epoch < epoch(app, &s.account_id).await? {
        let _ = app.cache.delete(&key(v)).await;
        return Ok(None);
    }
    Ok(Some(s))
}

fn epoch_key(account_id: &str) -> String {
    format!("sess:epoch:{account_id}")
}

/// How long an account's session epoch is kept (far longer than any session lives).
const EPOCH_TTL: Duration = Duration::from_secs(400 * 86_400);

async fn epoch(app: &App, account_id: &str) -> Result<u64, CacheError> {
    Ok(app
        .cache
        .get(&epoch_key(account_id))
        .await?
        .and_then(|v| std::str::from_utf8(&v).ok().and_then(|t| t.parse().ok()))
        .unwrap_or(0))
}

/// Ends every session of `account_id` on every node: the sessions are found by cookie, so
/// the account's epoch in the shared cache moves on instead, and older sessions no longer
/// count. The clients of the sessions that were alive are told (back-channel logout).
pub async fn end_all(app: &App, account_id: &str) -> Result<(), CacheError> {
    let sids = live_sids(app, account_id).await;
    app.cache.incr(&epoch_key(account_id), EPOCH_TTL).await?;
    crate::oauth::backchannel::sessions_ended(app, account_id, &sids).await;
    Ok(())
}

/// The `sid`s of `account_id`'s sessions alive now. A failure to read is logged and counts
/// as none: it must not stop the sessions from ending.
pub async fn live_sids(app: &App, account_id: &str) -> Vec<String> {
    let rows = match app.db.sessions().list(account_id, app.now()).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "the account's sessions not listed");
            return Vec::new();
        }
    };
    let mut sids = Vec::new();
    for r in rows {
        if is_live(app, &r.cache_key).await.unwrap_or(false) {
            sids.push(r.sid);
        }
    }
    sids
}

/// Ends every session of `s`'s account but the one this request's cookie names, which is
/// stored again under the account's new epoch (same cookie, same `sid`).
pub async fn end_others(app: &App, headers: &HeaderMap, s: &Session) -> Result<(), CacheError> {
    let others: Vec<String> = live_sids(app, &s.account_id)
        .await
        .into_iter()
        .filter(|sid| *sid != s.sid)
        .collect();
    app.cache.incr(&epoch_key(&s.account_id), EPOCH_TTL).await?;
    crate::oauth::backchannel::sessions_ended(app, &s.account_id, &others).await;
    let Some(k) = current_key(app, headers) else {
        return Ok(());
    };
    let mut s = s.clone();
    s.epoch = epoch(app, &s.account_id).await?;
    let json = serde_json::to_vec(&s).map_err(|e| CacheError::Backend(e.to_string()))?;
    let ttl = Duration::from_secs(app.settings.session_ttl.max(1) as u64);
    app.cache.put(&k, &json, ttl).await
}

/// Starts a new session (a new cookie value on every login: no fixation) and returns the
/// `Set-Cookie` header.
pub async fn start(app: &App, s: &Session) -> Result<Option<HeaderValue>, CacheError> {
    Ok(start_keyed(app, s).await?.0)
}

/// [`start`], also returning the session's cache key (for the account's list of sessions).
pub async fn start_keyed(
    app: &App,
    s: &Session,
) -> Result<(Option<HeaderValue>, String), CacheError> {
    let value = random_token(32);
    let mut s = s.clone();
    s.epoch = epoch(app, &s.account_id).await?;
    let json = serde_json::to_vec(&s).map_err(|e| CacheError::Backend(e.to_string()))?;
    let ttl = Duration::from_secs(app.settings.session_ttl.max(1) as u64);
    let k = key(&value);
    app.cache.put(&k, &json, ttl).await?;
    let cookie = crate::http::set_cookie(
        cookie_name(app),
        &value,
        "/",
        app.settings.session_ttl,
        app.settings.secure_cookies,
    );
    Ok((cookie, k))
}

/// After a re-authentication: replaces the session this request's cookie names with `s`
/// (same cookie, same `sid`, new `auth_time` and `amr`). False when the cookie no longer
/// names a live session with that `sid` (a new session is needed then).
pub async fn renew(app: &App, headers: &HeaderMap, s: &Session) -> Result<bool, CacheError> {
    let Some(k) = current_key(app, headers) else {
        return Ok(false);
    };
    let Some(old) = get_json::<Session>(app.cache.as_ref(), &k).await? else {
        return Ok(false);
    };
    if old.sid != s.sid || old.account_id != s.account_id {
        return Ok(false);
    }
    let mut s = s.clone();
    s.epoch = old.epoch;
    let json = serde_json::to_vec(&s).map_err(|e| CacheError::Backend(e.to_string()))?;
    let ttl = Duration::from_secs(app.settings.session_ttl.max(1) as u64);
    app.cache.put(&k, &json, ttl).await?;
    Ok(true)
}

/// The cache key of the session this request's cookie names.
pub fn current_key(app: &App, headers: &HeaderMap) -> Option<String> {
    crate::http::cookie(headers, cookie_name(app))
        .filter(|v| v.len() <= 128)
        .map(key)
}

/// Whether the session stored under `cache_key` is still alive (not expired, not ended by a
/// password reset).
pub async fn is_live(app: &App, cache_key: &str) -> Result<bool, CacheError> {
    let Some(raw) = app.cache.get(cache_key).await? else {
        return Ok(false);
    };
    let Ok(s) = serde_json::from_slice::<Session>(&raw) else {
        return Ok(false);
    };
    Ok(s.epoch >= epoch(app, &s.account_id).await?)
}

/// Ends the request's session, tells its clients (back-channel logout) and returns the
/// cookie-clearing header.
pub async fn end(app: &App, headers: &HeaderMap) -> Result<Option<HeaderValue>, CacheError> {
    if let Some(k) = current_key(app, headers) {
        let ended = get_json::<Session>(app.cache.as_ref(), &k).await?;
        app.cache.delete(&k).await?;
        if let Some(s) = ended {
            // A session a password reset had already ended was told of then.
            if s.epoch >= epoch(app, &s.account_id).await? {
                let sids = [s.sid];
                crate::oauth::backchannel::sessions_ended(app, &s.account_id, &sids).await;
            }
        }
    }
    Ok(crate::http::set_cookie(
        cookie_name(app),
        "",
        "/",
        0,
        app.settings.secure_cookies,
    ))
}

/// A new public session id.
pub fn new_sid() -> String {
    random_token(16)
}

/// A CSRF token bound to the session cookie (for the logout form).
pub fn csrf_for(app: &App, headers: &HeaderMap) -> Option<String> {
    let v = crate::http::cookie(headers, cookie_name(app))?;
    Some(crate::crypto::hmac_b64(
        &app.secrets.client_secret_key,
        format!("csrf:{v}").as_bytes(),
    ))
}

/// Reads one JSON value from the cache, treating undecodable data as absent.
pub async fn get_json<T: serde::de::DeserializeOwned>(
    cache: &dyn Cache,
    k: &str,
) -> Result<Option<T>, CacheError> {
    Ok(cache
        .get(k)
        .await?
        .and_then(|raw| serde_json::from_slice(&raw).ok()))
}
