//! Pushed authorization requests (RFC 9126): the push is authenticated and checked like an
//! authorization request, its `request_uri` stands for it once, for its own client only,
//! until it expires, and a client may be made to use nothing else.

use crate::helpers::*;
use crate::{on_both_store_kinds, on_both_stores};
use idp::oauth::par::REQUEST_URI_PREFIX;

on_both_stores!(
    a_pushed_request_signs_in_with_only_its_request_uri,
    a_push_is_checked_as_an_authorization_request,
    a_request_uri_belongs_to_its_client,
    a_client_can_be_made_to_push_its_requests,
);
on_both_store_kinds!(
    a_request_uri_expires,
    a_server_can_require_pushed_requests_of_every_client,
    pushes_are_limited_per_client,
);

const PW: &str = "correct horse battery";

/// Form fields, in order.
type Form = Vec<(String, String)>;

/// The authorization request's own parameters, with a fresh PKCE pair; returns (form,
/// verifier).
fn request(rp: &Rp) -> (Vec<(String, String)>, String) {
    let (verifier, challenge) = pkce();
    let form = [
        ("redirect_uri", rp.redirect_uri.as_str()),
        ("response_type", "code"),
        ("scope", "openid profile email"),
        ("state", "pushed-state"),
        ("nonce", "pushed-nonce"),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    (form, verifier)
}

/// Pushes `form` with client_secret_basic; returns status and JSON.
async fn push(app: &TestApp, rp: &Rp, form: &[(String, String)]) -> (u16, serde_json::Value) {
    let (status, _, body) = push_answer(app, rp, form).await;
    (status, body)
}

/// [`push`], with the `Retry-After` header too.
async fn push_answer(
    app: &TestApp,
    rp: &Rp,
    form: &[(String, String)],
) -> (u16, Option<u64>, serde_json::Value) {
    let r = http()
        .post(app.url("/par"))
        .basic_auth(&rp.id, rp.secret.as_deref())
        .form(form)
        .send()
        .await
        .expect("push");
    let retry_after = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    (
        r.status().as_u16(),
        retry_after,
        r.json().await.unwrap_or_default(),
    )
}

/// The authorization URL that carries only `client_id` and `request_uri` (and `extra`).
fn by_reference(
    app: &TestApp,
    client_id: &str,
    request_uri: &str,
    extra: &[(&str, &str)],
) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.append_pair("client_id", client_id);
    q.append_pair("request_uri", request_uri);
    for (k, v) in extra {
        q.append_pair(k, v);
    }
    format!("{}/authorize?{}", app.base, q.finish())
}

/// A pushed request for `rp`; returns (request_uri, verifier).
async fn pushed(app: &TestApp, rp: &Rp) -> (String, String) {
    let (form, verifier) = request(rp);
    let (status, body) = push(app, rp, &form).await;
    assert_eq!(status, 201, "{body}");
    (
        body["request_uri"]
            .as_str()
            .expect("request_uri")
            .to_owned(),
        verifier,
    )
}

async fn a_pushed_request_signs_in_with_only_its_request_uri(app: TestApp) {
    let rp = app.confidential().await;
    app.user("alice", PW).await;
    let discovery = get_json(&app.url("/.well-known/openid-configuration")).await;
    assert_eq!(
        discovery["pushed_authorization_request_endpoint"],
        app.url("/par")
    );
    assert_eq!(discovery["require_pushed_authorization_requests"], false);

    let (form, verifier) = request(&rp);
    let r = http()
        .post(app.url("/par"))
        .basic_auth(&rp.id, rp.secret.as_deref())
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["expires_in"], 60);
    let request_uri = body["request_uri"].as_str().unwrap().to_owned();
    let reference = request_uri
        .strip_prefix(REQUEST_URI_PREFIX)
        .expect("a URN of ours");
    assert!(reference.len() >= 43, "{request_uri}");

    // Parameters beside request_uri are ignored (§4): the pushed state and scope count.
    let url = by_reference(
        &app,
        &rp.id,
        &request_uri,
        &[("state", "outer-state"), ("scope", "openid phone")],
    );
    let b = Browser::new();
    let back = b.sign_in_at(&app.base, &url, "alice", PW).await;
    assert!(back.as_str().starts_with(&rp.redirect_uri), "{back}");
    assert_eq!(
        Landed::param(&back, "state").as_deref(),
        Some("pushed-state")
    );
    assert_eq!(
        Landed::param(&back, "iss").as_deref(),
        Some(app.base.as_str())
    );
    let code = Landed::param(&back, "code").expect("code");
    let (status, tokens) = redeem(&app, &rp, &code, &verifier).await;
    assert_eq!(status, 200, "{tokens}");
    assert_eq!(tokens["scope"], "openid profile email");
    assert!(tokens["id_token"].is_string());

    // One use: the same URL again (a reload) gets a page, not a sign-in or a redirect.
    let (status, _, html) = b.get(&app.base, &url).await.page();
    assert_eq!(status, 400);
    assert!(html.contains("invalid_request_uri"), "{html}");

    // A second push is a second request, and works with the session already there.
    let (request_uri, verifier) = pushed(&app, &rp).await;
    let back = b
        .get(&app.base, &by_reference(&app, &rp.id, &request_uri, &[]))
        .await
        .redirect();
    let code = Landed::param(&back, "code").expect("code from the session");
    assert_eq!(redeem(&app, &rp, &code, &verifier).await.0, 200);

    // A Request Object by reference (OIDC Core §6.2) is still not fetched.
    let (url, _) = authorize_url(&app, &rp, &[("request_uri", "http://127.0.0.1:9/ro.jwt")]);
    let back = Browser::new().get(&app.base, &url).await.redirect();
    assert_eq!(
        Landed::param(&back, "error").as_deref(),
        Some("request_uri_not_supported")
    );
}

