//! RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) and discovery.

use crate::helpers::*;
use crate::on_both_stores;

on_both_stores!(logout_with_id_token_hint_ends_the_session_and_returns_with_state);

const PW: &str = "correct horse battery";

async fn logout_with_id_token_hint_ends_the_session_and_returns_with_state(app: TestApp) {
    let rp = app.confidential().await;
    app.user("alice", PW).await;
    let b = Browser::new();
    let t = sign_in(&app, &rp, &b, "alice", PW).await;
    let idt = t["id_token"].as_str().unwrap();
    let mut u = url::Url::parse(&app.url("/logout")).unwrap();
    u.query_pairs_mut()
        .append_pair("id_token_hint", idt)
        .append_pair("post_logout_redirect_uri", &rp.post_logout)
        .append_pair("state", "bye-1");
    let back = b.get(&app.base, u.as_str()).await.redirect();
    assert!(back.as_str().starts_with(&rp.post_logout));
    assert_eq!(Landed::param(&back, "state").as_deref(), Some("bye-1"));
    assert_eq!(
        prompt_none_error(&app, &rp, &b).await.as_deref(),
        Some("login_required"),
        "session ended"
    );
}

mod embedded_only {
    use super::*;

    #[tokio::test]
    async fn unregistered_post_logout_redirect_uri_is_never_redirected_to() {
        let app = spawn_app(Store::Embedded).await.unwrap();
        let rp = app.confidential().await;
        app.user("alice", PW).await;
        let b = Browser::new();
        let t = sign_in(&app, &rp, &b, "alice", PW).await;
        let mut u = url::Url::parse(&app.url("/logout")).unwrap();
        u.query_pairs_mut()
            .append_pair("id_token_hint", t["id_token"].as_str().unwrap())
            .append_pair("post_logout_redirect_uri", "http://evil.example/");
        let (st, _, _) = b.get(&app.base, u.as_str()).await.page();
        assert_eq!(st, 400);
        let mut u = url::Url::parse(&app.url("/logout")).unwrap();
        u.query_pairs_mut()
            .append_pair("post_logout_redirect_uri", &rp.post_logout);
        assert_eq!(
            b.get(&app.base, u.as_str()).await.page().0,
            400,
            "no client named: no redirect"
        );
        let mut u = url::Url::parse(&app.url("/logout")).unwrap();
        u.query_pairs_mut().append_pair("id_token_hint", "garbage");
        assert_eq!(b.get(&app.base, u.as_str()).await.page().0, 400);
    }

    #[tokio::test]
    async fn logout_without_hint_asks_for_confirmation() {
        let app = spawn_app(Store::Embedded).await.unwrap();
        let rp = app.confidential().await;
        app.user("alice", PW).await;
        let b = Browser::new();
        sign_in(&app, &rp, &b, "alice", PW).await;
        let mut u = url::Url::parse(&app.url("/logout")).unwrap();
        u.query_pairs_mut()
            .append_pair("client_id", &rp.id)
            .append_pair("post_logout_redirect_uri", &rp.post_logout)
            .append_pair("state", "s9");
        let (st, _, html) = b.get(&app.base, u.as_str()).await.page();
        assert_eq!(st, 200);
        assert!(html.contains("name=\"logout\""));
        // Without the CSRF token nothing happens.
        let r = b
            .http
            .post(app.url("/logout"))
            .form(&[("logout", "yes")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let (url, _) = authorize_url(&app, &rp, &[("prompt", "none")]);
        assert!(
            Landed::param(&b.get(&app.base, &url).await.redirect(), "code").is_some(),
            "still signed in"
        );
        let back = b
            .submit(&app.base, &html, &[("logout", "yes")])
            .await
            .redirect();
        assert_eq!(Landed::param(&back, "state").as_deref(), Some("s9"));
        let after = b.get(&app.base, &url).await.redirect();
        assert_eq!(
            Landed::param(&after, "error").as_deref(),
            Some("login_required")
        );
    }

    #[tokio::test]
    async fn discovery_document_is_pinned() {
        let app = spawn_with_default_algs().await;
        let d = get_json(&app.url("/.well-known/openid-configuration")).await;
        let text = serde_json::to_string_pretty(&d)
            .unwrap()
            .replace(&app.base, "https://ISSUER");
        let expected = include_str!("snapshots/discovery.json");
        assert_eq!(
            text.trim(),
            expected.trim(),
            "discovery changed: update tests/e2e/snapshots/discovery.json if intended"
        );
        let jwks = get_json(&app.url("/jwks")).await;
        let mut kinds: Vec<(&str, &str, &str)> = Vec::new();
        for k in jwks["keys"].as_array().unwrap() {
            kinds.push((
                k["kty"].as_str().unwrap(),
                k["use"].as_str().unwrap(),
                k["alg"].as_str().unwrap(),
            ));
            assert!(
                k["kid"].is_string() && k.get("d").is_none() && k.get("p").is_none(),
                "no private parts: {k}"
            );
        }
        kinds.sort();
        assert_eq!(
            kinds,
            [("EC", "sig", "ES256"), ("RSA", "sig", "RS256")],
            "one key per algorithm"
        );
        let missing = http().get(app.url("/nope")).send().await.unwrap();
        assert_eq!(missing.status(), 404);
        assert_eq!(
            missing.headers()["content-type"],
            "application/problem+json"
        );
    }
}
