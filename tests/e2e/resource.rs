//! Resource Indicators (RFC 8707): a client names the resource servers it wants tokens for
//! with `resource`, each one it registered; the access token's `aud` is what the grant was
//! given, narrowed by the token request; a token for another resource server is not taken
//! at UserInfo or by the signing API; anything else is `invalid_target`.

use crate::helpers::*;
use crate::on_both_stores;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine;
use idp::oauth::types::GrantType;
use serde_json::{json, Value};

const PW: &str = "correct horse battery";
const TAX: &str = "https://tax.example.gov/api";
const PENSION: &str = "urn:example:pension";
const OTHER: &str = "https://other.example/";

/// A confidential client (code, refresh, client credentials) registered for two resource
/// servers.
async fn rp_for_two(app: &TestApp) -> Rp {
    let rp = app.confidential().await;
    let stored = app
        .change_client(&rp.id, |c| c.resources = vec![TAX.into(), PENSION.into()])
        .await;
    assert_eq!(stored.resources, vec![TAX.to_owned(), PENSION.to_owned()]);
    rp
}

/// A token request (HTTP Basic) of `rp` with `form`: status and JSON.
async fn token_request(app: &TestApp, rp: &Rp, form: &[(&str, &str)]) -> (u16, Value) {
    let r = post_as(app, rp, "/token", form).await;
    (r.status().as_u16(), r.json().await.unwrap_or_default())
}

/// The `aud` of an access token in a 200 token response, its signature checked.
async fn aud_of(app: &TestApp, status: u16, tokens: &Value) -> Value {
    assert_eq!(status, 200, "{tokens}");
    let (header, claims) = verify_with_jwks(app, tokens["access_token"].as_str().unwrap()).await;
    assert_eq!(header["typ"], "at+jwt");
    claims["aud"].clone()
}

/// UserInfo's status for `token`, and the `WWW-Authenticate` it answered with.
async fn userinfo_status(app: &TestApp, token: &str) -> (u16, String) {
    let r = http()
        .get(app.url("/userinfo"))
        .bearer_auth(token)
        .send()
        .await
        .expect("userinfo");
    let www = r
        .headers()
        .get("www-authenticate")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (r.status().as_u16(), www)
}

/// An authorization of `rp` asking `extra`, signed in as alice in a new browser: the code
/// and its verifier.
async fn code_for(app: &TestApp, rp: &Rp, extra: &[(&str, &str)]) -> (String, String) {
    let (url, verifier) = authorize_url(app, rp, extra);
    (code_at(app, &url).await, verifier)
}

/// Signs alice in at the authorization URL `url` in a new browser: the code it lands with.
async fn code_at(app: &TestApp, url: &str) -> String {
    let back = Browser::new().sign_in_at(&app.base, url, "alice", PW).await;
    Landed::param(&back, "code").unwrap_or_else(|| panic!("no code: {back}"))
}

/// Pushes (RFC 9126) a code request of `rp` with PKCE `challenge` for `resources`.
async fn push(app: &TestApp, rp: &Rp, challenge: &str, resources: &[&str]) -> reqwest::Response {
    let mut form = vec![
        ("redirect_uri", rp.redirect_uri.as_str()),
        ("response_type", "code"),
        ("scope", "openid"),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
    ];
    form.extend(resources.iter().map(|r| ("resource", *r)));
    post_as(app, rp, "/par", &form).await
}

/// The code grant's form for `code`, with `more`.
fn code_form<'a>(
    rp: &'a Rp,
    code: &'a str,
    verifier: &'a str,
    more: &[(&'a str, &'a str)],
) -> Vec<(&'a str, &'a str)> {
    let mut f = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", rp.redirect_uri.as_str()),
        ("code_verifier", verifier),
    ];
    f.extend_from_slice(more);
    f
}

on_both_stores!(access_tokens_are_for_the_resource_servers_asked);

