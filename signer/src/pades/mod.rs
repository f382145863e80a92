//! PAdES signatures (ETSI EN 319 142-1) at baseline levels B-B and B-T.
//!
//! Rules enforced here:
//! - the original bytes are never changed: the signature comes in one incremental update
//!   (ISO 32000-1 §7.5.6), so the input is a byte-for-byte prefix of the output;
//! - the signature dictionary has `/Filter /Adobe.PPKLite`, `/SubFilter /ETSI.CAdES.detached`,
//!   the signing time in `/M`, and `/ByteRange` covering the whole file except the `/Contents`
//!   hex string (EN 319 142-1, ISO 32000-1 §12.8.1);
//! - `/Contents` holds a detached CAdES signature over those byte ranges with no signingTime
//!   attribute (EN 319 142-1 baseline), timestamped for B-T, zero-padded to the reserved size;
//! - encrypted PDFs and files that are not PDFs are refused with a typed error.

mod fields;
mod original;
mod serialize;
mod update;

use crate::cades::{self, CadesError, SignerHandle};
use crate::timestamp::TimestampSource;
use der::DateTime;
use original::Original;
use sha2::{Digest, Sha256};
use signature::{SignatureEncoding, Signer};
use spki::DynSignatureAlgorithmIdentifier;
use std::io::Write;
use std::time::SystemTime;
use update::Body;
use x509_cert::der::Encode;

/// Room for the CMS beyond the certificates: attributes, signature, structure.
const BASE_RESERVE: usize = 4096;
/// Room for a timestamp token, which carries the TSA's signature and usually its certificates.
const TIMESTAMP_RESERVE: usize = 12288;
/// Width kept for `/ByteRange [...]`: four numbers of up to ten digits.
const BYTE_RANGE_WIDTH: usize = 4 * 11 + 2;

/// Why a PDF could not be signed.
#[derive(Debug, thiserror::Error)]
pub enum PadesError {
    /// The input is not a PDF that can be read.
    #[error("the file is not a readable PDF")]
    NotPdf(#[source] Option<lopdf::Error>),
    /// The PDF is encrypted; signing it would need its keys.
    #[error("the PDF is encrypted")]
    Encrypted,
    /// The PDF parses but lacks or misuses a structure signing needs.
    #[error("the PDF is malformed: {0}")]
    Malformed(&'static str),
    /// The CMS signature could not be made.
    #[error(transparent)]
    Cades(#[from] CadesError),
}

/// Signs `pdf` (B-B, or B-T when `tsa` is given) and returns the signed file.
pub fn sign_pdf<K, S>(
    pdf: &[u8],
    signer: &SignerHandle<K>,
    signing_time: SystemTime,
    tsa: Option<&dyn TimestampSource>,
) -> Result<Vec<u8>, PadesError>
where
    K: Signer<S> + DynSignatureAlgorithmIdentifier,
    S: SignatureEncoding,
{
    let original = Original::read(pdf)?;
    let certs_len = std::iter::once(&signer.cert)
        .chain(&signer.chain)
        .map(|cert| cert.encoded_len().map(usize::try_from))
        .try_fold(0usize, |sum, len| {
            Ok::<_, der::Error>(sum + len?.unwrap_or(0))
        })
        .map_err(CadesError::from)?;
    let mut reserve = certs_len + BASE_RESERVE + if tsa.is_some() { TIMESTAMP_RESERVE } else { 0 };
    // A second try only when the first signature outgrew its room (a large timestamp token).
    for _ in 0..2 {
        let (mut out, contents) = prepare(pdf, &original, signing_time, reserve)?;
        let mut hasher = Sha256::new();
        hasher.update(&out[..contents.start]);
        hasher.update(&out[contents.end..]);
        let cms = cades::sign_digest_without_time(&hasher.finalize(), signer, tsa)?;
        if cms.len() > reserve {
            reserve = cms.len() + BASE_RESERVE;
            continue;
        }
        let mut hex = Vec::with_capacity(cms.len() * 2);
        for b in &cms {
            let _ = write!(hex, "{b:02X}");
        }
        out[contents.start + 1..contents.start + 1 + hex.len()].copy_from_slice(&hex);
        return Ok(out);
    }
    Err(PadesError::Malformed(
        "the signature does not fit its reserved room",
    ))
}

/// The update with a zeroed `/Contents` of `reserve` bytes and the final `/ByteRange`; returns
/// the file and the range of the `/Contents` hex string, angle brackets included.
fn prepare(
    pdf: &[u8],
    original: &Original,
    signing_time: SystemTime,
    reserve: usize,
) -> Result<(Vec<u8>, std::ops::Range<usize>), PadesError> {
    let field_id = (original.next_id, 0);
    let sig_id = (original.next_id + 1, 0);
    let xref_stream_id = original.next_id + 2;
    let sig = signature_dictionary(signing_time, reserve)?;
    let (byte_range_in_sig, contents_in_sig) = (sig.byte_range_at, sig.contents);
    let mut bodies = vec![Body {
        id: sig_id,
        bytes: sig.bytes,
    }];
    for (id, object) in fields::add_signature_field(original, field_id, sig_id)? {
        bodies.push(update::body_of(id, &object)?);
    }
    let mut out = pdf.to_vec();
    let offsets = update::append(&mut out, original, &bodies, xref_stream_id)?;
    let sig_at = offsets.first().copied().unwrap_or(0);
    let contents = sig_at + contents_in_sig.start..sig_at + contents_in_sig.end;
    let byte_range = format!(
        "[0 {} {} {}]",
        contents.start,
        contents.end,
        out.len() - contents.end
    );
    let byte_range = format!("{byte_range:<BYTE_RANGE_WIDTH$}");
    out[sig_at + byte_range_in_sig..sig_at + byte_range_in_sig + BYTE_RANGE_WIDTH]
        .copy_from_slice(byte_range.as_bytes());
    Ok((out, contents))
}

/// The `/Sig` dictionary body with placeholders.
struct SigDictionary {
    bytes: Vec<u8>,
    /// Where `/ByteRange`'s array starts in `bytes`.
    byte_range_at: usize,
    /// Where `/Contents`' hex string is in `bytes`, angle brackets included.
    contents: std::ops::Range<usize>,
}

fn signature_dictionary(
    signing_time: SystemTime,
    reserve: usize,
) -> Result<SigDictionary, PadesError> {
    let time = DateTime::from_system_time(signing_time)
        .map_err(|_| PadesError::Malformed("a signing time PDF cannot express"))?;
    let mut sig = Vec::with_capacity(reserve * 2 + 256);
    let _ = write!(
        sig,
        "<</Type /Sig /Filter /Adobe.PPKLite /SubFilter /ETSI.CAdES.detached \
         /M (D:{:04}{:02}{:02}{:02}{:02}{:02}+00'00') /ByteRange ",
        time.year(),
        time.month(),
        time.day(),
        time.hour(),
        time.minutes(),
        time.seconds()
    );
    let byte_range_at = sig.len();
    sig.extend_from_slice(format!("{:<BYTE_RANGE_WIDTH$}", "[0 0 0 0]").as_bytes());
    sig.extend_from_slice(b" /Contents ");
    let contents_start = sig.len();
    sig.push(b'<');
    sig.resize(sig.len() + reserve * 2, b'0');
    sig.push(b'>');
    let contents = contents_start..sig.len();
    sig.extend_from_slice(b">>");
    Ok(SigDictionary {
        bytes: sig,
        byte_range_at,
        contents,
    })
}
