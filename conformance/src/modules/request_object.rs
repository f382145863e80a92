//! Request object modules: passing the authorization request as an unsigned JWT by value
//! (`request`, OIDC Core §6.1) or by reference (`request_uri`, §6.2), with the OP either
//! supporting it correctly (§6.3: only the Request Object's parameters are used) or
//! rejecting it with `request_not_supported` / `request_uri_not_supported` (§6.4 errors,
//! §3.1.2.6) while not advertising support (Discovery §3 metadata).

use super::flow::{random, AuthReq, Ctx};
use super::Outcome;
use crate::browser::Outcome as End;
use crate::jose::b64e;
use anyhow::{bail, Result};
use serde_json::{json, Map, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// An unsigned (`alg: none`) Request Object with the request's parameters, but its own state.
fn request_object(ctx: &Ctx, req: &AuthReq, state: &str, with_redirect: bool) -> String {
    let mut claims = Map::new();
    for (k, v) in &req.params {
        if k != "redirect_uri" || with_redirect {
            claims.insert(k.clone(), Value::String(v.clone()));
        }
    }
    claims.insert("state".into(), state.into());
    claims.insert("iss".into(), req.client.client_id.clone().into());
    claims.insert("aud".into(), ctx.op.issuer.clone().into());
    let header = b64e(json!({"alg": "none"}).to_string().as_bytes());
    format!(
        "{header}.{}.",
        b64e(Value::Object(claims).to_string().as_bytes())
    )
}

/// Serves `body` at `http://127.0.0.1:PORT/request.jwt` to whoever asks, for `request_uri`.
async fn serve(body: String) -> Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf).await;
            let resp = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/oauth-authz-req+jwt\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = s.write_all(resp.as_bytes()).await;
        }
    });
    Ok(format!("http://127.0.0.1:{port}/request.jwt"))
}

/// `oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported` and
/// (`with_redirect`) `oidcc-ensure-request-object-with-redirect-uri`.
pub async fn unsigned(ctx: &mut Ctx, with_redirect: bool) -> Result<Outcome> {
    let advertised = ctx.op.flag("request_parameter_supported", false);
    let req = AuthReq::new(ctx.client(), "openid");
    let ro_state = random();
    let jwt = request_object(ctx, &req, &ro_state, with_redirect);
    let mut outer = req.set("request", &jwt);
    if with_redirect && advertised {
        // §6.1: redirect_uri only in the Request Object; the OP must take it from there.
        outer = outer.remove("redirect_uri");
    }
    judge(
        ctx,
        outer,
        &ro_state,
        advertised,
        "request_parameter_supported",
        "request_not_supported",
    )
    .await
}

/// `oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported`.
pub async fn request_uri_unsigned(ctx: &mut Ctx) -> Result<Outcome> {
    // Discovery §3: request_uri_parameter_supported defaults to true.
    let advertised = ctx.op.flag("request_uri_parameter_supported", true);
    let req = AuthReq::new(ctx.client(), "openid");
    let ro_state = random();
    let uri = serve(request_object(ctx, &req, &ro_state, true)).await?;
    let outer = req.set("request_uri", &uri);
    judge(
        ctx,
        outer,
        &ro_state,
        advertised,
        "request_uri_parameter_supported",
        "request_uri_not_supported",
    )
    .await
}

async fn judge(
    ctx: &mut Ctx,
    req: AuthReq,
    ro_state: &str,
    advertised: bool,
    meta: &str,
    unsupported: &str,
) -> Result<Outcome> {
    let b = ctx.browser()?;
    let mut stop = vec![url::Url::parse(&ctx.client().redirect_uri)?];
    stop.extend(req.redirect().ok());
    let flow = b.authorize(&req.url(&ctx.op)?, false, &stop).await?;
    let params = match &flow.outcome {
        End::Page { status, html, .. } if !advertised => {
            return Outcome::review(
                format!(
                "{meta} is false and the OP showed a page (HTTP {status}) instead of {unsupported}"
            ),
                html.clone(),
            )
        }
        End::Page { status, url, .. } => {
            bail!("{meta} is advertised but the OP showed a page (HTTP {status} at {url})")
        }
        End::Redirect { params, .. } => params.clone(),
    };
    let outer_state = req.get("state").unwrap_or("").to_owned();
    let state = params.get("state").cloned().unwrap_or_default();
    if state != outer_state && state != ro_state {
        bail!("state {state:?} matches neither the request's nor the Request Object's (RFC 6749 §4.1.2)");
    }
    let mut req = req.set("state", &state);
    if req.get("redirect_uri").is_none() {
        req = req.set("redirect_uri", &ctx.client().redirect_uri.clone());
    }
    ctx.check_state_iss(&params, &req)?;
    if let Some(err) = params.get("error") {
        if err != unsupported {
            bail!(
                "error {err:?}; {unsupported} expected when rejecting a Request Object (Core §6.4)"
            );
        }
        if advertised {
            bail!("{meta} is true but the OP rejected the Request Object with {err}");
        }
        return Outcome::passed(format!("rejected with {err}; {meta} is not advertised"));
    }
    let code = params.get("code").cloned().unwrap_or_default();
    if code.is_empty() {
        bail!("authorization response has neither code nor error");
    }
    ctx.redeem(&b.http, &req, &code, flow).await?;
    if state == ro_state {
        if !advertised {
            ctx.warn(format!(
                "the OP honours the Request Object but {meta} is not true"
            ));
        }
        return Outcome::passed("the Request Object's parameters were used (its state came back)");
    }
    if advertised {
        bail!(
            "{meta} is true but the OP used the outer state, not the Request Object's (Core §6.3)"
        );
    }
    Outcome::skipped(format!(
        "the OP ignored the Request Object ({meta} is false): not supported"
    ))
}
