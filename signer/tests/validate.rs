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

mod common;

use common::pdfs::lopdf_pdf;
use common::{openssl_ok, read, venv, Pki};
use signer::cades::{sign, Packaging};
use signer::pades::sign_pdf;
use signer::validate::{
    validate, HttpRevocation, Indication, Input, MemoryRevocation, Policy, Report, SubIndication,
};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use x509_cert::der::{DecodePem, Encode};

type EcSig = p256::ecdsa::DerSignature;
type RsaSig = rsa::pkcs1v15::Signature;

const DOCUMENT: &[u8] = b"A contract between the citizen and the service.\n";

fn der_of(dir: &Path, pem_file: &str) -> Vec<u8> {
    x509_cert::Certificate::from_pem(read(dir, pem_file))
        .unwrap()
        .to_der()
        .unwrap()
}

/// Trusting the PKI's root; revocation from memory (the test PKI publishes none).
fn policy(pki: &Pki) -> Policy {
    let mut policy = Policy::new(vec![der_of(pki.dir.path(), "root.pem")]);
    policy.revocation = Arc::new(MemoryRevocation::new());
    policy
}

fn assert_verdict(report: &Report, indication: Indication, sub: Option<SubIndication>) {
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

fn passed(report: &Report) {
    assert_verdict(report, Indication::TotalPassed, None);
}

/// Asserts `sub` and the indication EN 319 102-1 puts it under.
fn fails(report: &Report, sub: SubIndication) {
    assert_verdict(report, sub.indication(), Some(sub));
}

/// Validates `document` with a detached `signature`, or `document` alone.
async fn check(document: &[u8], signature: Option<&[u8]>, policy: &Policy) -> Report {
    validate(Input::detect(document, signature), policy).await
}

/// `openssl cms -sign` in `dir` of `document` by `name` (cert `{name}.pem`, key
/// `{name}.key`); `extra` adds flags (`-nodetach`, `-md sha1`...). Returns the DER signature.
fn cms_sign(dir: &Path, name: &str, document: &[u8], extra: &[&str]) -> Vec<u8> {
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
fn openssl_sign(pki: &Pki, name: &str, document: &[u8], extra: &[&str]) -> Vec<u8> {
    let chain = ["-certfile", "chain.pem"];
    cms_sign(
        pki.dir.path(),
        name,
        document,
        &[&chain[..], extra].concat(),
    )
}

/// Issues `{name}.pem` for a new key of `keygen` from the intermediate with signer extensions.
fn issue_signer(pki: &Pki, name: &str, keygen: &[&str], serial: &str) {
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

fn new_p256_key(dir: &Path, file: &str) {
    let args = [
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
    ];
    openssl_ok(dir, &[&args[..], &["-out", file]].concat());
}

fn flip_byte(bytes: &[u8], at: usize) -> Vec<u8> {
    let mut changed = bytes.to_vec();
    changed[at] ^= 0x01;
    changed
}

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
    later.validation_time = now + Duration::from_secs(60 * 86400);
    let report = check(DOCUMENT, Some(&detached), &later).await;
    fails(&report, SubIndication::OutOfBoundsNoPoe);
    passed(&check(DOCUMENT, Some(&bt), &later).await);
}

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
    direct.validation_time = SystemTime::now() + Duration::from_secs(60 * 86400);
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
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://127.0.0.1:{}/",
        listener.local_addr().unwrap().port()
    );
    serve_tsa(listener, &pki);
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
fn pyhanko(dir: &Path, args: &[&str]) {
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

/// A one-CA PKI run by `openssl ca`, whose certificates name `http://127.0.0.1:{port}/ca.crl`
/// as their CRL distribution point (`signer_ext`) or `http://127.0.0.1:{port}/` as their OCSP
/// responder (`ocsp_signer_ext`).
struct CrlCa {
    dir: tempfile::TempDir,
    ext: &'static str,
}

impl CrlCa {
    fn new(port: u16) -> Self {
        Self::with_extensions(port, "signer_ext")
    }

    fn with_extensions(port: u16, ext: &'static str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let config = format!(
            "[ca]\ndefault_ca = ca\n[ca]\ndir = .\ndatabase = index.txt\nnew_certs_dir = .\n\
             certificate = root.pem\nprivate_key = root.key\nserial = serial\n\
             default_md = sha256\ndefault_days = 30\ndefault_crl_days = 1\npolicy = any\n\
             unique_subject = no\ncopy_extensions = none\n\
             [any]\ncommonName = supplied\n\
             [req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = unused\n\
             [root_ext]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\n\
             [signer_ext]\nbasicConstraints = critical,CA:FALSE\n\
             keyUsage = critical,digitalSignature,nonRepudiation\n\
             crlDistributionPoints = URI:http://127.0.0.1:{port}/ca.crl\n\
             [ocsp_signer_ext]\nbasicConstraints = critical,CA:FALSE\n\
             keyUsage = critical,digitalSignature,nonRepudiation\n\
             authorityInfoAccess = OCSP;URI:http://127.0.0.1:{port}/\n"
        );
        std::fs::write(d.join("ca.cnf"), config).unwrap();
        std::fs::write(d.join("index.txt"), "").unwrap();
        std::fs::write(d.join("serial"), "1000\n").unwrap();
        new_p256_key(d, "root.key");
        openssl_ok(
            d,
            &[
                "req",
                "-x509",
                "-config",
                "ca.cnf",
                "-extensions",
                "root_ext",
                "-key",
                "root.key",
                "-subj",
                "/CN=vhod CRL test root",
                "-days",
                "30",
                "-out",
                "root.pem",
            ],
        );
        CrlCa { dir, ext }
    }

    /// Issues `{name}.pem`; `dates` are `-startdate`/`-enddate` values for an expired one.
    fn issue(&self, name: &str, dates: Option<(&str, &str)>) {
        let d = self.dir.path();
        let key = format!("{name}.key");
        new_p256_key(d, &key);
        let csr = format!("{name}.csr");
        openssl_ok(
            d,
            &[
                "req",
                "-new",
                "-config",
                "ca.cnf",
                "-key",
                &key,
                "-subj",
                &format!("/CN={name}"),
                "-out",
                &csr,
            ],
        );
        let out = format!("{name}.pem");
        let mut args = vec![
            "ca",
            "-batch",
            "-config",
            "ca.cnf",
            "-extensions",
            self.ext,
            "-in",
            &csr,
            "-out",
            &out,
        ];
        if let Some((start, end)) = dates {
            args.extend_from_slice(&["-startdate", start, "-enddate", end]);
        }
        openssl_ok(d, &args);
    }

    fn revoke(&self, name: &str) {
        let d = self.dir.path();
        openssl_ok(
            d,
            &[
                "ca",
                "-config",
                "ca.cnf",
                "-revoke",
                &format!("{name}.pem"),
                "-crl_reason",
                "keyCompromise",
            ],
        );
    }

    fn crl_der(&self) -> Vec<u8> {
        let d = self.dir.path();
        openssl_ok(
            d,
            &["ca", "-config", "ca.cnf", "-gencrl", "-out", "crl.pem"],
        );
        openssl_ok(
            d,
            &[
                "crl", "-in", "crl.pem", "-outform", "DER", "-out", "crl.der",
            ],
        );
        read(d, "crl.der")
    }

    fn sign(&self, name: &str) -> Vec<u8> {
        cms_sign(self.dir.path(), name, DOCUMENT, &[])
    }

    fn policy(&self) -> Policy {
        let mut policy = Policy::new(vec![der_of(self.dir.path(), "root.pem")]);
        policy.revocation = Arc::new(HttpRevocation::new(Duration::from_secs(2), 1 << 20));
        policy
    }
}

/// What a test HTTP server answers a request (head, body) with: a content type and a body,
/// or `None` for 404.
type Handler = Arc<dyn Fn(&[u8], Vec<u8>) -> Option<(&'static str, Vec<u8>)> + Send + Sync>;

/// A one-request-per-connection HTTP/1.1 server on `listener`, counting the requests.
fn serve(listener: tokio::net::TcpListener, hits: Arc<AtomicUsize>, handler: Handler) {
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut request = Vec::new();
            let mut buf = [0u8; 4096];
            let head_end = loop {
                if let Some(at) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                    break at + 4;
                }
                match socket.read(&mut buf).await {
                    Ok(0) | Err(_) => break request.len(),
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            };
            let head = String::from_utf8_lossy(&request[..head_end]).to_ascii_lowercase();
            let length: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |n| n.trim().parse().unwrap());
            while request.len() < head_end + length {
                match socket.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => request.extend_from_slice(&buf[..n]),
                }
            }
            hits.fetch_add(1, Ordering::SeqCst);
            let body = request.split_off(head_end);
            let handler = handler.clone();
            let answer = tokio::task::spawn_blocking(move || handler(&request, body))
                .await
                .unwrap();
            let head = match &answer {
                Some((kind, body)) => format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: {kind}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                ),
                None => "HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".into(),
            };
            let _ = socket.write_all(head.as_bytes()).await;
            if let Some((_, body)) = answer {
                let _ = socket.write_all(&body).await;
            }
            let _ = socket.shutdown().await;
        }
    });
}

