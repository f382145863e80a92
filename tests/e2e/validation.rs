//! Validation for people and operators: `POST /api/signer/v1/validate`, the public page
//! `/validate`, and `vhod signer trust ...` / `vhod signer validate` on the same store.
//! Signatures come from vhod's own CA (a citizen certificate from `ca.issue`, signed with
//! `signer::cades::sign`) and from `openssl cms -sign` with a test CA made by `openssl req`.

use crate::helpers::*;
use crate::on_both_stores;
use keys::ca::{CitizenSignature, CitizenSubject, CrlReason, KeyAlg, Snils};
use serde_json::Value;
use signer::{Packaging, SignerHandle, TimestampError, TimestampSource};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use x509_cert::der::{Decode, Encode};
use x509_cert::Certificate;

on_both_stores!(
    a_vhod_signature_passes_over_the_api_and_on_the_page,
    a_changed_byte_is_a_hash_failure,
    a_certificate_revoked_before_signing_gives_revoked,
    garbage_is_a_format_failure_and_oversize_uploads_get_413,
    validation_is_rate_limited_per_address,
    the_page_refuses_a_form_without_its_csrf_token,
);

pub(crate) const DOCUMENT: &[u8] =
    b"Agreement no. 42: the parties agree to validate every signature.\n";
const API: &str = "/api/signer/v1/validate";

/// A multipart/form-data body: `(name, file name, bytes)`; no file name for text fields.
fn multipart(parts: &[(&str, Option<&str>, &[u8])]) -> (String, Vec<u8>) {
    let boundary = "vhod-test-9f2c4a7e1b";
    let mut body = Vec::new();
    for (name, file, data) in parts {
        let disposition = match file {
            Some(f) => format!("form-data; name=\"{name}\"; filename=\"{f}\"\r\nContent-Type: application/octet-stream"),
            None => format!("form-data; name=\"{name}\""),
        };
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: {disposition}\r\n\r\n").as_bytes(),
        );
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// POSTs a document (and a detached signature) to the API; the status and the JSON.
pub(crate) async fn api(app: &TestApp, document: &[u8], signature: Option<&[u8]>) -> (u16, Value) {
    let mut parts = vec![("document", Some("document.bin"), document)];
    if let Some(s) = signature {
        parts.push(("signature", Some("document.sig"), s));
    }
    let (ct, body) = multipart(&parts);
    post(app, &ct, body).await
}

async fn post(app: &TestApp, content_type: &str, body: Vec<u8>) -> (u16, Value) {
    let r = http()
        .post(app.url(API))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
    let json: Value = r.json().await.unwrap();
    let want = if status == 200 {
        "application/json"
    } else {
        "application/problem+json"
    };
    assert_eq!(ct, want, "{status} {json}");
    (status, json)
}

pub(crate) fn verdict(report: &Value) -> (&str, Option<&str>) {
    (
        report["indication"].as_str().unwrap(),
        report["sub_indication"].as_str(),
    )
}

/// A citizen of vhod's CA: the certificate and its (decrypted) key.
pub(crate) async fn citizen(app: &TestApp) -> (keys::ca::CitizenCert, keys::ca::CitizenKey) {
    let subject = CitizenSubject {
        surname: "Иванова".into(),
        given_name: "Алиса".into(),
        patronymic: Some("Петровна".into()),
        snils: Some(Snils::parse("112-233-445 95").unwrap()),
        inn: None,
    };
    let ca = &app.app.signer.ca;
    let cert = ca
        .issue("acc-validation", &subject, KeyAlg::P256, None)
        .await
        .unwrap();
    let key = ca.citizen_key(&cert.serial).await.unwrap();
    (cert, key)
}

/// vhod's TSA as a timestamp source: the RFC 3161 request made by hand (it is four fields),
/// the token taken out of the response.
struct VhodTsa(Arc<keys::ca::Ca>);

#[derive(x509_cert::der::Sequence)]
struct TimeStampResp {
    status: x509_cert::der::Any,
    token: Option<x509_cert::der::Any>,
}

impl TimestampSource for VhodTsa {
    fn timestamp(&self, digest: &[u8]) -> Result<Vec<u8>, TimestampError> {
        // TimeStampReq ::= SEQUENCE { version 1, messageImprint { sha256, digest }, certReq TRUE }
        let mut req = vec![
            0x30, 0x39, 0x02, 0x01, 0x01, 0x30, 0x31, 0x30, 0x0d, 0x06, 0x09,
        ];
        req.extend_from_slice(&[
            0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01, 0x05, 0x00,
        ]);
        req.extend_from_slice(&[0x04, 0x20]);
        req.extend_from_slice(digest);
        req.extend_from_slice(&[0x01, 0x01, 0xff]);
        let ca = self.0.clone();
        let resp = tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(async move { ca.timestamp(&req).await })
        });
        let resp = TimeStampResp::from_der(&resp)?;
        Ok(resp.token.ok_or(TimestampError::NotTstInfo)?.to_der()?)
    }
}

