//! Passkeys (W3C WebAuthn): added in the account area, then used as the second factor after
//! the password (`amr` pwd hwk user mfa, RFC 8176) or alone from the login page (`amr` hwk
//! user mfa). Refused: another origin (§7.2 step 13), a replayed challenge, a credential of
//! another account, a removed passkey, and a sign counter that went back (§6.1.1).
//! The software authenticator is `helpers::authenticator`.

use crate::helpers::*;
use serde_json::Value;

crate::on_both_stores_localhost!(
    a_passkey_is_added_then_works_after_the_password_and_alone,
    wrong_origin_replays_other_accounts_clones_and_removed_passkeys_are_refused,
    the_last_passkey_stays_while_the_password_is_short,
    a_client_requiring_mfa_accepts_a_passkey_sign_in,
);
crate::on_both_stores!(an_issuer_on_an_ip_address_says_passkeys_cannot_work_here);

pub const PASSWORD: &str = "correct horse battery";

/// Signs in to /account in a fresh browser (with `key` when the account has a passkey).
pub async fn account_browser(app: &TestApp, login: &str, key: Option<&mut SoftPasskey>) -> Browser {
    account_browser_with(app, login, PASSWORD, key).await
}

/// [`account_browser`] for an account whose password is `password`.
async fn account_browser_with(
    app: &TestApp,
    login: &str,
    password: &str,
    key: Option<&mut SoftPasskey>,
) -> Browser {
    let b = Browser::new();
    let start = b.get(&app.base, &app.url("/account")).await.page().2;
    let mut landed = b
        .submit(
            &app.base,
            &start,
            &[("login", login), ("password", password)],
        )
        .await;
    if let Some(key) = key {
        let (_, _, html) = landed.page();
        let options = page_options(&html);
        landed = answer(app, &b, &html, &key.assert(&options, &app.base))
            .await
            .0;
    }
    let (status, url, html) = landed.page();
    assert_eq!(status, 200, "{html}");
    assert!(url.ends_with("/account"), "{url}: {html}");
    b
}

/// Adds a passkey named `name` through the account area of a signed-in browser.
pub async fn add_passkey(app: &TestApp, b: &Browser, name: &str) -> SoftPasskey {
    add_passkey_with(app, b, name, PASSWORD).await
}

/// [`add_passkey`] for an account whose password is `password`.
pub(crate) async fn add_passkey_with(
    app: &TestApp,
    b: &Browser,
    name: &str,
    password: &str,
) -> SoftPasskey {
    let (_, _, html) = b.get(&app.base, &app.url("/account/passkeys")).await.page();
    let (status, _, html) = b
        .submit_form(
            &app.base,
            &html,
            "/account/passkeys/add",
            &[("name", name), ("password", password)],
        )
        .await
        .page();
    assert_eq!(status, 200, "{html}");
    let options = page_options(&html);
    let sel = &options["publicKey"]["authenticatorSelection"];
    assert_eq!(sel["residentKey"], "required", "discoverable: {options}");
    assert_eq!(sel["userVerification"], "required");
    let (key, answer) = SoftPasskey::register(&options, &app.base);
    let (status, url, html) = b
        .submit_form(
            &app.base,
            &html,
            "/account/passkeys/finish",
            &[("credential", &answer)],
        )
        .await
        .page();
    assert_eq!(status, 200, "{html}");
    assert!(
        url.ends_with("/account/passkeys") && html.contains(name),
        "{html}"
    );
    key
}

/// A user with one passkey; returns the passkey.
pub async fn passkey_user(app: &TestApp, login: &str) -> SoftPasskey {
    // A confirmed address, where the citizen is told of changes to their factors.
    app.user_with(login, PASSWORD, |a| a.email_verified = true)
        .await;
    let b = account_browser(app, login, None).await;
    add_passkey(app, &b, "Ноутбук").await
}

