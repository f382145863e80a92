//! Notification settings in the personal account: only confirmed channels can be chosen,
//! the choice is stored and followed, the new-device notice can be turned off, and security
//! notices go out whatever the settings say.

use crate::account::open_account;
use crate::helpers::*;
use crate::on_both_stores;
use idp::store::notifications::{Channel, NotificationSettings};

on_both_stores!(
    settings_are_stored_and_a_silenced_new_device_notice_is_not_sent,
    the_chosen_channel_is_the_one_notices_go_to,
);

const PW: &str = "correct horse battery";

/// How many `kind` messages went to `to`.
fn told(app: &TestApp, to: &str, kind: &str) -> usize {
    crate::register::messages_to(app, to)
        .iter()
        .filter(|m| m["kind"] == kind)
        .count()
}

async fn settings_are_stored_and_a_silenced_new_device_notice_is_not_sent(app: TestApp) {
    let id = app.user_with("kate", PW, |a| a.email_verified = true).await;
    let (b, _) = open_account(&app, "kate", PW).await;
    let (status, _, html) = b
        .get(&app.base, &app.url("/account/notifications"))
        .await
        .page();
    assert_eq!(status, 200);
    // The phone is not confirmed: SMS (and both) cannot be chosen; the page says security
    // notices always go out.
    assert!(html.contains("value=\"sms\" disabled"), "{html}");
    assert!(html.contains("value=\"all\" disabled"), "{html}");
    // Notices reach the e-mail address today, so that is what is shown chosen.
    assert!(html.contains("value=\"email\" checked>"), "{html}");
    assert!(html.contains("id=\"always\""));
    assert_eq!(
        app.app.db.notification_settings().get(&id).await.unwrap(),
        NotificationSettings::default()
    );

    let (status, _, _) = b
        .submit(
            &app.base,
            &html,
            &[("channel", "sms"), ("new_device", "on")],
        )
        .await
        .page();
    assert_eq!(status, 400);
    assert_eq!(
        app.app.db.notification_settings().get(&id).await.unwrap(),
        NotificationSettings::default()
    );
    let (status, _, page) = b
        .submit(&app.base, &html, &[("channel", "email")])
        .await
        .page();
    assert_eq!(status, 200, "{page}");
    let saved = NotificationSettings {
        channel: Channel::Email,
        new_device: false,
    };
    assert_eq!(
        app.app.db.notification_settings().get(&id).await.unwrap(),
        saved
    );
    assert!(!page.contains("name=\"new_device\" value=\"on\" checked"));

    // A sign-in from a new browser is not told now.
    let rp = app.confidential().await;
    sign_in(&app, &rp, &Browser::new(), "kate", PW).await;
    assert_eq!(told(&app, "kate@example.com", "new_device"), 0);

    // The export carries the settings.
    let r = b.http.get(app.url("/account/export")).send().await.unwrap();
    let doc: serde_json::Value = r.json().await.unwrap();
    assert_eq!(doc["notifications"]["channel"], "email");
    assert_eq!(doc["notifications"]["new_device"], false);

    // A security notice still goes out.
    let (_, _, del) = b.get(&app.base, &app.url("/account/delete")).await.page();
    let (status, _, _) = b.submit(&app.base, &del, &[("password", PW)]).await.page();
    assert_eq!(status, 200);
    assert_eq!(told(&app, "kate@example.com", "account_deleted"), 1);
}

async fn the_chosen_channel_is_the_one_notices_go_to(app: TestApp) {
    app.user_with("lena", PW, |a| {
        a.email_verified = true;
        a.phone_verified = true;
    })
    .await;
    let (b, _) = open_account(&app, "lena", PW).await;
    let (_, _, html) = b
        .get(&app.base, &app.url("/account/notifications"))
        .await
        .page();
    let (status, _, _) = b
        .submit(
            &app.base,
            &html,
            &[("channel", "sms"), ("new_device", "on")],
        )
        .await
        .page();
    assert_eq!(status, 200);
    let rp = app.confidential().await;
    sign_in(&app, &rp, &Browser::new(), "lena", PW).await;
    assert_eq!(told(&app, "+79990001122", "new_device"), 1);
    assert_eq!(told(&app, "lena@example.com", "new_device"), 0);
}
