//! Signing in with a passkey at `/interaction/{id}/passkey` (WebAuthn §7.2, verified by
//! webauthn-rs): as the second factor after the password, where only the pending account's
//! credentials are allowed, or alone from the login page, where a discoverable credential
//! names its account by its user handle.
//!
//! Rules:
//! - The challenge is single-use: the ceremony's state is taken from the shared cache once,
//!   and bound to this interaction; a replayed or stale answer is refused.
//! - An unknown credential, one of another account, a bad signature, a wrong origin or a
//!   sign counter that did not grow (§6.1.1: a possibly cloned authenticator) is refused on
//!   the page again, in the person's language.
//! - As the second factor a refusal counts toward the account's second-factor limit (the
//!   one the authenticator-app codes use); alone, toward the login's and the IP address's
//!   limits of the password form, and a locked account stays locked.
//! - `amr` as `crate::passkey` explains: `pwd hwk user mfa` or `hwk user mfa`.

use super::login;
use super::{load, load_form, render, save, Interaction, PendingMfa};
use crate::app::{App, AppState};
use crate::http::FormPost;
use crate::i18n::Lang;
use crate::oauth::authorize::response::redirect;
use crate::passkey::assertion::{check_own, keys_of, request_options, row_of, verify};
use crate::passkey::{put_state, relying_party, take_state};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use serde::{Deserialize, Serialize};
use webauthn_rs::prelude::{
    DiscoverableAuthentication, Passkey, PasskeyAuthentication, PublicKeyCredential, Webauthn,
};

/// An assertion in progress, kept in the cache until the browser answers.
#[derive(Serialize, Deserialize)]
struct Assertion {
    /// The interaction it belongs to.
    interaction: String,
    /// webauthn-rs's state (the challenge, and the allowed credentials when a factor).
    state: Ceremony,
}

/// What kind of sign-in the assertion is for.
#[derive(Serialize, Deserialize)]
enum Ceremony {
    /// After the password of this account.
    SecondFactor(String, PasskeyAuthentication),
    /// Without a password: the credential names the account.
    Passwordless(DiscoverableAuthentication),
}

/// Starts a ceremony and renders the passkey page for it.
pub(super) async fn page(
    app: &App,
    ix: &Interaction,
    headers: &HeaderMap,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let lang = ix.lang(headers);
    let Some(rp) = relying_party(app) else {
        return crate::passkey::unavailable(app, lang);
    };
    let (started, has_totp) = match &ix.pending_mfa {
        Some(p) => {
            let (keys, account) = match (
                keys_of(app, &p.account_id).await,
                app.db.accounts().get(&p.account_id).await,
            ) {
                (Ok(k), Ok(a)) => (k, a),
                _ => return app.pages.unavailable(lang),
            };
            if keys.is_empty() {
                return redirect(&format!("/interaction/{}", ix.id));
            }
            let started = rp.start_passkey_authentication(&keys).map(|(o, s)| {
                (
                    request_options(&o),
                    Ceremony::SecondFactor(p.account_id.clone(), s),
                )
            });
            (started, account.is_some_and(|a| a.totp_secret.is_some()))
        }
        None => {
            let started = rp
                .start_discoverable_authentication()
                .map(|(o, s)| (request_options(&o), Ceremony::Passwordless(s)));
            (started, false)
        }
    };
    let (options, state) = match started {
        Ok(x) => x,
        Err(e) => {
            tracing::error!(error = %e, "passkey sign-in not started");
            return crate::passkey::unavailable(app, lang);
        }
    };
    let second_factor = matches!(state, Ceremony::SecondFactor(..));
    let a = Assertion {
        interaction: ix.id.clone(),
        state,
    };
    let token = match put_state(app, "auth", &a).await {
        Ok(t) => t,
        Err(e) => {
            tracing::error!(error = %e, "ceremony not stored");
            return app.pages.unavailable(lang);
        }
    };
    let client_name = ix.client_name(app).await;
    render(
        app,
        ix,
        headers,
        status,
        "passkey_sign_in.html",
        context! { client_name, ceremony => token, options, error, second_factor, has_totp },
    )
}

/// `GET /interaction/{id}/passkey`.
pub async fn start(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let ix = match load(&app, &id, &headers).await {
        Ok(ix) => ix,
        Err(r) => return *r,
    };
    if ix.session.is_some() {
        return redirect(&format!("/interaction/{}", ix.id));
    }
    page(&app, &ix, &headers, None, StatusCode::OK).await
}

