//! `refresh_token` grant (RFC 6749 §6, OAuth 2.0 Security BCP §4.14).
//!
//! Rules: every refresh token works once and is replaced (rotation); presenting a rotated
//! token again revokes the whole grant; the grant must be live and the client's; a narrower
//! `scope` may be asked, never a wider one; a request refused for its scope or its DPoP
//! proof does not spend the token.

use super::{refresh_for, tokens_for_grant, TokenResponse};
use crate::app::App;
use crate::crypto::sha256_b64;
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::params::Params;
use crate::oauth::types::split_list;
use crate::store::{Client, Grant, RefreshUse};

pub(super) async fn exchange(
    app: &App,
    client: &Client,
    p: &Params,
    jkt: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let rt = p.require("refresh_token")?;
    let hash = sha256_b64(rt);
    let now = app.now();
    // What the request asks is checked before the token is spent, as node-oidc-provider does:
    // a refresh refused for its scope or its DPoP proof leaves the client's token usable,
    // instead of spending it and revoking the grant when the client tries it again. The
    // same checks run once more on the grant the spending returns.
    if let Some((grant, _)) = app.db.grants().refresh_grant(&hash, now).await? {
        if grant.client_id == client.id && grant.is_active(now) {
            check_binding(&grant, jkt)?;
            scope_asked(&grant, p)?;
            crate::oauth::resource::narrowed(&grant.resources, p)?;
        }
    }
    let grant = match app.db.grants().use_refresh(&hash, now).await? {
        RefreshUse::Fresh(g) => g,
        RefreshUse::Reused(gid) => {
            app.db.grants().revoke(&gid, now).await?;
            tracing::warn!(client = %client.id, "refresh token reused; grant revoked");
            return Err(OAuthError::invalid_grant(
                "the refresh token was already used",
            ));
        }
        RefreshUse::Unknown => {
            return Err(OAuthError::invalid_grant(
                "the refresh token is invalid or expired",
            ))
        }
    };
    if grant.client_id != client.id {
        app.db.grants().revoke(&grant.id, now).await?;
        return Err(OAuthError::invalid_grant(
            "the refresh token was issued to another client",
        ));
    }
    if !grant.is_active(now) {
        return Err(OAuthError::invalid_grant(
            "the grant was revoked or has expired",
        ));
    }
    check_binding(&grant, jkt)?;
    let scope = scope_asked(&grant, p)?;
    let audience = crate::oauth::resource::narrowed(&grant.resources, p)?;
    let account = app
        .db
        .accounts()
        .get(&grant.account_id)
        .await?
        .ok_or_else(|| OAuthError::invalid_grant("the account no longer exists"))?;
    let asked = super::Asked {
        scope: &scope,
        audience: &audience,
        nonce: None,
    };
    let (access_token, expires_in, id_token) =
        tokens_for_grant(app, client, &grant, &account, &asked, jkt)?;
    let refresh_token = refresh_for(app, client, &grant.id, grant.expires_at).await?;
    Ok(TokenResponse::new(
        access_token,
        jkt,
        expires_in,
        refresh_token,
        id_token,
        scope,
    ))
}

/// RFC 9449 §5: a bound refresh token works only with a proof of its key.
fn check_binding(grant: &Grant, jkt: Option<&str>) -> Result<(), OAuthError> {
    if grant.dpop_jkt.is_some() && grant.dpop_jkt.as_deref() != jkt {
        tracing::warn!(grant = %grant.id, "refresh without a proof of the token's DPoP key");
        return Err(OAuthError::invalid_grant(
            "the refresh token is bound to a DPoP key this request did not prove",
        ));
    }
    Ok(())
}

/// The scope of the new tokens: the grant's, or the narrower one `scope` asks (RFC 6749 §6).
fn scope_asked(grant: &Grant, p: &Params) -> Result<String, OAuthError> {
    let Some(s) = p.get("scope") else {
        return Ok(grant.scope.clone());
    };
    let granted = split_list(&grant.scope);
    let asked = split_list(s);
    if !asked.iter().all(|a| granted.contains(a)) {
        return Err(OAuthError::new(
            ErrorCode::InvalidScope,
            "scope exceeds what was granted",
        ));
    }
    Ok(asked.join(" "))
}
