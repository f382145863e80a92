//! Device Authorization Grant (RFC 8628): a device without a usable browser (a television,
//! a kiosk, a command-line tool) gets a device code and a short user code; the person types
//! the user code at `/device` on a phone or computer, signs in and approves there, and the
//! device polls the token endpoint until the tokens are ready.
//!
//! Everything lives in the shared cache, so any node answers any step, and only by hash
//! (the cache never holds a code that could be redeemed):
//! - `device:{h}` — the request (client, scope, expiry), `h` the device code's hash;
//! - `user-code:{hash}` — which request a user code stands for;
//! - `device-answer:{h}` — the person's answer, written once (the first answer wins) and
//!   taken once by the device;
//! - `device-poll:{h}` — present for `interval` seconds after each poll (a poll that finds
//!   it is told `slow_down`), and `device-slow:{h}`, how often that happened (each adds five
//!   seconds to the interval, RFC 8628 §3.5).
//!
//! The person always sees the consent page, which names the client and warns them to go on
//! only with a code from a device of their own (RFC 8628 §5.4: remote phishing).

use crate::app::{App, AppState};
use crate::crypto::{random_token, sha256_b64};
use crate::flow::{Binding, Bound, Kind};
use crate::http::FormPost;
use crate::i18n::Lang;
use crate::oauth::authorize::checks::{check_claims, check_scope};
use crate::oauth::authorize::request::AuthRequest;
use crate::oauth::authorize::response::CodeRecord;
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::params::Params;
use crate::oauth::token::{redeem, TokenResponse};
use crate::oauth::types::{GrantType, Prompt, ResponseMode};
use crate::session::get_json;
use crate::store::Client;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use minijinja::context;
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// How long a device code and its user code work, seconds (`expires_in`).
pub const TTL: i64 = 600;
/// The least time between two polls, seconds (`interval`).
pub const INTERVAL: i64 = 5;
/// How long an expired request is still known, so that its device hears `expired_token`
/// rather than `invalid_grant`.
const KEPT_AFTER_EXPIRY: i64 = 600;
/// The user code's letters (RFC 8628 §6.1): twenty consonants, so no word can be spelt and
/// no letter is taken for a digit; eight of them are 20^8 ≈ 2.6·10^10 codes.
const ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
/// Letters in a user code (shown as two groups of four).
const USER_CODE_LEN: usize = 8;
/// Wrong user codes one address may type in [`WRONG_CODES_WINDOW`] (RFC 8628 §5.1).
const WRONG_CODES_PER_IP: u64 = 20;
const WRONG_CODES_WINDOW: Duration = Duration::from_secs(3600);

/// A device's request, until it expires.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct DeviceRequest {
    client_id: String,
    scope: Vec<String>,
    #[serde(default)]
    acr_values: Vec<String>,
    #[serde(default)]
    claims: Option<serde_json::Value>,
    /// Resource servers (RFC 8707) the tokens may be for.
    #[serde(default)]
    resources: Vec<String>,
    expires_at: i64,
}

/// The person's answer.
#[derive(Clone, Debug, Serialize, Deserialize)]
enum Answer {
    /// Approved: what the tokens will say.
    Approved(Box<CodeRecord>),
    /// Refused, and why (the description sent with `access_denied`).
    Refused(String),
}

fn request_key(device_code: &str) -> String {
    format!("device:{}", sha256_b64(device_code))
}

fn user_code_key(normalized: &str) -> String {
    format!("user-code:{}", sha256_b64(normalized))
}

fn answer_key(request: &str) -> String {
    format!("device-answer:{request}")
}

/// A new user code, normalized (letters only).
fn new_user_code() -> String {
    use rand::Rng;
    let mut rng = rand::thread_rng();
    (0..USER_CODE_LEN)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect()
}

/// `BCDFGHJK` as people read it: `BCDF-GHJK`.
fn shown(code: &str) -> String {
    let (a, b) = code.split_at(code.len().min(USER_CODE_LEN / 2));
    format!("{a}-{b}")
}

/// What was typed, as the code it means: case, spaces and dashes do not matter (RFC 8628
/// §6.1); `None` if it cannot be a user code.
fn normalize(typed: &str) -> Option<String> {
    let code: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == USER_CODE_LEN && code.bytes().all(|b| ALPHABET.contains(&b))).then_some(code)
}

