//! The validated authorization request (OIDC Core §3.1.2.1), kept while the person signs in.

use crate::oauth::types::{Prompt, ResponseMode};
use serde::{Deserialize, Serialize};

/// An authorization request that passed every check.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AuthRequest {
    /// The client.
    pub client_id: String,
    /// The exact registered redirect URI.
    pub redirect_uri: String,
    /// How to answer.
    pub response_mode: ResponseMode,
    /// The client's `authorization_signed_response_alg`, for the JWT response modes (JARM);
    /// `None`: RS256.
    #[serde(default)]
    pub authorization_alg: Option<String>,
    /// Requested scopes the client may have.
    pub scope: Vec<String>,
    /// Opaque client state, echoed.
    pub state: Option<String>,
    /// ID token nonce.
    pub nonce: Option<String>,
    /// PKCE S256 challenge.
    pub code_challenge: String,
    /// The DPoP key that must redeem the code (RFC 9449 §10); absent from requests stored
    /// before it existed.
    #[serde(default)]
    pub dpop_jkt: Option<String>,
    /// `prompt` values.
    pub prompt: Vec<Prompt>,
    /// `max_age`, seconds.
    pub max_age: Option<i64>,
    /// Login prefill.
    pub login_hint: Option<String>,
    /// Preferred languages.
    pub ui_locales: Vec<String>,
    /// Requested (voluntary) assurance levels.
    pub acr_values: Vec<String>,
    /// The `claims` parameter (OIDC Core §5.5), validated JSON.
    pub claims: Option<serde_json::Value>,
    /// The account a valid `id_token_hint` names (its `sub` read as the client knows it).
    pub hint_sub: Option<String>,
    /// For a device's request (RFC 8628), the cache key of its device code: the answer goes
    /// to the polling device, not to a redirect URI (there is none).
    #[serde(default)]
    pub device: Option<String>,
    /// The resource servers (RFC 8707) the tokens may be for; empty: this provider.
    #[serde(default)]
    pub resources: Vec<String>,
}

impl AuthRequest {
    /// Where and how its answer goes.
    pub fn reply(&self) -> super::response::Reply<'_> {
        super::response::Reply {
            mode: self.response_mode,
            redirect_uri: &self.redirect_uri,
            client_id: &self.client_id,
            alg: self.authorization_alg.as_deref(),
        }
    }

    /// Whether `prompt` contains `p`.
    pub fn prompts(&self, p: Prompt) -> bool {
        self.prompt.contains(&p)
    }

    /// Claim names asked for through the `claims` parameter, for a member (`userinfo` or
    /// `id_token`) or both when `member` is `None`.
    pub fn claim_names(&self, member: Option<&str>) -> Vec<String> {
        claim_names(self.claims.as_ref(), member)
    }
}

/// Claim names in a `claims` request object.
pub fn claim_names(claims: Option<&serde_json::Value>, member: Option<&str>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let Some(obj) = claims.and_then(|c| c.as_object()) else {
        return out;
    };
    for (m, v) in obj {
        if member.is_some_and(|want| want != m) {
            continue;
        }
        if let Some(inner) = v.as_object() {
            for k in inner.keys() {
                if !out.contains(k) {
                    out.push(k.clone());
                }
            }
        }
    }
    out
}
