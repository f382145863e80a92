//! Client authentication at the token, introspection and revocation endpoints
//! (RFC 6749 §2.3, OIDC Core §9, RFC 7523 §3).
//!
//! Rules: exactly one method per request; the method must be the one the client registered;
//! secrets are compared as keyed hashes in constant time (fast: secrets are high-entropy,
//! so argon2 would only cost CPU); `private_key_jwt` assertions must name us as audience
//! (issuer or token endpoint), be unexpired and never replayed (`jti` cached until `exp`);
//! their keys are the registered set or the one the client publishes at its `jwks_uri`
//! ([`client_keys`](super::client_keys)).

use crate::app::App;
use crate::crypto::{ct_eq, hmac_b64};
use crate::oauth::error::OAuthError;
use crate::oauth::params::Params;
use crate::oauth::types::AuthMethod;
use crate::store::Client;
use axum::http::{header, HeaderMap};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Prefix of every client secret, so a leaked one is recognisable.
pub const SECRET_PREFIX: &str = "vhs_";

/// A new client secret: 32 random bytes, and the keyed hash to store.
pub fn new_secret(key: &[u8]) -> (String, String) {
    let s = format!("{SECRET_PREFIX}{}", crate::crypto::random_token(32));
    let h = hash_secret(key, &s);
    (s, h)
}

/// The stored form of a client secret.
pub fn hash_secret(key: &[u8], secret: &str) -> String {
    hmac_b64(key, secret.as_bytes())
}

fn invalid(basic: bool) -> OAuthError {
    let mut e = OAuthError::invalid_client("client authentication failed");
    e.basic_challenge = basic;
    e
}

/// Authenticates the calling client.
pub async fn authenticate(
    app: &App,
    headers: &HeaderMap,
    p: &Params,
) -> Result<Arc<Client>, OAuthError> {
    let basic = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("basic")
                .then(|| rest.trim().to_owned())
        });
    let presented = [
        basic.is_some(),
        p.has("client_secret"),
        p.has("client_assertion"),
    ];
    if presented.iter().filter(|x| **x).count() > 1 {
        return Err(OAuthError::invalid_request(
            "more than one client authentication method was used",
        ));
    }
    if let Some(b) = basic {
        let (id, secret) = decode_basic(&b).ok_or_else(|| invalid(true))?;
        if p.get("client_id").is_some_and(|c| c != id) {
            return Err(OAuthError::invalid_request(
                "client_id does not match the authenticated client",
            ));
        }
        return by_secret(app, &id, &secret, AuthMethod::ClientSecretBasic)
            .await
            .map_err(with_challenge);
    }
    if let Some(secret) = p.get("client_secret") {
        let id = p.get("client_id").ok_or_else(|| invalid(false))?;
        return by_secret(app, id, secret, AuthMethod::ClientSecretPost).await;
    }
    if let Some(assertion) = p.get("client_assertion") {
        if p.get("client_assertion_type") != Some(JWT_BEARER) {
            return Err(OAuthError::invalid_request(
                "unsupported client_assertion_type",
            ));
        }
        return by_assertion(app, assertion, p.get("client_id")).await;
    }
    let id = p.get("client_id").ok_or_else(|| invalid(false))?;
    let client = app.client(id).await?.ok_or_else(|| invalid(false))?;
    if client.auth_method != AuthMethod::None {
        return Err(invalid(false));
    }
    Ok(client)
}

fn with_challenge(mut e: OAuthError) -> OAuthError {
    e.basic_challenge = true;
    e
}

