//! The authorization code flow driven by an independent client library (`openidconnect`),
//! with the ID token verified against our JWKS.

use crate::helpers::*;
use crate::on_both_stores;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};

on_both_stores!(openidconnect_client_completes_code_flow_and_verifies_id_token);

async fn openidconnect_client_completes_code_flow_and_verifies_id_token(app: TestApp) {
    let rp = app.confidential().await;
    let sub = app.user("alice", "correct horse battery").await;
    let http = http();
    let meta =
        CoreProviderMetadata::discover_async(IssuerUrl::new(app.base.clone()).unwrap(), &http)
            .await
            .unwrap();
    let client = CoreClient::from_provider_metadata(
        meta,
        ClientId::new(rp.id.clone()),
        rp.secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(RedirectUrl::new(rp.redirect_uri.clone()).unwrap());
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("profile".into()))
        .add_scope(Scope::new("email".into()))
        .set_pkce_challenge(challenge)
        .url();

    let browser = Browser::new();
    let login = browser.get(&app.base, url.as_str()).await;
    let (_, _, html) = login.page();
    assert!(
        html.contains("Test &lt;Service&gt; &amp; Co"),
        "client name is shown, escaped"
    );
    let consent = browser
        .submit(
            &app.base,
            &html,
            &[("login", "alice"), ("password", "correct horse battery")],
        )
        .await;
    let (status, _, html) = consent.page();
    assert_eq!(status, 200);
    assert!(html.contains("value=\"allow\""), "consent page: {html}");
    let back = browser
        .submit(&app.base, &html, &[("decision", "allow")])
        .await
        .redirect();
    assert!(back.as_str().starts_with(&rp.redirect_uri));
    assert_eq!(
        Landed::param(&back, "state").as_deref(),
        Some(csrf.secret().as_str())
    );
    assert_eq!(
        Landed::param(&back, "iss").as_deref(),
        Some(app.base.as_str()),
        "RFC 9207 iss"
    );
    let code = Landed::param(&back, "code").unwrap();

    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .unwrap();
    let id_token = tokens.id_token().expect("id token");
    let verifier = client.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &nonce)
        .expect("ID token verifies against the JWKS");
    assert_eq!(claims.subject().as_str(), sub);
    let at_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&at_hash));
    assert!(claims.auth_time().is_some());
    assert!(tokens.refresh_token().is_some());

    let info: CoreUserInfoClaims = client
        .user_info(tokens.access_token().clone(), None)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    assert_eq!(info.subject().as_str(), sub);
    assert_eq!(info.email().map(|e| e.as_str()), Some("alice@example.com"));
    assert!(info.name().is_some());

    // Refresh through the library: the token rotates, the old one is refused afterwards,
    // and the new access token works at userinfo.
    let rt = tokens.refresh_token().unwrap().clone();
    let refreshed = client
        .exchange_refresh_token(&rt)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    let new_rt = refreshed.refresh_token().unwrap();
    assert_ne!(new_rt.secret(), rt.secret());
    let new_id = refreshed.id_token().expect("ID token on refresh");
    let new_claims = new_id
        .claims(&verifier, |_: Option<&Nonce>| Ok(()))
        .expect("refreshed ID token verifies");
    assert_eq!(new_claims.subject().as_str(), sub);
    let again: CoreUserInfoClaims = client
        .user_info(refreshed.access_token().clone(), None)
        .unwrap()
        .request_async(&http)
        .await
        .unwrap();
    assert_eq!(again.subject().as_str(), sub);
    let reused = client
        .exchange_refresh_token(&rt)
        .unwrap()
        .request_async(&http)
        .await;
    assert!(reused.is_err(), "a rotated refresh token is refused");

    // Single sign-on: a second authorization in the same browser needs no login or consent.
    let (url2, verifier2) = authorize_url(&app, &rp, &[]);
    let again = browser.get(&app.base, &url2).await.redirect();
    let code2 = Landed::param(&again, "code").expect("SSO answers at once");
    let (s, _) = redeem(&app, &rp, &code2, &verifier2).await;
    assert_eq!(s, 200);
}
