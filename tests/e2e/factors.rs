//! Second factors in the personal account: codes by SMS turned on with the code sent and the
//! password, factors turned off with the password, the last factor kept while the password
//! is shorter than 15 characters (NIST SP 800-63B §5.1.1.2), and the citizen told each time.

use crate::account::open_account;
use crate::helpers::*;
use crate::on_both_stores;
use crate::otp_factors::{last_code, otp_user, PW};

on_both_stores!(
    codes_by_sms_are_turned_on_and_off_in_the_account,
    deleting_an_account_with_codes_by_email_needs_the_code,
);

/// Nine characters: allowed only with a second factor.
const SHORT: &str = "kot-begemot";

fn told(app: &TestApp, kind: &str) -> bool {
    let sent = app.app.notifier.outbox.as_ref().unwrap().recent();
    sent.iter().any(|m| m.message.kind == kind)
}

async fn post(
    app: &TestApp,
    b: &Browser,
    html: &str,
    to: &str,
    f: &[(&str, &str)],
) -> (u16, String, String) {
    b.submit_form(&app.base, html, to, f).await.page()
}

async fn codes_by_sms_are_turned_on_and_off_in_the_account(app: TestApp) {
    let id = app
        .user_with("rita", SHORT, |a| a.phone_verified = true)
        .await;
    let phone = idp::notify::Recipient::Sms("+79990001122".into());
    let (b, _) = open_account(&app, "rita", SHORT).await;
    let (status, _, html) = b.get(&app.base, &app.url("/account/factors")).await.page();
    assert_eq!(status, 200);
    assert!(html.contains("id=\"factor-sms\" data-on=\"no\""), "{html}");

    // Turning SMS on: a code to the phone, then the code and the password.
    let (status, _, html) = b
        .submit_form(&app.base, &html, "/factors/add", &[])
        .await
        .page();
    assert_eq!(status, 200);
    assert!(html.contains("/account/factors/confirm") && html.contains("+7999*****22"));
    let code = last_code(&app, "enrol_code", &phone);
    let (status, _, _) = post(
        &app,
        &b,
        &html,
        "/factors/confirm",
        &[("code", &code), ("password", "nope")],
    )
    .await;
    assert_eq!(status, 401, "the password is needed");
    let bad = if code == "000000" { "111111" } else { "000000" };
    let (status, _, _) = post(
        &app,
        &b,
        &html,
        "/factors/confirm",
        &[("code", bad), ("password", SHORT)],
    )
    .await;
    assert_eq!(status, 400, "a wrong code is refused");
    assert!(!told(&app, "factor_added_sms"));
    let (status, url, html) = post(
        &app,
        &b,
        &html,
        "/factors/confirm",
        &[("code", &code), ("password", SHORT)],
    )
    .await;
    assert_eq!(status, 200);
    assert!(url.ends_with("/account/factors"));
    assert!(html.contains("id=\"factor-sms\" data-on=\"yes\""), "{html}");
    assert!(told(&app, "factor_added_sms"));

    // Turning it off: the password is checked, and the last factor stays with a short one.
    let (status, _, _) = post(&app, &b, &html, "/factors/remove", &[("password", "nope")]).await;
    assert_eq!(status, 401);
    let (status, _, page) = post(&app, &b, &html, "/factors/remove", &[("password", SHORT)]).await;
    assert_eq!(status, 409, "the last factor with a 9-character password");
    assert!(page.contains("role=\"alert\"") && page.contains("15"));
    assert!(page.contains("id=\"factor-sms\" data-on=\"yes\""));

    // With the app as well, SMS can go (the app remains), and then the app cannot.
    let sealed = idp::totp::seal(&app.app.secrets.factor_key, b"12345678901234567890");
    let now = app.app.now();
    app.app
        .db
        .accounts()
        .set_totp(&id, Some(&sealed), now)
        .await
        .unwrap();
    let (_, _, html) = b.get(&app.base, &app.url("/account/factors")).await.page();
    // The first remove form is the app's; the SMS one follows.
    let sms_form = &html[html.find("id=\"factor-sms\"").unwrap()..];
    let (status, _, html) = post(
        &app,
        &b,
        sms_form,
        "/factors/remove",
        &[("password", SHORT)],
    )
    .await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"factor-sms\" data-on=\"no\""));
    assert!(told(&app, "factor_removed_sms"));
    let (status, _, _) = post(&app, &b, &html, "/factors/remove", &[("password", SHORT)]).await;
    assert_eq!(status, 409, "the app is now the last factor");
    assert!(!told(&app, "factor_removed_totp"));
}

async fn deleting_an_account_with_codes_by_email_needs_the_code(app: TestApp) {
    let id = otp_user(&app, "zoya", &["email"]).await;
    let mail = idp::notify::Recipient::Email("zoya@example.com".into());
    let b = Browser::new();
    let (_, _, html) = b.get(&app.base, &app.url("/account")).await.page();
    let login = [("login", "zoya"), ("password", PW)];
    let (_, _, html) = b.submit(&app.base, &html, &login).await.page();
    let code = last_code(&app, "signin_code", &mail);
    let (status, url, _) = b.submit(&app.base, &html, &[("code", &code)]).await.page();
    assert_eq!(status, 200);
    assert!(url.ends_with("/account"), "{url}");

    let (_, _, html) = b.get(&app.base, &app.url("/account/delete")).await.page();
    assert!(html.contains("name=\"code\""), "the code is asked: {html}");
    let code = last_code(&app, "delete_code", &mail);
    let bad = if code == "000000" { "111111" } else { "000000" };
    let (status, _, html) = b
        .submit(&app.base, &html, &[("password", PW), ("code", bad)])
        .await
        .page();
    assert_eq!(status, 401);
    assert!(app.app.db.accounts().get(&id).await.unwrap().is_some());
    let (status, _, _) = b
        .submit(&app.base, &html, &[("password", PW), ("code", &code)])
        .await
        .page();
    assert_eq!(status, 200);
    assert!(app.app.db.accounts().get(&id).await.unwrap().is_none());
}
