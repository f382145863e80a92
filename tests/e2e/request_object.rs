//! Request Objects by value (`request`, OIDC Core §6.1, RFC 9101): unsigned or signed with the
//! client's registered keys, their parameters replacing the request's, at the authorization
//! endpoint and in pushed requests; every bad one is `invalid_request_object`, sent back to
//! the client only at a registered redirect URI.

use crate::client_auth::assertion;
use crate::helpers::*;
use crate::on_both_stores;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use idp::oauth::types::GrantType;
use serde_json::{json, Value};

on_both_stores!(
    an_unsigned_request_object_s_parameters_replace_the_request_s,
    a_signed_request_object_must_verify_with_the_client_s_keys,
    a_request_object_can_be_pushed,
    a_client_can_be_made_to_sign_every_request,
);

const PW: &str = "correct horse battery";

/// An unsigned (`alg: none`) Request Object of `claims`.
fn unsigned(claims: &Value) -> String {
    let b64 = |v: &Value| URL_SAFE_NO_PAD.encode(v.to_string());
    format!("{}.{}.", b64(&json!({"alg": "none"})), b64(claims))
}

/// A Request Object of `claims` signed by `key` (with its kid).
fn signed(key: &keys::SigningKey, claims: &Value) -> String {
    keys::sign_jwt(key, Some("oauth-authz-req+jwt"), claims).unwrap()
}

/// The parameters of a code request by `rp` with PKCE, `state` and `nonce`; and the verifier.
fn request_claims(rp: &Rp, state: &str, nonce: &str) -> (Value, String) {
    let (verifier, challenge) = pkce();
    let c = json!({
        "client_id": rp.id,
        "redirect_uri": rp.redirect_uri,
        "response_type": "code",
        "scope": "openid email",
        "state": state,
        "nonce": nonce,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "max_age": 3600,
        "claims": {"id_token": {"email": {"essential": true}}},
    });
    (c, verifier)
}

/// `/authorize` with these query parameters.
fn authorize(app: &TestApp, q: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    s.extend_pairs(q);
    format!("{}/authorize?{}", app.base, s.finish())
}

/// `/authorize` for `rp` with its redirect URI and the Request Object `obj`.
fn with_object(app: &TestApp, rp: &Rp, obj: &str) -> String {
    authorize(
        app,
        &[
            ("client_id", &rp.id),
            ("redirect_uri", &rp.redirect_uri),
            ("request", obj),
        ],
    )
}

/// Where alice's browser lands after `url` (signing in and consenting when asked).
async fn land(app: &TestApp, url: &str) -> url::Url {
    let browser = Browser::new();
    let start = browser.get(&app.base, url).await;
    if let Landed::Redirect(u) = start {
        return u;
    }
    browser
        .login_and_consent(&app.base, start, "alice", PW)
        .await
        .redirect()
}

/// Where alice's browser lands from the `request_uri` of the push answered `r`.
async fn land_pushed(app: &TestApp, rp: &Rp, r: reqwest::Response) -> url::Url {
    let pushed: Value = r.json().await.unwrap();
    let url = authorize(
        app,
        &[
            ("client_id", &rp.id),
            ("request_uri", pushed["request_uri"].as_str().unwrap()),
        ],
    );
    land(app, &url).await
}

/// The OAuth error `url` answers, asserting it went back to `rp`'s redirect URI.
async fn error_at(app: &TestApp, rp: &Rp, url: &str) -> String {
    let back = land(app, url).await;
    assert!(back.as_str().starts_with(&rp.redirect_uri), "{back}");
    Landed::param(&back, "error").unwrap_or_default()
}

fn payload(jwt: &str) -> Value {
    let p = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap()
}

