//! Grants (what one authorization produced) and their rotating refresh tokens.
//!
//! A grant id is fixed when the authorization code is issued, so a reused code can revoke the
//! grant even if the first redemption has not finished writing it: revocation is an upsert.

use super::sql::{query, Query, Row, Sql};
use super::StoreError;

/// One authorization of a client by an account.
#[derive(Clone, Debug, Default)]
pub struct Grant {
    /// Grant id (carried in access tokens as `gid`).
    pub id: String,
    /// Subject.
    pub account_id: String,
    /// Client.
    pub client_id: String,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// The `claims` request (JSON), or empty.
    pub claims: String,
    /// Session id at authorization.
    pub sid: String,
    /// Time of the authentication.
    pub auth_time: i64,
    /// Authentication context class.
    pub acr: String,
    /// Authentication methods, space-separated.
    pub amr: String,
    /// Unix time of creation.
    pub created_at: i64,
    /// Unix time after which the grant's refresh tokens stop working.
    pub expires_at: i64,
    /// Unix time of revocation.
    pub revoked_at: Option<i64>,
    /// The thumbprint of the DPoP key a public client's refresh tokens are bound to
    /// (RFC 9449 §5): every refresh must prove it.
    pub dpop_jkt: Option<String>,
    /// The resource servers (RFC 8707) the grant's access tokens may be for, space-separated;
    /// empty: this provider only.
    pub resources: String,
}

impl Grant {
    /// Whether tokens of this grant still work at `now`.
    pub fn is_active(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at > now && !self.client_id.is_empty()
    }
}

/// The outcome of presenting a refresh token.
#[derive(Debug)]
pub enum RefreshUse {
    /// First use: the token is now spent; the grant it belongs to.
    Fresh(Box<Grant>),
    /// The token was already rotated: a sign of theft. The grant id.
    Reused(String),
    /// No such token, or it expired.
    Unknown,
}

/// Grants and refresh tokens.
pub struct Grants<'a>(pub(crate) &'a Sql);

impl Grants<'_> {
    /// Stores a grant and, if given, its first refresh token (by hash); false if the id was
    /// already revoked (a reused code got there first).
    pub async fn create(&self, g: &Grant, refresh_hash: Option<&str>) -> Result<bool, StoreError> {
        let grant = grant_row(g);
        let refresh = refresh_hash.map(|h| refresh_row(h, &g.id, g.created_at, g.expires_at));
        // Nothing needs the two to land together: until this returns no token names the
        // grant, and only a refresh token row can mint more, so a failure between the two
        // leaves an inert row that expires like any grant.
        self.0
            .write_together(grant, refresh.into_iter().collect())
            .await
    }

    /// Revokes a grant (creating a tombstone if it does not exist yet).
    pub async fn revoke(&self, id: &str, now: i64) -> Result<(), StoreError> {
        query(
            "INSERT INTO grants (id, revoked_at) VALUES ($1, $2) ON CONFLICT (id) \
             DO UPDATE SET revoked_at = COALESCE(grants.revoked_at, excluded.revoked_at)",
        )
        .bind(id)
        .bind(now)
        .execute(self.0)
        .await?;
        Ok(())
    }

    /// Revokes every grant of `account` (password reset, account deletion); returns how many.
    pub async fn revoke_all(&self, account: &str, now: i64) -> Result<u64, StoreError> {
        let r =
            query("UPDATE grants SET revoked_at = $1 WHERE account_id = $2 AND revoked_at IS NULL")
                .bind(now)
                .bind(account)
                .execute(self.0)
                .await?;
        Ok(r.rows_affected())
    }

    /// Revokes every grant `account` gave `client` (consent withdrawn); returns how many.
    pub async fn revoke_for(
        &self,
        account: &str,
        client: &str,
        now: i64,
    ) -> Result<u64, StoreError> {
        let r = query(
            "UPDATE grants SET revoked_at = $1 WHERE account_id = $2 AND client_id = $3 AND revoked_at IS NULL",
        )
        .bind(now)
        .bind(account)
        .bind(client)
        .execute(self.0)
        .await?;
        Ok(r.rows_affected())
    }

    /// The clients that hold, or held, tokens from session `sid` of `account` (whose grants
    /// name the session), each once.
    pub async fn clients_of_session(
        &self,
        account: &str,
        sid: &str,
    ) -> Result<Vec<String>, StoreError> {
        let rows = query(
            "SELECT DISTINCT client_id FROM grants WHERE account_id = $1 AND sid = $2 \
             AND client_id <> '' ORDER BY client_id",
        )
        .bind(account)
        .bind(sid)
        .fetch_all(self.0)
        .await?;
        rows.iter().map(|r| r.try_get("client_id")).collect()
    }

    /// Revokes the grants of session `sid` of `account` that were not given for offline
    /// access (Back-Channel Logout 1.0 §2.7: they end with the session; `offline_access`
    /// ones outlive it); returns how many.
    pub async fn revoke_online(
        &self,
        account: &str,
        sid: &str,
        now: i64,
    ) -> Result<u64, StoreError> {
        let r = query(
            "UPDATE grants SET revoked_at = $1 WHERE account_id = $2 AND sid = $3 \
             AND revoked_at IS NULL AND (' ' || scope || ' ') NOT LIKE '% offline_access %'",
        )
        .bind(now)
        .bind(account)
        .bind(sid)
        .execute(self.0)
        .await?;
        Ok(r.rows_affected())
    }

    /// Looks a grant up.
    pub async fn get(&self, id: &str) -> Result<Option<Grant>, StoreError> {
        let row = query("SELECT * FROM grants WHERE id = $1")
            .bind(id)
            .fetch_optional(self.0)
            .await?;
        row.map(|r| from_row(&r)).transpose()
    }

    /// Stores a refresh token (by its hash) for a grant.
    pub async fn add_refresh(
        &self,
        hash: &str,
        grant: &str,
        now: i64,
        exp: i64,
    ) -> Result<(), StoreError> {
        refresh_row(hash, grant, now, exp).execute(self.0).await?;
        Ok(())
    }

    /// Spends a refresh token atomically: of two concurrent users, one gets `Fresh`.
    pub async fn use_refresh(&self, hash: &str, now: i64) -> Result<RefreshUse, StoreError> {
        let row = query("SELECT grant_id, expires_at, used_at FROM refresh_tokens WHERE hash = $1")
            .bind(hash)
            .fetch_optional(self.0)
            .await?;
        let Some(row) = row else {
            return Ok(RefreshUse::Unknown);
        };
        let grant_id: String = row.try_get("grant_id")?;
        if row.try_get::<Option<i64>, _>("used_at")?.is_some() {
            return Ok(RefreshUse::Reused(grant_id));
        }
        if row.try_get::<i64, _>("expires_at")? <= now {
            return Ok(RefreshUse::Unknown);
        }
        let spent =
            query("UPDATE refresh_tokens SET used_at = $1 WHERE hash = $2 AND used_at IS NULL")
                .bind(now)
                .bind(hash)
                .execute(self.0)
                .await?;
        if spent.rows_affected() != 1 {
            return Ok(RefreshUse::Reused(grant_id));
        }
        match self.get(&grant_id).await? {
            Some(g) => Ok(RefreshUse::Fresh(Box::new(g))),
            None => Ok(RefreshUse::Unknown),
        }
    }

    /// The grant a refresh token belongs to, without spending it (introspection, revocation).
    pub async fn refresh_grant(
        &self,
        hash: &str,
        now: i64,
    ) -> Result<Option<(Grant, i64)>, StoreError> {
        let row = query(
            "SELECT grant_id, expires_at FROM refresh_tokens WHERE hash = $1 AND used_at IS NULL AND expires_at > $2",
        )
        .bind(hash)
        .bind(now)
        .fetch_optional(self.0)
        .await?;
        let Some(row) = row else { return Ok(None) };
        let exp: i64 = row.try_get("expires_at")?;
        let id: String = row.try_get("grant_id")?;
        Ok(self.get(&id).await?.map(|g| (g, exp)))
    }
}

