//! Device Authorization Grant (RFC 8628): a device asks for a device code and a user code,
//! the person types the user code at `/device` in a browser, signs in and approves on a
//! consent page that warns about codes from others, and the polling device gets its tokens
//! once; `authorization_pending`, `slow_down`, `access_denied`, `expired_token` and the
//! RFC 6749 errors on the way.

use crate::helpers::*;
use crate::on_both_stores;
use idp::oauth::types::GrantType;
use serde_json::Value;

const PW: &str = "correct horse battery";
const GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// `form` POSTed to `path` as `rp`: with HTTP Basic, or for a public client with its
/// `client_id` in the form.
async fn post_by(app: &TestApp, rp: &Rp, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    if rp.secret.is_some() {
        return post_as(app, rp, path, form).await;
    }
    let mut form = form.to_vec();
    form.push(("client_id", &rp.id));
    http()
        .post(app.url(path))
        .form(&form)
        .send()
        .await
        .expect("request")
}

/// `POST /device_authorization` as `rp` asking `scope`: status and JSON.
async fn device_authorization(app: &TestApp, rp: &Rp, scope: &str) -> (u16, Value) {
    let r = post_by(app, rp, "/device_authorization", &[("scope", scope)]).await;
    let status = r.status().as_u16();
    if status == 200 {
        assert_eq!(
            r.headers()
                .get("cache-control")
                .and_then(|v| v.to_str().ok()),
            Some("no-store")
        );
    }
    (status, r.json().await.expect("JSON"))
}

/// A device code and its user code for `rp`, with RFC 8628 §3.2's members checked.
async fn codes(app: &TestApp, rp: &Rp) -> (String, String) {
    let (status, v) = device_authorization(app, rp, "openid profile").await;
    assert_eq!(status, 200, "{v}");
    let user_code = v["user_code"].as_str().expect("user_code").to_owned();
    let (a, b) = user_code.split_once('-').expect("two groups");
    for g in [a, b] {
        assert_eq!(g.len(), 4, "{user_code}");
        assert!(
            g.bytes().all(|c| b"BCDFGHJKLMNPQRSTVWXZ".contains(&c)),
            "{user_code}"
        );
    }
    assert_eq!(v["verification_uri"], app.url("/device"));
    assert_eq!(
        v["verification_uri_complete"],
        format!("{}?user_code={user_code}", app.url("/device"))
    );
    assert_eq!(v["expires_in"], 600);
    assert_eq!(v["interval"], 5);
    let device_code = v["device_code"].as_str().expect("device_code");
    assert!(device_code.len() >= 43, "{v}");
    (device_code.to_owned(), user_code)
}

/// One poll of the token endpoint by `rp` with `device_code`.
async fn poll(app: &TestApp, rp: &Rp, device_code: &str) -> (u16, Value) {
    let r = post_by(
        app,
        rp,
        "/token",
        &[("grant_type", GRANT), ("device_code", device_code)],
    )
    .await;
    (r.status().as_u16(), r.json().await.expect("JSON"))
}

/// The `error` of a refused poll.
async fn poll_error(app: &TestApp, rp: &Rp, device_code: &str) -> String {
    let (status, v) = poll(app, rp, device_code).await;
    assert!(status == 400 || status == 401, "{status} {v}");
    v["error"].as_str().expect("error").to_owned()
}

/// Opens `/device` in `b` and types `typed`: where that lands.
async fn type_code(app: &TestApp, b: &Browser, typed: &str) -> Landed {
    let (status, _, html) = b.get(&app.base, &app.url("/device")).await.page();
    assert_eq!(status, 200, "{html}");
    b.submit(&app.base, &html, &[("user_code", typed)]).await
}

/// The consent page a device request shows: it names the client and warns.
fn assert_device_consent(html: &str) {
    assert!(
        html.contains("value=\"allow\""),
        "consent page expected: {html}"
    );
    assert!(html.contains("id=\"device-warning\""), "{html}");
}

on_both_stores!(a_device_gets_tokens_once_the_person_approves_elsewhere);

