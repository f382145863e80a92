//! Revocation status behind one trait (RFC 5280 §5 CRLs, RFC 6960 OCSP): the validator asks a
//! [`RevocationSource`] about each certificate of a chain and its issuer.
//!
//! - [`HttpRevocation`] fetches the CRL from the certificate's CRL distribution point (plain
//!   http, short timeout, size limit), verifies it with the issuer's key and caches it until
//!   its nextUpdate; with no distribution point it asks the OCSP responder named in the
//!   Authority Information Access extension;
//! - [`MemoryRevocation`] answers from CRLs and statuses the caller already holds;
//! - any other source (vhod's own CA answering from its database, say) implements the trait.

mod crl;
mod http;
mod memory;
mod ocsp;

pub use http::{HttpRevocation, MAX_HELD_BYTES, RETRY_AFTER_FAILURE};
pub use memory::MemoryRevocation;

use std::time::SystemTime;
use x509_cert::Certificate;

/// How far a CRL's or an OCSP answer's `thisUpdate` may lie after the validation time. A CA
/// or responder that answers when asked (vhod's CA does) stamps its answer with the second it
/// was made, which, when validating at the current time, is often the second after the one
/// the validation started in; and its clock is not the validator's. pyHanko allows one
/// second by default; this allows for a CA on another host. Validating as of a past time
/// still refuses an answer made well after it.
pub(crate) const CLOCK_SKEW: std::time::Duration = std::time::Duration::from_secs(30);

/// What a source knows about one certificate.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RevocationStatus {
    /// Not revoked, according to the source.
    Good,
    /// Revoked at `at`, for `reason` (the CRLReason name, when given).
    Revoked {
        /// The revocation time.
        at: SystemTime,
        /// The reason code's name (RFC 5280 §5.3.1), e.g. `keyCompromise`.
        reason: Option<String>,
    },
    /// The source cannot say; `why` is for the report.
    Unknown {
        /// Why not (no distribution point, the server did not answer...).
        why: String,
    },
}

/// Answers whether `cert`, issued by `issuer`, is revoked at the time of asking.
#[async_trait::async_trait]
pub trait RevocationSource: Send + Sync {
    /// The status of `cert`; `issuer` is the certificate that signed it (the one whose key
    /// must have signed a CRL or OCSP answer about it). `now` is the validation time.
    async fn status(
        &self,
        cert: &Certificate,
        issuer: &Certificate,
        now: SystemTime,
    ) -> RevocationStatus;
}

/// A source that knows nothing: every answer is Unknown. For callers that skip revocation.
#[derive(Clone, Copy, Debug, Default)]
pub struct NoRevocation;

#[async_trait::async_trait]
impl RevocationSource for NoRevocation {
    async fn status(&self, _: &Certificate, _: &Certificate, _: SystemTime) -> RevocationStatus {
        RevocationStatus::Unknown {
            why: "no revocation source is configured".into(),
        }
    }
}

/// Whether `cert` says where its revocation status is published (a CRL distribution point or
/// an OCSP responder). A certificate that publishes nothing cannot be checked, which is a
/// warning; one that does but could not be checked is a reason to try later.
pub(crate) fn publishes_status(cert: &Certificate) -> bool {
    !crl::distribution_points(cert).is_empty() || !ocsp::responders(cert).is_empty()
}
