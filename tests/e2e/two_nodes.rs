//! Two stateless nodes behind one issuer, sharing PostgreSQL and Redis: codes, sessions and
//! keys work across them.

use crate::helpers::*;

const PW: &str = "correct horse battery";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn code_from_node_a_is_redeemed_once_at_node_b_and_sessions_and_keys_are_shared() {
    let Some((a, b)) = spawn_two_nodes().await else {
        eprintln!("VHOD_TEST_DATABASE_URL unset: two-node test not run here");
        return;
    };
    let rp = a.confidential().await;
    a.user("alice", PW).await;
    let browser = Browser::new();
    // Sign in at A.
    let (url, verifier) = authorize_url(&a, &rp, &[]);
    let start = browser.get(&a.base, &url).await;
    let back = browser
        .login_and_consent(&a.base, start, "alice", PW)
        .await
        .redirect();
    let code = Landed::param(&back, "code").unwrap();
    // Redeem at B, concurrently: one wins.
    let bases = [
        b.base.as_str(),
        b.base.as_str(),
        a.base.as_str(),
        b.base.as_str(),
    ];
    let wins = redeem_concurrently(&bases, &rp, &code, &verifier).await;
    assert_eq!(wins, 1, "one redemption wins across nodes");

    // The session made at A is seen at B (same issuer, same cookie).
    let (url_b, vb) = authorize_url(&b, &rp, &[("prompt", "none")]);
    let back = browser.get(&b.base, &url_b).await.redirect();
    let code_b = Landed::param(&back, "code").expect("B answers from A's session");
    let (st, t) = redeem(&b, &rp, &code_b, &vb).await;
    assert_eq!(st, 200);
    let at = t["access_token"].as_str().unwrap();
    assert_eq!(
        http()
            .get(a.url("/userinfo"))
            .bearer_auth(at)
            .send()
            .await
            .unwrap()
            .status(),
        200,
        "B's token works at A"
    );

    // A DPoP nonce given by A is good at B (both derive it from the shared key-encryption
    // key), and B checks it: one it never gave is refused.
    let key = keys::SigningKey::generate(keys::Alg::ES256).unwrap();
    let grant = |node: &TestApp, nonce: Option<String>| {
        // Both nodes serve one issuer: the proof names its token endpoint.
        let mut claims = serde_json::json!({
            "jti": uuid::Uuid::new_v4().to_string(),
            "htm": "POST",
            "htu": a.url("/token"),
            "iat": keys::Clock::now(&keys::SystemClock),
        });
        if let Some(n) = nonce {
            claims["nonce"] = n.into();
        }
        let proof = keys::dpop::sign_proof(&key, &claims).unwrap();
        http()
            .post(node.url("/token"))
            .basic_auth(&rp.id, rp.secret.as_deref())
            .header("DPoP", proof)
            .form(&[("grant_type", "client_credentials")])
            .send()
    };
    let r = grant(&a, None).await.unwrap();
    assert_eq!(r.status(), 200);
    let nonce = r.headers()["dpop-nonce"].to_str().unwrap().to_owned();
    assert_eq!(grant(&b, Some(nonce)).await.unwrap().status(), 200);
    let r = grant(&b, Some("not-given".into())).await.unwrap();
    assert_eq!(r.status(), 400);
    let e: serde_json::Value = r.json().await.unwrap();
    assert_eq!(e["error"], "use_dpop_nonce");

    // A key rotated through A is published by B within five seconds.
    let new = a.app.keys.rotate().await.unwrap().remove(0);
    wait_for_kid(&b.base, &new.kid).await;
}
