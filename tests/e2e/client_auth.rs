//! Client authentication at the token endpoint: client_secret_basic, client_secret_post,
//! private_key_jwt (RFC 7523 with jti replay protection) and none (public + PKCE), plus
//! client_credentials and the token endpoint's error codes (RFC 6749 §5.2).

use crate::helpers::*;
use crate::on_both_stores;
use idp::oauth::types::{AuthMethod, GrantType};
use serde_json::{json, Value};

on_both_stores!(
    client_credentials_issues_a_jwt_access_token,
    private_key_jwt_authenticates_once_per_assertion,
    an_updated_registration_keeps_or_replaces_the_secret,
    a_private_key_jwt_client_s_keys_can_be_replaced,
    a_client_s_authentication_method_can_change,
);

async fn cc(app: &TestApp, req: reqwest::RequestBuilder) -> (u16, Value) {
    let _ = app;
    let r = req.send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or_default())
}

async fn client_credentials_issues_a_jwt_access_token(app: TestApp) {
    let rp = app.confidential().await;
    let (st, t) = cc(
        &app,
        http()
            .post(app.url("/token"))
            .basic_auth(&rp.id, rp.secret.as_deref())
            .form(&[("grant_type", "client_credentials"), ("scope", "profile")]),
    )
    .await;
    assert_eq!(st, 200, "{t}");
    assert_eq!(t["token_type"], "Bearer");
    assert!(t.get("refresh_token").is_none() && t.get("id_token").is_none());
    let at = t["access_token"].as_str().unwrap();
    let header: Value = serde_json::from_slice(
        &base64::Engine::decode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            at.split('.').next().unwrap(),
        )
        .unwrap(),
    )
    .unwrap();
    assert_eq!(header["typ"], "at+jwt", "RFC 9068");
    assert_eq!(header["alg"], "ES256");
    let intro: Value = http()
        .post(app.url("/introspect"))
        .basic_auth(&rp.id, rp.secret.as_deref())
        .form(&[("token", at)])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(intro["active"], true);
    assert_eq!(intro["sub"], rp.id.as_str());
    // Wrong secret: 401 invalid_client with a Basic challenge.
    let r = http()
        .post(app.url("/token"))
        .basic_auth(&rp.id, Some("vhs_wrong"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Basic"));
    assert_eq!(r.json::<Value>().await.unwrap()["error"], "invalid_client");
    // A scope the client may not have.
    let (st, e) = cc(
        &app,
        http()
            .post(app.url("/token"))
            .basic_auth(&rp.id, rp.secret.as_deref())
            .form(&[("grant_type", "client_credentials"), ("scope", "admin")]),
    )
    .await;
    assert_eq!((st, e["error"].as_str()), (400, Some("invalid_scope")));
}

pub(crate) fn assertion(
    key: &keys::SigningKey,
    iss: &str,
    aud: &str,
    jti: &str,
    exp_in: i64,
) -> String {
    let now = keys::Clock::now(&keys::SystemClock);
    keys::sign_jwt(
        key,
        None,
        &json!({"iss": iss, "sub": iss, "aud": aud, "jti": jti, "iat": now, "exp": now + exp_in}),
    )
    .unwrap()
}

async fn private_key_jwt_authenticates_once_per_assertion(app: TestApp) {
    let (key, rp) = app.keyed_client(&[GrantType::ClientCredentials]).await;
    let send = |a: String| {
        http().post(app.url("/token")).form(&[
            ("grant_type", "client_credentials".to_owned()),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
            ),
            ("client_assertion", a),
        ])
    };
    let a = assertion(&key, &rp.id, &app.url("/token"), "jti-1", 60);
    assert_eq!(cc(&app, send(a.clone())).await.0, 200);
    let (st, e) = cc(&app, send(a)).await;
    assert_eq!(
        (st, e["error"].as_str()),
        (401, Some("invalid_client")),
        "replayed assertion"
    );
    assert_eq!(
        cc(&app, send(assertion(&key, &rp.id, &app.base, "jti-2", 60)))
            .await
            .0,
        200,
        "aud = issuer"
    );
    assert_eq!(
        cc(
            &app,
            send(assertion(
                &key,
                &rp.id,
                "https://elsewhere.example",
                "jti-3",
                60
            ))
        )
        .await
        .0,
        401,
        "wrong aud"
    );
    assert_eq!(
        cc(&app, send(assertion(&key, &rp.id, &app.base, "jti-4", -10)))
            .await
            .0,
        401,
        "expired"
    );
    let stranger = keys::SigningKey::generate(keys::Alg::ES256).unwrap();
    assert_eq!(
        cc(
            &app,
            send(assertion(&stranger, &rp.id, &app.base, "jti-5", 60))
        )
        .await
        .0,
        401,
        "unregistered key"
    );
}

