//! Signing requests (issue 5): a client with the `sign` scope creates them over
//! `/api/signer/v1/` (RFC 6750 bearer tokens, RFC 9457 problems), the citizen signs or declines
//! on `/account/sign/{id}` with the authenticator app's code, and the signatures verify with
//! OpenSSL against vhod's published root.

use crate::ca::openssl_line;
use crate::helpers::*;
use crate::on_both_stores;
use idp::oauth::client_auth::new_secret;
use idp::oauth::types::{AuthMethod, GrantType};
use idp::store::NewClient;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::path::Path;

on_both_stores!(
    the_api_checks_tokens_files_and_ownership,
    the_citizen_signs_with_a_totp_code_and_declines,
);

pub(crate) const TOTP: &[u8] = b"12345678901234567890";
pub(crate) const PASSWORD: &str = "correct horse battery";

/// A client allowed `scope`, with the client_credentials grant; returns (id, secret).
pub(crate) async fn api_client(app: &TestApp, name: &str, scope: &[&str]) -> (String, String) {
    let id = format!("vhc_{}", uuid::Uuid::new_v4().simple());
    let (secret, hash) = new_secret(&app.app.secrets.client_secret_key);
    let nc = NewClient {
        name: name.into(),
        secret_hash: Some(hash),
        auth_method: AuthMethod::ClientSecretBasic,
        redirect_uris: vec!["http://127.0.0.1:9/cb".into()],
        post_logout_redirect_uris: vec![],
        grant_types: vec![GrantType::ClientCredentials],
        scope: scope.iter().map(|s| s.to_string()).collect(),
        jwks: None,
        jwks_uri: None,
        id_token_signed_response_alg: None,
        userinfo_signed_response_alg: None,
        introspection_signed_response_alg: None,
        sector_identifier: None,
        resources: Vec::new(),
        authorization_signed_response_alg: None,
        require_mfa: false,
        min_level: None,
        require_pushed_authorization_requests: false,
        dpop_bound_access_tokens: false,
        require_signed_request_object: false,
        backchannel_logout_uri: None,
        frontchannel_logout_uri: None,
        frontchannel_logout_session_required: false,
    };
    app.app
        .db
        .clients()
        .insert(&id, &nc, app.app.now())
        .await
        .unwrap();
    (id, secret)
}

pub(crate) async fn token(app: &TestApp, client: &(String, String), scope: &str) -> String {
    let r = http()
        .post(app.url("/token"))
        .basic_auth(&client.0, Some(&client.1))
        .form(&[("grant_type", "client_credentials"), ("scope", scope)])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = r.json().await.unwrap();
    body["access_token"].as_str().unwrap().to_owned()
}

/// A one-page PDF with a correct cross-reference table.
pub(crate) fn pdf() -> Vec<u8> {
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R /Resources << >> >>",
        "<< /Length 0 >>\nstream\n\nendstream",
    ];
    let mut out = b"%PDF-1.7\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n{o}\nendobj\n", i + 1).bytes());
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).bytes());
    for o in offsets {
        out.extend(format!("{o:010} 00000 n \n").bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .bytes(),
    );
    out
}

