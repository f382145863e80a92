//! `authorization_code` grant (RFC 6749 §4.1.3, RFC 7636 §4.6, OIDC Core §3.1.3).
//!
//! Rules: the code is single-use — the first redemption claims it atomically in the shared
//! cache, and any later redemption revokes every token of the grant (RFC 6749 §4.1.2);
//! it lives at most `code_ttl` (60 s); it belongs to the authenticated client; the
//! `redirect_uri` matches the one it was sent to; `code_verifier` hashes to the challenge.

use super::{redeem, TokenResponse};
use crate::app::App;
use crate::crypto::{ct_eq, sha256_b64};
use crate::oauth::authorize::response::{code_key, CodeRecord};
use crate::oauth::error::OAuthError;
use crate::oauth::params::Params;
use crate::store::Client;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use std::time::Duration;

fn used_key(code: &str) -> String {
    format!("code-used:{}", sha256_b64(code))
}

pub(super) async fn exchange(
    app: &App,
    client: &Client,
    p: &Params,
    jkt: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let code = p.require("code")?;
    let now = app.now();
    let rec: Option<CodeRecord> =
        crate::session::get_json(app.cache.as_ref(), &code_key(code)).await?;
    let Some(rec) = rec else {
        revoke_if_issued(app, client, code, now).await?;
        return Err(OAuthError::invalid_grant(
            "the authorization code is invalid, expired or already used",
        ));
    };
    if rec.client_id != client.id {
        return Err(OAuthError::invalid_grant(
            "the authorization code was issued to another client",
        ));
    }
    let ttl = Duration::from_secs(600);
    if !app
        .cache
        .put_if_absent(&used_key(code), PENDING, ttl)
        .await?
    {
        revoke_if_issued(app, client, code, now).await?;
        return Err(OAuthError::invalid_grant(
            "the authorization code was already used",
        ));
    }
    app.cache.delete(&code_key(code)).await?;
    if rec.expires_at <= now {
        return Err(OAuthError::invalid_grant(
            "the authorization code has expired",
        ));
    }
    if p.get("redirect_uri") != Some(rec.redirect_uri.as_str()) {
        return Err(OAuthError::invalid_grant(
            "redirect_uri does not match the authorization request",
        ));
    }
    check_verifier(p.get("code_verifier"), &rec.code_challenge)?;
    // RFC 9449 §10: a code bound to a DPoP key is redeemed only with a proof of that key.
    if rec.dpop_jkt.is_some() && rec.dpop_jkt.as_deref() != jkt {
        return Err(crate::oauth::dpop::invalid(
            "the authorization code is bound to another DPoP key (dpop_jkt)",
        ));
    }
    let (response, grant_id) = redeem(
        app,
        client,
        &rec,
        p,
        jkt,
        "the authorization code was already used",
    )
    .await?;
    let issued = format!("{} {}", client.id, grant_id);
    app.cache
        .put(&used_key(code), issued.as_bytes(), ttl)
        .await?;
    Ok(response)
}

/// Marks a code whose first redemption is still being answered.
const PENDING: &[u8] = b"pending";

/// A code presented again: if its first redemption has issued tokens to this client, revoke
/// them (RFC 6749 §4.1.2). While the first redemption is still running there is nothing to
/// revoke yet, and the duplicate simply fails: of concurrent attempts, exactly one wins.
async fn revoke_if_issued(
    app: &App,
    client: &Client,
    code: &str,
    now: i64,
) -> Result<(), OAuthError> {
    let Some(raw) = app.cache.get(&used_key(code)).await? else {
        return Ok(());
    };
    let v = String::from_utf8_lossy(&raw).into_owned();
    if let Some((cid, gid)) = v.split_once(' ') {
        if cid == client.id {
            app.db.grants().revoke(gid, now).await?;
            tracing::warn!(client = %client.id, "authorization code reused; grant revoked");
        }
    }
    Ok(())
}

/// RFC 7636 §4.6: BASE64URL(SHA256(verifier)) == challenge; verifier 43–128 unreserved chars.
fn check_verifier(verifier: Option<&str>, challenge: &str) -> Result<(), OAuthError> {
    let v = verifier.ok_or_else(|| OAuthError::invalid_grant("code_verifier is required"))?;
    let well_formed = (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes()));
    if !well_formed || !ct_eq(&computed, challenge) {
        return Err(OAuthError::invalid_grant(
            "code_verifier does not match the code_challenge",
        ));
    }
    Ok(())
}