/// `POST /device_authorization` (RFC 8628 §3.1–3.2).
pub async fn authorize(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match begin(&app, peer, &headers, &body).await {
        Ok(v) => {
            let mut r = axum::Json(v).into_response();
            r.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            r
        }
        Err(e) => e.into_response(),
    }
}

async fn begin(
    app: &App,
    peer: std::net::SocketAddr,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<serde_json::Value, OAuthError> {
    let p = Params::parse(body);
    p.check_well_formed()?;
    let client = crate::oauth::client_auth::authenticate(app, headers, &p).await?;
    if !client.allows(GrantType::DeviceCode) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "the client may not use the device authorization grant",
        ));
    }
    let scope = check_scope(&client, &p)?;
    let claims = check_claims(&p)?;
    let resources = crate::oauth::resource::requested(&client, &p)?;
    // A good request from an address over the limit stores nothing.
    let ip = crate::http::client_ip(peer, headers, &app.settings.trusted_proxies);
    if let Some(wait) = crate::oauth::limit::authorization(app, ip).await? {
        return Err(OAuthError::too_many(
            wait,
            crate::oauth::limit::description(wait),
        ));
    }
    let device_code = random_token(32);
    let request = request_key(&device_code);
    let now = app.now();
    let req = DeviceRequest {
        client_id: client.id.clone(),
        scope,
        acr_values: crate::oauth::types::split_list(p.get("acr_values").unwrap_or("")),
        claims,
        resources,
        expires_at: now + TTL,
    };
    let json = serde_json::to_vec(&req).map_err(OAuthError::server)?;
    app.cache
        .put(&request, &json, secs(TTL + KEPT_AFTER_EXPIRY))
        .await?;
    // A user code names one live request: a clash (about one in 10^10 per live code) draws
    // again.
    for _ in 0..4 {
        let user_code = new_user_code();
        if app
            .cache
            .put_if_absent(&user_code_key(&user_code), request.as_bytes(), secs(TTL))
            .await?
        {
            let verification_uri = app.url("/device");
            return Ok(serde_json::json!({
                "device_code": device_code,
                "user_code": shown(&user_code),
                "verification_uri_complete":
                    format!("{verification_uri}?user_code={}", shown(&user_code)),
                "verification_uri": verification_uri,
                "expires_in": TTL,
                "interval": INTERVAL,
            }));
        }
    }
    Err(OAuthError::server("no free user code"))
}

fn secs(s: i64) -> Duration {
    Duration::from_secs(s.max(1) as u64)
}

/// The `urn:ietf:params:oauth:grant-type:device_code` grant (RFC 8628 §3.4–3.5).
pub(crate) async fn exchange(
    app: &App,
    client: &Client,
    p: &Params,
    jkt: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let request = request_key(p.require("device_code")?);
    let req: Option<DeviceRequest> = get_json(app.cache.as_ref(), &request).await?;
    let Some(req) = req else {
        return Err(OAuthError::invalid_grant(
            "the device code is invalid, expired or already used",
        ));
    };
    if req.client_id != client.id {
        return Err(OAuthError::invalid_grant(
            "the device code was issued to another client",
        ));
    }
    if req.expires_at <= app.now() {
        return Err(OAuthError::new(
            ErrorCode::ExpiredToken,
            "the device code has expired: start again",
        ));
    }
    // The answer is taken once: of two polls, one gets it.
    if let Some(raw) = app.cache.consume(&answer_key(&request)).await? {
        app.cache.delete(&request).await?;
        let answer: Answer = serde_json::from_slice(&raw).map_err(OAuthError::server)?;
        return match answer {
            Answer::Approved(rec) => {
                let used = "the device code was already used";
                Ok(redeem(app, client, &rec, p, jkt, used).await?.0)
            }
            Answer::Refused(why) => Err(OAuthError::new(ErrorCode::AccessDenied, why)),
        };
    }
    let slowed = app
        .cache
        .get(&format!("device-slow:{request}"))
        .await?
        .map_or(0, |v| crate::cache::parse_count(&v) as i64);
    let interval = INTERVAL + 5 * slowed;
    let polled = format!("device-poll:{request}");
    if !app
        .cache
        .put_if_absent(&polled, b"1", secs(interval))
        .await?
    {
        app.cache
            .incr(&format!("device-slow:{request}"), secs(TTL))
            .await?;
        return Err(OAuthError::new(
            ErrorCode::SlowDown,
            "polling faster than the interval: wait five seconds more between polls",
        ));
    }
    Err(OAuthError::new(
        ErrorCode::AuthorizationPending,
        "the person has not answered yet",
    ))
}

