//! `/account/passkeys`: the citizen's passkeys (name, added, last used), adding one, and
//! renaming or removing one.
//!
//! Rules (WebAuthn §7.1, registration):
//! - Every change needs the account password again; adding then runs the ceremony in the
//!   browser (`/static/passkey.js`), its state single-use in the shared cache.
//! - The credential is asked to be discoverable (`residentKey: required`) with user
//!   verification, so the same passkey signs in without a password; the account's own
//!   credentials are excluded (§5.4.3 `excludeCredentials`), and a credential id already
//!   registered to any account is refused (§7.1 step 26).
//! - The citizen is told on their confirmed addresses when one is added or removed.

use super::{credential_key, options_json, put_state, relying_party, take_state, unavailable};
use crate::account::{signed_in, signed_in_form, tell, when};
use crate::app::{App, AppState};
use crate::i18n::Lang;
use crate::interaction::PasswordCheck;
use crate::oauth::authorize::response::redirect;
use crate::session;
use crate::store::passkeys::PasskeyRow;
use crate::store::{Account, StoreError};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{PasskeyRegistration, RegisterPublicKeyCredential, Uuid};

/// Longest passkey name, in characters.
const MAX_NAME: usize = 64;

/// A registration in progress, kept in the cache until the browser answers.
#[derive(Serialize, Deserialize)]
struct Registration {
    /// Who started it.
    account_id: String,
    /// The name the citizen gave.
    name: String,
    /// The WebAuthn user handle sent to the authenticator.
    user_handle: String,
    /// webauthn-rs's state (the challenge and what was asked).
    state: PasskeyRegistration,
}

/// A ceremony to run on the page: its token and the options for `navigator.credentials`.
struct Ceremony {
    token: String,
    options: String,
}

async fn page(
    app: &App,
    headers: &HeaderMap,
    lang: Lang,
    status: StatusCode,
    account: &Account,
    error: Option<&str>,
    ceremony: Option<Ceremony>,
) -> Response {
    let rows = match app.db.passkeys().list(&account.id).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "passkey list failed");
            return app.pages.unavailable(lang);
        }
    };
    let never = lang.t("passkey_never_used");
    let passkeys: Vec<_> = rows
        .iter()
        .map(|p| {
            context! {
                id => &p.id,
                name => &p.name,
                created => when(p.created_at),
                last_used => p.last_used_at.map_or_else(|| never.to_owned(), when),
            }
        })
        .collect();
    let (token, options) = ceremony.map_or((None, None), |c| (Some(c.token), Some(c.options)));
    app.pages.page(
        status,
        "passkeys.html",
        lang,
        context! {
            csrf => session::csrf_for(app, headers).unwrap_or_default(),
            passkeys,
            available => relying_party(app).is_some(),
            ceremony => token,
            options,
            error,
        },
    )
}

/// `GET /account/passkeys`.
pub async fn list(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let lang = Lang::choose(&[], &headers);
    let (_, account) = match signed_in(&app, &headers, lang).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    page(&app, &headers, lang, StatusCode::OK, &account, None, None).await
}

/// A name as typed, trimmed and checked; the default name when empty.
fn clean_name(typed: Option<&str>, lang: Lang) -> Option<String> {
    let name = typed.unwrap_or("").trim();
    if name.is_empty() {
        return Some(lang.t("passkey_default_name").to_owned());
    }
    let ok = name.chars().count() <= MAX_NAME && !name.chars().any(char::is_control);
    ok.then(|| name.to_owned())
}

/// Like `confirmed`, for a change that names the passkey: also the checked name.
async fn confirmed_named(
    app: &App,
    headers: &HeaderMap,
    lang: Lang,
    body: &[u8],
) -> Result<(Account, crate::oauth::params::Params, String), Response> {
    let (account, form) = confirmed(app, headers, lang, body).await?;
    match clean_name(form.get("name"), lang) {
        Some(name) => Ok((account, form, name)),
        None => {
            let e = lang.t("passkey_bad_name");
            let status = StatusCode::BAD_REQUEST;
            Err(page(app, headers, lang, status, &account, Some(e), None).await)
        }
    }
}

/// The signed-in account and form of a posted change, once the password checks out;
/// otherwise the page to show.
async fn confirmed(
    app: &App,
    headers: &HeaderMap,
    lang: Lang,
    body: &[u8],
) -> Result<(Account, crate::oauth::params::Params), Response> {
    let (account, form) = signed_in_form(app, headers, lang, body).await?;
    // Wrong passwords count like sign-in failures (`interaction::reauthenticate`).
    let typed = form.get("password").unwrap_or("");
    let (status, key) = match crate::interaction::reauthenticate(app, &account, typed, lang).await {
        PasswordCheck::Confirmed => return Ok((account, form)),
        PasswordCheck::Wrong => (StatusCode::UNAUTHORIZED, "passkey_bad_password"),
        PasswordCheck::Wait => (StatusCode::TOO_MANY_REQUESTS, "err_password_wait"),
        PasswordCheck::Unavailable => return Err(app.pages.unavailable(lang)),
    };
    let e = lang.t(key);
    Err(page(app, headers, lang, status, &account, Some(e), None).await)
}

