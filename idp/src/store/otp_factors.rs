//! The SMS and e-mail one-time-code factors an account turned on (one row per channel).

use super::sql::{query, Sql};
use super::StoreError;

/// An account's SMS / e-mail code factors.
pub struct OtpFactors<'a>(pub(crate) &'a Sql);

impl OtpFactors<'_> {
    /// The channels (`sms`, `email`) turned on for `account_id`.
    pub async fn list(&self, account_id: &str) -> Result<Vec<String>, StoreError> {
        query("SELECT channel FROM otp_factors WHERE account_id = $1 ORDER BY channel")
            .bind(account_id)
            .fetch_all(self.0)
            .await?
            .iter()
            .map(|r| r.get_at(0))
            .collect()
    }

    /// Turns `channel` on (again: a no-op).
    pub async fn add(&self, account_id: &str, channel: &str, now: i64) -> Result<(), StoreError> {
        query(
            "INSERT INTO otp_factors (account_id, channel, added_at) VALUES ($1, $2, $3) \
             ON CONFLICT (account_id, channel) DO NOTHING",
        )
        .bind(account_id)
        .bind(channel)
        .bind(now)
        .execute(self.0)
        .await?;
        Ok(())
    }

    /// Turns `channel` off; true when it was on.
    pub async fn remove(&self, account_id: &str, channel: &str) -> Result<bool, StoreError> {
        let r = query("DELETE FROM otp_factors WHERE account_id = $1 AND channel = $2")
            .bind(account_id)
            .bind(channel)
            .execute(self.0)
            .await?;
        Ok(r.rows_affected() == 1)
    }
}
