//! `oidcc-backchannel-rp-initiated-logout` (OpenID Connect Back-Channel Logout 1.0): signs
//! in with the code flow, listens at the client's registered `backchannel_logout_uri`, and
//! sends the browser to the `end_session_endpoint` with `id_token_hint`,
//! `post_logout_redirect_uri` and `state`. Both must follow: the redirect to the registered
//! URI with `state` (RP-Initiated Logout §3), and a `POST` to the listener (§2.5) of a form
//! whose `logout_token` (§2.4) verifies against the OP's JWKS, with `iss` the issuer, `aud`
//! the client, `iat`, `jti`, the back-channel logout event, no `nonce`, `sub` or `sid`
//! (each, when present, the ID Token's), and `typ` `logout+jwt` when typed. The listener
//! answers 200 with `Cache-Control: no-store`. Afterwards a `prompt=none` request must fail
//! (the user is logged out).

use super::flow::{now, Ctx};
use super::logout::{check_logged_out, logout_and_return, sign_in, SignedIn};
use super::Outcome;
use crate::jose;
use anyhow::{bail, ensure, Context, Result};
use serde_json::Value;
use std::time::Duration;
use url::Url;

/// The event a Logout Token must carry (§2.4).
const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// How long the OP has to deliver the Logout Token after the logout.
const WAIT: Duration = Duration::from_secs(15);

/// One request the listener received.
#[derive(Debug)]
pub(super) struct Received {
    pub(super) method: String,
    pub(super) path: String,
    /// The query string, without `?` (empty when none).
    pub(super) query: String,
    pub(super) content_type: String,
    pub(super) body: String,
}

/// Listens on `uri`'s host and port; every request is sent down the channel and answered
/// 200 with `Cache-Control: no-store` (§2.8; Front-Channel Logout §2 asks the same of a
/// client's front-channel page). The server stops when the handle drops.
pub(super) async fn listen(uri: &Url) -> Result<(tokio::sync::mpsc::Receiver<Received>, Listener)> {
    use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
    let host = uri
        .host_str()
        .with_context(|| format!("{uri} has no host"))?;
    let port = uri
        .port_or_known_default()
        .with_context(|| format!("{uri} has no port"))?;
    let l = tokio::net::TcpListener::bind((host.trim_matches(['[', ']']), port))
        .await
        .with_context(|| format!("listening on {host}:{port} for the OP's logout requests"))?;
    let (tx, rx) = tokio::sync::mpsc::channel(8);
    let handler = move |method: Method, u: Uri, headers: HeaderMap, body: String| {
        let tx = tx.clone();
        async move {
            let content_type = headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned();
            let got = Received {
                method: method.to_string(),
                path: u.path().to_owned(),
                query: u.query().unwrap_or("").to_owned(),
                content_type,
                body,
            };
            let _ = tx.send(got).await;
            (StatusCode::OK, [(header::CACHE_CONTROL, "no-store")])
        }
    };
    let app = axum::Router::new().fallback(handler);
    let task = tokio::spawn(async move {
        let _ = axum::serve(l, app).await;
    });
    Ok((rx, Listener(task)))
}

/// A logout whose effect at a client's own URI a module watches.
pub(super) struct Watched {
    /// The client's configured `{kind}_logout_uri`.
    pub(super) configured: Option<String>,
    /// `backchannel` or `frontchannel`.
    pub(super) kind: &'static str,
    /// What a page instead of the post-logout redirect means ([`logout_and_return`]).
    pub(super) stuck: &'static str,
    /// How long the OP has to reach the URI after the logout.
    pub(super) wait: Duration,
    /// Why a request was expected there, for the failure when none came.
    pub(super) missing: &'static str,
}

/// Listens at the watched URI, signs in and logs out ([`logout_and_return`]), and waits for
/// the OP's request to the URI; the URI, the signed-in session and the request come back.
pub(super) async fn log_out_watching(
    ctx: &mut Ctx,
    w: Watched,
) -> Result<(Url, SignedIn, Received)> {
    let kind = w.kind;
    let uri = w.configured.with_context(|| {
        format!("{kind}_client.{kind}_logout_uri is not configured; register one")
    })?;
    let uri = Url::parse(&uri).with_context(|| format!("{kind}_logout_uri"))?;
    let (mut rx, _listener) = listen(&uri).await?;
    let s = sign_in(ctx).await?;
    logout_and_return(ctx, &s, w.stuck).await?;
    let got = tokio::time::timeout(w.wait, rx.recv())
        .await
        .ok()
        .flatten()
        .with_context(|| {
            format!(
                "no request reached the {kind}_logout_uri within {} s of the logout ({})",
                w.wait.as_secs(),
                w.missing
            )
        })?;
    Ok((uri, s, got))
}

/// Stops the listener when dropped.
pub(super) struct Listener(tokio::task::JoinHandle<()>);