/// Starts a sign-in at `rp` and opens the passwordless passkey page.
async fn passwordless_page(app: &TestApp, rp: &Rp, b: &Browser) -> (String, String) {
    let (url, verifier) = authorize_url(app, rp, &[]);
    let (_, _, login) = b.get(&app.base, &url).await.page();
    let start = login
        .find("/passkey\"")
        .expect("passkey link on the login page");
    let href_start = login[..start].rfind("href=\"").unwrap() + 6;
    let href = format!("{}/passkey", &login[href_start..start]);
    let (status, _, html) = b.get(&app.base, &app.url(&href)).await.page();
    assert_eq!(status, 200, "{html}");
    (html, verifier)
}

/// Posts an answer on a passkey sign-in page; returns where it landed and the form sent.
pub async fn answer(
    app: &TestApp,
    b: &Browser,
    html: &str,
    credential: &str,
) -> (Landed, Vec<(String, String)>) {
    let mut form = hidden_inputs(html);
    form.push(("credential".into(), credential.into()));
    (post(app, b, html, &form).await, form)
}

/// Answers a passkey sign-in page with `key`, claiming `origin`.
async fn use_key(
    app: &TestApp,
    b: &Browser,
    html: &str,
    key: &mut SoftPasskey,
    origin: &str,
) -> Landed {
    answer(app, b, html, &key.assert(&page_options(html), origin))
        .await
        .0
}

async fn post(app: &TestApp, b: &Browser, html: &str, form: &[(String, String)]) -> Landed {
    let action = form_action(html).unwrap();
    let r = b
        .http
        .post(app.url(&action))
        .form(form)
        .send()
        .await
        .unwrap();
    match b.land(&app.base, r).await {
        Landed::Page(200, _, html) if html.contains("value=\"allow\"") => {
            b.submit(&app.base, &html, &[("decision", "allow")]).await
        }
        other => other,
    }
}

async fn amr_of(app: &TestApp, rp: &Rp, landed: Landed, verifier: &str) -> Value {
    let code = Landed::param(&landed.redirect(), "code").expect("code");
    let (status, t) = redeem(app, rp, &code, verifier).await;
    assert_eq!(status, 200, "{t}");
    keys::decode_unverified(t["id_token"].as_str().unwrap())
        .unwrap()
        .1["amr"]
        .clone()
}

fn refused(landed: Landed, status: u16) {
    let (s, _, html) = landed.page();
    assert_eq!(s, status, "{html}");
    assert!(html.contains("role=\"alert\""), "{html}");
}