mod embedded_only {
    use super::*;

    #[tokio::test]
    async fn client_secret_post_and_public_clients_complete_the_code_flow() {
        let app = spawn_app(Store::Embedded).await.unwrap();
        app.user("alice", "correct horse battery").await;
        let post = app
            .client(
                AuthMethod::ClientSecretPost,
                &[GrantType::AuthorizationCode, GrantType::RefreshToken],
                None,
            )
            .await;
        let public = app
            .client(
                AuthMethod::None,
                &[GrantType::AuthorizationCode, GrantType::RefreshToken],
                None,
            )
            .await;
        let b = Browser::new();
        for rp in [&post, &public] {
            let (url, verifier) = authorize_url(&app, rp, &[]);
            let start = b.get(&app.base, &url).await;
            let landed = match start {
                Landed::Redirect(u) => u,
                Landed::Page(_, _, html) if html.contains("value=\"allow\"") => b
                    .submit(&app.base, &html, &[("decision", "allow")])
                    .await
                    .redirect(),
                page => b
                    .login_and_consent(&app.base, page, "alice", "correct horse battery")
                    .await
                    .redirect(),
            };
            let code = Landed::param(&landed, "code").unwrap();
            let mut form = vec![
                ("grant_type", "authorization_code".to_owned()),
                ("code", code),
                ("redirect_uri", rp.redirect_uri.clone()),
                ("code_verifier", verifier),
                ("client_id", rp.id.clone()),
            ];
            if let Some(s) = &rp.secret {
                form.push(("client_secret", s.clone()));
            }
            let (st, t) = cc(&app, http().post(app.url("/token")).form(&form)).await;
            assert_eq!(st, 200, "{t}");
        }
        // A public client cannot use client_credentials; basic auth for a post client fails.
        let (st, e) = cc(
            &app,
            http().post(app.url("/token")).form(&[
                ("grant_type", "client_credentials"),
                ("client_id", public.id.as_str()),
            ]),
        )
        .await;
        assert_eq!(
            (st, e["error"].as_str()),
            (400, Some("unauthorized_client"))
        );
        let (st, _) = cc(
            &app,
            http()
                .post(app.url("/token"))
                .basic_auth(&post.id, post.secret.as_deref())
                .form(&[("grant_type", "refresh_token"), ("refresh_token", "x")]),
        )
        .await;
        assert_eq!(st, 401, "a client_secret_post client may not use basic");
    }

