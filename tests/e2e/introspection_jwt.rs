//! Introspection answers as signed JWTs (RFC 9701) for a resource server that accepts
//! `application/token-introspection+jwt`: the RFC 7662 answer under `token_introspection`,
//! with `iss`, `aud` and `iat`, `typ` `token-introspection+jwt`, signed with RS256 when the
//! provider keeps an RS256 key and with its primary key otherwise; verified against `/jwks`
//! with `openidconnect`'s key types.

use crate::helpers::*;
use crate::on_both_stores;
use serde_json::Value;

const JWT: &str = "application/token-introspection+jwt";

/// POSTs `token` to `/introspect` as `rp`, with `accept` if given.
async fn introspect(
    app: &TestApp,
    rp: &Rp,
    token: &str,
    accept: Option<&str>,
) -> reqwest::Response {
    let mut r = http()
        .post(app.url("/introspect"))
        .basic_auth(&rp.id, rp.secret.as_deref())
        .form(&[("token", token)]);
    if let Some(a) = accept {
        r = r.header("accept", a);
    }
    r.send().await.unwrap()
}

/// The verified claims of a signed answer.
async fn signed_answer(app: &TestApp, r: reqwest::Response, alg: &str) -> Value {
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], JWT);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let jwt = r.text().await.unwrap();
    let (header, claims) = verify_with_jwks_as(app, &jwt, alg).await;
    assert_eq!(header["typ"], "token-introspection+jwt");
    claims
}

on_both_stores!(a_resource_server_that_accepts_a_jwt_gets_a_signed_answer);

async fn a_resource_server_that_accepts_a_jwt_gets_a_signed_answer(app: TestApp) {
    let sub = app.user("alice", "correct horse battery").await;
    let rp = app.confidential().await;
    let rs = app.confidential().await;
    let t = sign_in(&app, &rp, &Browser::new(), "alice", "correct horse battery").await;
    let at = t["access_token"].as_str().unwrap();
    // Only ES256 here: the primary key signs.
    let meta = discovery(&app).await;
    assert_eq!(
        meta["introspection_signing_alg_values_supported"],
        serde_json::json!(["ES256"])
    );
    for accept in [
        JWT,
        "application/json;q=0.5, application/token-introspection+jwt",
    ] {
        let claims =
            signed_answer(&app, introspect(&app, &rs, at, Some(accept)).await, "ES256").await;
        assert_eq!(claims["iss"], app.base.as_str());
        assert_eq!(
            claims["aud"],
            rs.id.as_str(),
            "the resource server that asked"
        );
        assert!(claims["iat"].is_i64(), "{claims}");
        // The RFC 7662 answer, as the JSON one is, nested; nothing of it at the top.
        let plain: Value = introspect(&app, &rs, at, None).await.json().await.unwrap();
        assert_eq!(plain["active"], true);
        assert_eq!(claims["token_introspection"], plain, "{claims}");
        assert_eq!(claims["token_introspection"]["sub"], sub.as_str());
        assert_eq!(claims["token_introspection"]["client_id"], rp.id.as_str());
        assert!(
            claims.get("active").is_none() && claims.get("sub").is_none(),
            "{claims}"
        );
    }
    // An inactive token is a signed `{"active": false}`.
    let claims = signed_answer(
        &app,
        introspect(&app, &rs, "nonsense", Some(JWT)).await,
        "ES256",
    )
    .await;
    assert_eq!(
        claims["token_introspection"],
        serde_json::json!({"active": false})
    );
    // Refused with q=0, or not asked for: JSON, as before.
    for accept in [
        None,
        Some("application/token-introspection+jwt;q=0"),
        Some("*/*"),
    ] {
        let r = introspect(&app, &rs, at, accept).await;
        assert_eq!(
            r.headers()["content-type"],
            "application/json",
            "{accept:?}"
        );
    }
    // A failed client authentication stays an RFC 6749 error in JSON.
    let wrong = Rp {
        secret: Some("wrong".into()),
        ..rs.clone()
    };
    let r = introspect(&app, &wrong, at, Some(JWT)).await;
    assert_eq!(r.status(), 401);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"], "invalid_client");
}

/// With the provider's default keys (ES256 primary, RS256 beside it), the answer is signed
/// with RS256, RFC 9701 §6's default, or with the algorithm the resource server registered
/// (`introspection_signed_response_alg`), back to RS256 when that is cleared.
#[tokio::test]
async fn the_signed_answer_is_in_the_registered_alg_else_rs256() {
    let app = spawn_with_default_algs().await;
    app.user("alice", "correct horse battery").await;
    let algs = &discovery(&app).await["introspection_signing_alg_values_supported"];
    assert_eq!(*algs, serde_json::json!(["ES256", "RS256"]));
    let rp = app.confidential().await;
    let t = sign_in(&app, &rp, &Browser::new(), "alice", "correct horse battery").await;
    let rt = t["refresh_token"].as_str().unwrap();
    let clients = app.app.db.clients();
    for (registered, alg) in [(None, "RS256"), (Some("ES256"), "ES256"), (None, "RS256")] {
        let stored = clients.get(&rp.id).await.unwrap().unwrap();
        let changed = idp::store::NewClient {
            introspection_signed_response_alg: registered.map(str::to_owned),
            ..stored.registration()
        };
        assert!(clients.update(&rp.id, &changed, None).await.unwrap());
        // A running server reads a changed client within a second.
        let mut claims = Value::Null;
        for _ in 0..40 {
            let r = introspect(&app, &rp, rt, Some(JWT)).await;
            let jwt = r.text().await.unwrap();
            let (h, ..) = keys::decode_unverified(&jwt).unwrap();
            if h.alg == alg {
                claims = verify_with_jwks_as(&app, &jwt, alg).await.1;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(
            claims["aud"],
            rp.id.as_str(),
            "{registered:?}: signed with {alg}"
        );
        assert_eq!(claims["token_introspection"]["token_type"], "refresh_token");
        assert_eq!(claims["token_introspection"]["active"], true);
    }
}
