//! Recovery asks whatever second factor the account has — a code by SMS or e-mail (sent on
//! request, single-use), a passkey (WebAuthn assertion bound to the recovery), the
//! authenticator app or a recovery code — and never the channel the recovery code went by
//! when the account has another factor; an account whose only factor is that channel is not
//! asked again (the recovery code proved it). Wrong answers count toward the account's
//! second-factor limit shared with sign-in.

use crate::helpers::*;
use crate::on_both_stores;
use crate::otp_factors::{last_code, otp_user, wrong, PW};
use crate::passkeys::{answer, passkey_user};
use crate::recover::assert_signed_out;
use idp::notify::Recipient;

on_both_stores!(
    an_sms_factor_is_asked_when_recovering_by_email,
    an_email_factor_is_asked_when_recovering_by_phone,
    the_recovery_channel_is_not_the_factor_when_another_exists,
    a_recovery_code_stands_in_for_the_app_and_wrong_answers_count,
);
crate::on_both_stores_localhost!(a_passkey_only_account_recovers_with_its_passkey);

const OLD: &str = PW;
const NEW: &str = "plum tree";
const PHONE: &str = "+79990001122";

fn email(login: &str) -> Recipient {
    Recipient::Email(format!("{login}@example.com"))
}

fn phone() -> Recipient {
    Recipient::Sms(PHONE.into())
}

/// Starts a recovery for `login` and gives the code sent to `to`; the page that follows.
async fn past_code(app: &TestApp, login: &str, to: &Recipient) -> (Browser, u16, String) {
    let b = Browser::new();
    let (_, _, html) = b.get(&app.base, &app.url("/recover")).await.page();
    let (status, _, html) = b.submit(&app.base, &html, &[("login", login)]).await.page();
    assert_eq!(status, 200, "{html}");
    let code = last_code(app, "recovery_code", to);
    let (status, _, html) = b.submit(&app.base, &html, &[("code", &code)]).await.page();
    (b, status, html)
}

/// Posts `fields` (with the page's hidden inputs) to the recovery's `endpoint`, whether or
/// not the page holds that form (as a hand-made request may).
async fn post_to(
    app: &TestApp,
    b: &Browser,
    html: &str,
    endpoint: &str,
    fields: &[(&str, &str)],
) -> (u16, String) {
    let action = form_action(html).unwrap();
    let at = action.rfind('/').unwrap();
    let mut form = hidden_inputs(html);
    form.extend(fields.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    let r = b
        .http
        .post(app.url(&format!("{}/{endpoint}", &action[..at])))
        .form(&form)
        .send()
        .await
        .unwrap();
    let (status, _, html) = b.land(&app.base, r).await.page();
    (status, html)
}

async fn post_code(app: &TestApp, b: &Browser, html: &str, code: &str) -> (u16, String) {
    post_to(app, b, html, "factor", &[("code", code)]).await
}

/// Sets the new password on the password step; asserts it is done.
async fn set_password(app: &TestApp, b: &Browser, html: &str) {
    assert!(html.contains("name=\"password2\""), "{html}");
    let (status, _, done) = b
        .submit(&app.base, html, &[("password", NEW), ("password2", NEW)])
        .await
        .page();
    assert_eq!(status, 200, "{done}");
}

/// The page after the password at a fresh sign-in to `rp` with `password`.
async fn after_password(app: &TestApp, rp: &Rp, login: &str, password: &str) -> (u16, String) {
    let b = Browser::new();
    let (url, _) = authorize_url(app, rp, &[]);
    let (_, _, html) = b.get(&app.base, &url).await.page();
    let (status, _, html) = b
        .submit(
            &app.base,
            &html,
            &[("login", login), ("password", password)],
        )
        .await
        .page();
    (status, html)
}

async fn an_sms_factor_is_asked_when_recovering_by_email(app: TestApp) {
    let id = otp_user(&app, "olga", &[]).await;
    let rp = app.confidential().await;
    // Signed in (before the factor was on): a session and a refresh token to be ended.
    let old_browser = Browser::new();
    let t = sign_in(&app, &rp, &old_browser, "olga", OLD).await;
    let rt = t["refresh_token"].as_str().unwrap().to_owned();
    let now = app.app.now();
    app.app.db.otp_factors().add(&id, "sms", now).await.unwrap();

    let (b, status, html) = past_code(&app, "olga", &email("olga")).await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("/send\"") && html.contains("+7999*****22") && !html.contains("password2"),
        "the SMS factor is asked, sent on request: {html}"
    );
    assert!(
        !html.contains("value=\"email\""),
        "the e-mail is no factor here: {html}"
    );
    let (status, _, html) = b.submit(&app.base, &html, &[]).await.page();
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("/factor\""), "{html}");
    let good = last_code(&app, "recovery_factor_code", &phone());
    let (status, _, html) = b
        .submit(&app.base, &html, &[("code", wrong(&good))])
        .await
        .page();
    assert_eq!(status, 400, "a wrong code is refused: {html}");
    assert!(html.contains("role=\"alert\""), "{html}");
    let (status, _, html) = b.submit(&app.base, &html, &[("code", &good)]).await.page();
    assert_eq!(status, 200, "{html}");
    // With a second factor, 8 characters are enough (NIST SP 800-63B).
    set_password(&app, &b, &html).await;

    // The old refresh token and session are over.
    assert_signed_out(&app, &rp, &rt, &old_browser).await;
    // The new password leads on to the SMS code; the old one is refused.
    let (status, html) = after_password(&app, &rp, "olga", NEW).await;
    assert!(status == 200 || status == 429, "{html}");
    assert!(html.contains("/otp\""), "{html}");
    let (status, _) = after_password(&app, &rp, "olga", OLD).await;
    assert_eq!(status, 401);

    // Another recovery: the code already used is refused.
    let (b, _, html) = past_code(&app, "olga", &email("olga")).await;
    let (status, html) = post_code(&app, &b, &html, &good).await;
    assert_eq!(status, 400, "a used code is refused: {html}");
    assert!(!html.contains("password2"), "{html}");
}

