//! The password sign-in step (then the second factor, when the account has one).
//!
//! Unknown logins are checked against a dummy argon2id hash and get the same message, so
//! neither the answer nor its timing tells whether an account exists. Failures are counted
//! per login and per IP in the shared cache, so the limit holds across nodes.

use super::{finish, load_form, render, save, Interaction};
use crate::app::{App, AppState};
use crate::cache::parse_count;
use crate::http::FormPost;
use crate::i18n::Lang;
use crate::session::{self, Session};
use crate::store::history::SessionRow;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;
use std::time::Duration;

/// Consecutive failures per login before each further attempt must wait.
const FREE_FAILURES: u64 = 5;
/// The longest wait between attempts, seconds.
const MAX_DELAY: i64 = 900;
/// How long a login's consecutive failures are remembered in the cache.
const STREAK_TTL: Duration = Duration::from_secs(24 * 3600);
/// Consecutive failures that lock a real account (NIST SP 800-63B §5.2.2: at most 100).
pub(super) const LOCK_AFTER: i64 = 100;

/// The wait after the `n`th consecutive failure: none for the first five, then 30 s,
/// doubling up to 15 minutes.
fn delay_after(n: u64) -> i64 {
    if n < FREE_FAILURES {
        0
    } else {
        (30i64 << (n - FREE_FAILURES).min(10)).min(MAX_DELAY)
    }
}
/// Failed attempts from one IP address allowed in one window (many people can share an
/// address behind NAT, so this is far above the per-login limit).
const MAX_FAILURES_PER_IP: u64 = 100;
/// The failure-counting window.
pub(crate) const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

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
    let reauth_login = ix.reauth.as_ref().map(|r| r.login.clone());
    render(
        app,
        ix,
        headers,
        status,
        "login.html",
        context! {
            client_name, login_hint => hint, error, reauth_login,
            passkeys => crate::passkey::relying_party(app).is_some(),
        },
    )
}

/// `POST /interaction/{id}/switch`: "sign in as someone else" during a re-authentication;
/// the normal login form follows (the old session ends when the other account signs in).
pub async fn switch_account(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (mut ix, _) = match load_form(&app, &id, &headers, &body).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    ix.reauth = None;
    ix.pending_mfa = None;
    if save(&app, &ix).await.is_err() {
        return app.pages.unavailable(ix.lang(&headers));
    }
    page(&app, &ix, &headers, None, StatusCode::OK).await
}

