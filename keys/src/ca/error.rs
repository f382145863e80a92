//! Errors of the certificate authority.

/// What can go wrong issuing, revoking or answering. Input errors (`Bad*`) are the caller's;
/// the others are ours.
#[derive(Debug, thiserror::Error)]
pub enum CaError {
    /// The SNILS is malformed or its check number is wrong.
    #[error("invalid SNILS: {0}")]
    BadSnils(&'static str),
    /// The INN is malformed or its check digits are wrong.
    #[error("invalid INN: {0}")]
    BadInn(&'static str),
    /// A name part is empty, too long or has forbidden characters.
    #[error("invalid name: {0}")]
    BadName(&'static str),
    /// The validity asked for is not positive or outlives the issuing CA.
    #[error("invalid validity: {0}")]
    BadValidity(&'static str),
    /// A serial number is not the hex of a certificate of ours.
    #[error("unknown certificate serial")]
    UnknownSerial,
    /// The certificate is revoked: its key no longer signs.
    #[error("the certificate is revoked")]
    Revoked,
    /// removeFromCRL is not a revocation reason (RFC 5280 §5.3.1: delta CRLs only).
    #[error("removeFromCRL is not a revocation reason")]
    BadReason,
    /// A setting is unusable.
    #[error("invalid CA setting: {0}")]
    Settings(String),
    /// Stored CA data is unreadable or inconsistent.
    #[error("stored CA data is unusable: {0}")]
    Corrupt(String),
    /// ASN.1 encoding failed.
    #[error("ASN.1 encoding failed: {0}")]
    Der(#[from] der::Error),
    /// Certificate building or signing failed.
    #[error("certificate building failed: {0}")]
    Build(String),
    /// Key handling failed (generation, decryption, database).
    #[error(transparent)]
    Key(#[from] crate::Error),
}

impl From<sqlx::Error> for CaError {
    fn from(e: sqlx::Error) -> Self {
        CaError::Key(crate::Error::Db(e))
    }
}

impl From<x509_cert::builder::Error> for CaError {
    fn from(e: x509_cert::builder::Error) -> Self {
        CaError::Build(e.to_string())
    }
}
