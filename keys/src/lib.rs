//! Key material: JWK/JWKS, signing keys and their rotation, encryption at rest.
//!
//! Signing goes through `aws-lc-rs` (the hot path: every token; see `signing`); formats through serde.

pub mod audit;
pub mod ca;
pub mod clock;
pub mod dpop;
pub mod jwk;
pub mod jws;
pub mod kek;
mod public_key;
pub mod signing;
pub mod store;
pub mod subject;

pub use clock::{Clock, ManualClock, SystemClock};
pub use jwk::{Jwk, Jwks};
pub use jws::{decode_unverified, sign_jwt, verify_jws, JwsHeader};
pub use kek::Kek;
pub use signing::{Alg, PublicKey, SigningKey};
pub use store::{migrate, Backend, KeyInfo, KeyRing, KeyStatus, RotationPolicy};

/// Errors of key handling.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Key material could not be generated or parsed.
    #[error("bad key material: {0}")]
    Key(String),
    /// A private key failed to decrypt (wrong KEK, or tampered data).
    #[error("cannot decrypt private key {0}: wrong key-encryption key or corrupt data")]
    Decrypt(String),
    /// The KEK is malformed.
    #[error("invalid key-encryption key: {0}")]
    Kek(String),
    /// A JWS is malformed, uses an unsupported algorithm, or its signature is wrong.
    #[error("invalid JWS: {0}")]
    Jws(&'static str),
    /// Signing failed.
    #[error("signing failed")]
    Sign,
    /// Database failure.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// Migration failure.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// I/O failure (reading a KEK file).
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
}
