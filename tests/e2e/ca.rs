//! The certificate authority's public endpoints, checked with the OpenSSL command line: the
//! certificates chain to the root, the CRL verifies, OCSP answers (POST and GET, RFC 6960) and
//! time stamps (RFC 3161) verify against the published root.

use crate::helpers::*;
use crate::on_both_stores;
use base64::Engine;
use std::path::Path;

on_both_stores!(
    certificates_and_crl_verify_with_openssl,
    ocsp_and_time_stamps_verify_with_openssl,
    wrong_media_types_get_a_problem_document,
);

async fn fetch(app: &TestApp, path: &str, want_type: &str) -> Vec<u8> {
    let r = http().get(app.url(path)).send().await.unwrap();
    assert_eq!(r.status(), 200, "{path}");
    assert_eq!(r.headers()["content-type"], want_type, "{path}");
    r.bytes().await.unwrap().to_vec()
}

pub(crate) fn openssl(args: &[&str], dir: &Path) -> (bool, String) {
    openssl_in(args, dir)
}

/// [`openssl`] with the arguments of `line`, split at spaces (no argument here has one).
pub(crate) fn openssl_line(line: &str, dir: &Path) -> (bool, String) {
    let args: Vec<&str> = line.split_whitespace().collect();
    openssl_in(&args, dir)
}

/// Fetches the CA's certificates into `dir` as PEM: root.pem, issuing.pem, tsa.pem, ocsp.pem,
/// and chain.pem (issuing, OCSP and TSA together).
pub(crate) async fn save_certs(app: &TestApp, dir: &Path) {
    let pem = fetch(app, "/ca/root.pem", "application/x-pem-file").await;
    std::fs::write(dir.join("root.pem"), &pem).unwrap();
    for name in ["root", "issuing", "tsa", "ocsp"] {
        let der = fetch(app, &format!("/ca/{name}.crt"), "application/pkix-cert").await;
        std::fs::write(dir.join(format!("{name}.der")), der).unwrap();
        let (ok, text) = openssl_line(
            &format!("x509 -inform DER -in {name}.der -out {name}.pem"),
            dir,
        );
        assert!(ok, "{name}: {text}");
    }
    // What OCSP and time-stamp checks may use to build paths: issuing, OCSP, TSA.
    let mut chain = std::fs::read(dir.join("issuing.pem")).unwrap();
    chain.extend(std::fs::read(dir.join("ocsp.pem")).unwrap());
    chain.extend(std::fs::read(dir.join("tsa.pem")).unwrap());
    std::fs::write(dir.join("chain.pem"), chain).unwrap();
}

/// The current CRL as `openssl crl -text` prints it, after OpenSSL verified its signature
/// against the issuing CA (certificates saved in `d` by `save_certs`).
pub(crate) async fn crl_text(app: &TestApp, d: &Path) -> String {
    let crl = fetch(app, "/ca/crl", "application/pkix-crl").await;
    std::fs::write(d.join("crl.der"), crl).unwrap();
    let (ok, text) = openssl_line(
        "crl -inform DER -in crl.der -CAfile issuing.pem -noout -text",
        d,
    );
    assert!(ok, "{text}");
    assert!(text.contains("verify OK"), "{text}");
    text
}

/// Asks the OCSP responder over POST (as `openssl ocsp -url` does) about the certificate
/// in the file `cert`, and returns OpenSSL's report once the response verified to the root.
pub(crate) fn ocsp_text(app: &TestApp, d: &Path, cert: &str) -> String {
    let (ok, text) = openssl_line(
        &format!(
            "ocsp -issuer issuing.pem -cert {cert} -url {} -CAfile root.pem -verify_other chain.pem",
            app.url("/ca/ocsp")
        ),
        d,
    );
    assert!(ok, "{text}");
    assert!(text.contains("Response verify OK"), "{text}");
    text
}