    #[tokio::test]
    async fn token_endpoint_error_codes() {
        let app = spawn_app(Store::Embedded).await.unwrap();
        let rp = app.confidential().await;
        let t = |form: Vec<(&'static str, &'static str)>| {
            http()
                .post(app.url("/token"))
                .basic_auth(&rp.id, rp.secret.as_deref())
                .form(&form)
        };
        assert_eq!(cc(&app, t(vec![])).await.1["error"], "invalid_request");
        assert_eq!(
            cc(&app, t(vec![("grant_type", "password")])).await.1["error"],
            "unsupported_grant_type"
        );
        assert_eq!(
            cc(
                &app,
                t(vec![
                    ("grant_type", "authorization_code"),
                    ("code", "nope"),
                    ("redirect_uri", "http://127.0.0.1:9/cb"),
                    ("code_verifier", "x")
                ])
            )
            .await
            .1["error"],
            "invalid_grant"
        );
        assert_eq!(
            cc(&app, t(vec![("grant_type", "authorization_code")]))
                .await
                .1["error"],
            "invalid_request"
        );
        let dup = http()
            .post(app.url("/token"))
            .basic_auth(&rp.id, rp.secret.as_deref())
            .header("content-type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials&grant_type=client_credentials");
        assert_eq!(cc(&app, dup).await.1["error"], "invalid_request");
        let two_methods = http()
            .post(app.url("/token"))
            .basic_auth(&rp.id, rp.secret.as_deref())
            .form(&[
                ("grant_type", "client_credentials"),
                ("client_id", rp.id.as_str()),
                ("client_secret", rp.secret.as_deref().unwrap()),
            ]);
        assert_eq!(cc(&app, two_methods).await.1["error"], "invalid_request");
        let nobody = http()
            .post(app.url("/token"))
            .form(&[("grant_type", "client_credentials")]);
        assert_eq!(cc(&app, nobody).await.0, 401);
        let garbage = http()
            .post(app.url("/token"))
            .header("authorization", "Basic !!!")
            .form(&[("grant_type", "client_credentials")]);
        assert_eq!(cc(&app, garbage).await.0, 401);
        // Wrong PKCE verifier and wrong redirect_uri.
        app.user("alice", "correct horse battery").await;
        let b = Browser::new();
        for (verifier_ok, redirect_ok) in [(false, true), (true, false)] {
            let (url, verifier) = authorize_url(&app, &rp, &[]);
            let start = b.get(&app.base, &url).await;
            let back = match start {
                Landed::Redirect(u) => u,
                page => b
                    .login_and_consent(&app.base, page, "alice", "correct horse battery")
                    .await
                    .redirect(),
            };
            let code = Landed::param(&back, "code").unwrap();
            let v = if verifier_ok {
                verifier
            } else {
                "a".repeat(43)
            };
            let ru = if redirect_ok {
                rp.redirect_uri.clone()
            } else {
                "http://127.0.0.1:9/other".into()
            };
            let r = http()
                .post(app.url("/token"))
                .basic_auth(&rp.id, rp.secret.as_deref())
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("redirect_uri", &ru),
                    ("code_verifier", &v),
                ]);
            assert_eq!(cc(&app, r).await.1["error"], "invalid_grant");
        }
    }
}

/// `Clients::update` (behind `vhod clients update`): the registration changes, the secret
/// stays unless a new one is given, and an unknown id changes nothing.
async fn an_updated_registration_keeps_or_replaces_the_secret(app: TestApp) {
    let rp = app.confidential().await;
    let grant = |secret: String| {
        let (base, id) = (app.base.clone(), rp.id.clone());
        async move { client_credentials_status(&base, &id, &secret).await }
    };
    let old_secret = rp.secret.clone().unwrap();
    let clients = app.app.db.clients();
    let stored = clients.get(&rp.id).await.unwrap().unwrap();
    let changed = idp::store::NewClient {
        name: "Renamed".into(),
        redirect_uris: vec!["http://127.0.0.1:9/new".into()],
        post_logout_redirect_uris: vec![],
        scope: vec!["openid".into()],
        require_mfa: true,
        min_level: Some("standard".into()),
        require_pushed_authorization_requests: true,
        ..stored.registration()
    };
    assert!(clients.update(&rp.id, &changed, None).await.unwrap());
    let after = clients.get(&rp.id).await.unwrap().unwrap();
    assert_eq!(
        (
            after.name.as_str(),
            after.redirect_uris.clone(),
            after.scope.clone(),
            after.require_mfa,
            after.min_level.as_deref(),
            after.require_pushed_authorization_requests,
        ),
        (
            "Renamed",
            vec!["http://127.0.0.1:9/new".to_owned()],
            vec!["openid".to_owned()],
            true,
            Some("standard"),
            true,
        )
    );
    assert_eq!(after.secret_hash, stored.secret_hash, "no new secret given");
    assert_eq!(grant(old_secret.clone()).await, 200);

    let (new_secret, new_hash) =
        idp::oauth::client_auth::new_secret(&app.app.secrets.client_secret_key);
    assert!(clients
        .update(&rp.id, &changed, Some(&new_hash))
        .await
        .unwrap());
    eventually("the old secret refused", || {
        let status = grant(old_secret.clone());
        async move { status.await == 401 }
    })
    .await;
    assert_eq!(grant(new_secret).await, 200);
    assert!(!clients.update("vhc_nobody", &changed, None).await.unwrap());
}

