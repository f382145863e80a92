//! The password sign-in step (then the second factor, when the account has one).
//!
//! Unknown logins are checked against a dummy argon2id hash and get the same message, so
//! neither the answer nor its timing tells whether an account exists. Failures are counted
//! per login and per IP in the shared cache, so the limit holds across nodes.

use super::{finish, load_form, render, save, Interaction, PendingMfa};
use crate::app::{App, AppState};
use crate::i18n::Lang;
use crate::session::{self, Session};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use std::net::SocketAddr;
use std::time::Duration;

/// Failed attempts per login allowed in one window before sign-in pauses.
const MAX_FAILURES_PER_LOGIN: u64 = 10;
/// Failed attempts from one IP address allowed in one window (many people can share an
/// address behind NAT, so this is far above the per-login limit).
const MAX_FAILURES_PER_IP: u64 = 100;
/// The failure-counting window.
const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// Renders the login form.
pub(super) async fn page(
    app: &App,
    ix: &Interaction,
    headers: &HeaderMap,
    error: Option<&str>,
    status: StatusCode,
) -> Response {
    let client_name = ix.client_name(app).await;
    let hint = ix.request.login_hint.clone().unwrap_or_default();
    render(
        app,
        ix,
        headers,
        status,
        "login.html",
        context! { client_name, login_hint => hint, error },
    )
}

/// `POST /interaction/{id}/login`.
pub async fn login(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (mut ix, form) = match load_form(&app, &id, &headers, &body).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let lang = ix.lang(&headers);
    let login = form.get("login").unwrap_or("").trim().to_owned();
    let password = form.get("password").unwrap_or("").to_owned();
    let counter = format!(
        "fail:login:{}",
        crate::crypto::sha256_b64(&login.to_lowercase())
    );
    let ip = crate::http::client_ip(peer, &headers, &app.settings.trusted_proxies);
    let ip_counter = format!("fail:ip:{ip}");
    let counts = async {
        let per_login = app.cache.get(&counter).await?;
        let per_ip = app.cache.get(&ip_counter).await?;
        Ok::<_, crate::cache::CacheError>((per_login, per_ip))
    };
    match counts.await {
        Ok((l, i))
            if l.as_deref().map(parse_count).unwrap_or(0) >= MAX_FAILURES_PER_LOGIN
                || i.as_deref().map(parse_count).unwrap_or(0) >= MAX_FAILURES_PER_IP =>
        {
            return page(
                &app,
                &ix,
                &headers,
                Some(lang.t("too_many_attempts")),
                StatusCode::TOO_MANY_REQUESTS,
            )
            .await;
        }
        Ok(_) => {}
        Err(e) => {
            tracing::error!(error = %e, "counter lookup failed");
            return app.pages.unavailable(lang);
        }
    }
    let account = match app.db.accounts().by_login(&login).await {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e, "account lookup failed");
            return app.pages.unavailable(lang);
        }
    };
    let phc = account
        .as_ref()
        .map(|a| a.password_hash.clone())
        .unwrap_or_else(|| app.dummy_password_hash.clone());
    let ok = crate::password::verify(password, phc).await && account.is_some();
    let Some(account) = account.filter(|_| ok) else {
        count_failure(&app, &[&counter, &ip_counter]).await;
        return page(
            &app,
            &ix,
            &headers,
            Some(lang.t("bad_credentials")),
            StatusCode::UNAUTHORIZED,
        )
        .await;
    };
    let _ = app.cache.delete(&counter).await;
    if let Some(e) = requirements_unmet(&app, &ix, &account, lang).await {
        return e;
    }
    if account.totp_secret.is_some() {
        // An account with a second factor is always asked for it (RFC 8176 `mfa`).
        ix.pending_mfa = Some(PendingMfa {
            account_id: account.id.clone(),
            auth_time: app.now(),
        });
        if save(&app, &ix).await.is_err() {
            return app.pages.unavailable(lang);
        }
        return crate::oauth::authorize::response::redirect(&format!("/interaction/{}", ix.id));
    }
    let now = app.now();
    signed_in(&app, ix, &account, &["pwd"], now, &headers).await
}

/// The sign-in succeeded with the factors in `amr` (RFC 8176): starts the session, then
/// asks for consent or finishes the interaction.
pub(super) async fn signed_in(
    app: &App,
    mut ix: Interaction,
    account: &crate::store::Account,
    amr: &[&str],
    auth_time: i64,
    headers: &HeaderMap,
) -> Response {
    let lang = ix.lang(headers);
    let s = Session {
        sid: session::new_sid(),
        account_id: account.id.clone(),
        auth_time,
        amr: amr.iter().map(|a| (*a).to_owned()).collect(),
        acr: account.level.clone(),
    };
    let cookie = match session::start(app, &s).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "session start failed");
            return app.pages.unavailable(lang);
        }
    };
    ix.session = Some(s);
    ix.pending_mfa = None;
    let consent_needed =
        match crate::oauth::authorize::needs_consent(app, &ix.request, &account.id).await {
            Ok(n) => n,
            Err(_) => return app.pages.unavailable(lang),
        };
    let mut r = if consent_needed {
        if save(app, &ix).await.is_err() {
            return app.pages.unavailable(lang);
        }
        crate::oauth::authorize::response::redirect(&format!("/interaction/{}", ix.id))
    } else {
        finish(app, &ix, headers).await
    };
    if let Some(c) = cookie {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    r
}

/// When the client demands what the account cannot give (a level, a second factor): the
/// error sent back to the client, ending the interaction.
async fn requirements_unmet(
    app: &App,
    ix: &Interaction,
    account: &crate::store::Account,
    lang: Lang,
) -> Option<Response> {
    let client = app.client(&ix.request.client_id).await.ok().flatten()?;
    let e = crate::oauth::authorize::unmet(&client, account)?;
    let _ = app.cache.consume(&super::key(&ix.id)).await;
    Some(crate::oauth::authorize::response::error_to(
        app,
        &ix.request,
        &e,
        lang,
    ))
}

/// Counts one failed attempt in each of the shared-cache `counters` (a failure to count is
/// logged, not shown: the person still gets the answer to their attempt).
pub(super) async fn count_failure(app: &App, counters: &[&str]) {
    for c in counters {
        if let Err(e) = app.cache.incr(c, FAILURE_WINDOW).await {
            tracing::error!(error = %e, "counter update failed");
        }
    }
}

pub(super) fn parse_count(raw: &[u8]) -> u64 {
    std::str::from_utf8(raw)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}