/// `POST /interaction/{id}/login`.
pub async fn login(FormPost(app, peer, id, headers, body): FormPost) -> Response {
    let (mut ix, form) = match load_form(&app, &id, &headers, &body).await {
        Ok(x) => x,
        Err(r) => return *r,
    };
    let lang = ix.lang(&headers);
    // Re-authenticating a live session: its own account, whatever the form says.
    let login = match &ix.reauth {
        Some(r) => r.login.clone(),
        None => form.get("login").unwrap_or("").trim().to_owned(),
    };
    let password = form.get("password").unwrap_or("").to_owned();
    let ip = crate::http::client_ip(peer, &headers, &app.settings.trusted_proxies);
    let ip_counter = format!("fail:ip:{ip}");
    match throttled(&app, &login, &ip_counter).await {
        Ok(true) => {
            return page(
                &app,
                &ix,
                &headers,
                Some(lang.t("too_many_attempts")),
                StatusCode::TOO_MANY_REQUESTS,
            )
            .await;
        }
        Ok(false) => {}
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
    let same = |a: &crate::store::Account| {
        ix.reauth
            .as_ref()
            .is_none_or(|r| r.session.account_id == a.id)
    };
    let ok = crate::password::verify(password, phc).await && account.as_ref().is_some_and(same);
    if !ok {
        count_login_failure(&app, &login, &ip_counter).await;
        // A real account's count towards the lock is written after the answer, on a task of
        // its own. It is a database write that only logins that exist make: waiting for it
        // made their wrong passwords answer later than unknown logins' (with PostgreSQL,
        // 0.7–1.2 ms later at the median of 40 attempts each, in four runs), which told a
        // patient caller which logins exist. Keycloak's brute-force detector likewise counts
        // failures off the request. The lock lands a moment after the hundredth failure's
        // answer, and shutdown waits for it ([`App::finish_background`]).
        if let Some(a) = &account {
            let (task, a) = (app.clone(), a.clone());
            app.background
                .spawn(async move { lock_if_due(&task, &a, lang).await });
        }
    }
    let Some(account) = account.filter(|_| ok) else {
        return page(
            &app,
            &ix,
            &headers,
            Some(lang.t("bad_credentials")),
            StatusCode::UNAUTHORIZED,
        )
        .await;
    };
    if account.locked_at.is_some() {
        // The password was right, so saying so reveals nothing new.
        return page(
            &app,
            &ix,
            &headers,
            Some(lang.t("account_locked")),
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    clear_login_failures(&app, &login, &account).await;
    let factors = match crate::otp_factor::factors(&app, &account).await {
        Ok(f) => f,
        Err(e) => {
            tracing::error!(error = %e, "factor lookup failed");
            return app.pages.unavailable(lang);
        }
    };
    if let Some(e) = requirements_unmet(&app, &ix, &account, factors.any(), lang).await {
        return e;
    }
    let now = app.now();
    if factors.any() {
        // An account with a second factor is always asked for it (RFC 8176 `mfa`).
        ix.pending_mfa = None;
        return super::factor::begin(&app, ix, &account, factors, now, &headers).await;
    }
    signed_in(&app, ix, &account, &["pwd"], now, &headers, &ip.to_string()).await
}

/// The shared-cache keys of a login's consecutive failures and of the time until which it
/// must wait (keyed by the login typed, not the account: unknown logins wait the same).
fn login_counters(login: &str) -> (String, String) {
    let counter = format!(
        "fail:login:{}",
        crate::crypto::sha256_b64(&login.to_lowercase())
    );
    let until = format!("{counter}:until");
    (counter, until)
}

/// Whether sign-ins for `login` must still wait, or the IP address has failed too often.
pub(super) async fn throttled(
    app: &App,
    login: &str,
    ip_counter: &str,
) -> Result<bool, crate::cache::CacheError> {
    let (_, until_key) = login_counters(login);
    let wait_until = app.cache.get(&until_key).await?;
    let per_ip = app.cache.get(ip_counter).await?;
    Ok(
        wait_until.as_deref().map(parse_count).unwrap_or(0) as i64 > app.now()
            || per_ip.as_deref().map(parse_count).unwrap_or(0) >= MAX_FAILURES_PER_IP,
    )
}

/// Counts a failed sign-in for `login` from the IP address of `ip_counter` in the shared
/// cache, unknown logins alike: past `FREE_FAILURES` the login must wait. A real account's
/// count towards the lock is [`lock_if_due`]'s.
pub(super) async fn count_login_failure(app: &App, login: &str, ip_counter: &str) {
    count_failure(app, &[ip_counter]).await;
    count_streak(app, login).await;
}

/// Adds one to `login`'s failure streak in the shared cache; past `FREE_FAILURES` the login
/// must wait before its next attempt.
async fn count_streak(app: &App, login: &str) {
    let (counter, until_key) = login_counters(login);
    match app.cache.incr(&counter, STREAK_TTL).await {
        Ok(n) if delay_after(n) > 0 => {
            let d = delay_after(n);
            let until = (app.now() + d).to_string();
            let ttl = Duration::from_secs(d as u64);
            if let Err(e) = app.cache.put(&until_key, until.as_bytes(), ttl).await {
                tracing::error!(error = %e, "delay not recorded");
            }
        }
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "counter update failed"),
    }
}

/// How asking a signed-in citizen for their password again ended.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum PasswordCheck {
    /// The password is right.
    Confirmed,
    /// The password is wrong (counted).
    Wrong,
    /// Too many wrong answers lately: the login must wait, as on the login page.
    Wait,
    /// The shared cache failed.
    Unavailable,
}

/// Checks the password of a signed-in citizen before a sensitive change in the account.
/// Wrong answers count in the same streak as sign-in (the same waits, the same lock at
/// `LOCK_AFTER`), so a stolen session cannot guess the password faster than the login page
/// allows; a right one ends the streak.
pub(crate) async fn reauthenticate(
    app: &App,
    a: &crate::store::Account,
    typed: &str,
    lang: Lang,
) -> PasswordCheck {
    let (_, until_key) = login_counters(&a.login);
    match app.cache.get(&until_key).await {
        Ok(Some(v)) if parse_count(&v) as i64 > app.now() => return PasswordCheck::Wait,
        Ok(_) => {}
        Err(e) => {
            tracing::error!(error = %e, "failure streak not read");
            return PasswordCheck::Unavailable;
        }
    }
    if crate::password::verify(typed.to_owned(), a.password_hash.clone()).await {
        clear_login_failures(app, &a.login, a).await;
        PasswordCheck::Confirmed
    } else {
        count_streak(app, &a.login).await;
        lock_if_due(app, a, lang).await;
        PasswordCheck::Wrong
    }
}

/// A successful sign-in ends the login's failure streak (cache and account row).
pub(super) async fn clear_login_failures(app: &App, login: &str, account: &crate::store::Account) {
    let (counter, until_key) = login_counters(login);
    let _ = app.cache.delete(&counter).await;
    let _ = app.cache.delete(&until_key).await;
    if account.failed_logins > 0 {
        if let Err(e) = app.db.accounts().clear_failures(&account.id).await {
            tracing::error!(error = %e, "failure count not cleared");
        }
    }
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
    ip: &str,
) -> Response {
    let lang = ix.lang(headers);
    // A re-authentication of a live session keeps its `sid` (and its cookie).
    let old = ix
        .reauth
        .take()
        .map(|r| r.session)
        .filter(|s| s.account_id == account.id);
    let mut s = Session {
        sid: session::new_sid(),
        account_id: account.id.clone(),
        auth_time,
        amr: amr.iter().map(|a| (*a).to_owned()).collect(),
        acr: account.level.clone(),
        epoch: 0, // set by session::start
    };
    let renewed = match old {
        Some(old) => {
            s.sid = old.sid;
            session::renew(app, headers, &s).await.unwrap_or_else(|e| {
                tracing::error!(error = %e, "session not renewed");
                false
            })
        }
        None => false,
    };
    // A new session is listed with the account's sessions when the sign-in is recorded.
    let (cookie, listed) = if renewed {
        (None, None)
    } else {
        // One browser, one session: the one its cookie names now (another account's, or one
        // that could not be renewed) ends, and its services are told. Its cookie is
        // replaced below.
        if let Err(e) = session::end(app, headers).await {
            tracing::error!(error = %e, "the browser's earlier session not ended");
        }
        s.sid = session::new_sid();
        match start_session(app, &s, headers, ip).await {
            Ok((c, row)) => (c, Some(row)),
            Err(r) => return *r,
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
        finish(app, &ix, headers, Some(&account.level)).await
    };
    if let Some(c) = cookie {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    let sign_in = SignIn {
        amr,
        ip,
        session: listed.as_ref(),
    };
    if let Some(c) = remember_sign_in(app, account, &sign_in, headers, lang).await {
        r.headers_mut().append(header::SET_COOKIE, c);
    }
    r
}

/// Starts a new session; returns its cookie and its row for the account's list of sessions.
async fn start_session(
    app: &App,
    s: &Session,
    headers: &HeaderMap,
    ip: &str,
) -> Result<(Option<axum::http::HeaderValue>, SessionRow), Box<Response>> {
    let (cookie, cache_key) = match session::start_keyed(app, s).await {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "session start failed");
            return Err(Box::new(app.pages.unavailable(Lang::choose(&[], headers))));
        }
    };
    let row = SessionRow {
        sid: s.sid.clone(),
        cache_key,
        started_at: app.now(),
        ip: ip.to_owned(),
        user_agent: user_agent(headers),
    };
    Ok((cookie, row))
}

/// A successful sign-in, as the history records it.
struct SignIn<'a> {
    /// The methods used (RFC 8176).
    amr: &'a [&'a str],
    /// The client's IP address.
    ip: &'a str,
    /// The session it started, if it started one (not when it renewed one).
    session: Option<&'a SessionRow>,
}

