//! Bad input never gets a 5xx; failed sign-ins make the login wait longer each time (in the
//! shared cache, unknown logins alike) and a hundred in a row lock the account.

use crate::helpers::*;
use crate::on_both_stores;

on_both_stores!(
    failed_sign_ins_make_the_login_wait_longer_each_time,
    a_hundred_failures_in_a_row_lock_the_account_and_tell_the_citizen,
    a_wrong_password_is_answered_before_the_account_s_count_is_written,
);

async fn try_login(app: &TestApp, b: &Browser, html: &str, login: &str, pw: &str) -> u16 {
    match b
        .submit(&app.base, html, &[("login", login), ("password", pw)])
        .await
    {
        Landed::Page(s, _, _) => s,
        Landed::Redirect(_) => 302,
    }
}

async fn failed_sign_ins_make_the_login_wait_longer_each_time(app: TestApp) {
    let rp = app.confidential().await;
    app.user("alice", "correct horse battery").await;
    let b = Browser::new();
    let (url, _) = authorize_url(&app, &rp, &[("ui_locales", "en")]);
    let (_, _, html) = b.get(&app.base, &url).await.page();
    for _ in 0..5 {
        assert_eq!(
            try_login(&app, &b, &html, "alice", "guess guess guess").await,
            401
        );
    }
    // The fifth failure starts a 30-second wait, even for the right password.
    let (s, _, page) = b
        .submit(
            &app.base,
            &html,
            &[("login", "alice"), ("password", "correct horse battery")],
        )
        .await
        .page();
    assert_eq!(s, 429);
    assert!(page.contains("Too many attempts"));
    // An unknown login waits exactly the same way.
    for _ in 0..5 {
        assert_eq!(
            try_login(&app, &b, &html, "nobody", "guess guess guess").await,
            401
        );
    }
    assert_eq!(
        try_login(&app, &b, &html, "nobody", "guess guess guess").await,
        429
    );
    // After the wait, one more failure doubles it (60 s): 31 s later it still waits.
    app.clock.advance(31);
    assert_eq!(
        try_login(&app, &b, &html, "alice", "guess guess guess").await,
        401
    );
    app.clock.advance(31);
    assert_eq!(
        try_login(&app, &b, &html, "alice", "correct horse battery").await,
        429
    );
    app.clock.advance(30);
    // Another login from the same browser is not affected meanwhile.
    app.user("bob", "another horse battery").await;
    assert_ne!(
        try_login(&app, &b, &html, "bob", "another horse battery").await,
        429
    );
    // The right password after the wait signs in and clears the streak.
    let b2 = Browser::new();
    let (_, _, html2) = b2.get(&app.base, &url).await.page();
    assert_ne!(
        try_login(&app, &b2, &html2, "alice", "correct horse battery").await,
        429
    );
    let a = app.account("alice").await;
    assert_eq!(a.failed_logins, 0);
}

async fn a_hundred_failures_in_a_row_lock_the_account_and_tell_the_citizen(app: TestApp) {
    let rp = app.confidential().await;
    let id = app
        .user_with("carol", "correct horse battery", |a| {
            a.email_verified = true
        })
        .await;
    // 99 failures already (spread over days, as the growing waits force).
    sqlx::query("UPDATE accounts SET failed_logins = 99 WHERE id = $1")
        .bind(&id)
        .execute(&app.app.db.pool)
        .await
        .unwrap();
    let b = Browser::new();
    let (url, _) = authorize_url(&app, &rp, &[("ui_locales", "en")]);
    let (_, _, html) = b.get(&app.base, &url).await.page();
    assert_eq!(
        try_login(&app, &b, &html, "carol", "guess guess guess").await,
        401
    );
    // The count towards the lock is written just after the answer.
    let t = &app;
    eventually(
        "the hundredth failure locks and tells the citizen",
        move || async move {
            let told = t.app.notifier.outbox.as_ref().unwrap().recent();
            t.account("carol").await.locked_at.is_some()
                && told.iter().any(|m| {
                    m.message.kind == "account_locked"
                        && m.message.to == idp::notify::Recipient::Email("carol@example.com".into())
                })
        },
    )
    .await;
    // Even the right password does not sign in, and says why.
    let (s, _, page) = b
        .submit(
            &app.base,
            &html,
            &[("login", "carol"), ("password", "correct horse battery")],
        )
        .await
        .page();
    assert_eq!(s, 403);
    assert!(page.contains("locked"), "{page}");
    // Unlocked (as a password reset or an operator does), it signs in again.
    app.app.db.accounts().clear_failures(&id).await.unwrap();
    let t = sign_in(&app, &rp, &Browser::new(), "carol", "correct horse battery").await;
    assert!(t["id_token"].is_string());
}

