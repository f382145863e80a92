//! DPoP, sender-constrained tokens (RFC 9449): a token request with a proof gets a token bound
//! to the proof's key (`token_type: DPoP`, `cnf.jkt`), which userinfo takes only under the
//! DPoP scheme with a fresh proof of that key for that request and token; a public client's
//! refresh token is bound too; every malformed or mismatched proof is `invalid_dpop_proof`.

use crate::helpers::*;
use crate::{on_both_store_kinds, on_both_stores};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use idp::oauth::types::{AuthMethod, GrantType};
use keys::dpop::{access_token_hash, sign_proof, thumbprint};
use serde_json::{json, Value};

on_both_stores!(
    a_dpop_bound_token_works_only_with_a_proof_of_its_key,
    a_public_client_s_refresh_token_is_bound_to_its_key,
    bad_proofs_at_the_token_endpoint_are_invalid_dpop_proof,
    a_client_registered_for_dpop_gets_no_bearer_token,
    a_code_bound_with_dpop_jkt_or_a_pushed_proof_needs_that_key,
    the_signer_api_takes_a_bound_token_only_with_a_proof_of_its_key,
    every_answer_to_a_proof_brings_a_nonce_and_a_proof_s_nonce_must_be_good,
);

on_both_store_kinds!(with_nonces_required_every_proof_needs_a_good_one);

/// Asserts that an answer is the OAuth error `error` with `status`.
#[track_caller]
fn assert_error((status_was, body): &(u16, Value), status: u16, error: &str) {
    assert_eq!(
        (*status_was, body["error"].as_str()),
        (status, Some(error)),
        "{body}"
    );
}

fn es256() -> keys::SigningKey {
    keys::SigningKey::generate(keys::Alg::ES256).unwrap()
}

fn now() -> i64 {
    keys::Clock::now(&keys::SystemClock)
}

/// A fresh proof for `htm` `htu`, naming `token` when given.
fn proof(key: &keys::SigningKey, htm: &str, htu: &str, token: Option<&str>) -> String {
    proof_with_nonce(key, htm, htu, token, None)
}

/// A fresh proof as [`proof`], carrying `nonce` when given.
fn proof_with_nonce(
    key: &keys::SigningKey,
    htm: &str,
    htu: &str,
    token: Option<&str>,
    nonce: Option<&str>,
) -> String {
    let mut c =
        json!({"jti": uuid::Uuid::new_v4().to_string(), "htm": htm, "htu": htu, "iat": now()});
    if let Some(t) = token {
        c["ath"] = access_token_hash(t).into();
    }
    if let Some(n) = nonce {
        c["nonce"] = n.into();
    }
    sign_proof(key, &c).unwrap()
}

/// A JWS of `header` and `claims` signed by `key`, whatever they say.
fn raw(key: &keys::SigningKey, header: &Value, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig = key.sign(input.as_bytes()).unwrap();
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

fn payload(jwt: &str) -> Value {
    let p = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(p).unwrap()).unwrap()
}

/// A code for `rp` after alice signs in and consents; (code, verifier).
async fn code_for(app: &TestApp, rp: &Rp) -> (String, String) {
    let (url, verifier) = authorize_url(app, rp, &[("scope", "openid profile offline_access")]);
    (code_at(app, &url).await, verifier)
}

/// The code alice's browser gets back from the authorization request `url`.
async fn code_at(app: &TestApp, url: &str) -> String {
    let alice = app.app.db.accounts().by_login("alice").await.unwrap();
    if alice.is_none() {
        app.user("alice", "correct horse battery").await;
    }
    let browser = Browser::new();
    let landed = browser
        .sign_in_at(&app.base, url, "alice", "correct horse battery")
        .await;
    Landed::param(&landed, "code").unwrap()
}

/// Redeems `code` for `rp` with these DPoP headers.
async fn redeem_with(
    app: &TestApp,
    rp: &Rp,
    code: &str,
    verifier: &str,
    proofs: &[&str],
) -> (u16, Value) {
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", rp.redirect_uri.as_str()),
        ("code_verifier", verifier),
    ];
    token(app, rp, &form, proofs).await
}

/// A token request with `form`, authenticated as `rp` (Basic for a confidential client,
/// `client_id` for a public one), with these DPoP headers.
async fn token(app: &TestApp, rp: &Rp, form: &[(&str, &str)], proofs: &[&str]) -> (u16, Value) {
    let a = token_answer(app, rp, form, proofs).await;
    (a.status, a.body)
}

