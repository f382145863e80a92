//! Signature validation with ETSI EN 319 102-1 verdicts: CAdES / CMS signatures (detached or
//! attached) and PAdES / PDF signatures, each judged `TOTAL_PASSED`, `TOTAL_FAILED` or
//! `INDETERMINATE` with a sub-indication, in a serialisable [`Report`].
//!
//! ```no_run
//! # async fn example(document: &[u8], signature: &[u8], root_der: Vec<u8>) {
//! use signer::validate::{validate, Input, Policy};
//! let policy = Policy::new(vec![root_der]);
//! let report = validate(Input::Detached { document, signature }, &policy).await;
//! println!("{}", serde_json::to_string(&report).unwrap_or_default());
//! # }
//! ```
//!
//! What is checked, per signature: the signing certificate is identified and bound by the
//! signing-certificate(-v2) attribute; message-digest matches the content (hashed once, in
//! place); the signature verifies (ECDSA P-256/P-384, RSA PKCS#1 v1.5 and PSS, Ed25519); the
//! algorithms are accepted ([`AlgorithmConstraints`]); a signature timestamp, when present and
//! valid, is the proof of existence the certificate checks are made at; the key usage allows
//! signing; the chain reaches a trust anchor with proper CA certificates; no certificate of
//! the chain is revoked ([`RevocationSource`]); every certificate is within its validity
//! period. For PDFs, every signature's `/ByteRange` must cover the file but its `/Contents`,
//! and the report says whether it covers the whole current file.
//!
//! A timestamp's TSA is checked the same way, revocation included. What one
//! validation verified is reused by the next under a policy sharing its [`ValidationCache`]
//! (parsed anchors while the set is unchanged, links of chains that reached an anchor).
//!
//! Input that cannot be read (malformed DER or PDF, over [`Policy::max_input_bytes`]) gives
//! `TOTAL_FAILED` / `FORMAT_FAILURE`, never a panic.

mod cache;
mod chain;
mod cms;
mod crypto;
mod pdf;
mod report;
pub mod revocation;
mod signature;
mod signer_info;
mod tst;

pub use cache::ValidationCache;
pub use crypto::AlgorithmConstraints;
pub use report::{
    CertSummary, Check, Indication, InputKind, Outcome, PdfCoverage, Report, SignatureReport,
    SubIndication, TimestampReport,
};
pub use revocation::{
    HttpRevocation, MemoryRevocation, NoRevocation, RevocationSource, RevocationStatus,
    MAX_HELD_BYTES, RETRY_AFTER_FAILURE,
};

use cms::CertEntry;
use const_oid::db::rfc5911::ID_DATA;
use signer_info::Covered;
use std::borrow::Cow;
use std::sync::Arc;
use std::time::SystemTime;

/// The most signatures one input may carry: each one is hashed over the document, so the
/// count bounds the work an input can ask for.
const MAX_SIGNATURES: usize = 32;

/// What to validate.
#[derive(Clone, Copy, Debug)]
pub enum Input<'a> {
    /// A document and its detached CMS signature (DER or PEM).
    Detached {
        /// The signed document.
        document: &'a [u8],
        /// The CMS `ContentInfo` (DER, or PEM labelled CMS or PKCS7).
        signature: &'a [u8],
    },
    /// A CMS SignedData that holds its content (DER or PEM).
    Attached {
        /// The CMS `ContentInfo`.
        cms: &'a [u8],
    },
    /// A PDF with one or more signatures.
    Pdf {
        /// The whole file.
        bytes: &'a [u8],
    },
}

impl<'a> Input<'a> {
    /// Picks the kind from the bytes: a signature given means detached; else DER (a SEQUENCE)
    /// or PEM is an attached CMS, even when the PDF it signs shows through; a file with the
    /// `%PDF-` header is a PDF; anything else is taken for an attached CMS (and fails as one).
    pub fn detect(document: &'a [u8], signature: Option<&'a [u8]>) -> Self {
        match signature {
            Some(signature) => Input::Detached {
                document,
                signature,
            },
            None if !looks_like_cms(document) && is_pdf(document) => Input::Pdf { bytes: document },
            None => Input::Attached { cms: document },
        }
    }

    fn kind(&self) -> InputKind {
        match self {
            Input::Detached { .. } => InputKind::Detached,
            Input::Attached { .. } => InputKind::Attached,
            Input::Pdf { .. } => InputKind::Pdf,
        }
    }

    fn len(&self) -> usize {
        match self {
            Input::Detached {
                document,
                signature,
            } => document.len().saturating_add(signature.len()),
            Input::Attached { cms } => cms.len(),
            Input::Pdf { bytes } => bytes.len(),
        }
    }
}