async fn an_email_factor_is_asked_when_recovering_by_phone(app: TestApp) {
    otp_user(&app, "petr", &["email"]).await;
    let (b, status, html) = past_code(&app, PHONE, &phone()).await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("p***@example.com") && html.contains("/send\""),
        "{html}"
    );
    assert!(!html.contains("value=\"sms\""), "{html}");
    let (_, _, html) = b.submit(&app.base, &html, &[]).await.page();
    let good = last_code(&app, "recovery_factor_code", &email("petr"));
    let (status, _, html) = b
        .submit(&app.base, &html, &[("code", wrong(&good))])
        .await
        .page();
    assert_eq!(status, 400, "{html}");
    // A new code within the minute is refused; the one sent still works.
    let (status, _, html) = b.submit_form(&app.base, &html, "/send", &[]).await.page();
    assert_eq!(status, 429, "{html}");
    let (status, html) = post_code(&app, &b, &html, &good).await;
    assert_eq!(status, 200, "{html}");
    set_password(&app, &b, &html).await;
}

async fn the_recovery_channel_is_not_the_factor_when_another_exists(app: TestApp) {
    // SMS and e-mail codes, recovering by e-mail: only SMS is offered.
    otp_user(&app, "rita", &["sms", "email"]).await;
    let (b, _, html) = past_code(&app, "rita", &email("rita")).await;
    assert!(html.contains("+7999*****22"), "{html}");
    assert!(!html.contains("value=\"email\""), "{html}");
    let (status, html) = post_to(&app, &b, &html, "method", &[("method", "email")]).await;
    assert_eq!(status, 400, "the recovery channel is refused as the factor");
    assert!(html.contains("role=\"alert\""), "{html}");

    // An authenticator app and e-mail codes, recovering by e-mail: only the app (and its
    // recovery codes).
    let sealed = idp::totp::seal(&app.app.secrets.factor_key, b"12345678901234567890");
    let id = app
        .user_with("sasha", OLD, |a| {
            a.email_verified = true;
            a.totp_secret = Some(sealed);
        })
        .await;
    let now = app.app.now();
    app.app
        .db
        .otp_factors()
        .add(&id, "email", now)
        .await
        .unwrap();
    let (_, _, html) = past_code(&app, "sasha", &email("sasha")).await;
    assert!(html.contains("/factor\""), "{html}");
    assert!(!html.contains("value=\"email\""), "{html}");

    // E-mail codes are the only factor and the recovery went there: nothing more is asked.
    otp_user(&app, "tanya", &["email"]).await;
    let (b, status, html) = past_code(&app, "tanya", &email("tanya")).await;
    assert_eq!(status, 200);
    set_password(&app, &b, &html).await;
}

