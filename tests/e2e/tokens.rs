//! Refresh rotation and reuse detection, userinfo, introspection, revocation, and code
//! single use (RFC 6749 §4.1.2, §6; RFC 7662; RFC 7009; OAuth 2.0 Security BCP §4.14).

use crate::helpers::*;
use crate::on_both_stores;
use serde_json::Value;

on_both_stores!(
    refresh_rotates_and_reuse_revokes_the_grant,
    a_refused_refresh_leaves_the_token_usable,
    userinfo_accepts_header_get_post_and_form_body,
    userinfo_refuses_our_signature_under_another_payload,
    introspection_reports_active_and_inactive_tokens,
    revoking_refresh_token_revokes_the_grant,
    revoking_access_token_blocks_it,
    code_reuse_revokes_first_tokens,
    code_expires_after_sixty_seconds,
    concurrent_redemptions_have_one_winner,
    a_code_for_an_account_deleted_since_gets_no_tokens,
);

async fn userinfo_status(app: &TestApp, at: &str) -> u16 {
    http()
        .get(app.url("/userinfo"))
        .bearer_auth(at)
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn session(app: &TestApp) -> (Rp, Value) {
    let rp = app.confidential().await;
    app.user("alice", "correct horse battery").await;
    let t = sign_in(app, &rp, &Browser::new(), "alice", "correct horse battery").await;
    (rp, t)
}

/// A client, a signed-in user, and an unredeemed code for them.
async fn fresh_code(app: &TestApp) -> (Rp, String, String) {
    let rp = app.confidential().await;
    app.user("alice", "correct horse battery").await;
    let browser = Browser::new();
    let (url, verifier) = authorize_url(app, &rp, &[]);
    let back = browser
        .sign_in_at(&app.base, &url, "alice", "correct horse battery")
        .await;
    (rp, Landed::param(&back, "code").unwrap(), verifier)
}

fn s<'a>(v: &'a Value, k: &str) -> &'a str {
    v[k].as_str()
        .unwrap_or_else(|| panic!("{k} missing in {v}"))
}

async fn refresh_rotates_and_reuse_revokes_the_grant(app: TestApp) {
    let (rp, t) = session(&app).await;
    let rt1 = s(&t, "refresh_token").to_owned();
    let (st, t2) = refresh(&app, &rp, &rt1).await;
    assert_eq!(st, 200, "{t2}");
    let rt2 = s(&t2, "refresh_token").to_owned();
    assert_ne!(rt1, rt2, "the refresh token rotates");
    assert!(t2["id_token"].is_string());
    assert_eq!(userinfo_status(&app, s(&t2, "access_token")).await, 200);
    // Reusing the first token: refused, and the whole grant is revoked.
    let (st, err) = refresh(&app, &rp, &rt1).await;
    assert_eq!(st, 400);
    assert_eq!(err["error"], "invalid_grant");
    let (st, _) = refresh(&app, &rp, &rt2).await;
    assert_eq!(st, 400, "the rotated token dies with the grant");
    assert_eq!(userinfo_status(&app, s(&t2, "access_token")).await, 401);
    assert_eq!(
        introspect_json(&app, &rp, s(&t2, "access_token")).await["active"],
        false
    );
}

async fn a_refused_refresh_leaves_the_token_usable(app: TestApp) {
    let (rp, t) = session(&app).await;
    let rt = s(&t, "refresh_token").to_owned();
    // A wider scope than granted: invalid_scope, and the token is not spent by it.
    let (st, err) = refresh_with(&app, &rp, &rt, &[("scope", "openid profile admin")]).await;
    assert_eq!(
        (st, err["error"].as_str()),
        (400, Some("invalid_scope")),
        "{err}"
    );
    // A narrower one works, with that token.
    let (st, t2) = refresh_with(&app, &rp, &rt, &[("scope", "openid")]).await;
    assert_eq!((st, t2["scope"].as_str()), (200, Some("openid")), "{t2}");
    assert_eq!(userinfo_status(&app, s(&t2, "access_token")).await, 200);
    // Another client presenting it still spends it and revokes the grant.
    let other = app.confidential().await;
    let rt2 = s(&t2, "refresh_token").to_owned();
    let (st, _) = refresh(&app, &other, &rt2).await;
    assert_eq!(st, 400);
    let (st, _) = refresh(&app, &rp, &rt2).await;
    assert_eq!(st, 400, "the grant was revoked");
    assert_eq!(userinfo_status(&app, s(&t2, "access_token")).await, 401);
}

async fn userinfo_accepts_header_get_post_and_form_body(app: TestApp) {
    let (_, t) = session(&app).await;
    let at = s(&t, "access_token");
    let get: Value = http()
        .get(app.url("/userinfo"))
        .bearer_auth(at)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(get["email"], "alice@example.com");
    let post = http()
        .post(app.url("/userinfo"))
        .bearer_auth(at)
        .send()
        .await
        .unwrap();
    assert_eq!(post.status(), 200);
    let body = http()
        .post(app.url("/userinfo"))
        .form(&[("access_token", at)])
        .send()
        .await
        .unwrap();
    assert_eq!(body.status(), 200);
    let none = http().get(app.url("/userinfo")).send().await.unwrap();
    assert_eq!(none.status(), 401);
    assert!(none.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    let bad = http()
        .get(app.url("/userinfo"))
        .bearer_auth("not.a.jwt")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    let both = http()
        .post(app.url("/userinfo"))
        .bearer_auth(at)
        .form(&[("access_token", at)])
        .send()
        .await
        .unwrap();
    assert_eq!(both.status(), 400, "token sent twice is invalid_request");
}

/// The node remembers the tokens it signed (by the digest of the whole token), so that
/// userinfo need not verify their signatures again; a signature lifted from one of them and
/// put under another payload must still be refused, here and at introspection.
async fn userinfo_refuses_our_signature_under_another_payload(app: TestApp) {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let (rp, t) = session(&app).await;
    let at = s(&t, "access_token");
    assert_eq!(userinfo_status(&app, at).await, 200);
    let parts: Vec<&str> = at.split('.').collect();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["scope"] = "openid profile email phone address".into();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims).unwrap()),
        parts[2]
    );
    assert_eq!(userinfo_status(&app, &forged).await, 401);
    assert_eq!(introspect_json(&app, &rp, &forged).await["active"], false);
    // The real one still works, before and after.
    assert_eq!(userinfo_status(&app, at).await, 200);
}

