//! PAdES output (ETSI EN 319 142-1 B-B and B-T) checked by pyHanko, which validates the
//! signature, the chain to the test root, the incremental update and the timestamp, and by
//! `openssl cms -verify` over the `/ByteRange` bytes; a one-byte change after signing must
//! make both reject it. Inputs that are not signable PDFs get typed errors.

// Test code: a failed expectation is a failed test.
#![allow(clippy::expect_used)]
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly at the first broken expectation"
)]

mod common;

use common::pdfs::{lopdf_pdf, reportlab_pdf};
use common::{openssl, openssl_ok, pyhanko_validate, Pki};
use signer::pades::sign_pdf;
use signer::{PadesError, TimestampSource};
use std::time::SystemTime;

type EcSig = p256::ecdsa::DerSignature;
type RsaSig = rsa::pkcs1v15::Signature;

fn sign_ec(pki: &Pki, pdf: &[u8], tsa: Option<&dyn TimestampSource>) -> Vec<u8> {
    let signed = sign_pdf::<_, EcSig>(pdf, &pki.ec_signer(), SystemTime::now(), tsa).unwrap();
    assert_eq!(&signed[..pdf.len()], pdf, "the original must stay a prefix");
    signed
}

/// The `/ByteRange` numbers and the `/Contents` bytes of the last signature in `pdf`.
fn byte_range_and_contents(pdf: &[u8]) -> ([usize; 4], Vec<u8>) {
    const KEY: &[u8] = b"/ByteRange [";
    let at = pdf.windows(KEY.len()).rposition(|w| w == KEY).unwrap() + KEY.len();
    let end = at + pdf[at..].iter().position(|b| *b == b']').unwrap();
    let numbers: Vec<usize> = std::str::from_utf8(&pdf[at..end])
        .unwrap()
        .split_whitespace()
        .map(|n| n.parse().unwrap())
        .collect();
    let range = [numbers[0], numbers[1], numbers[2], numbers[3]];
    assert_eq!(pdf[range[1]], b'<');
    assert_eq!(pdf[range[2] - 1], b'>');
    let hex = std::str::from_utf8(&pdf[range[1] + 1..range[2] - 1]).unwrap();
    let mut cms: Vec<u8> = (0..hex.len() / 2)
        .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).unwrap())
        .collect();
    // The zero padding after the DER.
    let der_len = der_length(&cms);
    cms.truncate(der_len);
    (range, cms)
}

fn der_length(der: &[u8]) -> usize {
    match der[1] {
        n if n < 0x80 => 2 + n as usize,
        n => {
            let len_bytes = (n & 0x7f) as usize;
            let len = der[2..2 + len_bytes]
                .iter()
                .fold(0, |a, b| a << 8 | *b as usize);
            2 + len_bytes + len
        }
    }
}

/// `openssl cms -verify` of the embedded CMS over the signed byte ranges.
fn openssl_accepts(pki: &Pki, pdf: &[u8]) -> bool {
    let (range, cms) = byte_range_and_contents(pdf);
    let content = [
        &pdf[range[0]..range[0] + range[1]],
        &pdf[range[2]..range[2] + range[3]],
    ]
    .concat();
    let dir = pki.dir.path();
    std::fs::write(dir.join("pdf.p7s"), cms).unwrap();
    std::fs::write(dir.join("ranges.bin"), content).unwrap();
    let out = openssl(
        dir,
        &"cms -verify -binary -inform DER -in pdf.p7s -content ranges.bin -CAfile root.pem -purpose any -out /dev/null"
            .split_whitespace()
            .collect::<Vec<_>>(),
    );
    out.status.success() && String::from_utf8_lossy(&out.stderr).contains("Verification successful")
}

fn validate(pki: &Pki, pdf: &[u8], name: &str) -> (bool, String) {
    let path = pki.dir.path().join(name);
    std::fs::write(&path, pdf).unwrap();
    pyhanko_validate(pki, &path)
}