/// A wrong password for a real account answers without waiting for the database write of
/// the account's failure count, which unknown logins do not make: waiting for it let the
/// answer's timing tell which logins exist.
async fn a_wrong_password_is_answered_before_the_account_s_count_is_written(app: TestApp) {
    let rp = app.confidential().await;
    let id = app.user("dora", "correct horse battery").await;
    let b = Browser::new();
    let (url, _) = authorize_url(&app, &rp, &[("ui_locales", "en")]);
    let (_, _, html) = b.get(&app.base, &url).await.page();
    // Another writer holds the account's row (PostgreSQL) or the database's write lock
    // (SQLite, where the server retries a busy write for 5 s before giving up).
    let mut holder = app.app.db.pool.begin().await.unwrap();
    sqlx::query("UPDATE accounts SET failed_logins = failed_logins WHERE id = $1")
        .bind(&id)
        .execute(&mut *holder)
        .await
        .unwrap();
    let answered = tokio::time::timeout(
        std::time::Duration::from_secs(4),
        try_login(&app, &b, &html, "dora", "guess guess guess"),
    )
    .await
    .expect("the wrong password was answered while the account's row was held");
    assert_eq!(answered, 401);
    assert_eq!(app.account("dora").await.failed_logins, 0);
    // Shutdown waits for the count while the row is held, and the failure is counted once
    // the row is free.
    let shutdown = shutdown_waiting_for(&app, "the count").await;
    holder.rollback().await.unwrap();
    assert!(
        shutdown.await.unwrap(),
        "the count finished within the grace period"
    );
    assert_eq!(app.account("dora").await.failed_logins, 1);
    // A second failure adds to it; the right password then clears the count.
    assert_eq!(
        try_login(&app, &b, &html, "dora", "guess guess guess").await,
        401
    );
    let t = &app;
    eventually("the second failure is counted", move || async move {
        t.account("dora").await.failed_logins == 2
    })
    .await;
    sign_in(&app, &rp, &Browser::new(), "dora", "correct horse battery").await;
    assert_eq!(app.account("dora").await.failed_logins, 0);
}

