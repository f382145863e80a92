//! Passkeys (W3C WebAuthn Level 3, verified by webauthn-rs): the relying party, the
//! single-use ceremony state, and what the account pages and the sign-in share.
//!
//! Rules:
//! - The RP ID is the issuer's host and the only accepted origin is the issuer's origin
//!   (WebAuthn §5.1.3, §7.1 step 9, §7.2 step 13). Browsers refuse IP addresses as RP IDs,
//!   so an issuer on an IP address offers no passkeys and says so on a page (`unavailable`).
//! - Every challenge is used once: a ceremony's state is consumed atomically from the shared
//!   cache (§13.4.3), whichever node it lands on, and lives `CEREMONY_TTL`.
//! - User verification is required at every ceremony (webauthn-rs `Passkey`): a passkey is
//!   then a multi-factor cryptographic authenticator (NIST SP 800-63B §5.1.9), possession
//!   of the key plus the PIN or biometric that unlocks it.
//!
//! `amr` (RFC 8176): `hwk`, proof of possession of a hardware-secured key — platform
//! authenticators and security keys keep the private key in a secure element, TPM or
//! enclave, and with `none` attestation vhod cannot tell better, so it reports what
//! WebAuthn authenticators are; `user`, the user-presence test every assertion carries
//! (RFC 8176 names WebAuthn for it). After the password: `pwd hwk user mfa`; alone:
//! `hwk user mfa` (`mfa` because verification was required, above).

pub mod account;
pub(crate) mod assertion;

use crate::app::App;
use crate::cache::CacheError;
use crate::i18n::Lang;
use axum::http::StatusCode;
use axum::response::Response;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::time::Duration;
use webauthn_rs::prelude::{Url, Webauthn, WebauthnBuilder};

/// How long a ceremony (a challenge) may take.
pub const CEREMONY_TTL: Duration = Duration::from_secs(300);

/// `amr` of a sign-in with the password and then a passkey.
pub const AMR_SECOND_FACTOR: &[&str] = &["pwd", "hwk", "user", "mfa"];

/// `amr` of a passwordless sign-in with a passkey (user verification required).
pub const AMR_PASSWORDLESS: &[&str] = &["hwk", "user", "mfa"];

/// The relying party for the configured issuer; `None` when passkeys cannot work there
/// (the issuer's host is an IP address, or not a valid RP ID).
pub fn relying_party(app: &App) -> Option<Webauthn> {
    let issuer = Url::parse(&app.settings.issuer).ok()?;
    let host = issuer.domain()?.to_owned();
    let origin = Url::parse(&issuer.origin().ascii_serialization()).ok()?;
    WebauthnBuilder::new(&host, &origin)
        .ok()?
        .rp_name("vhod")
        .timeout(CEREMONY_TTL)
        .build()
        .ok()
}

/// The page shown when the issuer cannot offer passkeys.
pub fn unavailable(app: &App, lang: Lang) -> Response {
    app.pages.error(
        StatusCode::NOT_FOUND,
        lang,
        "passkey_unavailable",
        None,
        None,
    )
}

/// A credential id as stored and looked up: base64url without padding.
pub fn credential_key(raw: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(raw)
}

fn state_key(kind: &str, token: &str) -> String {
    format!("pk:{kind}:{token}")
}

/// Stores a ceremony's state; returns the token the page posts back.
pub async fn put_state<T: Serialize>(
    app: &App,
    kind: &str,
    state: &T,
) -> Result<String, CacheError> {
    let token = crate::crypto::random_token(24);
    let json = serde_json::to_vec(state).map_err(CacheError::Encode)?;
    app.cache
        .put(&state_key(kind, &token), &json, CEREMONY_TTL)
        .await?;
    Ok(token)
}

/// Takes a ceremony's state out of the cache: once only, atomically. `None` for an unknown,
/// expired, already used or malformed token.
pub async fn take_state<T: DeserializeOwned>(
    app: &App,
    kind: &str,
    token: &str,
) -> Result<Option<T>, CacheError> {
    if token.is_empty() || token.len() > 64 {
        return Ok(None);
    }
    let raw = app.cache.consume(&state_key(kind, token)).await?;
    Ok(raw.and_then(|r| serde_json::from_slice(&r).ok()))
}

/// The options a page hands to `navigator.credentials`, as JSON for a `data-` attribute.
pub fn options_json<T: Serialize>(options: &T) -> String {
    serde_json::to_string(options).unwrap_or_default()
}
