//! Notification settings in the personal account (`/account/notifications`).
//!
//! Rules: the channel is e-mail, SMS or both, and only confirmed addresses can be chosen;
//! the sign-in-from-a-new-device notice can be turned off; security notices (password
//! changed, factor added or removed, lock-out, account deletion, contact changed) are
//! always sent and the page says so. Settings are stored durably; `crate::notify::tell`
//! reads them for every notice.

use crate::account::{signed_in, signed_in_form};
use crate::app::{App, AppState};
use crate::i18n::Lang;
use crate::session;
use crate::store::notifications::{Channel, NotificationSettings};
use crate::store::Account;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use minijinja::context;

/// Whether `channel` can be chosen: all its addresses are confirmed.
fn allowed(a: &Account, channel: Channel) -> bool {
    let email = a.email.is_some() && a.email_verified;
    let phone = a.phone.is_some() && a.phone_verified;
    match channel {
        Channel::All => email && phone,
        Channel::Email => email,
        Channel::Sms => phone,
    }
}

fn page(
    app: &App,
    headers: &HeaderMap,
    lang: Lang,
    status: StatusCode,
    a: &Account,
    s: &NotificationSettings,
    message: Option<(&str, &str)>,
) -> Response {
    let all = [Channel::All, Channel::Email, Channel::Sms];
    // What notices reach today: "both" with one confirmed address is that address.
    let shown = if allowed(a, s.channel) {
        s.channel
    } else {
        all.into_iter()
            .find(|c| allowed(a, *c))
            .unwrap_or(s.channel)
    };
    let choices: Vec<_> = all
        .into_iter()
        .map(|c| {
            context! {
                value => c.as_str(),
                label => lang.t(&format!("notif_channel_{}", c.as_str())),
                allowed => allowed(a, c),
                checked => c == shown,
            }
        })
        .collect();
    let (kind, text) = message.unwrap_or_default();
    app.pages.page(
        status,
        "notifications.html",
        lang,
        context! {
            csrf => session::csrf_for(app, headers).unwrap_or_default(),
            choices,
            new_device => s.new_device,
            kind, text,
        },
    )
}

/// `GET /account/notifications`.
pub async fn show(State(app): State<AppState>, headers: HeaderMap) -> Response {
    let lang = Lang::choose(&[], &headers);
    let (_, a) = match signed_in(&app, &headers, lang).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    match app.db.notification_settings().get(&a.id).await {
        Ok(s) => page(&app, &headers, lang, StatusCode::OK, &a, &s, None),
        Err(e) => {
            tracing::error!(error = %e, "notification settings lookup failed");
            app.pages.unavailable(lang)
        }
    }
}

/// `POST /account/notifications`: saves the channel and the optional notices.
pub async fn save(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let lang = Lang::choose(&[], &headers);
    let (a, form) = match signed_in_form(&app, &headers, lang, &body).await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let channel = Channel::parse(form.get("channel").unwrap_or(""));
    let wanted = NotificationSettings {
        channel: channel.unwrap_or(Channel::All),
        new_device: form.get("new_device") == Some("on"),
    };
    if !channel.is_some_and(|c| allowed(&a, c)) {
        let current = app
            .db
            .notification_settings()
            .get(&a.id)
            .await
            .unwrap_or_default();
        let e = ("error", lang.t("notif_err_unconfirmed"));
        return page(
            &app,
            &headers,
            lang,
            StatusCode::BAD_REQUEST,
            &a,
            &current,
            Some(e),
        );
    }
    if let Err(e) = app
        .db
        .notification_settings()
        .set(&a.id, &wanted, app.now())
        .await
    {
        tracing::error!(error = %e, "notification settings not saved");
        return app.pages.unavailable(lang);
    }
    let ok = ("ok", lang.t("notif_saved"));
    page(&app, &headers, lang, StatusCode::OK, &a, &wanted, Some(ok))
}
