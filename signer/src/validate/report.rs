//! The validation report: ETSI EN 319 102-1 §5.1.3 indications and sub-indications, per
//! signature and for the whole input, with every check that led there.
//!
//! Which sub-indication belongs to which indication follows EN 319 102-1 V1.3.1 Table 5:
//! TOTAL-FAILED for FORMAT_FAILURE, HASH_FAILURE, SIG_CRYPTO_FAILURE, REVOKED, EXPIRED and
//! NOT_YET_VALID; INDETERMINATE for the rest. The JSON words use underscores, as the issue
//! (and DSS, the EU reference validator) spell them.

use serde::Serialize;
use std::time::SystemTime;
use x509_cert::Certificate;

/// The main status of a validation (EN 319 102-1 §5.1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Indication {
    /// Every check passed against the policy.
    TotalPassed,
    /// The signature is proven invalid (a hash, a signature value, a revocation...).
    TotalFailed,
    /// The available information does not allow a positive or negative verdict.
    Indeterminate,
}

/// Why a validation did not pass (EN 319 102-1 §5.1.3, Table 5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SubIndication {
    /// The signature or document is not conformant to its base format (CMS, PDF), or too large.
    FormatFailure,
    /// A hash of the signed data does not match the one in the signature.
    HashFailure,
    /// The signature value does not verify with the signer's public key.
    SigCryptoFailure,
    /// The signing certificate was revoked, and a proof of existence dates the signature after
    /// the revocation.
    Revoked,
    /// A proof of existence dates the signature after the signing certificate expired.
    Expired,
    /// A proof of existence dates the signature before the signing certificate was issued.
    NotYetValid,
    /// A property of the signature does not meet the policy's constraints.
    SigConstraintsFailure,
    /// The certificate chain does not meet the constraints (CA flags, key usage).
    ChainConstraintsFailure,
    /// The chain could not be processed for another reason.
    CertificateChainGeneralFailure,
    /// An algorithm or key size is not accepted, and the algorithm cannot be excused.
    CryptoConstraintsFailure,
    /// An algorithm or key size is no longer accepted, and there is no proof that the
    /// signature existed while it was.
    CryptoConstraintsFailureNoPoe,
    /// The signing certificate could not be identified or its reference does not match.
    NoSigningCertificateFound,
    /// No chain from the signing certificate to a trust anchor was found.
    NoCertificateChainFound,
    /// The signing certificate is revoked and nothing proves the signature came before that.
    RevokedNoPoe,
    /// A CA certificate of the chain is revoked and nothing proves the signature came before.
    RevokedCaNoPoe,
    /// The signing certificate is outside its validity period at the validation time and
    /// nothing proves the signature was made within it.
    OutOfBoundsNoPoe,
    /// As OUT_OF_BOUNDS_NO_POE, but the certificate is known not to be revoked.
    OutOfBoundsNotRevoked,
    /// Revocation status could not be obtained now; it may be later.
    TryLater,
    /// The data the signature covers was not found (a detached signature without its document).
    SignedDataNotFound,
}

impl SubIndication {
    /// Every sub-indication, in the order of EN 319 102-1 Table 5 as listed above.
    pub const ALL: [SubIndication; 19] = [
        Self::FormatFailure,
        Self::HashFailure,
        Self::SigCryptoFailure,
        Self::Revoked,
        Self::Expired,
        Self::NotYetValid,
        Self::SigConstraintsFailure,
        Self::ChainConstraintsFailure,
        Self::CertificateChainGeneralFailure,
        Self::CryptoConstraintsFailure,
        Self::CryptoConstraintsFailureNoPoe,
        Self::NoSigningCertificateFound,
        Self::NoCertificateChainFound,
        Self::RevokedNoPoe,
        Self::RevokedCaNoPoe,
        Self::OutOfBoundsNoPoe,
        Self::OutOfBoundsNotRevoked,
        Self::TryLater,
        Self::SignedDataNotFound,
    ];

    /// The indication this sub-indication belongs to (EN 319 102-1 Table 5).
    pub fn indication(self) -> Indication {
        use SubIndication::*;
        match self {
            FormatFailure | HashFailure | SigCryptoFailure | Revoked | Expired | NotYetValid => {
                Indication::TotalFailed
            }
            _ => Indication::Indeterminate,
        }
    }
}

