//! Protocol enums with their wire names (RFC 6749, RFC 7591, OIDC Core §9).

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

macro_rules! wire_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $var:ident = $wire:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name { $($(#[$vm])* #[serde(rename = $wire)] $var),+ }
        impl $name {
            /// Every variant, in declaration order (for discovery).
            pub const ALL: &'static [$name] = &[$($name::$var),+];
            /// The wire name.
            pub fn as_str(self) -> &'static str { match self { $($name::$var => $wire),+ } }
        }
        impl FromStr for $name {
            type Err = UnknownValue;
            fn from_str(s: &str) -> Result<Self, UnknownValue> {
                match s { $($wire => Ok($name::$var),)+ _ => Err(UnknownValue(s.chars().take(64).collect())) }
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

/// A value that is not one of an enum's wire names.
#[derive(Debug, Clone, thiserror::Error)]
#[error("unsupported value {0:?}")]
pub struct UnknownValue(pub String);

wire_enum!(
    /// How a client authenticates at the token, introspection and revocation endpoints.
    AuthMethod {
        /// HTTP Basic with the client id and secret (RFC 6749 §2.3.1).
        ClientSecretBasic = "client_secret_basic",
        /// Client id and secret in the form body (RFC 6749 §2.3.1).
        ClientSecretPost = "client_secret_post",
        /// A JWT signed with the client's registered key (RFC 7523, OIDC Core §9).
        PrivateKeyJwt = "private_key_jwt",
        /// A public client: no authentication, PKCE only.
        None = "none",
    }
);

wire_enum!(
    /// Grant types served by the token endpoint.
    GrantType {
        /// RFC 6749 §4.1.
        AuthorizationCode = "authorization_code",
        /// RFC 6749 §6.
        RefreshToken = "refresh_token",
        /// RFC 6749 §4.4.
        ClientCredentials = "client_credentials",
        /// RFC 8628 §3.4: a device without a browser polls for the tokens a person approved
        /// elsewhere.
        DeviceCode = "urn:ietf:params:oauth:grant-type:device_code",
    }
);

wire_enum!(
    /// How the authorization response travels back (OAuth 2.0 Multiple Response Types, Form Post).
    ResponseMode {
        /// Parameters in the redirect URI's query.
        Query = "query",
        /// An auto-submitted HTML form POSTed to the redirect URI.
        FormPost = "form_post",
        /// JARM §2.3.1: the parameters as a signed JWT, `response`, in the query.
        QueryJwt = "query.jwt",
        /// JARM §2.3.3: the signed JWT in an auto-submitted form.
        FormPostJwt = "form_post.jwt",
        /// JARM §2.3.4: the response type's default mode with a JWT; `query.jwt` for
        /// `code`.
        Jwt = "jwt",
    }
);

wire_enum!(
    /// The `prompt` values of OIDC Core §3.1.2.1.
    Prompt {
        /// No interaction may be shown.
        None = "none",
        /// Re-authenticate even with a session.
        Login = "login",
        /// Ask for consent even when remembered.
        Consent = "consent",
        /// Account selection (treated as login: one account per session).
        SelectAccount = "select_account",
        /// Registration first (Initiating User Registration via OpenID Connect 1.0): the
        /// person creates an account, and the sign-in goes on with it.
        Create = "create",
    }
);

/// Splits a space-separated list, dropping empty items and duplicates (order kept).
pub fn split_list(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in s.split(' ').filter(|x| !x.is_empty()) {
        if !out.iter().any(|o| o == item) {
            out.push(item.to_owned());
        }
    }
    out
}
