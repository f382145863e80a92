//! The e-signature service: signing requests, CAdES / PAdES signatures, validation reports and
//! the CA-facing flows (certificate issuance, revocation, CRL, OCSP, timestamps). A resource
//! server of the IdP: it trusts vhod access tokens exactly as an external service would.
//!
//! [`Signer`] is the service on one store; [`http::router`] its endpoints (the CA's files and
//! protocols under `/ca/`). The format layer is here: [`cades`] makes CMS signatures (ETSI EN 319 122-1 baseline B-B and
//! B-T) and [`pades`] embeds them in PDFs by incremental update (ETSI EN 319 142-1). Both sign
//! through the `signature::Signer` trait and take timestamps from any [`TimestampSource`], so a
//! software key, a PKCS#11 key or vhod's own TSA plug in without changing them.
//!
//! [`validate`] checks signatures, vhod's and anyone else's, and answers with ETSI EN 319 102-1
//! verdicts (`TOTAL_PASSED`, `TOTAL_FAILED`, `INDETERMINATE` with a sub-indication);
//! [`Signer::validate`] runs it under the service's policy: vhod's root plus the
//! [`TrustAnchors`] an operator added, revocation by [`CaRevocation`].

mod ca_revocation;
pub mod cades;
pub mod http;
mod limit;
mod oids;
pub mod pades;
pub mod requests;
mod service;
pub mod subjects;
mod timestamp;
mod trust;
pub mod validate;
mod verdict;

pub use ca_revocation::CaRevocation;
pub use cades::{CadesError, Packaging, SignerHandle};
pub use limit::{LocalLimiter, RateLimiter};
pub use pades::PadesError;
pub use service::{migrate, DpopNonces, Signer};
pub use subjects::{PublicSubjects, SubjectError, Subjects};
pub use trust::{TrustAnchor, TrustAnchors, TrustError};
pub use verdict::{Person, MAX_DOCUMENT, MAX_SIGNATURE};

pub use timestamp::{TimestampError, TimestampSource};
