//! `oidcc-rp-initiated-logout-certification-test-plan` (OpenID Connect RP-Initiated Logout
//! 1.0). Every module signs in with the code flow (a 128-character `state`, to catch an OP
//! that corrupts long values), then sends the browser to the `end_session_endpoint`:
//!
//! - `oidcc-rp-initiated-logout`, `-no-state`: §2 (`id_token_hint`,
//!   `post_logout_redirect_uri`, `state`) and §3 (redirect to the registered URI with `state`
//!   echoed, or without `state` when none was sent); afterwards a `prompt=none` request must
//!   fail with an error that needs a user interface (Core §3.1.2.6), as the user is logged out.
//! - `-bad-post-logout-redirect-uri`, `-query-added-to-post-logout-redirect-uri`: §3 (only
//!   a registered URI, compared exactly); `-no-id-token-hint`: §3 (without `id_token_hint`
//!   the OP cannot tell the URI is the client's); `-modified-id-token-hint` (alg `none`) and
//!   `-bad-id-token-hint` (signed by the runner's own key): §2 (the OP validates the hint).
//!   The OP must not redirect; its page (an error or a confirmation) is saved for REVIEW.
//! - `-no-params`, `-no-post-logout-redirect-uri`, `-only-state`: §2 and Session Management
//!   §5: the OP logs the user out (confirming first if it asks) and shows its own page, never
//!   the registered URI. The page is saved for REVIEW; a `prompt=none` request afterwards
//!   must fail.
//!
//! Needs `post_logout_redirect_uri` registered for the main client and set in the
//! configuration.

use super::flow::{now, random, AuthReq, Ctx, Tokens};
use super::session::PROMPT_NONE_ERRORS;
use super::Outcome;
use crate::browser::{Browser, Outcome as End};
use crate::jose;
use anyhow::{bail, ensure, Context, Result};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::json;
use url::Url;

/// What the end-session request carries.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Normal,
    NoState,
    BadPostLogoutRedirectUri,
    QueryAdded,
    NoIdTokenHint,
    ModifiedIdTokenHint,
    BadIdTokenHint,
    NoParams,
    NoPostLogoutRedirectUri,
    OnlyState,
}

/// The plan's modules after the discovery one, and what each sends.
pub const VARIANTS: &[(&str, Variant)] = &[
    ("oidcc-rp-initiated-logout", Variant::Normal),
    (
        "oidcc-rp-initiated-logout-bad-post-logout-redirect-uri",
        Variant::BadPostLogoutRedirectUri,
    ),
    (
        "oidcc-rp-initiated-logout-modified-id-token-hint",
        Variant::ModifiedIdTokenHint,
    ),
    (
        "oidcc-rp-initiated-logout-no-id-token-hint",
        Variant::NoIdTokenHint,
    ),
    ("oidcc-rp-initiated-logout-no-params", Variant::NoParams),
    (
        "oidcc-rp-initiated-logout-no-post-logout-redirect-uri",
        Variant::NoPostLogoutRedirectUri,
    ),
    ("oidcc-rp-initiated-logout-no-state", Variant::NoState),
    ("oidcc-rp-initiated-logout-only-state", Variant::OnlyState),
    (
        "oidcc-rp-initiated-logout-query-added-to-post-logout-redirect-uri",
        Variant::QueryAdded,
    ),
    (
        "oidcc-rp-initiated-logout-bad-id-token-hint",
        Variant::BadIdTokenHint,
    ),
];

/// Signed in: the browser (with the OP's session cookie) and its tokens.
pub(super) struct SignedIn {
    pub(super) b: Browser,
    pub(super) t: Tokens,
    pub(super) post_logout: Url,
}

pub(super) async fn sign_in(ctx: &mut Ctx) -> Result<SignedIn> {
    let post_logout = ctx
        .client()
        .post_logout_redirect_uri
        .clone()
        .context("client.post_logout_redirect_uri is not configured; register one at the OP")?;
    let post_logout = Url::parse(&post_logout).context("client.post_logout_redirect_uri")?;
    ctx.op.endpoint("end_session_endpoint")?;
    let b = ctx.browser()?;
    let state = random() + &random() + &random() + &random();
    let req = AuthReq::new(ctx.client(), "openid").set("state", &state[..128]);
    let t = ctx.login(&b, &req).await?;
    Ok(SignedIn { b, t, post_logout })
}

