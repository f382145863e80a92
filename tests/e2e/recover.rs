//! Password recovery: a code to a confirmed address, the second factor when the account has
//! one, a new password; then every old session, refresh and access token is over, any lock
//! is lifted, and the citizen is told. Unknown logins get the same page and no message.

use crate::helpers::*;
use crate::on_both_stores;
use std::sync::Arc;

on_both_stores!(
    a_reset_ends_old_sessions_and_tokens_and_lifts_the_lock,
    recovery_asks_the_second_factor_and_reveals_no_accounts,
    the_second_factor_is_decided_when_the_code_is_right,
);

const OLD: &str = "correct horse battery";
const NEW: &str = "a brand new long passphrase";

fn outbox(app: &TestApp) -> Vec<idp::notify::OutboxEntry> {
    app.app.notifier.outbox.as_ref().unwrap().recent()
}

fn last_code(app: &TestApp, kind: &str) -> String {
    let m = outbox(app)
        .into_iter()
        .find(|e| e.message.kind == kind)
        .unwrap();
    m.message
        .text
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap()
        .to_owned()
}

/// /recover with `login`; returns the browser and the page after the login step.
async fn begin(app: &TestApp, login: &str) -> (Browser, u16, String) {
    let b = Browser::new();
    let (_, _, html) = b.get(&app.base, &app.url("/recover")).await.page();
    let (status, _, html) = b.submit(&app.base, &html, &[("login", login)]).await.page();
    (b, status, html)
}

/// The refresh token `rt` gets `invalid_grant` and `old_browser` has no session any more.
pub async fn assert_signed_out(app: &TestApp, rp: &Rp, rt: &str, old_browser: &Browser) {
    let (status, v) = refresh(app, rp, rt).await;
    assert_eq!((status, v["error"].as_str()), (400, Some("invalid_grant")));
    assert_eq!(
        prompt_none_error(app, rp, old_browser).await.as_deref(),
        Some("login_required"),
        "the old browser's session ended"
    );
}

async fn a_reset_ends_old_sessions_and_tokens_and_lifts_the_lock(app: TestApp) {
    let id = app
        .user_with("ivan", OLD, |a| a.email_verified = true)
        .await;
    let rp = app.confidential().await;
    let old_browser = Browser::new();
    let t = sign_in(&app, &rp, &old_browser, "ivan", OLD).await;
    let rt = t["refresh_token"].as_str().unwrap().to_owned();
    sqlx::query("UPDATE accounts SET failed_logins = 100, locked_at = 1 WHERE id = $1")
        .bind(&id)
        .execute(&app.app.db.pool)
        .await
        .unwrap();

    let (b, status, html) = begin(&app, "ivan").await;
    assert_eq!(status, 200);
    assert!(html.contains("i***@example.com"), "{html}");
    let code = last_code(&app, "recovery_code");
    let (status, _, html) = b.submit(&app.base, &html, &[("code", &code)]).await.page();
    assert_eq!(status, 200);
    assert!(
        html.contains("name=\"password2\""),
        "no second factor: straight to the password"
    );
    let (status, _, html) = b
        .submit(
            &app.base,
            &html,
            &[("password", "too short"), ("password2", "too short")],
        )
        .await
        .page();
    assert_eq!(status, 400);
    let (status, _, done) = b
        .submit(&app.base, &html, &[("password", NEW), ("password2", NEW)])
        .await
        .page();
    assert_eq!(status, 200, "{done}");

    // Old refresh token, old session, old password: all over. Lock lifted, citizen told.
    assert_signed_out(&app, &rp, &rt, &old_browser).await;
    let a = app.app.db.accounts().get(&id).await.unwrap().unwrap();
    assert!(a.locked_at.is_none() && a.failed_logins == 0);
    assert!(outbox(&app)
        .iter()
        .any(|m| m.message.kind == "password_changed"));
    let t = sign_in(&app, &rp, &Browser::new(), "ivan", NEW).await;
    assert!(t["id_token"].is_string());
    let (url, _) = authorize_url(&app, &rp, &[]);
    let b = Browser::new();
    let (status, _, _) = b.submit_login_at(&app.base, &url, "ivan", OLD).await.page();
    assert_eq!(status, 401, "the old password no longer works");
}

