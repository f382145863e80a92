//! `refresh_token` grant (RFC 6749 §6, OAuth 2.0 Security BCP §4.14).
//!
//! Rules: every refresh token works once and is replaced (rotation); presenting a rotated
//! token again revokes the whole grant; the grant must be live and the client's; a narrower
//! `scope` may be asked, never a wider one.

use super::{refresh_for, tokens_for_grant, TokenResponse};
use crate::app::App;
use crate::crypto::sha256_b64;
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::params::Params;
use crate::oauth::types::split_list;
use crate::store::{Client, RefreshUse};

pub(super) async fn exchange(
    app: &App,
    client: &Client,
    p: &Params,
    jkt: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let rt = p.require("refresh_token")?;
    let now = app.now();
    let grant = match app.db.grants().use_refresh(&sha256_b64(rt), now).await? {
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
    // RFC 9449 §5: a bound refresh token works only with a proof of its key. The token
    // presented is used up either way: a thief without the key gains nothing, and the
    // rightful client, whose rotated token this was, will find its grant revoked on reuse.
    if grant.dpop_jkt.is_some() && grant.dpop_jkt.as_deref() != jkt {
        return Err(OAuthError::invalid_grant(
            "the refresh token is bound to a DPoP key this request did not prove",
        ));
    }
    let granted = split_list(&grant.scope);
    let scope = match p.get("scope") {
        None => grant.scope.clone(),
        Some(s) => {
            let asked = split_list(s);
            if !asked.iter().all(|a| granted.contains(a)) {
                return Err(OAuthError::new(
                    ErrorCode::InvalidScope,
                    "scope exceeds what was granted",
                ));
            }
            asked.join(" ")
        }
    };
    let account = app
        .db
        .accounts()
        .get(&grant.account_id)
        .await?
        .ok_or_else(|| OAuthError::invalid_grant("the account no longer exists"))?;
    let (access_token, expires_in, id_token) =
        tokens_for_grant(app, client, &grant, &account, &scope, None, jkt)?;
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