/// Serves `crl` at `/ca.crl`.
fn serve_crl(listener: tokio::net::TcpListener, crl: Vec<u8>, hits: Arc<AtomicUsize>) {
    let handler: Handler = Arc::new(move |head: &[u8], _| {
        head.starts_with(b"GET /ca.crl ")
            .then(|| ("application/pkix-crl", crl.clone()))
    });
    serve(listener, hits, handler);
}

/// An RFC 3161 TSA over HTTP (RFC 3161 §3.4): `openssl ts -reply` with the PKI's TSA.
fn serve_tsa(listener: tokio::net::TcpListener, pki: &Pki) {
    let _config = pki.tsa();
    let dir = pki.dir.path().to_path_buf();
    let count = AtomicUsize::new(0);
    let handler: Handler = Arc::new(move |_, query: Vec<u8>| {
        let n = count.fetch_add(1, Ordering::SeqCst);
        let (query_file, reply_file) = (format!("http{n}.tsq"), format!("http{n}.tsr"));
        std::fs::write(dir.join(&query_file), query).unwrap();
        let args = [
            "ts",
            "-reply",
            "-config",
            "tsa.cnf",
            "-queryfile",
            &query_file,
        ];
        openssl_ok(&dir, &[&args[..], &["-out", &reply_file]].concat());
        Some(("application/timestamp-reply", read(&dir, &reply_file)))
    });
    serve(listener, Arc::new(AtomicUsize::new(0)), handler);
}