/// A CAdES signature of `doc` by `cert`/`key`, at the app's time, B-T when `tsa`.
pub(crate) fn sign(
    app: &TestApp,
    cert: &keys::ca::CitizenCert,
    key: keys::ca::CitizenKey,
    doc: &[u8],
    packaging: Packaging,
    tsa: bool,
) -> Vec<u8> {
    let ca = &app.app.signer.ca;
    let handle = SignerHandle {
        key,
        cert: Certificate::from_der(&cert.der).unwrap(),
        chain: vec![Certificate::from_der(ca.issuing_der()).unwrap()],
    };
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(app.app.now() as u64);
    let source = VhodTsa(ca.clone());
    let tsa: Option<&dyn TimestampSource> = if tsa { Some(&source) } else { None };
    signer::cades::sign::<_, CitizenSignature>(doc, packaging, &handle, now, tsa).unwrap()
}

/// The validation page in `lang` submitted by a browser: the form's CSRF token, the files.
async fn page(
    app: &TestApp,
    lang: &str,
    document: &[u8],
    signature: Option<&[u8]>,
) -> (u16, String) {
    let b = Browser::new();
    let (status, _, html) = b
        .get(&app.base, &app.url(&format!("/validate?ui_locales={lang}")))
        .await
        .page();
    assert_eq!(status, 200, "{html}");
    let csrf = hidden(&html, "csrf").expect("csrf field");
    let action = form_action(&html).expect("form action");
    assert_eq!(action, format!("/validate?ui_locales={lang}"));
    let mut parts = vec![
        ("csrf", None, csrf.as_bytes()),
        ("document", Some("doc.bin"), document),
    ];
    parts.push(("signature", Some("doc.sig"), signature.unwrap_or_default()));
    let (ct, body) = multipart(&parts);
    let r = b
        .http
        .post(app.url(&action))
        .header("content-type", ct)
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn a_vhod_signature_passes_over_the_api_and_on_the_page(app: TestApp) {
    let (cert, key) = citizen(&app).await;
    let detached = sign(
        &app,
        &cert,
        key.clone(),
        DOCUMENT,
        Packaging::Detached,
        true,
    );
    let (status, report) = api(&app, DOCUMENT, Some(&detached)).await;
    assert_eq!(status, 200);
    assert_eq!(verdict(&report), ("TOTAL_PASSED", None), "{report:#}");
    let sig = &report["signatures"][0];
    assert!(sig["signer"]["subject"]
        .as_str()
        .unwrap()
        .contains("Иванова Алиса Петровна"));
    assert_eq!(sig["chain"].as_array().unwrap().len(), 3, "{sig:#}");
    assert_eq!(sig["timestamp"]["valid"], true);

    // An attached signature sent as the body with its media type.
    let attached = sign(&app, &cert, key, DOCUMENT, Packaging::Attached, false);
    let (status, report) = post(&app, "application/pkcs7-mime", attached).await;
    assert_eq!(status, 200);
    assert_eq!(verdict(&report), ("TOTAL_PASSED", None), "{report:#}");
    assert_eq!(report["kind"], "attached");

    let (status, html) = page(&app, "en", DOCUMENT, Some(&detached)).await;
    assert_eq!(status, 200, "{html}");
    for want in [
        "The signature is valid",
        "TOTAL_PASSED",
        "Иванова Алиса Петровна",
        "112-233-445 95",
        "Document integrity (hash)",
        "proves the time",
    ] {
        assert!(html.contains(want), "{want} missing: {html}");
    }
    let (status, html) = page(&app, "ru", DOCUMENT, Some(&detached)).await;
    assert_eq!(status, 200);
    assert!(html.contains("Подпись действительна"), "{html}");
    assert!(html.contains("СНИЛС"), "{html}");
    // The library's technical details stay in English, marked as such for readers and
    // screen readers.
    assert!(html.contains("Технические подробности (на английском): <span lang=\"en\">"));
}

async fn a_changed_byte_is_a_hash_failure(app: TestApp) {
    let (cert, key) = citizen(&app).await;
    let sig = sign(&app, &cert, key, DOCUMENT, Packaging::Detached, false);
    let mut changed = DOCUMENT.to_vec();
    changed[10] ^= 0x01;
    let (status, report) = api(&app, &changed, Some(&sig)).await;
    assert_eq!(status, 200);
    assert_eq!(
        verdict(&report),
        ("TOTAL_FAILED", Some("HASH_FAILURE")),
        "{report:#}"
    );
    let (_, html) = page(&app, "en", &changed, Some(&sig)).await;
    assert!(html.contains("The signature is not valid"), "{html}");
    assert!(html.contains("HASH_FAILURE"));
    assert!(html.contains("changed after it was signed"), "{html}");
    let (_, html) = page(&app, "ru", &changed, Some(&sig)).await;
    assert!(html.contains("Подпись недействительна"), "{html}");
    assert!(html.contains("изменён после подписания"), "{html}");
}

async fn a_certificate_revoked_before_signing_gives_revoked(app: TestApp) {
    let (cert, key) = citizen(&app).await;
    let ca = &app.app.signer.ca;
    assert!(ca
        .revoke(&cert.serial, CrlReason::KeyCompromise, app.app.now())
        .await
        .unwrap());
    app.clock.advance(60);
    // The key was taken out before the revocation; the signature is made after it.
    let stamped = sign(
        &app,
        &cert,
        key.clone(),
        DOCUMENT,
        Packaging::Detached,
        true,
    );
    let (_, report) = api(&app, DOCUMENT, Some(&stamped)).await;
    assert_eq!(
        verdict(&report),
        ("TOTAL_FAILED", Some("REVOKED")),
        "a timestamp after the revocation proves it: {report:#}"
    );
    let plain = sign(&app, &cert, key, DOCUMENT, Packaging::Detached, false);
    let (_, report) = api(&app, DOCUMENT, Some(&plain)).await;
    assert_eq!(
        verdict(&report),
        ("INDETERMINATE", Some("REVOKED_NO_POE")),
        "without a timestamp nothing dates the signature: {report:#}"
    );
    let (_, html) = page(&app, "en", DOCUMENT, Some(&stamped)).await;
    assert!(html.contains("REVOKED"), "{html}");
    assert!(html.contains("had been revoked before"), "{html}");
}

async fn garbage_is_a_format_failure_and_oversize_uploads_get_413(app: TestApp) {
    let garbage = b"this is not a signature at all".to_vec();
    for (doc, sig) in [
        (&garbage[..], None),
        (DOCUMENT, Some(&garbage[..])),
        (&[0x30, 0x82, 0xff][..], None),
    ] {
        let (status, report) = api(&app, doc, sig).await;
        assert_eq!(status, 200);
        assert_eq!(
            verdict(&report),
            ("TOTAL_FAILED", Some("FORMAT_FAILURE")),
            "{report:#}"
        );
    }
    for ct in [
        "application/pdf",
        "application/octet-stream",
        "application/cms",
    ] {
        let (status, report) = post(&app, ct, garbage.clone()).await;
        assert_eq!(status, 200, "{ct}");
        assert_eq!(
            verdict(&report).1,
            Some("FORMAT_FAILURE"),
            "{ct}: {report:#}"
        );
    }
    let (status, problem) = post(&app, "text/plain", garbage.clone()).await;
    assert_eq!(status, 415, "{problem}");
    let (ct, body) = multipart(&[("signature", Some("s.sig"), &garbage)]);
    let (status, problem) = post(&app, &ct, body).await;
    assert_eq!(status, 400);
    assert!(problem["detail"].as_str().unwrap().contains("no document"));
    let (status, _) = post(&app, "multipart/form-data; boundary=x", b"--y\r\n".to_vec()).await;
    assert_eq!(status, 400);

    let big = vec![b'a'; signer::MAX_DOCUMENT + 1];
    let (status, problem) = api(&app, &big, None).await;
    assert_eq!(status, 413, "{problem}");
    assert_eq!(problem["status"], 413);
    let (status, _) = post(&app, "application/pdf", big).await;
    assert_eq!(status, 413);
    let (status, _) = api(&app, DOCUMENT, Some(&vec![0u8; signer::MAX_SIGNATURE + 1])).await;
    assert_eq!(status, 413);
    // Exactly at the limits is accepted (and is then judged).
    let (status, report) = api(
        &app,
        &vec![b'a'; signer::MAX_DOCUMENT],
        Some(&vec![0u8; signer::MAX_SIGNATURE]),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(verdict(&report).1, Some("FORMAT_FAILURE"));

    let (status, html) = page(&app, "en", &garbage, None).await;
    assert_eq!(status, 200);
    assert!(html.contains("could not be read as a signature"), "{html}");
    let (status, html) = page(&app, "en", &vec![b'a'; signer::MAX_DOCUMENT + 1], None).await;
    assert_eq!(status, 413);
    assert!(html.contains("The file is too large"), "{html}");
}

async fn validation_is_rate_limited_per_address(app: TestApp) {
    let limit = signer::http::validate::PER_WINDOW;
    for i in 0..limit {
        let (status, _) = post(&app, "application/octet-stream", b"x".to_vec()).await;
        assert_eq!(status, 200, "request {i}");
    }
    let r = http()
        .post(app.url(API))
        .header("content-type", "application/octet-stream")
        .body("x")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "60");
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    // The page counts against the same limit.
    let (status, html) = page(&app, "en", DOCUMENT, None).await;
    assert_eq!(status, 429);
    assert!(html.contains("Too many checks"), "{html}");
}

async fn the_page_refuses_a_form_without_its_csrf_token(app: TestApp) {
    let (ct, body) = multipart(&[("csrf", None, b"forged"), ("document", Some("d"), DOCUMENT)]);
    let r = http()
        .post(app.url("/validate"))
        .header("content-type", ct)
        .header("accept-language", "en")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let html = r.text().await.unwrap();
    assert!(html.contains("The form has expired"), "{html}");
    // The page shows a fresh form with a token again.
    assert!(hidden(&html, "csrf").is_some());
}
