//! The personal account (`/account`): what the signed-in citizen sees of their account, and
//! the form that raises it to the `standard` level.
//!
//! Signing in to the account area goes through the provider's own authorization endpoint,
//! as any client would: `/account` sends a browser without a session to `/authorize` as the
//! built-in public client `vhod-account` (PKCE S256, `state` in a cookie), and the callback
//! lands back on `/account` once the login (and second factor) set the session. The code
//! itself is never redeemed — the session is what the account area needs — and nobody
//! else can redeem it: its PKCE verifier is thrown away.
//!
//! Rules for the standard level (DOMAIN.md): full name, date of birth, SNILS and passport
//! checked on input (`crate::identity`), each error shown at its field in the person's
//! language; the identifiers stored only sealed, with blind indexes; one SNILS per account;
//! the level becomes `standard` with its evidence recorded, and never lowers a `confirmed`
//! account.

use crate::app::{App, AppState};
use crate::crypto::{ct_eq, random_token};
use crate::i18n::Lang;
use crate::identity;
use crate::oauth::params::Params;
use crate::oauth::types::{AuthMethod, GrantType};
use crate::session::{self, Session};
use crate::store::identity::NewIdentity;
use crate::store::{Account, NewClient, StoreError};
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use minijinja::context;

pub mod certificates;
pub mod factors;
pub mod password;
pub mod sign;

/// The account area's own client id.
pub const CLIENT_ID: &str = "vhod-account";
const STATE_COOKIE: &str = "vhod_account_state";

/// Registers (or re-points, when the issuer changed) the built-in account client.
pub async fn ensure_client(app: &App) -> Result<(), StoreError> {
    let redirect = app.url("/account/callback");
    let clients = app.db.clients();
    if let Some(c) = clients.get(CLIENT_ID).await? {
        if c.redirect_uris == [redirect.clone()] {
            return Ok(());
        }
        clients.remove(CLIENT_ID).await?;
    }
    let new = NewClient {
        name: "vhod".into(),
        secret_hash: None,
        auth_method: AuthMethod::None,
        redirect_uris: vec![redirect],
        post_logout_redirect_uris: vec![app.url("/account")],
        grant_types: vec![GrantType::AuthorizationCode],
        scope: vec!["openid".into()],
        jwks: None,
        jwks_uri: None,
        id_token_signed_response_alg: None,
        userinfo_signed_response_alg: None,
        introspection_signed_response_alg: None,
        sector_identifier: None,
        resources: Vec::new(),
        authorization_signed_response_alg: None,
        require_mfa: false,
        min_level: None,
        require_pushed_authorization_requests: false,
        dpop_bound_access_tokens: false,
        require_signed_request_object: false,
        backchannel_logout_uri: None,
        frontchannel_logout_uri: None,
        frontchannel_logout_session_required: false,
    };
    match clients.insert(CLIENT_ID, &new, app.now()).await {
        // Another node registered it at the same moment.
        Ok(()) | Err(StoreError::Conflict(_)) => Ok(()),
        Err(e) => Err(e),
    }
}

/// The signed-in session and its account, or the response that signs the person in.
pub(crate) async fn signed_in(
    app: &App,
    headers: &HeaderMap,
    lang: Lang,
) -> Result<(Session, Account), Response> {
    let s = session::current(app, headers).await.map_err(|e| {
        tracing::error!(error = %e, "session lookup failed");
        app.pages.unavailable(lang)
    })?;
    let account = match &s {
        Some(s) => app.db.accounts().get(&s.account_id).await.map_err(|e| {
            tracing::error!(error = %e, "account lookup failed");
            app.pages.unavailable(lang)
        })?,
        None => None,
    };
    match (s, account) {
        (Some(s), Some(a)) => Ok((s, a)),
        _ => Err(start_sign_in(app, lang)),
    }
}

/// The second factors of `a`, or the page saying the store failed.
pub(crate) async fn factors_of(
    app: &App,
    a: &Account,
    lang: Lang,
) -> Result<crate::otp_factor::Factors, Response> {
    crate::otp_factor::factors(app, a).await.map_err(|e| {
        tracing::error!(error = %e, "factor lookup failed");
        app.pages.unavailable(lang)
    })
}