async fn an_unsigned_request_object_s_parameters_replace_the_request_s(app: TestApp) {
    app.user("alice", PW).await;
    let rp = app.confidential().await;
    let (claims, verifier) = request_claims(&rp, "st-object", "n-object");
    // JAR style (RFC 9101 §5): the request carries client_id and the object only.
    let obj = unsigned(&claims);
    let url = authorize(&app, &[("client_id", &rp.id), ("request", &obj)]);
    let back = land(&app, &url).await;
    assert_eq!(Landed::param(&back, "state").as_deref(), Some("st-object"));
    let code = Landed::param(&back, "code").expect("a code");
    let (st, t) = redeem(&app, &rp, &code, &verifier).await;
    assert_eq!(st, 200, "{t}");
    let id = payload(t["id_token"].as_str().unwrap());
    // The object's nonce, and its essential claim in the ID token.
    assert_eq!(
        (id["nonce"].as_str(), id["email"].as_str()),
        (Some("n-object"), Some("alice@example.com")),
        "{id}"
    );

    // OIDC style (§6.3.3): the object's parameters win over the request's, and the request's
    // others stay (here the redirect URI, absent from the object).
    let (mut claims, verifier) = request_claims(&rp, "st-object", "n-2");
    claims.as_object_mut().unwrap().remove("redirect_uri");
    let obj = unsigned(&claims);
    let url = authorize(
        &app,
        &[
            ("client_id", &rp.id),
            ("response_type", "code"),
            ("scope", "openid"),
            ("redirect_uri", &rp.redirect_uri),
            ("state", "st-outer"),
            ("request", &obj),
        ],
    );
    let back = land(&app, &url).await;
    assert_eq!(Landed::param(&back, "state").as_deref(), Some("st-object"));
    let (st, t) = redeem(&app, &rp, &Landed::param(&back, "code").unwrap(), &verifier).await;
    assert_eq!(
        (st, t["scope"].as_str()),
        (200, Some("openid email")),
        "{t}"
    );

    // Extreme times are compared without overflowing.
    let (mut claims, _) = request_claims(&rp, "st-far", "n");
    claims["exp"] = i64::MAX.into();
    claims["nbf"] = i64::MIN.into();
    let back = land(&app, &with_object(&app, &rp, &unsigned(&claims))).await;
    assert_eq!(Landed::param(&back, "state").as_deref(), Some("st-far"));

    // An object's redirect URI is matched exactly like the request's: never redirected to.
    let (mut claims, _) = request_claims(&rp, "s", "n");
    claims["redirect_uri"] = "https://attacker.example/cb".into();
    let url = authorize(
        &app,
        &[("client_id", &rp.id), ("request", &unsigned(&claims))],
    );
    let (status, _, html) = Browser::new().get(&app.base, &url).await.page();
    assert_eq!(status, 400, "{html}");
    assert!(!html.contains("attacker.example/cb?"), "{html}");

    // Bad objects go back to the request's redirect URI as invalid_request_object.
    let outer = |obj: &str| with_object(&app, &rp, obj);
    let (claims, _) = request_claims(&rp, "s", "n");
    let with = |change: &dyn Fn(&mut Value)| {
        let mut c = claims.clone();
        change(&mut c);
        unsigned(&c)
    };
    let now = keys::Clock::now(&keys::SystemClock);
    let mut header_crit = unsigned(&claims);
    header_crit.replace_range(
        ..header_crit.find('.').unwrap(),
        &URL_SAFE_NO_PAD.encode(r#"{"alg":"none","crit":["x"]}"#),
    );
    for (what, obj) in [
        ("not a JWT", "not-a-jwt".to_owned()),
        (
            "not JSON",
            format!("{}.e30x.", URL_SAFE_NO_PAD.encode("{}")),
        ),
        (
            "another client's",
            with(&|c| c["client_id"] = "vhc_other".into()),
        ),
        ("expired", with(&|c| c["exp"] = (now - 120).into())),
        ("not valid yet", with(&|c| c["nbf"] = (now + 600).into())),
        (
            "nested request_uri",
            with(&|c| c["request_uri"] = "urn:x".into()),
        ),
        ("critical extensions", header_crit),
        ("none with a signature", format!("{}sig", unsigned(&claims))),
        (
            "shared-secret alg",
            format!(
                "{}.{}.c2ln",
                URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256"}"#),
                URL_SAFE_NO_PAD.encode(claims.to_string())
            ),
        ),
    ] {
        assert_eq!(
            error_at(&app, &rp, &outer(&obj)).await,
            "invalid_request_object",
            "{what}"
        );
    }
    // An object's response_type must be the request's when both give one.
    let url = authorize(
        &app,
        &[
            ("client_id", &rp.id),
            ("redirect_uri", &rp.redirect_uri),
            ("response_type", "token"),
            ("request", &unsigned(&claims)),
        ],
    );
    assert_eq!(error_at(&app, &rp, &url).await, "invalid_request_object");
    // A bad object with an unregistered redirect URI: a page, no redirect.
    let url = authorize(
        &app,
        &[
            ("client_id", &rp.id),
            ("redirect_uri", "https://attacker.example/cb"),
            ("request", "not-a-jwt"),
        ],
    );
    let (status, _, _) = Browser::new().get(&app.base, &url).await.page();
    assert_eq!(status, 400);
    // A signed object from a client that registered no keys.
    let key = keys::SigningKey::generate(keys::Alg::ES256).unwrap();
    let mut c = claims.clone();
    c["iss"] = rp.id.clone().into();
    c["aud"] = app.base.clone().into();
    assert_eq!(
        error_at(&app, &rp, &outer(&signed(&key, &c))).await,
        "invalid_request_object"
    );
}

async fn a_signed_request_object_must_verify_with_the_client_s_keys(app: TestApp) {
    app.user("alice", PW).await;
    let (key, rp) = app.keyed_client(&[GrantType::AuthorizationCode]).await;
    let other = keys::SigningKey::generate(keys::Alg::ES256).unwrap();
    let (mut claims, verifier) = request_claims(&rp, "st-signed", "n-signed");
    claims["iss"] = rp.id.clone().into();
    claims["aud"] = app.base.clone().into();
    claims["exp"] = (keys::Clock::now(&keys::SystemClock) + 300).into();
    let outer = |obj: &str| with_object(&app, &rp, obj);
    let back = land(&app, &outer(&signed(&key, &claims))).await;
    assert_eq!(Landed::param(&back, "state").as_deref(), Some("st-signed"));
    let code = Landed::param(&back, "code").expect("a code");
    let token_url = app.url("/token");
    let r = http()
        .post(&token_url)
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", &rp.redirect_uri),
            ("code_verifier", &verifier),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            (
                "client_assertion",
                &assertion(&key, &rp.id, &token_url, "jti-ro-1", 60),
            ),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let t: Value = r.json().await.unwrap();
    assert_eq!(
        payload(t["id_token"].as_str().unwrap())["nonce"],
        "n-signed"
    );

    for (what, obj) in [
        ("signed by another key", signed(&other, &claims)),
        ("no aud", {
            let mut c = claims.clone();
            c.as_object_mut().unwrap().remove("aud");
            signed(&key, &c)
        }),
        ("another issuer's aud", {
            let mut c = claims.clone();
            c["aud"] = "https://elsewhere.example".into();
            signed(&key, &c)
        }),
        ("another iss", {
            let mut c = claims.clone();
            c["iss"] = "vhc_other".into();
            signed(&key, &c)
        }),
        ("a changed payload", {
            let s = signed(&key, &claims);
            let mut parts: Vec<&str> = s.split('.').collect();
            let mut c = claims.clone();
            c["scope"] = "openid email phone".into();
            let forged = URL_SAFE_NO_PAD.encode(c.to_string());
            parts[1] = &forged;
            parts.join(".")
        }),
    ] {
        assert_eq!(
            error_at(&app, &rp, &outer(&obj)).await,
            "invalid_request_object",
            "{what}"
        );
    }
    // aud may be a list naming the issuer.
    let mut c = claims.clone();
    c["aud"] = json!(["https://elsewhere.example", app.base]);
    let back = land(&app, &outer(&signed(&key, &c))).await;
    assert!(Landed::param(&back, "code").is_some(), "{back}");
}

/// RFC 9126 §3: a pushed request may be a Request Object; it is applied at the push, and
/// checked there (a bad one is refused to the client at once).
async fn a_request_object_can_be_pushed(app: TestApp) {
    app.user("alice", PW).await;
    let rp = app.confidential().await;
    let (claims, verifier) = request_claims(&rp, "st-pushed", "n-pushed");
    let push = |obj: String| {
        http()
            .post(app.url("/par"))
            .basic_auth(&rp.id, rp.secret.as_deref())
            .form(&[("request", obj)])
            .send()
    };
    let r = push(unsigned(&claims)).await.unwrap();
    assert_eq!(r.status(), 201);
    let back = land_pushed(&app, &rp, r).await;
    assert_eq!(Landed::param(&back, "state").as_deref(), Some("st-pushed"));
    let (st, t) = redeem(&app, &rp, &Landed::param(&back, "code").unwrap(), &verifier).await;
    assert_eq!(st, 200, "{t}");
    assert_eq!(
        payload(t["id_token"].as_str().unwrap())["nonce"],
        "n-pushed"
    );

    // Another client's object is refused; the object's parameters are checked as a
    // request's are.
    for (name, value, error) in [
        ("client_id", "vhc_other", "invalid_request_object"),
        ("code_challenge_method", "plain", "invalid_request"),
    ] {
        let mut bad = claims.clone();
        bad[name] = value.into();
        let r = push(unsigned(&bad)).await.unwrap();
        assert_eq!(r.status(), 400, "{name}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"], error, "{name}");
    }
}

