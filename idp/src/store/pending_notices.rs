//! Notices whose delivery failed for a reason that may pass, waiting to be tried again
//! (`notify::retry_pending`). A row is claimed by moving its `next_at` past the lease, in one
//! statement that checks the value read: of several nodes, one wins each attempt.

use super::sql::{query, Sql};
use super::StoreError;
use crate::notify::Recipient;

/// A notice waiting for another attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingNotice {
    /// Row id.
    pub id: String,
    /// Where it goes.
    pub to: Recipient,
    /// What it is about (its texts are `{kind}_subject` and `{kind}_text`).
    pub kind: String,
    /// The language it is written in (`ru`, `en`).
    pub lang: String,
    /// Attempts made so far.
    pub attempts: i64,
    /// When it is due (Unix seconds); while claimed, when the claim lapses.
    pub next_at: i64,
}

/// The queue of notices to try again.
pub struct PendingNotices<'a>(pub(crate) &'a Sql);

impl PendingNotices<'_> {
    /// Queues a notice that failed `attempts` times, due at `next_at`.
    pub async fn add(
        &self,
        to: &Recipient,
        kind: &str,
        lang: &str,
        attempts: i64,
        next_at: i64,
        now: i64,
    ) -> Result<(), StoreError> {
        let (channel, address) = match to {
            Recipient::Email(a) => ("email", a),
            Recipient::Sms(p) => ("sms", p),
        };
        query(
            "INSERT INTO pending_notices (id, channel, address, kind, lang, attempts, next_at, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(channel)
        .bind(address.as_str())
        .bind(kind)
        .bind(lang)
        .bind(attempts)
        .bind(next_at)
        .bind(now)
        .execute(self.0)
        .await?;
        Ok(())
    }

    /// Up to `limit` notices due at `now`, the longest-waiting first.
    pub async fn due(&self, now: i64, limit: i64) -> Result<Vec<PendingNotice>, StoreError> {
        let rows = query(
            "SELECT id, channel, address, kind, lang, attempts, next_at FROM pending_notices \
             WHERE next_at <= $1 ORDER BY next_at, id LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(self.0)
        .await?;
        rows.iter()
            .map(|r| {
                let address: String = r.try_get("address")?;
                let to = match r.try_get::<String, _>("channel")?.as_str() {
                    "email" => Recipient::Email(address),
                    "sms" => Recipient::Sms(address),
                    _ => return Err(StoreError::Corrupt("pending notice channel")),
                };
                Ok(PendingNotice {
                    id: r.try_get("id")?,
                    to,
                    kind: r.try_get("kind")?,
                    lang: r.try_get("lang")?,
                    attempts: r.try_get("attempts")?,
                    next_at: r.try_get("next_at")?,
                })
            })
            .collect()
    }

    /// Claims `n` as read until `until`: false when another node claimed or finished it
    /// since.
    pub async fn claim(&self, n: &PendingNotice, until: i64) -> Result<bool, StoreError> {
        let r = query("UPDATE pending_notices SET next_at = $1 WHERE id = $2 AND next_at = $3")
            .bind(until)
            .bind(n.id.as_str())
            .bind(n.next_at)
            .execute(self.0)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Records one more failed attempt; due again at `next_at`.
    pub async fn failed(&self, id: &str, attempts: i64, next_at: i64) -> Result<(), StoreError> {
        query("UPDATE pending_notices SET attempts = $1, next_at = $2 WHERE id = $3")
            .bind(attempts)
            .bind(next_at)
            .bind(id)
            .execute(self.0)
            .await?;
        Ok(())
    }

    /// Removes a notice: delivered, or given up.
    pub async fn remove(&self, id: &str) -> Result<(), StoreError> {
        query("DELETE FROM pending_notices WHERE id = $1")
            .bind(id)
            .execute(self.0)
            .await?;
        Ok(())
    }
}
