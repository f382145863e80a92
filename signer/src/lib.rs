//! The e-signature service: signing requests, CAdES / PAdES signatures, validation reports and
//! the CA-facing flows (certificate issuance, revocation, CRL, OCSP, timestamps). A resource
//! server of the IdP: it trusts vhod access tokens exactly as an external service would.
