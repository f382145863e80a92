//! Changing or removing the e-mail address or phone number in the profile
//! (`/account/profile/contact`, `/code`, `/resend`, `/cancel`, `/remove`).
//!
//! Rules:
//! - The password is asked again first (at most 5 wrong ones an hour per account).
//! - The new address gets a code under registration's rules (`crate::flow::SentCode`: 6
//!   digits, 10 minutes, 5 attempts; `crate::register::check_send_limits`: resend
//!   throttling with counters in the shared cache); the change is applied only once the
//!   code is confirmed, and the code is spent by it.
//! - An address another account uses gets a warning instead of a code and the page looks
//!   the same as for a free one: no code works, nobody learns who is registered.
//! - The old address is told of the change (and every confirmed address, by the settings).
//! - When the address was the login, the login follows the new one; removing an address is
//!   refused when no other confirmed address would be left to sign in and recover with.

use crate::account::signed_in_form;
use crate::app::{App, AppState};
use crate::flow::SentCode;
use crate::i18n::Lang;
use crate::notify::{Message, Recipient};
use crate::oauth::params::Params;
use crate::profile::{render, Say};
use crate::register::Contact;
use crate::session::get_json;
use crate::store::profile::ContactKind;
use crate::store::{Account, StoreError};
use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde::{Deserialize, Serialize};
use std::net::SocketAddr;
use std::time::Duration;

/// How long a change waits for its code.
const PENDING_TTL: Duration = Duration::from_secs(1800);
/// Wrong passwords an account may give here per hour.
const PASSWORD_TRIES: u64 = 5;

/// A contact change waiting for its code.
#[derive(Serialize, Deserialize)]
pub struct Pending {
    /// The new address.
    pub contact: Contact,
    code: SentCode,
    sends: Vec<i64>,
    /// Another account has the address: no code is valid.
    taken: bool,
}

fn key(account_id: &str) -> String {
    format!("profile:contact:{account_id}")
}

/// The account's pending change, if any (`Err`: the cache failed, logged).
pub async fn load(app: &App, account_id: &str) -> Result<Option<Pending>, ()> {
    get_json(app.cache.as_ref(), &key(account_id))
        .await
        .map_err(|e| tracing::error!(error = %e, "pending contact lookup failed"))
}

async fn save(app: &App, account_id: &str, p: &Pending) -> Result<(), ()> {
    let json = serde_json::to_vec(p).map_err(|_| ())?;
    app.cache
        .put(&key(account_id), &json, PENDING_TTL)
        .await
        .map_err(|e| tracing::error!(error = %e, "pending contact not stored"))
}

fn kind_of(c: &Contact) -> ContactKind {
    match c {
        Contact::Email(_) => ContactKind::Email,
        Contact::Phone(_) => ContactKind::Phone,
    }
}

fn current(a: &Account, kind: ContactKind) -> (Option<&str>, bool) {
    match kind {
        ContactKind::Email => (a.email.as_deref(), a.email_verified),
        ContactKind::Phone => (a.phone.as_deref(), a.phone_verified),
    }
}