/// `Clients::update` with new keys (`vhod clients update --jwks`): assertions signed with
/// the old key stop working, the new key's work.
async fn a_private_key_jwt_client_s_keys_can_be_replaced(app: TestApp) {
    let old_key = keys::SigningKey::generate(keys::Alg::ES256).unwrap();
    let new_key = keys::SigningKey::generate(keys::Alg::ES256).unwrap();
    let jwks_of = |k: &keys::SigningKey| json!({"keys": [k.public_jwk()]}).to_string();
    let rp = app
        .client(
            AuthMethod::PrivateKeyJwt,
            &[GrantType::ClientCredentials],
            Some(jwks_of(&old_key)),
        )
        .await;
    let status = |key: &keys::SigningKey, jti: String| {
        let a = assertion(key, &rp.id, &app.url("/token"), &jti, 60);
        let req = http().post(app.url("/token")).form(&[
            ("grant_type", "client_credentials".to_owned()),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".to_owned(),
            ),
            ("client_assertion", a),
        ]);
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(status(&old_key, "a0".into()).await, 200);
    app.change_client(&rp.id, |c| c.jwks = Some(jwks_of(&new_key)))
        .await;
    let mut n = 0;
    eventually("the old key refused", || {
        n += 1;
        let s = status(&old_key, format!("a{n}"));
        async move { s.await == 401 }
    })
    .await;
    assert_eq!(status(&new_key, "b1".into()).await, 200);
}

/// `Clients::update` with another method (`vhod clients update --auth-method`): leaving the
/// secret methods drops the secret in the store; coming back takes the new one given.
async fn a_client_s_authentication_method_can_change(app: TestApp) {
    let rp = app.confidential().await;
    let clients = app.app.db.clients();
    let stored = clients.get(&rp.id).await.unwrap().unwrap();
    let key = keys::SigningKey::generate(keys::Alg::ES256).unwrap();
    let to_jwt = idp::store::NewClient {
        auth_method: AuthMethod::PrivateKeyJwt,
        jwks: Some(json!({"keys": [key.public_jwk()]}).to_string()),
        ..stored.registration()
    };
    assert!(clients.update(&rp.id, &to_jwt, None).await.unwrap());
    let after = clients.get(&rp.id).await.unwrap().unwrap();
    assert_eq!(
        (after.auth_method, after.secret_hash.as_deref()),
        (AuthMethod::PrivateKeyJwt, None)
    );
    let (new_secret, new_hash) =
        idp::oauth::client_auth::new_secret(&app.app.secrets.client_secret_key);
    let back = idp::store::NewClient {
        auth_method: AuthMethod::ClientSecretBasic,
        jwks: None,
        ..after.registration()
    };
    assert!(clients
        .update(&rp.id, &back, Some(&new_hash))
        .await
        .unwrap());
    let after = clients.get(&rp.id).await.unwrap().unwrap();
    assert_eq!(after.auth_method, AuthMethod::ClientSecretBasic);
    assert_eq!(after.secret_hash.as_deref(), Some(new_hash.as_str()));
    eventually("the new secret accepted", || async {
        client_credentials_status(&app.base, &rp.id, &new_secret).await == 200
    })
    .await;
    assert_eq!(
        client_credentials_status(&app.base, &rp.id, rp.secret.as_deref().unwrap()).await,
        401
    );
}
