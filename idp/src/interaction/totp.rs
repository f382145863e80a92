//! The second-factor step for accounts with an authenticator app (TOTP, RFC 6238).
//!
//! Rules: only after the password was right (the interaction holds the pending account);
//! a code is accepted once (its step is remembered in the shared cache, so a replay fails on
//! every node); failed codes are counted per account in the shared cache (with passkeys and
//! recovery, `otp_factor::count_failure`), and after `otp_factor::MAX_FAILURES` in the window
//! the sign-in starts over and every code is refused until the window ends. A recovery code (single-use, spent atomically in the database) may stand in
//! for the app's code. `amr` becomes `pwd otp mfa` (RFC 8176).

use super::factor::page;
use super::login;
use super::{load_form, save};
use crate::app::AppState;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

/// `POST /interaction/{id}/totp`.
pub async fn totp(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (mut ix, form) = match load_form(&app, &id, &headers, &body).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let lang = ix.lang(&headers);
    let Some(pending) = ix.pending_mfa.clone() else {
        return crate::oauth::authorize::response::redirect(&format!("/interaction/{}", ix.id));
    };
    let failures = match crate::otp_factor::too_many_failures(&app, &pending.account_id).await {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(error = %e, "counter lookup failed");
            return app.pages.unavailable(lang);
        }
    };
    if failures {
        ix.pending_mfa = None;
        if save(&app, &ix).await.is_err() {
            return app.pages.unavailable(lang);
        }
        return login::page(
            &app,
            &ix,
            &headers,
            Some(lang.t("too_many_attempts")),
            StatusCode::TOO_MANY_REQUESTS,
        )
        .await;
    }
    let account = match app.db.accounts().get(&pending.account_id).await {
        Ok(Some(a)) => a,
        Ok(None) => {
            // Removed meanwhile: start over.
            ix.pending_mfa = None;
            if save(&app, &ix).await.is_err() {
                return app.pages.unavailable(lang);
            }
            return login::page(&app, &ix, &headers, None, StatusCode::OK).await;
        }
        Err(e) => {
            tracing::error!(error = %e, "account lookup failed");
            return app.pages.unavailable(lang);
        }
    };
    let typed = form.get("code").unwrap_or("");
    let fresh = match crate::otp_factor::check_app_code(&app, &account, typed).await {
        Ok(fresh) => fresh,
        Err(e) => {
            tracing::error!(account = %account.id, error = %e, "code check failed");
            return app.pages.unavailable(lang);
        }
    };
    if !fresh {
        crate::otp_factor::count_failure(&app, &account.id).await;
        return page(
            &app,
            &ix,
            &headers,
            Some(lang.t("bad_totp")),
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
    crate::otp_factor::clear_failures(&app, &account.id).await;
    let ip = crate::http::client_ip(peer, &headers, &app.settings.trusted_proxies);
    login::signed_in(
        &app,
        ix,
        &account,
        &["pwd", "otp", "mfa"],
        pending.auth_time,
        &headers,
        &ip.to_string(),
    )
    .await
}
