//! OpenID Connect Back-Channel Logout 1.0: when a session ends (RP-initiated logout, the
//! citizen signing a browser out, a password change or reset, the account deleted), every
//! client that has tokens from that session and registered a `backchannel_logout_uri` is
//! told so directly, server to server, with a Logout Token (§2.4): a JWT of type
//! `logout+jwt`, signed like the client's ID Tokens, naming the issuer, the client, the
//! subject and the session (`sid`), with the back-channel logout event and no `nonce`.
//!
//! The session's grants that were not given for offline access are revoked with it (§2.7),
//! so their refresh and access tokens stop working at once; `offline_access` grants outlive
//! the session.
//!
//! Delivery (§2.5): `POST` of `logout_token` as a form, no redirects followed, each attempt
//! bounded by [`TIMEOUT`]. A 2xx is success; a refusal (4xx other than 408 and 429) is
//! final; otherwise the same token is sent again after 2 s and 4 s, while it is still far
//! from expiry. Deliveries run beside the request that ended the session, so a slow or
//! unreachable client never holds up the citizen's logout, and shutdown waits for them.

use crate::app::App;
use crate::store::Client;
use serde_json::json;
use std::time::Duration;

/// The event a Logout Token carries (§2.4).
pub const EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// How long a Logout Token is valid: long enough for the retries, short enough that a
/// captured one is soon useless (§2.4 recommends at most two minutes).
pub const LIFETIME: i64 = 120;

/// How long one delivery attempt may take.
pub const TIMEOUT: Duration = Duration::from_secs(5);

/// Attempts per Logout Token.
const ATTEMPTS: u32 = 3;

/// One Logout Token on its way to one client.
#[derive(Debug)]
pub struct Delivery {
    client_id: String,
    uri: String,
    token: String,
}

/// The Logout Tokens for sessions `sids` of `account_id`: one per client that has a grant
/// from the session and a `backchannel_logout_uri` (only for client `only`, when given).
/// Failures to read are logged and skip the session or client concerned: a logout never
/// fails for them.
pub async fn prepare(
    app: &App,
    account_id: &str,
    sids: &[String],
    only: Option<&str>,
) -> Vec<Delivery> {
    let mut out = Vec::new();
    for sid in sids {
        let clients = match app.db.grants().clients_of_session(account_id, sid).await {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "clients of an ended session not found; not told");
                continue;
            }
        };
        for client_id in clients {
            if only.is_some_and(|o| o != client_id) {
                continue;
            }
            let client = match app.client(&client_id).await {
                Ok(Some(c)) => c,
                Ok(None) => continue,
                Err(e) => {
                    tracing::error!(error = %e, %client_id, "client not read; not told of a logout");
                    continue;
                }
            };
            let Some(uri) = client.backchannel_logout_uri.clone() else {
                continue;
            };
            match logout_token(app, &client, account_id, sid) {
                Ok(token) => out.push(Delivery {
                    client_id,
                    uri,
                    token,
                }),
                Err(e) => tracing::error!(error = %e, %client_id, "logout token not signed"),
            }
        }
    }
    out
}

/// Sessions `sids` of `account_id` have ended: revokes their grants that were not given for
/// offline access and tells the clients.
pub async fn sessions_ended(app: &App, account_id: &str, sids: &[String]) {
    let now = app.now();
    for sid in sids {
        if let Err(e) = app.db.grants().revoke_online(account_id, sid, now).await {
            tracing::error!(error = %e, "grants of an ended session not revoked");
        }
    }
    send(app, prepare(app, account_id, sids, None).await);
}

/// The citizen withdrew `client_id`'s access: its sessions with the client are over, so
/// the client is told of each live session it has a grant from (the provider's sessions
/// go on for the other clients).
pub async fn access_withdrawn(app: &App, account_id: &str, client_id: &str) {
    let sids = crate::session::live_sids(app, account_id).await;
    send(app, prepare(app, account_id, &sids, Some(client_id)).await);
}

/// Sends each Logout Token on a task of its own, which shutdown waits for
/// ([`App::finish_background`]).
pub fn send(app: &App, deliveries: Vec<Delivery>) {
    if deliveries.is_empty() {
        return;
    }
    // Built per logout, as the registry check and the key fetches do: logouts that reach a
    // client with a back-channel URI are rare beside sign-ins, and a client that cannot be
    // built is then one undelivered logout, not a failed start.
    let http = match reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
    {
        Ok(h) => h,
        Err(e) => {
            tracing::error!(error = %e, "no HTTP client for back-channel logout");
            return;
        }
    };
    for d in deliveries {
        app.background.spawn(deliver(http.clone(), d));
    }
}

/// What one attempt came to.
enum Outcome {
    Delivered,
    Refused(u16),
    Failed(String),
}

async fn attempt(http: &reqwest::Client, d: &Delivery) -> Outcome {
    let body = form_urlencoded::Serializer::new(String::new())
        .append_pair("logout_token", &d.token)
        .finish();
    let sent = http
        .post(&d.uri)
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(body)
        .send()
        .await;
    match sent {
        Ok(r) if r.status().is_success() => Outcome::Delivered,
        Ok(r) => {
            let s = r.status().as_u16();
            if r.status().is_client_error() && s != 408 && s != 429 {
                Outcome::Refused(s)
            } else {
                Outcome::Failed(format!("status {s}"))
            }
        }
        // Without the URL: it may carry a query the client put there.
        Err(e) => Outcome::Failed(e.without_url().to_string()),
    }
}

async fn deliver(http: reqwest::Client, d: Delivery) {
    let client_id = d.client_id.as_str();
    for n in 1..=ATTEMPTS {
        match attempt(&http, &d).await {
            Outcome::Delivered => {
                tracing::info!(%client_id, attempt = n, "back-channel logout delivered");
                return;
            }
            Outcome::Refused(status) => {
                tracing::warn!(%client_id, status, "back-channel logout refused by the client");
                return;
            }
            Outcome::Failed(why) => {
                tracing::warn!(%client_id, attempt = n, %why, "back-channel logout not delivered");
            }
        }
        if n < ATTEMPTS {
            tokio::time::sleep(Duration::from_secs(1 << n)).await;
        }
    }
    tracing::error!(%client_id, "back-channel logout given up");
}

/// A Logout Token (§2.4) for `client` about session `sid` of `account_id` (named by the
/// `sub` the client knows).
fn logout_token(
    app: &App,
    client: &Client,
    account_id: &str,
    sid: &str,
) -> Result<String, keys::Error> {
    let now = app.now();
    let claims = json!({
        "iss": app.settings.issuer,
        "sub": app.subject(client, account_id),
        "aud": client.id,
        "iat": now,
        "exp": now.saturating_add(LIFETIME),
        "jti": crate::crypto::random_token(16),
        "sid": sid,
        "events": { EVENT: {} },
    });
    let key = crate::oauth::tokens::id_token_signer(app, client);
    keys::sign_jwt(&key, Some("logout+jwt"), &claims)
}
