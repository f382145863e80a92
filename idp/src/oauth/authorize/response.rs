//! Authorization responses: a code (or an error) sent back by redirect or form post, always
//! with `iss` (RFC 9207), or in the JWT response modes as one signed JWT (JARM).

use super::request::AuthRequest;
use crate::app::App;
use crate::crypto::{random_token, sha256_b64};
use crate::i18n::Lang;
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::types::ResponseMode;
use crate::session::Session;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// What an authorization code stands for, kept in the cache for `code_ttl` seconds.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct CodeRecord {
    /// The client it was issued to.
    pub client_id: String,
    /// The redirect URI it was sent to.
    pub redirect_uri: String,
    /// Subject.
    pub account_id: String,
    /// Granted scopes.
    pub scope: Vec<String>,
    /// The `claims` request.
    pub claims: Option<serde_json::Value>,
    /// Nonce for the ID token.
    pub nonce: Option<String>,
    /// PKCE challenge.
    pub code_challenge: String,
    /// The DPoP key that must redeem it (RFC 9449 §10).
    #[serde(default)]
    pub dpop_jkt: Option<String>,
    /// Authentication time.
    pub auth_time: i64,
    /// Assurance level.
    pub acr: String,
    /// Methods used.
    pub amr: Vec<String>,
    /// Session id.
    pub sid: String,
    /// The grant the tokens will belong to (fixed now so a reuse can revoke it).
    pub grant_id: String,
    /// The resource servers (RFC 8707) its tokens may be for.
    #[serde(default)]
    pub resources: Vec<String>,
    /// Expiry, unix seconds.
    pub expires_at: i64,
}

/// Cache key of a code (by hash: the cache never holds a redeemable code).
pub fn code_key(code: &str) -> String {
    format!("code:{}", sha256_b64(code))
}

/// Issues a code for a signed-in session and sends it back to the client. `level` is the
/// account's level when the caller read the account in this same request (a sign-in that
/// has just succeeded); otherwise it is read here.
pub async fn issue_code(
    app: &App,
    req: &AuthRequest,
    s: &Session,
    level: Option<&str>,
    lang: Lang,
) -> Result<Response, OAuthError> {
    // The account's level now, not at sign-in: a level raised (or lowered) since counts.
    let acr = match level {
        Some(l) => l.to_owned(),
        None => match app.db.accounts().get(&s.account_id).await? {
            Some(a) => a.level,
            None => s.acr.clone(),
        },
    };
    let code = random_token(32);
    let now = app.now();
    let rec = CodeRecord {
        client_id: req.client_id.clone(),
        redirect_uri: req.redirect_uri.clone(),
        account_id: s.account_id.clone(),
        scope: req.scope.clone(),
        claims: req.claims.clone(),
        nonce: req.nonce.clone(),
        code_challenge: req.code_challenge.clone(),
        dpop_jkt: req.dpop_jkt.clone(),
        auth_time: s.auth_time,
        acr,
        amr: s.amr.clone(),
        sid: s.sid.clone(),
        grant_id: random_token(16),
        expires_at: now + app.settings.code_ttl,
        resources: req.resources.clone(),
    };
    if let Some(device) = &req.device {
        // RFC 8628: the approval waits for the polling device; the person is told so.
        return crate::oauth::device::approve(app, device, &rec, lang).await;
    }
    crate::metrics::CODES_ISSUED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let json = serde_json::to_vec(&rec).map_err(OAuthError::server)?;
    app.cache
        .put(
            &code_key(&code),
            &json,
            Duration::from_secs(app.settings.code_ttl.max(1) as u64),
        )
        .await?;
    Ok(respond(
        app,
        &req.reply(),
        vec![("code", code)],
        req.state.as_deref(),
        lang,
    ))
}

/// Where and how an authorization response goes: the verified redirect URI in the response
/// mode asked for; for the JWT modes (JARM), also the client the response is addressed to
/// and its `authorization_signed_response_alg`.
#[derive(Clone, Copy, Debug)]
pub struct Reply<'a> {
    /// The response mode.
    pub mode: ResponseMode,
    /// The verified redirect URI.
    pub redirect_uri: &'a str,
    /// The client (`aud` of a JWT response).
    pub client_id: &'a str,
    /// The client's registered algorithm for JWT responses; `None`: RS256.
    pub alg: Option<&'a str>,
}

/// Sends an error back to the verified redirect URI of `req`; for a device's request, keeps
/// it for the polling device and tells the person.
pub async fn error_to(app: &App, req: &AuthRequest, e: &OAuthError, lang: Lang) -> Response {
    if let Some(device) = &req.device {
        return crate::oauth::device::refuse(app, device, e, lang).await;
    }
    error(app, &req.reply(), e, req.state.as_deref(), lang)
}

