//! Webhook delivery: every node runs [`Signer::spawn_webhooks`], which sweeps expired requests
//! and POSTs each queued event (`signed`, `declined`, `expired`) to the request's
//! `webhook_url`.
//!
//! Rules: a node claims due events with one conditional UPDATE (`claimed_until`), so two nodes
//! never send one event at the same time; the body is a compact JWS (`typ`
//! [`WEBHOOK_JWT_TYPE`]) signed with vhod's current key, its `jti` (and the `Webhook-Id`
//! header) the event id on every attempt, so receivers drop duplicates; a 2xx answer delivers,
//! anything else is retried with exponential backoff and jitter, and after `max_attempts` the
//! event is given up (audit `signature.webhook_failed`). Redirects are not followed and the
//! answer's body is not read.

use super::API_BASE;
use crate::Signer;
use keys::audit::NewEvent;
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use std::sync::Arc;
use std::time::Duration;

/// The `typ` of a webhook JWS.
pub const WEBHOOK_JWT_TYPE: &str = "vhod-webhook+jwt";

/// Events claimed by one pass of one node.
const BATCH: i64 = 16;

/// How events are delivered.
#[derive(Clone, Debug)]
pub struct WebhookSettings {
    /// Delay after the first failed attempt; it doubles after each further one.
    pub backoff_base: Duration,
    /// Longest delay between two attempts.
    pub backoff_cap: Duration,
    /// Attempts after which an event is given up.
    pub max_attempts: i64,
    /// How often a node looks for due events and expired requests.
    pub interval: Duration,
    /// How long one POST may take.
    pub timeout: Duration,
    /// Whether receivers may be on loopback, private or link-local addresses
    /// ([`super::webhook_net`]); off by default.
    pub allow_private_networks: bool,
}

impl Default for WebhookSettings {
    /// 30 s doubling to 1 h: thirty attempts span about a day.
    fn default() -> Self {
        WebhookSettings {
            backoff_base: Duration::from_secs(30),
            backoff_cap: Duration::from_secs(3600),
            max_attempts: 30,
            interval: Duration::from_secs(5),
            timeout: Duration::from_secs(10),
            allow_private_networks: false,
        }
    }
}

impl WebhookSettings {
    /// The delay after `attempts` failed attempts: base × 2^(attempts−1), capped, of which a
    /// random half is kept (so receivers that failed together are not retried together).
    fn backoff(&self, attempts: i64) -> Duration {
        let exp = u32::try_from(attempts.clamp(1, 32) - 1).unwrap_or(0);
        let full = self
            .backoff_base
            .saturating_mul(2u32.saturating_pow(exp))
            .min(self.backoff_cap);
        let half = full / 2;
        let ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
        half + Duration::from_millis(rand::Rng::gen_range(&mut rand::rngs::OsRng, 0..=ms))
    }

    /// How long a claim holds: the POST's timeout with room to record the outcome.
    fn lease(&self) -> Duration {
        self.timeout.saturating_mul(3).max(Duration::from_secs(1))
    }
}

/// Wall-clock unix milliseconds. Retry pacing and claims use it rather than the service clock:
/// they coordinate nodes and pace a remote server, and decide nothing a person sees.
fn wall_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// An event this node claimed.
struct Claimed {
    event_id: String,
    request_id: String,
    url: String,
    status: String,
    event_at: i64,
    attempts: i64,
    /// The claim's `claimed_until`: the outcome is recorded only while the claim is ours.
    lease: i64,
}

/// The JWS payload.
#[derive(Serialize)]
struct Claims<'a> {
    iss: &'a str,
    aud: &'a str,
    iat: i64,
    jti: &'a str,
    event: &'a str,
    request_id: &'a str,
    event_at: i64,
    status_url: String,
}

