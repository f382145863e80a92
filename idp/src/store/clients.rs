//! Relying-party client registrations.

use super::sql::{query, Row, Sql};
use super::{conflict, json_col, StoreError};
use crate::oauth::types::{AuthMethod, GrantType};
use serde::Serialize;

/// A registered client.
#[derive(Clone, Debug, Serialize)]
pub struct Client {
    /// `client_id`.
    pub id: String,
    /// Display name shown on the consent page.
    pub name: String,
    /// Keyed hash of the secret (never the secret); `None` for public and key-JWT clients.
    #[serde(skip)]
    pub secret_hash: Option<String>,
    /// The one authentication method the client may use.
    pub auth_method: AuthMethod,
    /// Redirect URIs, matched exactly.
    pub redirect_uris: Vec<String>,
    /// Where RP-initiated logout may send the browser, matched exactly.
    pub post_logout_redirect_uris: Vec<String>,
    /// Grants the client may use.
    pub grant_types: Vec<GrantType>,
    /// Scopes the client may ask for.
    pub scope: Vec<String>,
    /// The client's public keys (JWKS JSON) for `private_key_jwt`.
    #[serde(skip)]
    pub jwks: Option<String>,
    /// Where the client publishes its public keys for `private_key_jwt`, instead of `jwks`.
    pub jwks_uri: Option<String>,
    /// `id_token_signed_response_alg` (e.g. `RS256`); `None`: the primary key's.
    pub id_token_signed_response_alg: Option<String>,
    /// `userinfo_signed_response_alg` (e.g. `ES256`): UserInfo answers as a signed JWT;
    /// `None`: as plain JSON.
    pub userinfo_signed_response_alg: Option<String>,
    /// `introspection_signed_response_alg` (RFC 9701 §6) of the signed introspection answers
    /// this client asks for; `None`: RS256, the RFC's default.
    pub introspection_signed_response_alg: Option<String>,
    /// `authorization_signed_response_alg` (JARM §3) of the signed authorization responses
    /// this client gets in a JWT response mode; `None`: RS256, JARM's default.
    pub authorization_signed_response_alg: Option<String>,
    /// Every sign-in for this client needs a second factor.
    pub require_mfa: bool,
    /// The lowest account level this client accepts (`None`: any).
    pub min_level: Option<String>,
    /// Sign-ins start only from a pushed authorization request (RFC 9126 §6).
    pub require_pushed_authorization_requests: bool,
    /// Every token request must carry a DPoP proof (RFC 9449 §5.2).
    pub dpop_bound_access_tokens: bool,
    /// Every authorization request must be a Request Object signed with one of the client's
    /// keys (RFC 9101 §10.5).
    pub require_signed_request_object: bool,
    /// Where the client is told that a session it has tokens from has ended (OpenID
    /// Connect Back-Channel Logout 1.0).
    pub backchannel_logout_uri: Option<String>,
    /// The client's page that logs it out when the provider's logout page loads it in an
    /// iframe (OpenID Connect Front-Channel Logout 1.0 §2).
    pub frontchannel_logout_uri: Option<String>,
    /// Whether that page is given `iss` and `sid` (`frontchannel_logout_session_required`).
    pub frontchannel_logout_session_required: bool,
    /// The sector of the client's pairwise subject identifiers (OpenID Connect Core 1.0
    /// §8.1: a host name); `None`: the client is told every account's public identifier.
    pub sector_identifier: Option<String>,
    /// The resource servers (RFC 8707, absolute URIs) the client may ask access tokens for.
    pub resources: Vec<String>,
    /// Unix time of registration.
    pub created_at: i64,
}