impl Drop for Listener {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Runs the module.
pub async fn rp_initiated(ctx: &mut Ctx) -> Result<Outcome> {
    let watched = Watched {
        configured: ctx.client().backchannel_logout_uri.clone(),
        kind: "backchannel",
        stuck: "was shown instead of a redirect to the registered post_logout_redirect_uri \
                (RP-Initiated Logout §3)",
        wait: WAIT,
        missing: "Back-Channel Logout §2.5: the OP POSTs a Logout Token there",
    };
    let (uri, s, got) = log_out_watching(ctx, watched).await?;
    let claims = check_request(ctx, &uri, &got)?;
    check_claims(ctx, &claims, &s.t.id.claims)?;
    let err = check_logged_out(ctx, &s.b).await?;
    Ok(Outcome::new(
        super::Verdict::Passed,
        format!(
            "a valid Logout Token (sid {}) reached the backchannel_logout_uri and the browser \
             the post_logout_redirect_uri; prompt=none then gave {err}",
            if claims.get("sid").is_some() {
                "given"
            } else {
                "absent"
            }
        ),
    ))
}

/// §2.5: a `POST` to the registered URI of a form with `logout_token`; returns the token's
/// verified claims.
fn check_request(ctx: &mut Ctx, uri: &Url, got: &Received) -> Result<Value> {
    ensure!(
        got.method == "POST",
        "the OP sent {} (§2.5: POST)",
        got.method
    );
    ensure!(
        got.path == uri.path(),
        "the OP called {} instead of the registered path {}",
        got.path,
        uri.path()
    );
    let media = got.content_type.split(';').next().unwrap_or("").trim();
    ensure!(
        media.eq_ignore_ascii_case("application/x-www-form-urlencoded"),
        "Content-Type {:?} (§2.5: application/x-www-form-urlencoded)",
        got.content_type
    );
    let form: Vec<(String, String)> = form_urlencoded::parse(got.body.as_bytes())
        .into_owned()
        .collect();
    let tokens: Vec<&str> = form
        .iter()
        .filter(|(k, _)| k == "logout_token")
        .map(|(_, v)| v.as_str())
        .collect();
    let [token] = tokens[..] else {
        bail!(
            "the request carries {} logout_token parameters (§2.5: one)",
            tokens.len()
        );
    };
    let others: Vec<&str> = form
        .iter()
        .map(|(k, _)| k.as_str())
        .filter(|k| *k != "logout_token")
        .collect();
    if !others.is_empty() {
        ctx.warn(format!(
            "unexpected parameters beside logout_token: {others:?}"
        ));
    }
    let jws = jose::decode(token).context("logout_token")?;
    ensure!(jws.alg() != "none", "the Logout Token is unsigned (§2.4)");
    jose::verify(&jws, &ctx.op.jwks).context("Logout Token signature (§2.4)")?;
    if let Some(typ) = jws.header.get("typ").and_then(Value::as_str) {
        ensure!(
            typ.eq_ignore_ascii_case("logout+jwt")
                || typ.eq_ignore_ascii_case("application/logout+jwt"),
            "Logout Token typ {typ:?} (§2.4: logout+jwt)"
        );
    }
    Ok(jws.claims)
}

/// §2.4's claims, against the ID Token of the session.
fn check_claims(ctx: &Ctx, c: &Value, id_token: &Value) -> Result<()> {
    let s = |k: &str| c.get(k).and_then(Value::as_str);
    ensure!(
        s("iss") == Some(ctx.op.issuer.as_str()),
        "Logout Token iss {:?} != the issuer",
        c.get("iss")
    );
    let client_id = ctx.client().client_id.as_str();
    let aud_ok = match c.get("aud") {
        Some(Value::String(a)) => a == client_id,
        Some(Value::Array(a)) => a.iter().any(|v| v.as_str() == Some(client_id)),
        _ => false,
    };
    ensure!(
        aud_ok,
        "Logout Token aud {:?} does not name the client",
        c.get("aud")
    );
    let iat = c
        .get("iat")
        .and_then(Value::as_i64)
        .context("Logout Token has no iat")?;
    ensure!(
        (iat - now()).abs() <= 300,
        "Logout Token iat {iat} is more than 5 minutes from now"
    );
    if let Some(exp) = c.get("exp") {
        let exp = exp.as_i64().context("Logout Token exp is not a number")?;
        ensure!(exp > now() - 30, "the Logout Token has expired (exp {exp})");
    }
    ensure!(
        s("jti").is_some_and(|j| !j.is_empty()),
        "Logout Token has no jti (§2.4)"
    );
    ensure!(
        c.pointer("/events")
            .and_then(|e| e.get(EVENT))
            .is_some_and(Value::is_object),
        "Logout Token events {:?} lacks {EVENT} with an object value (§2.4)",
        c.get("events")
    );
    ensure!(
        c.get("nonce").is_none(),
        "a Logout Token must not carry a nonce (§2.4)"
    );
    ensure!(
        s("sub").is_some() || s("sid").is_some(),
        "the Logout Token has neither sub nor sid (§2.4)"
    );
    if let Some(sub) = s("sub") {
        ensure!(
            Some(sub) == id_token.get("sub").and_then(Value::as_str),
            "Logout Token sub {sub:?} is not the ID Token's"
        );
    }
    if let Some(sid) = s("sid") {
        ensure!(
            Some(sid) == id_token.get("sid").and_then(Value::as_str),
            "Logout Token sid {sid:?} is not the ID Token's {:?}",
            id_token.get("sid")
        );
    }
    Ok(())
}
