//! The personal account: signing in to `/account` through the provider's own authorization
//! endpoint, the overview, and raising the level to `standard` with checked identity data
//! (per-field errors, one SNILS per account, evidence recorded, the new `acr` in ID Tokens).

use crate::helpers::*;
use crate::on_both_stores;

on_both_stores!(account_area_raises_the_level_with_checked_identity_data);

/// Opens /account in a fresh browser and signs in; returns the browser and the overview.
pub async fn open_account(app: &TestApp, login: &str, password: &str) -> (Browser, String) {
    let b = Browser::new();
    let (status, _, html) = b.get(&app.base, &app.url("/account")).await.page();
    assert_eq!(status, 200);
    assert!(html.contains("name=\"password\""), "sign-in first: {html}");
    let (status, url, html) = b
        .submit(
            &app.base,
            &html,
            &[("login", login), ("password", password)],
        )
        .await
        .page();
    assert_eq!(status, 200, "{html}");
    assert!(url.ends_with("/account"), "back at the account: {url}");
    (b, html)
}

pub(crate) const GOOD: [(&str, &str); 8] = [
    ("family_name", "Иванова"),
    ("given_name", "Алиса"),
    ("middle_name", ""),
    ("birth_date", "01.02.1990"),
    ("snils", "112-233-445 95"),
    ("passport_series", "45 08"),
    ("passport_number", "123456"),
    ("inn", "500100732259"),
];

async fn account_area_raises_the_level_with_checked_identity_data(app: TestApp) {
    let alice = app.user("alice", "correct horse battery").await;
    let (b, html) = open_account(&app, "alice", "correct horse battery").await;
    assert!(html.contains("data-level=\"simplified\""));
    assert!(html.contains("alice@example.com"));

    let (_, _, form) = b.get(&app.base, &app.url("/account/identity")).await.page();
    let bad = [
        ("family_name", "Smith"),
        ("given_name", "Алиса"),
        ("middle_name", ""),
        ("birth_date", "31.02.2000"),
        ("snils", "112-233-445 96"),
        ("passport_series", "45 0"),
        ("passport_number", "123456"),
        ("inn", "500100732258"),
    ];
    let (status, _, html) = b.submit(&app.base, &form, &bad).await.page();
    assert_eq!(status, 400);
    for field in [
        "family_name",
        "birth_date",
        "snils",
        "passport_series",
        "inn",
    ] {
        assert!(
            html.contains(&format!("id=\"{field}-error\"")),
            "{field} has its own error: {html}"
        );
    }
    assert!(html.contains("СНИЛС"), "in Russian by default");
    assert!(
        html.contains("value=\"112-233-445 96\""),
        "what was typed stays"
    );

    let landed = b.submit(&app.base, &html, &GOOD).await;
    let (_, url, html) = landed.page();
    assert!(url.ends_with("/account"), "{url}");
    assert!(html.contains("data-level=\"standard\""), "{html}");
    let row = app.app.db.identities().get(&alice).await.unwrap().unwrap();
    assert!(!String::from_utf8_lossy(&row.identity.snils_enc).contains("11223344595"));
    assert_eq!(
        idp::identity::open(
            &app.app.secrets.identity_key,
            "snils",
            &row.identity.snils_enc
        )
        .as_deref(),
        Some("11223344595")
    );
    let levels = app.app.db.identities().levels(&alice).await.unwrap();
    assert_eq!(levels.len(), 1);
    assert_eq!(levels[0].level, "standard");
    assert_eq!(levels[0].evidence["method"], "self_declared");

    // The same SNILS on another account is refused at its field.
    app.user("bob", "correct horse battery").await;
    let (b2, _) = open_account(&app, "bob", "correct horse battery").await;
    let (_, _, form) = b2
        .get(&app.base, &app.url("/account/identity"))
        .await
        .page();
    let (status, _, html) = b2.submit(&app.base, &form, &GOOD).await.page();
    assert_eq!(status, 409);
    assert!(html.contains("id=\"snils-error\""), "{html}");

    // A form from elsewhere (no CSRF token) changes nothing.
    let r = b2
        .http
        .post(app.url("/account/identity"))
        .form(&GOOD)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    // A new sign-in at a client now carries acr standard.
    let rp = app.confidential().await;
    let t = sign_in(&app, &rp, &Browser::new(), "alice", "correct horse battery").await;
    let id = keys::decode_unverified(t["id_token"].as_str().unwrap())
        .unwrap()
        .1;
    assert_eq!(id["acr"], "standard");
}