impl Client {
    /// Whether the client may use `g`.
    pub fn allows(&self, g: GrantType) -> bool {
        self.grant_types.contains(&g)
    }
    /// Public clients cannot keep a secret.
    pub fn is_public(&self) -> bool {
        self.auth_method == AuthMethod::None
    }
    /// The registration as it stands, to change and store with [`Clients::update`] (which
    /// keeps the secret unless it is given a new one).
    pub fn registration(&self) -> NewClient {
        NewClient {
            name: self.name.clone(),
            secret_hash: None,
            auth_method: self.auth_method,
            redirect_uris: self.redirect_uris.clone(),
            post_logout_redirect_uris: self.post_logout_redirect_uris.clone(),
            grant_types: self.grant_types.clone(),
            scope: self.scope.clone(),
            jwks: self.jwks.clone(),
            jwks_uri: self.jwks_uri.clone(),
            id_token_signed_response_alg: self.id_token_signed_response_alg.clone(),
            userinfo_signed_response_alg: self.userinfo_signed_response_alg.clone(),
            introspection_signed_response_alg: self.introspection_signed_response_alg.clone(),
            authorization_signed_response_alg: self.authorization_signed_response_alg.clone(),
            require_mfa: self.require_mfa,
            min_level: self.min_level.clone(),
            require_pushed_authorization_requests: self.require_pushed_authorization_requests,
            dpop_bound_access_tokens: self.dpop_bound_access_tokens,
            require_signed_request_object: self.require_signed_request_object,
            backchannel_logout_uri: self.backchannel_logout_uri.clone(),
            frontchannel_logout_uri: self.frontchannel_logout_uri.clone(),
            frontchannel_logout_session_required: self.frontchannel_logout_session_required,
            sector_identifier: self.sector_identifier.clone(),
            resources: self.resources.clone(),
        }
    }
}

/// What is needed to register a client.
pub struct NewClient {
    /// Display name.
    pub name: String,
    /// Keyed hash of the secret, if any.
    pub secret_hash: Option<String>,
    /// Authentication method.
    pub auth_method: AuthMethod,
    /// Redirect URIs.
    pub redirect_uris: Vec<String>,
    /// Post-logout redirect URIs.
    pub post_logout_redirect_uris: Vec<String>,
    /// Grant types.
    pub grant_types: Vec<GrantType>,
    /// Allowed scopes.
    pub scope: Vec<String>,
    /// JWKS JSON for `private_key_jwt`.
    pub jwks: Option<String>,
    /// Or where the client publishes it.
    pub jwks_uri: Option<String>,
    /// `id_token_signed_response_alg`, if not the primary key's.
    pub id_token_signed_response_alg: Option<String>,
    /// `userinfo_signed_response_alg`, if UserInfo answers as a signed JWT.
    pub userinfo_signed_response_alg: Option<String>,
    /// `introspection_signed_response_alg`, if not RS256.
    pub introspection_signed_response_alg: Option<String>,
    /// `authorization_signed_response_alg`, if not RS256.
    pub authorization_signed_response_alg: Option<String>,
    /// Every sign-in needs a second factor.
    pub require_mfa: bool,
    /// The lowest account level accepted.
    pub min_level: Option<String>,
    /// Sign-ins start only from a pushed authorization request (RFC 9126 §6).
    pub require_pushed_authorization_requests: bool,
    /// Every token request must carry a DPoP proof (RFC 9449 §5.2).
    pub dpop_bound_access_tokens: bool,
    /// Every authorization request must be a signed Request Object (RFC 9101 §10.5).
    pub require_signed_request_object: bool,
    /// Back-Channel Logout URI.
    pub backchannel_logout_uri: Option<String>,
    /// Front-Channel Logout URI.
    pub frontchannel_logout_uri: Option<String>,
    /// Whether the Front-Channel Logout URI is given `iss` and `sid`.
    pub frontchannel_logout_session_required: bool,
    /// The sector of pairwise subject identifiers; `None` for public ones.
    pub sector_identifier: Option<String>,
    /// Resource servers it may ask access tokens for (RFC 8707).
    pub resources: Vec<String>,
}

/// Client registrations.
pub struct Clients<'a>(pub(crate) &'a Sql);

