//! Expiry: pending requests past `expires_at` are stored as `expired`, with one `expired`
//! webhook event and one audit event (`signature.expired`).
//!
//! Rules: reads already report such a request as expired, so the sweep only makes it durable
//! and tells the client; the change is one conditional UPDATE (`WHERE status = 'pending'`), so
//! of two nodes sweeping at once exactly one expires a request and queues its event.

use super::signing::{claim_pending, event_details};
use crate::Signer;
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
            let claim = sqlx::query(
                "UPDATE signer_requests SET status = 'expired' \
                 WHERE id = $1 AND status = 'pending' AND expires_at <= $2",
            )
            .bind(&id)
            .bind(now);
            let Some(mut tx) = claim_pending(self.pool.begin().await?, claim).await? else {
                continue;
            };
            self.queue_webhook(&mut tx, &r, "expired", r.expires_at)
                .await?;
            tx.commit().await?;
            expired += 1;
            let details = json!({ "request": event_details(&r) });
            self.audit_as("system", &r.account_id, "signature.expired", details)
                .await;
        }
        Ok(expired)
    }
}