on_both_stores!(an_authenticator_app_is_added_then_asked_for_with_recovery_codes_as_a_fallback);

async fn an_authenticator_app_is_added_then_asked_for_with_recovery_codes_as_a_fallback(
    app: TestApp,
) {
    let a = idp::store::NewAccount {
        login: "carol".into(),
        password_hash: idp::password::hash("correct horse battery").unwrap(),
        email: Some("carol@example.com".into()),
        email_verified: true,
        ..Default::default()
    };
    let carol = app
        .app
        .db
        .accounts()
        .insert(&a, app.app.now())
        .await
        .unwrap();
    let (b, _) = open_account(&app, "carol", "correct horse battery").await;
    let (status, _, html) = b.get(&app.base, &app.url("/account/totp")).await.page();
    assert_eq!(status, 200);
    assert!(
        html.contains("<svg") && html.contains("<path d=\"M"),
        "a QR code"
    );
    let start = html.find("id=\"secret\">").unwrap() + 12;
    let typed = &html[start..start + html[start..].find('<').unwrap()];
    let secret = idp::totp::parse_secret(typed).unwrap();
    let now = app.app.now();
    let good = idp::totp::code_at(&secret, now);
    let wrong = if good == "000000" { "111111" } else { "000000" };
    let (status, _, html) = b.submit(&app.base, &html, &[("code", wrong)]).await.page();
    assert_eq!(status, 400);
    let (status, _, html) = b.submit(&app.base, &html, &[("code", &good)]).await.page();
    assert_eq!(status, 200);
    let codes: Vec<String> = html
        .split("<code>")
        .skip(1)
        .filter_map(|s| s.split("</code>").next())
        .map(str::to_owned)
        .collect();
    assert_eq!(codes.len(), 10, "ten recovery codes, shown once: {html}");
    assert!(app
        .app
        .db
        .accounts()
        .get(&carol)
        .await
        .unwrap()
        .unwrap()
        .totp_secret
        .is_some());
    let told = app.app.notifier.outbox.as_ref().unwrap().recent();
    assert!(told.iter().any(|m| m.message.kind == "factor_added"
        && m.message.to == idp::notify::Recipient::Email("carol@example.com".into())));
    // Once on, the enrolment page sends back to the account.
    let (_, url, _) = b.get(&app.base, &app.url("/account/totp")).await.page();
    assert!(url.ends_with("/account"));

    // Signing in to a client now asks for a code; a recovery code works once.
    let rp = app.confidential().await;
    for (code, expect) in [(&codes[0], 200), (&codes[0], 401), (&good, 401)] {
        let b = Browser::new();
        let (url, verifier) = authorize_url(&app, &rp, &[]);
        let (_, _, html) = b.get(&app.base, &url).await.page();
        let (_, _, html) = b
            .submit(
                &app.base,
                &html,
                &[("login", "carol"), ("password", "correct horse battery")],
            )
            .await
            .page();
        assert!(html.contains("name=\"code\""));
        let after = b.submit(&app.base, &html, &[("code", code)]).await;
        let landed = match after {
            Landed::Page(200, _, html) if html.contains("value=\"allow\"") => b
                .submit(&app.base, &html, &[("decision", "allow")])
                .await
                .redirect(),
            Landed::Page(status, _, _) => {
                assert_eq!(status, expect, "{code}");
                continue;
            }
            Landed::Redirect(u) => u,
        };
        assert_eq!(expect, 200, "{code} was accepted");
        let c = Landed::param(&landed, "code").unwrap();
        let (status, t) = redeem(&app, &rp, &c, &verifier).await;
        assert_eq!(status, 200);
        let id = keys::decode_unverified(t["id_token"].as_str().unwrap())
            .unwrap()
            .1;
        assert_eq!(id["amr"], serde_json::json!(["pwd", "otp", "mfa"]));
    }
    assert_eq!(
        app.app.db.recovery_codes().remaining(&carol).await.unwrap(),
        9
    );
}

on_both_stores!(revoking_a_service_in_the_account_ends_its_refresh_tokens_and_consent);