/// pyHanko's verdict on `pdf`: every signature trusted, sound and valid.
fn assert_pyhanko_valid(pki: &Pki, pdf: &[u8], signatures: usize) -> String {
    let (ok, text) = validate(pki, pdf, "signed.pdf");
    assert!(ok, "pyHanko rejected the signature: {text}");
    for line in [
        "The signer's certificate is trusted.",
        "The signature is cryptographically sound.",
        "The signature is judged VALID.",
    ] {
        assert_eq!(text.matches(line).count(), signatures, "{line:?} in {text}");
    }
    text
}

/// Flips one bit of the first `needle` in `pdf`, which lies inside the signed ranges.
fn tampered(pdf: &[u8], needle: &[u8]) -> Vec<u8> {
    let at = pdf.windows(needle.len()).position(|w| w == needle).unwrap();
    let mut changed = pdf.to_vec();
    changed[at] ^= 1;
    changed
}

#[test]
fn b_b_on_a_classic_xref_table_pdf_is_valid_for_pyhanko_and_openssl() {
    let pki = Pki::new();
    let pdf = lopdf_pdf(false);
    assert!(pdf.windows(5).any(|w| w == b"\nxref"), "a classic table");
    let signed = sign_ec(&pki, &pdf, None);
    let text = assert_pyhanko_valid(&pki, &signed, 1);
    assert!(
        text.contains("The signature covers the entire file."),
        "{text}"
    );
    assert!(openssl_accepts(&pki, &signed));
    // PAdES baseline: no signingTime in the CMS, the certificate bound by ESS v2.
    let printed = openssl_ok(
        pki.dir.path(),
        &[
            "cms", "-cmsout", "-print", "-inform", "DER", "-in", "pdf.p7s",
        ],
    );
    assert!(!printed.contains("signingTime"), "{printed}");
    assert!(
        printed.contains("id-smime-aa-signingCertificateV2"),
        "{printed}"
    );
    assert!(signed.windows(19).any(|w| w == b"/ETSI.CAdES.detache"));
}

#[test]
fn b_b_on_an_xref_stream_pdf_is_valid_for_pyhanko_and_openssl() {
    let pki = Pki::new();
    let pdf = lopdf_pdf(true);
    assert!(pdf
        .windows(10)
        .any(|w| w == b"/Type/XRef" || w == b"/Type /XRe"));
    let signed = sign_pdf::<_, RsaSig>(&pdf, &pki.rsa_signer(), SystemTime::now(), None).unwrap();
    assert_eq!(&signed[..pdf.len()], &pdf[..]);
    let text = assert_pyhanko_valid(&pki, &signed, 1);
    assert!(text.contains("sha256_rsa"), "{text}");
    assert!(openssl_accepts(&pki, &signed));
}

#[test]
fn b_t_on_a_reportlab_pdf_has_a_timestamp_pyhanko_trusts() {
    let pki = Pki::new();
    let tsa = pki.tsa();
    let pdf = reportlab_pdf(pki.dir.path(), None);
    let signed = sign_ec(&pki, &pdf, Some(&tsa));
    let text = assert_pyhanko_valid(&pki, &signed, 1);
    for line in [
        "Signature timestamp token:",
        "The timestamp token is cryptographically sound.",
        "The TSA certificate is trusted.",
    ] {
        assert!(text.contains(line), "no {line:?} in {text}");
    }
    assert!(openssl_accepts(&pki, &signed));
}

#[test]
fn a_timestamp_larger_than_the_reserved_room_still_fits() {
    let pki = Pki::new();
    let tsa = pki.tsa_sending_chain_copies(40);
    let pdf = lopdf_pdf(true);
    let signed = sign_ec(&pki, &pdf, Some(&tsa));
    let (_, cms) = byte_range_and_contents(&signed);
    assert!(cms.len() > 20_000, "the token is large: {}", cms.len());
    assert_pyhanko_valid(&pki, &signed, 1);
    assert!(openssl_accepts(&pki, &signed));
}

