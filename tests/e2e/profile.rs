//! The profile in the personal account: names editable until a level confirms them; a new
//! e-mail address or phone applied only after its code (registration's code rules), with
//! the password asked first, the old address told, a taken address answered exactly like a
//! free one, and the only confirmed contact impossible to remove.

use crate::account::open_account;
use crate::helpers::*;
use crate::on_both_stores;
use crate::register::{last_code, messages_to};

on_both_stores!(
    a_new_email_needs_the_password_and_its_code_and_the_old_one_is_told,
    wrong_expired_and_exhausted_codes_change_nothing,
    a_taken_address_looks_the_same_and_no_code_works,
    the_only_confirmed_contact_cannot_be_removed,
    names_are_editable_until_a_level_confirms_them,
);

const PW: &str = "correct horse battery";

/// An account whose login is its confirmed e-mail address, with a confirmed phone when
/// `phone` is true; signed in to the profile page.
async fn profile_of(app: &TestApp, email: &str, phone: bool) -> (String, Browser, String) {
    let id = app
        .user_with(email, PW, |a| {
            a.email = Some(email.into());
            a.email_verified = true;
            a.phone_verified = phone;
            if !phone {
                a.phone = None;
            }
        })
        .await;
    let (b, _) = open_account(app, email, PW).await;
    let (status, _, html) = b.get(&app.base, &app.url("/account/profile")).await.page();
    assert_eq!(status, 200, "{html}");
    (id, b, html)
}

async fn account(app: &TestApp, id: &str) -> idp::store::Account {
    app.app.db.accounts().get(id).await.unwrap().unwrap()
}

/// Posts `fields` and the page's CSRF token to `path`.
async fn post(
    app: &TestApp,
    b: &Browser,
    html: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> (u16, String, String) {
    let mut form = vec![("csrf", hidden(html, "csrf").expect("csrf").to_string())];
    form.extend(fields.iter().map(|(k, v)| (*k, v.to_string())));
    let r = b.http.post(app.url(path)).form(&form).send().await.unwrap();
    b.land(&app.base, r).await.page()
}

/// A code that is not `code`.
fn other_than(code: &str) -> &'static str {
    if code == "111111" {
        "222222"
    } else {
        "111111"
    }
}

