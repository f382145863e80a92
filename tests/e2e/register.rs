//! Self-registration: an address confirmed by a one-time code (6 digits, 10 minutes, 5
//! attempts, resend throttled), then a NIST SP 800-63B password; the account starts at
//! `simplified`. Codes are read from the development outbox, as a person reads a message.

use crate::helpers::*;
use crate::on_both_stores;

on_both_stores!(
    registration_by_email_then_sign_in,
    codes_expire_are_limited_and_single_use,
    a_taken_address_looks_the_same_and_no_code_works,
    a_service_s_sign_in_goes_on_through_registration,
);

/// The newest code sent to `to`, from the outbox.
pub(crate) fn last_code(app: &TestApp, to: &str) -> String {
    let outbox = app.app.notifier.outbox.as_ref().unwrap();
    let m = outbox
        .recent()
        .into_iter()
        .find(|e| serde_json::to_value(&e.message).unwrap()["to"] == to)
        .unwrap_or_else(|| panic!("no message to {to}"));
    m.message
        .text
        .split(|c: char| !c.is_ascii_digit())
        .find(|w| w.len() == 6)
        .unwrap_or_else(|| panic!("no code in {:?}", m.message.text))
        .to_owned()
}

pub(crate) fn messages_to(app: &TestApp, to: &str) -> Vec<serde_json::Value> {
    app.app
        .notifier
        .outbox
        .as_ref()
        .unwrap()
        .recent()
        .into_iter()
        .map(|e| serde_json::to_value(&e).unwrap())
        .filter(|v| v["to"] == to)
        .collect()
}

/// Opens /register and gives `contact`; returns the browser and the code page.
async fn start(app: &TestApp, contact: &str) -> (Browser, u16, String) {
    let b = Browser::new();
    let (status, _, html) = b.get(&app.base, &app.url("/register")).await.page();
    assert_eq!(status, 200);
    assert!(html.contains("name=\"contact\""), "{html}");
    let (status, _, html) = b
        .submit(&app.base, &html, &[("contact", contact)])
        .await
        .page();
    (b, status, html)
}

const GOOD: &str = "four plain words are fine";

async fn registration_by_email_then_sign_in(app: TestApp) {
    let (b, status, html) = start(&app, "  New.User@Example.COM ").await;
    assert_eq!(status, 200);
    assert!(html.contains("new.user@example.com") && html.contains("name=\"code\""));
    let code = last_code(&app, "new.user@example.com");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, _, html) = b.submit(&app.base, &html, &[("code", wrong)]).await.page();
    assert_eq!(status, 400);
    assert!(html.contains("role=\"alert\""));
    let spaced = format!("{} {}", &code[..3], &code[3..]);
    let (status, _, html) = b
        .submit(&app.base, &html, &[("code", &spaced)])
        .await
        .page();
    assert_eq!(status, 200);
    assert!(html.contains("name=\"password2\""), "{html}");

    for (pw, pw2, why) in [
        (
            "short but fine",
            "short but fine",
            "too short without a second factor",
        ),
        (GOOD, "something else entirely", "the two differ"),
        (
            "new.user@example.com!",
            "new.user@example.com!",
            "contains the address",
        ),
        (
            "PasswordPassword",
            "PasswordPassword",
            "on the common-password list",
        ),
    ] {
        let (status, _, h) = b
            .submit(&app.base, &html, &[("password", pw), ("password2", pw2)])
            .await
            .page();
        assert_eq!(status, 400, "{why}");
        assert!(h.contains("role=\"alert\""), "{why}: {h}");
    }
    let (status, _, done) = b
        .submit(&app.base, &html, &[("password", GOOD), ("password2", GOOD)])
        .await
        .page();
    assert_eq!(status, 201, "{done}");
    let a = app.account("new.user@example.com").await;
    assert!(a.email_verified && a.email.as_deref() == Some("new.user@example.com"));
    assert_eq!(a.level, "simplified");
    // The finished flow cannot be replayed.
    let (status, _, _) = b
        .submit(&app.base, &html, &[("password", GOOD), ("password2", GOOD)])
        .await
        .page();
    assert_eq!(status, 404);

    // And the new account signs in to a client.
    let rp = app.confidential().await;
    let t = sign_in(&app, &rp, &Browser::new(), "new.user@example.com", GOOD).await;
    let id = keys::decode_unverified(t["id_token"].as_str().unwrap())
        .unwrap()
        .1;
    assert_eq!(id["acr"], "simplified");
    assert_eq!(id["sub"], a.id.as_str());
}