fn looks_like_cms(bytes: &[u8]) -> bool {
    bytes.first() == Some(&0x30) || bytes.trim_ascii_start().starts_with(b"-----BEGIN")
}

/// The `%PDF-` header, which ISO 32000-1 §7.5.2 allows within the first 1024 bytes.
fn is_pdf(bytes: &[u8]) -> bool {
    let head = bytes.get(..bytes.len().min(1024)).unwrap_or_default();
    head.windows(5).any(|w| w == b"%PDF-")
}

/// What validation trusts and accepts.
#[derive(Clone)]
pub struct Policy {
    /// Trust anchors, DER certificates (vhod's root, roots an operator added). Certificates
    /// that do not parse are ignored.
    pub trust_anchors: Vec<Vec<u8>>,
    /// Further intermediate CA certificates (DER) for chains the signatures do not carry.
    pub intermediates: Vec<Vec<u8>>,
    /// Where revocation statuses come from.
    pub revocation: Arc<dyn RevocationSource>,
    /// The time validation is made at ("now" in EN 319 102-1 terms); `None` for the moment
    /// [`validate`] is called, so one policy can serve for a long time.
    pub validation_time: Option<SystemTime>,
    /// Accepted algorithms and key sizes.
    pub algorithms: AlgorithmConstraints,
    /// Inputs larger than this (document and signature together) are refused.
    pub max_input_bytes: usize,
    /// What validations under this policy (or others sharing the cache) reuse: parsed
    /// anchors while they are the same, certificate links already verified.
    pub cache: Arc<ValidationCache>,
}

impl Policy {
    /// Trusting `trust_anchors`, asking revocation over HTTP ([`HttpRevocation`]), at the
    /// time of each validation, with the default constraints and a 64 MiB input limit.
    pub fn new(trust_anchors: Vec<Vec<u8>>) -> Self {
        Policy {
            trust_anchors,
            intermediates: Vec::new(),
            revocation: Arc::new(HttpRevocation::default()),
            validation_time: None,
            algorithms: AlgorithmConstraints::default(),
            max_input_bytes: 64 * 1024 * 1024,
            cache: Arc::new(ValidationCache::new()),
        }
    }
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field("trust_anchors", &self.trust_anchors.len())
            .field("intermediates", &self.intermediates.len())
            .field("validation_time", &self.validation_time)
            .field("algorithms", &self.algorithms)
            .field("max_input_bytes", &self.max_input_bytes)
            .finish_non_exhaustive()
    }
}

/// The policy with its certificates parsed (once, while they stay the same).
pub(crate) struct Ctx<'a> {
    pub policy: &'a Policy,
    /// The validation time.
    pub now: SystemTime,
    pub anchors: Arc<Vec<CertEntry>>,
    pub intermediates: Arc<Vec<CertEntry>>,
}

/// Validates `input` under `policy` and reports every signature found.
pub async fn validate(input: Input<'_>, policy: &Policy) -> Report {
    let kind = input.kind();
    let at = policy.validation_time.unwrap_or_else(SystemTime::now);
    if input.len() > policy.max_input_bytes {
        return Report::format_failure(
            kind,
            at,
            format!(
                "the input exceeds the limit of {} bytes",
                policy.max_input_bytes
            ),
        );
    }
    let ctx = Ctx {
        policy,
        now: at,
        anchors: policy.cache.anchors(&policy.trust_anchors),
        intermediates: policy.cache.intermediates(&policy.intermediates),
    };
    match input {
        Input::Detached {
            document,
            signature,
        } => cms_input(kind, &unpem(signature), Some(document), &ctx).await,
        Input::Attached { cms } => cms_input(kind, &unpem(cms), None, &ctx).await,
        Input::Pdf { bytes } => pdf_input(bytes, &ctx).await,
    }
}

/// The DER inside a PEM block (any label: CMS, PKCS7), or the bytes as they are.
fn unpem(bytes: &[u8]) -> Cow<'_, [u8]> {
    let text = bytes.trim_ascii_start();
    if text.starts_with(b"-----BEGIN") {
        if let Ok((_, der)) = der::pem::decode_vec(text) {
            return Cow::Owned(der);
        }
    }
    Cow::Borrowed(bytes)
}