async fn a_passkey_is_added_then_works_after_the_password_and_alone(app: TestApp) {
    let rp = app.confidential().await;
    let mut key = passkey_user(&app, "alice").await;
    let told = app.app.notifier.outbox.as_ref().unwrap().recent();
    assert!(told.iter().any(|m| m.message.kind == "factor_added"));

    // After the password, the passkey is asked for (the account has no app).
    let b = Browser::new();
    let (url, verifier) = authorize_url(&app, &rp, &[]);
    let start = b.get(&app.base, &url).await;
    let (_, _, html) = start.page();
    let (status, _, html) = b
        .submit(
            &app.base,
            &html,
            &[("login", "alice"), ("password", PASSWORD)],
        )
        .await
        .page();
    assert_eq!(status, 200);
    let options = page_options(&html);
    assert_eq!(
        options["publicKey"]["allowCredentials"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let (landed, _) = answer(&app, &b, &html, &key.assert(&options, &app.base)).await;
    let amr = amr_of(&app, &rp, landed, &verifier).await;
    assert_eq!(amr, serde_json::json!(["pwd", "hwk", "user", "mfa"]));

    // Alone, from the login page: the passkey names the account.
    let b = Browser::new();
    let (html, verifier) = passwordless_page(&app, &rp, &b).await;
    let options = page_options(&html);
    assert!(options["publicKey"]["allowCredentials"]
        .as_array()
        .is_none_or(|a| a.is_empty()));
    assert_eq!(options["publicKey"]["userVerification"], "required");
    let (landed, _) = answer(&app, &b, &html, &key.assert(&options, &app.base)).await;
    let amr = amr_of(&app, &rp, landed, &verifier).await;
    assert_eq!(amr, serde_json::json!(["hwk", "user", "mfa"]));
    // The browser is signed in: prompt=none gets a code at once.
    let (url, _) = authorize_url(&app, &rp, &[("prompt", "none")]);
    let landed = b.get(&app.base, &url).await.redirect();
    assert!(Landed::param(&landed, "code").is_some(), "{landed}");

    // The account page lists it with its last use; it can be renamed.
    let ab = account_browser(&app, "alice", Some(&mut key)).await;
    let (_, _, html) = ab
        .get(&app.base, &app.url("/account/passkeys"))
        .await
        .page();
    assert!(
        html.contains("Ноутбук")
            && !html.contains("ещё не использовался")
            && !html.contains("not used yet")
    );
    let (status, _, html) = ab
        .submit_form(
            &app.base,
            &html,
            "/account/passkeys/rename",
            &[("name", "Телефон"), ("password", PASSWORD)],
        )
        .await
        .page();
    assert_eq!(status, 200);
    assert!(
        html.contains("Телефон") && !html.contains(">Ноутбук<"),
        "{html}"
    );
}

async fn wrong_origin_replays_other_accounts_clones_and_removed_passkeys_are_refused(app: TestApp) {
    let rp = app.confidential().await;
    let mut alice = passkey_user(&app, "alice").await;
    let _bob = passkey_user(&app, "bob").await;

    // Another origin (a phishing site) is refused.
    let b = Browser::new();
    let (html, _) = passwordless_page(&app, &rp, &b).await;
    let evil = app.base.replace("localhost", "evil.localhost");
    refused(use_key(&app, &b, &html, &mut alice, &evil).await, 401);

    // A good answer signs in (consent pending); posting it again finds no challenge.
    let b = Browser::new();
    let (html, _) = passwordless_page(&app, &rp, &b).await;
    let good = alice.assert(&page_options(&html), &app.base);
    let mut form = hidden_inputs(&html);
    form.push(("credential".into(), good.clone()));
    let action = form_action(&html).unwrap();
    let r = b
        .http
        .post(app.url(&action))
        .form(&form)
        .send()
        .await
        .unwrap();
    let (status, _, consent) = b.land(&app.base, r).await.page();
    assert_eq!(status, 200);
    assert!(consent.contains("value=\"allow\""), "{consent}");
    let r = b
        .http
        .post(app.url(&action))
        .form(&form)
        .send()
        .await
        .unwrap();
    refused(b.land(&app.base, r).await, 400);
    // The same answer against a fresh challenge: refused too.
    let b = Browser::new();
    let (html, _) = passwordless_page(&app, &rp, &b).await;
    refused(answer(&app, &b, &html, &good).await.0, 401);

    // Bob's password, then Alice's passkey: refused.
    let b = Browser::new();
    let (url, _) = authorize_url(&app, &rp, &[]);
    let (_, _, html) = b.get(&app.base, &url).await.page();
    let (_, _, html) = b
        .submit(
            &app.base,
            &html,
            &[("login", "bob"), ("password", PASSWORD)],
        )
        .await
        .page();
    refused(use_key(&app, &b, &html, &mut alice, &app.base).await, 401);

    // A sign counter that went back (a cloned authenticator, §6.1.1): refused.
    let b = Browser::new();
    let (html, _) = passwordless_page(&app, &rp, &b).await;
    alice.counter = 0;
    refused(use_key(&app, &b, &html, &mut alice, &app.base).await, 401);
    alice.counter = 100;

    // Removed (with the password), the passkey no longer signs in; the citizen is told.
    let ab = account_browser(&app, "alice", Some(&mut alice)).await;
    let (_, _, html) = ab
        .get(&app.base, &app.url("/account/passkeys"))
        .await
        .page();
    let (status, _, html) = ab
        .submit_form(
            &app.base,
            &html,
            "/account/passkeys/remove",
            &[("password", "wrong")],
        )
        .await
        .page();
    assert_eq!(status, 401, "the password is needed: {html}");
    let (_, _, html) = ab
        .submit_form(
            &app.base,
            &html,
            "/account/passkeys/remove",
            &[("password", PASSWORD)],
        )
        .await
        .page();
    assert!(!html.contains("/account/passkeys/remove"), "{html}");
    let told = app.app.notifier.outbox.as_ref().unwrap().recent();
    assert!(told.iter().any(|m| m.message.kind == "passkey_removed"));
    let b = Browser::new();
    let (html, _) = passwordless_page(&app, &rp, &b).await;
    refused(use_key(&app, &b, &html, &mut alice, &app.base).await, 401);
    // And the password alone now signs Alice in (no second factor left).
    let landed = b
        .login_and_consent(
            &app.base,
            b.get(&app.base, &authorize_url(&app, &rp, &[]).0).await,
            "alice",
            PASSWORD,
        )
        .await;
    assert!(Landed::param(&landed.redirect(), "code").is_some());
}

async fn a_client_requiring_mfa_accepts_a_passkey_sign_in(app: TestApp) {
    let rp = app.confidential().await;
    sqlx::query("UPDATE clients SET require_mfa = 1 WHERE id = $1")
        .bind(&rp.id)
        .execute(&app.app.db.pool)
        .await
        .unwrap();
    let mut key = passkey_user(&app, "carol").await;
    let b = Browser::new();
    let (html, verifier) = passwordless_page(&app, &rp, &b).await;
    let landed = use_key(&app, &b, &html, &mut key, &app.base).await;
    let amr = amr_of(&app, &rp, landed, &verifier).await;
    assert!(amr.as_array().unwrap().iter().any(|a| a == "mfa"));
}

async fn an_issuer_on_an_ip_address_says_passkeys_cannot_work_here(app: TestApp) {
    let rp = app.confidential().await;
    let b = Browser::new();
    let (url, _) = authorize_url(&app, &rp, &[]);
    let (_, _, html) = b.get(&app.base, &url).await.page();
    assert!(!html.contains("/passkey\""), "no passkey link: {html}");
    let login = form_action(&html).unwrap();
    let (status, _, html) = b
        .get(&app.base, &app.url(&login.replace("/login", "/passkey")))
        .await
        .page();
    assert_eq!(status, 404);
    assert!(html.contains("IP"), "{html}");
}

/// NIST SP 800-63B §5.1.1.2: an 8-character password is allowed only beside a second factor,
/// so the only passkey of such an account cannot be removed (as with the other factors).
async fn the_last_passkey_stays_while_the_password_is_short(app: TestApp) {
    const SHORT: &str = "kW7#pq2z";
    app.user_with("carol", SHORT, |a| a.email_verified = true)
        .await;
    let b = account_browser_with(&app, "carol", SHORT, None).await;
    add_passkey_with(&app, &b, "Ключ", SHORT).await;
    let (_, _, html) = b.get(&app.base, &app.url("/account/passkeys")).await.page();
    let (status, _, html) = b
        .submit_form(
            &app.base,
            &html,
            "/account/passkeys/remove",
            &[("password", SHORT)],
        )
        .await
        .page();
    assert_eq!(status, 409, "{html}");
    assert!(html.contains("15"), "the reason is given: {html}");
    assert!(
        html.contains("/account/passkeys/remove"),
        "still there: {html}"
    );
    let told = app.app.notifier.outbox.as_ref().unwrap().recent();
    assert!(!told.iter().any(|m| m.message.kind == "passkey_removed"));
    // The personal-data export lists it (name and dates; nothing of the key).
    let r = b.http.get(app.url("/account/export")).send().await.unwrap();
    let v: serde_json::Value = r.json().await.unwrap();
    let keys = &v["second_factor"]["passkeys"];
    assert_eq!(keys.as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(keys[0]["name"], "Ключ");
    assert!(!v.to_string().contains("credential"), "{v}");
}
