//! `client_credentials` grant (RFC 6749 §4.4): a confidential client acting for itself.
//!
//! Rules: public clients may not use it; scopes must be among the client's registered
//! scopes; `resource` (RFC 8707) names resource servers the client registered, which the
//! access token is then for; no refresh token and no ID token are issued.

use super::TokenResponse;
use crate::app::App;
use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::params::Params;
use crate::oauth::tokens::{self, AccessToken};
use crate::oauth::types::split_list;
use crate::store::Client;

pub(super) fn exchange(
    app: &App,
    client: &Client,
    p: &Params,
    jkt: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    if client.is_public() {
        return Err(OAuthError::new(
            ErrorCode::UnauthorizedClient,
            "public clients cannot use client_credentials",
        ));
    }
    let scope = match p.get("scope") {
        None => client
            .scope
            .iter()
            .filter(|s| *s != "openid")
            .cloned()
            .collect::<Vec<_>>()
            .join(" "),
        Some(s) => {
            let asked = split_list(s);
            if asked
                .iter()
                .any(|a| a == "openid" || !client.scope.contains(a))
            {
                return Err(OAuthError::new(
                    ErrorCode::InvalidScope,
                    "the client may not ask for this scope",
                ));
            }
            asked.join(" ")
        }
    };
    let audience = crate::oauth::resource::requested(client, p)?;
    let (access_token, expires_in) = tokens::access_token(
        app,
        &AccessToken {
            sub: &client.id,
            client_id: &client.id,
            scope: &scope,
            grant_id: None,
            auth_time: None,
            acr: None,
            sid: None,
            jkt,
            audience: &audience,
        },
    )?;
    Ok(TokenResponse {
        access_token,
        token_type: super::token_type(jkt),
        expires_in,
        scope,
        ..Default::default()
    })
}