/// For a posted form: the signed-in account and the form, once its CSRF token (bound to
/// the session) checks out.
pub(crate) async fn signed_in_form(
    app: &App,
    headers: &HeaderMap,
    lang: Lang,
    body: &[u8],
) -> Result<(Account, Params), Response> {
    let (_, account) = signed_in(app, headers, lang).await?;
    let form = Params::parse(body);
    let csrf_ok = session::csrf_for(app, headers)
        .is_some_and(|t| form.get("csrf").is_some_and(|c| ct_eq(c, &t)));
    if !csrf_ok {
        return Err(app
            .pages
            .error(StatusCode::FORBIDDEN, lang, "err_csrf", None, None));
    }
    Ok((account, form))
}

/// Sends the browser to the authorization endpoint as the account client.
fn start_sign_in(app: &App, lang: Lang) -> Response {
    let state = random_token(24);
    // S256 of a verifier nobody keeps: the code can never be redeemed.
    let challenge = crate::crypto::sha256_b64(&random_token(32));
    let q = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", CLIENT_ID)
        .append_pair("redirect_uri", &app.url("/account/callback"))
        .append_pair("scope", "openid")
        .append_pair("state", &state)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .append_pair("ui_locales", lang.tag())
        .finish();
    let mut r = crate::oauth::authorize::response::redirect(&format!("/authorize?{q}"));
    if let Some(c) = crate::http::set_cookie(
        STATE_COOKIE,
        &state,
        "/account",
        app.settings.interaction_ttl,
        app.settings.secure_cookies,
    ) {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    r
}

/// `GET /account/callback`: back from the authorization endpoint.
pub async fn callback(
    State(app): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
) -> Response {
    let lang = Lang::choose(&[], &headers);
    let p = Params::from_query(q.as_deref());
    let state_ok = match (p.get("state"), crate::http::cookie(&headers, STATE_COOKIE)) {
        (Some(a), Some(b)) => ct_eq(a, b),
        _ => false,
    };
    if !state_ok {
        return app
            .pages
            .error(StatusCode::BAD_REQUEST, lang, "err_csrf", None, None);
    }
    if p.get("error").is_some() {
        return app.pages.error(
            StatusCode::FORBIDDEN,
            lang,
            "err_access_denied",
            p.get("error"),
            None,
        );
    }
    let mut r = crate::oauth::authorize::response::redirect("/account");
    if let Some(c) =
        crate::http::set_cookie(STATE_COOKIE, "", "/account", 0, app.settings.secure_cookies)
    {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    r
}

fn level_name(lang: Lang, level: &str) -> &'static str {
    lang.t(match level {
        "confirmed" => "level_confirmed",
        "standard" => "level_standard",
        _ => "level_simplified",
    })
}

/// `GET /account`.
pub async fn overview(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let lang = Lang::choose(&[], &headers);
    let (_, a) = match signed_in(&app, &headers, lang).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let csrf = session::csrf_for(&app, &headers).unwrap_or_default();
    app.pages.page(
        StatusCode::OK,
        "account.html",
        lang,
        context! {
            login => &a.login,
            name => &a.name,
            email => &a.email,
            email_verified => a.email_verified,
            phone => &a.phone,
            phone_verified => a.phone_verified,
            level => &a.level,
            level_name => level_name(lang, &a.level),
            has_totp => a.totp_secret.is_some(),
            csrf,
        },
    )
}

/// The identity form's fields, as typed, and the errors by field.
fn identity_page(
    app: &App,
    headers: &HeaderMap,
    lang: Lang,
    status: StatusCode,
    form: &Params,
    errors: &[(&'static str, String)],
) -> Response {
    let v = |k: &str| form.get(k).unwrap_or("").to_owned();
    let errors: std::collections::BTreeMap<&str, String> = errors.iter().cloned().collect();
    app.pages.page(
        status,
        "identity.html",
        lang,
        context! {
            csrf => session::csrf_for(app, headers).unwrap_or_default(),
            family_name => v("family_name"), given_name => v("given_name"),
            middle_name => v("middle_name"), birth_date => v("birth_date"),
            snils => v("snils"), passport_series => v("passport_series"),
            passport_number => v("passport_number"), inn => v("inn"),
            errors,
        },
    )
}

/// `GET /account/identity`.
pub async fn identity_form(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let lang = Lang::choose(&[], &headers);
    if let Err(r) = signed_in(&app, &headers, lang).await {
        return r;
    }
    identity_page(
        &app,
        &headers,
        lang,
        StatusCode::OK,
        &Params::parse(b""),
        &[],
    )
}

/// `POST /account/identity`.
pub async fn identity_submit(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = Lang::choose(&[], &headers);
    let (account, form) = match signed_in_form(&app, &headers, lang, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    // A confirmed identity was proven (in person, by a bank): the citizen's own input must
    // not replace it, or certificates would name whoever was typed in.
    if account.level == "confirmed" {
        return app.pages.error(
            StatusCode::CONFLICT,
            lang,
            "err_identity_confirmed",
            None,
            None,
        );
    }
    let get = |k: &str| form.get(k).unwrap_or("");
    let mut errors: Vec<(&'static str, String)> = Vec::new();
    let mut check = |field: &'static str, r: Result<String, identity::FieldError>| match r {
        Ok(v) => Some(v),
        Err(e) => {
            errors.push((field, e.message(lang).to_owned()));
            None
        }
    };
    let family = check("family_name", identity::person_name(get("family_name")));
    let given = check("given_name", identity::person_name(get("given_name")));
    let middle = if get("middle_name").trim().is_empty() {
        Some(None)
    } else {
        check("middle_name", identity::person_name(get("middle_name"))).map(Some)
    };
    let today = identity::civil_date(app.now());
    let birth = check("birth_date", identity::birth_date(get("birth_date"), today));
    let snils = check("snils", identity::snils(get("snils")));
    let inn = if get("inn").trim().is_empty() {
        Some(None)
    } else {
        check("inn", identity::inn(get("inn"))).map(Some)
    };
    // The passport's error names its own field (series or number).
    let passport = match identity::passport(get("passport_series"), get("passport_number")) {
        Ok((s, n)) => Some(format!("{s}{n}")),
        Err(e) => {
            let field = if e.field == "passport_series" {
                "passport_series"
            } else {
                "passport_number"
            };
            errors.push((field, e.message(lang).to_owned()));
            None
        }
    };
    let (
        Some(family),
        Some(given),
        Some(middle),
        Some(birth),
        Some(snils),
        Some(passport),
        Some(inn),
    ) = (family, given, middle, birth, snils, passport, inn)
    else {
        return identity_page(
            &app,
            &headers,
            lang,
            StatusCode::BAD_REQUEST,
            &form,
            &errors,
        );
    };
    let person = crate::registry::Person {
        family_name: &family,
        given_name: &given,
        middle_name: middle.as_deref(),
        birth_date: &birth,
        snils: &snils,
        passport_series: passport.get(..4).unwrap_or(""),
        passport_number: passport.get(4..).unwrap_or(""),
        inn: inn.as_deref(),
    };
    let registry = match crate::registry::confirm(&app, lang, &person).await {
        Ok(r) => r,
        Err((status, e)) => return identity_page(&app, &headers, lang, status, &form, &e),
    };
    let (seal, index) = (&app.secrets.identity_key, &app.secrets.identity_index_key);
    let new = NewIdentity {
        family_name: family,
        given_name: given,
        middle_name: middle,
        birth_date: birth,
        snils_enc: identity::seal(seal, "snils", &snils),
        snils_index: identity::blind_index(index, "snils", &snils),
        passport_enc: identity::seal(seal, "passport", &passport),
        passport_index: identity::blind_index(index, "passport", &passport),
        inn_enc: inn.as_ref().map(|v| identity::seal(seal, "inn", v)),
        inn_index: inn.as_ref().map(|v| identity::blind_index(index, "inn", v)),
    };
    let ids = app.db.identities();
    let now = app.now();
    match ids.upsert(&account.id, &new, now).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            let e = vec![("snils", lang.t("err_snils_taken").to_owned())];
            return identity_page(&app, &headers, lang, StatusCode::CONFLICT, &form, &e);
        }
        Err(e) => {
            tracing::error!(error = %e, "identity save failed");
            return app.pages.unavailable(lang);
        }
    }
    if account.level == "simplified" {
        let mut checks = vec![
            "snils_checksum",
            "passport_format",
            "name_format",
            "birth_date",
        ];
        if new.inn_enc.is_some() {
            checks.push("inn_checksum");
        }
        let method = if registry.is_some() {
            "registry"
        } else {
            "self_declared"
        };
        let evidence =
            serde_json::json!({ "method": method, "checks": checks, "registry": registry });
        if let Err(e) = ids
            .record_level(&account.id, "standard", &evidence, now)
            .await
        {
            tracing::error!(error = %e, "level change failed");
            return app.pages.unavailable(lang);
        }
    }
    crate::oauth::authorize::response::redirect("/account")
}

fn enrol_key(account_id: &str) -> String {
    format!("totp:enrol:{account_id}")
}

/// How long a pending enrolment waits for its first code.
const ENROL_TTL: std::time::Duration = std::time::Duration::from_secs(600);

/// Renders the enrolment page for the pending `secret`.
fn totp_page(
    app: &App,
    headers: &HeaderMap,
    lang: Lang,
    status: StatusCode,
    account: &Account,
    secret: &[u8],
    error: Option<&str>,
) -> Response {
    let uri = crate::totp::otpauth_url("vhod", &account.login, secret);
    let qr = crate::totp::qr_svg(&uri).unwrap_or_default();
    let b32 = crate::totp::base32(secret);
    let grouped: Vec<String> = b32
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    app.pages.page(
        status,
        "totp_enrol.html",
        lang,
        context! {
            csrf => session::csrf_for(app, headers).unwrap_or_default(),
            // Our own SVG, made of numbers only: safe to embed.
            qr => minijinja::Value::from_safe_string(qr),
            secret => grouped.join(" "),
            error,
        },
    )
}

/// `GET /account/totp`: starts adding an authenticator app (a new secret, its QR code).
pub async fn totp_start(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let lang = Lang::choose(&[], &headers);
    let (_, account) = match signed_in(&app, &headers, lang).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    if account.totp_secret.is_some() {
        return crate::oauth::authorize::response::redirect("/account");
    }
    let secret = crate::totp::new_secret();
    let sealed = crate::totp::seal(&app.secrets.factor_key, &secret);
    if let Err(e) = app
        .cache
        .put(&enrol_key(&account.id), &sealed, ENROL_TTL)
        .await
    {
        tracing::error!(error = %e, "enrolment store failed");
        return app.pages.unavailable(lang);
    }
    totp_page(
        &app,
        &headers,
        lang,
        StatusCode::OK,
        &account,
        &secret,
        None,
    )
}

/// `POST /account/totp`: the first code from the app confirms it; then ten recovery codes,
/// shown once.
pub async fn totp_confirm(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = Lang::choose(&[], &headers);
    let (account, form) = match signed_in_form(&app, &headers, lang, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let pending = match app.cache.get(&enrol_key(&account.id)).await {
        Ok(v) => v.and_then(|s| crate::totp::open(&app.secrets.factor_key, &s)),
        Err(e) => {
            tracing::error!(error = %e, "enrolment lookup failed");
            return app.pages.unavailable(lang);
        }
    };
    let Some(secret) = pending else {
        // Expired or never started: start again.
        return crate::oauth::authorize::response::redirect("/account/totp");
    };
    let now = app.now();
    let Some(step) = crate::totp::matching_step(&secret, form.get("code").unwrap_or(""), now)
    else {
        let e = lang.t("bad_totp");
        return totp_page(
            &app,
            &headers,
            lang,
            StatusCode::BAD_REQUEST,
            &account,
            &secret,
            Some(e),
        );
    };
    // The confirming code counts as used: it cannot also sign in.
    let used = format!("totp:used:{}:{step}", account.id);
    let window = std::time::Duration::from_secs(crate::totp::REPLAY_WINDOW_SECS);
    if let Err(e) = app.cache.put_if_absent(&used, b"1", window).await {
        tracing::error!(error = %e, "replay cache failed");
        return app.pages.unavailable(lang);
    }
    let sealed = crate::totp::seal(&app.secrets.factor_key, &secret);
    let codes = crate::totp::new_recovery_codes();
    let hashes: Vec<String> = codes
        .iter()
        .filter_map(|c| crate::totp::normalise_recovery_code(c))
        .map(|c| crate::totp::recovery_hash(&app.secrets.recovery_key, &account.id, &c))
        .collect();
    let saved = async {
        app.db
            .accounts()
            .set_totp(&account.id, Some(&sealed), now)
            .await?;
        app.db
            .recovery_codes()
            .replace(&account.id, &hashes, now)
            .await
    };
    if let Err(e) = saved.await {
        tracing::error!(error = %e, "second factor not saved");
        return app.pages.unavailable(lang);
    }
    let _ = app.cache.delete(&enrol_key(&account.id)).await;
    notify_factor_added(&app, &account, lang).await;
    app.pages
        .page(StatusCode::OK, "totp_enrol.html", lang, context! { codes })
}

/// Tells the citizen, on every confirmed address, that a second factor was added.
async fn notify_factor_added(app: &App, a: &Account, lang: Lang) {
    tell(app, a, "factor_added", lang).await;
}

/// Tells the citizen about `kind` as their notification settings say (`crate::notify::tell`).
pub async fn tell(app: &App, a: &Account, kind: &str, lang: Lang) {
    crate::notify::tell(app, a, kind, lang).await;
}

/// One service in the list of services with access.
#[derive(serde::Serialize)]
struct Service {
    client_id: String,
    name: String,
    /// What it may read, in plain words.
    reads: Vec<String>,
    granted_at: i64,
    /// When, for people (UTC), as the history and sessions pages show it.
    since: String,
}

/// `GET /account/services`: every service the citizen allowed, what it reads, since when.
pub async fn services(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let lang = Lang::choose(&[], &headers);
    let (_, account) = match signed_in(&app, &headers, lang).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let consents = match app.db.consents().list(&account.id).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "consent list failed");
            return app.pages.unavailable(lang);
        }
    };
    let mut list = Vec::new();
    for (client_id, c) in consents {
        let name = match app.client(&client_id).await {
            Ok(Some(cl)) => cl.name.clone(),
            // A service removed since: still listed, so the consent can be withdrawn.
            _ => client_id.clone(),
        };
        list.push(Service {
            reads: crate::interaction::plain_words(&c.scope, &c.claims, lang),
            client_id,
            name,
            granted_at: c.granted_at,
            since: when(c.granted_at),
        });
    }
    app.pages.page(
        StatusCode::OK,
        "services.html",
        lang,
        context! {
            csrf => session::csrf_for(&app, &headers).unwrap_or_default(),
            services => list,
        },
    )
}

