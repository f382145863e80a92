//! CAdES output (ETSI EN 319 122-1 B-B and B-T) checked by OpenSSL: `openssl cms -verify`
//! with the test root as the only trust anchor accepts it detached and attached, ECDSA and
//! RSA, and rejects it after a one-byte change; `openssl ts -verify` accepts the signature
//! timestamp against the signature value.

// Test code: a failed expectation is a failed test.
#![allow(clippy::expect_used)]
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly at the first broken expectation"
)]

mod common;

use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use common::{openssl, openssl_ok, Pki};
use der::{Decode, Encode};
use signer::cades::{self, Packaging};
use signer::{CadesError, SignerHandle, TimestampError, TimestampSource};
use std::path::Path;
use std::time::SystemTime;

const DOCUMENT: &[u8] = b"%PDF-1.7 not really, but any bytes: \x00\x01\xfe\xff\n";

type EcKey = p256::ecdsa::SigningKey;
type EcSig = p256::ecdsa::DerSignature;
type RsaKey = rsa::pkcs1v15::SigningKey<sha2::Sha256>;
type RsaSig = rsa::pkcs1v15::Signature;

/// `openssl cms -verify` of `sig.der` (with `doc.bin` as content when given).
fn openssl_verify(dir: &Path, detached_content: bool) -> (bool, String) {
    let mut args = vec![
        "cms", "-verify", "-binary", "-inform", "DER", "-in", "sig.der", "-CAfile", "root.pem",
        "-purpose", "any", "-out", "out.bin",
    ];
    if detached_content {
        args.extend(["-content", "doc.bin"]);
    }
    let out = openssl(dir, &args);
    let text = String::from_utf8_lossy(&out.stderr).into_owned();
    (
        out.status.success() && text.contains("Verification successful"),
        text,
    )
}

fn write(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::write(dir.join(name), bytes).unwrap();
}

fn check_round_trip(pki: &Pki, cms: &[u8], packaging: Packaging) {
    let dir = pki.dir.path();
    write(dir, "sig.der", cms);
    write(dir, "doc.bin", DOCUMENT);
    let detached = packaging == Packaging::Detached;
    let (ok, text) = openssl_verify(dir, detached);
    assert!(ok, "OpenSSL rejected a good signature: {text}");
    assert_eq!(std::fs::read(dir.join("out.bin")).unwrap(), DOCUMENT);
    // One byte changed in what was signed must be caught.
    if detached {
        let mut changed = DOCUMENT.to_vec();
        changed[3] ^= 1;
        write(dir, "doc.bin", &changed);
    } else {
        let at = cms
            .windows(DOCUMENT.len())
            .position(|w| w == DOCUMENT)
            .expect("attached content is inside the CMS");
        let mut changed = cms.to_vec();
        changed[at + 3] ^= 1;
        write(dir, "sig.der", &changed);
    }
    let (ok, text) = openssl_verify(dir, detached);
    assert!(!ok, "OpenSSL accepted a changed document: {text}");
}

fn sign_ec(pki: &Pki, packaging: Packaging, tsa: Option<&dyn TimestampSource>) -> Vec<u8> {
    let signer: SignerHandle<EcKey> = pki.ec_signer();
    cades::sign::<_, EcSig>(DOCUMENT, packaging, &signer, SystemTime::now(), tsa).unwrap()
}

#[test]
fn detached_ecdsa_signature_is_verified_by_openssl() {
    let pki = Pki::new();
    check_round_trip(
        &pki,
        &sign_ec(&pki, Packaging::Detached, None),
        Packaging::Detached,
    );
}

#[test]
fn attached_ecdsa_signature_is_verified_by_openssl() {
    let pki = Pki::new();
    check_round_trip(
        &pki,
        &sign_ec(&pki, Packaging::Attached, None),
        Packaging::Attached,
    );
}

#[test]
fn rsa_signatures_detached_and_attached_are_verified_by_openssl() {
    let pki = Pki::new();
    let signer: SignerHandle<RsaKey> = pki.rsa_signer();
    for packaging in [Packaging::Detached, Packaging::Attached] {
        let cms = cades::sign::<_, RsaSig>(DOCUMENT, packaging, &signer, SystemTime::now(), None)
            .unwrap();
        check_round_trip(&pki, &cms, packaging);
    }
}

