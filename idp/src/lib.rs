//! The OpenID provider: protocol endpoints, sign-in and consent pages, accounts and sessions.

pub mod account;
pub mod api_error;
pub mod app;
pub mod cache;
pub mod crypto;
pub mod flow;
pub mod http;
pub mod i18n;
pub mod identity;
pub mod interaction;
pub mod metrics;
pub mod notification_settings;
pub mod notify;
pub mod oauth;
pub mod otp_factor;
pub mod pages;
pub mod passkey;
pub mod password;
pub mod password_policy;
pub mod profile;
pub mod profile_contact;
pub mod recover;
pub mod register;
pub mod registry;
pub mod router;
pub mod session;
pub mod store;
pub mod totp;
pub mod validate_page;

pub use app::{App, AppState, Secrets, Settings};
