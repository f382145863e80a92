//! Recovery codes: ten single-use codes per account, kept as keyed hashes. Spending one is a
//! single conditional UPDATE, so two nodes cannot spend the same code twice.

use super::sql::{query, Sql};
use super::StoreError;

/// An account's recovery codes.
pub struct RecoveryCodes<'a>(pub(crate) &'a Sql);

impl RecoveryCodes<'_> {
    /// Replaces every code of `account_id` with `hashes` (one transaction).
    pub async fn replace(
        &self,
        account_id: &str,
        hashes: &[String],
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.0.begin().await?;
        query("DELETE FROM recovery_codes WHERE account_id = $1")
            .bind(account_id)
            .execute(&mut tx)
            .await?;
        for h in hashes {
            query(
                "INSERT INTO recovery_codes (account_id, code_hash, created_at) VALUES ($1, $2, $3)",
            )
            .bind(account_id)
            .bind(h)
            .bind(now)
            .execute(&mut tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Spends the code with hash `hash`; true only for the one caller that spent it.
    pub async fn spend(&self, account_id: &str, hash: &str, now: i64) -> Result<bool, StoreError> {
        let r = query(
            "UPDATE recovery_codes SET used_at = $1 \
             WHERE account_id = $2 AND code_hash = $3 AND used_at IS NULL",
        )
        .bind(now)
        .bind(account_id)
        .bind(hash)
        .execute(self.0)
        .await?;
        Ok(r.rows_affected() == 1)
    }

    /// How many unspent codes the account has.
    pub async fn remaining(&self, account_id: &str) -> Result<i64, StoreError> {
        let n: Option<i64> =
            query("SELECT COUNT(*) FROM recovery_codes WHERE account_id = $1 AND used_at IS NULL")
                .bind(account_id)
                .fetch_scalar(self.0)
                .await?;
        Ok(n.unwrap_or(0))
    }
}
