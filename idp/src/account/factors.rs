//! Second factors in the personal account (`/account/factors`): codes by SMS or e-mail
//! turned on, and any factor turned off.
//!
//! Rules: turning on SMS or e-mail needs a confirmed phone or address, the code sent there
//! (`otp_factor`: 6 digits, 10 minutes, 5 attempts, resend throttled) and the password.
//! Turning a factor off needs the password; the last factor stays while the password is
//! shorter than 15 characters (NIST SP 800-63B §5.1.1.2 allows 8 only with a second factor).
//! Turning the app off voids its recovery codes. The citizen is told on every confirmed
//! address either way.

use super::{signed_in, signed_in_form, tell};
use crate::app::{App, AppState};
use crate::i18n::Lang;
use crate::interaction::PasswordCheck;
use crate::otp_factor::{self, Factors, Method};
use crate::password_policy::MIN_LEN_SINGLE_FACTOR;
use crate::session;
use crate::store::Account;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;

/// What the page shows besides the factors: the confirm form of a channel, an error.
#[derive(Default)]
struct Extra<'a> {
    confirming: Option<Method>,
    error: Option<&'a str>,
}

async fn page(
    app: &App,
    headers: &HeaderMap,
    lang: Lang,
    status: StatusCode,
    a: &Account,
    extra: Extra<'_>,
) -> Response {
    let f = match super::factors_of(app, a, lang).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let rows: Vec<_> = [Method::Totp, Method::Sms, Method::Email]
        .into_iter()
        .map(|m| {
            context! {
                method => m.as_str(),
                label => lang.t(&format!("mfa_method_{}", m.as_str())),
                on => f.has(m),
                // SMS and e-mail need a confirmed address; the app has its own page.
                available => !m.is_sent() || otp_factor::recipient(a, m).is_some(),
            }
        })
        .collect();
    app.pages.page(
        status,
        "factors.html",
        lang,
        context! {
            csrf => session::csrf_for(app, headers).unwrap_or_default(),
            rows,
            confirming => extra.confirming.map(Method::as_str),
            sent_to => extra.confirming.map(|m| otp_factor::masked(a, m)),
            error => extra.error,
        },
    )
}

/// `GET /account/factors`.
pub async fn show(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let lang = Lang::choose(&[], &headers);
    let (_, a) = match signed_in(&app, &headers, lang).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    page(&app, &headers, lang, StatusCode::OK, &a, Extra::default()).await
}

/// The SMS or e-mail channel a form names.
fn channel(form: &crate::oauth::params::Params) -> Option<Method> {
    form.get("method")
        .and_then(Method::parse)
        .filter(|m| m.is_sent())
}