/// `POST /account/services/revoke`: withdraws the consent given to `client_id` and revokes
/// every grant (refresh tokens, and the access tokens issued from them) it holds.
pub async fn revoke_service(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = Lang::choose(&[], &headers);
    let (account, form) = match signed_in_form(&app, &headers, lang, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let client_id = form.get("client_id").unwrap_or("");
    let now = app.now();
    let done = async {
        app.db.consents().revoke(&account.id, client_id).await?;
        app.db
            .grants()
            .revoke_for(&account.id, client_id, now)
            .await
    };
    match done.await {
        Ok(n) => tracing::info!(client_id, grants = n, "consent withdrawn by the citizen"),
        Err(e) => {
            tracing::error!(error = %e, "consent withdrawal failed");
            return app.pages.unavailable(lang);
        }
    }
    crate::oauth::backchannel::access_withdrawn(&app, &account.id, client_id).await;
    crate::oauth::authorize::response::redirect("/account/services")
}

/// A UTC date and time for people, `2026-11-25 17:05`.
pub(crate) fn when(unix: i64) -> String {
    let (y, m, d) = crate::identity::civil_date(unix);
    let s = unix.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}", s / 3600, s % 3600 / 60)
}

/// `GET /account/history`: the latest sign-ins with time, device, IP address and methods.
pub async fn history(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let lang = Lang::choose(&[], &headers);
    let (_, account) = match signed_in(&app, &headers, lang).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let events = match app.db.history().list(&account.id, 50).await {
        Ok(e) => e,
        Err(e) => {
            tracing::error!(error = %e, "history lookup failed");
            return app.pages.unavailable(lang);
        }
    };
    let rows: Vec<_> = events
        .iter()
        .map(|e| context! { when => when(e.at), ua => &e.user_agent, ip => &e.ip, amr => &e.amr })
        .collect();
    app.pages
        .page(StatusCode::OK, "history.html", lang, context! { rows })
}

