//! The authorization endpoint's rules, one file each, run in this order by
//! `authorize::handle`: client and redirect URI (`check_client`), response mode
//! (`check_response`), well-formedness (`check_well_formed`), response type, scope
//! (`check_scope`), PKCE (`check_pkce`), prompt and max_age (`check_prompt`), claims
//! (`check_claims`), id_token_hint, resource indicators (`oauth::resource`).

pub use super::check_claims::check_claims;
pub use super::check_client::{check_client, check_redirect_uri};
pub use super::check_pkce::{check_dpop_jkt, check_pkce};
pub use super::check_prompt::{check_id_token_hint, check_max_age, check_prompt};
pub use super::check_response::{check_response_mode, check_response_type};
pub use super::check_scope::{check_scope, SCOPES};
pub use super::check_well_formed::check_well_formed;

use super::request::AuthRequest;
use crate::app::App;
use crate::oauth::error::OAuthError;
use crate::oauth::params::Params;
use crate::oauth::types::{split_list, ResponseMode};
use crate::store::Client;

/// Why the request cannot go back to the client: the person sees a page.
#[derive(Debug)]
pub enum PageError {
    /// `client_id` missing, duplicated or unknown.
    UnknownClient,
    /// `redirect_uri` missing, duplicated or not registered exactly.
    BadRedirectUri,
    /// `request_uri` unknown, expired, used already, or pushed by another client.
    BadRequestUri,
    /// A backend failed.
    Server,
}

/// Runs rules 4 to 11 once the client and redirect URI are known.
pub fn build(
    app: &App,
    client: &Client,
    redirect_uri: String,
    mode: ResponseMode,
    p: &Params,
) -> Result<AuthRequest, OAuthError> {
    check_well_formed(p)?;
    check_response_type(client, p)?;
    let scope = check_scope(client, p)?;
    let code_challenge = check_pkce(p)?;
    let dpop_jkt = check_dpop_jkt(p)?;
    let prompt = check_prompt(p)?;
    let max_age = check_max_age(p)?;
    let claims = check_claims(p)?;
    let hint_sub = check_id_token_hint(app, client, p)?;
    let resources = crate::oauth::resource::requested(client, p)?;
    Ok(AuthRequest {
        client_id: client.id.clone(),
        redirect_uri,
        response_mode: mode,
        authorization_alg: client.authorization_signed_response_alg.clone(),
        scope,
        state: p.get("state").map(str::to_owned),
        nonce: p.get("nonce").map(str::to_owned),
        code_challenge,
        dpop_jkt,
        prompt,
        max_age,
        login_hint: p.get("login_hint").map(|s| s.chars().take(256).collect()),
        ui_locales: split_list(p.get("ui_locales").unwrap_or("")),
        acr_values: split_list(p.get("acr_values").unwrap_or("")),
        claims,
        hint_sub,
        device: None,
        resources,
    })
}
