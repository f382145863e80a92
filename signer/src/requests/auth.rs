//! Bearer access tokens (RFC 6750 §2.1), checked as an external resource server checks them
//! (RFC 9068 §4): a JWS whose signature verifies with a key of the IdP's JWKS, `typ` `at+jwt`,
//! `iss` the IdP, `exp` in the future, and a `scope` holding `sign`. The caller is the token's
//! `client_id`. DPoP-bound tokens (`cnf`) are refused: this API takes no DPoP proofs.
//!
//! Failures answer 401 `invalid_token` (or a bare challenge when no token came, §3.1) and 403
//! `insufficient_scope`, each with its `WWW-Authenticate` header and a problem document.

use crate::http::problem;
use crate::Signer;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;

/// The scope a client needs.
pub const SCOPE: &str = "sign";

/// Who called.
#[derive(Debug)]
pub struct Caller {
    /// The client the token was issued to.
    pub client_id: String,
}

fn challenge(status: StatusCode, title: &str, detail: &str, www: String) -> Response {
    let mut r = problem(status, title, detail);
    if let Ok(v) = HeaderValue::from_str(&www) {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    r
}

fn invalid(detail: &str) -> Response {
    challenge(
        StatusCode::UNAUTHORIZED,
        "Unauthorized",
        detail,
        format!(
            "Bearer realm=\"vhod-signer\", error=\"invalid_token\", error_description=\"{detail}\""
        ),
    )
}

/// The caller of a request, or the response that refuses it (boxed: a response is large).
pub fn caller(s: &Signer, headers: &HeaderMap) -> Result<Caller, Box<Response>> {
    check(s, headers).map_err(|r| {
        Box::new(match r {
            Refusal::NoToken => challenge(
                StatusCode::UNAUTHORIZED,
                "Unauthorized",
                "an access token with the sign scope is required (Authorization: Bearer ...)",
                "Bearer realm=\"vhod-signer\"".to_owned(),
            ),
            Refusal::Invalid(detail) => invalid(detail),
            Refusal::Scope => challenge(
                StatusCode::FORBIDDEN,
                "Forbidden",
                "the access token lacks the sign scope",
                format!(
                    "Bearer realm=\"vhod-signer\", error=\"insufficient_scope\", scope=\"{SCOPE}\""
                ),
            ),
        })
    })
}

/// Why a token was refused.
enum Refusal {
    /// No Authorization header (RFC 6750 §3.1: a bare challenge).
    NoToken,
    /// `invalid_token`, with the reason.
    Invalid(&'static str),
    /// `insufficient_scope`.
    Scope,
}

fn check(s: &Signer, headers: &HeaderMap) -> Result<Caller, Refusal> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(Refusal::NoToken);
    };
    let token = value
        .to_str()
        .ok()
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
        })
        .filter(|t| !t.is_empty())
        .ok_or(Refusal::Invalid(
            "the Authorization header is not a Bearer token",
        ))?;
    let (header, claims) = keys::jws::verify_jws(token, |h| {
        h.kid.as_deref().and_then(|kid| s.keys.public_key(kid))
    })
    .map_err(|_| {
        Refusal::Invalid("the access token is malformed or its signature does not verify")
    })?;
    let typ_ok = header.typ.as_deref().is_some_and(|t| {
        t.eq_ignore_ascii_case("at+jwt") || t.eq_ignore_ascii_case("application/at+jwt")
    });
    if !typ_ok {
        return Err(Refusal::Invalid(
            "the token is not an access token (typ at+jwt)",
        ));
    }
    if claims.get("iss").and_then(|v| v.as_str()) != Some(s.issuer.as_str()) {
        return Err(Refusal::Invalid(
            "the access token was issued by another issuer",
        ));
    }
    let exp = claims.get("exp").and_then(|v| v.as_i64());
    if exp.is_none_or(|exp| exp <= s.clock.now()) {
        return Err(Refusal::Invalid("the access token has expired"));
    }
    // A DPoP-bound token (RFC 9449) is worthless without a proof of its key, which this API
    // does not take: presented as a Bearer token, it is refused (§7.2), never honoured.
    if claims.get("cnf").is_some() {
        return Err(Refusal::Invalid(
            "the access token is DPoP-bound; this API takes Bearer tokens only",
        ));
    }
    let Some(client_id) = claims.get("client_id").and_then(|v| v.as_str()) else {
        return Err(Refusal::Invalid("the access token names no client"));
    };
    let has_scope = claims
        .get("scope")
        .and_then(|v| v.as_str())
        .is_some_and(|sc| sc.split(' ').any(|x| x == SCOPE));
    if !has_scope {
        return Err(Refusal::Scope);
    }
    Ok(Caller {
        client_id: client_id.to_owned(),
    })
}