async fn access_tokens_are_for_the_resource_servers_asked(app: TestApp) {
    app.user("alice", PW).await;
    let rp = rp_for_two(&app).await;

    // Both asked at the authorization endpoint (the parameter given twice); the code
    // redeemed for one of them.
    // The consent page names them.
    let (url, verifier) = authorize_url(&app, &rp, &[("resource", TAX), ("resource", PENSION)]);
    let b = Browser::new();
    let (_, _, consent) = b.submit_login_at(&app.base, &url, "alice", PW).await.page();
    assert!(consent.contains("id=\"resources\""), "{consent}");
    for r in [TAX, PENSION] {
        // As the template engine escapes it.
        let shown = r.replace('/', "&#x2f;");
        assert!(
            consent.contains(&format!("<code>{shown}</code>")),
            "{consent}"
        );
    }
    let back = b
        .submit(&app.base, &consent, &[("decision", "allow")])
        .await
        .redirect();
    let code = Landed::param(&back, "code").unwrap_or_else(|| panic!("no code: {back}"));
    let (status, tokens) = token_request(
        &app,
        &rp,
        &code_form(&rp, &code, &verifier, &[("resource", TAX)]),
    )
    .await;
    assert_eq!(aud_of(&app, status, &tokens).await, TAX);
    let (_, id) = verify_with_jwks(&app, tokens["id_token"].as_str().unwrap()).await;
    assert_eq!(
        id["aud"],
        rp.id.as_str(),
        "the ID token is still the client's"
    );
    let at = tokens["access_token"].as_str().unwrap();
    // Not a token for UserInfo; an introspecting resource server sees whom it is for.
    let (status, www) = userinfo_status(&app, at).await;
    assert_eq!(status, 401);
    assert!(www.contains("invalid_token"), "{www}");
    let seen = introspect_json(&app, &rp, at).await;
    assert_eq!(seen["active"], true, "{seen}");
    assert_eq!(seen["aud"], TAX);

    // Refreshing without resource: everything the grant was given (an array); with one,
    // that one; with one it was not given, invalid_target, and the refresh token still
    // works afterwards.
    let rt = tokens["refresh_token"].as_str().unwrap().to_owned();
    let (status, all) = refresh(&app, &rp, &rt).await;
    assert_eq!(aud_of(&app, status, &all).await, json!([TAX, PENSION]));
    let rt = all["refresh_token"].as_str().unwrap().to_owned();
    let (status, err) = refresh_with(&app, &rp, &rt, &[("resource", OTHER)]).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_target"))
    );
    let (status, one) = refresh_with(&app, &rp, &rt, &[("resource", PENSION)]).await;
    assert_eq!(aud_of(&app, status, &one).await, PENSION);

    // Without resource the token is this provider's, and UserInfo takes it.
    let (code, verifier) = code_for(&app, &rp, &[]).await;
    let (status, plain) = token_request(&app, &rp, &code_form(&rp, &code, &verifier, &[])).await;
    assert_eq!(aud_of(&app, status, &plain).await, app.base.as_str());
    let (status, _) = userinfo_status(&app, plain["access_token"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    // ...and a resource the authorization did not ask for cannot be added at the token
    // endpoint.
    let (code, verifier) = code_for(&app, &rp, &[("resource", TAX)]).await;
    let (status, err) = token_request(
        &app,
        &rp,
        &code_form(&rp, &code, &verifier, &[("resource", PENSION)]),
    )
    .await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_target"))
    );

    // Client credentials: a registered resource, then none, then an unregistered one.
    let cc = |more: &'static [(&'static str, &'static str)]| {
        let mut f = vec![("grant_type", "client_credentials"), ("scope", "profile")];
        f.extend_from_slice(more);
        f
    };
    let (status, own) = token_request(&app, &rp, &cc(&[("resource", PENSION)])).await;
    assert_eq!(aud_of(&app, status, &own).await, PENSION);
    let (status, own) = token_request(&app, &rp, &cc(&[])).await;
    assert_eq!(aud_of(&app, status, &own).await, app.base.as_str());
    let (status, err) = token_request(&app, &rp, &cc(&[("resource", OTHER)])).await;
    assert_eq!(
        (status, err["error"].as_str()),
        (400, Some("invalid_target"))
    );
}

on_both_stores!(resource_indicators_are_held_to_the_rules);

