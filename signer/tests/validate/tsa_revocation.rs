//! The TSA's certificate is asked about like the signer's (EN 319 102-1 §5.6.2, RFC 3161 §4):
//! revoked before the time a token claims, the token proves nothing, for a signature
//! timestamp (the signature is then judged without it) and for a PDF document timestamp;
//! revoked later for key compromise, still nothing; revoked later as superseded, the token
//! stands and the report says why.

use crate::common::pdfs::lopdf_pdf;
use crate::common::{read, Pki};
use crate::revocation::tsa_url;
use crate::*;
use signer::cades::{sign, Packaging};
use signer::validate::{RevocationStatus, SubIndication};
use std::time::{Duration, SystemTime};

/// [`policy`] with the TSA certificate's status set to `status`.
fn tsa_status(pki: &Pki, status: RevocationStatus) -> Policy {
    let tsa = pki.cert("tsa");
    let mut memory = MemoryRevocation::new();
    memory.set_status(
        &tsa.tbs_certificate.issuer,
        tsa.tbs_certificate.serial_number.as_bytes(),
        status,
    );
    let mut policy = policy(pki);
    policy.revocation = Arc::new(memory);
    policy
}

fn revoked(at: SystemTime, reason: &str) -> RevocationStatus {
    RevocationStatus::Revoked {
        at,
        reason: Some(reason.into()),
    }
}

#[tokio::test]
async fn a_signature_timestamp_by_a_revoked_tsa_is_no_proof_of_existence() {
    let pki = Pki::new();
    let tsa = pki.tsa();
    let signed_at = SystemTime::now();
    let bt = sign::<_, EcSig>(
        DOCUMENT,
        Packaging::Detached,
        &pki.ec_signer(),
        signed_at,
        Some(&tsa),
    )
    .unwrap();
    let stamp = |report: &Report| report.signatures[0].timestamp.clone().unwrap();
    let hour = Duration::from_secs(3600);

    // Revoked an hour before the token: the token is ignored, and two months later nothing
    // proves the signature was made while the certificates were valid.
    let mut before = tsa_status(&pki, revoked(signed_at - hour, "KeyCompromise"));
    let report = check(DOCUMENT, Some(&bt), &before).await;
    passed(&report);
    let ignored = stamp(&report);
    assert!(!ignored.valid, "{}", ignored.detail);
    assert!(
        ignored.detail.contains("revoked") && ignored.detail.contains("before the time"),
        "{}",
        ignored.detail
    );
    let check_detail = &report.signatures[0]
        .checks
        .iter()
        .find(|c| c.name == "signature_timestamp")
        .unwrap()
        .detail;
    assert!(check_detail.contains("revoked"), "{check_detail}");
    before.validation_time = Some(signed_at + 60 * 24 * hour);
    fails(
        &check(DOCUMENT, Some(&bt), &before).await,
        SubIndication::OutOfBoundsNoPoe,
    );

    // Revoked an hour after it, for key compromise: every token of the key is in doubt.
    let compromised = tsa_status(&pki, revoked(signed_at + hour, "KeyCompromise"));
    let report = check(DOCUMENT, Some(&bt), &compromised).await;
    assert!(!stamp(&report).valid, "{}", stamp(&report).detail);
    assert!(stamp(&report).detail.contains("in doubt"));

    // Revoked an hour after it as superseded: earlier tokens stay valid.
    let mut superseded = tsa_status(&pki, revoked(signed_at + hour, "Superseded"));
    let report = check(DOCUMENT, Some(&bt), &superseded).await;
    passed(&report);
    assert!(stamp(&report).valid, "{}", stamp(&report).detail);
    assert!(stamp(&report)
        .detail
        .contains("leaves earlier tokens valid"));
    superseded.validation_time = Some(signed_at + 60 * 24 * hour);
    passed(&check(DOCUMENT, Some(&bt), &superseded).await);

    // Good: the report says it was asked.
    let good = tsa_status(&pki, RevocationStatus::Good);
    let report = check(DOCUMENT, Some(&bt), &good).await;
    assert!(stamp(&report)
        .detail
        .contains("vhod test TSA is not revoked"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_document_timestamp_by_a_revoked_tsa_is_refused() {
    let pki = Pki::new();
    let url = tsa_url(&pki).await;
    let d = pki.dir.path().to_path_buf();
    std::fs::write(d.join("in.pdf"), lopdf_pdf(false)).unwrap();
    let before_stamp = SystemTime::now() - Duration::from_secs(3600);
    tokio::task::spawn_blocking(move || {
        let stamp = [
            "sign",
            "timestamp",
            "--timestamp-url",
            &url,
            "in.pdf",
            "dts.pdf",
        ];
        let trust = ["--trust", "root.pem", "--trust-replace"];
        crate::pdf::pyhanko(&d, &[&stamp[..], &trust].concat());
    })
    .await
    .unwrap();
    let stamped = read(pki.dir.path(), "dts.pdf");

    passed(&check(&stamped, None, &tsa_status(&pki, RevocationStatus::Good)).await);
    let policy = tsa_status(&pki, revoked(before_stamp, "KeyCompromise"));
    let report = check(&stamped, None, &policy).await;
    fails(&report, SubIndication::Revoked);
    let detail = &report.signatures[0].checks[0].detail;
    assert!(
        detail.contains("vhod test TSA was revoked") && detail.contains("before the time"),
        "{detail}"
    );
}
