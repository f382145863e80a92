//! The personal account: signing in to `/account` through the provider's own authorization
//! endpoint, the overview, and raising the level to `standard` with checked identity data
//! (per-field errors, one SNILS per account, evidence recorded, the new `acr` in ID Tokens).

use crate::helpers::*;
use crate::on_both_stores;

on_both_stores!(account_area_raises_the_level_with_checked_identity_data);

/// Opens /account in a fresh browser and signs in; returns the browser and the overview.
async fn open_account(app: &TestApp, login: &str, password: &str) -> (Browser, String) {
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

const GOOD: [(&str, &str); 8] = [
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
