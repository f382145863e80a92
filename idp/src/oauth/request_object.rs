//! Request Objects passed by value (`request`, OIDC Core §6.1, RFC 9101), at the
//! authorization endpoint and in pushed requests (RFC 9126 §3).
//!
//! Rules:
//! - the object is a JWS signed with one of the client's registered public keys (its `jwks`
//!   or `jwks_uri`, an asymmetric algorithm of [`SIGNING_ALGS`]), or unsigned (`alg`
//!   `none`, an empty signature): an unsigned object says no more than the same parameters
//!   in the query, and every rule applies to them alike. Objects signed with a shared secret
//!   (`HS256`...) are refused: client secrets are stored only as keyed hashes;
//! - a signed object's `iss` is the client and its `aud` names this issuer; `exp` (if given)
//!   has not passed and `nbf` (if given) has come, for both kinds;
//! - its `client_id`, when given, is the client's, its `response_type` the request's when
//!   both give one (§6.1; RFC 9101 §5 lets the request carry only `client_id` and
//!   `request`), and it carries neither `request` nor `request_uri`;
//! - its parameters replace those of the same name in the request, and the request's other
//!   parameters stay (§6.3.3: a cached object with the fixed parameters, `state` and `nonce`
//!   beside it). Numbers and JSON objects (`max_age`, `claims`) become their text.
//!
//! A client registered with `require_signed_request_object` (RFC 9101 §10.5) must send every
//! authorization request as a signed object, by value or pushed: a plain request is
//! `invalid_request`, an unsigned object `invalid_request_object`.
//!
//! Anything else is `invalid_request_object`. A Request Object by reference (`request_uri`
//! other than a pushed request's) is not fetched: `request_uri_not_supported`.

use crate::app::App;
use crate::oauth::client_keys::{key_for, of_client, ClientKeysError};
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::params::{Params, RESOURCE};
use crate::store::Client;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::Value;

/// The algorithms a Request Object may be signed with (and `none`, unsigned).
pub const SIGNING_ALGS: [&str; 10] = [
    "none", "ES256", "ES384", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA",
];

/// Claims that describe the object itself, not the request.
const ENVELOPE: [&str; 6] = ["iss", "aud", "exp", "nbf", "iat", "jti"];

/// How far a neighbour's clock may be off, seconds.
const LEEWAY: i64 = 30;

fn invalid(why: &'static str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidRequestObject, why)
}

/// The request `p` of `client` with its Request Object (`request`) applied; `p` unchanged
/// when it has none. With `must_be_signed` (the client's `require_signed_request_object`,
/// RFC 9101 §10.5), a request without a signed object is refused.
pub async fn apply(
    app: &App,
    client: &Client,
    p: &Params,
    must_be_signed: bool,
) -> Result<Params, OAuthError> {
    let Some(raw) = p.get("request") else {
        if must_be_signed {
            return Err(OAuthError::invalid_request(
                "this client's authorization requests must be Request Objects signed with its key (request)",
            ));
        }
        return Ok(p.clone());
    };
    if p.has("request_uri") {
        return Err(OAuthError::invalid_request(
            "request and request_uri cannot both be given",
        ));
    }
    let (claims, signed) = claims_of(app, client, raw).await?;
    if must_be_signed && !signed {
        return Err(invalid(
            "this client's Request Objects must be signed with its key, not alg none",
        ));
    }
    let now = app.now();
    let number = |name: &str| claims.get(name).and_then(Value::as_i64);
    if number("exp").is_some_and(|exp| exp.saturating_add(LEEWAY) <= now) {
        return Err(invalid("the Request Object has expired"));
    }
    if number("nbf").is_some_and(|nbf| nbf > now.saturating_add(LEEWAY)) {
        return Err(invalid("the Request Object is not valid yet (nbf)"));
    }
    if claims
        .get("client_id")
        .is_some_and(|c| c.as_str() != Some(client.id.as_str()))
    {
        return Err(invalid(
            "the Request Object's client_id is not the client's",
        ));
    }
    if let (Some(inner), Some(outer)) = (claims.get("response_type"), p.get("response_type")) {
        if inner.as_str() != Some(outer) {
            return Err(invalid(
                "the Request Object's response_type is not the request's",
            ));
        }
    }
    if claims.contains_key("request") || claims.contains_key("request_uri") {
        return Err(invalid(
            "a Request Object cannot carry request or request_uri",
        ));
    }
    let mut merged = p.clone();
    merged.remove("request");
    for (name, v) in &claims {
        if ENVELOPE.contains(&name.as_str()) {
            continue;
        }
        if name == RESOURCE {
            // One URI or an array of them (RFC 8707 §2), replacing the query's.
            let uris: Vec<&str> = match v {
                Value::Array(a) => a.iter().map(|x| x.as_str().unwrap_or(" ")).collect(),
                Value::String(s) => vec![s.as_str()],
                _ => vec![" "],
            };
            merged.remove(RESOURCE);
            merged.bad_resource = false;
            for u in uris {
                merged.bad_resource |= u.is_empty() || u.contains(char::is_whitespace);
                merged.add_resource(u);
            }
            continue;
        }
        let text = match v {
            Value::Null => continue,
            Value::String(s) if s.is_empty() => continue,
            Value::String(s) => s.clone(),
            Value::Number(_) | Value::Bool(_) | Value::Object(_) | Value::Array(_) => v.to_string(),
        };
        merged.set(name, text);
    }
    Ok(merged)
}

