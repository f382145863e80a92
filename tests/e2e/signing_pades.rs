//! PAdES through the signing-requests API (issue 5): a client asks for `pades` at B-T, the
//! citizen confirms on the signing page, and the signed PDF the client downloads is judged
//! valid by pyHanko (trusting only vhod's published root, with revocation fetched from vhod's
//! own CRL/OCSP over HTTP and the signature timestamp from vhod's TSA checked) and by vhod's
//! own public validation endpoint.

use crate::helpers::*;
use crate::on_both_stores;
use crate::signing::{
    api_client, certificate, create, pdf, post_form, save_root, sign_in_with_totp, signature,
    token, PASSWORD, TOTP,
};
use crate::validation::verdict;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "../../signer/tests/common/venv.rs"]
mod venv;

on_both_stores!(a_pades_request_signs_pdfs_that_pyhanko_and_vhod_accept,);

/// pyHanko from the tests' venv, built once from `signer/tests/requirements.txt`.
fn venv() -> PathBuf {
    venv::venv_in(&Path::new(env!("CARGO_MANIFEST_DIR")).join("signer/tests"))
}

/// A PDF that another writer (reportlab) made, with a compressed page stream.
fn reportlab_pdf(dir: &Path) -> Vec<u8> {
    let out = dir.join("reportlab.pdf");
    let script = "import sys\nfrom reportlab.pdfgen import canvas\n\
                  c = canvas.Canvas(sys.argv[1])\nc.drawString(72, 720, 'Contract 2')\n\
                  c.showPage()\nc.save()\n";
    let made = Command::new(venv().join("bin/python"))
        .args(["-c", script])
        .arg(&out)
        .output()
        .unwrap();
    assert!(made.status.success(), "{made:?}");
    std::fs::read(out).unwrap()
}

/// `pyhanko sign validate` trusting only `root.pem`; revocation is checked (pyHanko fetches
/// the CRL or OCSP answer from the URLs in the certificates, i.e. from this vhod, so it runs
/// off the server's threads).
async fn pyhanko_validate(dir: &Path, pdf: &str) -> (bool, String) {
    let (dir, pdf) = (dir.to_owned(), pdf.to_owned());
    tokio::task::spawn_blocking(move || pyhanko_validate_now(&dir, &pdf))
        .await
        .unwrap()
}

fn pyhanko_validate_now(dir: &Path, pdf: &str) -> (bool, String) {
    let out = Command::new(venv().join("bin/pyhanko"))
        .args(["sign", "validate", "--pretty-print", "--trust-replace"])
        .arg("--trust")
        .arg(dir.join("root.pem"))
        .arg(dir.join(pdf))
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

async fn a_pades_request_signs_pdfs_that_pyhanko_and_vhod_accept(app: TestApp) {
    let sealed = idp::totp::seal(&app.app.secrets.factor_key, TOTP);
    let citizen = app
        .user_with("pades-citizen", PASSWORD, |a| {
            a.email_verified = true;
            a.totp_secret = Some(sealed);
        })
        .await;
    let cert = certificate(&app, &citizen, "Борис", Some("112-233-445 95")).await;
    let client = api_client(&app, "Архив", &["sign"]).await;
    let t = token(&app, &client, "sign").await;

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_owned();
    let ours = pdf();
    let theirs = {
        let d = d.clone();
        tokio::task::spawn_blocking(move || reportlab_pdf(&d))
            .await
            .unwrap()
    };
    let files: [(&str, &[u8]); 2] = [("contract.pdf", &ours), ("annex.pdf", &theirs)];
    let req = serde_json::json!({"sub": citizen, "format": "pades", "level": "B-T"});
    let (status, _, req) = create(&app, Some(&t), &req, &files).await;
    assert_eq!(status, 201, "{req}");
    let id = req["id"].as_str().unwrap().to_owned();
    let digest = req["set_digest"].as_str().unwrap().to_owned();
    let page_path = format!("/account/sign/{id}");

    let b = sign_in_with_totp(&app, "pades-citizen").await;
    let (status, _, html) = b.get(&app.base, &app.url(&page_path)).await.page();
    assert_eq!(status, 200, "{html}");
    assert!(html.contains(&cert.serial), "{html}");
    let csrf = hidden(&html, "csrf").unwrap();
    let code = idp::totp::code_at(TOTP, app.app.now());
    let (status, html) = post_form(
        &b,
        &app,
        &page_path,
        &[("csrf", &csrf), ("set_digest", &digest), ("code", &code)],
    )
    .await;
    assert_eq!(status, 200, "{html}");

    let got: Value = get_bearer_json(&app.url(&format!("/api/signer/v1/requests/{id}")), &t).await;
    assert_eq!(got["status"], "signed", "{got}");
    assert_eq!(got["format"], "pades", "{got}");
    save_root(&app, &d).await;

    for (n, (name, original)) in files.iter().enumerate() {
        let (ct, signed) = signature(&app, &t, &got, n).await;
        assert_eq!(ct, "application/pdf", "{name}");
        // An incremental update: the original bytes are kept as they were.
        assert!(
            signed.starts_with(original),
            "{name}: not an incremental update"
        );
        assert!(signed.len() > original.len());
        let file = format!("signed-{n}.pdf");
        std::fs::write(d.join(&file), &signed).unwrap();

        // pyHanko: trusted, sound, valid, with the timestamp from vhod's TSA, and the
        // revocation status fetched from vhod itself.
        let (ok, text) = pyhanko_validate(&d, &file).await;
        assert!(ok, "{name}: pyHanko rejected the signature: {text}");
        for line in [
            "The signer's certificate is trusted.",
            "The signature is cryptographically sound.",
            "The signature is judged VALID.",
            "Signature timestamp token:",
            "The timestamp token is cryptographically sound.",
            "The signature covers the entire file.",
        ] {
            assert!(text.contains(line), "{name}: {line:?} missing in {text}");
        }

        // vhod's own public validation says the same.
        let (status, report) = crate::validation::api(&app, &signed, None).await;
        assert_eq!(status, 200);
        assert_eq!(verdict(&report), ("TOTAL_PASSED", None), "{name}: {report}");

        // One changed byte in the signed range (the header's minor version, 1.x to 1.y, so
        // the file still parses): pyHanko and vhod both refuse it.
        assert!(signed.starts_with(b"%PDF-1."), "{name}");
        let mut altered = signed.clone();
        altered[7] ^= 1;
        let bad = format!("altered-{n}.pdf");
        std::fs::write(d.join(&bad), &altered).unwrap();
        let (ok, text) = pyhanko_validate(&d, &bad).await;
        assert!(!ok, "{name}: pyHanko accepted an altered PDF: {text}");
        let (_, report) = crate::validation::api(&app, &altered, None).await;
        assert_eq!(
            verdict(&report),
            ("TOTAL_FAILED", Some("HASH_FAILURE")),
            "{name}: {report}"
        );
    }
}