/// `POST /interaction/{id}/passkey`: the browser's answer.
pub async fn passkey(FormPost(app, peer, id, headers, body): FormPost) -> Response {
    let (ix, form) = match load_form(&app, &id, &headers, &body).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let lang = ix.lang(&headers);
    let Some(rp) = relying_party(&app) else {
        return crate::passkey::unavailable(&app, lang);
    };
    let token = form.get("ceremony").unwrap_or("");
    let taken: Option<Assertion> = match take_state(&app, "auth", token).await {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e, "ceremony lookup failed");
            return app.pages.unavailable(lang);
        }
    };
    let Some(a) = taken.filter(|a| a.interaction == ix.id && ix.session.is_none()) else {
        let e = lang.t("passkey_expired");
        return page(&app, &ix, &headers, Some(e), StatusCode::BAD_REQUEST).await;
    };
    let cred = serde_json::from_str::<PublicKeyCredential>(form.get("credential").unwrap_or(""));
    let ip = crate::http::client_ip(peer, &headers, &app.settings.trusted_proxies).to_string();
    let pending = ix.pending_mfa.clone();
    match (a.state, pending, cred) {
        (Ceremony::SecondFactor(acc, state), Some(p), cred) if p.account_id == acc => {
            second_factor(&app, ix, &headers, p, (&rp, &state), cred.ok(), &ip).await
        }
        (Ceremony::Passwordless(state), None, Ok(cred)) => {
            passwordless(&app, ix, &headers, &rp, state, cred, &ip).await
        }
        (Ceremony::Passwordless(_), None, Err(_)) => {
            login::count_failure(&app, &[&format!("fail:ip:{ip}")]).await;
            refused(&app, &ix, &headers, lang).await
        }
        _ => {
            let e = lang.t("passkey_expired");
            page(&app, &ix, &headers, Some(e), StatusCode::BAD_REQUEST).await
        }
    }
}

/// The passkey page again, saying the passkey was refused.
async fn refused(app: &App, ix: &Interaction, headers: &HeaderMap, lang: Lang) -> Response {
    let e = lang.t("passkey_refused");
    page(app, ix, headers, Some(e), StatusCode::UNAUTHORIZED).await
}

/// A passkey after the password: only the pending account's credentials count.
async fn second_factor(
    app: &App,
    mut ix: Interaction,
    headers: &HeaderMap,
    pending: PendingMfa,
    (rp, state): (&Webauthn, &PasskeyAuthentication),
    cred: Option<PublicKeyCredential>,
    ip: &str,
) -> Response {
    let lang = ix.lang(headers);
    match crate::otp_factor::too_many_failures(app, &pending.account_id).await {
        Ok(false) => {}
        Ok(true) => {
            ix.pending_mfa = None;
            if save(app, &ix).await.is_err() {
                return app.pages.unavailable(lang);
            }
            let e = lang.t("too_many_attempts");
            return login::page(app, &ix, headers, Some(e), StatusCode::TOO_MANY_REQUESTS).await;
        }
        Err(_) => return app.pages.unavailable(lang),
    }
    let account = match app.db.accounts().get(&pending.account_id).await {
        Ok(Some(a)) => a,
        Ok(None) => return redirect("/account"),
        Err(_) => return app.pages.unavailable(lang),
    };
    match check_own(app, rp, state, &account.id, cred.as_ref(), lang).await {
        Ok(true) => {}
        Ok(false) => {
            crate::otp_factor::count_failure(app, &account.id).await;
            return refused(app, &ix, headers, lang).await;
        }
        Err(r) => return r,
    }
    crate::otp_factor::clear_failures(app, &account.id).await;
    let amr = crate::passkey::AMR_SECOND_FACTOR;
    login::signed_in(app, ix, &account, amr, pending.auth_time, headers, ip).await
}

/// A passkey alone: the discoverable credential names the account.
async fn passwordless(
    app: &App,
    ix: Interaction,
    headers: &HeaderMap,
    rp: &Webauthn,
    state: DiscoverableAuthentication,
    cred: PublicKeyCredential,
    ip: &str,
) -> Response {
    let lang = ix.lang(headers);
    let ip_counter = format!("fail:ip:{ip}");
    let handle = rp
        .identify_discoverable_authentication(&cred)
        .map(|(u, _)| u.to_string());
    let row = match row_of(app, &cred, lang).await {
        Ok(r) => r.filter(|r| handle.as_ref().is_ok_and(|h| *h == r.user_handle)),
        Err(r) => return r,
    };
    let account = match &row {
        Some(r) => match app.db.accounts().get(&r.account_id).await {
            Ok(a) => a,
            Err(_) => return app.pages.unavailable(lang),
        },
        None => None,
    };
    let (Some(row), Some(account)) = (row, account) else {
        login::count_failure(app, &[&ip_counter]).await;
        return refused(app, &ix, headers, lang).await;
    };
    match login::throttled(app, &account.login, &ip_counter).await {
        Ok(false) => {}
        Ok(true) => {
            let e = lang.t("too_many_attempts");
            return page(app, &ix, headers, Some(e), StatusCode::TOO_MANY_REQUESTS).await;
        }
        Err(_) => return app.pages.unavailable(lang),
    }
    let finish = |pk: &Passkey, c: &PublicKeyCredential| {
        rp.finish_discoverable_authentication_v2(c, state, pk)
    };
    match verify(app, &row, &cred, finish, lang).await {
        Ok(true) => {}
        Ok(false) => {
            login::count_login_failure(app, &account.login, &ip_counter).await;
            login::lock_if_due(app, &account, lang).await;
            return refused(app, &ix, headers, lang).await;
        }
        Err(r) => return r,
    }
    if account.locked_at.is_some() {
        let e = lang.t("account_locked");
        return login::page(app, &ix, headers, Some(e), StatusCode::FORBIDDEN).await;
    }
    login::clear_login_failures(app, &account.login, &account).await;
    // The passkey just used is the account's second factor.
    if let Some(e) = login::requirements_unmet(app, &ix, &account, true, lang).await {
        return e;
    }
    let amr = crate::passkey::AMR_PASSWORDLESS;
    login::signed_in(app, ix, &account, amr, app.now(), headers, ip).await
}