/// The password again: `Err` with the status and text key when wrong or tried too often.
async fn reauth(app: &App, a: &Account, form: &Params) -> Result<(), (StatusCode, &'static str)> {
    let counter = format!("profile:pw:{}", a.id);
    let tries = app.cache.get(&counter).await.map_err(|e| {
        tracing::error!(error = %e, "counter lookup failed");
        (StatusCode::SERVICE_UNAVAILABLE, "err_server")
    })?;
    let tries: u64 = tries
        .and_then(|v| String::from_utf8(v).ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if tries >= PASSWORD_TRIES {
        return Err((StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"));
    }
    let typed = form.get("password").unwrap_or("").to_owned();
    if crate::password::verify(typed, a.password_hash.clone()).await {
        return Ok(());
    }
    if let Err(e) = app.cache.incr(&counter, Duration::from_secs(3600)).await {
        tracing::error!(error = %e, "counter update failed");
    }
    Err((StatusCode::UNAUTHORIZED, "profile_err_password"))
}

/// Sends the code (or, for a taken address, the warning) within registration's limits.
async fn send(
    app: &App,
    lang: Lang,
    p: &mut Pending,
    ip: &str,
) -> Result<(), (StatusCode, String)> {
    crate::register::check_send_limits(app, lang, &p.contact, &p.sends, ip).await?;
    let now = app.now();
    let code = SentCode::fresh();
    let (kind, text) = if p.taken {
        (
            "contact_change_attempt",
            lang.t("profile_taken_text").to_owned(),
        )
    } else {
        (
            "contact_change_code",
            lang.t("profile_code_text").replace("{code}", &code),
        )
    };
    let m = Message {
        to: p.contact.recipient(),
        kind: kind.into(),
        subject: lang.t("reg_code_subject").into(),
        text,
    };
    if let Err(e) = app.notifier.send(&m, now).await {
        tracing::error!(error = %e, "contact change code not sent");
        let e = lang.t("err_channel_unavailable").into();
        return Err((StatusCode::SERVICE_UNAVAILABLE, e));
    }
    p.code.set(&code, now, !p.taken);
    p.sends.push(now);
    Ok(())
}

/// The profile page with an error from a text key.
fn refuse(
    app: &App,
    headers: &HeaderMap,
    lang: Lang,
    a: &Account,
    p: Option<&Pending>,
    (status, error): (StatusCode, &str),
) -> Response {
    let say = Say {
        error: Some(error),
        notice: None,
    };
    render(app, headers, lang, status, a, p, say)
}

/// `POST /account/profile/contact`: with the password, starts changing an address.
pub async fn start(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = Lang::choose(&[], &headers);
    let (a, form) = match signed_in_form(&app, &headers, lang, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let no = |e: (StatusCode, &str)| refuse(&app, &headers, lang, &a, None, e);
    let Some(contact) = Contact::parse(form.get("contact").unwrap_or("")) else {
        return no((StatusCode::BAD_REQUEST, lang.t("err_contact_format")));
    };
    if current(&a, kind_of(&contact)) == (Some(contact.value()), true) {
        return no((StatusCode::BAD_REQUEST, lang.t("profile_err_same")));
    }
    if !app.notifier.can_send(&contact.recipient()) {
        return no((StatusCode::BAD_REQUEST, lang.t("err_channel_unavailable")));
    }
    if let Err((status, e)) = reauth(&app, &a, &form).await {
        return no((status, lang.t(e)));
    }
    let taken = match app.db.accounts().by_contact(contact.value()).await {
        Ok(other) => other.is_some_and(|o| o.id != a.id),
        Err(e) => {
            tracing::error!(error = %e, "account lookup failed");
            return app.pages.unavailable(lang);
        }
    };
    let mut p = Pending {
        contact,
        code: SentCode::default(),
        sends: Vec::new(),
        taken,
    };
    let ip = crate::http::client_ip(peer, &headers, &app.settings.trusted_proxies).to_string();
    if let Err((status, e)) = send(&app, lang, &mut p, &ip).await {
        return no((status, &e));
    }
    if save(&app, &a.id, &p).await.is_err() {
        return app.pages.unavailable(lang);
    }
    let say = Say {
        error: None,
        notice: Some(lang.t("profile_code_sent")),
    };
    render(&app, &headers, lang, StatusCode::OK, &a, Some(&p), say)
}

/// `POST /account/profile/resend`: another code for the pending change.
pub async fn resend(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let lang = Lang::choose(&[], &headers);
    let (a, _) = match signed_in_form(&app, &headers, lang, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Ok(Some(mut p)) = load(&app, &a.id).await else {
        let e = (StatusCode::BAD_REQUEST, lang.t("err_expired"));
        return refuse(&app, &headers, lang, &a, None, e);
    };
    let ip = crate::http::client_ip(peer, &headers, &app.settings.trusted_proxies).to_string();
    let sent = send(&app, lang, &mut p, &ip).await;
    if save(&app, &a.id, &p).await.is_err() {
        return app.pages.unavailable(lang);
    }
    match sent {
        Ok(()) => {
            let say = Say {
                error: None,
                notice: Some(lang.t("profile_code_sent")),
            };
            render(&app, &headers, lang, StatusCode::OK, &a, Some(&p), say)
        }
        Err((status, e)) => refuse(&app, &headers, lang, &a, Some(&p), (status, &e)),
    }
}

/// `POST /account/profile/cancel`: forgets the pending change.
pub async fn cancel(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let lang = Lang::choose(&[], &headers);
    let (a, _) = match signed_in_form(&app, &headers, lang, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let _ = app.cache.delete(&key(&a.id)).await;
    crate::oauth::authorize::response::redirect("/account/profile")
}

/// `POST /account/profile/code`: the code from the new address applies the change.
pub async fn confirm(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let lang = Lang::choose(&[], &headers);
    let (a, form) = match signed_in_form(&app, &headers, lang, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let Ok(Some(mut p)) = load(&app, &a.id).await else {
        let e = (StatusCode::BAD_REQUEST, lang.t("err_expired"));
        return refuse(&app, &headers, lang, &a, None, e);
    };
    if let Err((status, e)) = p.code.check(form.get("code").unwrap_or(""), app.now()) {
        if save(&app, &a.id, &p).await.is_err() {
            return app.pages.unavailable(lang);
        }
        return refuse(&app, &headers, lang, &a, Some(&p), (status, lang.t(e)));
    }
    // Spent: the same code cannot apply anything again.
    let _ = app.cache.delete(&key(&a.id)).await;
    let kind = kind_of(&p.contact);
    match apply(&app, &a, kind, Some(p.contact.value()), lang).await {
        Ok(()) => crate::oauth::authorize::response::redirect("/account/profile"),
        Err(StoreError::Conflict(_)) => {
            let e = (StatusCode::CONFLICT, lang.t("err_already_registered"));
            refuse(&app, &headers, lang, &a, None, e)
        }
        Err(e) => {
            tracing::error!(error = %e, "contact change failed");
            app.pages.unavailable(lang)
        }
    }
}

/// Sets (or removes) one address, moves the login with it, and tells the old address and
/// the account's confirmed addresses.
async fn apply(
    app: &App,
    a: &Account,
    kind: ContactKind,
    new: Option<&str>,
    lang: Lang,
) -> Result<(), StoreError> {
    let (old, old_verified) = current(a, kind);
    let other = match kind {
        ContactKind::Email => a.phone.as_deref().filter(|_| a.phone_verified),
        ContactKind::Phone => a.email.as_deref().filter(|_| a.email_verified),
    };
    let login = match (old == Some(a.login.as_str()), new, other) {
        (true, Some(n), _) => n,
        (true, None, Some(o)) => o,
        _ => a.login.as_str(),
    };
    let accounts = app.db.accounts();
    accounts
        .set_contact(&a.id, kind, new, login, app.now())
        .await?;
    tracing::info!(account = %a.id, contact = kind.column(), "contact changed by its owner");
    if let (Some(old), true) = (old, old_verified) {
        let to = match kind {
            ContactKind::Email => Recipient::Email(old.to_owned()),
            ContactKind::Phone => Recipient::Sms(old.to_owned()),
        };
        crate::notify::send_notice(app, to, "contact_changed", lang);
    }
    if let Some(now) = accounts.get(&a.id).await? {
        crate::notify::tell(app, &now, "contact_changed", lang).await;
    }
    Ok(())
}

/// `POST /account/profile/remove`: with the password, removes an address, unless no other
/// confirmed address would be left.
pub async fn remove(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let lang = Lang::choose(&[], &headers);
    let (a, form) = match signed_in_form(&app, &headers, lang, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let kind = match form.get("kind") {
        Some("email") => ContactKind::Email,
        Some("phone") => ContactKind::Phone,
        _ => {
            let e = (StatusCode::BAD_REQUEST, lang.t("err_contact_format"));
            return refuse(&app, &headers, lang, &a, None, e);
        }
    };
    if current(&a, kind).0.is_none() {
        return crate::oauth::authorize::response::redirect("/account/profile");
    }
    let other_confirmed = match kind {
        ContactKind::Email => a.phone.is_some() && a.phone_verified,
        ContactKind::Phone => a.email.is_some() && a.email_verified,
    };
    if !other_confirmed {
        let e = (StatusCode::CONFLICT, lang.t("profile_err_only_contact"));
        return refuse(&app, &headers, lang, &a, None, e);
    }
    if let Err((status, e)) = reauth(&app, &a, &form).await {
        return refuse(&app, &headers, lang, &a, None, (status, lang.t(e)));
    }
    match apply(&app, &a, kind, None, lang).await {
        Ok(()) => crate::oauth::authorize::response::redirect("/account/profile"),
        Err(e) => {
            tracing::error!(error = %e, "contact removal failed");
            app.pages.unavailable(lang)
        }
    }
}