async fn certificates_and_crl_verify_with_openssl(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    save_certs(&app, d).await;
    let (ok, text) = openssl_line(
        "verify -CAfile root.pem -untrusted issuing.pem tsa.pem ocsp.pem",
        d,
    );
    assert!(ok, "{text}");
    assert!(
        text.contains("tsa.pem: OK") && text.contains("ocsp.pem: OK"),
        "{text}"
    );
    // The root PEM is the root DER.
    let (_, root_text) = openssl_line("x509 -in root.pem -noout -subject", d);
    let (_, der_text) = openssl_line("x509 -inform DER -in root.der -noout -subject", d);
    assert_eq!(root_text, der_text);

    let text = crl_text(&app, d).await;
    assert!(text.contains("No Revoked Certificates"), "{text}");
}

async fn ocsp_and_time_stamps_verify_with_openssl(app: TestApp) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    save_certs(&app, d).await;

    // OCSP over POST, as `openssl ocsp -url` sends it.
    let text = ocsp_text(&app, d, "tsa.pem");
    assert!(text.contains("tsa.pem: good"), "{text}");

    // OCSP over GET: the DER request, base64, URL-encoded.
    let (ok, text) = openssl_line("ocsp -issuer issuing.pem -cert ocsp.pem -reqout req.der", d);
    assert!(ok, "{text}");
    let req =
        base64::engine::general_purpose::STANDARD.encode(std::fs::read(d.join("req.der")).unwrap());
    let encoded: String = url::form_urlencoded::byte_serialize(req.as_bytes()).collect();
    let resp = fetch(
        &app,
        &format!("/ca/ocsp/{encoded}"),
        "application/ocsp-response",
    )
    .await;
    std::fs::write(d.join("resp.der"), resp).unwrap();
    let (ok, text) = openssl_line(
        "ocsp -reqin req.der -respin resp.der -resp_text -CAfile root.pem -verify_other chain.pem",
        d,
    );
    assert!(ok, "{text}");
    assert!(
        text.contains("Response verify OK") && text.contains("Cert Status: good"),
        "{text}"
    );

    // A time stamp on a document, verified against the root.
    std::fs::write(d.join("doc.txt"), b"a document to time-stamp\n").unwrap();
    let (ok, text) = openssl_line("ts -query -data doc.txt -sha256 -cert -out q.tsq", d);
    assert!(ok, "{text}");
    let r = http()
        .post(app.url("/ca/tsa"))
        .header("content-type", "application/timestamp-query")
        .body(std::fs::read(d.join("q.tsq")).unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/timestamp-reply");
    std::fs::write(d.join("r.tsr"), r.bytes().await.unwrap()).unwrap();
    let (ok, text) = openssl_line(
        "ts -verify -data doc.txt -in r.tsr -CAfile root.pem -untrusted chain.pem",
        d,
    );
    assert!(ok, "{text}");
    assert!(text.contains("Verification: OK"), "{text}");
    // Another document does not match that token.
    std::fs::write(d.join("other.txt"), b"another document\n").unwrap();
    let (ok, _) = openssl_line(
        "ts -verify -data other.txt -in r.tsr -CAfile root.pem -untrusted chain.pem",
        d,
    );
    assert!(!ok);
}

async fn wrong_media_types_get_a_problem_document(app: TestApp) {
    for path in ["/ca/ocsp", "/ca/tsa"] {
        let r = http()
            .post(app.url(path))
            .header("content-type", "text/plain")
            .body("hello")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 415, "{path}");
        assert_eq!(r.headers()["content-type"], "application/problem+json");
        let v: serde_json::Value = r.json().await.unwrap();
        assert_eq!(v["status"], 415);
    }
    // Garbage in a well-labelled body gets the protocol's own error, not an HTTP failure.
    let r = http()
        .post(app.url("/ca/tsa"))
        .header("content-type", "application/timestamp-query")
        .body(vec![0x30, 0x03, 0x02, 0x01])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body = r.bytes().await.unwrap();
    // TimeStampResp with PKIStatus rejection (2).
    assert!(body.windows(3).any(|w| w == [0x02, 0x01, 0x02]), "{body:?}");
    let r = http()
        .get(app.url("/ca/ocsp/not-base64!"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    // OCSPResponse with responseStatus malformedRequest (1).
    assert_eq!(
        &r.bytes().await.unwrap()[..],
        &[0x30, 0x03, 0x0a, 0x01, 0x01]
    );
}