/// `GET /account/export`: every piece of personal data vhod holds about the citizen, as
/// JSON (152-FZ: the citizen may see what is processed). Identity documents are opened for
/// their owner; secrets (password hash, second-factor secret) are not personal data to
/// hand out and are reported only as present or not.
pub async fn export(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let lang = Lang::choose(&[], &headers);
    let (_, a) = match signed_in(&app, &headers, lang).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let gathered = async {
        let identity = app.db.identities().get(&a.id).await?;
        let levels = app.db.identities().levels(&a.id).await?;
        let consents = app.db.consents().list(&a.id).await?;
        let history = app.db.history().list(&a.id, 1000).await?;
        let recovery_left = app.db.recovery_codes().remaining(&a.id).await?;
        let notifications = app.db.notification_settings().get(&a.id).await?;
        let codes_by = app.db.otp_factors().list(&a.id).await?;
        let passkeys = app.db.passkeys().list(&a.id).await?;
        Ok::<_, StoreError>((
            identity,
            levels,
            consents,
            history,
            (recovery_left, codes_by, passkeys),
            notifications,
        ))
    };
    let (identity, levels, consents, history, factors, notifications) = match gathered.await {
        Ok(x) => x,
        Err(e) => {
            tracing::error!(error = %e, "export failed");
            return app.pages.unavailable(lang);
        }
    };
    let key = &app.secrets.identity_key;
    let identity = identity.map(|row| {
        let i = row.identity;
        serde_json::json!({
            "family_name": i.family_name, "given_name": i.given_name,
            "middle_name": i.middle_name, "birth_date": i.birth_date,
            "snils": identity::open(key, "snils", &i.snils_enc),
            "passport": identity::open(key, "passport", &i.passport_enc),
            "inn": i.inn_enc.as_deref().and_then(|b| identity::open(key, "inn", b)),
            "updated_at": row.updated_at,
        })
    });
    let doc = serde_json::json!({
        "account": {
            "id": a.id, "login": a.login, "name": a.name, "given_name": a.given_name,
            "family_name": a.family_name, "email": a.email, "email_verified": a.email_verified,
            "phone": a.phone, "phone_verified": a.phone_verified, "address": a.address
                .as_deref().and_then(|j| serde_json::from_str::<serde_json::Value>(j).ok()),
            "locale": a.locale, "level": a.level, "created_at": a.created_at,
            "updated_at": a.updated_at,
        },
        "second_factor": { "authenticator_app": a.totp_secret.is_some(),
                           "recovery_codes_left": factors.0, "codes_by": factors.1,
                           "passkeys": factors.2.iter().map(|p| serde_json::json!({
                               "name": p.name, "created_at": p.created_at,
                               "last_used_at": p.last_used_at })).collect::<Vec<_>>() },
        "identity": identity,
        "level_history": levels.iter().map(|l| serde_json::json!({
            "level": l.level, "evidence": l.evidence, "at": l.at })).collect::<Vec<_>>(),
        "services": consents.iter().map(|(client, c)| serde_json::json!({
            "client_id": client, "scope": c.scope, "claims": c.claims,
            "granted_at": c.granted_at })).collect::<Vec<_>>(),
        "sign_ins": history,
        "notifications": notifications,
    });
    let body = serde_json::to_vec_pretty(&doc).unwrap_or_default();
    let mut r = (StatusCode::OK, body).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        axum::http::HeaderValue::from_static("attachment; filename=\"vhod-my-data.json\""),
    );
    h.insert(
        header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    r
}

