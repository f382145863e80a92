//! Passkeys (WebAuthn credentials) of citizen accounts.
//!
//! Rules: a credential id belongs to one account only (unique column: registering it again,
//! to any account, is a conflict); rename and remove act only on the caller's own account's
//! rows; the stored credential (public key, sign counter) is replaced after each sign-in.

use super::sql::{query, Row, Sql};
use super::{conflict, StoreError};

/// One registered passkey.
#[derive(Clone, Debug)]
pub struct PasskeyRow {
    /// Random id used by the account pages (never the credential id).
    pub id: String,
    /// The owning account.
    pub account_id: String,
    /// The credential id, base64url.
    pub credential_id: String,
    /// The WebAuthn user handle given at registration (a UUID).
    pub user_handle: String,
    /// The citizen's name for it.
    pub name: String,
    /// webauthn-rs `Passkey` as JSON (public key and sign counter; nothing secret).
    pub passkey: String,
    /// Unix time of registration.
    pub created_at: i64,
    /// Unix time of the last sign-in with it.
    pub last_used_at: Option<i64>,
}

/// The passkeys of all accounts.
pub struct Passkeys<'a>(pub(crate) &'a Sql);

impl Passkeys<'_> {
    /// Stores a new passkey; `Conflict` when the credential id is already registered.
    pub async fn insert(&self, p: &PasskeyRow) -> Result<(), StoreError> {
        query(
            "INSERT INTO passkeys (id, account_id, credential_id, user_handle, name, passkey, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&p.id)
        .bind(&p.account_id)
        .bind(&p.credential_id)
        .bind(&p.user_handle)
        .bind(&p.name)
        .bind(&p.passkey)
        .bind(p.created_at)
        .execute(self.0)
        .await
        .map_err(|e| conflict(e, "credential"))?;
        Ok(())
    }

    /// The account's passkeys, oldest first.
    pub async fn list(&self, account_id: &str) -> Result<Vec<PasskeyRow>, StoreError> {
        let rows = query("SELECT * FROM passkeys WHERE account_id = $1 ORDER BY created_at, id")
            .bind(account_id)
            .fetch_all(self.0)
            .await?;
        rows.iter().map(from_row).collect()
    }

    /// The passkey with this credential id, whichever account holds it.
    pub async fn by_credential(
        &self,
        credential_id: &str,
    ) -> Result<Option<PasskeyRow>, StoreError> {
        let row = query("SELECT * FROM passkeys WHERE credential_id = $1")
            .bind(credential_id)
            .fetch_optional(self.0)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Renames one of the account's passkeys; false when it has no such passkey.
    pub async fn rename(&self, account_id: &str, id: &str, name: &str) -> Result<bool, StoreError> {
        let r = query("UPDATE passkeys SET name = $1 WHERE id = $2 AND account_id = $3")
            .bind(name)
            .bind(id)
            .bind(account_id)
            .execute(self.0)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Removes one of the account's passkeys; false when it has no such passkey.
    pub async fn remove(&self, account_id: &str, id: &str) -> Result<bool, StoreError> {
        let r = query("DELETE FROM passkeys WHERE id = $1 AND account_id = $2")
            .bind(id)
            .bind(account_id)
            .execute(self.0)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Records a sign-in: the updated credential (sign counter) and when.
    pub async fn used(&self, id: &str, passkey: &str, now: i64) -> Result<(), StoreError> {
        query("UPDATE passkeys SET passkey = $1, last_used_at = $2 WHERE id = $3")
            .bind(passkey)
            .bind(now)
            .bind(id)
            .execute(self.0)
            .await?;
        Ok(())
    }
}

fn from_row(r: &Row) -> Result<PasskeyRow, StoreError> {
    Ok(PasskeyRow {
        id: r.try_get("id")?,
        account_id: r.try_get("account_id")?,
        credential_id: r.try_get("credential_id")?,
        user_handle: r.try_get("user_handle")?,
        name: r.try_get("name")?,
        passkey: r.try_get("passkey")?,
        created_at: r.try_get("created_at")?,
        last_used_at: r.try_get("last_used_at")?,
    })
}
