//! The second-factor step of a sign-in: which factor is asked, the choice among the
//! account's factors, and codes sent by SMS or e-mail (`/otp`, `/resend`, `/method`).
//!
//! Rules: reachable only once the password was right (or, for a client's MFA rule, for a
//! live session); the person may pick any factor the account has — authenticator app, SMS,
//! e-mail, recovery code — and nothing else; picking SMS or e-mail sends a code (limits in
//! `otp_factor`); a right code signs in with `amr` `pwd sms mfa` (SMS) or `pwd otp mfa`
//! (e-mail; RFC 8176 has no e-mail value).

use super::login::{self, signed_in};
use super::{load_form, render, save, Interaction, PendingMfa};
use crate::app::{App, AppState};
use crate::http::FormPost;
use crate::oauth::error::OAuthError;
use crate::oauth::params::Params;
use crate::otp_factor::{self, Factors, Method};
use crate::store::Account;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;

/// Asks `account` for its first factor: records the step, sends the code when the factor is
/// SMS or e-mail, and sends the browser to the code page.
pub(super) async fn begin(
    app: &App,
    mut ix: Interaction,
    account: &Account,
    factors: Factors,
    auth_time: i64,
    headers: &HeaderMap,
) -> Response {
    let lang = ix.lang(headers);
    let method = factors.first();
    ix.pending_mfa = Some(PendingMfa {
        account_id: account.id.clone(),
        auth_time,
        method,
    });
    if save(app, &ix).await.is_err() {
        return app.pages.unavailable(lang);
    }
    if let Some(m) = method.filter(|m| m.is_sent()) {
        if let Err((status, key)) = otp_factor::send(app, account, m, "signin", lang).await {
            return page(app, &ix, headers, Some(lang.t(key)), status).await;
        }
    }
    crate::oauth::authorize::response::redirect(&format!("/interaction/{}", ix.id))
}

/// A step-up for a live session without a second factor: only the factor is asked, and the
/// session keeps its `sid`.
pub async fn start_step_up(
    app: &App,
    mut ix: Interaction,
    account: &Account,
    factors: Factors,
    auth_time: i64,
) -> Result<Response, OAuthError> {
    let method = factors.first();
    ix.pending_mfa = Some(PendingMfa {
        account_id: account.id.clone(),
        auth_time,
        method,
    });
    if let Some(m) = method.filter(|m| m.is_sent()) {
        let lang = crate::i18n::Lang::choose(&ix.request.ui_locales, &HeaderMap::new());
        if let Err((_, key)) = otp_factor::send(app, account, m, "signin", lang).await {
            // The page offers a resend; the refusal is not an error of the request.
            tracing::info!(reason = key, "step-up code not sent");
        }
    }
    super::start(app, ix).await
}

/// The pending step, its account and factors, for a form posted to it.
struct Step {
    ix: Interaction,
    pending: PendingMfa,
    account: Account,
    factors: Factors,
}

