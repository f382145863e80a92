//! End-to-end tests of the whole server, driven over HTTP.
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a test fails loudly at the first broken expectation"
)]

mod helpers;

mod abuse;
mod account;
mod authorize;
mod authorize_errors;
mod backchannel;
mod ca;
mod certificates;
mod cli;
mod client_auth;
mod code_flow;
mod device;
mod dpop;
mod factors;
mod frontchannel;
mod id_token_alg;
mod identity;
mod introspection_jwt;
mod jarm;
mod jwks_uri;
mod limits;
mod logout;
mod mfa;
mod notification_settings;
mod notify;
mod otp_factors;
mod pairwise;
mod par;
mod passkeys;
mod password_change;
mod profile;
mod recover;
mod recover_factors;
mod register;
mod registry;
mod request_object;
mod requirements;
mod resource;
mod signing;
mod signing_pades;
mod signing_passkey;
mod step_up;
mod store_pool;
mod tls;
mod tokens;
mod two_nodes;
mod userinfo_jwt;
mod validation;
mod validation_cli;
mod webhooks;
