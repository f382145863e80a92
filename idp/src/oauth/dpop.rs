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
//! see `par` and the code grant).
//!
//! Nonces (§8–9): every answer to a request that carries a proof brings a fresh nonce in
//! `DPoP-Nonce` ([`with_nonce`]); a proof that carries a nonce must carry one that is still
//! good ([`keys::dpop::Nonces`]: the same on every node), and with
//! [`Settings::require_dpop_nonce`](crate::app::Settings::require_dpop_nonce) every proof
//! must. Otherwise the answer is `use_dpop_nonce`, and the client tries again with the nonce
//! it was given (node-oidc-provider and openid-client do the same).

use crate::app::App;
use crate::oauth::error::{ErrorCode, OAuthError};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;

pub use keys::dpop::{MAX_AGE, MAX_AHEAD};

/// An `invalid_dpop_proof` error.
pub fn invalid(why: &'static str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidDpopProof, why)
}

/// The request's `DPoP` header: `None` when there is none; an error when there are several.
pub fn header(headers: &HeaderMap) -> Result<Option<&str>, &'static str> {
    let mut all = headers.get_all("dpop").iter();
    match (all.next(), all.next()) {
        (None, _) => Ok(None),
        (Some(_), Some(_)) => Err("more than one DPoP header"),
        (Some(v), None) => v
            .to_str()
            .map(Some)
            .map_err(|_| "the DPoP header is not a JWS"),
    }
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
    let Some(raw) = header(headers).map_err(invalid)? else {
        return Ok(None);
    };
    let p = keys::dpop::verify_proof(raw).map_err(|e| {
        tracing::debug!(error = %e, "DPoP proof refused");
        invalid("the DPoP proof is malformed or its signature does not verify with its jwk")
    })?;
    p.check_request(method, url, app.now(), token)
        .map_err(invalid)?;
    match p.nonce.as_deref() {
        Some(n) if !app.secrets.dpop_nonces.accepts(n, app.now()) => {
            return Err(OAuthError::new(
                ErrorCode::UseDpopNonce,
                "the DPoP proof's nonce is not one this server gave, or it has expired: use the one in DPoP-Nonce",
            ));
        }
        None if app.settings.require_dpop_nonce => {
            return Err(OAuthError::new(
                ErrorCode::UseDpopNonce,
                "the DPoP proof must carry the nonce in DPoP-Nonce",
            ));
        }
        _ => {}
    }
    if !app
        .cache
        .put_if_absent(&p.replay_key(), b"1", keys::dpop::REPLAY_TTL)
        .await?
    {
        return Err(invalid("the DPoP proof was already used"));
    }
    Ok(Some(p.jkt))
}

/// `resp` with a fresh nonce in `DPoP-Nonce` when the request carried a `DPoP` header
/// (RFC 9449 §8.2: the client uses it in its next proof to this server).
pub fn with_nonce(app: &App, headers: &HeaderMap, mut resp: Response) -> Response {
    if headers.contains_key("dpop") {
        if let Ok(v) = HeaderValue::from_str(&app.secrets.dpop_nonces.current(app.now())) {
            resp.headers_mut().insert("dpop-nonce", v);
        }
    }
    resp
}
