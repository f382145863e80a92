//! Back-channel logouts on their way to clients (`oauth::backchannel`): a row is written
//! before the first attempt and removed when the client answers, so a node that stops, or a
//! client that is down for a while, does not lose a logout. Claimed as
//! [`super::retry_queue`] says.

use super::retry_queue;
use super::sql::{query, Sql};
use super::StoreError;

const TABLE: &str = "pending_logouts";

/// One client to tell that one session ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingLogout {
    /// Row id.
    pub id: String,
    /// The client to tell.
    pub client_id: String,
    /// Whose session ended.
    pub account_id: String,
    /// The session (the ID Tokens' `sid`).
    pub sid: String,
    /// Attempts made so far.
    pub attempts: i64,
    /// When it is due (Unix seconds); while claimed, when the claim lapses.
    pub next_at: i64,
}

/// The queue of back-channel logouts.
pub struct PendingLogouts<'a>(pub(crate) &'a Sql);

impl PendingLogouts<'_> {
    /// Claiming a row, counting its failures, removing it.
    pub fn rows(&self) -> retry_queue::Rows<'_> {
        retry_queue::rows(self.0, TABLE)
    }

    /// Queues telling `client_id` that session `sid` of `account_id` ended, due (or claimed
    /// by the caller until) `next_at`; gives the row's id.
    pub async fn add(
        &self,
        client_id: &str,
        account_id: &str,
        sid: &str,
        next_at: i64,
        now: i64,
    ) -> Result<String, StoreError> {
        let id = uuid::Uuid::new_v4().to_string();
        query(
            "INSERT INTO pending_logouts (id, client_id, account_id, sid, attempts, next_at, \
             created_at) VALUES ($1, $2, $3, $4, 0, $5, $6)",
        )
        .bind(id.as_str())
        .bind(client_id)
        .bind(account_id)
        .bind(sid)
        .bind(next_at)
        .bind(now)
        .execute(self.0)
        .await?;
        Ok(id)
    }

    /// Up to `limit` logouts due at `now`, the longest-waiting first.
    pub async fn due(&self, now: i64, limit: i64) -> Result<Vec<PendingLogout>, StoreError> {
        let rows = self
            .rows()
            .due("client_id, account_id, sid", now, limit)
            .await?;
        rows.iter()
            .map(|r| {
                Ok(PendingLogout {
                    id: r.try_get("id")?,
                    client_id: r.try_get("client_id")?,
                    account_id: r.try_get("account_id")?,
                    sid: r.try_get("sid")?,
                    attempts: r.try_get("attempts")?,
                    next_at: r.try_get("next_at")?,
                })
            })
            .collect()
    }
}
