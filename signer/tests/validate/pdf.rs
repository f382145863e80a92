//! PDF signatures: vhod's PAdES and pyHanko's, with a signature timestamp and a document
//! timestamp from an RFC 3161 TSA served over HTTP.

use crate::common::pdfs::lopdf_pdf;
use crate::common::{read, venv, Pki};
use crate::revocation::tsa_url;
use crate::*;
use signer::pades::sign_pdf;
use signer::validate::{validate, Input, SubIndication};
use std::path::Path;
use std::time::SystemTime;

#[tokio::test]
async fn vhod_pades_pass_and_report_later_updates_and_changes() {
    let pki = Pki::new();
    let policy = policy(&pki);
    let pdf = lopdf_pdf(false);
    let tsa = pki.tsa();
    for tsa in [None, Some(&tsa as &dyn signer::TimestampSource)] {
        let signed = sign_pdf::<_, EcSig>(&pdf, &pki.ec_signer(), SystemTime::now(), tsa).unwrap();
        let report = check(&signed, None, &policy).await;
        passed(&report);
        let sig = &report.signatures[0];
        let coverage = sig.pdf.as_ref().unwrap();
        assert!(coverage.covers_whole_file);
        assert_eq!(coverage.sub_filter.as_deref(), Some("ETSI.CAdES.detached"));
        assert_eq!(
            sig.timestamp.as_ref().is_some_and(|t| t.valid),
            tsa.is_some()
        );

        // An incremental update appended later: still valid, but no longer the whole file.
        let mut updated = signed.clone();
        updated.extend_from_slice(b"\n1 0 obj\n<< >>\nendobj\n%%EOF\n");
        let report = validate(Input::Pdf { bytes: &updated }, &policy).await;
        passed(&report);
        assert!(!report.signatures[0].pdf.as_ref().unwrap().covers_whole_file);

        // One byte of the signed revision changed.
        let report = validate(
            Input::Pdf {
                bytes: &flip_byte(&signed, 200),
            },
            &policy,
        )
        .await;
        fails(&report, SubIndication::HashFailure);

        // Signed again: two signatures, the first no longer covering the whole file.
        let twice = sign_pdf::<_, RsaSig>(&signed, &pki.rsa_signer(), SystemTime::now(), tsa);
        let report = check(&twice.unwrap(), None, &policy).await;
        passed(&report);
        let covers: Vec<bool> = report
            .signatures
            .iter()
            .map(|s| s.pdf.as_ref().unwrap().covers_whole_file)
            .collect();
        assert_eq!(covers, [false, true]);
    }
}

#[tokio::test]
async fn pyhanko_pdf_signature_passes_when_trusted_and_fails_when_changed() {
    let pki = Pki::new();
    let d = pki.dir.path();
    std::fs::write(d.join("in.pdf"), lopdf_pdf(true)).unwrap();
    pyhanko_sign(d, &[], "in.pdf", "out.pdf");
    let signed = read(d, "out.pdf");
    let report = check(&signed, None, &policy(&pki)).await;
    passed(&report);
    assert!(report.signatures[0].pdf.as_ref().unwrap().covers_whole_file);

    let other = Pki::new();
    let report = check(&signed, None, &policy(&other)).await;
    fails(&report, SubIndication::NoCertificateChainFound);

    let report = check(&flip_byte(&signed, 100), None, &policy(&pki)).await;
    fails(&report, SubIndication::HashFailure);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pyhanko_timestamped_signature_and_document_timestamp_pass() {
    let pki = Pki::new();
    let url = tsa_url(&pki).await;
    let d = pki.dir.path().to_path_buf();
    std::fs::write(d.join("in.pdf"), lopdf_pdf(false)).unwrap();
    tokio::task::spawn_blocking(move || {
        pyhanko_sign(
            &d,
            &["--use-pades", "--timestamp-url", &url],
            "in.pdf",
            "bt.pdf",
        );
        let trust = ["--trust", "root.pem", "--trust-replace"];
        let stamp = [
            "sign",
            "timestamp",
            "--timestamp-url",
            &url,
            "bt.pdf",
            "lta.pdf",
        ];
        pyhanko(&d, &[&stamp[..], &trust].concat());
    })
    .await
    .unwrap();

    let report = check(&read(pki.dir.path(), "lta.pdf"), None, &policy(&pki)).await;
    passed(&report);
    let [signature, document_timestamp] = &report.signatures[..] else {
        panic!("two signatures expected: {report:?}");
    };
    let pdf = |s: &signer::validate::SignatureReport| s.pdf.clone().unwrap();
    assert_eq!(
        pdf(signature).sub_filter.as_deref(),
        Some("ETSI.CAdES.detached")
    );
    assert!(
        !pdf(signature).covers_whole_file,
        "the document timestamp came after"
    );
    assert!(signature.timestamp.as_ref().unwrap().valid);
    assert_eq!(
        pdf(document_timestamp).sub_filter.as_deref(),
        Some("ETSI.RFC3161")
    );
    // pyHanko appends its validation data (a DSS) after the document timestamp, which
    // covers the signature's revision and more.
    let end = |s: &signer::validate::SignatureReport| pdf(s).byte_range[2] + pdf(s).byte_range[3];
    assert!(end(document_timestamp) > end(signature));
    assert!(document_timestamp
        .signer
        .as_ref()
        .unwrap()
        .subject
        .contains("vhod test TSA"));
}

/// Runs pyHanko in `dir`; fails the test unless it succeeds.
pub(crate) fn pyhanko(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new(venv().join("bin/pyhanko"))
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "pyhanko {args:?}: {stderr}");
}

/// `pyhanko sign addsig [extra] pemder` with the test PKI's P-256 signer and chain.
fn pyhanko_sign(dir: &Path, extra: &[&str], input: &str, output: &str) {
    let key = [
        "--key",
        "ec.key",
        "--cert",
        "ec.pem",
        "--chain",
        "chain.pem",
        "--no-pass",
    ];
    let field = ["--field", "Sig1", "pemder"];
    pyhanko(
        dir,
        &[&["sign", "addsig"], extra, &field, &key, &[input, output]].concat(),
    );
}