/// How one check ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// The check passed.
    Passed,
    /// The check failed; `sub_indication` says what it means for the signature.
    Failed,
    /// The check passed with a reservation worth reading (e.g. no revocation source).
    Warning,
    /// The check could not run because an earlier one failed.
    Skipped,
}

/// One check of one signature.
#[derive(Clone, Debug, Serialize)]
pub struct Check {
    /// What was checked (`message_digest`, `signature_value`, `certificate_chain`...).
    pub name: &'static str,
    /// How it ended.
    pub outcome: Outcome,
    /// What a failure means, per EN 319 102-1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub_indication: Option<SubIndication>,
    /// A human-readable explanation.
    pub detail: String,
}

impl Check {
    pub(crate) fn passed(name: &'static str, detail: impl Into<String>) -> Self {
        Self::new(name, Outcome::Passed, None, detail)
    }
    pub(crate) fn warning(name: &'static str, detail: impl Into<String>) -> Self {
        Self::new(name, Outcome::Warning, None, detail)
    }
    pub(crate) fn skipped(name: &'static str, detail: impl Into<String>) -> Self {
        Self::new(name, Outcome::Skipped, None, detail)
    }
    pub(crate) fn failed(
        name: &'static str,
        sub: SubIndication,
        detail: impl Into<String>,
    ) -> Self {
        Self::new(name, Outcome::Failed, Some(sub), detail)
    }
    fn new(
        name: &'static str,
        outcome: Outcome,
        sub_indication: Option<SubIndication>,
        detail: impl Into<String>,
    ) -> Self {
        Check {
            name,
            outcome,
            sub_indication,
            detail: detail.into(),
        }
    }
}

/// Who a certificate names, for people reading the report.
#[derive(Clone, Debug, Serialize)]
pub struct CertSummary {
    /// Subject distinguished name (RFC 4514).
    pub subject: String,
    /// Serial number, hexadecimal.
    pub serial: String,
    /// Issuer distinguished name (RFC 4514).
    pub issuer: String,
    /// notBefore, RFC 3339.
    pub not_before: String,
    /// notAfter, RFC 3339.
    pub not_after: String,
}

impl CertSummary {
    pub(crate) fn of(cert: &Certificate) -> Self {
        let tbs = &cert.tbs_certificate;
        CertSummary {
            subject: tbs.subject.to_string(),
            serial: hex(tbs.serial_number.as_bytes()),
            issuer: tbs.issuer.to_string(),
            not_before: tbs.validity.not_before.to_string(),
            not_after: tbs.validity.not_after.to_string(),
        }
    }
}

/// The signature timestamp (RFC 3161 token in id-aa-signatureTimeStampToken), if present.
#[derive(Clone, Debug, Serialize)]
pub struct TimestampReport {
    /// genTime of the token, RFC 3339.
    pub time: Option<String>,
    /// The time-stamping authority's certificate.
    pub tsa: Option<CertSummary>,
    /// Whether the token is a valid proof of existence of the signature at `time`.
    pub valid: bool,
    /// Why it is or is not.
    pub detail: String,
}

/// Where a PDF signature sits and what it covers.
#[derive(Clone, Debug, Serialize)]
pub struct PdfCoverage {
    /// The `/ByteRange` as written.
    pub byte_range: [usize; 4],
    /// `/SubFilter` of the signature dictionary.
    pub sub_filter: Option<String>,
    /// False when later incremental updates were appended after this signature.
    pub covers_whole_file: bool,
}

/// The validation of one signature.
#[derive(Clone, Debug, Serialize)]
pub struct SignatureReport {
    /// The verdict for this signature.
    pub indication: Indication,
    /// Why, unless TOTAL_PASSED.
    pub sub_indication: Option<SubIndication>,
    /// One sentence for people.
    pub reason: String,
    /// The signing certificate, if identified.
    pub signer: Option<CertSummary>,
    /// The signing-time attribute (a claim of the signer, not a proof), RFC 3339.
    pub claimed_signing_time: Option<String>,
    /// The time the certificate checks were made at: the timestamp's time when a valid
    /// signature timestamp proves the signature existed then, else the validation time.
    pub best_signature_time: String,
    /// The signature timestamp, if any.
    pub timestamp: Option<TimestampReport>,
    /// The chain from the signing certificate to the trust anchor, if one was found.
    pub chain: Vec<CertSummary>,
    /// For PDF signatures: the byte range and whether it covers the whole current file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pdf: Option<PdfCoverage>,
    /// Every check, in the order run.
    pub checks: Vec<Check>,
}

