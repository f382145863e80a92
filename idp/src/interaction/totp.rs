//! The second-factor step for accounts with an authenticator app (TOTP, RFC 6238).
//!
//! Rules: only after the password was right (the interaction holds the pending account);
//! a code is accepted once (its step is remembered in the shared cache, so a replay fails on
//! every node); failed codes are counted per account in the shared cache, and after
//! `MAX_FAILURES` in the window the sign-in starts over and every code is refused until the
//! window ends. A recovery code (single-use, spent atomically in the database) may stand in
//! for the app's code. `amr` becomes `pwd otp mfa` (RFC 8176).

use super::factor::page;
use super::login::{self, parse_count};
use super::{load_form, save};
use crate::app::AppState;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;

/// Wrong codes per account in one window before the sign-in starts over.
pub(crate) const MAX_FAILURES: u64 = 5;

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
    let counter = format!("fail:otp:{}", pending.account_id);
    let failures = match app.cache.get(&counter).await {
        Ok(v) => v.as_deref().map(parse_count).unwrap_or(0),
        Err(e) => {
            tracing::error!(error = %e, "counter lookup failed");
            return app.pages.unavailable(lang);
        }
    };
    if failures >= MAX_FAILURES {
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
    let secret = match account.totp_secret.as_deref() {
        // No authenticator app (the account's factor is SMS or e-mail): only recovery codes.
        None => None,
        Some(sealed) => match crate::totp::open(&app.secrets.factor_key, sealed) {
            Some(s) => Some(s),
            None => {
                tracing::error!(account = %account.id, "the TOTP secret cannot be opened");
                return app.pages.unavailable(lang);
            }
        },
    };
    let typed = form.get("code").unwrap_or("");
    let step = secret
        .as_deref()
        .and_then(|secret| crate::totp::matching_step(secret, typed, app.now()));
    let recovery = crate::totp::normalise_recovery_code(typed)
        .filter(|_| step.is_none())
        .map(|c| crate::totp::recovery_hash(&app.secrets.recovery_key, &account.id, &c));
    let fresh = match (step, recovery) {
        // A recovery code instead of the app's code: spent once, atomically.
        (None, Some(hash)) => match app
            .db
            .recovery_codes()
            .spend(&account.id, &hash, app.now())
            .await
        {
            Ok(spent) => spent,
            Err(e) => {
                tracing::error!(error = %e, "recovery code check failed");
                return app.pages.unavailable(lang);
            }
        },
        (None, None) => false,
        (Some(step), _) => match crate::totp::spend_step(&app, &account.id, step).await {
            Ok(stored) => stored,
            Err(e) => {
                tracing::error!(error = %e, "replay cache failed");
                return app.pages.unavailable(lang);
            }
        },
    };
    if !fresh {
        login::count_failure(&app, &[&counter]).await;
        return page(
            &app,
            &ix,
            &headers,
            Some(lang.t("bad_totp")),
            StatusCode::UNAUTHORIZED,
        )
        .await;
    }
    let _ = app.cache.delete(&counter).await;
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
