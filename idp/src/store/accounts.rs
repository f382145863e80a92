//! Citizen accounts.

use super::sql::{query, Row, Sql};
use super::{conflict, StoreError};

/// A citizen account.
#[derive(Clone, Debug)]
pub struct Account {
    /// Stable subject identifier (`sub`).
    pub id: String,
    /// What the citizen types to sign in.
    pub login: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// E-mail address.
    pub email: Option<String>,
    /// Whether the e-mail address was confirmed.
    pub email_verified: bool,
    /// Phone number (E.164).
    pub phone: Option<String>,
    /// Whether the phone number was confirmed.
    pub phone_verified: bool,
    /// Full name.
    pub name: Option<String>,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Postal address as the OIDC `address` claim JSON.
    pub address: Option<String>,
    /// Preferred locale (BCP 47).
    pub locale: Option<String>,
    /// Assurance level: simplified, standard or confirmed.
    pub level: String,
    /// The TOTP shared secret, sealed (`crate::totp::seal`); `None`: no TOTP factor.
    pub totp_secret: Option<Vec<u8>>,
    /// How many passkeys the account has registered.
    pub passkeys: i64,
    /// Codes by SMS are turned on as a second factor (`otp_factors`).
    pub otp_sms: bool,
    /// Codes by e-mail are turned on as a second factor (`otp_factors`).
    pub otp_email: bool,
    /// Consecutive failed sign-ins.
    pub failed_logins: i64,
    /// When the account was locked for too many failed sign-ins.
    pub locked_at: Option<i64>,
    /// Unix time of creation.
    pub created_at: i64,
    /// Unix time of the last profile change.
    pub updated_at: i64,
}

/// Every account query selects these: the row plus its passkey count and which code factors
/// are on (so a sign-in learns its second factors with the row, not in another round trip).
macro_rules! account_columns {
    () => {
        "accounts.*, (SELECT COUNT(*) FROM passkeys p WHERE p.account_id = accounts.id) \
         AS passkey_count, \
         (SELECT COUNT(*) FROM otp_factors o WHERE o.account_id = accounts.id \
          AND o.channel = 'sms') AS otp_sms, \
         (SELECT COUNT(*) FROM otp_factors o WHERE o.account_id = accounts.id \
          AND o.channel = 'email') AS otp_email"
    };
}

macro_rules! select_account {
    ($where:literal) => {
        concat!("SELECT ", account_columns!(), " FROM accounts ", $where)
    };
}

/// What is needed to create an account.
#[derive(Default)]
pub struct NewAccount {
    /// Login.
    pub login: String,
    /// argon2id PHC string.
    pub password_hash: String,
    /// E-mail address.
    pub email: Option<String>,
    /// Whether the e-mail address was confirmed (by a one-time code).
    pub email_verified: bool,
    /// Phone number.
    pub phone: Option<String>,
    /// Whether the phone number was confirmed.
    pub phone_verified: bool,
    /// Full name.
    pub name: Option<String>,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Postal address as the OIDC `address` claim JSON (Core §5.1.1).
    pub address: Option<String>,
    /// Assurance level; `None`: simplified.
    pub level: Option<String>,
    /// A sealed TOTP secret (`crate::totp::seal`), for accounts moved in with their factor.
    pub totp_secret: Option<Vec<u8>>,
}

/// Citizen accounts.
pub struct Accounts<'a>(pub(crate) &'a Sql);

