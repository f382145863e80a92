//! The authorization endpoint's error paths (RFC 6749 §4.1.2.1, OIDC Core §3.1.2.6,
//! RFC 7636 §4.4.1): never redirect before the client and redirect URI are verified; after
//! that, the RFC error code with `state` and `iss`.

use crate::helpers::*;

async fn app() -> TestApp {
    spawn_app(Store::Embedded).await.unwrap()
}

#[tokio::test]
async fn unknown_client_gets_an_error_page_not_a_redirect() {
    let app = app().await;
    let rp = app.confidential().await;
    let (url, _) = authorize_url(
        &app,
        &Rp {
            id: "nope".into(),
            ..rp
        },
        &[],
    );
    let (status, _, html) = Browser::new().get(&app.base, &url).await.page();
    assert_eq!(status, 400);
    assert!(html.contains("invalid_client"));
}

#[tokio::test]
async fn unregistered_redirect_uri_is_never_redirected_to() {
    let app = app().await;
    let rp = app.confidential().await;
    for bad in [
        "http://127.0.0.1:9/cb/",
        "http://127.0.0.1:9/cb?x=1",
        "http://evil.example/cb",
        "HTTP://127.0.0.1:9/cb",
    ] {
        let (url, _) = authorize_url(
            &app,
            &Rp {
                redirect_uri: bad.into(),
                ..rp.clone()
            },
            &[],
        );
        let (status, _, html) = Browser::new().get(&app.base, &url).await.page();
        assert_eq!(status, 400, "{bad}");
        assert!(html.contains("invalid_redirect_uri"));
    }
}

async fn error_of(app: &TestApp, rp: &Rp, url: String) -> String {
    let back = Browser::new().get(&app.base, &url).await.redirect();
    assert!(back.as_str().starts_with(&rp.redirect_uri), "{back}");
    assert_eq!(
        Landed::param(&back, "iss").as_deref(),
        Some(app.base.as_str())
    );
    Landed::param(&back, "error").unwrap_or_default()
}

#[tokio::test]
async fn bad_requests_are_redirected_with_rfc_error_codes() {
    let app = app().await;
    let rp = app.confidential().await;
    let base = |extra: &[(&str, &str)]| authorize_url(&app, &rp, extra).0;
    let strip = |url: String, key: &str| {
        let mut u = url::Url::parse(&url).unwrap();
        let kept: Vec<(String, String)> = u
            .query_pairs()
            .filter(|(k, _)| k != key)
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        u.query_pairs_mut().clear().extend_pairs(kept);
        u.to_string()
    };
    assert_eq!(
        error_of(&app, &rp, strip(base(&[]), "response_type")).await,
        "invalid_request"
    );
    assert_eq!(
        error_of(&app, &rp, strip(base(&[]), "code_challenge")).await,
        "invalid_request",
        "PKCE required"
    );
    let plain = strip(
        base(&[("code_challenge_method", "plain")]),
        "code_challenge_method",
    );
    assert_eq!(
        error_of(&app, &rp, format!("{plain}&code_challenge_method=plain")).await,
        "invalid_request"
    );
    assert_eq!(
        error_of(
            &app,
            &rp,
            format!("{}&response_type=token", strip(base(&[]), "response_type"))
        )
        .await,
        "unsupported_response_type"
    );
    assert_eq!(
        error_of(&app, &rp, format!("{}&state=again", base(&[]))).await,
        "invalid_request",
        "duplicate parameter"
    );
    assert_eq!(
        error_of(&app, &rp, base(&[("prompt", "none login")])).await,
        "invalid_request"
    );
    assert_eq!(
        error_of(&app, &rp, base(&[("max_age", "-1")])).await,
        "invalid_request"
    );
    assert_eq!(
        error_of(&app, &rp, base(&[("claims", "{not json")])).await,
        "invalid_request"
    );
    assert_eq!(
        error_of(&app, &rp, base(&[("id_token_hint", "a.b.c")])).await,
        "invalid_request"
    );
    assert_eq!(
        error_of(&app, &rp, base(&[("request", "not.a.jwt")])).await,
        "invalid_request_object"
    );
    assert_eq!(
        error_of(&app, &rp, base(&[("scope", "profile")])).await,
        "invalid_scope"
    );
    let cc_only = app
        .client(
            idp::oauth::types::AuthMethod::ClientSecretBasic,
            &[idp::oauth::types::GrantType::ClientCredentials],
            None,
        )
        .await;
    let (u, _) = authorize_url(&app, &cc_only, &[]);
    assert_eq!(error_of(&app, &cc_only, u).await, "unauthorized_client");
}

#[tokio::test]
async fn oversized_and_unknown_parameters() {
    let app = app().await;
    let rp = app.confidential().await;
    let big = "x".repeat(100 * 1024);
    let (url, _) = authorize_url(&app, &rp, &[("state", &"x".repeat(60 * 1024))]);
    let r = http().get(&url).send().await.unwrap();
    assert!(
        r.status().is_client_error() || r.status().is_redirection(),
        "{}",
        r.status()
    );
    if r.status().is_redirection() {
        let loc = r.headers()["location"].to_str().unwrap();
        assert!(loc.contains("error=invalid_request") && loc.len() < 4096);
    }
    let (url100, _) = authorize_url(&app, &rp, &[("state", &big)]);
    let body = url100.split_once('?').unwrap().1.to_owned();
    let r = http()
        .post(app.url("/authorize"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_client_error() || r.status().is_redirection(),
        "{}",
        r.status()
    );
    let huge = "y".repeat(200 * 1024);
    let r = http()
        .post(app.url("/token"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("grant_type={huge}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    // Unknown parameters are ignored.
    let (url, _) = authorize_url(&app, &rp, &[("frobnicate", "yes")]);
    let (status, _, _) = Browser::new().get(&app.base, &url).await.page();
    assert_eq!(status, 200);
}