/// `require_signed_request_object` (RFC 9101 §10.5): the client's requests count only as
/// signed Request Objects, by value or pushed; a plain request is `invalid_request`, an
/// unsigned object `invalid_request_object`.
async fn a_client_can_be_made_to_sign_every_request(app: TestApp) {
    app.user("alice", PW).await;
    let (key, rp) = app.keyed_client(&[GrantType::AuthorizationCode]).await;
    let stored = app
        .change_client(&rp.id, |c| c.require_signed_request_object = true)
        .await;
    assert!(stored.require_signed_request_object);
    let (mut claims, _) = request_claims(&rp, "st-must", "n-must");
    claims["iss"] = rp.id.clone().into();
    claims["aud"] = app.base.clone().into();

    let (plain, _) = authorize_url(&app, &rp, &[]);
    assert_eq!(error_at(&app, &rp, &plain).await, "invalid_request");
    let unsigned_url = with_object(&app, &rp, &unsigned(&claims));
    assert_eq!(
        error_at(&app, &rp, &unsigned_url).await,
        "invalid_request_object"
    );
    let back = land(&app, &with_object(&app, &rp, &signed(&key, &claims))).await;
    assert_eq!(Landed::param(&back, "state").as_deref(), Some("st-must"));
    assert!(Landed::param(&back, "code").is_some(), "{back}");

    // Pushed: the same rule at the push; what was pushed signed then signs in.
    let par_url = app.url("/par");
    let push = |mut form: Vec<(String, String)>, jti: &str| {
        form.push((
            "client_assertion_type".into(),
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
        ));
        form.push((
            "client_assertion".into(),
            assertion(&key, &rp.id, &app.base, jti, 60),
        ));
        http().post(&par_url).form(&form).send()
    };
    let request = |obj: String| vec![("request".to_owned(), obj)];
    // The same request as plain parameters.
    let plain_form: Vec<(String, String)> = claims
        .as_object()
        .unwrap()
        .iter()
        .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
        .filter(|(k, _)| k != "iss" && k != "aud")
        .collect();
    for (form, jti, error) in [
        (plain_form, "par-1", "invalid_request"),
        (
            request(unsigned(&claims)),
            "par-2",
            "invalid_request_object",
        ),
    ] {
        let r = push(form, jti).await.unwrap();
        assert_eq!(r.status(), 400);
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"], error, "{e}");
    }
    let r = push(request(signed(&key, &claims)), "par-3").await.unwrap();
    assert_eq!(r.status(), 201);
    let back = land_pushed(&app, &rp, r).await;
    assert_eq!(Landed::param(&back, "state").as_deref(), Some("st-must"));
}
