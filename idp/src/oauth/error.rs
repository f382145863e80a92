//! OAuth 2.0 / OIDC errors: a closed set of RFC error codes, each mapped to its HTTP status.
//!
//! A `server_error` (500) always has a generic text and the detail goes to the log
//! (node-oidc-provider `lib/helpers/errors.js` does the same); the other codes'
//! descriptions, this crate's own words, are shown.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::borrow::Cow;

/// The RFC 6749 / 6750 / 7009 / OIDC Core error codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorCode {
    /// Malformed, missing or duplicated parameter (RFC 6749 §5.2).
    InvalidRequest,
    /// Client authentication failed (RFC 6749 §5.2): 401.
    InvalidClient,
    /// Bad, expired, revoked or reused code or refresh token (RFC 6749 §5.2).
    InvalidGrant,
    /// The client may not use this grant or response type.
    UnauthorizedClient,
    /// The grant type is not served.
    UnsupportedGrantType,
    /// The response type is not served.
    UnsupportedResponseType,
    /// The scope is unknown or not allowed.
    InvalidScope,
    /// The person or the server refused.
    AccessDenied,
    /// Something failed inside: 500.
    ServerError,
    /// The server is overloaded or a backend is down: 503.
    TemporarilyUnavailable,
    /// `prompt=none` but a login is needed (OIDC Core §3.1.2.6).
    LoginRequired,
    /// `prompt=none` but consent is needed.
    ConsentRequired,
    /// `prompt=none` but some interaction is needed.
    InteractionRequired,
    /// The bearer token is missing, expired, revoked or malformed (RFC 6750 §3.1): 401.
    InvalidToken,
    /// The token lacks a scope the resource needs (RFC 6750 §3.1): 403.
    InsufficientScope,
    /// The Request Object (`request`) is malformed, its signature does not verify, or it
    /// contradicts the request (OIDC Core §3.1.2.6, §6; RFC 9101 §6.3).
    InvalidRequestObject,
    /// `request_uri` parameter not supported (OIDC Core §6).
    RequestUriNotSupported,
    /// `registration` parameter not supported.
    RegistrationNotSupported,
    /// The token type cannot be revoked (RFC 7009 §2.2.1).
    UnsupportedTokenType,
    /// The person cannot meet what the client requires (a second factor, a level):
    /// OpenID Connect Core 1.0 incorporating errata set 2, §3.1.2.6.
    UnmetAuthenticationRequirements,
    /// A DPoP proof is missing where one is needed, malformed, or does not match the
    /// request, the key or the token (RFC 9449 §5, §7.1): 400 at the token endpoint, 401 at
    /// a resource.
    InvalidDpopProof,
    /// A DPoP proof lacks the nonce this server requires, or carries one it did not give or
    /// that has expired (RFC 9449 §8–9): 400 at the token endpoint, 401 at a resource; the
    /// answer's `DPoP-Nonce` header has the nonce to use.
    UseDpopNonce,
    /// Device flow: the person has not answered yet; poll again (RFC 8628 §3.5).
    AuthorizationPending,
    /// Device flow: polling faster than the interval; wait five seconds more (RFC 8628 §3.5).
    SlowDown,
    /// Device flow: the device code expired; start again (RFC 8628 §3.5).
    ExpiredToken,
    /// A `resource` is malformed, not one the client may ask for, or not one the grant was
    /// given (RFC 8707 §2).
    InvalidTarget,
}

impl ErrorCode {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidRequest => "invalid_request",
            ErrorCode::AuthorizationPending => "authorization_pending",
            ErrorCode::SlowDown => "slow_down",
            ErrorCode::ExpiredToken => "expired_token",
            ErrorCode::InvalidTarget => "invalid_target",
            ErrorCode::InvalidClient => "invalid_client",
            ErrorCode::InvalidGrant => "invalid_grant",
            ErrorCode::UnauthorizedClient => "unauthorized_client",
            ErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            ErrorCode::UnsupportedResponseType => "unsupported_response_type",
            ErrorCode::InvalidScope => "invalid_scope",
            ErrorCode::AccessDenied => "access_denied",
            ErrorCode::ServerError => "server_error",
            ErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            ErrorCode::LoginRequired => "login_required",
            ErrorCode::ConsentRequired => "consent_required",
            ErrorCode::InteractionRequired => "interaction_required",
            ErrorCode::InvalidToken => "invalid_token",
            ErrorCode::InsufficientScope => "insufficient_scope",
            ErrorCode::InvalidRequestObject => "invalid_request_object",
            ErrorCode::RequestUriNotSupported => "request_uri_not_supported",
            ErrorCode::RegistrationNotSupported => "registration_not_supported",
            ErrorCode::UnsupportedTokenType => "unsupported_token_type",
            ErrorCode::UnmetAuthenticationRequirements => "unmet_authentication_requirements",
            ErrorCode::InvalidDpopProof => "invalid_dpop_proof",
            ErrorCode::UseDpopNonce => "use_dpop_nonce",
        }
    }

    /// The HTTP status this code is answered with at the token-style endpoints.
    pub fn status(self) -> StatusCode {
        match self {
            ErrorCode::InvalidClient | ErrorCode::InvalidToken => StatusCode::UNAUTHORIZED,
            ErrorCode::InsufficientScope => StatusCode::FORBIDDEN,
            ErrorCode::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::BAD_REQUEST,
        }
    }
}