/// `POST /account/passkeys/add`: password and name, then the registration ceremony.
pub async fn add(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let lang = Lang::choose(&[], &headers);
    let Some(rp) = relying_party(&app) else {
        return unavailable(&app, lang);
    };
    let (account, _, name) = match confirmed_named(&app, &headers, lang, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let existing = match app.db.passkeys().list(&account.id).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "passkey list failed");
            return app.pages.unavailable(lang);
        }
    };
    // One user handle per account, so an authenticator keeps one passkey for it.
    let handle = existing
        .first()
        .and_then(|p| Uuid::parse_str(&p.user_handle).ok())
        .unwrap_or_else(Uuid::new_v4);
    let exclude = existing
        .iter()
        .filter_map(|p| serde_json::from_str::<webauthn_rs::prelude::Passkey>(&p.passkey).ok())
        .map(|p| p.cred_id().clone())
        .collect();
    let display = account
        .name
        .clone()
        .unwrap_or_else(|| account.login.clone());
    let (ccr, state) =
        match rp.start_passkey_registration(handle, &account.login, &display, Some(exclude)) {
            Ok(x) => x,
            Err(e) => {
                tracing::error!(error = %e, "passkey registration not started");
                return unavailable(&app, lang);
            }
        };
    // A discoverable credential, so the passkey also signs in without a password.
    let mut options = serde_json::to_value(&ccr).unwrap_or_default();
    if let Some(sel) = options.pointer_mut("/publicKey/authenticatorSelection") {
        sel["residentKey"] = "required".into();
        sel["requireResidentKey"] = true.into();
    }
    let reg = Registration {
        account_id: account.id.clone(),
        name,
        user_handle: handle.to_string(),
        state,
    };
    let token = match put_state(&app, "reg", &reg).await {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "ceremony not stored");
            return app.pages.unavailable(lang);
        }
    };
    let ceremony = Ceremony {
        token,
        options: options_json(&options),
    };
    page(
        &app,
        &headers,
        lang,
        StatusCode::OK,
        &account,
        None,
        Some(ceremony),
    )
    .await
}

/// `POST /account/passkeys/finish`: the browser's answer to the registration ceremony.
pub async fn finish(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let lang = Lang::choose(&[], &headers);
    let Some(rp) = relying_party(&app) else {
        return unavailable(&app, lang);
    };
    let (account, form) = match signed_in_form(&app, &headers, lang, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let fail = |key: &'static str| {
        let (app, headers, account) = (&app, &headers, &account);
        async move {
            let e = lang.t(key);
            page(
                app,
                headers,
                lang,
                StatusCode::BAD_REQUEST,
                account,
                Some(e),
                None,
            )
            .await
        }
    };
    let token = form.get("ceremony").unwrap_or("");
    let reg: Option<Registration> = match take_state(&app, "reg", token).await {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "ceremony lookup failed");
            return app.pages.unavailable(lang);
        }
    };
    let Some(reg) = reg.filter(|r| r.account_id == account.id) else {
        return fail("passkey_expired").await;
    };
    let Ok(cred) =
        serde_json::from_str::<RegisterPublicKeyCredential>(form.get("credential").unwrap_or(""))
    else {
        return fail("passkey_refused").await;
    };
    let passkey = match rp.finish_passkey_registration(&cred, &reg.state) {
        Ok(p) => p,
        Err(e) => {
            tracing::info!(error = %e, "passkey registration refused");
            return fail("passkey_refused").await;
        }
    };
    let Ok(json) = serde_json::to_string(&passkey) else {
        return app.pages.unavailable(lang);
    };
    let row = PasskeyRow {
        id: crate::crypto::random_token(12),
        account_id: account.id.clone(),
        credential_id: credential_key(passkey.cred_id()),
        user_handle: reg.user_handle,
        name: reg.name,
        passkey: json,
        created_at: app.now(),
        last_used_at: None,
    };
    match app.db.passkeys().insert(&row).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => return fail("passkey_taken").await,
        Err(e) => {
            tracing::error!(error = %e, "passkey not stored");
            return app.pages.unavailable(lang);
        }
    }
    tracing::info!(account = %account.id, "passkey added");
    tell(&app, &account, "factor_added", lang).await;
    redirect("/account/passkeys")
}

/// `POST /account/passkeys/rename`: a new name for one passkey (password required).
pub async fn rename(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let lang = Lang::choose(&[], &headers);
    let (account, form, name) = match confirmed_named(&app, &headers, lang, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let id = form.get("id").unwrap_or("");
    match app.db.passkeys().rename(&account.id, id, &name).await {
        Ok(_) => redirect("/account/passkeys"),
        Err(e) => {
            tracing::error!(error = %e, "passkey not renamed");
            app.pages.unavailable(lang)
        }
    }
}

/// `POST /account/passkeys/remove`: removes one passkey (password required) and tells the
/// citizen.
pub async fn remove(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let lang = Lang::choose(&[], &headers);
    let (account, form) = match confirmed(&app, &headers, lang, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let id = form.get("id").unwrap_or("");
    // NIST SP 800-63B §5.1.1.2: an 8-character password only beside a second factor, so the
    // last factor stays while the password is shorter than 15 (as `/account/factors` does).
    let factors = match crate::otp_factor::factors(&app, &account).await {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(error = %e, "factor lookup failed");
            return app.pages.unavailable(lang);
        }
    };
    let others = crate::otp_factor::Factors {
        passkey: account.passkeys > 1,
        ..factors
    };
    let typed_len = form.get("password").unwrap_or("").chars().count();
    if !others.any() && typed_len < crate::password_policy::MIN_LEN_SINGLE_FACTOR {
        let e = lang.t("err_last_factor");
        return page(
            &app,
            &headers,
            lang,
            StatusCode::CONFLICT,
            &account,
            Some(e),
            None,
        )
        .await;
    }
    match app.db.passkeys().remove(&account.id, id).await {
        Ok(true) => {
            tracing::info!(account = %account.id, "passkey removed");
            tell(&app, &account, "passkey_removed", lang).await;
            redirect("/account/passkeys")
        }
        Ok(false) => redirect("/account/passkeys"),
        Err(e) => {
            tracing::error!(error = %e, "passkey not removed");
            app.pages.unavailable(lang)
        }
    }
}
