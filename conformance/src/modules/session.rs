//! Session modules: `prompt` values login and none (OIDC Core §3.1.2.1, errors §3.1.2.6),
//! `max_age` and `auth_time` (§3.1.2.1, §2), and `id_token_hint` (§3.1.2.1).

use super::flow::{now, AuthReq, Ctx};
use super::Outcome;
use crate::browser::Outcome as End;
use anyhow::{bail, ensure, Result};
use std::time::Duration;

/// Errors Core §3.1.2.6 allows for a prompt=none request that needs interaction.
pub(crate) const PROMPT_NONE_ERRORS: &[&str] = &[
    "login_required",
    "interaction_required",
    "account_selection_required",
    "consent_required",
];

/// `oidcc-prompt-login`: the second authorization, with prompt=login, shows the login form
/// again and yields a later `auth_time`.
pub async fn prompt_login(ctx: &mut Ctx) -> Result<Outcome> {
    let b = ctx.browser()?;
    let t1 = ctx.login(&b, &AuthReq::new(ctx.client(), "openid")).await?;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let t2 = ctx
        .login(
            &b,
            &AuthReq::new(ctx.client(), "openid").set("prompt", "login"),
        )
        .await?;
    ensure!(
        t2.flow.login_shown,
        "prompt=login but the OP did not show the login form again (Core §3.1.2.1)"
    );
    ensure!(t1.id.sub == t2.id.sub, "sub changed between the two logins");
    match (t1.id.auth_time, t2.id.auth_time) {
        (Some(a), Some(b2)) => ensure!(
            b2 > a,
            "auth_time {b2} is not later than the first {a} after prompt=login"
        ),
        (_, None) => ctx
            .warn("no auth_time in the ID Token; re-authentication judged by the login form only"),
        (None, Some(_)) => {}
    }
    Outcome::passed(format!(
        "login shown again; auth_time {:?} -> {:?}",
        t1.id.auth_time, t2.id.auth_time
    ))
}

/// `oidcc-prompt-none-not-logged-in`: fresh browser, prompt=none → an error redirect.
pub async fn prompt_none_not_logged_in(ctx: &mut Ctx) -> Result<Outcome> {
    let b = ctx.browser()?;
    let req = AuthReq::new(ctx.client(), "openid").set("prompt", "none");
    let flow = ctx.authorize(&b, &req, false).await?;
    let params = match &flow.outcome {
        End::Page { status, url, .. } => {
            bail!("prompt=none showed a page (HTTP {status} at {url}); the OP MUST NOT display UI (Core §3.1.2.1)")
        }
        End::Redirect { params, .. } => params.clone(),
    };
    ensure!(
        !flow.login_shown && !flow.consent_shown,
        "prompt=none displayed a login or consent page"
    );
    ensure!(
        !params.contains_key("code"),
        "prompt=none without a session returned a code"
    );
    ctx.check_state_iss(&params, &req)?;
    let err = params.get("error").map(String::as_str).unwrap_or("");
    match err {
        "login_required" | "interaction_required" => Outcome::passed(format!("error={err}")),
        e if PROMPT_NONE_ERRORS.contains(&e) => {
            ctx.warn(format!(
                "error={e}; login_required or interaction_required expected"
            ));
            Outcome::passed(format!("error={e}"))
        }
        e => bail!("unexpected error {e:?} for prompt=none without a session (Core §3.1.2.6)"),
    }
}

/// Logs in, then runs a second flow with `extra` in the same browser; returns both.
async fn twice(
    ctx: &mut Ctx,
    extra: &[(&str, &str)],
    wait: Duration,
) -> Result<(super::Tokens, super::Tokens, i64)> {
    let b = ctx.browser()?;
    let t1 = ctx.login(&b, &AuthReq::new(ctx.client(), "openid")).await?;
    tokio::time::sleep(wait).await;
    let started = now();
    let mut req = AuthReq::new(ctx.client(), "openid");
    for (k, v) in extra {
        req = req.set(k, v);
    }
    let t2 = ctx.login(&b, &req).await?;
    ensure!(
        t1.id.sub == t2.id.sub,
        "sub changed between the two authorizations: {} vs {}",
        t1.id.sub,
        t2.id.sub
    );
    Ok((t1, t2, started))
}

/// `oidcc-prompt-none-logged-in`: with a session, prompt=none returns a code silently,
/// same sub, same auth_time.
pub async fn prompt_none_logged_in(ctx: &mut Ctx) -> Result<Outcome> {
    let (t1, t2, _) = twice(ctx, &[("prompt", "none")], Duration::ZERO).await?;
    ensure!(
        !t2.flow.login_shown && !t2.flow.consent_shown,
        "prompt=none displayed a page"
    );
    if let (Some(a), Some(b)) = (t1.id.auth_time, t2.id.auth_time) {
        ensure!(
            a == b,
            "auth_time changed ({a} -> {b}) though no re-authentication happened"
        );
    }
    Outcome::passed(format!("silent authorization for sub {}", t2.id.sub))
}

/// `oidcc-max-age-1`: after more than a second, max_age=1 forces re-authentication; the
/// ID Token MUST carry a later auth_time.
pub async fn max_age_1(ctx: &mut Ctx) -> Result<Outcome> {
    let (t1, t2, started) = twice(ctx, &[("max_age", "1")], Duration::from_secs(2)).await?;
    let at = t2.id.auth_time.unwrap_or(0);
    ensure!(
        at >= started,
        "auth_time {at} predates the max_age=1 request ({started}): no re-authentication"
    );
    if !t2.flow.login_shown {
        ctx.warn("auth_time is fresh but the login form was not shown");
    }
    Outcome::passed(format!(
        "re-authenticated: auth_time {:?} -> {at}",
        t1.id.auth_time
    ))
}

/// `oidcc-max-age-10000`: max_age=10000 with a fresh session needs no re-authentication;
/// auth_time present and unchanged.
pub async fn max_age_10000(ctx: &mut Ctx) -> Result<Outcome> {
    let (t1, t2, _) = twice(ctx, &[("max_age", "10000")], Duration::from_millis(1100)).await?;
    let at = t2.id.auth_time.unwrap_or(0);
    if let Some(a) = t1.id.auth_time {
        ensure!(
            a == at,
            "auth_time changed ({a} -> {at}) though the session is younger than max_age"
        );
    }
    Outcome::passed(format!("auth_time {at} kept"))
}

/// `oidcc-id-token-hint`: prompt=none with the first ID Token as id_token_hint succeeds
/// for the same sub.
pub async fn id_token_hint(ctx: &mut Ctx) -> Result<Outcome> {
    let b = ctx.browser()?;
    let t1 = ctx.login(&b, &AuthReq::new(ctx.client(), "openid")).await?;
    let req = AuthReq::new(ctx.client(), "openid")
        .set("prompt", "none")
        .set("id_token_hint", &t1.id.raw);
    let t2 = ctx.login(&b, &req).await?;
    ensure!(t1.id.sub == t2.id.sub, "sub changed with id_token_hint");
    Outcome::passed(format!(
        "prompt=none with id_token_hint succeeded for sub {}",
        t2.id.sub
    ))
}
