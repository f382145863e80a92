//! Rules 1–2 (RFC 6749 §3.1.2.4, §4.1.2.1): the client exists, and the redirect URI is
//! one it registered, compared exactly. Until both hold, errors go to the person as a
//! page and are never redirected.

use super::PageError;
use crate::app::App;
use crate::oauth::params::Params;
use crate::store::Client;
use std::sync::Arc;

/// Rule 1: the client exists.
pub async fn check_client(app: &App, p: &Params) -> Result<Arc<Client>, PageError> {
    if p.duplicates.iter().any(|d| d == "client_id") {
        return Err(PageError::UnknownClient);
    }
    let id = p.get("client_id").ok_or(PageError::UnknownClient)?;
    match app.client(id).await {
        Ok(Some(c)) => Ok(c),
        Ok(None) => Err(PageError::UnknownClient),
        Err(e) => {
            tracing::error!(error = %e, "client lookup failed");
            Err(PageError::Server)
        }
    }
}

/// Rule 2: the redirect URI is one the client registered, compared exactly.
pub fn check_redirect_uri(client: &Client, p: &Params) -> Result<String, PageError> {
    if p.duplicates.iter().any(|d| d == "redirect_uri") {
        return Err(PageError::BadRedirectUri);
    }
    let uri = p.get("redirect_uri").ok_or(PageError::BadRedirectUri)?;
    if client.redirect_uris.iter().any(|r| r == uri) {
        Ok(uri.to_owned())
    } else {
        Err(PageError::BadRedirectUri)
    }
}
