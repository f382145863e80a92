//! Consents remembered per account and client, until the citizen revokes them.

use super::sql::{query, Sql};
use super::StoreError;

/// What a citizen allowed a client to read.
#[derive(Clone, Debug)]
pub struct Consent {
    /// Scopes allowed.
    pub scope: Vec<String>,
    /// Individually requested claims allowed (the `claims` parameter).
    pub claims: Vec<String>,
    /// Unix time of the decision.
    pub granted_at: i64,
}

impl Consent {
    /// Whether this consent already covers `scope` and `claims`.
    pub fn covers(&self, scope: &[String], claims: &[String]) -> bool {
        scope.iter().all(|s| self.scope.contains(s))
            && claims.iter().all(|c| self.claims.contains(c))
    }
}

/// Remembered consents.
pub struct Consents<'a>(pub(crate) &'a Sql);

impl Consents<'_> {
    /// The consent `account` gave `client`, if any.
    pub async fn get(&self, account: &str, client: &str) -> Result<Option<Consent>, StoreError> {
        let row = query(
            "SELECT scope, claims, granted_at FROM consents WHERE account_id = $1 AND client_id = $2",
        )
        .bind(account)
        .bind(client)
        .fetch_optional(self.0)
        .await?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some(Consent {
            scope: crate::oauth::types::split_list(&r.try_get::<String, _>("scope")?),
            claims: crate::oauth::types::split_list(&r.try_get::<String, _>("claims")?),
            granted_at: r.try_get("granted_at")?,
        }))
    }

    /// Every consent `account` gave, newest first, with the client's id.
    pub async fn list(&self, account: &str) -> Result<Vec<(String, Consent)>, StoreError> {
        let rows = query(
            "SELECT client_id, scope, claims, granted_at FROM consents WHERE account_id = $1 \
             ORDER BY granted_at DESC, client_id",
        )
        .bind(account)
        .fetch_all(self.0)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("client_id")?,
                    Consent {
                        scope: crate::oauth::types::split_list(&r.try_get::<String, _>("scope")?),
                        claims: crate::oauth::types::split_list(&r.try_get::<String, _>("claims")?),
                        granted_at: r.try_get("granted_at")?,
                    },
                ))
            })
            .collect()
    }

    /// Records (or widens) a consent.
    pub async fn grant(
        &self,
        account: &str,
        client: &str,
        scope: &[String],
        claims: &[String],
        now: i64,
    ) -> Result<(), StoreError> {
        let mut all_scope = scope.to_vec();
        let mut all_claims = claims.to_vec();
        if let Some(old) = self.get(account, client).await? {
            all_scope.extend(old.scope.into_iter().filter(|s| !scope.contains(s)));
            all_claims.extend(old.claims.into_iter().filter(|c| !claims.contains(c)));
        }
        query(
            "INSERT INTO consents (account_id, client_id, scope, claims, granted_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (account_id, client_id) \
             DO UPDATE SET scope = excluded.scope, claims = excluded.claims, granted_at = excluded.granted_at",
        )
        .bind(account)
        .bind(client)
        .bind(all_scope.join(" "))
        .bind(all_claims.join(" "))
        .bind(now)
        .execute(self.0)
        .await?;
        Ok(())
    }

    /// Forgets a consent; true if there was one.
    pub async fn revoke(&self, account: &str, client: &str) -> Result<bool, StoreError> {
        let r = query("DELETE FROM consents WHERE account_id = $1 AND client_id = $2")
            .bind(account)
            .bind(client)
            .execute(self.0)
            .await?;
        Ok(r.rows_affected() > 0)
    }
}