async fn a_push_is_checked_as_an_authorization_request(app: TestApp) {
    let rp = app.confidential().await;
    let (form, _) = request(&rp);
    let with = |k: &str, v: &str| {
        let mut f: Vec<(String, String)> = form.iter().filter(|(n, _)| n != k).cloned().collect();
        f.push((k.to_owned(), v.to_owned()));
        f
    };
    let without = |k: &str| -> Vec<(String, String)> {
        form.iter().filter(|(n, _)| n != k).cloned().collect()
    };

    // The client authenticates as at the token endpoint.
    let r = http()
        .post(app.url("/par"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    let r = http()
        .post(app.url("/par"))
        .basic_auth(&rp.id, Some("not the secret"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);

    let cases: Vec<(&str, Form, &str)> = vec![
        (
            "unregistered redirect_uri",
            with("redirect_uri", "http://127.0.0.1:9/other"),
            "invalid_request",
        ),
        (
            "no redirect_uri",
            without("redirect_uri"),
            "invalid_request",
        ),
        ("no PKCE", without("code_challenge"), "invalid_request"),
        (
            "plain PKCE",
            with("code_challenge_method", "plain"),
            "invalid_request",
        ),
        (
            "no openid scope",
            with("scope", "profile email"),
            "invalid_scope",
        ),
        (
            "token response type",
            with("response_type", "token"),
            "unsupported_response_type",
        ),
        (
            "request_uri pushed",
            with("request_uri", "urn:ietf:params:oauth:request_uri:x"),
            "invalid_request",
        ),
        (
            "another client_id",
            with("client_id", "vhc_someone_else"),
            "invalid_request",
        ),
        (
            "20 KB state",
            with("state", &"s".repeat(20 * 1024)),
            "invalid_request",
        ),
    ];
    for (what, f, error) in cases {
        let (status, body) = push(&app, &rp, &f).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some(error)),
            "{what}: {body}"
        );
    }
    let mut twice = form.clone();
    twice.push(("scope".into(), "openid".into()));
    let (status, body) = push(&app, &rp, &twice).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request")),
        "{body}"
    );

    let (status, _) = push(&app, &rp, &with("state", &"s".repeat(100 * 1024))).await;
    assert_eq!(status, 413, "a 100 KB body");
    let r = http().get(app.url("/par")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 405);

    // client_secret_post: what is stored is the request, never the credentials.
    let post = app
        .client(
            idp::oauth::types::AuthMethod::ClientSecretPost,
            &[idp::oauth::types::GrantType::AuthorizationCode],
            None,
        )
        .await;
    let secret = post.secret.clone().unwrap();
    let (mut f, _) = request(&post);
    f.push(("client_id".into(), post.id.clone()));
    f.push(("client_secret".into(), secret.clone()));
    f.push(("unknown_parameter".into(), "kept nowhere".into()));
    let r = http().post(app.url("/par")).form(&f).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let body: serde_json::Value = r.json().await.unwrap();
    let reference = body["request_uri"]
        .as_str()
        .unwrap()
        .strip_prefix(REQUEST_URI_PREFIX)
        .unwrap()
        .to_owned();
    let stored = app
        .app
        .cache
        .get(&format!("par:{reference}"))
        .await
        .unwrap()
        .expect("the pushed request is in the cache");
    let stored = String::from_utf8(stored).unwrap();
    assert!(stored.contains("pushed-state"), "{stored}");
    assert!(
        !stored.contains(&secret),
        "the client secret was stored: {stored}"
    );
    assert!(!stored.contains("unknown_parameter"), "{stored}");
}

async fn a_request_uri_belongs_to_its_client(app: TestApp) {
    let rp = app.confidential().await;
    let other = app.confidential().await;
    app.user("alice", PW).await;
    let (request_uri, verifier) = pushed(&app, &rp).await;

    // Another client's id, no client_id, or a made-up reference: a page, never a redirect.
    for url in [
        by_reference(&app, &other.id, &request_uri, &[]),
        format!(
            "{}/authorize?request_uri={}",
            app.base,
            urlencoding(&request_uri)
        ),
        by_reference(&app, &rp.id, &format!("{REQUEST_URI_PREFIX}made-up"), &[]),
        by_reference(
            &app,
            &rp.id,
            &format!("{REQUEST_URI_PREFIX}{}", "a".repeat(200)),
            &[],
        ),
    ] {
        let (status, _, html) = Browser::new().get(&app.base, &url).await.page();
        assert_eq!(status, 400, "{url}");
        assert!(html.contains("invalid_request_uri"), "{url}: {html}");
    }
    // None of that used it up for its own client.
    signs_in_by_reference(&app, &rp, &request_uri, &verifier).await;
}