impl Accounts<'_> {
    /// Creates an account and returns its id.
    pub async fn insert(&self, a: &NewAccount, now: i64) -> Result<String, StoreError> {
        let id = uuid::Uuid::new_v4().to_string();
        query(
            "INSERT INTO accounts (id, login, password_hash, email, phone, name, given_name, \
             family_name, address, level, totp_secret, email_verified, phone_verified, created_at, \
             updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)",
        )
        .bind(&id)
        .bind(&a.login)
        .bind(&a.password_hash)
        .bind(a.email.as_deref())
        .bind(a.phone.as_deref())
        .bind(a.name.as_deref())
        .bind(a.given_name.as_deref())
        .bind(a.family_name.as_deref())
        .bind(a.address.as_deref())
        .bind(a.level.as_deref().unwrap_or("simplified"))
        .bind(a.totp_secret.as_deref())
        .bind(i64::from(a.email_verified))
        .bind(i64::from(a.phone_verified))
        .bind(now)
        .execute(self.0)
        .await
        .map_err(|e| conflict(e, "login"))?;
        Ok(id)
    }

    /// Looks an account up by login (case-insensitive for e-mail-like logins is the caller's job).
    pub async fn by_login(&self, login: &str) -> Result<Option<Account>, StoreError> {
        let row = query(select_account!("WHERE login = $1"))
            .bind(login)
            .fetch_optional(self.0)
            .await?;
        row.map(|r| from_row(&r)).transpose()
    }

    /// The account whose login, e-mail address or phone number is `contact`, if any.
    pub async fn by_contact(&self, contact: &str) -> Result<Option<Account>, StoreError> {
        let row = query(select_account!(
            "WHERE login = $1 OR email = $1 OR phone = $1 LIMIT 1"
        ))
        .bind(contact)
        .fetch_optional(self.0)
        .await?;
        row.map(|r| from_row(&r)).transpose()
    }

    /// Counts a failed sign-in; returns the consecutive failures so far.
    pub async fn record_failure(&self, id: &str) -> Result<i64, StoreError> {
        let n: Option<i64> = query(
            "UPDATE accounts SET failed_logins = failed_logins + 1 WHERE id = $1 \
             RETURNING failed_logins",
        )
        .bind(id)
        .fetch_scalar(self.0)
        .await?;
        Ok(n.unwrap_or(0))
    }

    /// Locks the account (once: a locked account keeps its first lock time).
    pub async fn lock(&self, id: &str, now: i64) -> Result<bool, StoreError> {
        let r = query("UPDATE accounts SET locked_at = $1 WHERE id = $2 AND locked_at IS NULL")
            .bind(now)
            .bind(id)
            .execute(self.0)
            .await?;
        Ok(r.rows_affected() == 1)
    }

    /// Clears the failure count and any lock (a successful sign-in, an operator's unlock,
    /// a password reset).
    pub async fn clear_failures(&self, id: &str) -> Result<(), StoreError> {
        query("UPDATE accounts SET failed_logins = 0, locked_at = NULL WHERE id = $1")
            .bind(id)
            .execute(self.0)
            .await?;
        Ok(())
    }

    /// Replaces the password hash, clearing failures and any lock.
    pub async fn set_password(&self, id: &str, hash: &str, now: i64) -> Result<(), StoreError> {
        query(
            "UPDATE accounts SET password_hash = $1, failed_logins = 0, locked_at = NULL, \
             updated_at = $2 WHERE id = $3",
        )
        .bind(hash)
        .bind(now)
        .bind(id)
        .execute(self.0)
        .await?;
        Ok(())
    }

    /// Deletes the account; its identity, level history, recovery codes and sign-in history
    /// go with it (foreign keys cascade), and its consents are removed here. Grants stay,
    /// revoked, so tokens already issued keep being refused.
    pub async fn delete(&self, id: &str) -> Result<bool, StoreError> {
        let mut tx = self.0.begin().await?;
        query("DELETE FROM consents WHERE account_id = $1")
            .bind(id)
            .execute(&mut tx)
            .await?;
        let r = query("DELETE FROM accounts WHERE id = $1")
            .bind(id)
            .execute(&mut tx)
            .await?;
        tx.commit().await?;
        Ok(r.rows_affected() == 1)
    }

    /// Sets (or with `None` removes) the account's sealed TOTP secret.
    pub async fn set_totp(
        &self,
        id: &str,
        sealed: Option<&[u8]>,
        now: i64,
    ) -> Result<(), StoreError> {
        query("UPDATE accounts SET totp_secret = $1, updated_at = $2 WHERE id = $3")
            .bind(sealed)
            .bind(now)
            .bind(id)
            .execute(self.0)
            .await?;
        Ok(())
    }

    /// Looks an account up by id.
    pub async fn get(&self, id: &str) -> Result<Option<Account>, StoreError> {
        let row = query(select_account!("WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.0)
            .await?;
        row.map(|r| from_row(&r)).transpose()
    }

    /// Reads the account a new grant is for, then stores the grant and its first refresh
    /// token as [`super::Grants::create`] does. `None`: no such account, and nothing was
    /// written; the flag is false when the grant id was already revoked (a reused code got
    /// there first).
    ///
    /// On the inline SQLite connection the read happens inside the grant's write
    /// transaction, so it takes no lock of its own; over the network it comes first.
    pub async fn get_and_grant(
        &self,
        g: &super::Grant,
        refresh_hash: Option<&str>,
    ) -> Result<Option<(Account, bool)>, StoreError> {
        if !self.0.inline() {
            let Some(account) = self.get(&g.account_id).await? else {
                return Ok(None);
            };
            let created = super::Grants(self.0).create(g, refresh_hash).await?;
            return Ok(Some((account, created)));
        }
        let mut tx = self.0.begin().await?;
        let Some(row) = query(select_account!("WHERE id = $1"))
            .bind(&g.account_id)
            .fetch_optional(&mut tx)
            .await?
        else {
            return Ok(None);
        };
        let account = from_row(&row)?;
        if super::grants::grant_row(g)
            .execute(&mut tx)
            .await?
            .rows_affected()
            == 0
        {
            return Ok(Some((account, false)));
        }
        if let Some(h) = refresh_hash {
            super::grants::refresh_row(h, &g.id, g.created_at, g.expires_at)
                .execute(&mut tx)
                .await?;
        }
        tx.commit().await?;
        Ok(Some((account, true)))
    }

    /// Looks an account up by id with one of its grants, in one query (the userinfo
    /// endpoint needs both for every call): `None` without the account, the grant `None`
    /// when no grant of this account has that id.
    pub async fn get_with_grant(
        &self,
        id: &str,
        grant_id: &str,
    ) -> Result<Option<(Account, Option<super::Grant>)>, StoreError> {
        let row = query(concat!(
            "SELECT ",
            account_columns!(),
            ", ",
            grant_columns!(),
            " FROM accounts LEFT JOIN grants g ON g.id = $2 AND g.account_id = accounts.id \
             WHERE accounts.id = $1"
        ))
        .bind(id)
        .bind(grant_id)
        .fetch_optional(self.0)
        .await?;
        let Some(r) = row else { return Ok(None) };
        let grant = match r.try_get::<Option<String>, _>("g_id")? {
            Some(_) => Some(super::grants::from_prefixed_row(&r)?),
            None => None,
        };
        Ok(Some((from_row(&r)?, grant)))
    }
}

fn from_row(r: &Row) -> Result<Account, StoreError> {
    Ok(Account {
        id: r.try_get("id")?,
        login: r.try_get("login")?,
        password_hash: r.try_get("password_hash")?,
        email: r.try_get("email")?,
        email_verified: r.try_get::<i64, _>("email_verified")? != 0,
        phone: r.try_get("phone")?,
        phone_verified: r.try_get::<i64, _>("phone_verified")? != 0,
        name: r.try_get("name")?,
        given_name: r.try_get("given_name")?,
        family_name: r.try_get("family_name")?,
        address: r.try_get("address")?,
        locale: r.try_get("locale")?,
        level: r.try_get("level")?,
        totp_secret: r.try_get("totp_secret")?,
        passkeys: r.try_get("passkey_count")?,
        otp_sms: r.try_get::<i64, _>("otp_sms")? > 0,
        otp_email: r.try_get::<i64, _>("otp_email")? > 0,
        failed_logins: r.try_get("failed_logins")?,
        locked_at: r.try_get("locked_at")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
    })
}