/// [`token`]'s whole answer.
async fn token_answer(app: &TestApp, rp: &Rp, form: &[(&str, &str)], proofs: &[&str]) -> Answer {
    let mut form: Vec<(&str, &str)> = form.to_vec();
    let mut req = http().post(app.url("/token"));
    match &rp.secret {
        Some(s) => req = req.basic_auth(&rp.id, Some(s)),
        None => form.push(("client_id", &rp.id)),
    }
    answer(req.form(&form), proofs).await
}

async fn redeem_code(app: &TestApp, rp: &Rp, proofs: &[&str]) -> (u16, Value) {
    let (code, verifier) = code_for(app, rp).await;
    redeem_with(app, rp, &code, &verifier, proofs).await
}

/// userinfo by `method` with this Authorization header and DPoP headers: status, JSON,
/// WWW-Authenticate.
async fn userinfo(
    app: &TestApp,
    method: reqwest::Method,
    authorization: &str,
    proofs: &[&str],
) -> (u16, Value, String) {
    let req = http()
        .request(method, app.url("/userinfo"))
        .header("Authorization", authorization);
    send_proved(req, proofs).await
}

/// Sends `req` with these DPoP headers: status, JSON body (null if none), WWW-Authenticate.
async fn send_proved(req: reqwest::RequestBuilder, proofs: &[&str]) -> (u16, Value, String) {
    let a = answer(req, proofs).await;
    (a.status, a.body, a.www)
}

/// What a server answered.
struct Answer {
    status: u16,
    /// The JSON body, null if none.
    body: Value,
    /// `WWW-Authenticate`, empty if none.
    www: String,
    /// `DPoP-Nonce`, if any.
    nonce: Option<String>,
}

