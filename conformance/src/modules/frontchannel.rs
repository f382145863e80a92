//! `oidcc-frontchannel-rp-initiated-logout` (OpenID Connect Front-Channel Logout 1.0): signs
//! in with the code flow, listens at the client's registered `frontchannel_logout_uri`, and
//! sends the browser to the `end_session_endpoint` with `id_token_hint`,
//! `post_logout_redirect_uri` and `state`. The browser (which runs no scripts) loads the
//! iframes of the OP's logout page and follows its `Refresh` header or meta refresh. Both must
//! follow: a `GET` of the registered front-channel URI (§3) carrying `iss`, the issuer, and
//! `sid`, the ID Token's (§2: the client registered `frontchannel_logout_session_required`,
//! as certification asks; other parameters besides the URI's own are a WARNING), and the
//! redirect to the registered post-logout URI with `state` (RP-Initiated Logout §3).
//! Afterwards a `prompt=none` request must fail (the user is logged out).

use super::backchannel::{log_out_watching, Received, Watched};
use super::flow::Ctx;
use super::logout::check_logged_out;
use super::Outcome;
use anyhow::{ensure, Result};
use serde_json::Value;
use std::time::Duration;
use url::Url;

/// How long the OP's page has to make its request after the logout (the browser has loaded
/// the iframes before it follows the page on, so the request is normally there already).
const WAIT: Duration = Duration::from_secs(5);

/// Runs the module.
pub async fn rp_initiated(ctx: &mut Ctx) -> Result<Outcome> {
    let watched = Watched {
        configured: ctx.client().frontchannel_logout_uri.clone(),
        kind: "frontchannel",
        stuck: "did not send the browser on to the registered post_logout_redirect_uri \
                (RP-Initiated Logout §3; this runner follows a Refresh header or meta \
                refresh, and runs no scripts)",
        wait: WAIT,
        missing: "Front-Channel Logout §3: the OP's logout page renders it in an iframe",
    };
    let (uri, s, got) = log_out_watching(ctx, watched).await?;
    let sid = check_request(ctx, &uri, &got, &s.t.id.claims)?;
    let err = check_logged_out(ctx, &s.b).await?;
    Ok(Outcome::new(
        super::Verdict::Passed,
        format!(
            "the logout page loaded the frontchannel_logout_uri with iss and the ID Token's sid \
             ({sid}) and sent the browser to the post_logout_redirect_uri with state; \
             prompt=none then gave {err}"
        ),
    ))
}

/// §2–3: a `GET` of the registered URI, its own query kept, with `iss` the issuer and `sid`
/// the ID Token's; returns the `sid`.
fn check_request(ctx: &mut Ctx, uri: &Url, got: &Received, id_token: &Value) -> Result<String> {
    ensure!(
        got.method == "GET",
        "the front-channel request was a {} (§3: the browser loads the URI)",
        got.method
    );
    ensure!(
        got.path == uri.path(),
        "the OP loaded {} instead of the registered path {}",
        got.path,
        uri.path()
    );
    let own: Vec<(String, String)> = uri.query_pairs().into_owned().collect();
    let params: Vec<(String, String)> = form_urlencoded::parse(got.query.as_bytes())
        .into_owned()
        .collect();
    let one = |k: &str| {
        let v: Vec<&str> = params
            .iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .collect();
        match v[..] {
            [one] => Ok(one.to_owned()),
            _ => Err(anyhow::anyhow!(
                "the front-channel request carries {} {k} parameters (§2: one, as \
                 frontchannel_logout_session_required is registered)",
                v.len()
            )),
        }
    };
    let iss = one("iss")?;
    ensure!(
        iss == ctx.op.issuer,
        "the front-channel request's iss {iss:?} is not the issuer {:?}",
        ctx.op.issuer
    );
    let sid = one("sid")?;
    let expected = id_token.get("sid").and_then(Value::as_str);
    ensure!(
        Some(sid.as_str()) == expected,
        "the front-channel request's sid {sid:?} is not the ID Token's {expected:?} (§3)"
    );
    for (k, v) in &own {
        ensure!(
            params.iter().any(|(n, w)| n == k && w == v),
            "the front-channel request dropped the registered URI's own parameter {k}"
        );
    }
    let others: Vec<&str> = params
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| *k != "iss" && *k != "sid" && !own.iter().any(|(o, _)| o == k))
        .collect();
    if !others.is_empty() {
        ctx.warn(format!(
            "unexpected parameters in the front-channel request: {others:?}"
        ));
    }
    Ok(sid)
}