#[tokio::test]
async fn garbage_on_every_endpoint_is_a_4xx_never_a_5xx() {
    let app = spawn_app(Store::Embedded).await.unwrap();
    let rp = app.confidential().await;
    let garbage: Vec<Vec<u8>> = vec![
        b"".to_vec(),
        b"%%%%".to_vec(),
        vec![0xff, 0xfe, 0x00, 0x80],
        b"a=1&a=2&b".to_vec(),
        b"grant_type=authorization_code&code=%00%ff&redirect_uri=%zz".to_vec(),
        b"token=eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.&token_type_hint=access_token".to_vec(),
        format!("client_id={}&client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer&client_assertion=a.b.c", rp.id).into_bytes(),
        "x=".repeat(20_000).into_bytes(),
        b"{\"json\": true}".to_vec(),
    ];
    let paths = [
        "/authorize",
        "/token",
        "/userinfo",
        "/introspect",
        "/revoke",
        "/logout",
        "/interaction/nope/login",
        "/interaction/nope/totp",
        "/interaction/nope/consent",
        "/interaction/nope/otp",
        "/interaction/nope/resend",
        "/interaction/nope/method",
        "/interaction/nope/switch",
        "/register",
        "/register/nope/contact",
        "/register/nope/code",
        "/register/nope/resend",
        "/register/nope/password",
        "/recover",
        "/recover/nope/login",
        "/recover/nope/code",
        "/recover/nope/factor",
        "/recover/nope/password",
        "/account",
        "/account/identity",
        "/account/totp",
        "/account/services/revoke",
        "/account/sessions/end",
        "/account/sessions/end-others",
        "/account/delete",
        "/account/export",
        "/account/factors",
        "/account/factors/add",
        "/account/factors/confirm",
        "/account/factors/remove",
        "/account/profile",
        "/account/profile/name",
        "/account/profile/contact",
        "/account/profile/code",
        "/account/profile/resend",
        "/account/profile/cancel",
        "/account/profile/remove",
        "/account/notifications",
        "/dev/outbox",
    ];
    let client = http();
    for path in paths {
        for body in &garbage {
            for ct in [
                "application/x-www-form-urlencoded",
                "application/json",
                "text/plain",
            ] {
                let r = client
                    .post(app.url(path))
                    .header("content-type", ct)
                    .header("authorization", "Basic %%%")
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                assert!(
                    !r.status().is_server_error(),
                    "POST {path} ({ct}) answered {}",
                    r.status()
                );
            }
        }
        let q = "?client_id=%ff&redirect_uri=%00&response_type=code&claims=%7B&max_age=99999999999999999999&prompt=none&prompt=login";
        let r = client
            .get(format!("{}{path}{q}", app.base))
            .header("authorization", "Bearer not-a-token")
            .send()
            .await
            .unwrap();
        assert!(
            !r.status().is_server_error(),
            "GET {path} answered {}",
            r.status()
        );
    }
    let r = client
        .get(app.url("/interaction/%ff%fe"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error());
    let long = format!("/interaction/{}", "a".repeat(5000));
    assert!(client
        .get(app.url(&long))
        .send()
        .await
        .unwrap()
        .status()
        .is_client_error());
}

/// Values a form field should never turn into a 5xx.
const NASTY: &[&str] = &[
    "",
    "\0\0\0",
    "%ff%fe",
    "<script>alert(1)</script>",
    "'; DROP TABLE accounts; --",
    "😀😀😀 ё Ё \u{202e}",
    "999999999999999999999999999999",
    "-1",
];

/// Submits every form on `html` once per nasty value, in every field at once; asserts no
/// answer is a 5xx.
async fn nasty_forms(app: &TestApp, b: &Browser, html: &str, what: &str) {
    let long = "я".repeat(8000);
    let fields: Vec<String> = html
        .split("name=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .filter(|n| *n != "csrf")
        .map(str::to_owned)
        .collect();
    for v in NASTY.iter().copied().chain([long.as_str()]) {
        let form: Vec<(&str, &str)> = fields.iter().map(|f| (f.as_str(), v)).collect();
        let landed = b.submit(&app.base, html, &form).await;
        if let Landed::Page(status, url, body) = landed {
            assert!(status < 500, "{what}: {status} at {url} for {v:?}: {body}");
        }
    }
}

#[tokio::test]
async fn nasty_values_in_real_forms_are_never_a_5xx() {
    let app = spawn_app(Store::Embedded).await.unwrap();
    app.user_with("alice", "correct horse battery", |a| {
        a.phone_verified = true
    })
    .await;
    // Registration and recovery, at their first step and with a valid flow.
    for (start, what) in [("/register", "registration"), ("/recover", "recovery")] {
        let b = Browser::new();
        let (_, _, html) = b.get(&app.base, &app.url(start)).await.page();
        nasty_forms(&app, &b, &html, what).await;
    }
    let b = Browser::new();
    let (_, _, html) = b.get(&app.base, &app.url("/register")).await.page();
    let (_, _, code_page) = b
        .submit(&app.base, &html, &[("contact", "new@example.com")])
        .await
        .page();
    nasty_forms(&app, &b, &code_page, "registration code").await;
    // The sign-in form, then every form of the personal account, signed in.
    let b = Browser::new();
    let (_, _, html) = b.get(&app.base, &app.url("/account")).await.page();
    nasty_forms(&app, &b, &html, "sign-in").await;
    app.clock.advance(3600); // past the waits the failures above started
    let (_, _, html) = b.get(&app.base, &app.url("/account")).await.page();
    let (status, _, _) = b
        .submit(
            &app.base,
            &html,
            &[("login", "alice"), ("password", "correct horse battery")],
        )
        .await
        .page();
    assert_eq!(status, 200);
    for path in [
        "/account/identity",
        "/account/totp",
        "/account/delete",
        "/account/factors",
        "/account/profile",
        "/account/notifications",
    ] {
        let (_, _, html) = b.get(&app.base, &app.url(path)).await.page();
        nasty_forms(&app, &b, &html, path).await;
    }
    // Still signed in and served.
    let r = b.http.get(app.url("/account/export")).send().await.unwrap();
    assert_eq!(r.status(), 200);
}