async fn codes_expire_are_limited_and_single_use(app: TestApp) {
    let (b, status, html) = start(&app, "8 (999) 123-45-67").await;
    assert_eq!(status, 200);
    assert!(html.contains("+79991234567"));
    let first = last_code(&app, "+79991234567");
    // A new code only a minute after the last.
    let (status, _, html) = b.submit_form(&app.base, &html, "/resend", &[]).await.page();
    assert_eq!(status, 429);
    // Ten minutes on, the code has expired.
    app.clock.advance(601);
    let (status, _, html) = b.submit(&app.base, &html, &[("code", &first)]).await.page();
    assert_eq!(status, 400, "expired");
    let (status, _, html) = b.submit_form(&app.base, &html, "/resend", &[]).await.page();
    assert_eq!(status, 200);
    let second = last_code(&app, "+79991234567");
    // Five wrong attempts spend the code: even the right one is refused after.
    let wrong = if second == "000000" {
        "111111"
    } else {
        "000000"
    };
    let mut html = html;
    for i in 1..=5 {
        let (status, _, h) = b.submit(&app.base, &html, &[("code", wrong)]).await.page();
        assert_eq!(status, if i < 5 { 400 } else { 429 }, "attempt {i}");
        html = h;
    }
    let (status, _, html) = b
        .submit(&app.base, &html, &[("code", &second)])
        .await
        .page();
    assert_eq!(status, 429);
    app.clock.advance(61);
    let (_, _, html) = b.submit_form(&app.base, &html, "/resend", &[]).await.page();
    let third = last_code(&app, "+79991234567");
    assert_ne!(third, "", "a fresh code");
    let (status, _, html) = b.submit(&app.base, &html, &[("code", &third)]).await.page();
    assert_eq!(status, 200);
    assert!(html.contains("name=\"password2\""));
    // An older code never works again (the flow moved on; the code form is gone).
    assert!(!html.contains("name=\"code\""));
}

async fn a_taken_address_looks_the_same_and_no_code_works(app: TestApp) {
    app.user("alice", "correct horse battery").await; // alice@example.com
    let (b, status, html) = start(&app, "alice@example.com").await;
    let (_, status_new, html_new) = start(&app, "someone.new@example.com").await;
    assert_eq!(
        status, status_new,
        "same answer for a taken and a free address"
    );
    assert_eq!(
        html.replace("alice@example.com", "X").len() / 10,
        html_new.replace("someone.new@example.com", "X").len() / 10,
        "same page"
    );
    // The owner is told; no code is sent.
    let sent = messages_to(&app, "alice@example.com");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["kind"], "registration_attempt");
    assert!(!sent[0]["text"]
        .as_str()
        .unwrap()
        .split(|c: char| !c.is_ascii_digit())
        .any(|w| w.len() == 6));
    let (status, _, _) = b
        .submit(&app.base, &html, &[("code", "123456")])
        .await
        .page();
    assert_eq!(status, 400);

    // At most ten codes an hour per address, whichever registration asks.
    for i in 2..=10 {
        let (_, status, _) = start(&app, "alice@example.com").await;
        assert_eq!(status, 200, "send {i}");
    }
    let (_, status, html) = start(&app, "alice@example.com").await;
    assert_eq!(status, 429);
    assert!(
        html.contains("name=\"contact\""),
        "back to the address form"
    );
}