/// An OAuth error with an optional human-readable description.
#[derive(Clone, Debug)]
pub struct OAuthError {
    /// The RFC error code.
    pub code: ErrorCode,
    /// Shown to the client for 4xx only.
    pub description: Option<Cow<'static, str>>,
    /// For `invalid_client` via HTTP Basic: answer with a `WWW-Authenticate: Basic` challenge.
    pub basic_challenge: bool,
    /// At a resource, for a request that used the DPoP scheme: the challenge is `DPoP`
    /// (RFC 9449 §7.1), and a bad proof is a 401.
    pub dpop_challenge: bool,
    /// Over a rate limit: the answer is a 429 with `Retry-After` in these seconds (RFC 6585
    /// §4; RFC 9126 §2.3 names it for pushed requests).
    pub retry_after: Option<u64>,
}

impl OAuthError {
    /// An error with a description.
    pub fn new(code: ErrorCode, description: impl Into<Cow<'static, str>>) -> Self {
        OAuthError {
            code,
            description: Some(description.into()),
            basic_challenge: false,
            dpop_challenge: false,
            retry_after: None,
        }
    }
    /// Over one of [`crate::oauth::limit`]'s limits: `temporarily_unavailable` with
    /// `description`, answered with a 429 and `Retry-After` (at the authorization endpoint it
    /// goes back to the client instead).
    pub fn too_many(wait: u64, description: String) -> Self {
        OAuthError {
            retry_after: Some(wait),
            ..Self::new(ErrorCode::TemporarilyUnavailable, description)
        }
    }
    /// `invalid_request` with a description.
    pub fn invalid_request(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidRequest, d)
    }
    /// `invalid_client` with a description.
    pub fn invalid_client(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidClient, d)
    }
    /// `invalid_grant` with a description.
    pub fn invalid_grant(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidGrant, d)
    }
    /// `invalid_token` with a description.
    pub fn invalid_token(d: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorCode::InvalidToken, d)
    }
    /// A server error: the detail is logged here and never shown.
    pub fn server(detail: impl std::fmt::Display) -> Self {
        tracing::error!(error = %detail, "internal error");
        OAuthError {
            code: ErrorCode::ServerError,
            description: None,
            basic_challenge: false,
            dpop_challenge: false,
            retry_after: None,
        }
    }
    /// The description a client may see: a generic one for `server_error`, whose detail is
    /// only logged; `temporarily_unavailable` says why, in words of this crate's own.
    pub fn public_description(&self) -> Option<&str> {
        if self.code == ErrorCode::ServerError {
            Some("the server could not complete the request")
        } else {
            self.description.as_deref()
        }
    }
}

impl From<crate::store::StoreError> for OAuthError {
    fn from(e: crate::store::StoreError) -> Self {
        OAuthError::server(e)
    }
}

impl From<crate::cache::CacheError> for OAuthError {
    fn from(e: crate::cache::CacheError) -> Self {
        match e {
            // Not a fault: the server is at capacity (RFC 6749 §4.1.2.1's
            // `temporarily_unavailable`, 503), and says so in the log once per refusal.
            crate::cache::CacheError::Full => {
                crate::cache::log_full();
                OAuthError::new(
                    ErrorCode::TemporarilyUnavailable,
                    "the server is at capacity; try again in a few minutes",
                )
            }
            e => OAuthError::server(e),
        }
    }
}

impl From<keys::Error> for OAuthError {
    fn from(e: keys::Error) -> Self {
        OAuthError::server(e)
    }
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_description: Option<&'a str>,
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let status = match self.code {
            _ if self.retry_after.is_some() => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::InvalidDpopProof | ErrorCode::UseDpopNonce if self.dpop_challenge => {
                StatusCode::UNAUTHORIZED
            }
            c => c.status(),
        };
        let body = Body {
            error: self.code.as_str(),
            error_description: self.public_description(),
        };
        let json = serde_json::to_vec(&body).unwrap_or_default();
        let mut resp = (status, json).into_response();
        let h = resp.headers_mut();
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        let challenge = match self.code {
            ErrorCode::InvalidClient if self.basic_challenge => {
                Some("Basic realm=\"vhod\"".to_owned())
            }
            ErrorCode::InvalidToken
            | ErrorCode::InsufficientScope
            | ErrorCode::InvalidDpopProof
            | ErrorCode::UseDpopNonce
                if self.dpop_challenge =>
            {
                Some(format!(
                    "DPoP algs=\"{}\", error=\"{}\"",
                    keys::dpop::ALGS.join(" "),
                    self.code.as_str()
                ))
            }
            ErrorCode::InvalidToken | ErrorCode::InsufficientScope => Some(format!(
                "Bearer realm=\"vhod\", error=\"{}\"",
                self.code.as_str()
            )),
            _ => None,
        };
        if let Some(v) = challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            h.insert(header::WWW_AUTHENTICATE, v);
        }
        if let Some(wait) = self.retry_after {
            h.insert(header::RETRY_AFTER, HeaderValue::from(wait));
        }
        resp
    }
}
