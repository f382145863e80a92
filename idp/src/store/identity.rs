//! The identity behind an account's "standard" level, and the history of its level.
//!
//! Rules kept here: one identity per account (a second save replaces the first); one SNILS
//! per account across the whole service (the unique blind index, refused as
//! [`StoreError::Conflict`]`("snils")`); identifiers arrive already sealed and indexed
//! ([`crate::identity::seal`], [`crate::identity::blind_index`]) so nothing here sees them in
//! clear; a level change is recorded with its evidence in the same transaction that sets
//! `accounts.level`.

use super::sql::{query, Row, Sql};
use super::{conflict, json_col, StoreError};

/// What is saved for an account's identity; identifiers sealed, with their blind indexes.
#[derive(Clone)]
pub struct NewIdentity {
    /// Family name, as checked by [`crate::identity::person_name`].
    pub family_name: String,
    /// Given name.
    pub given_name: String,
    /// Middle name (patronymic), if the person has one.
    pub middle_name: Option<String>,
    /// Date of birth, `YYYY-MM-DD`.
    pub birth_date: String,
    /// The SNILS digits, sealed under kind `snils`.
    pub snils_enc: Vec<u8>,
    /// Blind index of the SNILS digits (kind `snils`).
    pub snils_index: String,
    /// The passport, sealed under kind `passport`.
    pub passport_enc: Vec<u8>,
    /// Blind index of the passport (kind `passport`).
    pub passport_index: String,
    /// The person's INN, sealed under kind `inn`, if given.
    pub inn_enc: Option<Vec<u8>>,
    /// Blind index of the INN (kind `inn`), if given.
    pub inn_index: Option<String>,
}

/// A stored identity.
#[derive(Clone)]
pub struct IdentityRow {
    /// The account it belongs to.
    pub account_id: String,
    /// The identity as saved.
    pub identity: NewIdentity,
    /// Unix time of the last save.
    pub updated_at: i64,
}

/// Personal data stays out of logs.
impl std::fmt::Debug for NewIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewIdentity([redacted])")
    }
}

/// Only the account and the time are shown.
impl std::fmt::Debug for IdentityRow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IdentityRow")
            .field("account_id", &self.account_id)
            .field("identity", &self.identity)
            .field("updated_at", &self.updated_at)
            .finish()
    }
}

/// One change of an account's assurance level.
#[derive(Clone, Debug)]
pub struct LevelChange {
    /// Id of the change.
    pub id: String,
    /// The level reached: simplified, standard or confirmed.
    pub level: String,
    /// Who confirmed it, how and when.
    pub evidence: serde_json::Value,
    /// Unix time of the change.
    pub at: i64,
}

/// Account identities and level history.
pub struct Identities<'a>(pub(crate) &'a Sql);

impl Identities<'_> {
    /// Saves the identity of `account_id`, replacing any earlier one; `Conflict("snils")`
    /// when another account already has that SNILS.
    pub async fn upsert(
        &self,
        account_id: &str,
        i: &NewIdentity,
        now: i64,
    ) -> Result<(), StoreError> {
        query(
            "INSERT INTO account_identity (account_id, family_name, given_name, middle_name, \
             birth_date, snils_enc, snils_index, passport_enc, passport_index, inn_enc, \
             inn_index, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (account_id) DO UPDATE SET family_name = excluded.family_name, \
             given_name = excluded.given_name, middle_name = excluded.middle_name, \
             birth_date = excluded.birth_date, snils_enc = excluded.snils_enc, \
             snils_index = excluded.snils_index, passport_enc = excluded.passport_enc, \
             passport_index = excluded.passport_index, inn_enc = excluded.inn_enc, \
             inn_index = excluded.inn_index, updated_at = excluded.updated_at",
        )
        .bind(account_id)
        .bind(&i.family_name)
        .bind(&i.given_name)
        .bind(i.middle_name.as_deref())
        .bind(&i.birth_date)
        .bind(i.snils_enc.as_slice())
        .bind(&i.snils_index)
        .bind(i.passport_enc.as_slice())
        .bind(&i.passport_index)
        .bind(i.inn_enc.as_deref())
        .bind(i.inn_index.as_deref())
        .bind(now)
        .execute(self.0)
        .await
        .map_err(|e| conflict(e, "snils"))?;
        Ok(())
    }

    /// The identity of `account_id`, if saved.
    pub async fn get(&self, account_id: &str) -> Result<Option<IdentityRow>, StoreError> {
        let row = query("SELECT * FROM account_identity WHERE account_id = $1")
            .bind(account_id)
            .fetch_optional(self.0)
            .await?;
        row.map(|r| from_row(&r)).transpose()
    }

    /// The account whose SNILS has blind index `index`.
    pub async fn by_snils_index(&self, index: &str) -> Result<Option<String>, StoreError> {
        let row = query("SELECT account_id FROM account_identity WHERE snils_index = $1")
            .bind(index)
            .fetch_optional(self.0)
            .await?;
        row.map(|r| r.try_get("account_id")).transpose()
    }

    /// Sets the account's level and records the change with its evidence, both or neither.
    pub async fn record_level(
        &self,
        account_id: &str,
        level: &str,
        evidence: &serde_json::Value,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.0.begin().await?;
        query(
            "INSERT INTO account_levels (id, account_id, level, evidence, at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(account_id)
        .bind(level)
        .bind(evidence.to_string())
        .bind(now)
        .execute(&mut tx)
        .await?;
        query("UPDATE accounts SET level = $1, updated_at = $2 WHERE id = $3")
            .bind(level)
            .bind(now)
            .bind(account_id)
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The account's level changes, oldest first (two changes within the same second
    /// come in no particular order).
    pub async fn levels(&self, account_id: &str) -> Result<Vec<LevelChange>, StoreError> {
        let rows = query(
            "SELECT id, level, evidence, at FROM account_levels WHERE account_id = $1 \
             ORDER BY at, id",
        )
        .bind(account_id)
        .fetch_all(self.0)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(LevelChange {
                    id: r.try_get("id")?,
                    level: r.try_get("level")?,
                    evidence: json_col(&r.try_get::<String, _>("evidence")?, "evidence")?,
                    at: r.try_get("at")?,
                })
            })
            .collect()
    }
}

fn from_row(r: &Row) -> Result<IdentityRow, StoreError> {
    Ok(IdentityRow {
        account_id: r.try_get("account_id")?,
        identity: NewIdentity {
            family_name: r.try_get("family_name")?,
            given_name: r.try_get("given_name")?,
            middle_name: r.try_get("middle_name")?,
            birth_date: r.try_get("birth_date")?,
            snils_enc: r.try_get("snils_enc")?,
            snils_index: r.try_get("snils_index")?,
            passport_enc: r.try_get("passport_enc")?,
            passport_index: r.try_get("passport_index")?,
            inn_enc: r.try_get("inn_enc")?,
            inn_index: r.try_get("inn_index")?,
        },
        updated_at: r.try_get("updated_at")?,
    })
}