/// `GET /account/delete`: asks for the password, and the second factor when there is one.
pub async fn delete_form(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let lang = Lang::choose(&[], &headers);
    let (_, a) = match signed_in(&app, &headers, lang).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    // An account whose second factor is a code by SMS or e-mail gets one now.
    let sent = sent_factor(&app, &a).await;
    if let Some(m) = sent {
        if let Err((_, why)) = crate::otp_factor::send(&app, &a, m, "delete", lang).await {
            tracing::info!(reason = why, "deletion code not sent");
        }
    }
    let has_code = a.totp_secret.is_some() || sent.is_some();
    delete_page(&app, &headers, lang, StatusCode::OK, has_code, None)
}

/// The SMS or e-mail factor deletion asks a code of, for an account without the app.
async fn sent_factor(app: &App, a: &Account) -> Option<crate::otp_factor::Method> {
    let f = crate::otp_factor::factors(app, a).await.ok()?;
    f.first().filter(|m| m.is_sent())
}

fn delete_page(
    app: &App,
    headers: &HeaderMap,
    lang: Lang,
    status: StatusCode,
    has_code: bool,
    error: Option<&str>,
) -> Response {
    app.pages.page(
        status,
        "delete.html",
        lang,
        context! {
            csrf => session::csrf_for(app, headers).unwrap_or_default(),
            has_totp => has_code,
            error,
        },
    )
}

