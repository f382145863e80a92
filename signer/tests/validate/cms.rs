//! CMS signatures: vhod's CAdES, `openssl cms -sign` (EC, RSA, RSA-PSS, P-384), and the
//! weak or forged ones.

use crate::common::pdfs::lopdf_pdf;
use crate::common::{openssl_ok, read, Pki};
use crate::*;
use signer::cades::{sign, Packaging};
use signer::validate::{MemoryRevocation, Policy, SubIndication};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

#[tokio::test]
async fn vhod_cades_detached_attached_and_timestamped_pass() {
    let pki = Pki::new();
    let policy = policy(&pki);
    let now = SystemTime::now();
    let ec = pki.ec_signer();
    let detached = sign::<_, EcSig>(DOCUMENT, Packaging::Detached, &ec, now, None).unwrap();
    let report = check(DOCUMENT, Some(&detached), &policy).await;
    passed(&report);
    let sig = &report.signatures[0];
    assert!(sig
        .signer
        .as_ref()
        .unwrap()
        .subject
        .contains("Test Signer P-256"));
    assert_eq!(sig.chain.len(), 3, "signer, intermediate, root");
    assert!(sig.claimed_signing_time.is_some());
    assert!(sig
        .checks
        .iter()
        .any(|c| c.name == "signing_certificate_reference" && c.detail.contains("-v2")));

    let attached = sign::<_, EcSig>(DOCUMENT, Packaging::Attached, &ec, now, None).unwrap();
    passed(&check(&attached, None, &policy).await);

    let tsa = pki.tsa();
    let bt = sign::<_, RsaSig>(
        DOCUMENT,
        Packaging::Detached,
        &pki.rsa_signer(),
        now,
        Some(&tsa),
    )
    .unwrap();
    let report = check(DOCUMENT, Some(&bt), &policy).await;
    passed(&report);
    let stamp = report.signatures[0].timestamp.as_ref().unwrap();
    assert!(stamp.valid, "{}", stamp.detail);
    assert!(stamp
        .tsa
        .as_ref()
        .unwrap()
        .subject
        .contains("vhod test TSA"));
    assert_eq!(
        stamp.time.as_ref(),
        Some(&report.signatures[0].best_signature_time)
    );

    // Two months later every certificate has expired: the B-B signature has no proof it was
    // made in time; the timestamp proves the B-T one was.
    let mut later = policy.clone();
    later.validation_time = Some(now + Duration::from_secs(60 * 86400));
    let report = check(DOCUMENT, Some(&detached), &later).await;
    fails(&report, SubIndication::OutOfBoundsNoPoe);
    passed(&check(DOCUMENT, Some(&bt), &later).await);
}