#[tokio::test]
async fn revocation_from_the_distribution_point_and_expiry_get_their_verdicts() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let ca = CrlCa::new(port);
    ca.issue("good", None);
    ca.issue("revoked", None);
    ca.issue("expired", Some(("20200101000000Z", "20200201000000Z")));
    ca.revoke("revoked");
    let hits = Arc::new(AtomicUsize::new(0));
    serve_crl(listener, ca.crl_der(), hits.clone());
    let policy = ca.policy();

    let report = check(DOCUMENT, Some(&ca.sign("revoked")), &policy).await;
    fails(&report, SubIndication::RevokedNoPoe);
    assert!(report.reason.contains("KeyCompromise"), "{}", report.reason);

    let report = check(DOCUMENT, Some(&ca.sign("good")), &policy).await;
    passed(&report);
    assert!(report.signatures[0]
        .checks
        .iter()
        .any(|c| c.name == "revocation" && c.detail.contains("not revoked")));

    // Expired, no timestamp, but the CRL says it is not revoked.
    let report = check(DOCUMENT, Some(&ca.sign("expired")), &policy).await;
    fails(&report, SubIndication::OutOfBoundsNotRevoked);
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "the CRL is cached until nextUpdate"
    );

    // The same CRL held in memory answers the same way, without the network.
    let mut memory = MemoryRevocation::new();
    memory.add_crl(ca.crl_der());
    let mut offline = policy.clone();
    offline.revocation = Arc::new(memory);
    let report = check(DOCUMENT, Some(&ca.sign("revoked")), &offline).await;
    fails(&report, SubIndication::RevokedNoPoe);
}

