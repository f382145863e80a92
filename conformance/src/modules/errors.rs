//! Error and token-lifetime modules: missing response_type (RFC 6749 §4.1.2.1, Core
//! §3.1.2.6), unregistered redirect_uri (RFC 6749 §3.1.2.4, §4.1.2.1 "MUST NOT
//! automatically redirect"), authorization code reuse (RFC 6749 §4.1.2, §10.5; Core
//! §3.1.3.2), and refresh (Core §12, RFC 6749 §6).

use super::flow::{random, AuthReq, Ctx};
use super::userinfo::UserinfoHow;
use super::Outcome;
use crate::browser::Outcome as End;
use crate::idtoken::{self, Expect};
use anyhow::{bail, ensure, Context, Result};
use serde_json::Value;
use std::time::Duration;
use url::Url;

/// `oidcc-response-type-missing`: an error page (REVIEW) or an invalid_request /
/// unsupported_response_type error redirect; never a code.
pub async fn response_type_missing(ctx: &mut Ctx) -> Result<Outcome> {
    let b = ctx.browser()?;
    let req = AuthReq::new(ctx.client(), "openid").remove("response_type");
    let flow = ctx.authorize(&b, &req, false).await?;
    match flow.outcome {
        End::Page { status, html, .. } => Outcome::review(format!("the OP showed an error page (HTTP {status}); check it says response_type is missing"), html),
        End::Redirect { params, .. } => {
            ensure!(!params.contains_key("code"), "the OP issued a code without response_type");
            ctx.check_state_iss(&params, &req)?;
            let err = params.get("error").map(String::as_str).unwrap_or("");
            ensure!(
                err == "invalid_request" || err == "unsupported_response_type",
                "error {err:?}; invalid_request or unsupported_response_type expected (RFC 6749 §4.1.2.1)"
            );
            Outcome::passed(format!("error redirect with error={err}"))
        }
    }
}

/// `oidcc-ensure-registered-redirect-uri`: an unregistered redirect_uri gets an error page,
/// never a redirect to it.
pub async fn unregistered_redirect_uri(ctx: &mut Ctx) -> Result<Outcome> {
    let b = ctx.browser()?;
    let registered = Url::parse(&ctx.client().redirect_uri)?;
    let bad = format!(
        "{}/unregistered-{}",
        ctx.client().redirect_uri.trim_end_matches('/'),
        &random()[..8]
    );
    let req = AuthReq::new(ctx.client(), "openid").set("redirect_uri", &bad);
    let flow = b
        .authorize(&req.url(&ctx.op)?, false, &[Url::parse(&bad)?, registered])
        .await?;
    match flow.outcome {
        End::Page { status, html, .. } => Outcome::review(format!("the OP showed a page (HTTP {status}) instead of redirecting; check it is an error page"), html),
        End::Redirect { url, params, .. } => {
            if url.starts_with(&bad) {
                bail!("the OP redirected to the unregistered redirect_uri {bad}");
            }
            ensure!(!params.contains_key("code"), "the OP issued a code for an unregistered redirect_uri");
            ctx.warn("the OP redirected an error to the registered redirect_uri instead of showing an error page");
            Outcome::passed(format!("error redirect to the registered URI: {:?}", params.get("error")))
        }
    }
}

/// `oidcc-codereuse` / `oidcc-codereuse-30seconds`: the second redemption of a code gets
/// invalid_grant; after 30 s the first access token SHOULD no longer work (WARNING).
pub async fn codereuse(ctx: &mut Ctx, wait_secs: u64) -> Result<Outcome> {
    let b = ctx.browser()?;
    let req = AuthReq::new(ctx.client(), "openid");
    let flow = ctx.authorize(&b, &req, false).await?;
    let code = ctx.code(&flow, &req)?;
    let t = ctx.redeem(&b.http, &req, &code, flow).await?;
    tokio::time::sleep(Duration::from_secs(wait_secs)).await;
    let r = ctx.redeem_raw(&b.http, &req, &code).await?;
    r.expect_oauth_error("invalid_grant", "second redemption of the code")?;
    if wait_secs > 0 {
        let u = ctx
            .userinfo_raw(&b.http, &t.access_token, UserinfoHow::Get)
            .await?;
        if u.status == 200 {
            ctx.warn("the access token from the first redemption still works at userinfo after the code was reused (RFC 6749 §4.1.2 SHOULD revoke)");
        }
    }
    Outcome::passed("code reuse rejected with invalid_grant")
}

/// `oidcc-refresh-token`: a refresh token (offline_access with prompt=consent, Core §11)
/// refreshes: new access token that works, ID Token per §12.2 when returned; then
/// another client cannot use the (rotated) refresh token. SKIPPED when no refresh token is issued.
pub async fn refresh_token(ctx: &mut Ctx) -> Result<Outcome> {
    let b = ctx.browser()?;
    let mut req = AuthReq::new(ctx.client(), "openid");
    if ctx.op.lists("scopes_supported", "offline_access") {
        req = AuthReq::new(ctx.client(), "openid offline_access").set("prompt", "consent");
    }
    let t = ctx.login(&b, &req).await?;
    let Some(rt) = t.refresh_token.clone() else {
        return Outcome::skipped("the token response has no refresh_token");
    };
    let form = vec![
        ("grant_type".into(), "refresh_token".into()),
        ("refresh_token".into(), rt.clone()),
    ];
    let r = ctx.token_request(&b.http, &req.client, form).await?;
    ensure!(r.status == 200, "refresh: HTTP {} {}", r.status, r.body);
    let v = r.json()?;
    let at = v
        .get("access_token")
        .and_then(Value::as_str)
        .context("refresh response has no access_token")?
        .to_owned();
    if let Some(idt) = v.get("id_token").and_then(Value::as_str) {
        let exp = Expect {
            issuer: ctx.op.issuer.clone(),
            client_id: req.client.client_id.clone(),
            access_token: Some(at.clone()),
            algs: ctx.op.id_token_algs(),
            ..Default::default()
        };
        let id = idtoken::validate(idt, &ctx.op.jwks, &exp, super::flow::now())
            .context("refreshed ID Token")?;
        ensure!(
            id.sub == t.id.sub,
            "refreshed ID Token sub differs (Core §12.2)"
        );
        ensure!(
            id.auth_time == t.id.auth_time,
            "refreshed ID Token auth_time differs (Core §12.2)"
        );
    }
    let mut t2 = t.clone();
    t2.access_token = at;
    ctx.userinfo(&b.http, &t2, UserinfoHow::Get)
        .await
        .context("userinfo with the refreshed access token")?;
    // Last, as an OP may revoke the grant when another client presents its token.
    let next_rt = v
        .get("refresh_token")
        .and_then(Value::as_str)
        .map_or(rt, str::to_owned);
    if let Some(c2) = ctx.op.cfg.client2.clone() {
        let form = vec![
            ("grant_type".into(), "refresh_token".into()),
            ("refresh_token".into(), next_rt),
        ];
        let r = ctx.token_request(&b.http, &c2, form).await?;
        r.expect_oauth_error("invalid_grant", "refresh by another client (RFC 6749 §6)")?;
    }
    Outcome::passed("refresh token exchanged; new access token works at userinfo")
}