async fn cms_input(kind: InputKind, der: &[u8], document: Option<&[u8]>, ctx: &Ctx<'_>) -> Report {
    let at = ctx.now;
    let signed = match cms::parse(der) {
        Ok(signed) => signed,
        Err(e) => {
            return Report::format_failure(
                kind,
                at,
                format!("the signature is not CMS SignedData: {e}"),
            )
        }
    };
    let content = match (document, signed.econtent) {
        (Some(_), Some(_)) => {
            return Report::format_failure(
                kind,
                at,
                "a document was given for a signature that holds its own content",
            )
        }
        (Some(doc), None) | (None, Some(doc)) => Some(doc),
        (None, None) => None,
    };
    let parts: [&[u8]; 1] = [content.unwrap_or_default()];
    let covered = match content {
        Some(_) => Covered::Parts(&parts),
        None => Covered::Missing,
    };
    if signed.signers.len() > MAX_SIGNATURES {
        return Report::format_failure(
            kind,
            at,
            format!("the signature has more than {MAX_SIGNATURES} signers"),
        );
    }
    let mut reports = Vec::with_capacity(signed.signers.len());
    for entry in &signed.signers {
        reports.push(signature::validate(entry, &signed, covered, ctx).await);
    }
    Report::of(kind, at, reports)
}

async fn pdf_input(bytes: &[u8], ctx: &Ctx<'_>) -> Report {
    let at = ctx.now;
    if !is_pdf(bytes) {
        return Report::format_failure(InputKind::Pdf, at, "the file is not a PDF");
    }
    let found = pdf::signatures(bytes);
    if found.is_empty() {
        return Report::format_failure(InputKind::Pdf, at, "the PDF has no signature");
    }
    if found.len() > MAX_SIGNATURES {
        return Report::format_failure(
            InputKind::Pdf,
            at,
            format!("the PDF has more than {MAX_SIGNATURES} signatures"),
        );
    }
    let mut reports = Vec::with_capacity(found.len());
    for sig in &found {
        let coverage = PdfCoverage {
            byte_range: sig.byte_range,
            sub_filter: sig.sub_filter.clone(),
            covers_whole_file: sig.byte_range[2] + sig.byte_range[3] == bytes.len(),
        };
        let mut report = pdf_signature(sig, ctx).await;
        report.pdf = Some(coverage);
        reports.push(report);
    }
    Report::of(InputKind::Pdf, at, reports)
}

async fn pdf_signature(sig: &pdf::PdfSignature<'_>, ctx: &Ctx<'_>) -> SignatureReport {
    let failure = |why: String| {
        let mut report = SignatureReport::at(ctx.now);
        report.checks = vec![Check::failed("format", SubIndication::FormatFailure, why)];
        report.conclude();
        report
    };
    match sig.sub_filter.as_deref() {
        Some("ETSI.CAdES.detached" | "adbe.pkcs7.detached") | None => {}
        Some("ETSI.RFC3161") => return document_timestamp(sig, ctx).await,
        Some(other) => {
            return failure(format!(
                "signatures of /SubFilter /{other} are not supported"
            ))
        }
    }
    let signed = match cms::parse(&sig.contents) {
        Ok(signed) => signed,
        Err(e) => return failure(format!("/Contents is not CMS SignedData: {e}")),
    };
    if signed.econtent_type == crate::oids::ID_CT_TST_INFO {
        // A timestamp token under another /SubFilter: still a document timestamp.
        return document_timestamp(sig, ctx).await;
    }
    if signed.econtent.is_some() || signed.econtent_type != ID_DATA {
        return failure("a PDF signature must be detached CMS over id-data".into());
    }
    let [signer] = signed.signers.as_slice() else {
        return failure("a PDF signature must have exactly one signer".into());
    };
    signature::validate(signer, &signed, Covered::Parts(&sig.parts), ctx).await
}

/// A document timestamp (ETSI EN 319 142-1 §5.4, `/Type /DocTimeStamp`): an RFC 3161 token
/// whose imprint covers the byte ranges, its TSA's certificates checked for revocation at the
/// validation time ([`tst`]).
async fn document_timestamp(sig: &pdf::PdfSignature<'_>, ctx: &Ctx<'_>) -> SignatureReport {
    let stamp = tst::check(&sig.contents, &sig.parts, &ctx.intermediates, ctx).await;
    let at = stamp.proof.as_ref().ok().copied();
    let mut report = SignatureReport::at(at.unwrap_or(ctx.now));
    report.signer = stamp.report.tsa.clone();
    report.checks = vec![match &stamp.proof {
        Ok(_) => Check::passed("document_timestamp", &stamp.report.detail),
        Err((sub, why)) => Check::failed("document_timestamp", *sub, why),
    }];
    report.timestamp = Some(stamp.report);
    report.conclude();
    report
}