/// Loads the step a form was posted to; otherwise the response to give.
async fn load_step(
    app: &App,
    id: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(Step, Params), Response> {
    let (mut ix, form) = load_form(app, id, headers, body).await.map_err(|r| *r)?;
    let lang = ix.lang(headers);
    let Some(pending) = ix.pending_mfa.clone() else {
        return Err(crate::oauth::authorize::response::redirect(&format!(
            "/interaction/{}",
            ix.id
        )));
    };
    let account = match app.db.accounts().get(&pending.account_id).await {
        Ok(Some(a)) => a,
        Ok(None) => {
            // Removed meanwhile: start over.
            ix.pending_mfa = None;
            if save(app, &ix).await.is_err() {
                return Err(app.pages.unavailable(lang));
            }
            return Err(login::page(app, &ix, headers, None, StatusCode::OK).await);
        }
        Err(e) => {
            tracing::error!(error = %e, "account lookup failed");
            return Err(app.pages.unavailable(lang));
        }
    };
    let factors = otp_factor::factors(app, &account).await.map_err(|e| {
        tracing::error!(error = %e, "factor lookup failed");
        app.pages.unavailable(lang)
    })?;
    let step = Step {
        ix,
        pending,
        account,
        factors,
    };
    Ok((step, form))
}

/// The factor asked now: the one picked, while the account still has it, else its first.
fn current(pending: &PendingMfa, factors: &Factors) -> Method {
    pending
        .method
        .filter(|m| factors.has(*m))
        .or(factors.first())
        .unwrap_or(Method::Totp)
}

/// Renders the code page for the pending step.
pub(super) async fn page(
    app: &App,
    ix: &Interaction,
    headers: &HeaderMap,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let lang = ix.lang(headers);
    let Some(pending) = &ix.pending_mfa else {
        return login::page(app, ix, headers, None, StatusCode::OK).await;
    };
    let found = match app.db.accounts().get(&pending.account_id).await {
        Ok(Some(a)) => otp_factor::factors(app, &a).await.map(|f| (a, f)),
        Ok(None) => return login::page(app, ix, headers, None, StatusCode::OK).await,
        Err(e) => Err(e),
    };
    let (account, factors) = match found {
        Ok(x) => x,
        Err(e) => {
            tracing::error!(error = %e, "factor lookup failed");
            return app.pages.unavailable(lang);
        }
    };
    let method = current(pending, &factors);
    let others: Vec<_> = factors
        .methods()
        .into_iter()
        .filter(|m| *m != method)
        .map(|m| {
            let label = lang.t(&format!("mfa_method_{}", m.as_str()));
            context! { value => m.as_str(), label }
        })
        .collect();
    let client_name = ix.client_name(app).await;
    render(
        app,
        ix,
        headers,
        status,
        "totp.html",
        context! {
            client_name, error, others,
            method => method.as_str(),
            sent => method.is_sent(),
            sent_to => otp_factor::masked(&account, method),
            reauth_login => ix.reauth.as_ref().map(|r| r.login.clone()),
            passkey => factors.passkey,
        },
    )
}

/// `POST /interaction/{id}/method`: the person picks another of the account's factors.
pub async fn choose_method(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (mut s, form) = match load_step(&app, &id, &headers, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let lang = s.ix.lang(&headers);
    let picked = form
        .get("method")
        .and_then(Method::parse)
        .filter(|m| s.factors.has(*m));
    let Some(m) = picked else {
        let e = lang.t("err_mfa_method");
        return page(&app, &s.ix, &headers, Some(e), StatusCode::BAD_REQUEST).await;
    };
    s.pending.method = Some(m);
    s.ix.pending_mfa = Some(s.pending);
    if save(&app, &s.ix).await.is_err() {
        return app.pages.unavailable(lang);
    }
    if m.is_sent() {
        if let Err((status, key)) = otp_factor::send(&app, &s.account, m, "signin", lang).await {
            return page(&app, &s.ix, &headers, Some(lang.t(key)), status).await;
        }
    }
    page(&app, &s.ix, &headers, None, StatusCode::OK).await
}

/// `POST /interaction/{id}/resend`: a new code by SMS or e-mail, once the wait is over.
pub async fn resend(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (s, _) = match load_step(&app, &id, &headers, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let lang = s.ix.lang(&headers);
    let m = current(&s.pending, &s.factors);
    if !m.is_sent() {
        return page(&app, &s.ix, &headers, None, StatusCode::OK).await;
    }
    match otp_factor::send(&app, &s.account, m, "signin", lang).await {
        Ok(()) => page(&app, &s.ix, &headers, None, StatusCode::OK).await,
        Err((status, key)) => page(&app, &s.ix, &headers, Some(lang.t(key)), status).await,
    }
}

/// `POST /interaction/{id}/otp`: the code sent by SMS or e-mail.
pub async fn otp(FormPost(app, peer, id, headers, body): FormPost) -> Response {
    let (s, form) = match load_step(&app, &id, &headers, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let lang = s.ix.lang(&headers);
    let m = current(&s.pending, &s.factors);
    if !m.is_sent() {
        let e = lang.t("err_mfa_method");
        return page(&app, &s.ix, &headers, Some(e), StatusCode::BAD_REQUEST).await;
    }
    let typed = form.get("code").unwrap_or("");
    if let Err((status, key)) = otp_factor::check(&app, &s.account.id, m, "signin", typed).await {
        return page(&app, &s.ix, &headers, Some(lang.t(key)), status).await;
    }
    let ip = crate::http::client_ip(peer, &headers, &app.settings.trusted_proxies);
    signed_in(
        &app,
        s.ix,
        &s.account,
        &m.amr(),
        s.pending.auth_time,
        &headers,
        &ip.to_string(),
    )
    .await
}