async fn introspection_reports_active_and_inactive_tokens(app: TestApp) {
    let (rp, t) = session(&app).await;
    let at = introspect_json(&app, &rp, s(&t, "access_token")).await;
    assert_eq!(at["active"], true);
    assert_eq!(at["client_id"], rp.id.as_str());
    assert!(at["scope"].as_str().unwrap().contains("openid"));
    let rt = introspect_json(&app, &rp, s(&t, "refresh_token")).await;
    assert_eq!(rt["active"], true);
    assert_eq!(rt["token_type"], "refresh_token");
    let junk = introspect_json(&app, &rp, "junk").await;
    assert_eq!(junk, serde_json::json!({"active": false}));
    let unauth = http()
        .post(app.url("/introspect"))
        .form(&[("token", s(&t, "access_token"))])
        .send()
        .await
        .unwrap();
    assert_eq!(unauth.status(), 401);
    // Another client does not see this client's refresh token.
    let other = app.confidential().await;
    assert_eq!(
        introspect_json(&app, &other, s(&t, "refresh_token")).await["active"],
        false
    );
}

async fn revoking_refresh_token_revokes_the_grant(app: TestApp) {
    let (rp, t) = session(&app).await;
    let r = post_as(
        &app,
        &rp,
        "/revoke",
        &[
            ("token", s(&t, "refresh_token")),
            ("token_type_hint", "refresh_token"),
        ],
    )
    .await;
    assert_eq!(r.status(), 200);
    assert_eq!(refresh(&app, &rp, s(&t, "refresh_token")).await.0, 400);
    assert_eq!(
        userinfo_status(&app, s(&t, "access_token")).await,
        401,
        "access tokens of the grant die too"
    );
    let again = post_as(&app, &rp, "/revoke", &[("token", "unknown")]).await;
    assert_eq!(
        again.status(),
        200,
        "unknown tokens are answered 200 (RFC 7009 §2.2)"
    );
}

async fn revoking_access_token_blocks_it(app: TestApp) {
    let (rp, t) = session(&app).await;
    let at = s(&t, "access_token");
    let r = post_as(&app, &rp, "/revoke", &[("token", at)]).await;
    assert_eq!(r.status(), 200);
    assert_eq!(userinfo_status(&app, at).await, 401);
    assert_eq!(introspect_json(&app, &rp, at).await["active"], false);
    // Another client cannot revoke this client's tokens.
    let (st, t2) = refresh(&app, &rp, s(&t, "refresh_token")).await;
    assert_eq!(st, 200);
    let other = app.confidential().await;
    post_as(
        &app,
        &other,
        "/revoke",
        &[("token", s(&t2, "access_token"))],
    )
    .await;
    assert_eq!(userinfo_status(&app, s(&t2, "access_token")).await, 200);
}

async fn code_reuse_revokes_first_tokens(app: TestApp) {
    let (rp, code, verifier) = fresh_code(&app).await;
    let (st, t) = redeem(&app, &rp, &code, &verifier).await;
    assert_eq!(st, 200);
    assert_eq!(userinfo_status(&app, s(&t, "access_token")).await, 200);
    let (st, err) = redeem(&app, &rp, &code, &verifier).await;
    assert_eq!(st, 400);
    assert_eq!(err["error"], "invalid_grant");
    assert_eq!(
        userinfo_status(&app, s(&t, "access_token")).await,
        401,
        "first tokens revoked"
    );
    assert_eq!(refresh(&app, &rp, s(&t, "refresh_token")).await.0, 400);
}

async fn code_expires_after_sixty_seconds(app: TestApp) {
    let (rp, code, verifier) = fresh_code(&app).await;
    app.clock.advance(61);
    let (st, err) = redeem(&app, &rp, &code, &verifier).await;
    assert_eq!(st, 400);
    assert_eq!(err["error"], "invalid_grant");
}

async fn concurrent_redemptions_have_one_winner(app: TestApp) {
    let (rp, code, verifier) = fresh_code(&app).await;
    let ok = redeem_concurrently(&[app.base.as_str(); 8], &rp, &code, &verifier).await;
    assert_eq!(ok, 1, "exactly one redemption wins");
}

async fn a_code_for_an_account_deleted_since_gets_no_tokens(app: TestApp) {
    let (rp, code, verifier) = fresh_code(&app).await;
    let account = app.account("alice").await;
    assert!(app.app.db.accounts().delete(&account.id).await.unwrap());
    let (st, err) = redeem(&app, &rp, &code, &verifier).await;
    assert_eq!(st, 400, "{err}");
    assert_eq!(err["error"], "invalid_grant");
    // Nothing was stored for it: no grant of that account exists.
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM grants WHERE account_id = $1")
        .bind(&account.id)
        .fetch_one(&app.app.db.pool)
        .await
        .unwrap();
    assert_eq!(n, 0);
}