async fn a_device_gets_tokens_once_the_person_approves_elsewhere(app: TestApp) {
    let account = app.user("alice", PW).await;
    let rp = app
        .basic_client(&[GrantType::DeviceCode, GrantType::RefreshToken])
        .await;
    let meta = discovery(&app).await;
    assert_eq!(
        meta["device_authorization_endpoint"],
        app.url("/device_authorization")
    );
    assert!(
        meta["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&Value::from(GRANT)),
        "{meta}"
    );
    let (device_code, user_code) = codes(&app, &rp).await;

    // Nothing answered yet; polling again at once is too fast.
    assert_eq!(
        poll_error(&app, &rp, &device_code).await,
        "authorization_pending"
    );
    assert_eq!(poll_error(&app, &rp, &device_code).await, "slow_down");

    // The person opens verification_uri_complete: the code is filled in.
    let b = Browser::new();
    let complete = format!("{}?user_code={user_code}", app.url("/device"));
    let (status, _, html) = b.get(&app.base, &complete).await.page();
    assert_eq!(status, 200, "{html}");
    assert!(html.contains(&format!("value=\"{user_code}\"")), "{html}");
    // Typed in lower case without the dash, it is the same code: on to the login page.
    let typed = user_code.replace('-', "").to_lowercase();
    let (_, _, login) = b
        .submit(&app.base, &html, &[("user_code", &typed)])
        .await
        .page();
    assert!(login.contains("name=\"password\""), "{login}");
    let (_, _, consent) = b
        .submit(&app.base, &login, &[("login", "alice"), ("password", PW)])
        .await
        .page();
    assert_device_consent(&consent);
    let (status, _, done) = b
        .submit(&app.base, &consent, &[("decision", "allow")])
        .await
        .page();
    assert_eq!(status, 200, "{done}");
    assert!(done.contains("id=\"device-approved\""), "{done}");
    assert!(
        done.contains("Вернитесь к устройству"),
        "told in words: {done}"
    );

    // The device's next poll gets the tokens, whatever its pace.
    let (status, tokens) = poll(&app, &rp, &device_code).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["scope"], "openid profile");
    assert!(tokens["refresh_token"].is_string(), "{tokens}");
    let (_, id) = verify_with_jwks(&app, tokens["id_token"].as_str().unwrap()).await;
    assert_eq!(id["aud"], rp.id.as_str());
    assert_eq!(id["sub"], account.as_str());
    assert!(id["auth_time"].is_i64() && id["sid"].is_string(), "{id}");
    assert_eq!(id["amr"], serde_json::json!(["pwd"]));
    let info = get_bearer_json(
        &app.url("/userinfo"),
        tokens["access_token"].as_str().unwrap(),
    )
    .await;
    assert_eq!(info["sub"], account.as_str());
    // The refresh token works like any other.
    let (status, refreshed) = refresh(&app, &rp, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(status, 200, "{refreshed}");

    // Once only: the device code and the user code are spent.
    assert_eq!(poll_error(&app, &rp, &device_code).await, "invalid_grant");
    let (status, _, again) = type_code(&app, &Browser::new(), &user_code).await.page();
    assert_eq!(status, 400, "{again}");
    assert!(again.contains("role=\"alert\""), "{again}");
}

on_both_stores!(a_refused_or_expired_device_request_ends_for_the_device);

async fn a_refused_or_expired_device_request_ends_for_the_device(app: TestApp) {
    app.user("alice", PW).await;
    let rp = app.public_client(&[GrantType::DeviceCode]).await;

    // Refused on the consent page: the device hears access_denied.
    let (device_code, user_code) = codes(&app, &rp).await;
    let b = Browser::new();
    let (_, _, login) = type_code(&app, &b, &user_code).await.page();
    let (_, _, consent) = b
        .submit(&app.base, &login, &[("login", "alice"), ("password", PW)])
        .await
        .page();
    assert_device_consent(&consent);
    assert!(
        consent.contains("Продолжайте, только если код"),
        "{consent}"
    );
    let (_, _, refused) = b
        .submit(&app.base, &consent, &[("decision", "deny")])
        .await
        .page();
    assert!(refused.contains("id=\"device-refused\""), "{refused}");
    assert_eq!(poll_error(&app, &rp, &device_code).await, "access_denied");
    assert_eq!(poll_error(&app, &rp, &device_code).await, "invalid_grant");

    // Signed in already: the next code goes straight to the consent page, which is always
    // shown for a device, even for a service allowed before.
    let (device_code, user_code) = codes(&app, &rp).await;
    let (_, _, consent) = type_code(&app, &b, &user_code).await.page();
    assert_device_consent(&consent);
    assert!(!consent.contains("name=\"password\""), "{consent}");
    let (_, _, done) = b
        .submit(&app.base, &consent, &[("decision", "allow")])
        .await
        .page();
    assert!(done.contains("id=\"device-approved\""), "{done}");
    let (status, tokens) = poll(&app, &rp, &device_code).await;
    assert_eq!(status, 200, "{tokens}");
    assert!(
        tokens["refresh_token"].is_null(),
        "no refresh grant: {tokens}"
    );
    // Allowed before, asked again: a device request is never answered by a remembered
    // consent.
    let (_, user_code) = codes(&app, &rp).await;
    let (_, _, consent) = type_code(&app, &b, &user_code).await.page();
    assert_device_consent(&consent);

    // Past expires_in: expired_token for the device, and the code no longer opens anything.
    let (device_code, user_code) = codes(&app, &rp).await;
    app.clock.advance(601);
    assert_eq!(poll_error(&app, &rp, &device_code).await, "expired_token");
    let (status, _, page) = type_code(&app, &Browser::new(), &user_code).await.page();
    assert_eq!(status, 400, "{page}");
}

on_both_stores!(device_requests_are_held_to_the_rules);

async fn device_requests_are_held_to_the_rules(app: TestApp) {
    app.user("alice", PW).await;
    let rp = app.basic_client(&[GrantType::DeviceCode]).await;
    let other = app.basic_client(&[GrantType::DeviceCode]).await;
    let code_only = app.confidential().await;

    // RFC 6749 errors at the device authorization endpoint.
    let (status, v) = device_authorization(&app, &code_only, "openid").await;
    assert_eq!(
        (status, v["error"].as_str()),
        (400, Some("unauthorized_client"))
    );
    let (status, v) = device_authorization(&app, &rp, "profile").await;
    assert_eq!((status, v["error"].as_str()), (400, Some("invalid_scope")));
    let r = http()
        .post(app.url("/device_authorization"))
        .basic_auth(&rp.id, Some("wrong secret"))
        .form(&[("scope", "openid")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let r = http()
        .post(app.url("/device_authorization"))
        .basic_auth(&rp.id, rp.secret.as_deref())
        .body("scope=openid&scope=openid")
        .header("content-type", "application/x-www-form-urlencoded")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    // At the token endpoint: another client's device code, an unknown one, a missing one,
    // and a client that may not use the grant.
    let (device_code, user_code) = codes(&app, &rp).await;
    assert_eq!(
        poll_error(&app, &other, &device_code).await,
        "invalid_grant"
    );
    assert_eq!(poll_error(&app, &rp, "no-such-code").await, "invalid_grant");
    let r = post_as(&app, &rp, "/token", &[("grant_type", GRANT)]).await;
    assert_eq!(r.status(), 400);
    assert_eq!(
        poll_error(&app, &code_only, &device_code).await,
        "unauthorized_client"
    );

    // The form: CSRF-protected, wrong codes told apart from nothing, and counted.
    let b = Browser::new();
    let (_, url, html) = b.get(&app.base, &app.url("/device")).await.page();
    let action = form_action(&html).expect("form");
    let r = b
        .http
        .post(app.url(&action))
        .form(&[("user_code", user_code.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403, "no CSRF token at {url}");
    for typed in ["", "BCDF", "ABCD-EFGH", &"X".repeat(5000)] {
        let (status, _, page) = b
            .submit(&app.base, &html, &[("user_code", typed)])
            .await
            .page();
        assert_eq!(status, 400, "{typed:.20}: {page}");
        assert!(page.contains("role=\"alert\""), "{page}");
    }
    // Twenty wrong codes an hour from one address; then even the right one waits.
    for _ in 0..20 {
        b.submit(&app.base, &html, &[("user_code", "BBBB-BBBB")])
            .await
            .page();
    }
    let (status, _, page) = b
        .submit(&app.base, &html, &[("user_code", &user_code)])
        .await
        .page();
    assert_eq!(status, 429, "{page}");
}

on_both_stores!(the_first_answer_to_a_device_code_wins);

async fn the_first_answer_to_a_device_code_wins(app: TestApp) {
    app.user("alice", PW).await;
    app.user("bob", PW).await;
    let rp = app.public_client(&[GrantType::DeviceCode]).await;
    let (device_code, user_code) = codes(&app, &rp).await;

    // Two people type the same code before either answers: both reach the consent page.
    let first = Browser::new();
    let second = Browser::new();
    let mut consents = Vec::new();
    for (b, login) in [(&first, "alice"), (&second, "bob")] {
        let (_, _, page) = type_code(&app, b, &user_code).await.page();
        let (_, _, consent) = b
            .submit(&app.base, &page, &[("login", login), ("password", PW)])
            .await
            .page();
        assert_device_consent(&consent);
        consents.push(consent);
    }

    // The first answer (a refusal) is the device's; the later approval is turned away with
    // a page saying the code was answered, and gives the device nothing.
    let (_, _, refused) = first
        .submit(&app.base, &consents[0], &[("decision", "deny")])
        .await
        .page();
    assert!(refused.contains("id=\"device-refused\""), "{refused}");
    let (status, _, late) = second
        .submit(&app.base, &consents[1], &[("decision", "allow")])
        .await
        .page();
    assert_eq!(status, 409, "{late}");
    assert!(!late.contains("id=\"device-approved\""), "{late}");
    assert!(late.contains("На этот запрос уже ответили."), "{late}");
    assert_eq!(poll_error(&app, &rp, &device_code).await, "access_denied");
    assert_eq!(poll_error(&app, &rp, &device_code).await, "invalid_grant");
}