/// `POST /account/factors/add`: sends a code to the confirmed phone or address.
pub async fn add(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let lang = Lang::choose(&[], &headers);
    let (a, form) = match signed_in_form(&app, &headers, lang, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(m) = channel(&form).filter(|m| otp_factor::recipient(&a, *m).is_some()) else {
        let extra = Extra {
            error: Some(lang.t("err_mfa_method")),
            ..Extra::default()
        };
        return page(&app, &headers, lang, StatusCode::BAD_REQUEST, &a, extra).await;
    };
    let (status, error) = match otp_factor::send(&app, &a, m, "enrol", lang).await {
        Ok(()) => (StatusCode::OK, None),
        Err((status, key)) => (status, Some(lang.t(key))),
    };
    let extra = Extra {
        confirming: Some(m),
        error,
    };
    page(&app, &headers, lang, status, &a, extra).await
}

/// `POST /account/factors/confirm`: the code and the password turn the channel on.
pub async fn confirm(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let lang = Lang::choose(&[], &headers);
    let (a, form) = match signed_in_form(&app, &headers, lang, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Some(m) = channel(&form).filter(|m| otp_factor::recipient(&a, *m).is_some()) else {
        let extra = Extra {
            error: Some(lang.t("err_mfa_method")),
            ..Extra::default()
        };
        return page(&app, &headers, lang, StatusCode::BAD_REQUEST, &a, extra).await;
    };
    let refused = |key| Extra {
        confirming: Some(m),
        error: Some(lang.t(key)),
    };
    if let Some((status, key)) = password_refusal(&app, &a, &form, lang).await {
        return page(&app, &headers, lang, status, &a, refused(key)).await;
    }
    let typed = form.get("code").unwrap_or("");
    if let Err((status, key)) = otp_factor::check(&app, &a.id, m, "enrol", typed).await {
        return page(&app, &headers, lang, status, &a, refused(key)).await;
    }
    if let Err(e) = app.db.otp_factors().add(&a.id, m.as_str(), app.now()).await {
        tracing::error!(error = %e, "factor not saved");
        return app.pages.unavailable(lang);
    }
    tell(&app, &a, &format!("factor_added_{}", m.as_str()), lang).await;
    crate::oauth::authorize::response::redirect("/account/factors")
}

/// The password typed in `form`, checked as a re-authentication (wrong ones count like
/// sign-in failures): `None` when right, else the status and message key to answer with.
async fn password_refusal(
    app: &App,
    a: &Account,
    form: &crate::oauth::params::Params,
    lang: Lang,
) -> Option<(StatusCode, &'static str)> {
    let typed = form.get("password").unwrap_or("");
    match crate::interaction::reauthenticate(app, a, typed, lang).await {
        PasswordCheck::Confirmed => None,
        PasswordCheck::Wrong => Some((StatusCode::UNAUTHORIZED, "err_factor_password")),
        PasswordCheck::Wait => Some((StatusCode::TOO_MANY_REQUESTS, "err_password_wait")),
        PasswordCheck::Unavailable => Some((StatusCode::SERVICE_UNAVAILABLE, "err_server")),
    }
}

/// Whether `f` still has a second factor once `m` is gone.
fn without(mut f: Factors, m: Method) -> Factors {
    match m {
        Method::Totp => {
            f.totp = false;
            f.recovery = false;
        }
        Method::Sms => f.sms = false,
        Method::Email => f.email = false,
        Method::Recovery => f.recovery = false,
    }
    f
}

/// `POST /account/factors/remove`: with the password, turns a factor off.
pub async fn remove(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let lang = Lang::choose(&[], &headers);
    let (a, form) = match signed_in_form(&app, &headers, lang, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let f = match super::factors_of(&app, &a, lang).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let picked = form.get("method").and_then(Method::parse);
    let Some(m) = picked.filter(|m| *m != Method::Recovery && f.has(*m)) else {
        let extra = Extra {
            error: Some(lang.t("err_mfa_method")),
            ..Extra::default()
        };
        return page(&app, &headers, lang, StatusCode::BAD_REQUEST, &a, extra).await;
    };
    let refuse = |key| Extra {
        error: Some(lang.t(key)),
        ..Extra::default()
    };
    if let Some((status, key)) = password_refusal(&app, &a, &form, lang).await {
        return page(&app, &headers, lang, status, &a, refuse(key)).await;
    }
    let typed_len = form.get("password").unwrap_or("").chars().count();
    if !without(f, m).any() && typed_len < MIN_LEN_SINGLE_FACTOR {
        let extra = refuse("err_last_factor");
        return page(&app, &headers, lang, StatusCode::CONFLICT, &a, extra).await;
    }
    let now = app.now();
    let done = async {
        match m {
            Method::Totp => {
                app.db.accounts().set_totp(&a.id, None, now).await?;
                app.db.recovery_codes().replace(&a.id, &[], now).await
            }
            _ => app
                .db
                .otp_factors()
                .remove(&a.id, m.as_str())
                .await
                .map(|_| ()),
        }
    };
    if let Err(e) = done.await {
        tracing::error!(error = %e, "factor not removed");
        return app.pages.unavailable(lang);
    }
    tell(&app, &a, &format!("factor_removed_{}", m.as_str()), lang).await;
    crate::oauth::authorize::response::redirect("/account/factors")
}
