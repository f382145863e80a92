//! The authorization endpoint: prompt, max_age, hints, response modes, locales, and every
//! error path (OIDC Core §3.1.2.6, RFC 6749 §4.1.2.1, RFC 7636, RFC 9207).

use crate::helpers::*;
use crate::on_both_stores;

on_both_stores!(
    prompt_none_without_session_is_login_required,
    prompt_none_with_session_answers_at_once,
    max_age_forces_a_fresh_login
);

const PW: &str = "correct horse battery";

async fn signed_in(app: &TestApp) -> (Rp, Browser) {
    let rp = app.confidential().await;
    app.user("alice", PW).await;
    let b = Browser::new();
    sign_in(app, &rp, &b, "alice", PW).await;
    (rp, b)
}

async fn prompt_none_without_session_is_login_required(app: TestApp) {
    let rp = app.confidential().await;
    let (url, _) = authorize_url(&app, &rp, &[("prompt", "none")]);
    let back = Browser::new().get(&app.base, &url).await.redirect();
    assert!(back.as_str().starts_with(&rp.redirect_uri));
    assert_eq!(
        Landed::param(&back, "error").as_deref(),
        Some("login_required")
    );
    assert_eq!(Landed::param(&back, "state").as_deref(), Some("st-123"));
    assert_eq!(
        Landed::param(&back, "iss").as_deref(),
        Some(app.base.as_str())
    );
}

async fn prompt_none_with_session_answers_at_once(app: TestApp) {
    let (rp, b) = signed_in(&app).await;
    let (url, v) = authorize_url(&app, &rp, &[("prompt", "none")]);
    let back = b.get(&app.base, &url).await.redirect();
    let code = Landed::param(&back, "code").expect("code without interaction");
    assert_eq!(redeem(&app, &rp, &code, &v).await.0, 200);
    // A scope not consented yet cannot be granted silently.
    let (url, _) = authorize_url(&app, &rp, &[("prompt", "none"), ("scope", "openid phone")]);
    let back = b.get(&app.base, &url).await.redirect();
    assert_eq!(
        Landed::param(&back, "error").as_deref(),
        Some("consent_required")
    );
}

async fn max_age_forces_a_fresh_login(app: TestApp) {
    let (rp, b) = signed_in(&app).await;
    app.clock.advance(30);
    let (url, _) = authorize_url(&app, &rp, &[("max_age", "10")]);
    let (_, _, html) = b.get(&app.base, &url).await.page();
    assert!(
        html.contains("name=\"password\""),
        "login page after max_age passed"
    );
    let back = b
        .submit(&app.base, &html, &[("login", "alice"), ("password", PW)])
        .await
        .redirect();
    assert!(Landed::param(&back, "code").is_some());
    // A generous max_age is satisfied by the session.
    let (url, _) = authorize_url(&app, &rp, &[("max_age", "10000")]);
    assert!(Landed::param(&b.get(&app.base, &url).await.redirect(), "code").is_some());
    // prompt=login always asks again.
    let (url, _) = authorize_url(&app, &rp, &[("prompt", "login")]);
    assert!(b
        .get(&app.base, &url)
        .await
        .page()
        .2
        .contains("name=\"password\""));
}

mod embedded_only {
    use super::*;

    async fn app() -> TestApp {
        spawn_app(Store::Embedded).await.unwrap()
    }

    #[tokio::test]
    async fn post_authorization_request_and_form_post_response() {
        let app = app().await;
        let rp = app.confidential().await;
        app.user("alice", PW).await;
        let (url, verifier) = authorize_url(&app, &rp, &[("response_mode", "form_post")]);
        let query = url.split_once('?').unwrap().1.to_owned();
        let b = Browser::new();
        let r = b
            .http
            .post(app.url("/authorize"))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(query)
            .send()
            .await
            .unwrap();
        let start = b.land(&app.base, r).await;
        let (status, _, html) = b
            .login_and_consent(&app.base, start, "alice", PW)
            .await
            .page();
        assert_eq!(status, 200);
        assert_eq!(
            form_action(&html).as_deref(),
            Some(rp.redirect_uri.as_str()),
            "{html}"
        );
        let code = hidden(&html, "code").expect("code field");
        assert_eq!(hidden(&html, "state").as_deref(), Some("st-123"));
        assert_eq!(hidden(&html, "iss").as_deref(), Some(app.base.as_str()));
        assert_eq!(redeem(&app, &rp, &code, &verifier).await.0, 200);
    }