async fn revoking_a_service_in_the_account_ends_its_refresh_tokens_and_consent(app: TestApp) {
    app.user("dave", "correct horse battery").await;
    let rp = app.confidential().await;
    let t = sign_in(&app, &rp, &Browser::new(), "dave", "correct horse battery").await;
    let rt = t["refresh_token"].as_str().unwrap().to_owned();
    let access = t["access_token"].as_str().unwrap().to_owned();

    let (b, _) = open_account(&app, "dave", "correct horse battery").await;
    let (_, _, html) = b.get(&app.base, &app.url("/account/services")).await.page();
    assert!(
        html.contains(&format!("data-client=\"{}\"", rp.id)),
        "the service is listed: {html}"
    );
    assert!(
        html.contains("Test &lt;Service&gt; &amp; Co"),
        "by name, escaped"
    );
    // Since when: a date and time for people, not the raw unix time.
    let dave = app.account("dave").await;
    let granted = app
        .app
        .db
        .consents()
        .get(&dave.id, &rp.id)
        .await
        .unwrap()
        .unwrap()
        .granted_at;
    let (y, m, d) = idp::identity::civil_date(granted);
    let (h, min) = (granted.rem_euclid(86_400) / 3600, granted % 3600 / 60);
    assert!(
        html.contains(&format!(">{y:04}-{m:02}-{d:02} {h:02}:{min:02}</time>")),
        "the date is shown: {html}"
    );
    assert!(!html.contains(&format!(">{granted}<")), "no raw unix time");
    let (status, _, html) = b.submit_form(&app.base, &html, "/revoke", &[]).await.page();
    assert_eq!(status, 200);
    assert!(!html.contains(&format!("data-client=\"{}\"", rp.id)));

    // The refresh token and the access token stop working; the next sign-in asks again.
    let (status, v) = refresh(&app, &rp, &rt).await;
    assert_eq!(status, 400);
    assert_eq!(v["error"], "invalid_grant");
    let r = http()
        .get(app.url("/userinfo"))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let consent = app
        .app
        .db
        .consents()
        .get(&app.account("dave").await.id, &rp.id)
        .await
        .unwrap();
    assert!(consent.is_none(), "consent forgotten");
}

on_both_stores!(sign_ins_are_listed_new_devices_noticed_and_data_exported);

async fn sign_ins_are_listed_new_devices_noticed_and_data_exported(app: TestApp) {
    app.user_with("kate", "correct horse battery", |a| a.email_verified = true)
        .await;
    let rp = app.confidential().await;
    let notices = |app: &TestApp| {
        app.app
            .notifier
            .outbox
            .as_ref()
            .unwrap()
            .recent()
            .iter()
            .filter(|m| m.message.kind == "new_device")
            .count()
    };
    let a = Browser::new();
    sign_in(&app, &rp, &a, "kate", "correct horse battery").await;
    assert_eq!(notices(&app), 0, "the very first sign-in is not news");
    // The same browser again (its session is fresh, so force a new sign-in).
    let (url, verifier) = authorize_url(&app, &rp, &[("prompt", "login")]);
    let landed = a
        .sign_in_at(&app.base, &url, "kate", "correct horse battery")
        .await;
    let (status, _) = redeem(
        &app,
        &rp,
        &Landed::param(&landed, "code").unwrap(),
        &verifier,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(notices(&app), 0, "a known browser is not news");
    sign_in(&app, &rp, &Browser::new(), "kate", "correct horse battery").await;
    assert_eq!(notices(&app), 1, "a new browser is");

    let (b, _) = open_account(&app, "kate", "correct horse battery").await;
    let (status, _, html) = b.get(&app.base, &app.url("/account/history")).await.page();
    assert_eq!(status, 200);
    assert!(
        html.matches("<tr>").count() == 5,
        "header and four sign-ins: {html}"
    );
    assert!(html.contains("pwd") && html.contains("127.0.0.1"));

    let r = b.http.get(app.url("/account/export")).send().await.unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["account"]["login"], "kate");
    assert_eq!(v["sign_ins"].as_array().unwrap().len(), 4);
    assert_eq!(v["services"][0]["client_id"], rp.id.as_str());
    assert!(v.to_string().find("argon2").is_none(), "no password hash");
    // Without a session the export is not given out.
    let r = http().get(app.url("/account/export")).send().await.unwrap();
    assert!(r.status().is_redirection(), "{}", r.status());
}

on_both_stores!(deleting_the_account_needs_both_factors_and_ends_everything);

