//! What a client may demand of every sign-in: a second factor (`--require-mfa`) and a
//! minimum account level (`--min-level`). An existing session without the second factor is
//! stepped up (only the code is asked); an account that cannot meet the demand sends the
//! client `unmet_authentication_requirements`.

use crate::helpers::*;
use crate::on_both_stores;

on_both_stores!(
    a_client_requiring_mfa_steps_sessions_up_or_refuses,
    a_client_requiring_a_level_refuses_lower_accounts,
);

const PW: &str = "correct horse battery";
const SECRET: &[u8] = b"12345678901234567890";

async fn demand(app: &TestApp, rp: &Rp, mfa: bool, level: Option<&str>) {
    sqlx::query("UPDATE clients SET require_mfa = $1, min_level = $2 WHERE id = $3")
        .bind(i64::from(mfa))
        .bind(level)
        .bind(&rp.id)
        .execute(&app.app.db.pool)
        .await
        .unwrap();
}

async fn account(app: &TestApp, login: &str, level: &str) -> String {
    app.user_with(login, PW, |a| a.level = Some(level.into()))
        .await
}

fn error_of(landed: &url::Url) -> Option<String> {
    Landed::param(landed, "error")
}

async fn a_client_requiring_mfa_steps_sessions_up_or_refuses(app: TestApp) {
    let plain = app.confidential().await;
    let strict = app.confidential().await;
    demand(&app, &strict, true, None).await;

    // Without a second factor the strict client cannot be served.
    account(&app, "erin", "simplified").await;
    let b = Browser::new();
    let (url, _) = authorize_url(&app, &strict, &[]);
    let landed = b.sign_in_at(&app.base, &url, "erin", PW).await;
    assert_eq!(
        error_of(&landed).as_deref(),
        Some("unmet_authentication_requirements")
    );

    // Frank signs in to the plain client with his password only, then adds an app.
    let frank = account(&app, "frank", "simplified").await;
    let b = Browser::new();
    let t = sign_in(&app, &plain, &b, "frank", PW).await;
    let first = keys::decode_unverified(t["id_token"].as_str().unwrap())
        .unwrap()
        .1;
    assert_eq!(first["amr"], serde_json::json!(["pwd"]));
    app.add_authenticator(&frank, SECRET).await;

    // prompt=none cannot step up.
    let (url, _) = authorize_url(&app, &strict, &[("prompt", "none")]);
    let landed = b.get(&app.base, &url).await.redirect();
    assert_eq!(error_of(&landed).as_deref(), Some("interaction_required"));

    // Otherwise the same browser is asked only for the code.
    let (url, verifier) = authorize_url(&app, &strict, &[]);
    let (status, _, html) = b.get(&app.base, &url).await.page();
    assert_eq!(status, 200);
    assert!(
        html.contains("name=\"code\"") && !html.contains("name=\"password\""),
        "step-up asks the code only: {html}"
    );
    let code = idp::totp::code_at(SECRET, app.app.now());
    let landed = b
        .submit_and_allow(&app.base, &html, &[("code", &code)])
        .await
        .redirect();
    let c = Landed::param(&landed, "code").unwrap();
    let (status, t) = redeem(&app, &strict, &c, &verifier).await;
    assert_eq!(status, 200, "{t}");
    let id = keys::decode_unverified(t["id_token"].as_str().unwrap())
        .unwrap()
        .1;
    assert_eq!(id["amr"], serde_json::json!(["pwd", "otp", "mfa"]));
    assert_eq!(
        id["auth_time"], first["auth_time"],
        "the password was not asked again"
    );
}

async fn a_client_requiring_a_level_refuses_lower_accounts(app: TestApp) {
    let rp = app.confidential().await;
    demand(&app, &rp, false, Some("standard")).await;
    account(&app, "gail", "simplified").await;
    account(&app, "hank", "standard").await;
    let (url, _) = authorize_url(&app, &rp, &[]);
    let b = Browser::new();
    let landed = b.sign_in_at(&app.base, &url, "gail", PW).await;
    assert_eq!(
        error_of(&landed).as_deref(),
        Some("unmet_authentication_requirements")
    );
    assert_eq!(Landed::param(&landed, "state").as_deref(), Some("st-123"));
    let t = sign_in(&app, &rp, &Browser::new(), "hank", PW).await;
    let id = keys::decode_unverified(t["id_token"].as_str().unwrap())
        .unwrap()
        .1;
    assert_eq!(id["acr"], "standard");
}
