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
//! verdicts (`TOTAL_PASSED`, `TOTAL_FAILED`, `INDETERMINATE` with a sub-indication).

pub mod cades;
pub mod http;
mod oids;
pub mod pades;
mod service;
mod timestamp;
pub mod validate;

pub use cades::{CadesError, Packaging, SignerHandle};
pub use pades::PadesError;
pub use service::{migrate, Signer};

pub use timestamp::{TimestampError, TimestampSource};