/// From the registration page `html` a browser `b` is on: confirms `contact` with the code
/// sent to it and chooses a password; where the browser lands afterwards.
async fn register_here(app: &TestApp, b: &Browser, html: &str, contact: &str) -> Landed {
    assert!(html.contains("name=\"contact\""), "{html}");
    let (status, _, html) = b
        .submit(&app.base, html, &[("contact", contact)])
        .await
        .page();
    assert_eq!(status, 200, "{html}");
    let code = last_code(app, contact);
    let (status, _, html) = b.submit(&app.base, &html, &[("code", &code)]).await.page();
    assert_eq!(status, 200, "{html}");
    b.submit(&app.base, &html, &[("password", GOOD), ("password2", GOOD)])
        .await
}

/// The sign-in a registration went on with: consent given, the code redeemed; the ID
/// Token's claims.
async fn finish_sign_in(
    app: &TestApp,
    rp: &Rp,
    b: &Browser,
    landed: Landed,
    verifier: &str,
) -> serde_json::Value {
    let (status, _, html) = landed.page();
    assert_eq!(status, 200);
    assert!(html.contains("value=\"allow\""), "the consent page: {html}");
    let back = b
        .submit(&app.base, &html, &[("decision", "allow")])
        .await
        .redirect();
    assert!(back.as_str().starts_with(&rp.redirect_uri));
    assert_eq!(Landed::param(&back, "state").as_deref(), Some("st-123"));
    let code = Landed::param(&back, "code").expect("code");
    let (status, t) = redeem(app, rp, &code, verifier).await;
    assert_eq!(status, 200, "{t}");
    keys::decode_unverified(t["id_token"].as_str().unwrap())
        .unwrap()
        .1
}

/// A person sent by a service who has no account creates one and is signed in to the
/// service with it: from the login page's link, or at once with `prompt=create`
/// (Initiating User Registration via OpenID Connect 1.0). Only the browser that owns the
/// sign-in may start its registration.
async fn a_service_s_sign_in_goes_on_through_registration(app: TestApp) {
    let rp = app.confidential().await;
    // The login page's link.
    let b = Browser::new();
    let (url, verifier) = authorize_url(&app, &rp, &[]);
    let (_, _, login) = b.get(&app.base, &url).await.page();
    let link = login
        .split("href=\"")
        .filter_map(|h| h.split('"').next())
        .find(|h| h.starts_with("/interaction/") && h.ends_with("/register"))
        .expect("the login page links to a registration that goes on with the sign-in")
        .to_owned();
    // Another browser cannot start it.
    let (status, _, _) = Browser::new().get(&app.base, &app.url(&link)).await.page();
    assert_eq!(status, 403);
    let (_, _, html) = b.get(&app.base, &app.url(&link)).await.page();
    let landed = register_here(&app, &b, &html, "+79995550101").await;
    let id = finish_sign_in(&app, &rp, &b, landed, &verifier).await;
    let a = app.account("+79995550101").await;
    assert!(a.phone_verified);
    assert_eq!(id["sub"], a.id.as_str());
    assert_eq!(
        (id["acr"].as_str(), id["amr"].clone()),
        (Some("simplified"), serde_json::json!(["pwd"]))
    );
    // The new session is single sign-on for the next request of the service.
    let (url, _) = authorize_url(&app, &rp, &[("prompt", "none")]);
    let again = b.get(&app.base, &url).await.redirect();
    assert!(
        Landed::param(&again, "code").is_some(),
        "signed in: {again}"
    );

    // prompt=create: the registration comes first, even for a signed-in browser.
    let (url, verifier) = authorize_url(&app, &rp, &[("prompt", "create")]);
    let (status, _, html) = b.get(&app.base, &url).await.page();
    assert_eq!(status, 200);
    let landed = register_here(&app, &b, &html, "second@example.com").await;
    let id = finish_sign_in(&app, &rp, &b, landed, &verifier).await;
    assert_eq!(
        id["sub"],
        app.account("second@example.com").await.id.as_str()
    );
    // prompt=create with none is a contradiction.
    let (url, _) = authorize_url(&app, &rp, &[("prompt", "none create")]);
    let refused = b.get(&app.base, &url).await.redirect();
    assert_eq!(
        Landed::param(&refused, "error").as_deref(),
        Some("invalid_request")
    );
}