/// The request's User-Agent, at most 200 characters.
fn user_agent(headers: &HeaderMap) -> String {
    headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(200)
        .collect()
}

/// The long-lived cookie that recognises a browser across sign-ins.
const DEVICE_COOKIE: &str = "vhod_device";
/// How long a browser is remembered.
const DEVICE_TTL: i64 = 400 * 86_400;

/// Records the sign-in in the history (with the session it started, in the account's list
/// of sessions) and tells the citizen when it came from a browser the account has not
/// signed in from before (not on the very first sign-in). Returns the device cookie to set
/// when the browser had none. Best effort: the sign-in stands.
async fn remember_sign_in(
    app: &App,
    account: &crate::store::Account,
    sign_in: &SignIn<'_>,
    headers: &HeaderMap,
    lang: Lang,
) -> Option<axum::http::HeaderValue> {
    let existing = crate::http::cookie(headers, DEVICE_COOKIE)
        .filter(|v| !v.is_empty() && v.len() <= 64)
        .map(str::to_owned);
    let (value, set) = match existing {
        Some(v) => (v, false),
        None => (crate::crypto::random_token(32), true),
    };
    let device = crate::crypto::sha256_b64(&value);
    let ua = user_agent(headers);
    let event = crate::store::history::LoginEvent {
        at: app.now(),
        ip: sign_in.ip.to_owned(),
        user_agent: ua,
        device,
        amr: sign_in.amr.join(" "),
    };
    let expires = app.now() + app.settings.session_ttl;
    let session = sign_in.session.map(|row| (row, expires));
    match app.db.history().record(&account.id, &event, session).await {
        Ok(seen) if seen.before && !seen.here => {
            crate::notify::tell_as(app, account, "new_device", lang, &seen.notices);
        }
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "sign-in not recorded"),
    }
    if set {
        crate::http::set_cookie(
            DEVICE_COOKIE,
            &value,
            "/",
            DEVICE_TTL,
            app.settings.secure_cookies,
        )
    } else {
        None
    }
}