/// The person approved `request` (the device code's cache key) with what `rec` holds:
/// kept for the device, which the page tells them to go back to.
pub(crate) async fn approve(
    app: &App,
    request: &str,
    rec: &CodeRecord,
    lang: Lang,
) -> Result<Response, OAuthError> {
    answer(app, request, Answer::Approved(Box::new(rec.clone())), lang).await
}

/// The request ends in `e` (refused consent, a requirement the account cannot meet): kept
/// for the device as `access_denied`, and the person is told. A failure of ours (a backend
/// down) ends nothing: the person is asked to try again later, and the code still works
/// until it expires.
pub(crate) async fn refuse(app: &App, request: &str, e: &OAuthError, lang: Lang) -> Response {
    if e.code.status().is_server_error() {
        return app.pages.unavailable(lang);
    }
    let why = e
        .public_description()
        .unwrap_or("the request was refused")
        .to_owned();
    match answer(app, request, Answer::Refused(why), lang).await {
        Ok(r) => r,
        Err(_) => app.pages.unavailable(lang),
    }
}

async fn answer(app: &App, request: &str, a: Answer, lang: Lang) -> Result<Response, OAuthError> {
    let req: Option<DeviceRequest> = get_json(app.cache.as_ref(), request).await?;
    let now = app.now();
    let Some(req) = req.filter(|r| r.expires_at > now) else {
        return Ok(app
            .pages
            .error(StatusCode::NOT_FOUND, lang, "device_expired", None, None));
    };
    let approved = matches!(a, Answer::Approved(_));
    let json = serde_json::to_vec(&a).map_err(OAuthError::server)?;
    let ttl = secs(req.expires_at - now);
    if !app
        .cache
        .put_if_absent(&answer_key(request), &json, ttl)
        .await?
    {
        return Ok(app
            .pages
            .error(StatusCode::CONFLICT, lang, "device_answered", None, None));
    }
    let step = if approved { "approved" } else { "refused" };
    Ok(app
        .pages
        .page(StatusCode::OK, "device.html", lang, context! { step }))
}

// ----- The person's side: `/device` -----

/// Typing a user code: bound to the browser, its form CSRF-protected, like registration.
const FLOW: Kind = Kind {
    prefix: "devflow",
    path: "/device",
    cookie: "vhod_device_code",
    ttl: Duration::from_secs(TTL as u64),
};

#[derive(Serialize, Deserialize)]
struct Entry {
    b: Binding,
    /// The code from `verification_uri_complete`, shown in the field.
    prefill: String,
}

impl Bound for Entry {
    fn binding(&self) -> &Binding {
        &self.b
    }
}

/// `GET /device[?user_code=…]` (RFC 8628 §3.3).
pub async fn start(
    State(app): State<AppState>,
    RawQuery(q): RawQuery,
    headers: HeaderMap,
) -> Response {
    let q = Params::parse(q.unwrap_or_default().as_bytes());
    let prefill = q
        .get("user_code")
        .map(|c| c.chars().take(16).collect())
        .unwrap_or_default();
    FLOW.begin(
        &app,
        &Entry {
            b: Binding::new(&headers),
            prefill,
        },
    )
    .await
}

/// `GET /device/{id}`: the form.
pub async fn show(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    match FLOW.load::<Entry>(&app, &id, &headers).await {
        Ok(e) => form(&app, &e, StatusCode::OK, None),
        Err(r) => r,
    }
}

fn form(app: &App, e: &Entry, status: StatusCode, error: Option<&str>) -> Response {
    let lang = e.b.lang;
    app.pages.page(
        status,
        "device.html",
        lang,
        context! {
            step => "code", id => &e.b.id, csrf => &e.b.csrf, prefill => &e.prefill,
            error => error.map(|k| lang.t(k)),
        },
    )
}