async fn a_recovery_code_stands_in_for_the_app_and_wrong_answers_count(app: TestApp) {
    const SECRET: &[u8] = b"12345678901234567890";
    let sealed = idp::totp::seal(&app.app.secrets.factor_key, SECRET);
    let id = app
        .user_with("uma", OLD, |a| {
            a.email_verified = true;
            a.totp_secret = Some(sealed);
        })
        .await;
    let codes = ["AB12C-DE34F", "GH56J-KL78M"];
    let hashes: Vec<String> = codes
        .iter()
        .map(|c| {
            let c = idp::totp::normalise_recovery_code(c).unwrap();
            idp::totp::recovery_hash(&app.app.secrets.recovery_key, &id, &c)
        })
        .collect();
    let now = app.app.now();
    app.app
        .db
        .recovery_codes()
        .replace(&id, &hashes, now)
        .await
        .unwrap();

    let (b, _, html) = past_code(&app, "uma", &email("uma")).await;
    assert!(html.contains("value=\"recovery\""), "{html}");
    let (status, _, html) = b
        .submit_form(&app.base, &html, "/method", &[("method", "recovery")])
        .await
        .page();
    assert_eq!(status, 200, "{html}");
    let (status, _, html) = b
        .submit(&app.base, &html, &[("code", codes[0])])
        .await
        .page();
    assert_eq!(status, 200, "{html}");
    set_password(&app, &b, &html).await;

    // A spent recovery code is refused; five wrong answers reach the account's limit, and
    // then even the right app code waits.
    let (b, _, mut html) = past_code(&app, "uma", &email("uma")).await;
    let good = idp::totp::code_at(SECRET, app.app.now());
    for typed in [codes[0], "000000", "111111", "222222", "333333"] {
        let typed = if typed == good { "444444" } else { typed };
        let (status, _, page) = b.submit(&app.base, &html, &[("code", typed)]).await.page();
        assert_eq!(status, 401, "{typed}: {page}");
        html = page;
    }
    let (status, _, _) = b.submit(&app.base, &html, &[("code", &good)]).await.page();
    assert_eq!(
        status, 429,
        "the shared second-factor limit holds in recovery"
    );
}

async fn a_passkey_only_account_recovers_with_its_passkey(app: TestApp) {
    let mut key = passkey_user(&app, "pavel").await;
    let mut other = passkey_user(&app, "vera").await;
    let (b, status, html) = past_code(&app, "pavel", &email("pavel")).await;
    assert_eq!(status, 200, "{html}");
    assert!(
        form_action(&html).is_some_and(|a| a.ends_with("/passkey"))
            && html.contains("data-options"),
        "the passkey is asked: {html}"
    );
    let options = page_options(&html);
    assert!(
        options["publicKey"]["allowCredentials"]
            .as_array()
            .is_some_and(|a| a.len() == 1),
        "only the account's own passkey is allowed: {options}"
    );

    // Another account's passkey is refused; so is the same answer again (single-use).
    let (landed, form) = answer(&app, &b, &html, &other.assert(&options, &app.base)).await;
    let (status, _, html) = landed.page();
    assert_eq!(status, 401, "{html}");
    assert!(html.contains("role=\"alert\""), "{html}");
    let r = b
        .http
        .post(app.url(&form_action(&html).unwrap()))
        .form(&form)
        .send()
        .await
        .unwrap();
    let (status, _, html) = b.land(&app.base, r).await.page();
    assert_eq!(status, 400, "a used challenge is refused: {html}");

    let options = page_options(&html);
    let (landed, _) = answer(&app, &b, &html, &key.assert(&options, &app.base)).await;
    let (status, _, html) = landed.page();
    assert_eq!(status, 200, "{html}");
    set_password(&app, &b, &html).await;
    let rp = app.confidential().await;
    let (status, html) = after_password(&app, &rp, "pavel", NEW).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("data-options"), "then the passkey: {html}");
}