impl Clients<'_> {
    /// Stores a new client under `id`.
    pub async fn insert(&self, id: &str, c: &NewClient, now: i64) -> Result<(), StoreError> {
        let grants: Vec<&str> = c.grant_types.iter().map(|g| g.as_str()).collect();
        query(
            "INSERT INTO clients (id, name, secret_hash, auth_method, redirect_uris, \
             post_logout_redirect_uris, grant_types, scope, jwks, id_token_signed_response_alg, \
             require_mfa, min_level, require_pushed_authorization_requests, created_at, jwks_uri, \
             dpop_bound_access_tokens, require_signed_request_object, backchannel_logout_uri, \
             userinfo_signed_response_alg, introspection_signed_response_alg, sector_identifier, \
             authorization_signed_response_alg, resources, frontchannel_logout_uri, \
             frontchannel_logout_session_required) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, \
             $18, $19, $20, $21, $22, $23, $24, $25)",
        )
        .bind(id)
        .bind(&c.name)
        .bind(c.secret_hash.as_deref())
        .bind(c.auth_method.as_str())
        .bind(serde_json::to_string(&c.redirect_uris).unwrap_or_default())
        .bind(serde_json::to_string(&c.post_logout_redirect_uris).unwrap_or_default())
        .bind(serde_json::to_string(&grants).unwrap_or_default())
        .bind(c.scope.join(" "))
        .bind(c.jwks.as_deref())
        .bind(c.id_token_signed_response_alg.as_deref())
        .bind(i64::from(c.require_mfa))
        .bind(c.min_level.as_deref())
        .bind(i64::from(c.require_pushed_authorization_requests))
        .bind(now)
        .bind(c.jwks_uri.as_deref())
        .bind(i64::from(c.dpop_bound_access_tokens))
        .bind(i64::from(c.require_signed_request_object))
        .bind(c.backchannel_logout_uri.as_deref())
        .bind(c.userinfo_signed_response_alg.as_deref())
        .bind(c.introspection_signed_response_alg.as_deref())
        .bind(c.sector_identifier.as_deref())
        .bind(c.authorization_signed_response_alg.as_deref())
        .bind(c.resources.join(" "))
        .bind(c.frontchannel_logout_uri.as_deref())
        .bind(i64::from(c.frontchannel_logout_session_required))
        .execute(self.0)
        .await
        .map_err(|e| conflict(e, "client"))?;
        Ok(())
    }

    /// Looks a client up by id.
    pub async fn get(&self, id: &str) -> Result<Option<Client>, StoreError> {
        let row = query("SELECT * FROM clients WHERE id = $1")
            .bind(id)
            .fetch_optional(self.0)
            .await?;
        row.map(|r| from_row(&r)).transpose()
    }

    /// Every client, oldest first.
    pub async fn list(&self) -> Result<Vec<Client>, StoreError> {
        let rows = query("SELECT * FROM clients ORDER BY created_at, id")
            .fetch_all(self.0)
            .await?;
        rows.iter().map(from_row).collect()
    }

    /// Replaces what an operator may change of client `id` (everything but its id and its
    /// registration time); a new `secret_hash` replaces the secret when given, and a client
    /// whose method is not a secret one keeps no secret. False if there is no such client.
    pub async fn update(
        &self,
        id: &str,
        c: &NewClient,
        secret_hash: Option<&str>,
    ) -> Result<bool, StoreError> {
        let grants: Vec<&str> = c.grant_types.iter().map(|g| g.as_str()).collect();
        let r = query(
            "UPDATE clients SET name = $1, redirect_uris = $2, post_logout_redirect_uris = $3, \
             grant_types = $4, scope = $5, id_token_signed_response_alg = $6, require_mfa = $7, \
             min_level = $8, require_pushed_authorization_requests = $9, \
             secret_hash = CASE WHEN $15 IN ('client_secret_basic', 'client_secret_post') \
             THEN COALESCE($10, secret_hash) END, jwks = $11, jwks_uri = $12, \
             dpop_bound_access_tokens = $13, auth_method = $15, \
             require_signed_request_object = $16, backchannel_logout_uri = $17, \
             userinfo_signed_response_alg = $18, introspection_signed_response_alg = $19, \
             sector_identifier = $20, authorization_signed_response_alg = $21, resources = $22, \
             frontchannel_logout_uri = $23, frontchannel_logout_session_required = $24 \
             WHERE id = $14",
        )
        .bind(&c.name)
        .bind(serde_json::to_string(&c.redirect_uris).unwrap_or_default())
        .bind(serde_json::to_string(&c.post_logout_redirect_uris).unwrap_or_default())
        .bind(serde_json::to_string(&grants).unwrap_or_default())
        .bind(c.scope.join(" "))
        .bind(c.id_token_signed_response_alg.as_deref())
        .bind(i64::from(c.require_mfa))
        .bind(c.min_level.as_deref())
        .bind(i64::from(c.require_pushed_authorization_requests))
        .bind(secret_hash)
        .bind(c.jwks.as_deref())
        .bind(c.jwks_uri.as_deref())
        .bind(i64::from(c.dpop_bound_access_tokens))
        .bind(id)
        .bind(c.auth_method.as_str())
        .bind(i64::from(c.require_signed_request_object))
        .bind(c.backchannel_logout_uri.as_deref())
        .bind(c.userinfo_signed_response_alg.as_deref())
        .bind(c.introspection_signed_response_alg.as_deref())
        .bind(c.sector_identifier.as_deref())
        .bind(c.authorization_signed_response_alg.as_deref())
        .bind(c.resources.join(" "))
        .bind(c.frontchannel_logout_uri.as_deref())
        .bind(i64::from(c.frontchannel_logout_session_required))
        .execute(self.0)
        .await?;
        Ok(r.rows_affected() > 0)
    }

    /// Removes a client; true if it existed.
    pub async fn remove(&self, id: &str) -> Result<bool, StoreError> {
        let r = query("DELETE FROM clients WHERE id = $1")
            .bind(id)
            .execute(self.0)
            .await?;
        Ok(r.rows_affected() > 0)
    }
}

