//! Signed UserInfo Responses (OpenID Connect Core 1.0 §5.3.2) for clients registered with
//! `userinfo_signed_response_alg`: a JWT with the claims, `iss`, `aud` and `iat`, signed with
//! the current key of that algorithm and verified here against `/jwks` by `openidconnect`.

use crate::helpers::*;
use crate::on_both_stores;
use idp::oauth::types::{AuthMethod, GrantType};
use openidconnect::core::{CoreClient, CoreProviderMetadata, CoreUserInfoClaims};
use openidconnect::{AccessToken, ClientId, IssuerUrl, SubjectIdentifier};

/// A confidential client of `app` whose UserInfo answers are signed with `alg` (set through
/// the store, as `clients update --userinfo-alg` sets it).
async fn signed_client(app: &TestApp, alg: &str) -> Rp {
    let grants = [GrantType::AuthorizationCode, GrantType::RefreshToken];
    let rp = app
        .client_signed(AuthMethod::ClientSecretBasic, &grants, None, None)
        .await;
    let clients = app.app.db.clients();
    let stored = clients.get(&rp.id).await.unwrap().unwrap();
    let changed = idp::store::NewClient {
        userinfo_signed_response_alg: Some(alg.to_owned()),
        ..stored.registration()
    };
    assert!(clients.update(&rp.id, &changed, None).await.unwrap());
    let after = clients.get(&rp.id).await.unwrap().unwrap();
    assert_eq!(after.userinfo_signed_response_alg.as_deref(), Some(alg));
    rp
}

/// The UserInfo answer for `at`, by GET with the header, or by POST with the form body.
async fn userinfo(app: &TestApp, at: &str, post: bool) -> reqwest::Response {
    let r = if post {
        http()
            .post(app.url("/userinfo"))
            .form(&[("access_token", at)])
    } else {
        http().get(app.url("/userinfo")).bearer_auth(at)
    };
    r.send().await.unwrap()
}

on_both_stores!(a_client_registered_for_signed_userinfo_gets_a_jwt);

async fn a_client_registered_for_signed_userinfo_gets_a_jwt(app: TestApp) {
    let sub = app.user("alice", "correct horse battery").await;
    let meta = discovery(&app).await;
    assert_eq!(
        meta["userinfo_signing_alg_values_supported"],
        serde_json::json!(["ES256"])
    );
    let rp = signed_client(&app, "ES256").await;
    // The ID Token signs with the primary key as before; only UserInfo changes.
    let t = sign_in(&app, &rp, &Browser::new(), "alice", "correct horse battery").await;
    let at = t["access_token"].as_str().unwrap();
    for post in [false, true] {
        let r = userinfo(&app, at, post).await;
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "application/jwt");
        assert_eq!(r.headers()["cache-control"], "no-store");
        let jwt = r.text().await.unwrap();
        let (header, claims) = verify_with_jwks(&app, &jwt).await;
        assert_eq!(header["typ"], "JWT");
        assert_eq!(claims["iss"], app.base.as_str());
        assert_eq!(claims["aud"], rp.id.as_str());
        assert!(claims["iat"].is_i64(), "{claims}");
        assert_eq!(claims["sub"], sub.as_str());
        // The scopes asked for (openid profile email) release the same claims as in JSON.
        assert_eq!(claims["email"], "alice@example.com", "{claims}");
        assert!(claims.get("phone_number").is_none(), "{claims}");
    }
    // A client that did not register for it gets plain JSON for the same account.
    let plain = app.confidential().await;
    let t = sign_in(
        &app,
        &plain,
        &Browser::new(),
        "alice",
        "correct horse battery",
    )
    .await;
    let r = userinfo(&app, t["access_token"].as_str().unwrap(), false).await;
    assert_eq!(r.headers()["content-type"], "application/json");
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(
        (v["sub"].as_str(), v.get("aud")),
        (Some(sub.as_str()), None)
    );
    // Errors stay RFC 6750 errors in JSON, never a JWT.
    let r = userinfo(&app, "not.a.token", false).await;
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("invalid_token"));
    // Removing the client ends its tokens' UserInfo with it.
    assert!(app.app.db.clients().remove(&rp.id).await.unwrap());
    eventually("the removed client's token refused", || async {
        userinfo(&app, at, false).await.status() == 401
    })
    .await;
}

/// An RS256 client, with the provider's default keys (ES256 primary, RS256 beside it): the
/// `openidconnect` crate asks for a signed response and checks its signature against the
/// discovered JWKS, its `iss`, its `aud` and its `sub`.
#[tokio::test]
async fn openidconnect_verifies_an_rs256_signed_userinfo_response() {
    let app = spawn_with_default_algs().await;
    let sub = app.user("alice", "correct horse battery").await;
    let rp = signed_client(&app, "RS256").await;
    let t = sign_in(&app, &rp, &Browser::new(), "alice", "correct horse battery").await;
    let http = http();
    let meta =
        CoreProviderMetadata::discover_async(IssuerUrl::new(app.base.clone()).unwrap(), &http)
            .await
            .unwrap();
    let client = CoreClient::from_provider_metadata(meta, ClientId::new(rp.id.clone()), None);
    let access = AccessToken::new(t["access_token"].as_str().unwrap().to_owned());
    let claims: CoreUserInfoClaims = client
        .user_info(access.clone(), Some(SubjectIdentifier::new(sub.clone())))
        .unwrap()
        .require_signed_response(true)
        .request_async(&http)
        .await
        .unwrap();
    assert_eq!(claims.subject().as_str(), sub);
    assert_eq!(claims.issuer().map(|i| i.as_str()), Some(app.base.as_str()));
    assert_eq!(
        claims.audiences().map(|a| a[0].as_str().to_owned()),
        Some(rp.id.clone())
    );
    assert_eq!(
        claims.email().map(|e| e.as_str()),
        Some("alice@example.com")
    );
    // Another client's id as the audience: the same response fails verification.
    let other = CoreClient::from_provider_metadata(
        CoreProviderMetadata::discover_async(IssuerUrl::new(app.base.clone()).unwrap(), &http)
            .await
            .unwrap(),
        ClientId::new("someone-else".into()),
        None,
    );
    let refused: Result<CoreUserInfoClaims, _> = other
        .user_info(access, None)
        .unwrap()
        .require_signed_response(true)
        .request_async(&http)
        .await;
    assert!(refused.is_err(), "verified for the wrong audience");
}