async fn resource_indicators_are_held_to_the_rules(app: TestApp) {
    app.user("alice", PW).await;
    let rp = rp_for_two(&app).await;

    // At the authorization endpoint: unregistered, with a fragment, relative, two URIs in
    // one value: invalid_target, sent back to the client with state and iss.
    for bad in [
        OTHER,
        "https://tax.example.gov/api#x",
        "/api",
        "https://tax.example.gov/api urn:example:pension",
    ] {
        let (url, _) = authorize_url(&app, &rp, &[("resource", bad)]);
        let back = Browser::new().get(&app.base, &url).await.redirect();
        assert!(back.as_str().starts_with(&rp.redirect_uri), "{back}");
        assert_eq!(
            Landed::param(&back, "error").as_deref(),
            Some("invalid_target"),
            "{bad}: {back}"
        );
        assert_eq!(Landed::param(&back, "state").as_deref(), Some("st-123"));
        assert_eq!(
            Landed::param(&back, "iss").as_deref(),
            Some(app.base.as_str())
        );
    }

    // A Request Object (unsigned, alg none) names them as a JSON array, replacing the
    // query's.
    let (verifier, challenge) = pkce();
    let part = |v: &Value| B64.encode(v.to_string());
    let object = format!(
        "{}.{}.",
        part(&json!({"alg": "none"})),
        part(&json!({
            "client_id": rp.id, "redirect_uri": rp.redirect_uri, "response_type": "code",
            "scope": "openid", "nonce": "n", "code_challenge": challenge,
            "code_challenge_method": "S256", "resource": [TAX, PENSION],
        }))
    );
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.extend_pairs([
        ("client_id", rp.id.as_str()),
        ("redirect_uri", rp.redirect_uri.as_str()),
        ("resource", OTHER),
        ("request", object.as_str()),
    ]);
    let code = code_at(&app, &format!("{}?{}", app.url("/authorize"), q.finish())).await;
    let (status, tokens) = token_request(&app, &rp, &code_form(&rp, &code, &verifier, &[])).await;
    assert_eq!(aud_of(&app, status, &tokens).await, json!([TAX, PENSION]));

    // A pushed request (RFC 9126) keeps both for its request_uri.
    let (verifier, challenge) = pkce();
    let r = push(&app, &rp, &challenge, &[PENSION, TAX]).await;
    assert_eq!(r.status(), 201);
    let pushed: Value = r.json().await.expect("JSON");
    let mut q = form_urlencoded::Serializer::new(String::new());
    q.extend_pairs([
        ("client_id", rp.id.as_str()),
        (
            "request_uri",
            pushed["request_uri"].as_str().expect("request_uri"),
        ),
    ]);
    let code = code_at(&app, &format!("{}?{}", app.url("/authorize"), q.finish())).await;
    let (status, tokens) = token_request(&app, &rp, &code_form(&rp, &code, &verifier, &[])).await;
    assert_eq!(aud_of(&app, status, &tokens).await, json!([PENSION, TAX]));
    let r = push(&app, &rp, &challenge, &[OTHER]).await;
    assert_eq!(r.status(), 400);
    let refused: Value = r.json().await.expect("JSON");
    assert_eq!(refused["error"], "invalid_target", "{refused}");

    // The device authorization endpoint checks them too.
    let device = app.basic_client(&[GrantType::DeviceCode]).await;
    app.change_client(&device.id, |c| c.resources = vec![TAX.into()])
        .await;
    for (resource, status, error) in [(PENSION, 400, "invalid_target"), (TAX, 200, "")] {
        let form = [("scope", "openid"), ("resource", resource)];
        let r = post_as(&app, &device, "/device_authorization", &form).await;
        assert_eq!(r.status(), status);
        let body: Value = r.json().await.expect("JSON");
        assert_eq!(body["error"].as_str().unwrap_or(""), error, "{body}");
    }

    // The signing API is this provider's: a token for another resource server is refused.
    let signer = app.basic_client(&[GrantType::ClientCredentials]).await;
    app.change_client(&signer.id, |c| {
        c.scope = vec!["sign".into()];
        c.resources = vec![TAX.into()];
    })
    .await;
    let grant = |resource: Option<&'static str>| {
        let mut f = vec![("grant_type", "client_credentials"), ("scope", "sign")];
        if let Some(r) = resource {
            f.push(("resource", r));
        }
        f
    };
    let (status, elsewhere) = token_request(&app, &signer, &grant(Some(TAX))).await;
    assert_eq!(aud_of(&app, status, &elsewhere).await, TAX);
    let (status, _, problem) =
        crate::signing::create(&app, elsewhere["access_token"].as_str(), &json!({}), &[]).await;
    assert_eq!(status, 401, "{problem}");
    assert!(
        problem.to_string().contains("another resource server"),
        "{problem}"
    );
    // The same client's token for this provider gets past the token check (to the
    // request's own validation).
    let (status, here) = token_request(&app, &signer, &grant(None)).await;
    assert_eq!(status, 200, "{here}");
    let (status, _, problem) =
        crate::signing::create(&app, here["access_token"].as_str(), &json!({}), &[]).await;
    assert_ne!(status, 401, "{problem}");
}
