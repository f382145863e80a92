//! Step-up with a live session (OIDC Core §3.1.2.1, RFC 9470): `max_age` exceeded or
//! `prompt=login` re-authenticates the same account (password only, then its second factor)
//! and keeps the session's `sid`; "someone else" leads to the normal login. The `acr`
//! issued is the account's level at issuance; an essential `acr` the account lacks is
//! `unmet_authentication_requirements`, a voluntary `acr_values` is not.

use crate::helpers::*;
use crate::on_both_stores;
use crate::otp_factors::{last_code, otp_user, PW};
use serde_json::Value;

on_both_stores!(
    max_age_re_authenticates_the_same_session_and_keeps_its_sid,
    acr_is_the_current_level_and_an_essential_acr_is_enforced,
);

fn id_claims(t: &Value) -> Value {
    keys::decode_unverified(t["id_token"].as_str().unwrap())
        .unwrap()
        .1
}

async fn finish(app: &TestApp, rp: &Rp, b: &Browser, landed: Landed, verifier: &str) -> Value {
    // Through the consent page when one comes (a claim not consented to before).
    let landed = match landed {
        Landed::Page(200, _, html) if html.contains("value=\"allow\"") => {
            b.submit(&app.base, &html, &[("decision", "allow")]).await
        }
        other => other,
    };
    let code = Landed::param(&landed.redirect(), "code").expect("a code");
    let (status, t) = redeem(app, rp, &code, verifier).await;
    assert_eq!(status, 200, "{t}");
    id_claims(&t)
}

async fn max_age_re_authenticates_the_same_session_and_keeps_its_sid(app: TestApp) {
    let rp = app.confidential().await;
    app.user("sasha", PW).await;
    otp_user(&app, "vera", &["sms"]).await;
    let b = Browser::new();
    let first = id_claims(&sign_in(&app, &rp, &b, "sasha", PW).await);

    app.clock.advance(120);
    let (url, verifier) = authorize_url(&app, &rp, &[("max_age", "60")]);
    let (status, _, html) = b.get(&app.base, &url).await.page();
    assert_eq!(status, 200);
    assert!(
        html.contains("id=\"reauth-login\">sasha<"),
        "names who is signed in: {html}"
    );
    assert!(!html.contains("name=\"login\""), "asks only the password");
    let (status, _, html) = b
        .submit(&app.base, &html, &[("password", "wrong one")])
        .await
        .page();
    assert_eq!(status, 401);
    let again = finish(
        &app,
        &rp,
        &b,
        b.submit(&app.base, &html, &[("password", PW)]).await,
        &verifier,
    )
    .await;
    assert_eq!(again["sid"], first["sid"], "the session keeps its sid");
    assert_eq!(again["sub"], first["sub"]);
    assert_eq!(
        again["auth_time"].as_i64().unwrap(),
        first["auth_time"].as_i64().unwrap() + 120
    );

    // prompt=login: the same page; "someone else" leads to the normal login.
    let (url, verifier) = authorize_url(&app, &rp, &[("prompt", "login")]);
    let (_, _, html) = b.get(&app.base, &url).await.page();
    assert!(html.contains("reauth-login"));
    let (status, _, html) = b.submit_form(&app.base, &html, "/switch", &[]).await.page();
    assert_eq!(status, 200);
    assert!(html.contains("name=\"login\"") && !html.contains("reauth-login"));
    let landed = b
        .login_and_consent(
            &app.base,
            Landed::Page(200, String::new(), html),
            "vera",
            PW,
        )
        .await;
    // vera has a second factor: the code page comes next.
    let (_, _, html) = landed.page();
    let code = last_code(
        &app,
        "signin_code",
        &idp::notify::Recipient::Sms("+79990001122".into()),
    );
    let vera = finish(
        &app,
        &rp,
        &b,
        b.submit_and_allow(&app.base, &html, &[("code", &code)])
            .await,
        &verifier,
    )
    .await;
    assert_ne!(
        vera["sid"], first["sid"],
        "another account, another session"
    );
    assert_eq!(vera["amr"], serde_json::json!(["pwd", "sms", "mfa"]));

    // vera's session too old: password, then the factor again, same sid.
    app.clock.advance(120);
    let (url, verifier) = authorize_url(&app, &rp, &[("max_age", "60")]);
    let (_, _, html) = b.get(&app.base, &url).await.page();
    assert!(html.contains("id=\"reauth-login\">vera<"));
    let (status, _, html) = b.submit(&app.base, &html, &[("password", PW)]).await.page();
    assert_eq!(status, 200);
    assert!(
        html.contains("/otp\"") && html.contains("<strong>vera</strong>"),
        "{html}"
    );
    let code = last_code(
        &app,
        "signin_code",
        &idp::notify::Recipient::Sms("+79990001122".into()),
    );
    let stepped = finish(
        &app,
        &rp,
        &b,
        b.submit_and_allow(&app.base, &html, &[("code", &code)])
            .await,
        &verifier,
    )
    .await;
    assert_eq!(stepped["sid"], vera["sid"]);
    assert_eq!(stepped["amr"], serde_json::json!(["pwd", "sms", "mfa"]));
}

async fn acr_is_the_current_level_and_an_essential_acr_is_enforced(app: TestApp) {
    let rp = app.confidential().await;
    let id = app.user("tanya", PW).await;
    let b = Browser::new();
    assert_eq!(
        id_claims(&sign_in(&app, &rp, &b, "tanya", PW).await)["acr"],
        "simplified"
    );

    // The level is raised while the session lives: the next answer says so.
    let evidence = serde_json::json!({ "method": "test" });
    app.app
        .db
        .identities()
        .record_level(&id, "standard", &evidence, app.app.now())
        .await
        .unwrap();
    let (url, verifier) = authorize_url(&app, &rp, &[("acr_values", "confirmed")]);
    let claims = finish(&app, &rp, &b, b.get(&app.base, &url).await, &verifier).await;
    assert_eq!(
        claims["acr"], "standard",
        "voluntary acr_values: the real level"
    );

    let essential = r#"{"id_token":{"acr":{"essential":true,"values":["confirmed"]}}}"#;
    let (url, _) = authorize_url(&app, &rp, &[("claims", essential)]);
    let landed = b.get(&app.base, &url).await.redirect();
    assert_eq!(
        Landed::param(&landed, "error").as_deref(),
        Some("unmet_authentication_requirements")
    );
    let met = r#"{"id_token":{"acr":{"essential":true,"values":["standard"]}}}"#;
    let (url, verifier) = authorize_url(&app, &rp, &[("claims", met)]);
    assert_eq!(
        finish(&app, &rp, &b, b.get(&app.base, &url).await, &verifier).await["acr"],
        "standard"
    );
}
