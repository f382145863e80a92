//! ID Tokens in the algorithm a client registered (`id_token_signed_response_alg`), with an
//! ES256 primary key and an RS256 key beside it (the default configuration): discovery lists
//! both, the JWKS publishes both, and each client's ID Token verifies with the right one.

use crate::helpers::*;
use idp::oauth::types::{AuthMethod, GrantType};

#[tokio::test]
async fn each_client_gets_id_tokens_in_its_registered_alg() {
    let app = spawn_with_default_algs().await;

    let meta = discovery(&app).await;
    assert_eq!(
        meta["id_token_signing_alg_values_supported"],
        serde_json::json!(["ES256", "RS256"])
    );
    let jwks = get_json(&app.url("/jwks")).await;
    let kty: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kty"].as_str().unwrap())
        .collect();
    assert!(kty.contains(&"EC") && kty.contains(&"RSA"), "{jwks}");

    app.user("alice", "correct horse battery").await;
    let grants = [GrantType::AuthorizationCode, GrantType::RefreshToken];
    for (alg, kty) in [(None, "EC"), (Some("RS256"), "RSA"), (Some("ES256"), "EC")] {
        let rp = app
            .client_signed(AuthMethod::ClientSecretBasic, &grants, None, alg)
            .await;
        let t = sign_in(&app, &rp, &Browser::new(), "alice", "correct horse battery").await;
        let idt = t["id_token"].as_str().unwrap();
        let (header, claims) = keys::verify_jws(idt, |h| {
            let k = jwks["keys"]
                .as_array()?
                .iter()
                .find(|k| k["kid"].as_str() == h.kid.as_deref())?;
            assert_eq!(k["kty"], kty, "{alg:?}: signed by the {kty} key");
            keys::PublicKey::from_jwk(&serde_json::from_value(k.clone()).ok()?).ok()
        })
        .unwrap();
        assert_eq!(header.alg, alg.unwrap_or("ES256"));
        assert_eq!(claims["aud"], rp.id.as_str());
        // Access tokens stay with the primary key whatever the client's ID Token alg.
        let at = keys::decode_unverified(t["access_token"].as_str().unwrap()).unwrap();
        assert_eq!(at.0.alg, "ES256");
    }
}