/// `POST /account/delete`: with the password (and the authenticator's code when the account
/// has one), deletes the account, revokes every grant, ends every session, and tells the
/// citizen.
pub async fn delete(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let lang = Lang::choose(&[], &headers);
    let (a, form) = match signed_in_form(&app, &headers, lang, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    // Wrong passwords count like sign-in failures; a login that must wait is told so.
    let typed = form.get("password").unwrap_or("");
    let password_ok = match crate::interaction::reauthenticate(&app, &a, typed, lang).await {
        crate::interaction::PasswordCheck::Confirmed => true,
        crate::interaction::PasswordCheck::Wrong => false,
        crate::interaction::PasswordCheck::Wait => {
            let e = lang.t("err_password_wait");
            let has_code = a.totp_secret.is_some() || sent_factor(&app, &a).await.is_some();
            let status = StatusCode::TOO_MANY_REQUESTS;
            return delete_page(&app, &headers, lang, status, has_code, Some(e));
        }
        crate::interaction::PasswordCheck::Unavailable => return app.pages.unavailable(lang),
    };
    let now = app.now();
    let sent = sent_factor(&app, &a).await;
    let typed = form.get("code").unwrap_or("");
    // The code is spent only once the password is right.
    let factor_ok = password_ok
        && if let Some(m) = sent {
            crate::otp_factor::check(&app, &a.id, m, "delete", typed)
                .await
                .is_ok()
        } else {
            match a
                .totp_secret
                .as_deref()
                .and_then(|s| crate::totp::open(&app.secrets.factor_key, s))
            {
                None => a.totp_secret.is_none(),
                Some(secret) => {
                    match crate::totp::matching_step(&secret, form.get("code").unwrap_or(""), now) {
                        Some(step) => crate::totp::spend_step(&app, &a.id, step)
                            .await
                            .unwrap_or(false),
                        None => false,
                    }
                }
            }
        };
    if !(password_ok && factor_ok) {
        let e = lang.t("delete_refused");
        let has_code = a.totp_secret.is_some() || sent.is_some();
        let status = StatusCode::UNAUTHORIZED;
        return delete_page(&app, &headers, lang, status, has_code, Some(e));
    }
    // Told first, while the addresses are still known; the certificates go before the
    // account, so none outlives it.
    tell(&app, &a, "account_deleted", lang).await;
    let actor = format!("account:{}", a.id);
    let cause = certificates::follow::Cause::Deleted;
    certificates::follow::on_account_change(&app, &a, cause, &actor, lang).await;
    // Sessions end before the account goes: its list of sessions goes with it, and the
    // clients of those sessions are told from that list (back-channel logout).
    if let Err(e) = session::end_all(&app, &a.id).await {
        tracing::error!(error = %e, "sessions not ended before deletion");
    }
    let done = async {
        app.db.grants().revoke_all(&a.id, now).await?;
        app.db.accounts().delete(&a.id).await
    };
    if let Err(e) = done.await {
        tracing::error!(error = %e, "account deletion failed");
        return app.pages.unavailable(lang);
    }
    tracing::info!(account = %a.id, "account deleted by its owner");
    app.pages.page(
        StatusCode::OK,
        "delete.html",
        lang,
        context! { deleted => true },
    )
}

/// `GET /account/sessions`: the browsers signed in now, this one marked.
pub async fn sessions(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let lang = Lang::choose(&[], &headers);
    let (_, a) = match signed_in(&app, &headers, lang).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let rows = match app.db.sessions().list(&a.id, app.now()).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "session list failed");
            return app.pages.unavailable(lang);
        }
    };
    let here = session::current_key(&app, &headers);
    let mut live = Vec::new();
    for r in rows {
        if session::is_live(&app, &r.cache_key).await.unwrap_or(false) {
            live.push(context! {
                sid => &r.sid, when => when(r.started_at), ip => &r.ip, ua => &r.user_agent,
                current => here.as_deref() == Some(r.cache_key.as_str()),
            });
        }
    }
    app.pages.page(
        StatusCode::OK,
        "sessions.html",
        lang,
        context! { csrf => session::csrf_for(&app, &headers).unwrap_or_default(), sessions => live },
    )
}

