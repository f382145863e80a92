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

    // A key rotated through A is published by B within five seconds.
    let new = a.app.keys.rotate().await.unwrap().remove(0);
    wait_for_kid(&b.base, &new.kid).await;
}
