//! Expiry: pending requests past `expires_at` are stored as `expired`, with one `expired`
//! webhook event and one audit event (`signature.expired`).
//!
//! Rules: reads already report such a request as expired, so the sweep only makes it durable
//! and tells the client; the change is one conditional UPDATE (`WHERE status = 'pending'`), so
//! of two nodes sweeping at once exactly one expires a request and queues its event.

use super::signing::event_details;
use crate::Signer;
use keys::audit::NewEvent;
use serde_json::json;

/// Requests expired by one pass.
const BATCH: i64 = 100;

impl Signer {
    /// Expires the pending requests past their `expires_at`; returns how many this call did.
    pub async fn expire_requests(&self) -> Result<usize, sqlx::Error> {
        let now = self.clock.now();
        let ids: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM signer_requests WHERE status = 'pending' AND expires_at <= $1 \
             ORDER BY expires_at LIMIT $2",
        )
        .bind(now)
        .bind(BATCH)
        .fetch_all(&self.pool)
        .await?;
        let mut expired = 0;
        for id in ids {
            let Some(r) = self.request(&id).await? else {
                continue;
            };
            let mut tx = self.pool.begin().await?;
            let done = sqlx::query(
                "UPDATE signer_requests SET status = 'expired' \
                 WHERE id = $1 AND status = 'pending' AND expires_at <= $2",
            )
            .bind(&id)
            .bind(now)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done == 0 {
                tx.rollback().await?;
                continue;
            }
            self.queue_webhook(&mut tx, &r, "expired", r.expires_at)
                .await?;
            tx.commit().await?;
            expired += 1;
            let e = NewEvent {
                actor: "system",
                action: "signature.expired",
                subject: Some(&r.account_id),
                details: json!({ "request": event_details(&r) }),
            };
            if let Err(err) = self.audit.append(e).await {
                tracing::error!(error = %err, "audit event not written");
            }
        }
        Ok(expired)
    }
}
