//! Codes by SMS and e-mail as a second factor at sign-in: sent after the password, 6 digits,
//! wrong, reused, expired and exhausted codes refused, resends throttled, `amr` `pwd sms mfa`
//! for SMS and `pwd otp mfa` for e-mail (RFC 8176), and the choice among the account's
//! factors.

use crate::helpers::*;
use crate::on_both_stores;
use serde_json::{json, Value};

on_both_stores!(
    sms_code_is_sent_after_the_password_single_use_expiring_and_limited,
    email_code_says_otp_and_the_person_may_pick_another_factor,
);

pub const PW: &str = "correct horse battery";
const SECRET: &[u8] = b"12345678901234567890";

/// An account with confirmed phone and e-mail and the given code channels turned on.
pub async fn otp_user(app: &TestApp, login: &str, channels: &[&str]) -> String {
    let id = app
        .user_with(login, PW, |a| {
            a.email_verified = true;
            a.phone_verified = true;
        })
        .await;
    for c in channels {
        app.app
            .db
            .otp_factors()
            .add(&id, c, app.app.now())
            .await
            .unwrap();
    }
    id
}

/// The code in the latest message of `kind` sent to `to`.
pub fn last_code(app: &TestApp, kind: &str, to: &idp::notify::Recipient) -> String {
    let sent = app.app.notifier.outbox.as_ref().unwrap().recent();
    // Newest first: the first match is the latest, even within one second.
    let m = sent
        .iter()
        .find(|m| m.message.kind == kind && &m.message.to == to)
        .unwrap_or_else(|| panic!("no {kind} message"));
    let digits: String = m
        .message
        .text
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap()
        .to_owned();
    digits
}

/// Signs in with the password; returns the second-factor page's status and HTML.
async fn past_password(app: &TestApp, rp: &Rp, b: &Browser, login: &str) -> (u16, String, String) {
    let (url, verifier) = authorize_url(app, rp, &[]);
    let (_, _, html) = b.get(&app.base, &url).await.page();
    let (status, _, html) = b
        .submit(&app.base, &html, &[("login", login), ("password", PW)])
        .await
        .page();
    (status, html, verifier)
}

pub fn wrong(good: &str) -> &'static str {
    if good == "000000" {
        "111111"
    } else {
        "000000"
    }
}

async fn amr_of(app: &TestApp, rp: &Rp, landed: url::Url, verifier: &str) -> Value {
    let code = Landed::param(&landed, "code").expect("a code");
    let (status, t) = redeem(app, rp, &code, verifier).await;
    assert_eq!(status, 200, "{t}");
    keys::decode_unverified(t["id_token"].as_str().unwrap())
        .unwrap()
        .1["amr"]
        .clone()
}

async fn sms_code_is_sent_after_the_password_single_use_expiring_and_limited(app: TestApp) {
    let rp = app.confidential().await;
    otp_user(&app, "olga", &["sms"]).await;
    let phone = idp::notify::Recipient::Sms("+79990001122".into());

    let b = Browser::new();
    let (status, html, verifier) = past_password(&app, &rp, &b, "olga").await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("/otp\"") && html.contains("+7999*****22"),
        "{html}"
    );
    let good = last_code(&app, "signin_code", &phone);
    let (status, _, html) = b
        .submit(&app.base, &html, &[("code", wrong(&good))])
        .await
        .page();
    assert_eq!(status, 400, "a wrong code is refused");
    assert!(html.contains("role=\"alert\""));
    let landed = b
        .submit_and_allow(&app.base, &html, &[("code", &good)])
        .await
        .redirect();
    assert_eq!(
        amr_of(&app, &rp, landed, &verifier).await,
        json!(["pwd", "sms", "mfa"])
    );

    // Another sign-in within the minute: no new code yet, and the used one is refused.
    let b2 = Browser::new();
    let (status, html, _) = past_password(&app, &rp, &b2, "olga").await;
    assert_eq!(status, 429, "the resend is throttled: {html}");
    let (status, _, html) = b2.submit(&app.base, &html, &[("code", &good)]).await.page();
    assert_eq!(status, 400, "a used code does not sign in again");

    // A minute on, a new code; five wrong attempts end it, even for the right code.
    app.clock.advance(61);
    let (status, _, mut html) = b2
        .submit_form(&app.base, &html, "/resend", &[])
        .await
        .page();
    assert_eq!(status, 200);
    let fresh = last_code(&app, "signin_code", &phone);
    // Asking again at once is throttled.
    let (status, _, _) = b2
        .submit_form(&app.base, &html, "/resend", &[])
        .await
        .page();
    assert_eq!(status, 429);
    for i in 0..5 {
        let (status, _, h) = b2
            .submit(&app.base, &html, &[("code", wrong(&fresh))])
            .await
            .page();
        assert_eq!(status, if i < 4 { 400 } else { 429 }, "attempt {i}");
        html = h;
    }
    let (status, _, html) = b2
        .submit(&app.base, &html, &[("code", &fresh)])
        .await
        .page();
    assert_eq!(status, 429, "attempts exhausted");

    // A code older than ten minutes is refused.
    app.clock.advance(61);
    let (status, _, html) = b2
        .submit_form(&app.base, &html, "/resend", &[])
        .await
        .page();
    assert_eq!(status, 200);
    let late = last_code(&app, "signin_code", &phone);
    app.clock.advance(601);
    let (status, _, _) = b2.submit(&app.base, &html, &[("code", &late)]).await.page();
    assert_eq!(status, 400, "expired");
}

async fn email_code_says_otp_and_the_person_may_pick_another_factor(app: TestApp) {
    let rp = app.confidential().await;
    let id = otp_user(&app, "pavel", &["email"]).await;
    let sealed = idp::totp::seal(&app.app.secrets.factor_key, SECRET);
    let now = app.app.now();
    app.app
        .db
        .accounts()
        .set_totp(&id, Some(&sealed), now)
        .await
        .unwrap();
    let mail = idp::notify::Recipient::Email("pavel@example.com".into());

    // The app is asked first; e-mail is offered, SMS (not turned on) is not.
    let b = Browser::new();
    let (status, html, verifier) = past_password(&app, &rp, &b, "pavel").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("/totp\"") && html.contains("value=\"email\""),
        "{html}"
    );
    assert!(!html.contains("value=\"sms\""));
    let (status, _, _) = b
        .submit_form(&app.base, &html, "/method", &[("method", "sms")])
        .await
        .page();
    assert_eq!(status, 400, "a factor the account lacks cannot be picked");
    let (status, _, html) = b
        .submit_form(&app.base, &html, "/method", &[("method", "email")])
        .await
        .page();
    assert_eq!(status, 200);
    assert!(
        html.contains("/otp\"") && html.contains("p***@example.com"),
        "{html}"
    );
    assert!(
        html.contains("value=\"totp\""),
        "the app can be picked back"
    );
    let code = last_code(&app, "signin_code", &mail);
    let landed = b
        .submit_and_allow(&app.base, &html, &[("code", &code)])
        .await
        .redirect();
    assert_eq!(
        amr_of(&app, &rp, landed, &verifier).await,
        json!(["pwd", "otp", "mfa"])
    );
}
