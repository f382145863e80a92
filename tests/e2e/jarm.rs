//! JWT Secured Authorization Response Mode (JARM): with `response_mode` `query.jwt`, `jwt`
//! or `form_post.jwt`, the authorization response, a code or an error, travels as one
//! signed JWT, `response`, with `iss`, `aud` (the client) and `exp`; signed with the
//! client's `authorization_signed_response_alg`, else RS256 when the provider keeps an RS256
//! key, else its primary key; verified against `/jwks` with `openidconnect`'s key types.

use crate::helpers::*;
use crate::on_both_stores;
use serde_json::Value;

const PW: &str = "correct horse battery";

/// The claims of the one `response` parameter a redirect carries, verified with `alg`;
/// the redirect carries nothing else.
async fn response_in_query(app: &TestApp, landed: &url::Url, alg: &str) -> Value {
    let names: Vec<String> = landed.query_pairs().map(|(k, _)| k.into_owned()).collect();
    assert_eq!(names, ["response"], "{landed}");
    let jwt = Landed::param(landed, "response").expect("response");
    claims_of(app, &jwt, alg).await
}

/// The verified claims of a JWT response, with the claims JARM §2.1 requires checked.
async fn claims_of(app: &TestApp, jwt: &str, alg: &str) -> Value {
    let (_, claims) = verify_with_jwks_as(app, jwt, alg).await;
    assert_eq!(claims["iss"], app.base.as_str(), "{claims}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let exp = claims["exp"].as_i64().expect("exp");
    assert!(
        exp > now && exp <= now + 600,
        "a short-lived response: {claims}"
    );
    claims
}

/// The verified claims of the one field, `response`, of a `form_post.jwt` page addressed to
/// `rp`'s redirect URI.
async fn response_in_form(app: &TestApp, rp: &Rp, html: &str, alg: &str) -> Value {
    assert_eq!(form_action(html).as_deref(), Some(rp.redirect_uri.as_str()));
    let fields = hidden_inputs(html);
    let names: Vec<&str> = fields.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["response"], "{html}");
    claims_of(app, &fields[0].1, alg).await
}

/// Redeems the code a verified response carries, which must give tokens.
async fn redeem_response(app: &TestApp, rp: &Rp, claims: &Value, verifier: &str) -> Value {
    let code = claims["code"].as_str().expect("a code in the response");
    let (status, tokens) = redeem(app, rp, code, verifier).await;
    assert_eq!(status, 200, "{tokens}");
    tokens
}

on_both_stores!(a_jwt_response_mode_carries_the_code_or_the_error_signed);

