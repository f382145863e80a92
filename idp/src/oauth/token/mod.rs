//! Token endpoint (RFC 6749 §3.2): authenticate the client, parse the request into one
//! typed grant, dispatch.

mod authorization_code;
mod client_credentials;
mod refresh_token;

use crate::app::{App, AppState};
use crate::oauth::client_auth;
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::params::Params;
use crate::oauth::types::GrantType;
use crate::store::Client;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// The successful token response (RFC 6749 §5.1, OIDC Core §3.1.3.3).
#[derive(Serialize, Default)]
pub struct TokenResponse {
    /// The access token (a JWT per RFC 9068).
    pub access_token: String,
    /// `Bearer`, or `DPoP` for a token bound to a DPoP key (RFC 9449 §5).
    pub token_type: &'static str,
    /// Access token lifetime, seconds.
    pub expires_in: i64,
    /// Rotating refresh token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// ID token.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// Granted scopes.
    pub scope: String,
}

/// The `token_type` of an access token bound (or not) to a DPoP key.
pub(crate) fn token_type(jkt: Option<&str>) -> &'static str {
    if jkt.is_some() {
        "DPoP"
    } else {
        "Bearer"
    }
}

impl TokenResponse {
    /// A token response; `jkt`: the DPoP key the access token is bound to.
    pub fn new(
        access_token: String,
        jkt: Option<&str>,
        expires_in: i64,
        refresh_token: Option<String>,
        id_token: Option<String>,
        scope: String,
    ) -> TokenResponse {
        TokenResponse {
            access_token,
            token_type: token_type(jkt),
            expires_in,
            refresh_token,
            id_token,
            scope,
        }
    }
}

impl IntoResponse for TokenResponse {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut r = body.into_response();
        let h = r.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        r
    }
}

/// `POST /token`.
pub async fn token(State(app): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let resp = match handle(&app, &headers, &body).await {
        Ok(r) => {
            crate::metrics::TOKEN_RESPONSES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            r.into_response()
        }
        Err(e) => e.into_response(),
    };
    crate::oauth::dpop::with_nonce(&app, &headers, resp)
}

async fn handle(app: &App, headers: &HeaderMap, body: &[u8]) -> Result<TokenResponse, OAuthError> {
    let p = Params::parse(body);
    p.check_well_formed()?;
    let grant: GrantType = p
        .require("grant_type")?
        .parse()
        .map_err(|_| OAuthError::new(ErrorCode::UnsupportedGrantType, "unsupported grant_type"))?;
    let client = client_auth::authenticate(app, headers, &p).await?;
    if !client.allows(grant) {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "the client may not use this grant type",
        ));
    }
    let jkt = crate::oauth::dpop::check(app, headers, "POST", &app.url(crate::router::TOKEN), None)
        .await?;
    if jkt.is_none() && client.dpop_bound_access_tokens {
        return Err(crate::oauth::dpop::invalid(
            "this client's tokens must be DPoP-bound: send a DPoP proof",
        ));
    }
    let jkt = jkt.as_deref();
    match grant {
        GrantType::AuthorizationCode => authorization_code::exchange(app, &client, &p, jkt).await,
        GrantType::RefreshToken => refresh_token::exchange(app, &client, &p, jkt).await,
        GrantType::ClientCredentials => client_credentials::exchange(app, &client, &p, jkt),
        GrantType::DeviceCode => crate::oauth::device::exchange(app, &client, &p, jkt).await,
    }
}

/// Turns what a person approved (a code's record, or a device's approval) into a stored
/// grant and its tokens: the grant is written with the account read in one transaction (a
/// grant id seen before fails with `used`), then its access token, ID token and, if the
/// client may refresh, a refresh token. Gives the answer and the grant's id.
pub(crate) async fn redeem(
    app: &App,
    client: &Client,
    rec: &crate::oauth::authorize::response::CodeRecord,
    p: &Params,
    jkt: Option<&str>,
    used: &'static str,
) -> Result<(TokenResponse, String), OAuthError> {
    let now = app.now();
    let scope = rec.scope.join(" ");
    let resources = rec.resources.join(" ");
    // RFC 8707 §2.2: the request may narrow what the authorization gave, never widen it.
    let audience = crate::oauth::resource::narrowed(&resources, p)?;
    let grant = crate::store::Grant {
        id: rec.grant_id.clone(),
        account_id: rec.account_id.clone(),
        client_id: client.id.clone(),
        scope: scope.clone(),
        claims: rec
            .claims
            .as_ref()
            .map(|c| c.to_string())
            .unwrap_or_default(),
        sid: rec.sid.clone(),
        auth_time: rec.auth_time,
        acr: rec.acr.clone(),
        amr: rec.amr.join(" "),
        created_at: now,
        expires_at: now + app.settings.refresh_token_ttl,
        revoked_at: None,
        // A public client's refresh tokens are bound to the key it proved (RFC 9449 §5);
        // a confidential client's are protected by its authentication instead.
        dpop_jkt: jkt.filter(|_| client.is_public()).map(str::to_owned),
        resources,
    };
    let refresh = new_refresh(client);
    let stored = app
        .db
        .accounts()
        .get_and_grant(&grant, refresh.as_ref().map(|(_, h)| h.as_str()))
        .await?;
    let account = match stored {
        None => return Err(OAuthError::invalid_grant("the account no longer exists")),
        Some((_, false)) => return Err(OAuthError::invalid_grant(used)),
        Some((account, true)) => account,
    };
    let asked = Asked {
        scope: &scope,
        audience: &audience,
        nonce: rec.nonce.as_deref(),
    };
    let (access_token, expires_in, id_token) =
        tokens_for_grant(app, client, &grant, &account, &asked, jkt)?;
    let response = TokenResponse::new(
        access_token,
        jkt,
        expires_in,
        refresh.map(|(rt, _)| rt),
        id_token,
        scope,
    );
    Ok((response, grant.id))
}