/// An error response to the client's redirect URI, in its response mode, with `state`.
pub fn error(
    app: &App,
    to: &Reply<'_>,
    e: &OAuthError,
    state: Option<&str>,
    lang: Lang,
) -> Response {
    let mut fields = vec![("error", e.code.as_str().to_owned())];
    if let Some(d) = e.public_description() {
        fields.push(("error_description", d.to_owned()));
    }
    if e.code == ErrorCode::ServerError {
        tracing::warn!("authorization failed with a server error");
    }
    respond(app, to, fields, state, lang)
}

fn respond(
    app: &App,
    to: &Reply<'_>,
    mut fields: Vec<(&'static str, String)>,
    state: Option<&str>,
    lang: Lang,
) -> Response {
    if let Some(s) = state.filter(|s| s.len() <= 2048) {
        fields.push(("state", s.to_owned()));
    }
    let redirect_uri = to.redirect_uri;
    let (in_query, fields) = match to.mode {
        ResponseMode::Query | ResponseMode::FormPost => {
            fields.push(("iss", app.settings.issuer.clone()));
            (to.mode == ResponseMode::Query, fields)
        }
        ResponseMode::QueryJwt | ResponseMode::FormPostJwt | ResponseMode::Jwt => {
            // RFC 9207 §2: with JARM, the JWT's `iss` claim protects as the parameter would, so
            // there is no `iss` parameter beside it.
            match signed(app, to, fields) {
                Some(jwt) => (
                    to.mode != ResponseMode::FormPostJwt,
                    vec![("response", jwt)],
                ),
                None => {
                    return app.pages.error(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        lang,
                        "err_server",
                        None,
                        None,
                    )
                }
            }
        }
    };
    if in_query {
        let mut url = redirect_uri.to_owned();
        let mut ser = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &fields {
            ser.append_pair(k, v);
        }
        url.push(if url.contains('?') { '&' } else { '?' });
        url.push_str(&ser.finish());
        return redirect(&url);
    }
    let nonce = random_token(16);
    let mut r = app.pages.page(
        StatusCode::OK,
        "form_post.html",
        lang,
        context! { action => redirect_uri, fields => fields, nonce => &nonce },
    );
    let csp = format!("default-src 'none'; script-src 'nonce-{nonce}'; form-action {}; frame-ancestors 'none'; base-uri 'none'", origin_of(redirect_uri));
    if let Ok(v) = HeaderValue::from_str(&csp) {
        r.headers_mut().insert(header::CONTENT_SECURITY_POLICY, v);
    }
    r
}

/// How long a JWT authorization response may be used: JARM §2.1 recommends at most ten
/// minutes, and the code inside lives at most a minute anyway.
const JWT_RESPONSE_TTL: i64 = 600;

/// The response parameters as a JWT (JARM §2.1): `iss`, `aud` (the client), `exp` and `iat`
/// beside them, signed with the client's `authorization_signed_response_alg`, else RS256
/// (JARM's default) when the provider keeps an RS256 key (it does by default), else the
/// primary key. `None` if signing failed.
fn signed(app: &App, to: &Reply<'_>, fields: Vec<(&'static str, String)>) -> Option<String> {
    let key = crate::oauth::tokens::signer_of(
        app,
        to.client_id,
        to.alg,
        "authorization_signed_response_alg",
        Some(keys::Alg::RS256),
    );
    let now = app.now();
    let mut claims = serde_json::Map::new();
    claims.insert("iss".into(), app.settings.issuer.clone().into());
    claims.insert("aud".into(), to.client_id.into());
    claims.insert("exp".into(), (now + JWT_RESPONSE_TTL).into());
    claims.insert("iat".into(), now.into());
    for (k, v) in fields {
        claims.insert(k.into(), v.into());
    }
    match keys::sign_jwt(&key, None, &claims) {
        Ok(jwt) => Some(jwt),
        Err(e) => {
            tracing::error!(error = %e, "could not sign an authorization response");
            None
        }
    }
}
fn origin_of(uri: &str) -> String {
    url::Url::parse(uri)
        .ok()
        .map(|u| u.origin().ascii_serialization())
        .filter(|o| o != "null")
        .unwrap_or_else(|| "'none'".to_owned())
}

/// A 303 redirect that is never cached.
pub fn redirect(url: &str) -> Response {
    match HeaderValue::from_str(url) {
        Ok(loc) => {
            let mut r = StatusCode::SEE_OTHER.into_response();
            r.headers_mut().insert(header::LOCATION, loc);
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}