async fn recovery_asks_the_second_factor_and_reveals_no_accounts(app: TestApp) {
    const SECRET: &[u8] = b"12345678901234567890";
    let sealed = idp::totp::seal(&app.app.secrets.factor_key, SECRET);
    app.user_with("judy", OLD, |a| {
        a.email_verified = true;
        a.totp_secret = Some(sealed);
    })
    .await;
    let before = outbox(&app).len();
    let (_, status, html_unknown) = begin(&app, "nobody").await;
    assert_eq!(status, 200);
    assert!(
        html_unknown.contains("name=\"code\""),
        "same page as for a real login"
    );
    assert_eq!(
        outbox(&app).len(),
        before,
        "nothing sent for an unknown login"
    );

    let (b, _, html) = begin(&app, "judy").await;
    let code = last_code(&app, "recovery_code");
    let (_, _, html) = b.submit(&app.base, &html, &[("code", &code)]).await.page();
    assert!(
        html.contains("/factor"),
        "the second factor comes next: {html}"
    );
    let good = idp::totp::code_at(SECRET, app.app.now());
    let wrong = if good == "000000" { "111111" } else { "000000" };
    let (status, _, html) = b.submit(&app.base, &html, &[("code", wrong)]).await.page();
    assert_eq!(status, 401);
    let (_, _, html) = b.submit(&app.base, &html, &[("code", &good)]).await.page();
    // With a second factor, 8 characters are enough (NIST SP 800-63B).
    let (status, _, _) = b
        .submit(
            &app.base,
            &html,
            &[("password", "plum tree"), ("password2", "plum tree")],
        )
        .await
        .page();
    assert_eq!(status, 200);
}

/// Whether a second factor is asked is decided when the recovery code is right, not at the
/// login step, where a look-up that only real accounts get would show in the answer's
/// timing: an authenticator added in between is asked for.
async fn the_second_factor_is_decided_when_the_code_is_right(app: TestApp) {
    let id = app
        .user_with("kira", OLD, |a| a.email_verified = true)
        .await;
    let (b, status, html) = begin(&app, "kira").await;
    assert_eq!(status, 200);
    let code = last_code(&app, "recovery_code");
    app.add_authenticator(&id, b"12345678901234567890").await;
    let (status, _, html) = b.submit(&app.base, &html, &[("code", &code)]).await.page();
    assert_eq!(status, 200);
    assert!(
        html.contains("/factor") && !html.contains("name=\"password2\""),
        "the authenticator added meanwhile is asked for: {html}"
    );
}

/// The recovery page answers without waiting for the SMS gateway: unknown logins send
/// nothing, so an answer that waited for the gateway would tell which logins exist.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recovery_answers_before_the_sms_gateway_does() {
    let g = HeldGateway::start().await;
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let mut c = test_config(Store::Embedded, dir.path(), None)
        .await
        .unwrap();
    c.notify.sms_url = Some(g.url.clone());
    let app = spawn_with(c, dir).await;
    app.user_with("petr", OLD, |a| {
        a.phone = Some("+79990001122".into());
        a.phone_verified = true;
    })
    .await;

    let (status, html) = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        let (_, status, html) = begin(&app, "petr").await;
        (status, html)
    })
    .await
    .expect("the page answered while the gateway held its answer");
    assert_eq!(status, 200);
    assert!(html.contains("name=\"code\""), "{html}");
    g.received(1).await;
    // Shutdown waits for the delivery the answer left under way.
    let shutdown = shutdown_waiting_for(&app, "the gateway").await;
    g.release.notify_one();
    assert!(
        shutdown.await.unwrap(),
        "the delivery finished within the grace period"
    );
    assert_eq!(g.answered.load(std::sync::atomic::Ordering::SeqCst), 1);
    let sms = g.seen.lock().unwrap()[0].clone();
    assert_eq!(sms["to"], "+79990001122");
    assert_eq!(
        sms["text"].as_str(),
        outbox(&app).first().map(|e| e.message.text.as_str())
    );
}