/// When the client demands what the account cannot give (a level, a second factor): the
/// error sent back to the client, ending the interaction.
pub(super) async fn requirements_unmet(
    app: &App,
    ix: &Interaction,
    account: &crate::store::Account,
    has_factor: bool,
    lang: Lang,
) -> Option<Response> {
    let client = app.client(&ix.request.client_id).await.ok().flatten()?;
    let e = crate::oauth::authorize::unmet(&client, account, has_factor, &ix.request)?;
    let _ = app.cache.consume(&super::key(&ix.id)).await;
    Some(crate::oauth::authorize::response::error_to(app, &ix.request, &e, lang).await)
}

/// Counts a failed password for a real account; at `LOCK_AFTER` in a row the account is
/// locked and the citizen told on their confirmed addresses.
pub(super) async fn lock_if_due(app: &App, a: &crate::store::Account, lang: Lang) {
    let accounts = app.db.accounts();
    let n = match accounts.record_failure(&a.id).await {
        Ok(n) => n,
        Err(e) => {
            tracing::error!(error = %e, "failure count not updated");
            return;
        }
    };
    if n < LOCK_AFTER {
        return;
    }
    match accounts.lock(&a.id, app.now()).await {
        Ok(true) => {
            tracing::warn!(account = %a.id, failures = n, "account locked");
            crate::account::tell(app, a, "account_locked", lang).await;
            let cause = crate::account::certificates::follow::Cause::Locked;
            crate::account::certificates::follow::on_account_change(app, a, cause, "system", lang)
                .await;
        }
        Ok(false) => {}
        Err(e) => tracing::error!(error = %e, "account not locked"),
    }
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
