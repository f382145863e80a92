//! Input that is not a signature, or too large: FORMAT_FAILURE, never a panic.

use crate::common::pdfs::lopdf_pdf;
use crate::common::{read, Pki};
use crate::*;
use signer::cades::{sign, Packaging};
use signer::pades::sign_pdf;
use signer::validate::{validate, Indication, Input, Policy, SubIndication};
use std::time::SystemTime;

/// A tiny xorshift generator: reproducible noise without another dependency.
fn noise(seed: &mut u64) -> u64 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    *seed
}

#[tokio::test]
async fn garbage_truncations_and_oversized_input_are_format_failures_not_panics() {
    let pki = Pki::new();
    let policy = policy(&pki);
    for input in [
        &b""[..],
        b"hello",
        b"%PDF-1.7\n garbage",
        b"-----BEGIN CMS-----\n!!\n-----END CMS-----\n",
    ] {
        let report = check(input, None, &policy).await;
        fails(&report, SubIndication::FormatFailure);
        let report = check(DOCUMENT, Some(input), &policy).await;
        fails(&report, SubIndication::FormatFailure);
    }
    let attached = sign::<_, EcSig>(
        DOCUMENT,
        Packaging::Attached,
        &pki.ec_signer(),
        SystemTime::now(),
        None,
    )
    .unwrap();
    let mut seed = 0x5eed_u64;
    for len in (0..attached.len()).step_by(7) {
        let report = validate(
            Input::Attached {
                cms: &attached[..len],
            },
            &policy,
        )
        .await;
        assert_ne!(
            report.indication,
            Indication::TotalPassed,
            "truncated at {len}"
        );
    }
    for _ in 0..300 {
        let mut mangled = attached.clone();
        for _ in 0..3 {
            let at = (noise(&mut seed) as usize) % mangled.len();
            mangled[at] = noise(&mut seed) as u8;
        }
        let _ = validate(Input::Attached { cms: &mangled }, &policy).await;
    }
    let pdf =
        sign_pdf::<_, EcSig>(&lopdf_pdf(false), &pki.ec_signer(), SystemTime::now(), None).unwrap();
    for _ in 0..100 {
        let mut mangled = pdf.clone();
        let at = pdf.len() - 1 - (noise(&mut seed) as usize) % 6000;
        mangled[at] = noise(&mut seed) as u8;
        let _ = validate(Input::Pdf { bytes: &mangled }, &policy).await;
    }
    let mut small = policy.clone();
    small.max_input_bytes = 16;
    let report = check(DOCUMENT, Some(&attached), &small).await;
    fails(&report, SubIndication::FormatFailure);
    assert!(report.reason.contains("limit"), "{}", report.reason);
    // A good attached signature given a document as well is not silently accepted.
    let report = check(DOCUMENT, Some(&attached), &policy).await;
    fails(&report, SubIndication::FormatFailure);
}

/// Callers run validation in request handlers on a multi-threaded runtime.
#[test]
fn the_validation_future_is_send() {
    fn send<T: Send>(_: T) {}
    let policy = Policy::new(Vec::new());
    send(validate(Input::detect(b"", None), &policy));
}

/// Thirty look-alike CA certificates of one name and key, each verifying as the issuer of
/// every other, would make an unbounded path search exponential.
#[tokio::test]
async fn look_alike_certificates_do_not_stall_the_chain_search() {
    let pki = Pki::new();
    let d = pki.dir.path();
    let mut crowd = Vec::new();
    for serial in 1..=30 {
        let out = format!("crowd{serial}.pem");
        pki.self_signed_ca("root.key", "/CN=Crowd", &serial.to_string(), &out);
        crowd.extend(read(d, &out));
    }
    std::fs::write(d.join("crowd.pem"), crowd).unwrap();
    std::fs::copy(d.join("root.key"), d.join("crowd1.key")).unwrap();
    pki.issue("ec", "/CN=Crowd member", "crowd1", "signer_ext", "99");
    let signature = cms_sign(d, "ec", DOCUMENT, &["-certfile", "crowd.pem"]);
    let started = std::time::Instant::now();
    let report = check(DOCUMENT, Some(&signature), &policy(&pki)).await;
    fails(&report, SubIndication::NoCertificateChainFound);
    assert!(started.elapsed().as_secs() < 20, "{:?}", started.elapsed());
}
