//! What the queues of deliveries to try again ([`super::pending_notices`],
//! [`super::pending_logouts`]) share: each row has an `id`, an `attempts` count and a
//! `next_at` (when it is due; while claimed, when the claim lapses). A row is claimed by
//! moving its `next_at` past the lease, in one statement that checks the value read: of
//! several nodes, one wins each attempt.

use super::sql::{query, Row, Sql};
use super::StoreError;

/// The rows of one queue's table.
pub struct Rows<'a> {
    sql: &'a Sql,
    table: &'static str,
}

/// The rows of queue `table`.
pub(crate) fn rows<'a>(sql: &'a Sql, table: &'static str) -> Rows<'a> {
    Rows { sql, table }
}

impl Rows<'_> {
    /// Up to `limit` rows due at `now`, the longest-waiting first: `id`, the queue's own
    /// `columns`, `attempts` and `next_at`.
    pub(crate) async fn due(
        &self,
        columns: &str,
        now: i64,
        limit: i64,
    ) -> Result<Vec<Row>, StoreError> {
        let stmt = format!(
            "SELECT id, {columns}, attempts, next_at FROM {} WHERE next_at <= $1 \
             ORDER BY next_at, id LIMIT $2",
            self.table
        );
        query(&stmt).bind(now).bind(limit).fetch_all(self.sql).await
    }

    /// Claims row `id`, read with `next_at`, until `until`: false when another node claimed
    /// or finished it since.
    pub async fn claim(&self, id: &str, next_at: i64, until: i64) -> Result<bool, StoreError> {
        let stmt = format!(
            "UPDATE {} SET next_at = $1 WHERE id = $2 AND next_at = $3",
            self.table
        );
        let r = query(&stmt)
            .bind(until)
            .bind(id)
            .bind(next_at)
            .execute(self.sql)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// [`Rows::claim`] for a pass over due rows: a store error is logged and counts as
    /// another node having it.
    pub async fn take(&self, id: &str, next_at: i64, until: i64) -> bool {
        self.claim(id, next_at, until).await.unwrap_or_else(|e| {
            let table = self.table;
            tracing::error!(error = %e, table, "a queued row could not be claimed");
            false
        })
    }

    /// After an attempt at row `id`: due again at `again` with `attempts` counted, or
    /// removed (`None`: delivered, refused for good, or given up). A store error is logged.
    pub async fn settle(&self, id: &str, attempts: i64, again: Option<i64>) {
        let saved = match again {
            Some(next) => self.failed(id, attempts, next).await,
            None => self.remove(id).await,
        };
        if let Err(e) = saved {
            let table = self.table;
            tracing::error!(error = %e, table, "a queued row's state could not be saved");
        }
    }

    /// Records that row `id` has failed `attempts` times; due again at `next_at`.
    pub async fn failed(&self, id: &str, attempts: i64, next_at: i64) -> Result<(), StoreError> {
        let stmt = format!(
            "UPDATE {} SET attempts = $1, next_at = $2 WHERE id = $3",
            self.table
        );
        query(&stmt)
            .bind(attempts)
            .bind(next_at)
            .bind(id)
            .execute(self.sql)
            .await?;
        Ok(())
    }

    /// Removes row `id`: delivered, or given up.
    pub async fn remove(&self, id: &str) -> Result<(), StoreError> {
        let stmt = format!("DELETE FROM {} WHERE id = $1", self.table);
        query(&stmt).bind(id).execute(self.sql).await?;
        Ok(())
    }
}
