//! Happy-path modules: the code flow with one variation each — OIDC Core §3.1.2.1
//! parameters (display, ui_locales, claims_locales, acr_values, login_hint, unknown
//! parameters ignored per §3.1.2.1/RFC 6749 §3.1, nonce optional for code), POST
//! authorization requests (§3.1.2.1 "MUST support GET and POST"), ID Token signature
//! (§3.1.3.7 step 6), UserInfo methods (§5.3.1, RFC 6750 §2.1–2.2), client_secret_post (§9),
//! PKCE S256 (RFC 7636 §4.6).

use super::flow::{AuthReq, Ctx};
use super::userinfo::UserinfoHow;
use super::Outcome;
use crate::jose;
use anyhow::{ensure, Context, Result};

/// `oidcc-server`: code → token → validated ID Token.
pub async fn server(ctx: &mut Ctx) -> Result<Outcome> {
    let b = ctx.browser()?;
    let req = AuthReq::new(ctx.client(), "openid");
    let t = ctx.login(&b, &req).await?;
    Outcome::passed(format!(
        "ID Token ({}) for sub {} validated",
        t.id.alg, t.id.sub
    ))
}

/// `oidcc-idtoken-signature`: the ID Token is signed with an advertised alg and verifies
/// against the JWKS; a one-bit change to the signature must not verify.
pub async fn idtoken_signature(ctx: &mut Ctx) -> Result<Outcome> {
    let b = ctx.browser()?;
    let req = AuthReq::new(ctx.client(), "openid");
    let t = ctx.login(&b, &req).await?;
    let mut jws = jose::decode(&t.id.raw)?;
    if let Some(x) = jws.signature.last_mut() {
        *x ^= 1;
    }
    ensure!(
        jose::verify(&jws, &ctx.op.jwks).is_err(),
        "a tampered ID Token signature still verified"
    );
    Outcome::passed(format!(
        "{} signature verified with the JWKS (kid {})",
        t.id.alg,
        jws.header
            .get("kid")
            .map_or("none".into(), |k| k.to_string())
    ))
}

/// `oidcc-userinfo-get`, `-post-header`, `-post-body`.
pub async fn userinfo(ctx: &mut Ctx, how: UserinfoHow) -> Result<Outcome> {
    let b = ctx.browser()?;
    let req = AuthReq::new(ctx.client(), "openid");
    let t = ctx.login(&b, &req).await?;
    let v = ctx.userinfo(&b.http, &t, how).await?;
    Outcome::passed(format!(
        "userinfo ({how:?}) returned sub and {} claim(s)",
        v.as_object().map_or(0, |o| o.len())
    ))
}

/// `oidcc-ensure-request-without-nonce-succeeds-for-code-flow` (Core §3.1.2.1: nonce
/// OPTIONAL for the code flow).
pub async fn without_nonce(ctx: &mut Ctx) -> Result<Outcome> {
    let b = ctx.browser()?;
    let req = AuthReq::new(ctx.client(), "openid").remove("nonce");
    let t = ctx.login(&b, &req).await?;
    Outcome::passed(format!(
        "code flow without nonce succeeded for sub {}",
        t.id.sub
    ))
}

/// A happy flow with one extra authorization parameter that must not break it.
pub async fn with_param(ctx: &mut Ctx, name: &str, value: &str) -> Result<Outcome> {
    let b = ctx.browser()?;
    let req = AuthReq::new(ctx.client(), "openid").set(name, value);
    ctx.login(&b, &req)
        .await
        .with_context(|| format!("flow with {name}={value}"))?;
    Outcome::passed(format!("code flow with {name}={value} succeeded"))
}

/// `oidcc-login-hint`: login_hint is accepted; the login form may be prefilled with it.
pub async fn login_hint(ctx: &mut Ctx) -> Result<Outcome> {
    let b = ctx.browser()?;
    let login = ctx.op.cfg.user.login.clone();
    let req = AuthReq::new(ctx.client(), "openid").set("login_hint", &login);
    ctx.login(&b, &req).await?;
    Outcome::passed(format!("code flow with login_hint={login} succeeded"))
}