async fn a_jwt_response_mode_carries_the_code_or_the_error_signed(app: TestApp) {
    app.user("alice", PW).await;
    let rp = app.confidential().await;
    let meta = discovery(&app).await;
    for mode in ["query.jwt", "form_post.jwt", "jwt"] {
        assert!(
            meta["response_modes_supported"]
                .as_array()
                .unwrap()
                .contains(&Value::from(mode)),
            "{meta}"
        );
    }
    assert_eq!(
        meta["authorization_signing_alg_values_supported"],
        serde_json::json!(["ES256"])
    );

    // query.jwt: the code and state inside the JWT, nothing beside it.
    let b = Browser::new();
    let (url, verifier) = authorize_url(&app, &rp, &[("response_mode", "query.jwt")]);
    let landed = b.sign_in_at(&app.base, &url, "alice", PW).await;
    assert!(landed.as_str().starts_with(&rp.redirect_uri), "{landed}");
    let claims = response_in_query(&app, &landed, "ES256").await;
    assert_eq!(claims["aud"], rp.id.as_str());
    assert_eq!(claims["state"], "st-123");
    assert!(claims.get("error").is_none(), "{claims}");
    let tokens = redeem_response(&app, &rp, &claims, &verifier).await;
    verify_with_jwks(&app, tokens["id_token"].as_str().unwrap()).await;

    // `jwt` is query.jwt for response_type=code.
    let (url, verifier) = authorize_url(&app, &rp, &[("response_mode", "jwt")]);
    let landed = b.get(&app.base, &url).await.redirect();
    let claims = response_in_query(&app, &landed, "ES256").await;
    redeem_response(&app, &rp, &claims, &verifier).await;

    // form_post.jwt: a form to the redirect URI with the one field `response`.
    let (url, verifier) = authorize_url(
        &app,
        &rp,
        &[("response_mode", "form_post.jwt"), ("state", "st-form")],
    );
    let (status, _, html) = b.get(&app.base, &url).await.page();
    assert_eq!(status, 200);
    let claims = response_in_form(&app, &rp, &html, "ES256").await;
    assert_eq!(claims["state"], "st-form");
    redeem_response(&app, &rp, &claims, &verifier).await;

    // Errors too: prompt=none without a session.
    let (url, _) = authorize_url(
        &app,
        &rp,
        &[("response_mode", "query.jwt"), ("prompt", "none")],
    );
    let landed = Browser::new().get(&app.base, &url).await.redirect();
    let claims = response_in_query(&app, &landed, "ES256").await;
    assert_eq!(claims["error"], "login_required");
    assert_eq!(claims["state"], "st-123");
    assert_eq!(claims["aud"], rp.id.as_str());
    assert!(claims.get("code").is_none(), "{claims}");

    // And a refusal on the consent page, which answers after the sign-in.
    let other = app.confidential().await;
    let (url, _) = authorize_url(&app, &other, &[("response_mode", "form_post.jwt")]);
    let (_, _, consent) = b.get(&app.base, &url).await.page();
    assert!(consent.contains("value=\"allow\""), "{consent}");
    let (_, _, html) = b
        .submit(&app.base, &consent, &[("decision", "deny")])
        .await
        .page();
    let claims = response_in_form(&app, &other, &html, "ES256").await;
    assert_eq!(claims["error"], "access_denied");
    assert_eq!(claims["aud"], other.id.as_str());

    // A response mode vhod does not have: a plain error, as for any unknown mode.
    let (url, _) = authorize_url(&app, &rp, &[("response_mode", "fragment.jwt")]);
    let landed = b.get(&app.base, &url).await.redirect();
    assert_eq!(
        Landed::param(&landed, "error").as_deref(),
        Some("invalid_request")
    );
    assert!(Landed::param(&landed, "response").is_none());
    assert!(Landed::param(&landed, "code").is_none());
}

/// With the provider's default keys (ES256 primary, RS256 beside it), the response is signed
/// with RS256, JARM's default, or with the algorithm the client registered, back to RS256
/// when that is cleared.
#[tokio::test]
async fn the_response_is_in_the_registered_alg_else_rs256() {
    let app = spawn_with_default_algs().await;
    app.user("alice", PW).await;
    let rp = app.confidential().await;
    let b = Browser::new();
    let (url, _) = authorize_url(&app, &rp, &[]);
    b.sign_in_at(&app.base, &url, "alice", PW).await;
    for (registered, alg) in [(None, "RS256"), (Some("ES256"), "ES256"), (None, "RS256")] {
        app.change_client(&rp.id, |c| {
            c.authorization_signed_response_alg = registered.map(str::to_owned)
        })
        .await;
        // A running server reads a changed client within a second.
        eventually(&format!("responses signed with {alg}"), || async {
            let (url, _) = authorize_url(&app, &rp, &[("response_mode", "jwt")]);
            let landed = b.get(&app.base, &url).await.redirect();
            let jwt = Landed::param(&landed, "response").expect("response");
            header_alg(jwt.split('.').next().unwrap()) == alg
        })
        .await;
        let (url, verifier) = authorize_url(&app, &rp, &[("response_mode", "jwt")]);
        let landed = b.get(&app.base, &url).await.redirect();
        let claims = response_in_query(&app, &landed, alg).await;
        redeem_response(&app, &rp, &claims, &verifier).await;
    }
}

/// The `alg` of a base64url JWS header.
fn header_alg(b64: &str) -> String {
    use base64::Engine;
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(b64)
        .unwrap();
    let h: Value = serde_json::from_slice(&raw).unwrap();
    h["alg"].as_str().unwrap().to_owned()
}
