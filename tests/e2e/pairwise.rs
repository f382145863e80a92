//! Pairwise subject identifiers (OpenID Connect Core 1.0 §8.1): a client registered with a
//! sector is told, everywhere it meets the citizen (ID Token, access token, UserInfo,
//! introspection, `id_token_hint`, the signing API), the one `sub` of its sector, which clients
//! of another sector cannot match with theirs.

use crate::helpers::*;
use crate::on_both_stores;
use crate::signing::{api_client, create, pdf, token, PASSWORD};
use serde_json::Value;

on_both_stores!(
    each_sector_sees_its_own_stable_sub_everywhere,
    an_id_token_hint_in_a_pairwise_sub_names_the_signed_in_citizen,
    a_signing_request_names_its_signer_by_the_sector_s_sub,
);

/// A confidential client whose identifiers are pairwise in `sector` (as `clients add
/// --subject-type pairwise --sector` registers it).
async fn pairwise_client(app: &TestApp, sector: &str) -> Rp {
    let rp = app.confidential().await;
    let stored = app
        .change_client(&rp.id, |c| c.sector_identifier = Some(sector.to_owned()))
        .await;
    assert_eq!(stored.sector_identifier.as_deref(), Some(sector));
    rp
}

/// The `sub` of each token of a token response, and of UserInfo: all must agree.
async fn sub_of(app: &TestApp, t: &Value) -> String {
    let (_, idt) = verify_with_jwks(app, t["id_token"].as_str().unwrap()).await;
    let (_, at) = verify_with_jwks(app, t["access_token"].as_str().unwrap()).await;
    let info = get_bearer_json(&app.url("/userinfo"), t["access_token"].as_str().unwrap()).await;
    assert_eq!(idt["sub"], at["sub"], "ID Token and access token");
    assert_eq!(idt["sub"], info["sub"], "ID Token and UserInfo");
    idt["sub"].as_str().unwrap().to_owned()
}

async fn each_sector_sees_its_own_stable_sub_everywhere(app: TestApp) {
    let meta = discovery(&app).await;
    assert_eq!(
        meta["subject_types_supported"],
        serde_json::json!(["public", "pairwise"])
    );
    let alice = app.user("alice", PASSWORD).await;
    let bob = app.user("bob", PASSWORD).await;
    let public = app.confidential().await;
    let (a1, a2) = (
        pairwise_client(&app, "a.example").await,
        pairwise_client(&app, "a.example").await,
    );
    let b1 = pairwise_client(&app, "b.example").await;

    let browser = Browser::new();
    let t_public = sign_in(&app, &public, &browser, "alice", PASSWORD).await;
    let t_a1 = authorize_signed_in(&app, &a1, &browser, &[]).await;
    let t_a2 = authorize_signed_in(&app, &a2, &browser, &[]).await;
    let t_b1 = authorize_signed_in(&app, &b1, &browser, &[]).await;
    let (s_public, s_a1, s_a2, s_b1) = (
        sub_of(&app, &t_public).await,
        sub_of(&app, &t_a1).await,
        sub_of(&app, &t_a2).await,
        sub_of(&app, &t_b1).await,
    );
    assert_eq!(s_public, alice, "a public client is told the account's id");
    assert_eq!(s_a1, s_a2, "one sector, one sub");
    assert_ne!(s_a1, s_b1, "another sector, another sub");
    for s in [&s_a1, &s_b1] {
        assert!(!s.contains(&alice) && s.len() <= 255, "{s}");
    }
    // Bob in sector a is someone else.
    let t_bob = sign_in(&app, &a1, &Browser::new(), "bob", PASSWORD).await;
    let s_bob = sub_of(&app, &t_bob).await;
    assert!(s_bob != s_a1 && !s_bob.contains(&bob));

    // Introspection tells the client's own sub, for its refresh and its access token.
    let rt = t_a1["refresh_token"].as_str().unwrap();
    let at = t_a1["access_token"].as_str().unwrap();
    for token in [rt, at] {
        let v = introspect_json(&app, &a1, token).await;
        assert_eq!(v["active"], true, "{v}");
        assert_eq!(v["sub"], s_a1.as_str(), "{v}");
    }
    // Refreshed tokens keep the sub; so does another sign-in (stable across sessions).
    let (status, refreshed) = refresh(&app, &a1, rt).await;
    assert_eq!(status, 200, "{refreshed}");
    assert_eq!(sub_of(&app, &refreshed).await, s_a1);
    let again = sign_in(&app, &a1, &Browser::new(), "alice", PASSWORD).await;
    assert_eq!(sub_of(&app, &again).await, s_a1);

    // A client that turns pairwise is told the sector's sub from then on; a token it got
    // with the account's id no longer names anyone to it.
    app.change_client(&public.id, |c| {
        c.sector_identifier = Some("a.example".into())
    })
    .await;
    // (A running server reads a changed client within a second.)
    let old_at = t_public["access_token"].as_str().unwrap();
    eventually("a public sub means nothing in a sector", || async {
        let info = get_bearer_json(&app.url("/userinfo"), old_at).await;
        info["error"] == "invalid_token"
    })
    .await;
    let turned = sign_in(&app, &public, &Browser::new(), "alice", PASSWORD).await;
    assert_eq!(sub_of(&app, &turned).await, s_a1);
}