async fn deleting_the_account_needs_both_factors_and_ends_everything(app: TestApp) {
    const SECRET: &[u8] = b"12345678901234567890";
    let sealed = idp::totp::seal(&app.app.secrets.factor_key, SECRET);
    let id = app
        .user_with("liam", "correct horse battery", |a| {
            a.email_verified = true;
            a.totp_secret = Some(sealed);
        })
        .await;
    let rp = app.confidential().await;
    // A client holds a refresh token.
    let b0 = Browser::new();
    let (url, verifier) = authorize_url(&app, &rp, &[]);
    let (_, _, html) = b0.get(&app.base, &url).await.page();
    let (_, _, html) = b0
        .submit(
            &app.base,
            &html,
            &[("login", "liam"), ("password", "correct horse battery")],
        )
        .await
        .page();
    let now = app.app.now();
    let landed = b0
        .submit_and_allow(
            &app.base,
            &html,
            &[("code", &idp::totp::code_at(SECRET, now - 30))],
        )
        .await
        .redirect();
    let (_, t) = redeem(
        &app,
        &rp,
        &Landed::param(&landed, "code").unwrap(),
        &verifier,
    )
    .await;
    let rt = t["refresh_token"].as_str().unwrap().to_owned();

    // The account area, signed in with both factors.
    let b = Browser::new();
    let (_, _, html) = b.get(&app.base, &app.url("/account")).await.page();
    let (_, _, html) = b
        .submit(
            &app.base,
            &html,
            &[("login", "liam"), ("password", "correct horse battery")],
        )
        .await
        .page();
    let (_, _, _) = b
        .submit(
            &app.base,
            &html,
            &[("code", &idp::totp::code_at(SECRET, now))],
        )
        .await
        .page();
    let (status, _, form) = b.get(&app.base, &app.url("/account/delete")).await.page();
    assert_eq!(status, 200);
    assert!(form.contains("name=\"code\""), "the second factor is asked");
    let next = idp::totp::code_at(SECRET, now + 30);
    for (pw, code) in [
        ("wrong password!", next.as_str()),
        ("correct horse battery", "000000"),
    ] {
        let (status, _, _) = b
            .submit(&app.base, &form, &[("password", pw), ("code", code)])
            .await
            .page();
        assert_eq!(status, 401, "{pw} / {code}");
    }
    assert!(app.app.db.accounts().get(&id).await.unwrap().is_some());
    let (status, _, html) = b
        .submit(
            &app.base,
            &form,
            &[("password", "correct horse battery"), ("code", &next)],
        )
        .await
        .page();
    assert_eq!(status, 200, "{html}");
    assert!(app.app.db.accounts().get(&id).await.unwrap().is_none());
    let told = app.app.notifier.outbox.as_ref().unwrap().recent();
    assert!(told.iter().any(|m| m.message.kind == "account_deleted"));
    let (status, v) = refresh(&app, &rp, &rt).await;
    assert_eq!(
        (status, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "the client's refresh token is dead"
    );
    // The account area's session ended too.
    let (_, _, html) = b.get(&app.base, &app.url("/account")).await.page();
    assert!(html.contains("name=\"password\""), "signed out");
}

on_both_stores!(active_sign_ins_are_listed_and_one_can_be_signed_out);

async fn active_sign_ins_are_listed_and_one_can_be_signed_out(app: TestApp) {
    app.user("mia", "correct horse battery").await;
    let (a, _) = open_account(&app, "mia", "correct horse battery").await;
    let (b, _) = open_account(&app, "mia", "correct horse battery").await;
    let (status, _, html) = a.get(&app.base, &app.url("/account/sessions")).await.page();
    assert_eq!(status, 200);
    assert_eq!(html.matches("data-sid=").count(), 2, "{html}");
    assert_eq!(
        html.matches("/account/sessions/end\"").count(),
        1,
        "this browser is not offered"
    );
    let (status, _, html) = a
        .submit_form(&app.base, &html, "/sessions/end", &[])
        .await
        .page();
    assert_eq!(status, 200);
    assert_eq!(html.matches("data-sid=").count(), 1);
    // The other browser is signed out; this one is not.
    let (_, _, page) = b.get(&app.base, &app.url("/account")).await.page();
    assert!(page.contains("name=\"password\""), "b must sign in again");
    let (_, _, page) = a.get(&app.base, &app.url("/account")).await.page();
    assert!(page.contains("data-level="), "a is still signed in");
}