/// `POST /device/{id}`: the typed user code; a right one goes on to sign-in and consent.
pub async fn enter(FormPost(app, peer, id, headers, body): FormPost) -> Response {
    let (e, form_) = match FLOW.load_form::<Entry>(&app, &id, &headers, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let lang = e.b.lang;
    let ip = crate::http::client_ip(peer, &headers, &app.settings.trusted_proxies);
    let wrong = format!("fail:device:{ip}");
    let tries = match app.cache.get(&wrong).await {
        Ok(v) => v.map_or(0, |v| crate::cache::parse_count(&v)),
        Err(_) => return app.pages.unavailable(lang),
    };
    if tries >= WRONG_CODES_PER_IP {
        return form(
            &app,
            &e,
            StatusCode::TOO_MANY_REQUESTS,
            Some("device_too_many"),
        );
    }
    let found = match normalize(form_.get("user_code").unwrap_or("")) {
        Some(code) => lookup(&app, &code).await,
        None => Ok(None),
    };
    let (request, req, client) = match found {
        Ok(Some(x)) => x,
        Ok(None) => {
            let _ = app.cache.incr(&wrong, WRONG_CODES_WINDOW).await;
            return form(&app, &e, StatusCode::BAD_REQUEST, Some("device_wrong_code"));
        }
        Err(e) => {
            tracing::error!(error = %e, "device lookup failed");
            return app.pages.unavailable(lang);
        }
    };
    let auth = AuthRequest {
        client_id: client.id.clone(),
        redirect_uri: String::new(),
        response_mode: ResponseMode::Query,
        authorization_alg: None,
        scope: req.scope,
        state: None,
        nonce: None,
        code_challenge: String::new(),
        dpop_jkt: None,
        // Always the consent page: it names the client and warns against codes from others.
        prompt: vec![Prompt::Consent],
        max_age: None,
        login_hint: None,
        ui_locales: vec![lang.tag().to_owned()],
        acr_values: req.acr_values,
        claims: req.claims,
        hint_sub: None,
        device: Some(request),
        resources: req.resources,
    };
    let mut r = match crate::oauth::authorize::decide(&app, &auth, &headers, lang, None).await {
        Ok(r) => r,
        Err(err) => crate::oauth::authorize::response::error_to(&app, &auth, &err, lang).await,
    };
    FLOW.finish(&app, &id, &mut r).await;
    r
}

/// The live, unanswered request a user code stands for, with its client (which must still
/// exist and may still use the grant). `Err`: a backend failed (what failed, for the log).
async fn lookup(
    app: &App,
    code: &str,
) -> Result<Option<(String, DeviceRequest, std::sync::Arc<Client>)>, String> {
    let failed = |e: &dyn std::fmt::Display| e.to_string();
    let request = match app.cache.get(&user_code_key(code)).await {
        Ok(Some(v)) => String::from_utf8_lossy(&v).into_owned(),
        Ok(None) => return Ok(None),
        Err(e) => return Err(failed(&e)),
    };
    let req: Option<DeviceRequest> = get_json(app.cache.as_ref(), &request)
        .await
        .map_err(|e| failed(&e))?;
    let Some(req) = req.filter(|r| r.expires_at > app.now()) else {
        return Ok(None);
    };
    if app
        .cache
        .get(&answer_key(&request))
        .await
        .map_err(|e| failed(&e))?
        .is_some()
    {
        return Ok(None);
    }
    match app.client(&req.client_id).await {
        Ok(Some(c)) if c.allows(GrantType::DeviceCode) => Ok(Some((request, req, c))),
        Ok(_) => Ok(None),
        Err(e) => Err(failed(&e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_read_back_however_they_are_typed() {
        for _ in 0..200 {
            let c = new_user_code();
            assert_eq!(normalize(&c).as_deref(), Some(c.as_str()));
            assert_eq!(normalize(&shown(&c)).as_deref(), Some(c.as_str()));
            let typed = format!(" {} ", shown(&c).to_lowercase().replace('-', " - "));
            assert_eq!(normalize(&typed).as_deref(), Some(c.as_str()));
        }
        assert_eq!(normalize("BCDF-GHJ"), None, "too short");
        assert_eq!(normalize("BCDF-GHJKL"), None, "too long");
        assert_eq!(normalize("BCDF-GHJA"), None, "a vowel is never in a code");
        assert_eq!(normalize("BCDF-GHJ1"), None, "nor a digit");
        assert_eq!(normalize("ВСDF-GHJK"), None, "nor a Cyrillic look-alike");
    }
}
