//! Profile changes the citizen makes in the personal account: the name fields, and the
//! e-mail address or phone number (a new one arrives confirmed, after its code; when it
//! was also the login, the login follows it so the old address stops signing in).

use super::sql::query;
use super::{conflict, Accounts, StoreError};

/// Which contact of an account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ContactKind {
    /// The e-mail address.
    Email,
    /// The phone number.
    Phone,
}

impl ContactKind {
    /// The column (and form) name.
    pub fn column(self) -> &'static str {
        match self {
            ContactKind::Email => "email",
            ContactKind::Phone => "phone",
        }
    }
}

impl Accounts<'_> {
    /// Replaces the display name and the name parts.
    pub async fn set_names(
        &self,
        id: &str,
        name: Option<&str>,
        given_name: Option<&str>,
        family_name: Option<&str>,
        now: i64,
    ) -> Result<(), StoreError> {
        query(
            "UPDATE accounts SET name = $1, given_name = $2, family_name = $3, updated_at = $4 \
             WHERE id = $5",
        )
        .bind(name)
        .bind(given_name)
        .bind(family_name)
        .bind(now)
        .bind(id)
        .execute(self.0)
        .await?;
        Ok(())
    }

    /// Sets one contact (`None` removes it; a new value is stored as confirmed) and the
    /// login; a login another account has is refused as [`StoreError::Conflict`]`("login")`.
    pub async fn set_contact(
        &self,
        id: &str,
        kind: ContactKind,
        value: Option<&str>,
        login: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let sql = match kind {
            ContactKind::Email => {
                "UPDATE accounts SET email = $1, email_verified = $2, login = $3, \
                 updated_at = $4 WHERE id = $5"
            }
            ContactKind::Phone => {
                "UPDATE accounts SET phone = $1, phone_verified = $2, login = $3, \
                 updated_at = $4 WHERE id = $5"
            }
        };
        query(sql)
            .bind(value)
            .bind(i64::from(value.is_some()))
            .bind(login)
            .bind(now)
            .bind(id)
            .execute(self.0)
            .await
            .map_err(|e| conflict(e, "login"))?;
        Ok(())
    }
}