async fn a_client_can_be_made_to_push_its_requests(app: TestApp) {
    let rp = app.confidential().await;
    app.user("alice", PW).await;
    sqlx::query("UPDATE clients SET require_pushed_authorization_requests = 1 WHERE id = $1")
        .bind(&rp.id)
        .execute(&app.app.db.pool)
        .await
        .unwrap();
    let (url, _) = authorize_url(&app, &rp, &[]);
    let back = Browser::new().get(&app.base, &url).await.redirect();
    assert_eq!(
        Landed::param(&back, "error").as_deref(),
        Some("invalid_request")
    );
    assert_eq!(Landed::param(&back, "state").as_deref(), Some("st-123"));
    let (request_uri, verifier) = pushed(&app, &rp).await;
    signs_in_by_reference(&app, &rp, &request_uri, &verifier).await;
}

/// Alice signs in through `request_uri` in a new browser, and the code is redeemed.
async fn signs_in_by_reference(app: &TestApp, rp: &Rp, request_uri: &str, verifier: &str) {
    let b = Browser::new();
    let start = b
        .get(&app.base, &by_reference(app, &rp.id, request_uri, &[]))
        .await;
    let back = b
        .login_and_consent(&app.base, start, "alice", PW)
        .await
        .redirect();
    let code = Landed::param(&back, "code").expect("code");
    assert_eq!(redeem(app, rp, &code, verifier).await.0, 200);
}

fn urlencoding(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A request_uri lasts `lifetimes.pushed_request` seconds, on either store.
async fn a_request_uri_expires(store: Store) {
    let Some(app) = spawn_configured(store, |c| c.lifetimes.pushed_request = 1).await else {
        return;
    };
    let rp = app.confidential().await;
    let (form, _) = request(&rp);
    let (status, body) = push(&app, &rp, &form).await;
    assert_eq!(
        (status, body["expires_in"].as_i64()),
        (201, Some(1)),
        "{body}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let url = by_reference(&app, &rp.id, body["request_uri"].as_str().unwrap(), &[]);
    let (status, _, html) = Browser::new().get(&app.base, &url).await.page();
    assert_eq!(status, 400);
    assert!(html.contains("invalid_request_uri"), "{html}");
}

/// `require_pushed_authorization_requests`: every client must push, discovery says so, and
/// the account area (vhod's own client) still signs in.
async fn a_server_can_require_pushed_requests_of_every_client(store: Store) {
    let Some(app) =
        spawn_configured(store, |c| c.require_pushed_authorization_requests = true).await
    else {
        return;
    };
    let discovery = get_json(&app.url("/.well-known/openid-configuration")).await;
    assert_eq!(discovery["require_pushed_authorization_requests"], true);
    let rp = app.confidential().await;
    app.user("alice", PW).await;
    let (url, _) = authorize_url(&app, &rp, &[]);
    let back = Browser::new().get(&app.base, &url).await.redirect();
    assert_eq!(
        Landed::param(&back, "error").as_deref(),
        Some("invalid_request")
    );
    let (request_uri, verifier) = pushed(&app, &rp).await;
    signs_in_by_reference(&app, &rp, &request_uri, &verifier).await;
    let (status, _, html) = Browser::new()
        .get(&app.base, &app.url("/account"))
        .await
        .page();
    assert_eq!(status, 200);
    assert!(html.contains("name=\"password\""), "{html}");
}

/// `pushed_requests_per_minute` (RFC 9126 §2.3): a client past its pushes for the minute gets
/// a 429 with `Retry-After` and nothing stored; a bad push still gets its own error, another
/// client pushes on, and what was pushed before still signs in.
async fn pushes_are_limited_per_client(store: Store) {
    let Some(app) = spawn_configured(store, |c| c.pushed_requests_per_minute = 2).await else {
        return;
    };
    let rp = app.confidential().await;
    let other = app.confidential().await;
    app.user("alice", PW).await;
    let (first, verifier) = pushed(&app, &rp).await;
    pushed(&app, &rp).await;
    let (form, _) = request(&rp);
    let (status, retry_after, body) = push_answer(&app, &rp, &form).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"], "temporarily_unavailable");
    assert!(
        body["error_description"]
            .as_str()
            .is_some_and(|d| d.contains("pushed authorization requests")),
        "{body}"
    );
    assert!(body.get("request_uri").is_none());
    assert!(
        retry_after.is_some_and(|s| (1..=120).contains(&s)),
        "{retry_after:?}"
    );
    // A push that is wrong anyway is told what is wrong with it.
    let bad: Form = form
        .iter()
        .filter(|(k, _)| k != "redirect_uri")
        .cloned()
        .collect();
    let (status, body) = push(&app, &rp, &bad).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    pushed(&app, &other).await;
    signs_in_by_reference(&app, &rp, &first, &verifier).await;
}