impl CrlCa {
    /// A vhod CAdES B-T signature of [`DOCUMENT`] by `name`, stamped by `tsa`.
    fn sign_with_timestamp(&self, name: &str, tsa: &common::OpenSslTsa) -> Vec<u8> {
        use p256::pkcs8::DecodePrivateKey;
        let d = self.dir.path();
        let key = String::from_utf8(read(d, &format!("{name}.key"))).unwrap();
        let pem_cert = |file: &str| x509_cert::Certificate::from_pem(read(d, file)).unwrap();
        let handle = signer::SignerHandle {
            key: p256::ecdsa::SigningKey::from_pkcs8_pem(&key).unwrap(),
            cert: pem_cert(&format!("{name}.pem")),
            chain: vec![pem_cert("root.pem")],
        };
        sign::<_, EcSig>(
            DOCUMENT,
            Packaging::Detached,
            &handle,
            SystemTime::now(),
            Some(tsa),
        )
        .unwrap()
    }
}

#[tokio::test]
async fn a_timestamp_before_the_revocation_saves_the_signature_and_one_after_it_fails_it() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ca = CrlCa::new(listener.local_addr().unwrap().port());
    let pki = Pki::new();
    let tsa = pki.tsa();
    ca.issue("early", None);
    ca.issue("late", None);
    let early = ca.sign_with_timestamp("early", &tsa);
    // Times in CRLs and timestamps have one-second precision.
    std::thread::sleep(Duration::from_millis(1100));
    ca.revoke("early");
    ca.revoke("late");
    std::thread::sleep(Duration::from_millis(1100));
    let late = ca.sign_with_timestamp("late", &tsa);
    serve_crl(listener, ca.crl_der(), Arc::new(AtomicUsize::new(0)));
    let mut policy = ca.policy();
    policy
        .trust_anchors
        .push(der_of(pki.dir.path(), "root.pem"));

    let report = check(DOCUMENT, Some(&early), &policy).await;
    passed(&report);
    let revocation = report.signatures[0]
        .checks
        .iter()
        .find(|c| c.name == "revocation");
    assert!(revocation.unwrap().detail.contains("after the timestamp"));
    fails(
        &check(DOCUMENT, Some(&late), &policy).await,
        SubIndication::Revoked,
    );
}

#[tokio::test]
async fn unreachable_distribution_point_means_try_later() {
    // A port that was just free: nothing listens there.
    let port = free_port();
    let ca = CrlCa::new(port);
    ca.issue("good", None);
    let report = check(DOCUMENT, Some(&ca.sign("good")), &ca.policy()).await;
    fails(&report, SubIndication::TryLater);
}

/// `openssl ocsp` answering for a [`CrlCa`] on a port; killed when dropped.
struct OcspResponder(std::process::Child);

impl Drop for OcspResponder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

#[tokio::test]
async fn ocsp_answers_when_the_certificate_names_no_distribution_point() {
    let port = free_port();
    let ca = CrlCa::with_extensions(port, "ocsp_signer_ext");
    ca.issue("good", None);
    ca.issue("revoked", None);
    ca.revoke("revoked");
    let responder = std::process::Command::new("openssl")
        .current_dir(ca.dir.path())
        .args(["ocsp", "-index", "index.txt", "-port", &port.to_string()])
        .args([
            "-rsigner", "root.pem", "-rkey", "root.key", "-CA", "root.pem", "-ndays", "1",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut responder = OcspResponder(responder);
    // It says `ACCEPT [::]:port` once it listens (a probe connection would hold up the
    // single-threaded responder).
    let stdout = responder.0.stdout.take().unwrap();
    let mut first_line = String::new();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut first_line).unwrap();
    assert!(first_line.starts_with("ACCEPT"), "{first_line}");
    let policy = ca.policy();
    let report = check(DOCUMENT, Some(&ca.sign("good")), &policy).await;
    passed(&report);
    assert!(report.signatures[0]
        .checks
        .iter()
        .any(|c| c.name == "revocation" && c.outcome == signer::validate::Outcome::Passed));
    let report = check(DOCUMENT, Some(&ca.sign("revoked")), &policy).await;
    fails(&report, SubIndication::RevokedNoPoe);
}

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