/// RFC 6749 §2.3.1: id and secret are form-urlencoded before base64.
fn decode_basic(b: &str) -> Option<(String, String)> {
    let raw = STANDARD.decode(b).ok()?;
    let s = String::from_utf8(raw).ok()?;
    let (id, secret) = s.split_once(':')?;
    let dec = |x: &str| {
        // Our ids and secrets need no decoding (base64url): no second parse and copy on
        // every token request for them.
        if !x.contains(['%', '+']) {
            return x.to_owned();
        }
        form_urlencoded::parse(format!("x={x}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Some((dec(id), dec(secret)))
}

async fn by_secret(
    app: &App,
    id: &str,
    secret: &str,
    method: AuthMethod,
) -> Result<Arc<Client>, OAuthError> {
    let client = app.client(id).await?.ok_or_else(|| invalid(false))?;
    let presented = hash_secret(&app.secrets.client_secret_key, secret);
    let matches = client
        .secret_hash
        .as_deref()
        .is_some_and(|h| ct_eq(h, &presented));
    if !matches || client.auth_method != method {
        return Err(invalid(false));
    }
    Ok(client)
}

async fn by_assertion(
    app: &App,
    assertion: &str,
    client_id: Option<&str>,
) -> Result<Arc<Client>, OAuthError> {
    let (header, unverified, ..) =
        keys::decode_unverified(assertion).map_err(|_| invalid(false))?;
    let iss = unverified
        .get("iss")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid(false))?
        .to_owned();
    if client_id.is_some_and(|c| c != iss) {
        return Err(invalid(false));
    }
    let client = app.client(&iss).await?.ok_or_else(|| invalid(false))?;
    if client.auth_method != AuthMethod::PrivateKeyJwt {
        return Err(invalid(false));
    }
    use crate::oauth::client_keys::{key_for, of_client, ClientKeysError};
    let jwks = match of_client(app, &client, header.kid.as_deref()).await {
        Ok(j) => j,
        Err(ClientKeysError::Fetch(_)) => {
            return Err(OAuthError::invalid_client(
                "the client's keys could not be fetched from its jwks_uri",
            ))
        }
        Err(_) => return Err(invalid(false)),
    };
    let (_, claims) =
        keys::verify_jws(assertion, |h| key_for(&jwks, h)).map_err(|_| invalid(false))?;
    let now = app.now();
    let sub_ok = claims.get("sub").and_then(Value::as_str) == Some(iss.as_str());
    let token_ep = app.url(crate::router::TOKEN);
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => *a == app.settings.issuer || *a == token_ep,
        Some(Value::Array(a)) => a.iter().any(|x| {
            x.as_str()
                .is_some_and(|x| x == app.settings.issuer || x == token_ep)
        }),
        _ => false,
    };
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(0);
    let jti = claims.get("jti").and_then(Value::as_str).unwrap_or("");
    if !sub_ok || !aud_ok || exp <= now || exp > now + 3600 || jti.is_empty() || jti.len() > 256 {
        return Err(invalid(false));
    }
    let key = format!("jti:{}:{}", client.id, crate::crypto::sha256_b64(jti));
    let ttl = Duration::from_secs((exp - now).max(1) as u64 + 60);
    if !app.cache.put_if_absent(&key, b"1", ttl).await? {
        return Err(OAuthError::invalid_client(
            "the client assertion was already used",
        ));
    }
    Ok(client)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn basic(s: &str) -> String {
        STANDARD.encode(s)
    }

    #[test]
    fn basic_credentials_are_form_urlencoded_and_plain_ones_pass_unchanged() {
        assert_eq!(
            decode_basic(&basic("app:vhs_aB3-_x")),
            Some(("app".into(), "vhs_aB3-_x".into()))
        );
        assert_eq!(
            decode_basic(&basic("my%20app:s%3Acret+x%2B")),
            Some(("my app".into(), "s:cret x+".into()))
        );
        // The first colon separates: one in the secret must be encoded, but is kept.
        assert_eq!(
            decode_basic(&basic("app:a:b")),
            Some(("app".into(), "a:b".into()))
        );
        assert_eq!(decode_basic(&basic("no colon")), None);
        assert_eq!(decode_basic("not base64!"), None);
    }
}
