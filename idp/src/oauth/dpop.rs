//! DPoP, sender-constrained tokens (RFC 9449), at the token endpoint and at userinfo.
//!
//! A token request that carries a `DPoP` proof gets an access token bound to the proof's key
//! (`cnf.jkt`, `token_type: DPoP`); a public client's refresh token is bound to that key too
//! (§5: every later refresh must prove the same key). At userinfo such a token is accepted
//! only under the `DPoP` scheme with a proof of the same key for that request and that token
//! (`ath`); presented as a Bearer token, it is refused (§7.2), so a stolen token alone is
//! useless.
//!
//! Rules for a proof: exactly one `DPoP` header; `typ` `dpop+jwt`, an asymmetric `alg`, a
//! public `jwk` that verifies it (`keys::dpop`); `htm` the request's method and `htu` its URL
//! without query or fragment; `iat` at most [`MAX_AGE`] s old and [`MAX_AHEAD`] s ahead; its
//! `jti` never seen before for that key within that window (the shared cache, so on every
//! node). A code can be bound too (§10: `dpop_jkt`, or a proof sent with a pushed request;
//! see `par` and the code grant). Server-chosen nonces (§8) are not offered.

use crate::app::App;
use crate::crypto::sha256_b64;
use crate::oauth::error::{ErrorCode, OAuthError};
use axum::http::HeaderMap;
use std::time::Duration;

/// The oldest proof accepted, seconds.
pub const MAX_AGE: i64 = 300;
/// How far ahead of our clock a proof's `iat` may be, seconds.
pub const MAX_AHEAD: i64 = 60;

/// An `invalid_dpop_proof` error.
pub fn invalid(why: &'static str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidDpopProof, why)
}

/// The request's `DPoP` header: `None` when there is none; an error when there are several.
fn header(headers: &HeaderMap) -> Result<Option<&str>, OAuthError> {
    let mut all = headers.get_all("dpop").iter();
    let (Some(first), None) = (all.next(), all.next()) else {
        return match headers.contains_key("dpop") {
            true => Err(invalid("more than one DPoP header")),
            false => Ok(None),
        };
    };
    first
        .to_str()
        .map(Some)
        .map_err(|_| invalid("the DPoP header is not a JWS"))
}

/// `u` without query and fragment, normalised (scheme and host in lower case, default port
/// dropped), for comparing `htu` (RFC 9449 §4.3, RFC 3986 §6.2.2–6.2.3).
fn normal(u: &str) -> Option<String> {
    let mut u = url::Url::parse(u).ok()?;
    u.set_query(None);
    u.set_fragment(None);
    Some(u.to_string())
}

/// Checks the proof of a request of `method` to `url`, if it has one, and returns its key's
/// thumbprint. With `token`, the proof must name it (`ath`).
pub async fn check(
    app: &App,
    headers: &HeaderMap,
    method: &str,
    url: &str,
    token: Option<&str>,
) -> Result<Option<String>, OAuthError> {
    let Some(raw) = header(headers)? else {
        return Ok(None);
    };
    let p = keys::dpop::verify_proof(raw).map_err(|e| {
        tracing::debug!(error = %e, "DPoP proof refused");
        invalid("the DPoP proof is malformed or its signature does not verify with its jwk")
    })?;
    if p.htm != method {
        return Err(invalid("the DPoP proof's htm is not this request's method"));
    }
    if normal(&p.htu).is_none_or(|h| Some(h) != normal(url)) {
        return Err(invalid("the DPoP proof's htu is not this request's URL"));
    }
    let now = app.now();
    if p.iat < now - MAX_AGE || p.iat > now + MAX_AHEAD {
        return Err(invalid("the DPoP proof's iat is too old or in the future"));
    }
    if let Some(t) = token {
        if p.ath.as_deref() != Some(keys::dpop::access_token_hash(t).as_str()) {
            return Err(invalid(
                "the DPoP proof's ath is not this access token's hash",
            ));
        }
    }
    let key = format!("dpop-jti:{}:{}", p.jkt, sha256_b64(&p.jti));
    let ttl = Duration::from_secs((MAX_AGE + MAX_AHEAD + 60) as u64);
    if !app.cache.put_if_absent(&key, b"1", ttl).await? {
        return Err(invalid("the DPoP proof was already used"));
    }
    Ok(Some(p.jkt))
}

#[cfg(test)]
mod tests {
    use super::normal;

    #[test]
    fn htu_is_compared_without_query_fragment_or_case_of_scheme_and_host() {
        let token = normal("https://op.example/token");
        assert_eq!(normal("HTTPS://OP.example:443/token?x=1#f"), token);
        assert_ne!(normal("https://op.example/Token"), token);
        assert_ne!(normal("http://op.example/token"), token);
        assert_eq!(normal("not a url"), None);
    }
}