/// Sends `req` with these DPoP headers.
async fn answer(mut req: reqwest::RequestBuilder, proofs: &[&str]) -> Answer {
    for p in proofs {
        req = req.header("DPoP", *p);
    }
    let r = req.send().await.unwrap();
    let header = |name: &str| {
        r.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    let (www, nonce) = (
        header("www-authenticate").unwrap_or_default(),
        header("dpop-nonce"),
    );
    Answer {
        status: r.status().as_u16(),
        body: r.json().await.unwrap_or_default(),
        www,
        nonce,
    }
}

async fn a_dpop_bound_token_works_only_with_a_proof_of_its_key(app: TestApp) {
    let rp = app.confidential().await;
    let (key, other) = (es256(), es256());
    let token_url = app.url("/token");
    let ui = app.url("/userinfo");
    let (st, t) = redeem_code(&app, &rp, &[&proof(&key, "POST", &token_url, None)]).await;
    assert_eq!((st, t["token_type"].as_str()), (200, Some("DPoP")), "{t}");
    let at = t["access_token"].as_str().unwrap().to_owned();
    let jkt = thumbprint(&key.public_jwk()).unwrap();
    assert_eq!(payload(&at)["cnf"]["jkt"], jkt.as_str());
    let dpop_auth = format!("DPoP {at}");

    // With a proof of its key for this request and this token.
    let (st, u, _) = userinfo(
        &app,
        reqwest::Method::GET,
        &dpop_auth,
        &[&proof(&key, "GET", &ui, Some(&at))],
    )
    .await;
    assert_eq!(st, 200, "{u}");
    assert!(u["sub"].is_string());
    let (st, _, _) = userinfo(
        &app,
        reqwest::Method::POST,
        &dpop_auth,
        &[&proof(&key, "POST", &ui, Some(&at))],
    )
    .await;
    assert_eq!(st, 200);

    // A stolen token alone is useless: as a Bearer token, or in the form body.
    let (st, e, www) = userinfo(&app, reqwest::Method::GET, &format!("Bearer {at}"), &[]).await;
    assert_eq!((st, e["error"].as_str()), (401, Some("invalid_token")));
    assert!(www.starts_with("DPoP "), "{www}");
    let r = http()
        .post(&ui)
        .form(&[("access_token", at.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    // Each wrong proof is refused with invalid_dpop_proof and a DPoP challenge.
    let stale = sign_proof(
        &key,
        &json!({"jti": "old", "htm": "GET", "htu": ui, "iat": now() - 600, "ath": access_token_hash(&at)}),
    )
    .unwrap();
    let replayed = proof(&key, "GET", &ui, Some(&at));
    assert_eq!(
        userinfo(&app, reqwest::Method::GET, &dpop_auth, &[&replayed])
            .await
            .0,
        200
    );
    for (what, proofs) in [
        ("no proof", vec![]),
        ("another key", vec![proof(&other, "GET", &ui, Some(&at))]),
        ("no ath", vec![proof(&key, "GET", &ui, None)]),
        (
            "another token's ath",
            vec![proof(&key, "GET", &ui, Some("x"))],
        ),
        ("wrong method", vec![proof(&key, "POST", &ui, Some(&at))]),
        ("wrong URL", vec![proof(&key, "GET", &token_url, Some(&at))]),
        ("stale", vec![stale.clone()]),
        ("replayed", vec![replayed.clone()]),
        (
            "two proofs",
            vec![
                proof(&key, "GET", &ui, Some(&at)),
                proof(&key, "GET", &ui, Some(&at)),
            ],
        ),
    ] {
        let proofs: Vec<&str> = proofs.iter().map(String::as_str).collect();
        let (st, e, www) = userinfo(&app, reqwest::Method::GET, &dpop_auth, &proofs).await;
        assert_eq!(
            (st, e["error"].as_str()),
            (401, Some("invalid_dpop_proof")),
            "{what}: {e}"
        );
        assert!(
            www.starts_with("DPoP ") && www.contains("error=\"invalid_dpop_proof\""),
            "{what}: {www}"
        );
    }

    // A token that is not bound is refused under the DPoP scheme, and works as Bearer.
    let (st, plain) = redeem_code(&app, &rp, &[]).await;
    assert_eq!((st, plain["token_type"].as_str()), (200, Some("Bearer")));
    let plain_at = plain["access_token"].as_str().unwrap();
    assert!(payload(plain_at).get("cnf").is_none());
    let (st, e, _) = userinfo(
        &app,
        reqwest::Method::GET,
        &format!("DPoP {plain_at}"),
        &[&proof(&key, "GET", &ui, Some(plain_at))],
    )
    .await;
    assert_eq!((st, e["error"].as_str()), (401, Some("invalid_token")));
    assert_eq!(
        userinfo(
            &app,
            reqwest::Method::GET,
            &format!("Bearer {plain_at}"),
            &[]
        )
        .await
        .0,
        200
    );

    // Introspection tells a resource server what the token is bound to.
    let r = http()
        .post(app.url("/introspect"))
        .basic_auth(&rp.id, rp.secret.as_deref())
        .form(&[("token", at.as_str())])
        .send()
        .await
        .unwrap();
    let i: Value = r.json().await.unwrap();
    assert_eq!(
        (i["active"].as_bool(), i["token_type"].as_str()),
        (Some(true), Some("DPoP"))
    );
    assert_eq!(i["cnf"]["jkt"], jkt.as_str());

    // A confidential client's refresh token is not bound (its authentication protects it);
    // with a proof, the new access token is bound to the proof's key.
    let rt = t["refresh_token"].as_str().unwrap();
    let (st, r1) = token(
        &app,
        &rp,
        &[("grant_type", "refresh_token"), ("refresh_token", rt)],
        &[],
    )
    .await;
    assert_eq!(
        (st, r1["token_type"].as_str()),
        (200, Some("Bearer")),
        "{r1}"
    );
    let rt = r1["refresh_token"].as_str().unwrap();
    let (st, r2) = token(
        &app,
        &rp,
        &[("grant_type", "refresh_token"), ("refresh_token", rt)],
        &[&proof(&other, "POST", &token_url, None)],
    )
    .await;
    assert_eq!((st, r2["token_type"].as_str()), (200, Some("DPoP")), "{r2}");
    assert_eq!(
        payload(r2["access_token"].as_str().unwrap())["cnf"]["jkt"],
        thumbprint(&other.public_jwk()).unwrap().as_str()
    );

    // client_credentials too; as a Bearer token, the signer's API refuses it.
    let (st, cc) = token(
        &app,
        &rp,
        &[("grant_type", "client_credentials")],
        &[&proof(&key, "POST", &token_url, None)],
    )
    .await;
    assert_eq!((st, cc["token_type"].as_str()), (200, Some("DPoP")), "{cc}");
    let r = http()
        .get(app.url("/api/signer/v1/requests/nothing"))
        .bearer_auth(cc["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("DPoP-bound"));

    let d = get_json(&app.url("/.well-known/openid-configuration")).await;
    assert!(d["dpop_signing_alg_values_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("ES256")));
}

async fn a_public_client_s_refresh_token_is_bound_to_its_key(app: TestApp) {
    let rp = app
        .client(
            AuthMethod::None,
            &[GrantType::AuthorizationCode, GrantType::RefreshToken],
            None,
        )
        .await;
    let (key, other) = (es256(), es256());
    let token_url = app.url("/token");
    let refresh = |rt: String, p: Option<String>| {
        let (app, rp) = (&app, &rp);
        async move {
            let proofs: Vec<&str> = p.iter().map(String::as_str).collect();
            token(
                app,
                rp,
                &[("grant_type", "refresh_token"), ("refresh_token", &rt)],
                &proofs,
            )
            .await
        }
    };

    let (st, t) = redeem_code(&app, &rp, &[&proof(&key, "POST", &token_url, None)]).await;
    assert_eq!((st, t["token_type"].as_str()), (200, Some("DPoP")), "{t}");
    let rt = t["refresh_token"].as_str().unwrap().to_owned();
    // The same key refreshes, and the new access token is bound to it.
    let (st, t2) = refresh(rt, Some(proof(&key, "POST", &token_url, None))).await;
    assert_eq!((st, t2["token_type"].as_str()), (200, Some("DPoP")), "{t2}");
    let rt2 = t2["refresh_token"].as_str().unwrap().to_owned();
    // Another key, or none, cannot; the refusals do not spend the token.
    assert_error(
        &refresh(rt2.clone(), Some(proof(&other, "POST", &token_url, None))).await,
        400,
        "invalid_grant",
    );
    assert_error(&refresh(rt2.clone(), None).await, 400, "invalid_grant");
    let (st, t3) = refresh(rt2, Some(proof(&key, "POST", &token_url, None))).await;
    assert_eq!((st, t3["token_type"].as_str()), (200, Some("DPoP")), "{t3}");
    let (st, t) = redeem_code(&app, &rp, &[&proof(&key, "POST", &token_url, None)]).await;
    assert_eq!(st, 200);
    assert_error(
        &refresh(t["refresh_token"].as_str().unwrap().to_owned(), None).await,
        400,
        "invalid_grant",
    );

    // Without DPoP the public client's refresh tokens stay unbound, as before.
    let (st, t) = redeem_code(&app, &rp, &[]).await;
    assert_eq!((st, t["token_type"].as_str()), (200, Some("Bearer")));
    let (st, t) = refresh(t["refresh_token"].as_str().unwrap().to_owned(), None).await;
    assert_eq!((st, t["token_type"].as_str()), (200, Some("Bearer")), "{t}");
}

async fn bad_proofs_at_the_token_endpoint_are_invalid_dpop_proof(app: TestApp) {
    let rp = app.confidential().await;
    let (key, other) = (es256(), es256());
    let token_url = app.url("/token");
    let cc = [("grant_type", "client_credentials")];
    let claims = |htm: &str, htu: &str, iat: i64| json!({"jti": uuid::Uuid::new_v4().to_string(), "htm": htm, "htu": htu, "iat": iat});
    let header = |typ: &str, alg: &str, jwk: Value| json!({"typ": typ, "alg": alg, "jwk": jwk});
    let public = serde_json::to_value(key.public_jwk()).unwrap();
    let mut with_d = public.clone();
    with_d["d"] = "AAAA".into();
    let fine = || claims("POST", &token_url, now());
    let replayed = proof(&key, "POST", &token_url, None);
    assert_eq!(token(&app, &rp, &cc, &[&replayed]).await.0, 200);
    // Query and fragment are not part of htu's comparison; a proof from 59 s ahead is fine.
    let with_query = sign_proof(&key, &claims("POST", &format!("{token_url}?a=1"), now())).unwrap();
    assert_eq!(token(&app, &rp, &cc, &[&with_query]).await.0, 200);
    let ahead = sign_proof(&key, &claims("POST", &token_url, now() + 50)).unwrap();
    assert_eq!(token(&app, &rp, &cc, &[&ahead]).await.0, 200);

    let mut no_jti = fine();
    no_jti.as_object_mut().unwrap().remove("jti");
    let cases: Vec<(&str, Vec<String>)> = vec![
        ("garbage", vec!["abc".into()]),
        (
            "typ JWT",
            vec![raw(&key, &header("JWT", "ES256", public.clone()), &fine())],
        ),
        (
            "alg HS256",
            vec![raw(
                &key,
                &header("dpop+jwt", "HS256", public.clone()),
                &fine(),
            )],
        ),
        (
            "no jwk",
            vec![raw(
                &key,
                &json!({"typ": "dpop+jwt", "alg": "ES256"}),
                &fine(),
            )],
        ),
        (
            "private jwk",
            vec![raw(&key, &header("dpop+jwt", "ES256", with_d), &fine())],
        ),
        (
            "another key signed",
            vec![raw(
                &other,
                &header("dpop+jwt", "ES256", public.clone()),
                &fine(),
            )],
        ),
        ("no jti", vec![sign_proof(&key, &no_jti).unwrap()]),
        (
            "htm GET",
            vec![sign_proof(&key, &claims("GET", &token_url, now())).unwrap()],
        ),
        (
            "htu userinfo",
            vec![sign_proof(&key, &claims("POST", &app.url("/userinfo"), now())).unwrap()],
        ),
        (
            "old iat",
            vec![sign_proof(&key, &claims("POST", &token_url, now() - 400)).unwrap()],
        ),
        (
            "future iat",
            vec![sign_proof(&key, &claims("POST", &token_url, now() + 120)).unwrap()],
        ),
        ("replayed", vec![replayed]),
        (
            "two headers",
            vec![
                proof(&key, "POST", &token_url, None),
                proof(&key, "POST", &token_url, None),
            ],
        ),
    ];
    for (what, proofs) in cases {
        let proofs: Vec<&str> = proofs.iter().map(String::as_str).collect();
        let (st, e) = token(&app, &rp, &cc, &proofs).await;
        assert_eq!(
            (st, e["error"].as_str()),
            (400, Some("invalid_dpop_proof")),
            "{what}: {e}"
        );
    }
    // The refusals issued nothing and harmed nothing: a good proof still works.
    let (st, t) = token(&app, &rp, &cc, &[&proof(&key, "POST", &token_url, None)]).await;
    assert_eq!((st, t["token_type"].as_str()), (200, Some("DPoP")));
}

/// `dpop_bound_access_tokens` (RFC 9449 §5.2, `clients add --require-dpop`): a token request
/// without a proof is refused, for every grant.
async fn a_client_registered_for_dpop_gets_no_bearer_token(app: TestApp) {
    let rp = app.confidential().await;
    let c = app
        .change_client(&rp.id, |c| c.dpop_bound_access_tokens = true)
        .await;
    assert!(c.dpop_bound_access_tokens);
    let key = es256();
    let token_url = app.url("/token");
    let cc = [("grant_type", "client_credentials")];
    assert_error(&token(&app, &rp, &cc, &[]).await, 400, "invalid_dpop_proof");
    assert_error(
        &redeem_code(&app, &rp, &[]).await,
        400,
        "invalid_dpop_proof",
    );
    let (st, t) = redeem_code(&app, &rp, &[&proof(&key, "POST", &token_url, None)]).await;
    assert_eq!((st, t["token_type"].as_str()), (200, Some("DPoP")), "{t}");
    let rt = t["refresh_token"].as_str().unwrap();
    assert_error(
        &token(
            &app,
            &rp,
            &[("grant_type", "refresh_token"), ("refresh_token", rt)],
            &[],
        )
        .await,
        400,
        "invalid_dpop_proof",
    );
    let (st, t) = token(&app, &rp, &cc, &[&proof(&key, "POST", &token_url, None)]).await;
    assert_eq!((st, t["token_type"].as_str()), (200, Some("DPoP")));
}

/// RFC 9449 §10: a code asked for with `dpop_jkt`, or pushed with a DPoP proof, is redeemed
/// only with a proof of that key.
async fn a_code_bound_with_dpop_jkt_or_a_pushed_proof_needs_that_key(app: TestApp) {
    let rp = app.confidential().await;
    let (key, other) = (es256(), es256());
    let jkt = thumbprint(&key.public_jwk()).unwrap();
    let token_url = app.url("/token");
    let by = |k: &keys::SigningKey| proof(k, "POST", &token_url, None);

    // Front channel: dpop_jkt in the authorization request.
    let bound = |jkt: &str| authorize_url(&app, &rp, &[("dpop_jkt", jkt)]);
    for wrong in [Some(by(&other)), None] {
        let (url, verifier) = bound(&jkt);
        let code = code_at(&app, &url).await;
        let proofs: Vec<&str> = wrong.iter().map(String::as_str).collect();
        assert_error(
            &redeem_with(&app, &rp, &code, &verifier, &proofs).await,
            400,
            "invalid_dpop_proof",
        );
    }
    let (url, verifier) = bound(&jkt);
    let code = code_at(&app, &url).await;
    let (st, t) = redeem_with(&app, &rp, &code, &verifier, &[&by(&key)]).await;
    assert_eq!((st, t["token_type"].as_str()), (200, Some("DPoP")), "{t}");
    // A malformed dpop_jkt goes back to the client as invalid_request.
    let (url, _) = bound("not-a-thumbprint");
    let r = http().get(&url).send().await.unwrap();
    let location = r.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        location.starts_with(&rp.redirect_uri) && location.contains("error=invalid_request"),
        "{location}"
    );

    // Pushed: the DPoP proof of the push binds the code, as dpop_jkt does.
    let par_url = app.url("/par");
    let push = |extra: Vec<(&'static str, String)>, proofs: Vec<String>| {
        let (app, rp) = (&app, &rp);
        async move {
            let (verifier, challenge) = pkce();
            let mut form = vec![
                ("redirect_uri", rp.redirect_uri.clone()),
                ("response_type", "code".to_owned()),
                ("scope", "openid".to_owned()),
                ("code_challenge", challenge),
                ("code_challenge_method", "S256".to_owned()),
            ];
            form.extend(extra);
            let mut req = http()
                .post(app.url("/par"))
                .basic_auth(&rp.id, rp.secret.as_deref());
            for p in &proofs {
                req = req.header("DPoP", p);
            }
            let r = req.form(&form).send().await.unwrap();
            let status = r.status().as_u16();
            (
                status,
                r.json::<Value>().await.unwrap_or_default(),
                verifier,
            )
        }
    };
    let authorize_pushed = |pushed: &Value| {
        format!(
            "{}/authorize?client_id={}&request_uri={}",
            app.base,
            rp.id,
            pushed["request_uri"].as_str().unwrap()
        )
    };
    let (st, pushed, verifier) = push(vec![], vec![proof(&key, "POST", &par_url, None)]).await;
    assert_eq!(st, 201, "{pushed}");
    let code = code_at(&app, &authorize_pushed(&pushed)).await;
    assert_error(
        &redeem_with(&app, &rp, &code, &verifier, &[&by(&other)]).await,
        400,
        "invalid_dpop_proof",
    );
    // A push whose dpop_jkt names another key than its proof, or with a bad proof, is refused.
    let other_jkt = thumbprint(&other.public_jwk()).unwrap();
    let (st, e, _) = push(
        vec![("dpop_jkt", other_jkt)],
        vec![proof(&key, "POST", &par_url, None)],
    )
    .await;
    assert_eq!(
        (st, e["error"].as_str()),
        (400, Some("invalid_dpop_proof")),
        "{e}"
    );
    let (st, e, _) = push(vec![], vec![proof(&key, "POST", &token_url, None)]).await;
    assert_eq!(
        (st, e["error"].as_str()),
        (400, Some("invalid_dpop_proof")),
        "{e}"
    );
    // dpop_jkt alone in a push binds too, and the right key redeems.
    let (st, pushed, verifier) = push(vec![("dpop_jkt", jkt.clone())], vec![]).await;
    assert_eq!(st, 201);
    let code = code_at(&app, &authorize_pushed(&pushed)).await;
    let (st, t) = redeem_with(&app, &rp, &code, &verifier, &[&by(&key)]).await;
    assert_eq!((st, t["token_type"].as_str()), (200, Some("DPoP")), "{t}");
}

/// The signer's API is a resource server too: a DPoP-bound token with the `sign` scope works
/// there under the DPoP scheme with a fresh proof of its key for that request, and not
/// otherwise.
async fn the_signer_api_takes_a_bound_token_only_with_a_proof_of_its_key(app: TestApp) {
    let (rp, _) = app
        .machine_client(AuthMethod::ClientSecretBasic, |c| {
            c.scope.push("sign".into())
        })
        .await;
    let (key, other) = (es256(), es256());
    let (st, t) = token(
        &app,
        &rp,
        &[("grant_type", "client_credentials"), ("scope", "sign")],
        &[&proof(&key, "POST", &app.url("/token"), None)],
    )
    .await;
    assert_eq!((st, t["token_type"].as_str()), (200, Some("DPoP")), "{t}");
    let at = t["access_token"].as_str().unwrap();
    let url = app.url("/api/signer/v1/requests/no-such-request");
    let get = |auth: String, proofs: Vec<String>| {
        let url = url.clone();
        async move {
            let proofs: Vec<&str> = proofs.iter().map(String::as_str).collect();
            let req = http().get(&url).header("Authorization", auth);
            let (st, _, www) = send_proved(req, &proofs).await;
            (st, www)
        }
    };
    let dpop = format!("DPoP {at}");
    // Authenticated: the request is looked up (and there is none).
    let good = proof(&key, "GET", &url, Some(at));
    assert_eq!(get(dpop.clone(), vec![good.clone()]).await.0, 404);
    for (what, auth, proofs) in [
        ("replayed", dpop.clone(), vec![good]),
        ("no proof", dpop.clone(), vec![]),
        (
            "another key",
            dpop.clone(),
            vec![proof(&other, "GET", &url, Some(at))],
        ),
        (
            "another URL",
            dpop.clone(),
            vec![proof(&key, "GET", &app.url("/userinfo"), Some(at))],
        ),
        (
            "another method",
            dpop.clone(),
            vec![proof(&key, "POST", &url, Some(at))],
        ),
        ("no ath", dpop.clone(), vec![proof(&key, "GET", &url, None)]),
    ] {
        let (st, www) = get(auth, proofs).await;
        assert_eq!(st, 401, "{what}");
        assert!(
            www.contains("error=\"invalid_dpop_proof\""),
            "{what}: {www}"
        );
    }
    let (st, www) = get(format!("Bearer {at}"), vec![]).await;
    assert_eq!(st, 401);
    assert!(
        www.starts_with("DPoP ") && www.contains("invalid_token"),
        "{www}"
    );
}

/// What the nonce tests send: proofs of `key`, for a `client_credentials` client with the
/// `sign` scope (`rp`) and a code-flow client (`code_rp`).
struct NonceRig<'a> {
    app: &'a TestApp,
    key: keys::SigningKey,
    rp: Rp,
    code_rp: Rp,
}

impl NonceRig<'_> {
    async fn new(app: &TestApp) -> NonceRig<'_> {
        let (rp, _) = app
            .machine_client(AuthMethod::ClientSecretBasic, |c| {
                c.scope.push("sign".into())
            })
            .await;
        NonceRig {
            app,
            key: es256(),
            rp,
            code_rp: app.confidential().await,
        }
    }

    /// A token-endpoint proof carrying `nonce`.
    fn token_proof(&self, nonce: Option<&str>) -> String {
        proof_with_nonce(&self.key, "POST", &self.app.url("/token"), None, nonce)
    }

    /// A `client_credentials` grant of the `sign` scope with a proof carrying `nonce`.
    async fn grant(&self, nonce: Option<&str>) -> Answer {
        let cc = [("grant_type", "client_credentials"), ("scope", "sign")];
        token_answer(self.app, &self.rp, &cc, &[&self.token_proof(nonce)]).await
    }

    /// A pushed authorization request of `code_rp` with a proof carrying `nonce`.
    async fn push(&self, nonce: Option<&str>) -> Answer {
        let (url, rp) = (self.app.url("/par"), &self.code_rp);
        let (_, challenge) = pkce();
        let form = [
            ("redirect_uri", rp.redirect_uri.as_str()),
            ("response_type", "code"),
            ("scope", "openid"),
            ("code_challenge", challenge.as_str()),
            ("code_challenge_method", "S256"),
        ];
        let req = http()
            .post(&url)
            .basic_auth(&rp.id, rp.secret.as_deref())
            .form(&form);
        let p = proof_with_nonce(&self.key, "POST", &url, None, nonce);
        answer(req, &[&p]).await
    }

    /// A GET of `path` with the bound token `at` and a proof carrying `nonce`.
    async fn get(&self, path: &str, at: &str, nonce: Option<&str>) -> Answer {
        let url = self.app.url(path);
        let req = http()
            .get(&url)
            .header("Authorization", format!("DPoP {at}"));
        answer(
            req,
            &[&proof_with_nonce(&self.key, "GET", &url, Some(at), nonce)],
        )
        .await
    }

    /// userinfo with the bound token `at` and a proof carrying `first`, which must be asked
    /// for a nonce, then with the nonce given: the claims.
    async fn userinfo_once_asked(&self, at: &str, first: Option<&str>) -> Answer {
        let fresh = asked_for_nonce(self.get("/userinfo", at, first).await);
        let a = self.get("/userinfo", at, Some(&fresh)).await;
        assert_eq!(
            (a.status, a.body["sub"].is_string()),
            (200, true),
            "{}",
            a.body
        );
        a
    }

    /// The signer's API: a request that does not exist (404 once the caller is let in).
    async fn signer(&self, at: &str, nonce: Option<&str>) -> Answer {
        self.get("/api/signer/v1/requests/no-such-request", at, nonce)
            .await
    }
}

/// Asserts a `DPoP` token answer (200) or an OAuth error (`status`, `error`).
#[track_caller]
fn assert_answer(a: &Answer, status: u16, token_type_or_error: &str) {
    let field = if status == 200 { "token_type" } else { "error" };
    assert_eq!(
        (a.status, a.body[field].as_str()),
        (status, Some(token_type_or_error)),
        "{}",
        a.body
    );
}

/// Asserts a resource's 401 asking for a DPoP nonce, and gives the one it brought.
#[track_caller]
fn asked_for_nonce(a: Answer) -> String {
    assert_eq!(a.status, 401, "{}", a.body);
    assert!(
        a.www.starts_with("DPoP ") && a.www.contains("error=\"use_dpop_nonce\""),
        "{}",
        a.www
    );
    a.nonce.expect("use_dpop_nonce brings a nonce")
}

/// RFC 9449 §8–9 with nonces offered but not required: every answer to a request with a
/// proof (token, pushed request, userinfo, the signer's API) brings a nonce; a proof may
/// leave it out, but one that carries a nonce must carry a good one, or the answer is
/// `use_dpop_nonce` with a fresh nonce to try again with.
async fn every_answer_to_a_proof_brings_a_nonce_and_a_proof_s_nonce_must_be_good(app: TestApp) {
    let rig = NonceRig::new(&app).await;
    // Without a nonce: a token, and a nonce for next time.
    let a = rig.grant(None).await;
    assert_answer(&a, 200, "DPoP");
    let nonce = a.nonce.expect("a DPoP-Nonce header");
    assert_eq!(nonce.len(), 22, "{nonce}");
    // With it: a token, and a nonce again.
    let a = rig.grant(Some(&nonce)).await;
    assert_answer(&a, 200, "DPoP");
    assert!(a.nonce.is_some());
    let at = a.body["access_token"].as_str().unwrap().to_owned();
    // A nonce this server never gave: use_dpop_nonce (400 at the token endpoint), with one
    // to use; that one works.
    for bad in ["not-a-nonce-of-ours", "AAAAAAAAAAAAAAAAAAAAAA"] {
        let a = rig.grant(Some(bad)).await;
        assert_answer(&a, 400, "use_dpop_nonce");
        let fresh = a.nonce.expect("use_dpop_nonce brings a nonce");
        assert_answer(&rig.grant(Some(&fresh)).await, 200, "DPoP");
    }
    // A request without a proof gets no nonce.
    let cc = [("grant_type", "client_credentials")];
    let a = token_answer(&app, &rig.code_rp, &cc, &[]).await;
    assert_eq!((a.status, a.nonce), (200, None));

    // The pushed authorization endpoint.
    let a = rig.push(None).await;
    assert_eq!(a.status, 201, "{}", a.body);
    let a = rig.push(a.nonce.as_deref()).await;
    assert_eq!(a.status, 201, "{}", a.body);
    let a = rig.push(Some("stale")).await;
    assert_answer(&a, 400, "use_dpop_nonce");
    assert!(a.nonce.is_some());

    // The signer's API, a resource server: 401 with a DPoP challenge naming use_dpop_nonce.
    let fresh = asked_for_nonce(rig.signer(&at, Some("stale")).await);
    let a = rig.signer(&at, Some(&fresh)).await;
    assert_eq!(a.status, 404, "looked up once the proof is good: {}", a.www);
    assert!(a.nonce.is_some());
    let a = rig.signer(&at, None).await;
    assert_eq!(a.status, 404, "a proof without a nonce is taken: {}", a.www);

    // userinfo.
    let (st, t) = redeem_code(&app, &rig.code_rp, &[&rig.token_proof(None)]).await;
    assert_eq!((st, t["token_type"].as_str()), (200, Some("DPoP")), "{t}");
    let uat = t["access_token"].as_str().unwrap();
    let a = rig.userinfo_once_asked(uat, Some("stale")).await;
    assert!(a.nonce.is_some());
}

/// With `require_dpop_nonce`, a proof without a nonce is refused everywhere proofs are
/// taken, with a nonce to try again with, as a client library does (openid-client retries
/// once); requests without a proof are as before.
async fn with_nonces_required_every_proof_needs_a_good_one(store: Store) {
    let Some(app) = spawn_configured(store, |c| c.require_dpop_nonce = true).await else {
        return;
    };
    let rig = NonceRig::new(&app).await;
    let a = rig.grant(None).await;
    assert_answer(&a, 400, "use_dpop_nonce");
    let nonce = a.nonce.expect("use_dpop_nonce brings a nonce");
    let a = rig.grant(Some(&nonce)).await;
    assert_answer(&a, 200, "DPoP");
    let at = a.body["access_token"].as_str().unwrap().to_owned();
    // The same nonce serves more than one proof (each with its own jti).
    assert_answer(&rig.grant(Some(&nonce)).await, 200, "DPoP");
    // No proof, no nonce needed: a Bearer token as before.
    let cc = [("grant_type", "client_credentials"), ("scope", "sign")];
    assert_answer(&token_answer(&app, &rig.rp, &cc, &[]).await, 200, "Bearer");

    // The signer's API.
    let fresh = asked_for_nonce(rig.signer(&at, None).await);
    assert_eq!(rig.signer(&at, Some(&fresh)).await.status, 404);

    // Pushed requests.
    let a = rig.push(None).await;
    assert_answer(&a, 400, "use_dpop_nonce");
    assert_eq!(rig.push(a.nonce.as_deref()).await.status, 201);

    // A code's redemption, refused without spending the code; userinfo.
    let (code, verifier) = code_for(&app, &rig.code_rp).await;
    let without = rig.token_proof(None);
    let refused = redeem_with(&app, &rig.code_rp, &code, &verifier, &[&without]).await;
    assert_error(&refused, 400, "use_dpop_nonce");
    let with_nonce = rig.token_proof(Some(&nonce));
    let (st, t) = redeem_with(&app, &rig.code_rp, &code, &verifier, &[&with_nonce]).await;
    assert_eq!((st, t["token_type"].as_str()), (200, Some("DPoP")), "{t}");
    let uat = t["access_token"].as_str().unwrap();
    rig.userinfo_once_asked(uat, None).await;
}