/// `POST /account/sessions/end`: signs one of the account's browsers out.
pub async fn end_session(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let lang = Lang::choose(&[], &headers);
    let (a, form) = match signed_in_form(&app, &headers, lang, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let sid = form.get("sid").unwrap_or("");
    match app.db.sessions().remove(&a.id, sid).await {
        Ok(Some(cache_key)) => {
            if let Err(e) = app.cache.delete(&cache_key).await {
                tracing::error!(error = %e, "session not ended");
                return app.pages.unavailable(lang);
            }
            let sids = [sid.to_owned()];
            crate::oauth::backchannel::sessions_ended(&app, &a.id, &sids).await;
        }
        Ok(None) => {}
        Err(e) => {
            tracing::error!(error = %e, "session removal failed");
            return app.pages.unavailable(lang);
        }
    }
    crate::oauth::authorize::response::redirect("/account/sessions")
}

/// `POST /account/sessions/end-others`: signs every browser of the account out but this
/// one (their services are told, and their grants without offline access end).
pub async fn end_other_sessions(
    State(app): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = Lang::choose(&[], &headers);
    match signed_in_form(&app, &headers, lang, &body).await {
        Ok((a, _)) => end_others_of(&app, &headers, lang, &a).await,
        Err(r) => r,
    }
}

/// Ends every session of `a` but the one `headers` name; back to the list.
async fn end_others_of(app: &App, headers: &HeaderMap, lang: Lang, a: &Account) -> Response {
    let ended = match session::current(app, headers).await {
        Ok(Some(s)) if s.account_id == a.id => session::end_others(app, headers, &s).await,
        Ok(_) => Ok(()),
        Err(e) => Err(e),
    };
    if let Err(e) = ended {
        tracing::error!(error = %e, "other sessions not ended");
        return app.pages.unavailable(lang);
    }
    tracing::info!(account = %a.id, "other sessions ended by their owner");
    crate::oauth::authorize::response::redirect("/account/sessions")
}