impl SignatureReport {
    /// An empty report whose certificate checks are made at `best_time`; [`Self::conclude`]
    /// sets the verdict once the checks are in.
    pub(crate) fn at(best_time: SystemTime) -> Self {
        SignatureReport {
            indication: Indication::Indeterminate,
            sub_indication: None,
            reason: String::new(),
            signer: None,
            claimed_signing_time: None,
            best_signature_time: rfc3339(best_time),
            timestamp: None,
            chain: Vec::new(),
            pdf: None,
            checks: Vec::new(),
        }
    }

    /// The verdict from `checks`: a proven failure (TOTAL_FAILED) outranks a doubt
    /// (INDETERMINATE), as EN 319 102-1 §5.3.4 has the cryptographic verification's failure
    /// outrank an indeterminate chain; within a rank, the first check in order decides.
    pub(crate) fn conclude(&mut self) {
        let first = |indication: Indication| {
            self.checks.iter().find(|c| {
                c.outcome == Outcome::Failed
                    && c.sub_indication.map(SubIndication::indication) == Some(indication)
            })
        };
        let decided = first(Indication::TotalFailed).or_else(|| first(Indication::Indeterminate));
        match decided {
            Some(check) => {
                self.sub_indication = check.sub_indication;
                self.indication = check
                    .sub_indication
                    .map_or(Indication::Indeterminate, SubIndication::indication);
                self.reason = check.detail.clone();
            }
            None => {
                self.indication = Indication::TotalPassed;
                self.sub_indication = None;
                self.reason = "the signature is valid".into();
            }
        }
    }
}

/// What was validated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InputKind {
    /// A document and a detached CMS signature.
    Detached,
    /// A CMS SignedData holding its content.
    Attached,
    /// A PDF with embedded signatures.
    Pdf,
}

/// The result of [`validate`](super::validate): the overall verdict and every signature's.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// The overall verdict: TOTAL_PASSED only when every signature passed; otherwise that of
    /// the first signature that failed (TOTAL_FAILED before INDETERMINATE).
    pub indication: Indication,
    /// Why, unless TOTAL_PASSED.
    pub sub_indication: Option<SubIndication>,
    /// One sentence for people.
    pub reason: String,
    /// What kind of input this was.
    pub kind: InputKind,
    /// The time validation was made at, RFC 3339.
    pub validation_time: String,
    /// One entry per signature found.
    pub signatures: Vec<SignatureReport>,
}

impl Report {
    /// A report for input that could not be read at all.
    pub(crate) fn format_failure(
        kind: InputKind,
        at: SystemTime,
        reason: impl Into<String>,
    ) -> Self {
        Report {
            indication: Indication::TotalFailed,
            sub_indication: Some(SubIndication::FormatFailure),
            reason: reason.into(),
            kind,
            validation_time: rfc3339(at),
            signatures: Vec::new(),
        }
    }

    pub(crate) fn of(kind: InputKind, at: SystemTime, signatures: Vec<SignatureReport>) -> Self {
        if signatures.is_empty() {
            return Report::format_failure(kind, at, "no signature was found");
        }
        let first =
            |indication: Indication| signatures.iter().position(|s| s.indication == indication);
        let decided = first(Indication::TotalFailed).or_else(|| first(Indication::Indeterminate));
        let (indication, sub_indication, reason) = match decided.and_then(|i| signatures.get(i)) {
            Some(s) => {
                let which = if signatures.len() > 1 {
                    format!("signature {}: ", decided.unwrap_or(0) + 1)
                } else {
                    String::new()
                };
                (
                    s.indication,
                    s.sub_indication,
                    format!("{which}{}", s.reason),
                )
            }
            None => (
                Indication::TotalPassed,
                None,
                if signatures.len() == 1 {
                    "the signature is valid".to_owned()
                } else {
                    format!("all {} signatures are valid", signatures.len())
                },
            ),
        };
        Report {
            indication,
            sub_indication,
            reason,
            kind,
            validation_time: rfc3339(at),
            signatures,
        }
    }
}

/// RFC 3339 in UTC, or the Unix seconds when the time cannot be expressed as a date.
pub(crate) fn rfc3339(t: SystemTime) -> String {
    match der::DateTime::from_system_time(t) {
        Ok(dt) => dt.to_string(),
        Err(_) => format!(
            "{}s",
            t.duration_since(SystemTime::UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        ),
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