/// A 1×1 PNG.
const PNG: &[u8] = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0\x1f\x15\xc4\x89\0\0\0\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\0\0\0\0IEND\xaeB`\x82";

pub(crate) const TXT: &[u8] = "Договор оказания услуг №1\n".as_bytes();

/// A multipart/form-data body (RFC 7578) with the `request` JSON and file parts.
fn multipart(request: &Value, files: &[(&str, &[u8])]) -> (String, Vec<u8>) {
    let boundary = format!("vhod-{}", uuid::Uuid::new_v4().simple());
    let mut body = Vec::new();
    body.extend(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"request\"\r\n\
             Content-Type: application/json\r\n\r\n{request}\r\n"
        )
        .bytes(),
    );
    for (name, content) in files {
        body.extend(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; \
                 filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .bytes(),
        );
        body.extend_from_slice(content);
        body.extend(b"\r\n");
    }
    body.extend(format!("--{boundary}--\r\n").bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

pub(crate) async fn create(
    app: &TestApp,
    token: Option<&str>,
    request: &Value,
    files: &[(&str, &[u8])],
) -> (u16, reqwest::header::HeaderMap, Value) {
    let (ct, body) = multipart(request, files);
    let mut r = http()
        .post(app.url("/api/signer/v1/requests"))
        .header("content-type", ct)
        .body(body);
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    let r = r.send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let body: Value = r.json().await.unwrap_or(Value::Null);
    (status, headers, body)
}

fn sha256_hex(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|x| format!("{x:02x}"))
        .collect()
}

fn problem_detail(status: u16, headers: &reqwest::header::HeaderMap, body: &Value) -> String {
    assert_eq!(
        headers["content-type"], "application/problem+json",
        "{status} {body}"
    );
    assert_eq!(body["status"], status);
    body["detail"].as_str().unwrap().to_owned()
}

async fn the_api_checks_tokens_files_and_ownership(app: TestApp) {
    let citizen = app.user("api-citizen", PASSWORD).await;
    let client = api_client(&app, "Нотариус", &["sign"]).await;
    let t = token(&app, &client, "sign").await;
    let req = serde_json::json!({"sub": citizen, "format": "cades-detached", "level": "B-B"});
    let pdf = pdf();
    let files: [(&str, &[u8]); 3] = [("contract.pdf", &pdf), ("note.txt", TXT), ("scan.png", PNG)];

    let (status, headers, body) = create(&app, Some(&t), &req, &files).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_owned();
    let created = body.clone();
    assert_eq!(body["status"], "pending");
    assert_eq!(body["sign_url"], app.url(&format!("/account/sign/{id}")));
    assert!(headers["location"].to_str().unwrap().ends_with(&id));
    assert!(body["expires_at"].as_i64().unwrap() - body["created_at"].as_i64().unwrap() == 86400);
    let docs = body["documents"].as_array().unwrap();
    let types: Vec<_> = docs
        .iter()
        .map(|d| d["media_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["application/pdf", "text/plain", "image/png"]);
    for (d, (name, content)) in docs.iter().zip(files) {
        assert_eq!(d["name"], name);
        assert_eq!(d["sha256"], sha256_hex(content));
        assert_eq!(d["size"], content.len());
    }

    // Types are recognised by content, whatever the name says.
    let zip = b"PK\x03\x04\x14\0\0\0\x08\0rest of a zip".to_vec();
    let exe = b"MZ\x90\0\x03\0\0\0\x04\0\0\0\xff\xff".to_vec();
    for (name, content) in [("contract.pdf", &zip), ("setup.txt", &exe)] {
        let (status, headers, body) = create(&app, Some(&t), &req, &[(name, content)]).await;
        assert_eq!(status, 415, "{body}");
        assert!(
            problem_detail(status, &headers, &body).contains(name),
            "{body}"
        );
    }
    // PAdES signs PDFs only.
    let pades = serde_json::json!({"sub": citizen, "format": "pades", "level": "B-B"});
    let (status, headers, body) = create(&app, Some(&t), &pades, &[("note.txt", TXT)]).await;
    assert_eq!(status, 400);
    assert!(problem_detail(status, &headers, &body).contains("note.txt"));
    // 21 documents, and a document over 10 MB.
    let many: Vec<(String, &[u8])> = (0..21).map(|i| (format!("{i}.txt"), TXT)).collect();
    let many: Vec<(&str, &[u8])> = many.iter().map(|(n, c)| (n.as_str(), *c)).collect();
    let (status, headers, body) = create(&app, Some(&t), &req, &many).await;
    assert_eq!(status, 400);
    assert!(problem_detail(status, &headers, &body).contains("20"));
    let big = vec![b'a'; 10 * 1024 * 1024 + 1];
    let (status, headers, body) = create(&app, Some(&t), &req, &[("big.txt", &big)]).await;
    assert_eq!(status, 413);
    assert!(problem_detail(status, &headers, &body).contains("big.txt"));
    // Unknown members of the request part are refused.
    let odd =
        serde_json::json!({"sub": citizen, "format": "cades-detached", "level": "B-B", "x": 1});
    let (status, _, _) = create(&app, Some(&t), &odd, &[("note.txt", TXT)]).await;
    assert_eq!(status, 400);

    // Tokens (RFC 6750 §3): none, garbage, another scope, expired.
    let (status, headers, _) = create(&app, None, &req, &files).await;
    assert_eq!(status, 401);
    assert!(headers["www-authenticate"]
        .to_str()
        .unwrap()
        .starts_with("Bearer"));
    let (status, headers, _) = create(&app, Some("not.a.token"), &req, &files).await;
    assert_eq!(status, 401);
    assert!(headers["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("error=\"invalid_token\""));
    let reader = api_client(&app, "Reader", &["profile"]).await;
    let wrong_scope = token(&app, &reader, "profile").await;
    let (status, headers, body) = create(&app, Some(&wrong_scope), &req, &files).await;
    assert_eq!(status, 403, "{body}");
    assert!(headers["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("error=\"insufficient_scope\""));

    // Another client cannot read the request.
    let other = api_client(&app, "Other", &["sign"]).await;
    let other_t = token(&app, &other, "sign").await;
    let url = app.url(&format!("/api/signer/v1/requests/{id}"));
    let r = http().get(&url).bearer_auth(&other_t).send().await.unwrap();
    assert_eq!(r.status(), 404);
    let r = http().get(&url).bearer_auth(&t).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let got: Value = r.json().await.unwrap();
    assert_eq!(got["status"], "pending");
    assert_eq!(got["documents"], created["documents"]);

    // The OpenAPI document parses and lists every route.
    let doc = get_json(&app.url("/api/signer/v1/openapi.json")).await;
    assert_eq!(doc["openapi"], "3.1.0");
    for (method, path) in signer::requests::ROUTES {
        let rel = path.strip_prefix("/api/signer/v1").unwrap();
        assert!(doc["paths"][rel][*method].is_object(), "{method} {path}");
    }

    // Expired token, then an expired request.
    app.clock.advance(2 * 3600);
    let r = http().get(&url).bearer_auth(&t).send().await.unwrap();
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("invalid_token"));
    app.clock.advance(24 * 3600);
    let fresh = token(&app, &client, "sign").await;
    let got: Value = get_bearer_json(&url, &fresh).await;
    assert_eq!(got["status"], "expired");
}

/// Signs in to /account with password and authenticator code (the code of the previous
/// step, so the current one stays unused for signing).
pub(crate) async fn sign_in_with_totp(app: &TestApp, login: &str) -> Browser {
    let b = Browser::new();
    let (_, _, html) = b.get(&app.base, &app.url("/account")).await.page();
    let (_, _, html) = b
        .submit(
            &app.base,
            &html,
            &[("login", login), ("password", PASSWORD)],
        )
        .await
        .page();
    let code = idp::totp::code_at(TOTP, app.app.now() - 30);
    let (status, url, html) = b.submit(&app.base, &html, &[("code", &code)]).await.page();
    assert_eq!(status, 200, "{html}");
    assert!(url.ends_with("/account"), "{url}");
    b
}

pub(crate) async fn post_form(
    b: &Browser,
    app: &TestApp,
    path: &str,
    fields: &[(&str, &str)],
) -> (u16, String) {
    let r = b
        .http
        .post(app.url(path))
        .form(fields)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Issues a P-256 citizen certificate to `account` straight from the CA (the certificates
/// page and its second factor are tested in `certificates.rs`).
pub(crate) async fn certificate(
    app: &TestApp,
    account: &str,
    given_name: &str,
    snils: Option<&str>,
) -> keys::ca::CitizenCert {
    let subject = keys::ca::CitizenSubject {
        surname: "Пример".into(),
        given_name: given_name.into(),
        patronymic: None,
        snils: snils.map(|s| keys::ca::Snils::parse(s).unwrap()),
        inn: None,
    };
    app.app
        .signer
        .ca
        .issue(account, &subject, keys::ca::KeyAlg::P256, None)
        .await
        .unwrap()
}

/// Saves vhod's published root certificate as `dir/root.pem`.
pub(crate) async fn save_root(app: &TestApp, dir: &Path) {
    let root = http()
        .get(app.url("/ca/root.pem"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    std::fs::write(dir.join("root.pem"), root).unwrap();
}

/// `openssl cms -verify` of the detached signature `sig` over `content` against
/// `dir/root.pem` (left in `dir` as `sig.p7s` and `doc`).
pub(crate) fn verify_detached(dir: &Path, content: &[u8], sig: &[u8]) -> (bool, String) {
    std::fs::write(dir.join("doc"), content).unwrap();
    std::fs::write(dir.join("sig.p7s"), sig).unwrap();
    openssl_line(
        "cms -verify -inform DER -in sig.p7s -content doc -binary -CAfile root.pem -purpose any -out /dev/null",
        dir,
    )
}

pub(crate) async fn signature(app: &TestApp, t: &str, body: &Value, n: usize) -> (String, Vec<u8>) {
    let url = body["documents"][n]["signature_url"].as_str().unwrap();
    let r = http().get(url).bearer_auth(t).send().await.unwrap();
    assert_eq!(r.status(), 200);
    let ct = r.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment"));
    let _ = app;
    (ct, r.bytes().await.unwrap().to_vec())
}

async fn the_citizen_signs_with_a_totp_code_and_declines(app: TestApp) {
    let sealed = idp::totp::seal(&app.app.secrets.factor_key, TOTP);
    let citizen = app
        .user_with("signer-citizen", PASSWORD, |a| {
            a.email_verified = true;
            a.totp_secret = Some(sealed);
        })
        .await;
    let client = api_client(&app, "Нотариус <Юг>", &["sign"]).await;
    let t = token(&app, &client, "sign").await;
    let pdf = pdf();
    let files: [(&str, &[u8]); 3] = [("contract.pdf", &pdf), ("note.txt", TXT), ("scan.png", PNG)];
    let detached = serde_json::json!({"sub": citizen, "format": "cades-detached", "level": "B-T"});
    let (status, _, req) = create(&app, Some(&t), &detached, &files).await;
    assert_eq!(status, 201, "{req}");
    let id = req["id"].as_str().unwrap().to_owned();
    let page_path = format!("/account/sign/{id}");

    let b = sign_in_with_totp(&app, "signer-citizen").await;
    // No certificate yet: the page says so and links to the certificates page.
    let (status, _, html) = b.get(&app.base, &app.url(&page_path)).await.page();
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("id=\"no-certificate\""), "{html}");
    assert!(html.contains("/account/certificates"));
    let cert = certificate(&app, &citizen, "Алиса", None).await;

    // The page: client, names, hashes, previews, certificate.
    let (status, _, html) = b.get(&app.base, &app.url(&page_path)).await.page();
    assert_eq!(status, 200);
    assert!(html.contains("Нотариус &lt;Юг&gt;"), "{html}");
    for (name, content) in files {
        assert!(html.contains(name), "{name}");
        assert!(html.contains(&sha256_hex(content)), "{name}");
    }
    assert!(html.contains(&cert.serial));
    let digest = req["set_digest"].as_str().unwrap();
    assert_eq!(hidden(&html, "set_digest").as_deref(), Some(digest));
    let csrf = hidden(&html, "csrf").unwrap();
    // The preview of the image: its own type, nosniff, a sandbox.
    let r = b
        .http
        .get(app.url(&format!("{page_path}/documents/3")))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/png");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    assert!(r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("sandbox"));
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("inline"));
    assert_eq!(r.bytes().await.unwrap().as_ref(), PNG);

    // Another account sees nothing.
    app.user("someone-else", PASSWORD).await;
    let (other, _) = crate::account::open_account(&app, "someone-else", PASSWORD).await;
    let (status, _, _) = other.get(&app.base, &app.url(&page_path)).await.page();
    assert_eq!(status, 404);

    // A wrong code, a mismatching set digest, a missing CSRF token: refused, nothing signed.
    let (status, html) = post_form(
        &b,
        &app,
        &page_path,
        &[("csrf", &csrf), ("set_digest", digest), ("code", "000000")],
    )
    .await;
    assert_eq!(status, 401, "{html}");
    let code = idp::totp::code_at(TOTP, app.app.now());
    let other_digest = "0".repeat(64);
    let (status, _) = post_form(
        &b,
        &app,
        &page_path,
        &[
            ("csrf", &csrf),
            ("set_digest", &other_digest),
            ("code", &code),
        ],
    )
    .await;
    assert_eq!(status, 409);
    let (status, _) = post_form(
        &b,
        &app,
        &page_path,
        &[("set_digest", digest), ("code", &code)],
    )
    .await;
    assert_eq!(status, 403);
    // The right code over the shown set signs.
    let (status, html) = post_form(
        &b,
        &app,
        &page_path,
        &[("csrf", &csrf), ("set_digest", digest), ("code", &code)],
    )
    .await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("data-status=\"signed\""), "{html}");
    // Signed once: the next code cannot sign again.
    app.clock.advance(60);
    let code = idp::totp::code_at(TOTP, app.app.now());
    let (status, _) = post_form(
        &b,
        &app,
        &page_path,
        &[("csrf", &csrf), ("set_digest", digest), ("code", &code)],
    )
    .await;
    assert_eq!(status, 409);

    // The client reads the result; every signature verifies against vhod's root.
    let url = app.url(&format!("/api/signer/v1/requests/{id}"));
    let got: Value = get_bearer_json(&url, &t).await;
    assert_eq!(got["status"], "signed", "{got}");
    assert_eq!(got["certificate"]["serial"], cert.serial.as_str());
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    save_root(&app, d).await;
    for (n, (name, content)) in files.iter().enumerate() {
        let (ct, sig) = signature(&app, &t, &got, n).await;
        assert_eq!(ct, "application/pkcs7-signature");
        let (ok, text) = verify_detached(d, content, &sig);
        assert!(ok, "{name}: {text}");
        // B-T: a signature time-stamp is inside.
        let (_, dump) = openssl_line("cms -cmsout -print -inform DER -in sig.p7s", d);
        assert!(
            dump.contains("id-smime-aa-timeStampToken"),
            "{name}: no time-stamp"
        );
    }

    // An attached signature, B-B.
    let attached = serde_json::json!({"sub": citizen, "format": "cades-attached", "level": "B-B"});
    let (_, _, req2) = create(&app, Some(&t), &attached, &[("note.txt", TXT)]).await;
    let id2 = req2["id"].as_str().unwrap();
    let (_, _, html) = b
        .get(&app.base, &app.url(&format!("/account/sign/{id2}")))
        .await
        .page();
    let (status, html) = post_form(
        &b,
        &app,
        &format!("/account/sign/{id2}"),
        &[
            ("csrf", &hidden(&html, "csrf").unwrap()),
            ("set_digest", &hidden(&html, "set_digest").unwrap()),
            ("code", &code),
        ],
    )
    .await;
    assert_eq!(status, 200, "{html}");
    let got2: Value =
        get_bearer_json(&app.url(&format!("/api/signer/v1/requests/{id2}")), &t).await;
    let (ct, sig) = signature(&app, &t, &got2, 0).await;
    assert_eq!(ct, "application/pkcs7-mime");
    std::fs::write(d.join("sig.p7m"), sig).unwrap();
    let (ok, text) = openssl_line(
        "cms -verify -inform DER -in sig.p7m -CAfile root.pem -purpose any -out content.txt",
        d,
    );
    assert!(ok, "{text}");
    assert_eq!(std::fs::read(d.join("content.txt")).unwrap(), TXT);

    // A code by e-mail: its message names the document count and the digest's prefix, and it
    // confirms that set only.
    let (_, _, req5) = create(
        &app,
        Some(&t),
        &attached,
        &[("a.txt", TXT), ("b.pdf", &pdf)],
    )
    .await;
    let (_, _, req6) = create(&app, Some(&t), &attached, &[("c.txt", b"other")]).await;
    let (id5, id6) = (req5["id"].as_str().unwrap(), req6["id"].as_str().unwrap());
    let digest5 = req5["set_digest"].as_str().unwrap();
    let (status, html) = post_form(
        &b,
        &app,
        &format!("/account/sign/{id5}/send"),
        &[
            ("csrf", &csrf),
            ("set_digest", digest5),
            ("method", "email"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("id=\"code-sent\""), "{html}");
    let to = idp::notify::Recipient::Email("signer-citizen@example.com".into());
    let sent = app.app.notifier.outbox.as_ref().unwrap().recent();
    let msg = sent
        .iter()
        .rev()
        .find(|m| m.message.kind == "sign_code" && m.message.to == to)
        .unwrap();
    assert!(
        msg.message.text.contains(&digest5[..8]),
        "{}",
        msg.message.text
    );
    assert!(msg.message.text.contains("2 "), "{}", msg.message.text);
    let mail_code = crate::otp_factors::last_code(&app, "sign_code", &to);
    let digest6 = req6["set_digest"].as_str().unwrap();
    let (status, _) = post_form(
        &b,
        &app,
        &format!("/account/sign/{id6}"),
        &[
            ("csrf", &csrf),
            ("set_digest", digest6),
            ("method", "email"),
            ("code", &mail_code),
        ],
    )
    .await;
    assert_eq!(status, 401, "a code sent for another set of documents");
    let (status, html) = post_form(
        &b,
        &app,
        &format!("/account/sign/{id5}"),
        &[
            ("csrf", &csrf),
            ("set_digest", digest5),
            ("method", "email"),
            ("code", &mail_code),
        ],
    )
    .await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("data-status=\"signed\""), "{html}");

    // Decline.
    let (_, _, req3) = create(&app, Some(&t), &detached, &[("other.txt", TXT)]).await;
    let id3 = req3["id"].as_str().unwrap();
    let (status, html) = post_form(
        &b,
        &app,
        &format!("/account/sign/{id3}/decline"),
        &[("csrf", &csrf)],
    )
    .await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("data-status=\"declined\""));
    let got3: Value =
        get_bearer_json(&app.url(&format!("/api/signer/v1/requests/{id3}")), &t).await;
    assert_eq!(got3["status"], "declined");

    // History shows both; a pending one is listed apart.
    let (_, _, req4) = create(&app, Some(&t), &detached, &[("later.txt", TXT)]).await;
    let (status, _, html) = b
        .get(&app.base, &app.url("/account/signatures"))
        .await
        .page();
    assert_eq!(status, 200);
    assert!(
        html.contains(&format!("data-id=\"{id}\" data-status=\"signed\"")),
        "{html}"
    );
    assert!(html.contains(&format!("data-id=\"{id3}\" data-status=\"declined\"")));
    assert!(html.contains(&format!("<li data-id=\"{}\"", req4["id"].as_str().unwrap())));
    assert!(html.contains("contract.pdf"));

    // The audit trail holds the events and verifies.
    let events = app.app.audit.list(None, None, 100).await.unwrap();
    let actions: Vec<_> = events.iter().map(|e| e.action.as_str()).collect();
    for a in [
        "signature.created",
        "signature.declined",
        "signature.refused",
    ] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    assert!(
        events
            .iter()
            .any(|e| e.action == "signature.created"
                && e.subject.as_deref() == Some(citizen.as_str()))
    );
    assert!(app.app.audit.verify().await.unwrap().broken.is_none());
}