fn from_row(r: &Row) -> Result<Client, StoreError> {
    let grants: Vec<String> = json_col(&r.try_get::<String, _>("grant_types")?, "grant_types")?;
    Ok(Client {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        secret_hash: r.try_get("secret_hash")?,
        auth_method: r
            .try_get::<String, _>("auth_method")?
            .parse()
            .map_err(|_| StoreError::Corrupt("auth_method"))?,
        redirect_uris: json_col(&r.try_get::<String, _>("redirect_uris")?, "redirect_uris")?,
        post_logout_redirect_uris: json_col(
            &r.try_get::<String, _>("post_logout_redirect_uris")?,
            "post_logout_redirect_uris",
        )?,
        grant_types: grants.iter().filter_map(|g| g.parse().ok()).collect(),
        scope: crate::oauth::types::split_list(&r.try_get::<String, _>("scope")?),
        jwks: r.try_get("jwks")?,
        jwks_uri: r.try_get("jwks_uri")?,
        id_token_signed_response_alg: r.try_get("id_token_signed_response_alg")?,
        userinfo_signed_response_alg: r.try_get("userinfo_signed_response_alg")?,
        introspection_signed_response_alg: r.try_get("introspection_signed_response_alg")?,
        authorization_signed_response_alg: r.try_get("authorization_signed_response_alg")?,
        require_mfa: r.try_get::<i64, _>("require_mfa")? != 0,
        min_level: r.try_get("min_level")?,
        require_pushed_authorization_requests: r
            .try_get::<i64, _>("require_pushed_authorization_requests")?
            != 0,
        dpop_bound_access_tokens: r.try_get::<i64, _>("dpop_bound_access_tokens")? != 0,
        require_signed_request_object: r.try_get::<i64, _>("require_signed_request_object")? != 0,
        backchannel_logout_uri: r.try_get("backchannel_logout_uri")?,
        frontchannel_logout_uri: r.try_get("frontchannel_logout_uri")?,
        frontchannel_logout_session_required: r
            .try_get::<i64, _>("frontchannel_logout_session_required")?
            != 0,
        sector_identifier: r.try_get("sector_identifier")?,
        resources: crate::oauth::types::split_list(&r.try_get::<String, _>("resources")?),
        created_at: r.try_get("created_at")?,
    })
}