/// The object's claims, its signature (if any) verified; and whether it was signed.
async fn claims_of(
    app: &App,
    client: &Client,
    raw: &str,
) -> Result<(serde_json::Map<String, Value>, bool), OAuthError> {
    let malformed = || invalid("the Request Object is not a JWT (RFC 7519)");
    let mut parts = raw.split('.');
    let (Some(h), Some(payload), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed());
    };
    let json = |part: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .ok()
            .and_then(|b| serde_json::from_slice::<Value>(&b).ok())
    };
    let header = json(h).ok_or_else(malformed)?;
    let alg = header.get("alg").and_then(Value::as_str).unwrap_or("");
    if header.get("crit").is_some() {
        return Err(invalid(
            "the Request Object names critical header extensions vhod does not know",
        ));
    }
    let claims = if alg == "none" {
        if !sig.is_empty() {
            return Err(invalid(
                "an unsigned Request Object (alg none) has an empty signature",
            ));
        }
        json(payload).ok_or_else(malformed)?
    } else if SIGNING_ALGS.contains(&alg) {
        let claims = verified(app, client, raw, header.get("kid")).await?;
        let aud_ok = keys::jws::audience_includes(claims.get("aud"), &app.settings.issuer);
        if claims.get("iss").and_then(Value::as_str) != Some(client.id.as_str()) || !aud_ok {
            return Err(invalid(
                "a signed Request Object's iss must be the client and its aud this issuer",
            ));
        }
        claims
    } else {
        return Err(invalid(
            "the Request Object's alg is not one of request_object_signing_alg_values_supported (shared-secret algorithms are not)",
        ));
    };
    match claims {
        Value::Object(m) => Ok((m, alg != "none")),
        _ => Err(malformed()),
    }
}

async fn verified(
    app: &App,
    client: &Client,
    raw: &str,
    kid: Option<&Value>,
) -> Result<Value, OAuthError> {
    let kid = kid.and_then(Value::as_str);
    let set = match of_client(app, client, kid).await {
        Ok(s) => s,
        Err(ClientKeysError::NoKeys) => {
            return Err(invalid(
                "the client has registered no keys to verify a signed Request Object with; send it unsigned",
            ))
        }
        Err(ClientKeysError::Fetch(_)) => {
            return Err(invalid(
                "the client's keys could not be fetched from its jwks_uri",
            ))
        }
        Err(ClientKeysError::Malformed) => {
            return Err(OAuthError::server("a client's registered jwks does not parse"))
        }
    };
    keys::verify_jws(raw, |h| key_for(&set, h))
        .map(|(_, claims)| claims)
        .map_err(|_| {
            invalid("the Request Object's signature does not verify with the client's keys")
        })
}
