//! Changing the password while signed in (`/account/password`).
//!
//! Rules: the current password first, checked as a re-authentication (wrong answers count in
//! the sign-in streak: the same waits and the same lock, see
//! `interaction::reauthenticate`); the new one typed twice and held to the policy of
//! registration (`password_policy`: 15 characters without a second factor, 8 with one, not
//! common, not the login). Once changed, every other browser is signed out and every
//! service's refresh tokens are revoked, as after a recovery, because a change is often made
//! on a suspicion; this browser stays signed in. The citizen is told on every address their
//! notification settings name.

use super::{signed_in, signed_in_form, tell};
use crate::app::{App, AppState};
use crate::i18n::Lang;
use crate::interaction::{reauthenticate, PasswordCheck};
use crate::password_policy::{hash_new, NewPasswordError};
use crate::session;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;

fn page(
    app: &App,
    headers: &HeaderMap,
    lang: Lang,
    status: StatusCode,
    error: Option<&str>,
    done: bool,
) -> Response {
    app.pages.page(
        status,
        "password.html",
        lang,
        context! {
            csrf => session::csrf_for(app, headers).unwrap_or_default(),
            error,
            done,
        },
    )
}

/// `GET /account/password`: the form.
pub async fn show(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let lang = Lang::choose(&[], &headers);
    if let Err(r) = signed_in(&app, &headers, lang).await {
        return r;
    }
    page(&app, &headers, lang, StatusCode::OK, None, false)
}

/// `POST /account/password`: checks the current password, sets the new one, signs every
/// other browser out and revokes the services' refresh tokens.
pub async fn change(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let lang = Lang::choose(&[], &headers);
    let (a, form) = match signed_in_form(&app, &headers, lang, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let current = form.get("current").unwrap_or("");
    match reauthenticate(&app, &a, current, lang).await {
        PasswordCheck::Confirmed => {}
        PasswordCheck::Wrong => {
            let e = lang.t("err_current_password");
            return page(
                &app,
                &headers,
                lang,
                StatusCode::UNAUTHORIZED,
                Some(e),
                false,
            );
        }
        PasswordCheck::Wait => {
            let e = lang.t("err_password_wait");
            return page(
                &app,
                &headers,
                lang,
                StatusCode::TOO_MANY_REQUESTS,
                Some(e),
                false,
            );
        }
        PasswordCheck::Unavailable => return app.pages.unavailable(lang),
    }
    let mfa = match crate::otp_factor::has_second_factor(&app, &a).await {
        Ok(m) => m,
        Err(_) => return app.pages.unavailable(lang),
    };
    let new = form.get("password").unwrap_or("");
    let again = form.get("password2").unwrap_or("");
    let hash = match hash_new(new, again, mfa, &a.login, lang).await {
        Ok(h) => h,
        Err(NewPasswordError::Refused(e)) => {
            return page(
                &app,
                &headers,
                lang,
                StatusCode::BAD_REQUEST,
                Some(&e),
                false,
            )
        }
        Err(NewPasswordError::Unavailable) => return app.pages.unavailable(lang),
    };
    let now = app.now();
    let done = async {
        app.db.accounts().set_password(&a.id, &hash, now).await?;
        app.db.grants().revoke_all(&a.id, now).await?;
        Ok::<_, crate::store::StoreError>(())
    };
    if let Err(e) = done.await {
        tracing::error!(error = %e, "password change failed");
        return app.pages.unavailable(lang);
    }
    let kept = match session::current(&app, &headers).await {
        Ok(Some(s)) => session::end_others(&app, &headers, &s).await,
        Ok(None) => Ok(()),
        Err(e) => Err(e),
    };
    if let Err(e) = kept {
        tracing::error!(error = %e, "other sessions not ended after a password change");
    }
    tracing::info!(account = %a.id, "password changed by its owner");
    tell(&app, &a, "password_changed", lang).await;
    page(&app, &headers, lang, StatusCode::OK, None, true)
}