async fn an_id_token_hint_in_a_pairwise_sub_names_the_signed_in_citizen(app: TestApp) {
    app.user("alice", PASSWORD).await;
    app.user("bob", PASSWORD).await;
    let rp = pairwise_client(&app, "rp.example").await;
    let alice = Browser::new();
    let t = sign_in(&app, &rp, &alice, "alice", PASSWORD).await;
    let hint = t["id_token"].as_str().unwrap();
    // prompt=none with the hint: alice's browser gets a code; bob's is not alice's session.
    let hinted =
        |app: &TestApp| authorize_url(app, &rp, &[("id_token_hint", hint), ("prompt", "none")]).0;
    let back = alice.get(&app.base, &hinted(&app)).await.redirect();
    assert!(Landed::param(&back, "code").is_some(), "{back}");
    let bob = Browser::new();
    sign_in(&app, &rp, &bob, "bob", PASSWORD).await;
    let back = bob.get(&app.base, &hinted(&app)).await.redirect();
    assert_eq!(
        Landed::param(&back, "error").as_deref(),
        Some("login_required")
    );
    // Logout with the hint recognises alice's session: it ends at once, unasked.
    let mut u = url::Url::parse(&app.url("/logout")).unwrap();
    u.query_pairs_mut()
        .append_pair("id_token_hint", hint)
        .append_pair("post_logout_redirect_uri", &rp.post_logout);
    let back = alice.get(&app.base, u.as_str()).await.redirect();
    assert!(back.as_str().starts_with(&rp.post_logout), "{back}");
    assert_eq!(
        prompt_none_error(&app, &rp, &alice).await.as_deref(),
        Some("login_required"),
        "the session ended"
    );
    // In bob's browser the same hint names someone else: he is asked before being signed out.
    let mut u = url::Url::parse(&app.url("/logout")).unwrap();
    u.query_pairs_mut().append_pair("id_token_hint", hint);
    let (status, _, html) = bob.get(&app.base, u.as_str()).await.page();
    assert_eq!(status, 200);
    assert!(html.contains("name=\"logout\""), "a confirmation: {html}");
    // Once rp has moved to another sector, the hint's sub names no one it knows.
    app.change_client(&rp.id, |c| {
        c.sector_identifier = Some("moved.example".into())
    })
    .await;
    eventually("the moved client's hint refused", || async {
        let back = bob.get(&app.base, &hinted(&app)).await.redirect();
        Landed::param(&back, "error").as_deref() == Some("invalid_request")
    })
    .await;
}

async fn a_signing_request_names_its_signer_by_the_sector_s_sub(app: TestApp) {
    let citizen = app.user("alice", PASSWORD).await;
    // The notary's web service tells it alice's sub in its sector; its back office, of the
    // same sector, asks her to sign by that sub.
    let web = pairwise_client(&app, "notary.example").await;
    let t = sign_in(&app, &web, &Browser::new(), "alice", PASSWORD).await;
    let (_, idt) = verify_with_jwks(&app, t["id_token"].as_str().unwrap()).await;
    let sub = idt["sub"].as_str().unwrap().to_owned();
    let office = api_client(&app, "Нотариус", &["sign"]).await;
    app.change_client(&office.0, |c| {
        c.sector_identifier = Some("notary.example".into())
    })
    .await;
    let at = token(&app, &office, "sign").await;
    let doc = pdf();
    let files: [(&str, &[u8]); 1] = [("contract.pdf", &doc)];
    let ask =
        |sub: &str| serde_json::json!({"sub": sub, "format": "cades-detached", "level": "B-B"});
    let (status, _, req) = create(&app, Some(&at), &ask(&sub), &files).await;
    assert_eq!(status, 201, "{req}");
    assert_eq!(req["sub"], sub.as_str(), "answered in the client's terms");
    let id = req["id"].as_str().unwrap();
    let got = get_bearer_json(&app.url(&format!("/api/signer/v1/requests/{id}")), &at).await;
    assert_eq!(got["sub"], sub.as_str(), "{got}");
    // The request is alice's: her account shows it.
    let (b, _) = crate::account::open_account(&app, "alice", PASSWORD).await;
    let (status, _, html) = b
        .get(&app.base, &app.url(&format!("/account/sign/{id}")))
        .await
        .page();
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("contract.pdf"));
    // The account's own id, or another sector's sub for her, names no one to this client.
    let elsewhere = app
        .app
        .secrets
        .pairwise
        .subject("elsewhere.example", &citizen);
    for wrong in [citizen.as_str(), elsewhere.as_str()] {
        let (status, _, body) = create(&app, Some(&at), &ask(wrong), &files).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(
            body["detail"], "sub names no account this client knows",
            "{body}"
        );
    }
}
