//! The OAuth 2.0 / OpenID Connect protocol endpoints, one module per specification.

pub mod authorize;
pub mod backchannel;
pub mod claims;
pub mod client_auth;
pub mod client_keys;
pub mod device;
pub mod discovery;
pub mod dpop;
pub mod end_session;
pub mod error;
pub mod frontchannel;
pub mod introspection;
pub mod jwks;
pub mod limit;
pub mod par;
pub mod params;
pub mod request_object;
pub mod resource;
pub mod revocation;
pub mod token;
pub mod tokens;
pub mod types;
pub mod userinfo;
