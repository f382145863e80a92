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
//!
//! Each delivery is written to the database (`pending_logouts`) before its first attempt
//! and removed when the client answers. One that the first attempts could not deliver is
//! tried again later as failed notices are ([`crate::notify::RetryPolicy`]: from a minute,
//! doubling up to an hour, twelve attempts), with a fresh Logout Token each time (the first
//! has expired by then), by whichever node claims it; so is one whose node stopped before
//! it was delivered, once that node's hold on it lapses ([`FIRST_LEASE`]). A client that
//! is removed, or drops its `backchannel_logout_uri`, meanwhile is not told.

use crate::app::App;
use crate::store::pending_logouts::PendingLogout;
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

/// How long the node that ended a session holds its deliveries before another may take
/// them, seconds: longer than the first attempts can take (three of [`TIMEOUT`], and 2 s
/// and 4 s between them).
pub const FIRST_LEASE: i64 = 60;

/// One Logout Token on its way to one client.
#[derive(Debug)]
pub struct Delivery {
    client_id: String,
    account_id: String,
    sid: String,
    uri: String,
    token: String,
    /// Its row in `pending_logouts`, once written.
    row: Option<String>,
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
                    account_id: account_id.to_owned(),
                    sid: sid.clone(),
                    uri,
                    token,
                    row: None,
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
    send(app, prepare(app, account_id, sids, None).await).await;
}

/// The citizen withdrew `client_id`'s access: its sessions with the client are over, so
/// the client is told of each live session it has a grant from (the provider's sessions
/// go on for the other clients).
pub async fn access_withdrawn(app: &App, account_id: &str, client_id: &str) {
    let sids = crate::session::live_sids(app, account_id).await;
    send(app, prepare(app, account_id, &sids, Some(client_id)).await).await;
}

/// The HTTP client deliveries go through. Built per logout (and per pass over the queue), as
/// the registry check and the key fetches do: logouts that reach a client with a
/// back-channel URI are rare beside sign-ins, and a client that cannot be built is then a
/// delivery left for later, not a failed start.
fn http_client() -> Option<reqwest::Client> {
    reqwest::Client::builder()
        .timeout(TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| tracing::error!(error = %e, "no HTTP client for back-channel logout"))
        .ok()
}

/// Writes each delivery to the queue, held by this node for [`FIRST_LEASE`], then sends
/// each Logout Token on a task of its own, which shutdown waits for
/// ([`App::finish_background`]). A delivery that cannot be written is still sent.
pub async fn send(app: &App, mut deliveries: Vec<Delivery>) {
    if deliveries.is_empty() {
        return;
    }
    let now = app.now();
    let queue = app.db.pending_logouts();
    for d in &mut deliveries {
        let held = now.saturating_add(FIRST_LEASE);
        match queue
            .add(&d.client_id, &d.account_id, &d.sid, held, now)
            .await
        {
            Ok(id) => d.row = Some(id),
            Err(e) => tracing::error!(error = %e, client_id = %d.client_id,
                "back-channel logout not queued; sent once from memory"),
        }
    }
    let Some(http) = http_client() else {
        return;
    };
    for d in deliveries {
        let after = After {
            db: app.db.clone(),
            retry: app.notifier.retry,
            clock: app.clock.clone(),
        };
        app.background.spawn(first_attempts(after, http.clone(), d));
    }
}

/// What a delivery's task needs after its first attempts.
struct After {
    db: crate::store::Db,
    retry: crate::notify::RetryPolicy,
    clock: std::sync::Arc<dyn keys::Clock>,
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

/// Whether the client answered (delivered, or refused for good), after logging what came of
/// attempt `n`.
fn answered(outcome: Outcome, client_id: &str, n: i64) -> bool {
    match outcome {
        Outcome::Delivered => {
            tracing::info!(%client_id, attempt = n, "back-channel logout delivered");
            true
        }
        Outcome::Refused(status) => {
            tracing::warn!(%client_id, status, "back-channel logout refused by the client");
            true
        }
        Outcome::Failed(why) => {
            tracing::warn!(%client_id, attempt = n, %why, "back-channel logout not delivered");
            false
        }
    }
}

/// The first attempts at a delivery, then its row removed (the client answered, or the
/// retry policy allows no more attempts) or left due again after the policy's delay. The
/// policy's attempts count these first ones.
async fn first_attempts(after: After, http: reqwest::Client, d: Delivery) {
    let client_id = d.client_id.as_str();
    let mut done = false;
    for n in 1..=ATTEMPTS {
        if answered(attempt(&http, &d).await, client_id, i64::from(n)) {
            done = true;
            break;
        }
        if n < ATTEMPTS {
            tokio::time::sleep(Duration::from_secs(1 << n)).await;
        }
    }
    let Some(row) = &d.row else {
        if !done {
            tracing::error!(%client_id, "back-channel logout given up");
        }
        return;
    };
    let attempts = i64::from(ATTEMPTS);
    let again = if done {
        None
    } else {
        let again = after.retry.again_at(attempts, after.clock.now());
        match again {
            Some(next) => {
                tracing::warn!(%client_id, retry_at = next, "back-channel logout to be tried again")
            }
            None => tracing::error!(%client_id, "back-channel logout given up"),
        }
        again
    };
    let queue = after.db.pending_logouts();
    queue.rows().settle(row, attempts, again).await;
}

/// One pass over the back-channel logouts due at `now`: each is claimed (one node wins),
/// sent once with a fresh Logout Token, then removed (the client answered, or is gone or no
/// longer listens), or put back with a longer delay, or given up after the retry policy's
/// attempts. Safe on any number of nodes at once.
pub async fn retry_pending(app: &App, now: i64) {
    let queue = app.db.pending_logouts();
    let due = match queue.due(now, 50).await {
        Ok(d) => d,
        Err(e) => {
            tracing::error!(error = %e, "queued back-channel logouts could not be read");
            return;
        }
    };
    if due.is_empty() {
        return;
    }
    let Some(http) = http_client() else {
        return;
    };
    let rows = queue.rows();
    for l in due {
        if !rows
            .take(&l.id, l.next_at, now.saturating_add(FIRST_LEASE))
            .await
        {
            continue;
        }
        let attempts = l.attempts.saturating_add(1);
        let finished = match again(app, &http, &l).await {
            Some(outcome) => answered(outcome, &l.client_id, attempts),
            None => true,
        };
        let next = if finished {
            None
        } else {
            let next = app.notifier.retry.again_at(attempts, now);
            if next.is_none() {
                tracing::error!(client_id = %l.client_id, attempts, "back-channel logout given up");
            }
            next
        };
        rows.settle(&l.id, attempts, next).await;
    }
}

/// Sends queued logout `l` once more with a fresh token; `None` when there is nobody to
/// tell any more (the client was removed or dropped its URI) or the token cannot be made.
async fn again(app: &App, http: &reqwest::Client, l: &PendingLogout) -> Option<Outcome> {
    let client = match app.client(&l.client_id).await {
        Ok(Some(c)) => c,
        Ok(None) => return None,
        Err(e) => return Some(Outcome::Failed(e.to_string())),
    };
    let uri = client.backchannel_logout_uri.clone()?;
    let token = logout_token(app, &client, &l.account_id, &l.sid)
        .map_err(
            |e| tracing::error!(error = %e, client_id = %l.client_id, "logout token not signed"),
        )
        .ok()?;
    let d = Delivery {
        client_id: l.client_id.clone(),
        account_id: l.account_id.clone(),
        sid: l.sid.clone(),
        uri,
        token,
        row: Some(l.id.clone()),
    };
    Some(attempt(http, &d).await)
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
