//! `signer::validate` against signatures made by vhod, by `openssl cms -sign` and by pyHanko,
//! with the test PKI's root as trust anchor: valid ones are TOTAL_PASSED; an untrusted root,
//! one altered byte, another document, an expired or revoked signer (the CRL served over a
//! real local HTTP socket at the certificate's distribution point), RSA-1024 and SHA-1, and
//! garbage each get the EN 319 102-1 verdict they call for.

// Test code: a failed expectation is a failed test.
#![allow(clippy::expect_used)]
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly at the first broken expectation"
)]

#[path = "../common/mod.rs"]
mod common;

mod cache;
mod cms;
mod garbage;
mod pdf;
mod revocation;
mod tsa_revocation;
mod vhod_ca;

use common::{openssl_ok, read, Pki};
use signer::validate::{
    validate, Indication, Input, MemoryRevocation, Policy, Report, SubIndication,
};
use std::path::Path;
use std::sync::Arc;
use x509_cert::der::{DecodePem, Encode};

pub type EcSig = p256::ecdsa::DerSignature;
pub type RsaSig = rsa::pkcs1v15::Signature;

pub const DOCUMENT: &[u8] = b"A contract between the citizen and the service.\n";

pub fn der_of(dir: &Path, pem_file: &str) -> Vec<u8> {
    x509_cert::Certificate::from_pem(read(dir, pem_file))
        .unwrap()
        .to_der()
        .unwrap()
}

/// Trusting the PKI's root; revocation from memory (the test PKI publishes none).
pub fn policy(pki: &Pki) -> Policy {
    let mut policy = Policy::new(vec![der_of(pki.dir.path(), "root.pem")]);
    policy.revocation = Arc::new(MemoryRevocation::new());
    policy
}

pub fn assert_verdict(report: &Report, indication: Indication, sub: Option<SubIndication>) {
    let json = serde_json::to_string_pretty(report).unwrap();
    assert_eq!(
        (report.indication, report.sub_indication),
        (indication, sub),
        "{json}"
    );
    let value: serde_json::Value = serde_json::from_str(&json).unwrap();
    let expected = serde_json::to_value(indication).unwrap();
    assert_eq!(value["indication"], expected, "JSON top level: {json}");
}

pub fn passed(report: &Report) {
    assert_verdict(report, Indication::TotalPassed, None);
}

/// Asserts `sub` and the indication EN 319 102-1 puts it under.
pub fn fails(report: &Report, sub: SubIndication) {
    assert_verdict(report, sub.indication(), Some(sub));
}

/// Validates `document` with a detached `signature`, or `document` alone.
pub async fn check(document: &[u8], signature: Option<&[u8]>, policy: &Policy) -> Report {
    validate(Input::detect(document, signature), policy).await
}

/// `openssl cms -sign` in `dir` of `document` by `name` (cert `{name}.pem`, key
/// `{name}.key`); `extra` adds flags (`-nodetach`, `-md sha1`...). Returns the DER signature.
pub fn cms_sign(dir: &Path, name: &str, document: &[u8], extra: &[&str]) -> Vec<u8> {
    std::fs::write(dir.join("doc.bin"), document).unwrap();
    let (cert, key) = (format!("{name}.pem"), format!("{name}.key"));
    let args = [
        "cms", "-sign", "-binary", "-in", "doc.bin", "-signer", &cert, "-inkey", &key,
    ];
    let out = ["-outform", "DER", "-out", "sig.der"];
    openssl_ok(dir, &[&args[..], &out, extra].concat());
    read(dir, "sig.der")
}

/// [`cms_sign`] by a signer of the test PKI, carrying the chain.
pub fn openssl_sign(pki: &Pki, name: &str, document: &[u8], extra: &[&str]) -> Vec<u8> {
    let chain = ["-certfile", "chain.pem"];
    cms_sign(
        pki.dir.path(),
        name,
        document,
        &[&chain[..], extra].concat(),
    )
}

/// Issues `{name}.pem` for a new key of `keygen` from the intermediate with signer extensions.
pub fn issue_signer(pki: &Pki, name: &str, keygen: &[&str], serial: &str) {
    let key = format!("{name}.key");
    openssl_ok(
        pki.dir.path(),
        &[&["genpkey"][..], keygen, &["-out", &key]].concat(),
    );
    pki.issue(
        name,
        "/CN=Weak Signer",
        "intermediate",
        "signer_ext",
        serial,
    );
}

pub fn new_p256_key(dir: &Path, file: &str) {
    let args = [
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
    ];
    openssl_ok(dir, &[&args[..], &["-out", file]].concat());
}

pub fn flip_byte(bytes: &[u8], at: usize) -> Vec<u8> {
    let mut changed = bytes.to_vec();
    changed[at] ^= 0x01;
    changed
}