impl Signer {
    /// Starts this node's sender: every `interval`, [`Signer::run_webhooks_once`]. The task
    /// ends when the signer is dropped.
    pub fn spawn_webhooks(self: &Arc<Self>) -> tokio::task::JoinHandle<()> {
        let me = Arc::downgrade(self);
        let every = self.webhooks.interval.max(Duration::from_millis(10));
        let client = self.webhook_client();
        tokio::spawn(async move {
            let client = match client {
                Ok(c) => c,
                Err(e) => {
                    tracing::error!(error = %e, "webhook client not built; no webhooks sent");
                    return;
                }
            };
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(s) = me.upgrade() else { break };
                s.pass(&client).await;
            }
        })
    }

    /// One pass of the sender, now: expired requests are swept and the due events delivered.
    /// Safe beside the background task and on any number of nodes at once.
    pub async fn run_webhooks_once(self: &Arc<Self>) -> Result<(), reqwest::Error> {
        let client = self.webhook_client()?;
        self.pass(&client).await;
        Ok(())
    }

    fn webhook_client(&self) -> Result<reqwest::Client, reqwest::Error> {
        let b = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(self.webhooks.timeout)
            .connect_timeout(self.webhooks.timeout)
            .user_agent("vhod-webhook/1");
        let b = if self.webhooks.allow_private_networks {
            b
        } else {
            b.dns_resolver(Arc::new(super::webhook_net::PublicOnly))
        };
        b.build()
    }

    async fn pass(self: &Arc<Self>, client: &reqwest::Client) {
        if let Err(e) = self.expire_requests().await {
            tracing::error!(error = %e, "expiry sweep failed");
        }
        if let Err(e) = self.deliver_due(client).await {
            tracing::error!(error = %e, "webhook delivery pass failed");
        }
    }

    /// Claims the due events (at most [`BATCH`]) and delivers them concurrently.
    async fn deliver_due(self: &Arc<Self>, client: &reqwest::Client) -> Result<(), sqlx::Error> {
        let events = self.claim_due().await?;
        let mut sends = tokio::task::JoinSet::new();
        for ev in events {
            let (s, c) = (self.clone(), client.clone());
            sends.spawn(async move { s.deliver(&c, ev).await });
        }
        while let Some(done) = sends.join_next().await {
            match done {
                Ok(Err(e)) => tracing::error!(error = %e, "webhook outcome not recorded"),
                Err(e) => tracing::error!(error = %e, "webhook delivery task failed"),
                Ok(Ok(())) => {}
            }
        }
        Ok(())
    }

    /// One conditional UPDATE: events not delivered, not given up, due and not claimed by a
    /// live claim become ours until the lease ends. The outer WHERE repeats the conditions so
    /// that a node that waited on another's row lock re-checks them and skips the row.
    async fn claim_due(&self) -> Result<Vec<Claimed>, sqlx::Error> {
        let now = wall_ms();
        let lease = now.saturating_add(millis(self.webhooks.lease()));
        let rows = sqlx::query(
            "UPDATE signer_webhooks SET claimed_until = $1 \
             WHERE event_id IN (SELECT event_id FROM signer_webhooks \
                 WHERE delivered_at IS NULL AND failed_at IS NULL AND next_at <= $2 \
                 AND claimed_until <= $2 ORDER BY next_at, event_at LIMIT $3) \
             AND delivered_at IS NULL AND failed_at IS NULL AND next_at <= $2 \
             AND claimed_until <= $2 \
             RETURNING event_id, request_id, url, status, event_at, attempts",
        )
        .bind(lease)
        .bind(now)
        .bind(BATCH)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(Claimed {
                    event_id: r.try_get("event_id")?,
                    request_id: r.try_get("request_id")?,
                    url: r.try_get("url")?,
                    status: r.try_get("status")?,
                    event_at: r.try_get("event_at")?,
                    attempts: r.try_get("attempts")?,
                    lease,
                })
            })
            .collect()
    }

    /// The signed body of `ev` for the client `client_id`.
    fn webhook_jws(&self, ev: &Claimed, client_id: &str) -> Result<String, keys::Error> {
        let claims = Claims {
            iss: &self.issuer,
            aud: client_id,
            iat: self.clock.now(),
            jti: &ev.event_id,
            event: &ev.status,
            request_id: &ev.request_id,
            event_at: ev.event_at,
            status_url: self.url(&format!("{API_BASE}/requests/{}", ev.request_id)),
        };
        keys::sign_jwt(&self.keys.signer(), Some(WEBHOOK_JWT_TYPE), &claims)
    }

    /// POSTs `ev` once and records the outcome.
    async fn deliver(&self, client: &reqwest::Client, ev: Claimed) -> Result<(), sqlx::Error> {
        let client_id: Option<String> =
            sqlx::query_scalar("SELECT client_id FROM signer_requests WHERE id = $1")
                .bind(&ev.request_id)
                .fetch_optional(&self.pool)
                .await?;
        let Some(client_id) = client_id else {
            return self.failed(&ev, "the request no longer exists", true).await;
        };
        let jws = match self.webhook_jws(&ev, &client_id) {
            Ok(j) => j,
            Err(e) => {
                tracing::error!(error = %e, "webhook payload not signed");
                return self.failed(&ev, "payload not signed", false).await;
            }
        };
        if !self.webhooks.allow_private_networks && super::webhook_net::literal_not_public(&ev.url)
        {
            return self.failed(&ev, "address not allowed", true).await;
        }
        let sent = client
            .post(&ev.url)
            .header(reqwest::header::CONTENT_TYPE, "application/jwt")
            .header("Webhook-Id", &ev.event_id)
            .body(jws)
            .send()
            .await;
        match sent {
            Ok(r) if r.status().is_success() => self.delivered(&ev).await,
            Ok(r) => {
                let msg = format!("HTTP {}", r.status().as_u16());
                self.failed(&ev, &msg, false).await
            }
            Err(e) => self.failed(&ev, &describe(&e), false).await,
        }
    }

    async fn delivered(&self, ev: &Claimed) -> Result<(), sqlx::Error> {
        sqlx::query(
            "UPDATE signer_webhooks SET delivered_at = $1, attempts = attempts + 1, \
             last_error = NULL, claimed_until = 0 WHERE event_id = $2 AND claimed_until = $3",
        )
        .bind(self.clock.now())
        .bind(&ev.event_id)
        .bind(ev.lease)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Records a failed attempt: retried after the backoff, or given up after the last one
    /// (or at once when `final_` is set).
    async fn failed(&self, ev: &Claimed, error: &str, final_: bool) -> Result<(), sqlx::Error> {
        let attempts = ev.attempts.saturating_add(1);
        let give_up = final_ || attempts >= self.webhooks.max_attempts;
        let next_at = wall_ms().saturating_add(millis(self.webhooks.backoff(attempts)));
        let failed_at = give_up.then(|| self.clock.now());
        let done = sqlx::query(
            "UPDATE signer_webhooks SET attempts = $1, next_at = $2, failed_at = $3, \
             last_error = $4, claimed_until = 0 WHERE event_id = $5 AND claimed_until = $6",
        )
        .bind(attempts)
        .bind(next_at)
        .bind(failed_at)
        .bind(error)
        .bind(&ev.event_id)
        .bind(ev.lease)
        .execute(&self.pool)
        .await?
        .rows_affected();
        tracing::warn!(event_id = %ev.event_id, attempts, error, give_up, "webhook not delivered");
        if give_up && done == 1 {
            let e = NewEvent {
                actor: "system",
                action: "signature.webhook_failed",
                subject: Some(&ev.request_id),
                details: json!({
                    "event_id": ev.event_id,
                    "request_id": ev.request_id,
                    "event": ev.status,
                    "attempts": attempts,
                    "last_error": error,
                }),
            };
            if let Err(err) = self.audit.append(e).await {
                tracing::error!(error = %err, "audit event not written");
            }
        }
        Ok(())
    }
}

/// A short reason for a failed POST, without the URL (it may carry the receiver's secret).
fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "connection failed".into()
    } else if e.is_redirect() {
        "redirect not followed".into()
    } else if e.is_builder() {
        "unusable URL".into()
    } else {
        "request failed".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_jitter_up_to_the_cap() {
        let s = WebhookSettings::default();
        for (n, full) in [(1, 30), (2, 60), (3, 120), (8, 3600), (40, 3600)] {
            let d = s.backoff(n);
            let full = Duration::from_secs(full);
            assert!(d >= full / 2 && d <= full, "{n}: {d:?}");
        }
    }
}