#[tokio::test]
async fn openssl_cms_signatures_pass_and_fail_as_they_should() {
    let pki = Pki::new();
    let policy = policy(&pki);
    for (name, extra) in [("ec", &[][..]), ("rsa", &["-cades"][..])] {
        let detached = openssl_sign(&pki, name, DOCUMENT, extra);
        passed(&check(DOCUMENT, Some(&detached), &policy).await);

        let altered = flip_byte(DOCUMENT, 3);
        let report = check(&altered, Some(&detached), &policy).await;
        fails(&report, SubIndication::HashFailure);

        let other = openssl_sign(&pki, name, b"another document", extra);
        let report = check(DOCUMENT, Some(&other), &policy).await;
        fails(&report, SubIndication::HashFailure);

        let attached = openssl_sign(&pki, name, DOCUMENT, &[extra, &["-nodetach"]].concat());
        passed(&check(&attached, None, &policy).await);
        let at = attached
            .windows(DOCUMENT.len())
            .position(|w| w == DOCUMENT)
            .unwrap();
        let report = check(&flip_byte(&attached, at + 5), None, &policy).await;
        fails(&report, SubIndication::HashFailure);
    }
    // PEM is read as well as DER.
    let d = pki.dir.path();
    std::fs::write(d.join("doc.bin"), DOCUMENT).unwrap();
    openssl_ok(
        d,
        &[
            "cms", "-sign", "-binary", "-in", "doc.bin", "-signer", "ec.pem", "-inkey", "ec.key",
            "-outform", "PEM", "-out", "sig.pem",
        ],
    );
    let pem = read(d, "sig.pem");
    let report = check(DOCUMENT, Some(&pem), &policy).await;
    // Without -certfile the chain must come from the policy's intermediates.
    fails(&report, SubIndication::NoCertificateChainFound);
    let mut with_intermediate = policy.clone();
    with_intermediate.intermediates = vec![der_of(d, "intermediate.pem")];
    passed(&check(DOCUMENT, Some(&pem), &with_intermediate).await);

    // An attached signature of a PDF is CMS, though the PDF header shows through.
    let pdf = lopdf_pdf(false);
    let attached_pdf = openssl_sign(&pki, "ec", &pdf, &["-nodetach"]);
    let report = check(&attached_pdf, None, &policy).await;
    passed(&report);
    assert_eq!(report.kind, signer::validate::InputKind::Attached);

    // The signer's certificate itself trusted: a chain of one, still checked for validity.
    let mut direct = Policy::new(vec![der_of(d, "ec.pem")]);
    direct.revocation = Arc::new(MemoryRevocation::new());
    let signature = openssl_sign(&pki, "ec", DOCUMENT, &[]);
    passed(&check(DOCUMENT, Some(&signature), &direct).await);
    direct.validation_time = Some(SystemTime::now() + Duration::from_secs(60 * 86400));
    let report = check(DOCUMENT, Some(&signature), &direct).await;
    fails(&report, SubIndication::OutOfBoundsNoPoe);

    // Another root trusted instead: no chain.
    let other = Pki::new();
    let report = check(
        DOCUMENT,
        Some(&openssl_sign(&pki, "ec", DOCUMENT, &[])),
        &self::policy(&other),
    )
    .await;
    fails(&report, SubIndication::NoCertificateChainFound);
}

#[tokio::test]
async fn rsa_pss_and_p384_signatures_pass_and_a_changed_signature_value_fails() {
    let pki = Pki::new();
    let policy = policy(&pki);
    let pss = [
        "-keyopt",
        "rsa_padding_mode:pss",
        "-keyopt",
        "rsa_pss_saltlen:-1",
    ];
    let signature = openssl_sign(&pki, "rsa", DOCUMENT, &pss);
    let report = check(DOCUMENT, Some(&signature), &policy).await;
    passed(&report);
    let algorithms = report.signatures[0]
        .checks
        .iter()
        .find(|c| c.name == "algorithms");
    assert!(
        algorithms.unwrap().detail.contains("RSASSA-PSS"),
        "{report:?}"
    );

    let p384 = ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-384"];
    issue_signer(&pki, "p384", &p384, "4701");
    let signature = openssl_sign(&pki, "p384", DOCUMENT, &["-md", "sha384"]);
    passed(&check(DOCUMENT, Some(&signature), &policy).await);

    // Without unsigned attributes, the SignerInfo's signature value ends the DER.
    let signature = openssl_sign(&pki, "rsa", DOCUMENT, &[]);
    let forged = flip_byte(&signature, signature.len() - 1);
    let report = check(DOCUMENT, Some(&forged), &policy).await;
    fails(&report, SubIndication::SigCryptoFailure);
}

#[tokio::test]
async fn weak_algorithms_are_crypto_constraints_failures() {
    let pki = Pki::new();
    let policy = policy(&pki);
    issue_signer(
        &pki,
        "rsa1024",
        &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:1024"],
        "4700",
    );
    let short_key = openssl_sign(&pki, "rsa1024", DOCUMENT, &[]);
    let report = check(DOCUMENT, Some(&short_key), &policy).await;
    fails(&report, SubIndication::CryptoConstraintsFailureNoPoe);
    assert!(report.reason.contains("1024"), "{}", report.reason);

    let sha1 = openssl_sign(&pki, "ec", DOCUMENT, &["-md", "sha1"]);
    let report = check(DOCUMENT, Some(&sha1), &policy).await;
    fails(&report, SubIndication::CryptoConstraintsFailureNoPoe);
    // A forged weak signature is still a forgery.
    let report = check(b"not the document", Some(&sha1), &policy).await;
    fails(&report, SubIndication::HashFailure);
}