async fn a_new_email_needs_the_password_and_its_code_and_the_old_one_is_told(app: TestApp) {
    let (id, b, html) = profile_of(&app, "alice@example.com", false).await;
    assert!(html.contains("alice@example.com"), "{html}");

    // The wrong password sends nothing.
    let change = [
        ("contact", " New@Example.COM "),
        ("password", "wrong password here"),
    ];
    let (status, _, page) = post(&app, &b, &html, "/account/profile/contact", &change).await;
    assert_eq!(status, 401, "{page}");
    assert!(messages_to(&app, "new@example.com").is_empty());

    let change = [("contact", " New@Example.COM "), ("password", PW)];
    let (status, _, page) = post(&app, &b, &html, "/account/profile/contact", &change).await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("id=\"pending\""), "{page}");
    let code = last_code(&app, "new@example.com");
    // Nothing changes before the code.
    assert_eq!(
        account(&app, &id).await.email.as_deref(),
        Some("alice@example.com")
    );

    let (status, _, page) = post(
        &app,
        &b,
        &html,
        "/account/profile/code",
        &[("code", other_than(&code))],
    )
    .await;
    assert_eq!(status, 400, "{page}");
    assert_eq!(
        account(&app, &id).await.email.as_deref(),
        Some("alice@example.com")
    );

    let (status, url, page) =
        post(&app, &b, &html, "/account/profile/code", &[("code", &code)]).await;
    assert_eq!(status, 200, "{page}");
    assert!(url.ends_with("/account/profile"), "{url}");
    let a = account(&app, &id).await;
    assert_eq!(a.email.as_deref(), Some("new@example.com"));
    assert!(a.email_verified);
    assert_eq!(a.login, "new@example.com", "the login follows the address");
    assert!(page.contains("new@example.com"));

    // The old address is told; the new one too (it is now confirmed).
    let told = |to: &str| {
        messages_to(&app, to)
            .iter()
            .filter(|m| m["kind"] == "contact_changed")
            .count()
    };
    assert_eq!(told("alice@example.com"), 1);
    assert_eq!(told("new@example.com"), 1);

    // The code is spent: it applies nothing twice.
    let (status, _, _) = post(&app, &b, &html, "/account/profile/code", &[("code", &code)]).await;
    assert_eq!(status, 400);

    // The new address signs in; the old one no longer does.
    let rp = app.confidential().await;
    sign_in(&app, &rp, &Browser::new(), "new@example.com", PW).await;
    assert!(app
        .app
        .db
        .accounts()
        .by_login("alice@example.com")
        .await
        .unwrap()
        .is_none());

    // A form from elsewhere (no CSRF token) changes nothing.
    let r = b
        .http
        .post(app.url("/account/profile/contact"))
        .form(&[("contact", "evil@example.com"), ("password", PW)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    assert!(messages_to(&app, "evil@example.com").is_empty());
}

async fn wrong_expired_and_exhausted_codes_change_nothing(app: TestApp) {
    let (id, b, html) = profile_of(&app, "bob@example.com", false).await;
    let change = [("contact", "8 (999) 111-22-33"), ("password", PW)];
    let (status, _, _) = post(&app, &b, &html, "/account/profile/contact", &change).await;
    assert_eq!(status, 200);
    let code = last_code(&app, "+79991112233");

    // A resend at once is throttled, as in registration.
    let (status, _, page) = post(&app, &b, &html, "/account/profile/resend", &[]).await;
    assert_eq!(status, 429, "{page}");

    // Ten minutes later the code has expired.
    app.clock.advance(601);
    let (status, _, page) =
        post(&app, &b, &html, "/account/profile/code", &[("code", &code)]).await;
    assert_eq!(status, 400, "{page}");
    assert!(account(&app, &id).await.phone.is_none());

    // A new code; five wrong attempts use it up, and then even the right one fails.
    let (status, _, _) = post(&app, &b, &html, "/account/profile/resend", &[]).await;
    assert_eq!(status, 200);
    let code = last_code(&app, "+79991112233");
    let mut last = 0;
    for _ in 0..5 {
        last = post(
            &app,
            &b,
            &html,
            "/account/profile/code",
            &[("code", other_than(&code))],
        )
        .await
        .0;
    }
    assert_eq!(last, 429);
    let (status, _, _) = post(&app, &b, &html, "/account/profile/code", &[("code", &code)]).await;
    assert_eq!(status, 429);
    let a = account(&app, &id).await;
    assert!(a.phone.is_none() && !a.phone_verified);

    // Cancelled, the change is gone.
    let (status, _, page) = post(&app, &b, &html, "/account/profile/cancel", &[]).await;
    assert_eq!(status, 200);
    assert!(!page.contains("id=\"pending\""), "{page}");
}

async fn a_taken_address_looks_the_same_and_no_code_works(app: TestApp) {
    app.user_with("carol@example.com", PW, |a| {
        a.email = Some("carol@example.com".into())
    })
    .await;
    let (id, b, html) = profile_of(&app, "dan@example.com", false).await;
    let free = [("contact", "free@example.com"), ("password", PW)];
    let (free_status, _, free_page) =
        post(&app, &b, &html, "/account/profile/contact", &free).await;
    post(&app, &b, &html, "/account/profile/cancel", &[]).await;
    let taken = [("contact", "carol@example.com"), ("password", PW)];
    let (status, _, page) = post(&app, &b, &html, "/account/profile/contact", &taken).await;
    assert_eq!((status, free_status), (200, 200));
    let shape = |p: &str| {
        p.replace("free@example.com", "X")
            .replace("carol@example.com", "X")
    };
    let strip_csrf = |p: String| {
        p.lines()
            .filter(|l| !l.contains("csrf"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(
        strip_csrf(shape(&page)),
        strip_csrf(shape(&free_page)),
        "the same page"
    );
    // The owner of the address is warned; no code is in the message.
    let to_carol = messages_to(&app, "carol@example.com");
    assert_eq!(to_carol.len(), 1);
    assert_eq!(to_carol[0]["kind"], "contact_change_attempt");
    assert!(!to_carol[0]["text"]
        .as_str()
        .unwrap()
        .chars()
        .any(|c| c.is_ascii_digit()));
    for code in ["000000", "123456", "999999"] {
        let (status, _, _) =
            post(&app, &b, &html, "/account/profile/code", &[("code", code)]).await;
        assert_eq!(status, 400);
    }
    assert_eq!(
        account(&app, &id).await.email.as_deref(),
        Some("dan@example.com")
    );
}

async fn the_only_confirmed_contact_cannot_be_removed(app: TestApp) {
    let (id, b, html) = profile_of(&app, "erin@example.com", false).await;
    let (status, _, page) = post(
        &app,
        &b,
        &html,
        "/account/profile/remove",
        &[("kind", "email"), ("password", PW)],
    )
    .await;
    assert_eq!(status, 409, "{page}");
    assert_eq!(
        account(&app, &id).await.email.as_deref(),
        Some("erin@example.com")
    );

    // With a confirmed phone beside it, the e-mail can go, and the login moves to the phone.
    let (id, b, html) = profile_of(&app, "fay@example.com", true).await;
    let wrong = [("kind", "email"), ("password", "not the password at all")];
    let (status, _, _) = post(&app, &b, &html, "/account/profile/remove", &wrong).await;
    assert_eq!(status, 401);
    let (status, _, page) = post(
        &app,
        &b,
        &html,
        "/account/profile/remove",
        &[("kind", "email"), ("password", PW)],
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let a = account(&app, &id).await;
    assert!(a.email.is_none() && !a.email_verified);
    assert_eq!(a.login, "+79990001122");
    assert!(messages_to(&app, "fay@example.com")
        .iter()
        .any(|m| m["kind"] == "contact_changed"));
    // And now the phone is the only one left.
    let (status, _, _) = post(
        &app,
        &b,
        &html,
        "/account/profile/remove",
        &[("kind", "phone"), ("password", PW)],
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(
        account(&app, &id).await.phone.as_deref(),
        Some("+79990001122")
    );
}

async fn names_are_editable_until_a_level_confirms_them(app: TestApp) {
    let (id, b, html) = profile_of(&app, "gia@example.com", false).await;
    assert!(html.contains("action=\"/account/profile/name\""), "{html}");
    let names = [
        ("name", "Гия  Иванова"),
        ("given_name", "Гия"),
        ("family_name", "Иванова-Петрова"),
    ];
    let (status, _, page) = post(&app, &b, &html, "/account/profile/name", &names).await;
    assert_eq!(status, 200, "{page}");
    let a = account(&app, &id).await;
    assert_eq!(a.name.as_deref(), Some("Гия Иванова"));
    assert_eq!(a.family_name.as_deref(), Some("Иванова-Петрова"));
    let bad = [
        ("name", "<script>"),
        ("given_name", "Гия"),
        ("family_name", ""),
    ];
    let (status, _, page) = post(&app, &b, &html, "/account/profile/name", &bad).await;
    assert_eq!(status, 400);
    assert!(!page.contains("<script>"));
    assert_eq!(
        account(&app, &id).await.name.as_deref(),
        Some("Гия Иванова")
    );

    // At level standard the names are shown read-only and a posted change is refused.
    app.app
        .db
        .identities()
        .record_level(
            &id,
            "standard",
            &serde_json::json!({"method": "test"}),
            app.app.now(),
        )
        .await
        .unwrap();
    let (_, _, page) = b.get(&app.base, &app.url("/account/profile")).await.page();
    assert!(
        page.contains("data-locked=\"true\"") && page.contains("id=\"names-locked\""),
        "{page}"
    );
    assert!(!page.contains("action=\"/account/profile/name\""));
    let (status, _, _) = post(
        &app,
        &b,
        &page,
        "/account/profile/name",
        &[("name", "Другое Имя")],
    )
    .await;
    assert_eq!(status, 409);
    assert_eq!(
        account(&app, &id).await.name.as_deref(),
        Some("Гия Иванова")
    );
    assert_eq!(account(&app, &id).await.level, "standard");
}