#[test]
fn signed_attributes_are_the_cades_baseline_ones() {
    let pki = Pki::new();
    let cms = sign_ec(&pki, Packaging::Detached, None);
    write(pki.dir.path(), "sig.der", &cms);
    let printed = openssl_ok(
        pki.dir.path(),
        &[
            "cms", "-cmsout", "-print", "-inform", "DER", "-in", "sig.der",
        ],
    );
    for attribute in [
        "contentType",
        "messageDigest",
        "signingTime",
        "id-smime-aa-signingCertificateV2",
    ] {
        assert!(printed.contains(attribute), "no {attribute} in {printed}");
    }
    // Signer, intermediate and root travel with the signature.
    for cn in [
        "Test Signer P-256",
        "vhod test intermediate",
        "vhod test root",
    ] {
        assert!(printed.contains(cn), "no certificate {cn} in {printed}");
    }
}

/// The SignerInfo's signature value and its signature-timestamp token.
fn signature_and_token(cms: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let info = ContentInfo::from_der(cms).unwrap();
    let signed: SignedData = info.content.decode_as().unwrap();
    let signer_info = signed.signer_infos.0.iter().next().unwrap().clone();
    let attrs = signer_info
        .unsigned_attrs
        .expect("B-T has unsigned attributes");
    let attr = attrs.iter().next().unwrap();
    assert_eq!(attr.oid.to_string(), "1.2.840.113549.1.9.16.2.14");
    let token = attr.values.iter().next().unwrap().to_der().unwrap();
    (signer_info.signature.as_bytes().to_vec(), token)
}

#[test]
fn cades_t_timestamp_covers_the_signature_value() {
    let pki = Pki::new();
    let tsa = pki.tsa();
    let cms = sign_ec(&pki, Packaging::Detached, Some(&tsa));
    check_round_trip(&pki, &cms, Packaging::Detached);
    let (signature, token) = signature_and_token(&cms);
    let dir = pki.dir.path();
    write(dir, "token.der", &token);
    write(dir, "signature.bin", &signature);
    let ts_verify = [
        "ts",
        "-verify",
        "-data",
        "signature.bin",
        "-in",
        "token.der",
        "-token_in",
        "-CAfile",
        "root.pem",
        "-untrusted",
        "chain.pem",
    ];
    let out = openssl(dir, &ts_verify);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && text.contains("Verification: OK"),
        "{text}"
    );
    let mut other = signature.clone();
    other[0] ^= 1;
    write(dir, "signature.bin", &other);
    let out = openssl(dir, &ts_verify);
    assert!(!out.status.success(), "a token verified against other data");
}

/// A TSA that timestamps something else than asked.
struct WrongDigest<'a>(&'a dyn TimestampSource);

impl TimestampSource for WrongDigest<'_> {
    fn timestamp(&self, digest: &[u8]) -> Result<Vec<u8>, TimestampError> {
        let mut other = digest.to_vec();
        other[0] ^= 1;
        self.0.timestamp(&other)
    }
}

/// A TSA that answers garbage.
struct Garbage;

impl TimestampSource for Garbage {
    fn timestamp(&self, _: &[u8]) -> Result<Vec<u8>, TimestampError> {
        Ok(b"\x30\x03\x02\x01".to_vec())
    }
}

#[test]
fn timestamp_tokens_over_other_data_or_malformed_are_refused() {
    let pki = Pki::new();
    let signer = pki.ec_signer();
    let tsa = pki.tsa();
    let now = SystemTime::now();
    let wrong = cades::sign::<_, EcSig>(
        DOCUMENT,
        Packaging::Detached,
        &signer,
        now,
        Some(&WrongDigest(&tsa)),
    );
    assert!(matches!(
        wrong,
        Err(CadesError::Timestamp(TimestampError::WrongImprint))
    ));
    let garbage =
        cades::sign::<_, EcSig>(DOCUMENT, Packaging::Detached, &signer, now, Some(&Garbage));
    assert!(matches!(
        garbage,
        Err(CadesError::Timestamp(TimestampError::Malformed(_)))
    ));
}
