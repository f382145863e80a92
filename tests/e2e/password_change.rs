//! Changing the password while signed in (`/account/password`): the current password is a
//! re-authentication that counts in the sign-in streak, the new one follows the policy, and a
//! change signs out every other browser and revokes refresh tokens while this browser stays.

use crate::account::open_account;
use crate::helpers::*;
use crate::on_both_stores;
use crate::recover::assert_signed_out;

on_both_stores!(
    a_change_keeps_this_browser_and_ends_the_rest,
    wrong_current_passwords_wait_like_sign_in,
);

const OLD: &str = "an old long passphrase";
const NEW: &str = "a brand new long passphrase";
/// The form filled in rightly: the current password, and the new one twice.
const RIGHT: [(&str, &str); 3] = [("current", OLD), ("password", NEW), ("password2", NEW)];

/// Whether the citizen was told their password changed.
fn told(app: &TestApp) -> bool {
    let outbox = app.app.notifier.outbox.as_ref().unwrap().recent();
    outbox.iter().any(|m| m.message.kind == "password_changed")
}

async fn change(b: &Browser, app: &TestApp, fields: &[(&str, &str)]) -> (u16, String) {
    let (status, _, html) = b.get(&app.base, &app.url("/account/password")).await.page();
    assert_eq!(status, 200, "{html}");
    let (status, _, html) = b.submit(&app.base, &html, fields).await.page();
    (status, html)
}

async fn a_change_keeps_this_browser_and_ends_the_rest(app: TestApp) {
    let id = app
        .user_with("olga", OLD, |a| a.email_verified = true)
        .await;
    let rp = app.confidential().await;
    let other = Browser::new();
    let t = sign_in(&app, &rp, &other, "olga", OLD).await;
    let rt = t["refresh_token"].as_str().unwrap().to_owned();
    let (b, html) = open_account(&app, "olga", OLD).await;
    assert!(html.contains("href=\"/account/password\""), "{html}");

    // A form without its CSRF token does nothing.
    let r = b
        .http
        .post(app.url("/account/password"))
        .form(&RIGHT)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Wrong current password, different repeats, a password the policy refuses: nothing
    // changes, each says why.
    let (status, html) = change(
        &b,
        &app,
        &[
            ("current", "not it at all"),
            ("password", NEW),
            ("password2", NEW),
        ],
    )
    .await;
    assert_eq!(status, 401, "{html}");
    assert!(html.contains("role=\"alert\""));
    let (status, html) = change(
        &b,
        &app,
        &[
            ("current", OLD),
            ("password", NEW),
            ("password2", "something else"),
        ],
    )
    .await;
    assert_eq!(status, 400, "{html}");
    let (status, html) = change(
        &b,
        &app,
        &[
            ("current", OLD),
            ("password", "olga"),
            ("password2", "olga"),
        ],
    )
    .await;
    assert_eq!(status, 400, "{html}");
    let a = app.app.db.accounts().get(&id).await.unwrap().unwrap();
    assert!(idp::password::verify(OLD.into(), a.password_hash.clone()).await);
    assert!(!told(&app));

    // The right answers: changed; the citizen told.
    let (status, html) = change(&b, &app, &RIGHT).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("id=\"password-changed\""), "{html}");
    assert!(told(&app));
    // The other browser and the service's refresh token are over; this browser is not.
    assert_signed_out(&app, &rp, &rt, &other).await;
    let (status, url, _) = b.get(&app.base, &app.url("/account")).await.page();
    assert_eq!(status, 200);
    assert!(url.ends_with("/account"), "still signed in: {url}");
    // Only the new password signs in now.
    let t = sign_in(&app, &rp, &Browser::new(), "olga", NEW).await;
    assert!(t["access_token"].is_string(), "{t}");
    let (url, _) = authorize_url(&app, &rp, &[]);
    let fresh = Browser::new();
    let (status, _, _) = fresh
        .submit_login_at(&app.base, &url, "olga", OLD)
        .await
        .page();
    assert_eq!(status, 401);
}

async fn wrong_current_passwords_wait_like_sign_in(app: TestApp) {
    let pavel = app.user("pavel", OLD).await;
    let (b, _) = open_account(&app, "pavel", OLD).await;
    let wrong = [("current", "guess"), ("password", NEW), ("password2", NEW)];
    let mut statuses = Vec::new();
    for _ in 0..6 {
        statuses.push(change(&b, &app, &wrong).await.0);
    }
    // Five free guesses, then the login must wait, as the login page makes it.
    assert_eq!(statuses, [401, 401, 401, 401, 401, 429]);
    // Even the right password waits now.
    let (status, html) = change(&b, &app, &RIGHT).await;
    assert_eq!(status, 429, "{html}");
    // The streak is the account's, not the page's: deletion waits too, and deletes nothing.
    let (_, _, html) = b.get(&app.base, &app.url("/account/delete")).await.page();
    let (status, _, html) = b
        .submit(&app.base, &html, &[("password", OLD)])
        .await
        .page();
    assert_eq!(status, 429, "{html}");
    assert!(app.app.db.accounts().get(&pavel).await.unwrap().is_some());
    // After the wait, the right password works and ends the streak.
    app.clock.advance(31);
    let (status, html) = change(&b, &app, &RIGHT).await;
    assert_eq!(status, 200, "{html}");
}
