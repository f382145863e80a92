//! Second factor at sign-in: an account with an authenticator app (TOTP, RFC 6238) is asked
//! for a code after its password; the code is single-use, wrong codes are limited per account
//! (in the shared cache, so across nodes), and the ID Token says `amr` pwd otp mfa (RFC 8176)
//! and `acr` the account's level.

use crate::helpers::*;
use crate::on_both_stores;
use serde_json::Value;

on_both_stores!(totp_is_asked_after_the_password_single_use_and_limited);

const SECRET: &[u8] = b"12345678901234567890";
const PASSWORD: &str = "correct horse battery";

async fn totp_user(app: &TestApp, login: &str) {
    let sealed = idp::totp::seal(&app.app.secrets.factor_key, SECRET);
    app.user_with(login, PASSWORD, |a| {
        a.level = Some("standard".into());
        a.totp_secret = Some(sealed);
    })
    .await;
}

/// Starts a sign-in and gets past the password; returns the code page's HTML and verifier.
async fn to_code_page(app: &TestApp, rp: &Rp, b: &Browser, login: &str) -> (String, String) {
    let (url, verifier) = authorize_url(app, rp, &[]);
    let (_, _, html) = b.get(&app.base, &url).await.page();
    let (status, _, html) = b
        .submit(
            &app.base,
            &html,
            &[("login", login), ("password", PASSWORD)],
        )
        .await
        .page();
    assert_eq!(status, 200);
    assert!(
        html.contains("name=\"code\"") && !html.contains("value=\"allow\""),
        "the code page comes before consent: {html}"
    );
    (html, verifier)
}

fn claims(jwt: &str) -> Value {
    keys::decode_unverified(jwt).unwrap().1
}

async fn totp_is_asked_after_the_password_single_use_and_limited(app: TestApp) {
    let rp = app.confidential().await;
    totp_user(&app, "bob").await;
    let now = app.app.now();
    let good = idp::totp::code_at(SECRET, now);
    let wrong = if good == "000000" { "111111" } else { "000000" };

    let b = Browser::new();
    let (html, verifier) = to_code_page(&app, &rp, &b, "bob").await;
    // A wrong code: the same page again, with an error, and no session.
    let (status, _, html) = b.submit(&app.base, &html, &[("code", wrong)]).await.page();
    assert_eq!(status, 401);
    assert!(html.contains("name=\"code\"") && html.contains("role=\"alert\""));
    // The right one (with the spaces people type) goes on to consent and back to the client.
    let spaced = format!("{} {}", &good[..3], &good[3..]);
    let landed = b
        .submit_and_allow(&app.base, &html, &[("code", &spaced)])
        .await
        .redirect();
    let code = Landed::param(&landed, "code").unwrap();
    let (status, t) = redeem(&app, &rp, &code, &verifier).await;
    assert_eq!(status, 200, "{t}");
    let id = claims(t["id_token"].as_str().unwrap());
    assert_eq!(id["amr"], serde_json::json!(["pwd", "otp", "mfa"]));
    assert_eq!(id["acr"], "standard");

    // The same code again, from another browser: refused (replay).
    let b2 = Browser::new();
    let (html, _) = to_code_page(&app, &rp, &b2, "bob").await;
    let (status, _, mut html) = b2.submit(&app.base, &html, &[("code", &good)]).await.page();
    assert_eq!(status, 401, "a used code is refused");
    // One failure since the last success (which cleared the count); four more reach the
    // limit of five.
    for _ in 0..4 {
        let (status, _, h) = b2.submit(&app.base, &html, &[("code", wrong)]).await.page();
        assert_eq!(status, 401);
        html = h;
    }
    // Now even a fresh, right code is refused and the sign-in starts over.
    let next = idp::totp::code_at(SECRET, now + 30);
    let (status, _, html) = b2.submit(&app.base, &html, &[("code", &next)]).await.page();
    assert_eq!(status, 429);
    assert!(html.contains("name=\"password\""), "back to the login form");
    let (_, _, html) = b2
        .submit(
            &app.base,
            &html,
            &[("login", "bob"), ("password", PASSWORD)],
        )
        .await
        .page();
    let (status, _, _) = b2.submit(&app.base, &html, &[("code", &next)]).await.page();
    assert_eq!(
        status, 429,
        "the account's limit holds until the window ends"
    );

    // Without the password step first, the code form is not reachable.
    let b3 = Browser::new();
    let (url, _) = authorize_url(&app, &rp, &[]);
    let (_, _, html) = b3.get(&app.base, &url).await.page();
    let action = form_action(&html).unwrap().replace("/login", "/totp");
    let csrf = hidden(&html, "csrf").unwrap();
    let r = b3
        .http
        .post(format!("{}{action}", app.base))
        .form(&[("csrf", csrf.as_str()), ("code", good.as_str())])
        .send()
        .await
        .unwrap();
    let landed = b3.land(&app.base, r).await;
    let (status, _, html) = landed.page();
    assert_eq!(status, 200);
    assert!(
        html.contains("name=\"password\""),
        "the login form, not a session"
    );
}