/// What one token request of a grant gets.
pub(crate) struct Asked<'a> {
    /// Space-separated scopes.
    pub scope: &'a str,
    /// The resource servers (RFC 8707) the access token is for; empty: this provider.
    pub audience: &'a [String],
    /// The `nonce` of the authorization request, for the ID token.
    pub nonce: Option<&'a str>,
}

/// Signs a grant's access token and, when `openid` is in the scope asked, its ID token (OIDC
/// Core §3.1.3.6, §12.2): `auth_time`, `acr`, `amr`, `sid`, `at_hash`, the `nonce` of the
/// authorization request, and the claims the `claims` parameter asked for in the ID token.
pub(crate) fn tokens_for_grant(
    app: &App,
    client: &Client,
    grant: &crate::store::Grant,
    account: &crate::store::Account,
    asked: &Asked<'_>,
    jkt: Option<&str>,
) -> Result<(String, i64, Option<String>), OAuthError> {
    use crate::oauth::tokens::{self, AccessToken};
    let (scope, nonce) = (asked.scope, asked.nonce);
    // The same `sub` in both tokens: the account's, or its pairwise one at this client.
    let sub = app.subject(client, &grant.account_id);
    let (access_token, expires_in) = tokens::access_token(
        app,
        &AccessToken {
            sub: &sub,
            client_id: &client.id,
            scope,
            grant_id: Some(&grant.id),
            auth_time: Some(grant.auth_time),
            acr: Some(&grant.acr),
            sid: Some(&grant.sid),
            jkt,
            audience: asked.audience,
        },
    )?;
    if !crate::oauth::types::split_list(scope)
        .iter()
        .any(|s| s == "openid")
    {
        return Ok((access_token, expires_in, None));
    }
    let asked: Option<serde_json::Value> = serde_json::from_str(&grant.claims).ok();
    let names = crate::oauth::authorize::request::claim_names(asked.as_ref(), Some("id_token"));
    let mut extra = crate::oauth::claims::for_account(account, &[], &names);
    if let Some(n) = nonce {
        extra.insert("nonce".into(), n.into());
    }
    extra.insert("auth_time".into(), grant.auth_time.into());
    extra.insert("acr".into(), grant.acr.clone().into());
    extra.insert(
        "amr".into(),
        crate::oauth::types::split_list(&grant.amr).into(),
    );
    extra.insert("sid".into(), grant.sid.clone().into());
    extra.insert(
        "at_hash".into(),
        crate::crypto::half_hash(&access_token).into(),
    );
    let id_token = tokens::id_token(app, &sub, client, extra)?;
    Ok((access_token, expires_in, Some(id_token)))
}

/// A new refresh token and its stored hash, if the client may refresh.
pub(crate) fn new_refresh(client: &Client) -> Option<(String, String)> {
    if !client.allows(GrantType::RefreshToken) {
        return None;
    }
    let rt = format!("vhr_{}", crate::crypto::random_token(32));
    let hash = crate::crypto::sha256_b64(&rt);
    Some((rt, hash))
}

/// Issues a new refresh token for an existing grant if the client may refresh.
pub(crate) async fn refresh_for(
    app: &App,
    client: &Client,
    grant_id: &str,
    grant_exp: i64,
) -> Result<Option<String>, OAuthError> {
    let Some((rt, hash)) = new_refresh(client) else {
        return Ok(None);
    };
    app.db
        .grants()
        .add_refresh(&hash, grant_id, app.now(), grant_exp)
        .await?;
    Ok(Some(rt))
}
