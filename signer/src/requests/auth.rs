//! Bearer access tokens (RFC 6750 §2.1), checked as an external resource server checks them
//! (RFC 9068 §4): a JWS whose signature verifies with a key of the IdP's JWKS, `typ` `at+jwt`,
//! `iss` the IdP, `exp` in the future, and a `scope` holding `sign`. The caller is the token's
//! `client_id`. A DPoP-bound token (`cnf.jkt`, RFC 9449 §7) counts only under the `DPoP`
//! scheme with a proof of its key for this request and this token, used once on every node;
//! as a Bearer token it is refused, and a token not bound is refused under `DPoP`. With
//! nonces ([`Signer::dpop_nonces`]), a proof's nonce must be good, and when they are
//! required every proof must carry one (401 `use_dpop_nonce`, RFC 9449 §9).
//!
//! Failures answer 401 `invalid_token` (or a bare challenge when no token came, §3.1) and 403
//! `insufficient_scope`, each with its `WWW-Authenticate` header and a problem document.

use crate::http::problem;
use crate::Signer;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
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

fn invalid(detail: &str, dpop: bool) -> Response {
    let scheme = if dpop {
        format!("DPoP algs=\"{}\"", keys::dpop::ALGS.join(" "))
    } else {
        "Bearer realm=\"vhod-signer\"".to_owned()
    };
    challenge(
        StatusCode::UNAUTHORIZED,
        "Unauthorized",
        detail,
        format!("{scheme}, error=\"invalid_token\", error_description=\"{detail}\""),
    )
}

fn invalid_proof(error: &str, detail: &str) -> Response {
    challenge(
        StatusCode::UNAUTHORIZED,
        "Unauthorized",
        detail,
        format!(
            "DPoP algs=\"{}\", error=\"{error}\", error_description=\"{detail}\"",
            keys::dpop::ALGS.join(" ")
        ),
    )
}

/// The caller of a request of `method` to `uri`, or the response that refuses it (boxed: a
/// response is large).
pub async fn caller(
    s: &Signer,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Caller, Box<Response>> {
    check(s, method, uri, headers).await.map_err(|r| {
        Box::new(match r {
            Refusal::NoToken => challenge(
                StatusCode::UNAUTHORIZED,
                "Unauthorized",
                "an access token with the sign scope is required (Authorization: Bearer ...)",
                "Bearer realm=\"vhod-signer\"".to_owned(),
            ),
            Refusal::Invalid(detail) => invalid(detail, false),
            Refusal::Dpop(detail) => invalid(detail, true),
            Refusal::Proof(detail) => invalid_proof("invalid_dpop_proof", detail),
            Refusal::Nonce(detail) => invalid_proof("use_dpop_nonce", detail),
            Refusal::Unavailable => problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service Unavailable",
                "the DPoP proof could not be checked; try again later",
            ),
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
    /// `invalid_token` under the `DPoP` scheme (a token presented against its binding).
    Dpop(&'static str),
    /// `invalid_dpop_proof`.
    Proof(&'static str),
    /// `use_dpop_nonce`: the proof lacks a required nonce or carries a stale one.
    Nonce(&'static str),
    /// The replay cache could not be reached.
    Unavailable,
    /// `insufficient_scope`.
    Scope,
}

async fn check(
    s: &Signer,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
) -> Result<Caller, Refusal> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(Refusal::NoToken);
    };
    let (dpop, token) = value
        .to_str()
        .ok()
        .and_then(|v| {
            let (scheme, rest) = v.split_once(' ')?;
            let dpop = scheme.eq_ignore_ascii_case("dpop");
            (dpop || scheme.eq_ignore_ascii_case("bearer")).then(|| (dpop, rest.trim()))
        })
        .filter(|(_, t)| !t.is_empty())
        .ok_or(Refusal::Invalid(
            "the Authorization header is not a Bearer or DPoP token",
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
    // A token for other resource servers (RFC 8707) is not taken here.
    if !keys::jws::audience_includes(claims.get("aud"), &s.issuer) {
        return Err(Refusal::Invalid(
            "the access token is for another resource server (aud)",
        ));
    }
    let exp = claims.get("exp").and_then(|v| v.as_i64());
    if exp.is_none_or(|exp| exp <= s.clock.now()) {
        return Err(Refusal::Invalid("the access token has expired"));
    }
    let bound = claims
        .get("cnf")
        .and_then(|c| c.get("jkt"))
        .and_then(|j| j.as_str());
    match (dpop, bound) {
        (false, None) => {}
        (false, Some(_)) => {
            return Err(Refusal::Dpop(
                "the access token is DPoP-bound: present it under the DPoP scheme with a proof",
            ))
        }
        (true, None) => {
            return Err(Refusal::Invalid(
                "the access token is not DPoP-bound: present it as a Bearer token",
            ))
        }
        (true, Some(jkt)) => check_proof(s, method, uri, headers, token, jkt).await?,
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

/// RFC 9449 §7.1: one proof, of the token's key, made for this request and this token, and
/// never seen before.
async fn check_proof(
    s: &Signer,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    token: &str,
    jkt: &str,
) -> Result<(), Refusal> {
    let mut all = headers.get_all("dpop").iter();
    let raw = match (all.next(), all.next()) {
        (None, _) => return Err(Refusal::Proof("a DPoP proof is required")),
        (Some(_), Some(_)) => return Err(Refusal::Proof("more than one DPoP header")),
        (Some(v), None) => v
            .to_str()
            .map_err(|_| Refusal::Proof("the DPoP header is not a JWS"))?,
    };
    let p = keys::dpop::verify_proof(raw).map_err(|_| {
        Refusal::Proof("the DPoP proof is malformed or its signature does not verify with its jwk")
    })?;
    let url = format!("{}{}", s.issuer, uri.path());
    p.check_request(method.as_str(), &url, s.clock.now(), Some(token))
        .map_err(Refusal::Proof)?;
    if p.jkt != jkt {
        return Err(Refusal::Proof(
            "the DPoP proof is not made with the key the access token is bound to",
        ));
    }
    if let Some(n) = &s.dpop_nonces {
        match p.nonce.as_deref() {
            Some(given) if !n.nonces.accepts(given, s.clock.now()) => {
                return Err(Refusal::Nonce(
                    "the DPoP proof's nonce is not one this server gave, or it has expired: use the one in DPoP-Nonce",
                ));
            }
            None if n.required => {
                return Err(Refusal::Nonce(
                    "the DPoP proof must carry the nonce in DPoP-Nonce",
                ));
            }
            _ => {}
        }
    }
    match s
        .limiter
        .first_use(&p.replay_key(), keys::dpop::REPLAY_TTL)
        .await
    {
        Ok(true) => Ok(()),
        Ok(false) => Err(Refusal::Proof("the DPoP proof was already used")),
        Err(e) => {
            tracing::error!(error = %e, "the DPoP replay cache failed");
            Err(Refusal::Unavailable)
        }
    }
}