#[test]
fn one_byte_changed_after_signing_is_rejected_by_pyhanko_and_openssl() {
    let pki = Pki::new();
    let tsa = pki.tsa();
    for pdf in [lopdf_pdf(false), lopdf_pdf(true)] {
        let signed = sign_ec(&pki, &pdf, Some(&tsa));
        assert!(openssl_accepts(&pki, &signed));
        // In the original revision (the page text) and in the update (the widget's name).
        for needle in [b"Hello".as_slice(), b"/Widget"] {
            let changed = tampered(&signed, needle);
            let (ok, text) = validate(&pki, &changed, "changed.pdf");
            assert!(
                !ok && !text.contains("judged VALID"),
                "pyHanko accepted: {text}"
            );
            assert!(
                !openssl_accepts(&pki, &changed),
                "OpenSSL accepted a changed PDF"
            );
        }
    }
}

#[test]
fn a_signed_pdf_can_be_signed_again_and_both_signatures_stay_valid() {
    let pki = Pki::new();
    let first = sign_ec(&pki, &lopdf_pdf(true), None);
    let second = sign_pdf::<_, RsaSig>(&first, &pki.rsa_signer(), SystemTime::now(), None).unwrap();
    assert_eq!(&second[..first.len()], &first[..]);
    let text = assert_pyhanko_valid(&pki, &second, 2);
    assert!(text.contains("Signature2"), "{text}");
}

#[test]
fn encrypted_pdfs_are_refused() {
    let pki = Pki::new();
    let signer = pki.ec_signer();
    for passwords in [("user", "owner"), ("", "owner")] {
        let pdf = reportlab_pdf(pki.dir.path(), Some(passwords));
        let result = sign_pdf::<_, EcSig>(&pdf, &signer, SystemTime::now(), None);
        assert!(
            matches!(result, Err(PadesError::Encrypted)),
            "{passwords:?}: {result:?}"
        );
    }
}

#[test]
fn garbage_gets_typed_errors_not_panics() {
    let pki = Pki::new();
    let signer = pki.ec_signer();
    let good = lopdf_pdf(false);
    let inputs: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"hello".to_vec(),
        b"%PDF-1.7\n".to_vec(),
        b"%PDF-1.7\nstartxref\n999999\n%%EOF".to_vec(),
        b"%PDF-1.7\nxref\n0 1\n0000000000 65535 f\r\ntrailer<<>>\nstartxref\n9\n%%EOF".to_vec(),
        good[..good.len() / 2].to_vec(),
        (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect(),
        [b"%PDF-1.7\n".as_slice(), &good[9..good.len() - 40]].concat(),
    ];
    for input in inputs {
        let result = sign_pdf::<_, EcSig>(&input, &signer, SystemTime::now(), None);
        assert!(
            matches!(
                result,
                Err(PadesError::NotPdf(_) | PadesError::Malformed(_))
            ),
            "{:?}: {result:?}",
            String::from_utf8_lossy(&input[..input.len().min(40)])
        );
    }
}

#[test]
fn damaged_pdfs_never_panic() {
    let pki = Pki::new();
    let signer = pki.ec_signer();
    let mut seed = 0x9e37_79b9_u64;
    let mut next = move || {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        (seed >> 33) as usize
    };
    for pdf in [lopdf_pdf(false), lopdf_pdf(true)] {
        for _ in 0..500 {
            let mut damaged = pdf.clone();
            for _ in 0..1 + next() % 4 {
                let at = next() % damaged.len();
                damaged[at] = next() as u8;
            }
            if next() % 4 == 0 {
                let cut = damaged.len() - next() % 64;
                damaged.truncate(cut);
            }
            // Ok or a typed error, never a panic; when it signs, the input stays a prefix.
            if let Ok(signed) = sign_pdf::<_, EcSig>(&damaged, &signer, SystemTime::now(), None) {
                assert!(signed.starts_with(&damaged));
            }
        }
    }
}