/// `oidcc-ensure-request-with-acr-values-succeeds`: acr_values is voluntary (Core §3.1.2.1);
/// `acr`, when returned, is a string (checked by the ID Token validation).
pub async fn acr_values(ctx: &mut Ctx) -> Result<Outcome> {
    let b = ctx.browser()?;
    let req = AuthReq::new(ctx.client(), "openid").set("acr_values", "1 2");
    let t = ctx.login(&b, &req).await?;
    let acr =
        t.id.claims
            .get("acr")
            .map_or("absent".into(), |a| a.to_string());
    Outcome::passed(format!(
        "code flow with acr_values=\"1 2\" succeeded; acr {acr}"
    ))
}

/// `oidcc-ensure-post-request-succeeds`: authorization request sent as a form POST.
pub async fn post_request(ctx: &mut Ctx) -> Result<Outcome> {
    let b = ctx.browser()?;
    let req = AuthReq::new(ctx.client(), "openid");
    let flow = ctx.authorize(&b, &req, true).await?;
    let code = ctx.code(&flow, &req)?;
    ctx.redeem(&b.http, &req, &code, flow).await?;
    Outcome::passed("authorization request by POST succeeded")
}

/// `oidcc-server-client-secret-post`: token request authenticated with client_secret_post.
pub async fn client_secret_post(ctx: &mut Ctx) -> Result<Outcome> {
    let Some(client) = ctx.op.cfg.post_client().cloned() else {
        return Outcome::skipped("no client with auth_method = client_secret_post configured");
    };
    if !ctx.op.lists(
        "token_endpoint_auth_methods_supported",
        "client_secret_post",
    ) {
        ctx.warn("client_secret_post is not in token_endpoint_auth_methods_supported");
    }
    let b = ctx.browser()?;
    let req = AuthReq::new(&client, "openid");
    let t = ctx.login(&b, &req).await?;
    Outcome::passed(format!(
        "client_secret_post redemption succeeded for sub {}",
        t.id.sub
    ))
}

/// `oidcc-ensure-request-with-valid-pkce-succeeds`: S256 challenge and matching verifier.
pub async fn valid_pkce(ctx: &mut Ctx) -> Result<Outcome> {
    if !ctx.op.lists("code_challenge_methods_supported", "S256") {
        ctx.warn("S256 is not in code_challenge_methods_supported (RFC 8414 §2)");
    }
    let b = ctx.browser()?;
    let req = AuthReq::new(ctx.client(), "openid");
    ctx.login(&b, &req).await?;
    Outcome::passed("code flow with PKCE S256 succeeded")
}

/// `oidcc-alternate-happy-flow`: the happy flow again with the second client (when
/// configured), scope `openid email` and, when advertised, `response_mode=form_post`.
pub async fn alternate(ctx: &mut Ctx) -> Result<Outcome> {
    let client = ctx
        .op
        .cfg
        .client2
        .clone()
        .unwrap_or_else(|| ctx.client().clone());
    let b = ctx.browser()?;
    let mut req = AuthReq::new(&client, "openid email");
    let form_post = ctx.op.lists("response_modes_supported", "form_post");
    if form_post {
        req = req.set("response_mode", "form_post");
    }
    let t = ctx.login(&b, &req).await?;
    if form_post {
        ensure!(
            matches!(
                t.flow.outcome,
                crate::browser::Outcome::Redirect {
                    form_post: true,
                    ..
                }
            ),
            "response_mode=form_post requested but the response did not come as a form post"
        );
    }
    let v = ctx.userinfo(&b.http, &t, UserinfoHow::Get).await?;
    Outcome::passed(format!(
        "client {} (form_post: {form_post}) got an {} ID Token for sub {}, email {}",
        client.client_id,
        t.id.alg,
        t.id.sub,
        v.get("email").map_or("absent".into(), |e| e.to_string())
    ))
}