    #[tokio::test]
    async fn pages_speak_russian_and_english_and_send_security_headers() {
        let app = app().await;
        let rp = app.confidential().await;
        let (url, _) = authorize_url(&app, &rp, &[("ui_locales", "en-GB ru")]);
        let b = Browser::new();
        let r = b.http.get(&url).send().await.unwrap();
        let (_, _, html) = b.land(&app.base, r).await.page();
        assert!(html.contains("Sign in to your account") && html.contains("lang=\"en\""));
        let (url, _) = authorize_url(&app, &rp, &[]);
        // The authorization request answers with the login page itself (no redirect).
        let page = b
            .http
            .get(&url)
            .header("accept-language", "en;q=0.5, ru;q=0.9")
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        let h = page.headers().clone();
        let html = page.text().await.unwrap();
        assert!(html.contains("Вход в учётную запись"));
        // The interaction's own page shows the same step (after a reload, say).
        let action = form_action(&html).unwrap();
        let again = b
            .http
            .get(app.url(action.trim_end_matches("/login")))
            .header("accept-language", "en;q=0.5, ru;q=0.9")
            .send()
            .await
            .unwrap();
        assert_eq!(again.status(), 200);
        assert_eq!(form_action(&again.text().await.unwrap()), Some(action));
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(csp.contains("frame-ancestors 'none'"));
        assert_eq!(h["x-frame-options"], "DENY");
        assert_eq!(h["referrer-policy"], "no-referrer");
        assert_eq!(h["cache-control"], "no-store");
    }

    #[tokio::test]
    async fn wrong_password_and_unknown_login_get_the_same_answer_and_csrf_is_enforced() {
        let app = app().await;
        let rp = app.confidential().await;
        app.user("alice", PW).await;
        let b = Browser::new();
        let (url, _) = authorize_url(&app, &rp, &[("ui_locales", "en")]);
        let (_, _, html) = b.get(&app.base, &url).await.page();
        let (s1, _, h1) = b
            .submit(
                &app.base,
                &html,
                &[("login", "alice"), ("password", "wrong password!")],
            )
            .await
            .page();
        let (s2, _, h2) = b
            .submit(
                &app.base,
                &html,
                &[("login", "mallory"), ("password", "wrong password!")],
            )
            .await
            .page();
        assert_eq!((s1, s2), (401, 401));
        let msg = "Wrong login or password.";
        assert!(h1.contains(msg) && h2.contains(msg));
        // No CSRF token: refused.
        let action = form_action(&html).unwrap();
        let r = b
            .http
            .post(app.url(&action))
            .form(&[("login", "alice"), ("password", PW)])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403);
        // Another browser cannot use this interaction.
        let other = Browser::new();
        let (s, _, _) = other
            .submit(&app.base, &html, &[("login", "alice"), ("password", PW)])
            .await
            .page();
        assert_eq!(s, 403);
    }

    #[tokio::test]
    async fn declining_consent_returns_access_denied() {
        let app = app().await;
        let rp = app.confidential().await;
        app.user("alice", PW).await;
        let b = Browser::new();
        let (url, _) = authorize_url(&app, &rp, &[]);
        let (_, _, html) = b.get(&app.base, &url).await.page();
        let (_, _, consent) = b
            .submit(&app.base, &html, &[("login", "alice"), ("password", PW)])
            .await
            .page();
        let back = b
            .submit(&app.base, &consent, &[("decision", "deny")])
            .await
            .redirect();
        assert_eq!(
            Landed::param(&back, "error").as_deref(),
            Some("access_denied")
        );
        assert_eq!(Landed::param(&back, "state").as_deref(), Some("st-123"));
    }

    #[tokio::test]
    async fn id_token_hint_login_hint_and_claims_parameter() {
        let app = app().await;
        let rp = app.confidential().await;
        app.user("alice", PW).await;
        let b = Browser::new();
        let t = sign_in(&app, &rp, &b, "alice", PW).await;
        let idt = t["id_token"].as_str().unwrap();
        let (url, _) = authorize_url(&app, &rp, &[("id_token_hint", idt), ("prompt", "none")]);
        assert!(Landed::param(&b.get(&app.base, &url).await.redirect(), "code").is_some());
        let (url, _) = authorize_url(&app, &rp, &[("login_hint", "bob@example.com")]);
        let (_, _, html) = Browser::new().get(&app.base, &url).await.page();
        assert!(html.contains("value=\"bob@example.com\""));
        let claims =
            r#"{"id_token":{"email":{"essential":true}},"userinfo":{"phone_number":null}}"#;
        let (url, v) = authorize_url(&app, &rp, &[("claims", claims), ("scope", "openid")]);
        let start = b.get(&app.base, &url).await;
        let (_, _, consent) = start.page();
        assert!(
            consent.contains("email") && consent.contains("phone_number"),
            "consent lists asked claims"
        );
        let back = b
            .submit(&app.base, &consent, &[("decision", "allow")])
            .await
            .redirect();
        let (_, t) = redeem(&app, &rp, &Landed::param(&back, "code").unwrap(), &v).await;
        let payload = t["id_token"]
            .as_str()
            .unwrap()
            .split('.')
            .nth(1)
            .unwrap()
            .to_owned();
        let claims: serde_json::Value = serde_json::from_slice(
            &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
                .unwrap(),
        )
        .unwrap();
        assert_eq!(
            claims["email"], "alice@example.com",
            "essential id_token claim released"
        );
        assert_eq!(claims["nonce"], "n-456");
        assert!(claims["sid"].is_string() && claims["acr"].is_string() && claims["amr"].is_array());
        let info: serde_json::Value = http()
            .get(app.url("/userinfo"))
            .bearer_auth(t["access_token"].as_str().unwrap())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(info["phone_number"], "+79990001122");
        assert!(
            info.get("email").is_none(),
            "scope openid alone releases no email at userinfo"
        );
    }
}
