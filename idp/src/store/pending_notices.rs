//! Notices whose delivery failed for a reason that may pass, waiting to be tried again
//! (`notify::retry_pending`); claimed as [`super::retry_queue`] says.

use super::retry_queue;
use super::sql::{query, Sql};
use super::StoreError;

const TABLE: &str = "pending_notices";
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
    /// Queues a notice that failed `attempts` times, due (or held by its sender until)
    /// `next_at`; gives the row's id.
    pub async fn add(
        &self,
        to: &Recipient,
        kind: &str,
        lang: &str,
        attempts: i64,
        next_at: i64,
        now: i64,
    ) -> Result<String, StoreError> {
        let (channel, address) = match to {
            Recipient::Email(a) => ("email", a),
            Recipient::Sms(p) => ("sms", p),
        };
        let id = uuid::Uuid::new_v4().to_string();
        query(
            "INSERT INTO pending_notices (id, channel, address, kind, lang, attempts, next_at, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id.as_str())
        .bind(channel)
        .bind(address.as_str())
        .bind(kind)
        .bind(lang)
        .bind(attempts)
        .bind(next_at)
        .bind(now)
        .execute(self.0)
        .await?;
        Ok(id)
    }

    /// Up to `limit` notices due at `now`, the longest-waiting first.
    pub async fn due(&self, now: i64, limit: i64) -> Result<Vec<PendingNotice>, StoreError> {
        let rows = self
            .rows()
            .due("channel, address, kind, lang", now, limit)
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

    /// Claiming, counting a failure, removing.
    pub fn rows(&self) -> retry_queue::Rows<'_> {
        retry_queue::rows(self.0, TABLE)
    }
}