/// A grant's columns, in [`from_named_row`]'s order.
const COLUMNS: [&str; 14] = [
    "id",
    "account_id",
    "client_id",
    "scope",
    "claims",
    "sid",
    "auth_time",
    "acr",
    "amr",
    "created_at",
    "expires_at",
    "revoked_at",
    "dpop_jkt",
    "resources",
];

/// The same, as `grant_columns!` (`store/mod.rs`) names them in joins.
const PREFIXED: [&str; 14] = [
    "g_id",
    "g_account_id",
    "g_client_id",
    "g_scope",
    "g_claims",
    "g_sid",
    "g_auth_time",
    "g_acr",
    "g_amr",
    "g_created_at",
    "g_expires_at",
    "g_revoked_at",
    "g_dpop_jkt",
    "g_resources",
];

/// A grant from the `g_`-prefixed columns of a join.
/// The statement storing a refresh token (by hash) of `grant`.
/// The statement storing a new grant; it changes nothing when the id is taken (a revoked
/// tombstone left by a reused code).
pub(super) fn grant_row(g: &Grant) -> Query<'static> {
    query(
        "INSERT INTO grants (id, account_id, client_id, scope, claims, sid, auth_time, acr, amr, \
         created_at, expires_at, dpop_jkt, resources) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, \
         $10, $11, $12, $13) \
         ON CONFLICT (id) DO NOTHING",
    )
    .bind(&g.id)
    .bind(&g.account_id)
    .bind(&g.client_id)
    .bind(&g.scope)
    .bind(&g.claims)
    .bind(&g.sid)
    .bind(g.auth_time)
    .bind(&g.acr)
    .bind(&g.amr)
    .bind(g.created_at)
    .bind(g.expires_at)
    .bind(g.dpop_jkt.clone())
    .bind(g.resources.clone())
}

pub(super) fn refresh_row(hash: &str, grant: &str, now: i64, exp: i64) -> Query<'static> {
    query(
        "INSERT INTO refresh_tokens (hash, grant_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(hash)
    .bind(grant)
    .bind(now)
    .bind(exp)
}

pub(super) fn from_prefixed_row(r: &Row) -> Result<Grant, StoreError> {
    from_named_row(r, &PREFIXED)
}

fn from_row(r: &Row) -> Result<Grant, StoreError> {
    from_named_row(r, &COLUMNS)
}

fn from_named_row(r: &Row, n: &[&str; 14]) -> Result<Grant, StoreError> {
    Ok(Grant {
        id: r.try_get(n[0])?,
        account_id: r.try_get(n[1])?,
        client_id: r.try_get(n[2])?,
        scope: r.try_get(n[3])?,
        claims: r.try_get(n[4])?,
        sid: r.try_get(n[5])?,
        auth_time: r.try_get(n[6])?,
        acr: r.try_get(n[7])?,
        amr: r.try_get(n[8])?,
        created_at: r.try_get(n[9])?,
        expires_at: r.try_get(n[10])?,
        revoked_at: r.try_get(n[11])?,
        dpop_jkt: r.try_get(n[12])?,
        resources: r.try_get(n[13])?,
    })
}