/// The ID Token with its header changed to `alg: none` and no signature (JWS §A.5 form).
fn alg_none(id_token: &str) -> Result<String> {
    let mut parts = id_token.split('.');
    let (Some(_), Some(payload)) = (parts.next(), parts.next()) else {
        bail!("the ID Token is not a JWS");
    };
    let header = jose::b64e(br#"{"alg":"none","typ":"JWT"}"#);
    Ok(format!("{header}.{payload}."))
}

/// An ID Token for the same user and client, signed ES256 by a key only the runner has.
fn foreign(ctx: &Ctx, sub: &str) -> Result<String> {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .map_err(|_| anyhow::anyhow!("generating a key"))?;
    let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
        .map_err(|_| anyhow::anyhow!("loading the key"))?;
    let header = jose::b64e(br#"{"alg":"ES256","typ":"JWT","kid":"conformance-runner"}"#);
    let t = now();
    let claims = json!({
        "iss": ctx.op.issuer, "sub": sub, "aud": ctx.client().client_id,
        "iat": t, "exp": t + 300, "nonce": random(),
    });
    let payload = jose::b64e(claims.to_string().as_bytes());
    let input = format!("{header}.{payload}");
    let sig = key
        .sign(&rng, input.as_bytes())
        .map_err(|_| anyhow::anyhow!("signing"))?;
    Ok(format!("{input}.{}", jose::b64e(sig.as_ref())))
}

/// After logout, `prompt=none` must come back with an error needing a UI.
/// Logs `s` out at the end-session endpoint with its `id_token_hint`, the registered
/// `post_logout_redirect_uri` and a fresh `state` (confirming if asked): the browser must
/// come back to that URI with the `state` (RP-Initiated Logout §3). `stuck` says, after "the
/// OP's page (HTTP … at …)", what a page instead of that redirect means for the module.
pub(super) async fn logout_and_return(ctx: &Ctx, s: &SignedIn, stuck: &str) -> Result<()> {
    let state = random();
    let mut url = ctx.op.endpoint("end_session_endpoint")?;
    url.query_pairs_mut()
        .append_pair("id_token_hint", &s.t.id.raw)
        .append_pair("post_logout_redirect_uri", s.post_logout.as_str())
        .append_pair("state", &state);
    let flow =
        s.b.logout(&url, std::slice::from_ref(&s.post_logout), true)
            .await?;
    let params = match flow.outcome {
        End::Page { status, url, .. } => bail!("the OP's page (HTTP {status} at {url}) {stuck}"),
        End::Redirect { params, .. } => params,
    };
    ensure!(
        params.get("state") == Some(&state),
        "post-logout redirect state {:?} != the state sent (RP-Initiated Logout §3)",
        params.get("state")
    );
    Ok(())
}

pub(super) async fn check_logged_out(ctx: &mut Ctx, b: &Browser) -> Result<String> {
    let req = AuthReq::new(ctx.client(), "openid").set("prompt", "none");
    let flow = ctx.authorize(b, &req, false).await?;
    let params = match &flow.outcome {
        End::Page { status, url, .. } => bail!(
            "after logout, prompt=none showed a page (HTTP {status} at {url}) instead of an \
             error redirect (Core §3.1.2.6)"
        ),
        End::Redirect { params, .. } => params.clone(),
    };
    ensure!(
        !params.contains_key("code"),
        "after logout, prompt=none still returned a code: the user is still logged in"
    );
    ctx.check_state_iss(&params, &req)?;
    let err = params.get("error").map(String::as_str).unwrap_or("");
    ensure!(
        PROMPT_NONE_ERRORS.contains(&err),
        "after logout, prompt=none returned error {err:?}; one that needs a user interface \
         was expected (Core §3.1.2.6)"
    );
    Ok(err.to_owned())
}

/// Runs one module of the plan.
pub async fn run(ctx: &mut Ctx, v: Variant) -> Result<Outcome> {
    use Variant::*;
    let s = sign_in(ctx).await?;
    let state = random();
    let registered = s.post_logout.to_string();
    let plr = match v {
        BadPostLogoutRedirectUri => Some(format!(
            "{}/bad-{}",
            registered.trim_end_matches('/'),
            &random()[..8]
        )),
        QueryAdded => {
            let mut u = s.post_logout.clone();
            u.query_pairs_mut().append_pair("foo", "bar");
            Some(u.to_string())
        }
        NoParams | NoPostLogoutRedirectUri | OnlyState => None,
        _ => Some(registered.clone()),
    };
    let hint = match v {
        NoIdTokenHint | NoParams | OnlyState => None,
        ModifiedIdTokenHint => Some(alg_none(&s.t.id.raw)?),
        BadIdTokenHint => Some(foreign(ctx, &s.t.id.sub)?),
        _ => Some(s.t.id.raw.clone()),
    };
    let send_state = !matches!(v, NoState | NoParams);
    let mut url = ctx.op.endpoint("end_session_endpoint")?;
    {
        let mut q = url.query_pairs_mut();
        if let Some(h) = &hint {
            q.append_pair("id_token_hint", h);
        }
        if let Some(p) = &plr {
            q.append_pair("post_logout_redirect_uri", p);
        }
        if send_state {
            q.append_pair("state", &state);
        }
    }
    let mut stops = vec![s.post_logout.clone()];
    if let Some(p) = plr.as_deref().and_then(|p| Url::parse(p).ok()) {
        stops.push(p);
    }
    let expect_redirect = matches!(v, Normal | NoState);
    let expect_error = matches!(
        v,
        BadPostLogoutRedirectUri
            | QueryAdded
            | NoIdTokenHint
            | ModifiedIdTokenHint
            | BadIdTokenHint
    );
    let flow = s.b.logout(&url, &stops, !expect_error).await?;

    if expect_redirect {
        let params = match flow.outcome {
            End::Page { status, url, .. } => bail!(
                "the OP showed a page (HTTP {status} at {url}) instead of redirecting to the \
                 registered post_logout_redirect_uri (RP-Initiated Logout §3)"
            ),
            End::Redirect { params, .. } => params,
        };
        let got = params.get("state");
        if send_state {
            ensure!(
                got == Some(&state),
                "post-logout redirect state {got:?} != the state sent (RP-Initiated Logout §3)"
            );
        } else {
            ensure!(
                got.is_none(),
                "post-logout redirect carries a state though none was sent (RP-Initiated Logout §3)"
            );
        }
        let extra: Vec<&String> = params.keys().filter(|k| *k != "state").collect();
        if !extra.is_empty() {
            let msg = format!("unexpected parameters in the post-logout redirect: {extra:?}");
            if v == NoState {
                bail!("{msg} (RP-Initiated Logout §3)");
            }
            ctx.warn(msg);
        }
        let err = check_logged_out(ctx, &s.b).await?;
        return Outcome::passed(format!(
            "redirected to the post_logout_redirect_uri (state {}); prompt=none then gave {err}",
            if send_state { "echoed" } else { "absent" }
        ));
    }

    let html = match flow.outcome {
        End::Redirect { url, .. } => bail!(
            "the OP redirected to {url}, a post_logout_redirect_uri it must not use here \
             (RP-Initiated Logout §2–3)"
        ),
        End::Page { html, status, .. } => {
            if expect_error {
                return Outcome::review(
                    format!(
                        "the OP did not redirect and showed a page (HTTP {status}); check it is \
                         an error, or asks the user to confirm the logout"
                    ),
                    html,
                );
            }
            ensure!(
                status == 200,
                "the end-session request without a post_logout_redirect_uri got HTTP {status}"
            );
            html
        }
    };
    let err = check_logged_out(ctx, &s.b).await?;
    let confirmed = if flow.consent_shown {
        "after the user confirmed"
    } else {
        "at once"
    };
    Outcome::review(
        format!(
            "logged out {confirmed} (prompt=none then gave {err}); check the page tells the \
             user they are logged out"
        ),
        html,
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_plan_module_after_discovery_has_a_variant_in_order() {
        let names: Vec<&str> = super::VARIANTS.iter().map(|(n, _)| *n).collect();
        assert_eq!(names, super::super::LOGOUT_MODULES[1..]);
    }
}
