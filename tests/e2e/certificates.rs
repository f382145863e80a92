//! Citizen certificates in the personal account (issue 5): a confirmed account with a second
//! factor gets ECDSA and RSA certificates that OpenSSL chains to the root, with the SNILS
//! OID, the name and the right keyUsage; wrong or reused codes and lower levels are refused
//! and audited; the citizen's revocation reaches the CRL and OCSP; lowering the level, the
//! lock and deletion revoke too; the audit trail verifies and lists every event.

use crate::ca::{crl_text, ocsp_text, openssl, save_certs};
use crate::helpers::*;
use crate::on_both_stores;
use std::path::Path;
use std::process::Command;

on_both_stores!(
    a_confirmed_citizen_gets_certificates_that_openssl_verifies,
    wrong_or_reused_codes_and_lower_levels_are_refused_and_audited,
    a_citizen_revokes_a_certificate_and_crl_and_ocsp_say_so,
    lowering_the_level_locking_and_deleting_revoke_every_certificate,
    a_code_sent_by_email_confirms_an_issuance,
);

/// Passkeys need a host name for the issuer: these run on `localhost`.
mod a_passkey_confirms_one_issuance {
    use crate::helpers::{spawn_on_localhost, Store};

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn embedded() {
        let app = spawn_on_localhost(Store::Embedded)
            .await
            .expect("embedded app");
        super::a_passkey_confirms_one_issuance(app).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_redis() {
        match spawn_on_localhost(Store::Shared).await {
            Some(app) => super::a_passkey_confirms_one_issuance(app).await,
            None => eprintln!("VHOD_TEST_DATABASE_URL unset: shared-store variant not run here"),
        }
    }
}

const PW: &str = "correct horse battery staple";
/// The RFC 6238 SHA-1 seed.
const SEED: &[u8] = b"12345678901234567890";

/// An account at `level` with an authenticator app and the identity data of the standard
/// level (name, SNILS, INN) saved as the identity form saves them; returns its id.
async fn citizen(app: &TestApp, login: &str, level: &str) -> String {
    let sealed = idp::totp::seal(&app.app.secrets.factor_key, SEED);
    let id = app
        .user_with(login, PW, |a| {
            a.level = Some(level.into());
            a.email_verified = true;
            a.totp_secret = Some(sealed);
        })
        .await;
    let (seal, index) = (
        &app.app.secrets.identity_key,
        &app.app.secrets.identity_index_key,
    );
    // One SNILS per account: each test account gets a valid one of its own.
    let snils = snils_for(login);
    let identity = idp::store::identity::NewIdentity {
        family_name: "Иванова".into(),
        given_name: "Алиса".into(),
        middle_name: Some("Петровна".into()),
        birth_date: "1990-02-01".into(),
        snils_enc: idp::identity::seal(seal, "snils", &snils),
        snils_index: idp::identity::blind_index(index, "snils", &snils),
        passport_enc: idp::identity::seal(seal, "passport", "4508123456"),
        passport_index: idp::identity::blind_index(index, "passport", "4508123456"),
        inn_enc: Some(idp::identity::seal(seal, "inn", "500100732259")),
        inn_index: Some(idp::identity::blind_index(index, "inn", "500100732259")),
    };
    app.app
        .db
        .identities()
        .upsert(&id, &identity, app.app.now())
        .await
        .unwrap();
    id
}

/// A SNILS with a right check number, different for each login.
fn snils_for(login: &str) -> String {
    let n = 2_000_000 + login.bytes().map(u32::from).sum::<u32>() * 1000 + login.len() as u32;
    let body = format!("{n:09}");
    let sum: u32 = body
        .bytes()
        .zip((1..=9).rev())
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    let check = match sum {
        s if s < 100 => s,
        100 | 101 => 0,
        s => (s % 101) % 100,
    };
    format!("{body}{check:02}")
}

/// The app's code now; the clock moves on a step first, so every code is a fresh one.
fn fresh_code(app: &TestApp) -> String {
    app.clock.advance(30);
    idp::totp::code_at(SEED, app.app.now())
}

/// Signs in to the personal account with the password and the app's code.
async fn open(app: &TestApp, login: &str) -> Browser {
    let b = Browser::new();
    let (_, _, html) = b.get(&app.base, &app.url("/account")).await.page();
    let (_, _, html) = b
        .submit(&app.base, &html, &[("login", login), ("password", PW)])
        .await
        .page();
    assert!(html.contains("name=\"code\""), "the code is asked: {html}");
    let code = fresh_code(app);
    let (status, url, html) = b.submit(&app.base, &html, &[("code", &code)]).await.page();
    assert_eq!(status, 200, "{html}");
    assert!(url.ends_with("/account"), "{url}");
    assert!(
        html.contains("/account/certificates"),
        "linked from the overview"
    );
    b
}

/// Issues a certificate on the page with `alg` and `code`; the status and page.
async fn issue(app: &TestApp, b: &Browser, alg: &str, code: &str) -> (u16, String) {
    let (_, _, html) = b
        .get(&app.base, &app.url("/account/certificates"))
        .await
        .page();
    let fields = [("alg", alg), ("method", "totp"), ("code", code)];
    let (status, _, html) = b
        .submit_form(&app.base, &html, "/certificates/issue", &fields)
        .await
        .page();
    (status, html)
}

async fn certs(app: &TestApp, id: &str) -> Vec<keys::ca::CitizenCert> {
    app.app.signer.ca.list_for_account(id).await.unwrap()
}

fn told(app: &TestApp, kind: &str) -> usize {
    let sent = app.app.notifier.outbox.as_ref().unwrap().recent();
    sent.iter().filter(|m| m.message.kind == kind).count()
}

/// The kinds of the messages to `email` in the development outbox's files, sorted: what
/// the command line sent, as well as the server.
fn outbox_files(app: &TestApp, email: &str) -> Vec<String> {
    let dir = app.config.as_ref().unwrap().data_dir.join("outbox");
    // No directory: nothing was sent.
    let mut kinds: Vec<String> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .map(|f| {
            let json = std::fs::read(f.unwrap().path()).unwrap();
            serde_json::from_slice::<serde_json::Value>(&json).unwrap()
        })
        .filter(|m| m["channel"] == "email" && m["to"] == email)
        .map(|m| m["kind"].as_str().unwrap().to_owned())
        .collect();
    kinds.sort();
    kinds
}

async fn events(app: &TestApp, id: &str, action: &str) -> Vec<serde_json::Value> {
    let all = app.app.audit.list(Some(id), None, 1000).await.unwrap();
    all.into_iter()
        .filter(|e| e.action == action)
        .map(|e| e.details)
        .collect()
}

/// Downloads the certificate `serial` as PEM into `dir/name`.
async fn save_pem(app: &TestApp, b: &Browser, serial: &str, dir: &Path, name: &str) {
    let (status, _, pem) = b
        .get(
            &app.base,
            &app.url(&format!("/account/certificates/{serial}/pem")),
        )
        .await
        .page();
    assert_eq!(status, 200);
    assert!(pem.starts_with("-----BEGIN CERTIFICATE-----"), "{pem}");
    std::fs::write(dir.join(name), pem).unwrap();
}

async fn a_confirmed_citizen_gets_certificates_that_openssl_verifies(app: TestApp) {
    let id = citizen(&app, "anna", "confirmed").await;
    let b = open(&app, "anna").await;
    let (status, html) = issue(&app, &b, "p256", &fresh_code(&app)).await;
    assert_eq!(status, 200, "{html}");
    let (status, html) = issue(&app, &b, "rsa2048", &fresh_code(&app)).await;
    assert_eq!(status, 200, "{html}");
    let list = certs(&app, &id).await;
    assert_eq!(list.len(), 2);
    let rsa = &list
        .iter()
        .find(|c| c.key_alg.as_str() == "RSA-2048")
        .unwrap();
    let ec = &list.iter().find(|c| c.key_alg.as_str() == "P-256").unwrap();
    for c in [ec, rsa] {
        assert!(
            html.contains(&format!("id=\"cert-{}\" data-status=\"valid\"", c.serial)),
            "{html}"
        );
    }
    assert!(html.contains("RSA-2048") && html.contains("P-256"));

    // The DER download is the stored certificate; another account's serial is not found.
    let r = b
        .get(
            &app.base,
            &app.url(&format!("/account/certificates/{}/der", ec.serial)),
        )
        .await;
    let Landed::Page(200, _, _) = &r else {
        panic!("DER download failed")
    };
    let raw = http()
        .get(app.url(&format!("/account/certificates/{}/der", ec.serial)))
        .send()
        .await
        .unwrap();
    assert_ne!(raw.status(), 200, "a stranger gets no certificate");

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    save_certs(&app, d).await;
    save_pem(&app, &b, &ec.serial, d, "ec.pem").await;
    save_pem(&app, &b, &rsa.serial, d, "rsa.pem").await;
    // At the app's time: the test clock ran ahead of the machine's to get fresh codes.
    let at = app.app.now().to_string();
    let (ok, text) = openssl(
        &[
            "verify",
            "-attime",
            &at,
            "-CAfile",
            "root.pem",
            "-untrusted",
            "issuing.pem",
            "ec.pem",
            "rsa.pem",
        ],
        d,
    );
    assert!(ok, "{text}");
    assert!(
        text.contains("ec.pem: OK") && text.contains("rsa.pem: OK"),
        "{text}"
    );
    for (name, key) in [("ec.pem", "id-ecPublicKey"), ("rsa.pem", "(2048 bit)")] {
        let (ok, text) = openssl(
            &[
                "x509",
                "-in",
                name,
                "-noout",
                "-text",
                "-nameopt",
                "multiline,-esc_msb,utf8",
            ],
            d,
        );
        assert!(ok, "{text}");
        assert!(text.contains(key), "{name}: {text}");
        // SNILS under 1.2.643.100.3 (OpenSSL names it), INN, and the name.
        assert!(
            text.contains("SNILS") || text.contains("1.2.643.100.3"),
            "{text}"
        );
        assert!(text.contains(&snils_for("anna")), "{text}");
        assert!(text.contains("500100732259"), "{text}");
        assert!(text.contains("Иванова Алиса Петровна"), "{text}");
        let ku = text
            .split("X509v3 Key Usage: critical")
            .nth(1)
            .unwrap_or("");
        let ku = ku.lines().nth(1).unwrap_or("").trim();
        assert_eq!(ku, "Digital Signature, Non Repudiation", "{text}");
    }
    let issued = events(&app, &id, "certificate.issued").await;
    assert_eq!(issued.len(), 2);
    assert!(issued.iter().any(|e| e["serial"] == ec.serial.as_str()
        && e["key_alg"] == "P-256"
        && e["second_factor"] == "totp"));
    assert!(
        !issued.iter().any(|e| e.to_string().contains("PRIVATE")),
        "no key in events"
    );
    assert_eq!(told(&app, "certificate_issued"), 2);

    // The proven identity is not replaced by typing another one in.
    let (_, _, form) = b.get(&app.base, &app.url("/account/identity")).await.page();
    let (status, _, _) = b
        .submit(&app.base, &form, &crate::account::GOOD)
        .await
        .page();
    assert_eq!(status, 409);
    let kept = app.app.db.identities().get(&id).await.unwrap().unwrap();
    assert_eq!(kept.identity.middle_name.as_deref(), Some("Петровна"));
}

async fn wrong_or_reused_codes_and_lower_levels_are_refused_and_audited(app: TestApp) {
    let id = citizen(&app, "boris", "confirmed").await;
    let b = open(&app, "boris").await;
    // The code of the sign-in was spent there: replaying it is refused.
    let spent = idp::totp::code_at(SEED, app.app.now());
    let (status, html) = issue(&app, &b, "p256", &spent).await;
    assert_eq!(status, 401, "{html}");
    assert!(html.contains("role=\"alert\""));
    let good = fresh_code(&app);
    let wrong = if good == "000000" { "111111" } else { "000000" };
    let (status, _) = issue(&app, &b, "p256", wrong).await;
    assert_eq!(status, 401);
    assert!(certs(&app, &id).await.is_empty(), "no certificate made");
    let refused = events(&app, &id, "certificate.refused").await;
    assert_eq!(refused.len(), 2, "{refused:?}");
    assert!(refused.iter().all(|e| e["reason"] == "second_factor"));
    // The good code still works once; then it is spent.
    let (status, _) = issue(&app, &b, "p256", &good).await;
    assert_eq!(status, 200);
    let (status, _) = issue(&app, &b, "p256", &good).await;
    assert_eq!(status, 401, "a code confirms one issuance");
    let boris_serial = certs(&app, &id).await[0].serial.clone();

    for (login, level) in [("sima", "simplified"), ("stas", "standard")] {
        let id = citizen(&app, login, level).await;
        let b = open(&app, login).await;
        let (_, _, html) = b
            .get(&app.base, &app.url("/account/certificates"))
            .await
            .page();
        assert!(
            html.contains("data-why=\"cert_need_confirmed\""),
            "{level}: {html}"
        );
        assert!(!html.contains("/account/certificates/issue"));
        // Another account's certificate is not there for this one.
        let theirs = format!("/account/certificates/{boris_serial}/pem");
        let (status, _, _) = b.get(&app.base, &app.url(&theirs)).await.page();
        assert_eq!(status, 404);
        // Posting anyway (a stale form) is refused the same way, with the session's token.
        let (_, _, overview) = b.get(&app.base, &app.url("/account")).await.page();
        let form = format!(
            "<form method=\"post\" action=\"/account/certificates/issue\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\"></form>",
            hidden(&overview, "csrf").unwrap()
        );
        let code = fresh_code(&app);
        let (status, _, _) = b
            .submit(
                &app.base,
                &form,
                &[("alg", "p256"), ("method", "totp"), ("code", &code)],
            )
            .await
            .page();
        assert_eq!(status, 403, "{level}");
        assert!(certs(&app, &id).await.is_empty());
        let refused = events(&app, &id, "certificate.refused").await;
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0]["reason"], "level_too_low");
        assert_eq!(refused[0]["level"], level);
    }
}

async fn a_citizen_revokes_a_certificate_and_crl_and_ocsp_say_so(app: TestApp) {
    let id = citizen(&app, "vera", "confirmed").await;
    let b = open(&app, "vera").await;
    let (status, _) = issue(&app, &b, "p256", &fresh_code(&app)).await;
    assert_eq!(status, 200);
    let serial = certs(&app, &id).await[0].serial.clone();
    let (_, _, html) = b
        .get(&app.base, &app.url("/account/certificates"))
        .await
        .page();
    let fields = [
        ("reason", "keyCompromise"),
        ("password", "not the password"),
    ];
    let (status, _, _) = b
        .submit_form(&app.base, &html, "/certificates/revoke", &fields)
        .await
        .page();
    assert_eq!(status, 401, "the password is checked");
    assert_eq!(
        events(&app, &id, "certificate.revocation_refused")
            .await
            .len(),
        1
    );
    let fields = [("reason", "keyCompromise"), ("password", PW)];
    let (status, _, html) = b
        .submit_form(&app.base, &html, "/certificates/revoke", &fields)
        .await
        .page();
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains(&format!("id=\"cert-{serial}\" data-status=\"revoked\"")),
        "{html}"
    );
    assert!(!html.contains("/account/certificates/revoke"));
    let revoked = events(&app, &id, "certificate.revoked").await;
    assert_eq!(revoked.len(), 1);
    assert_eq!(revoked[0]["serial"], serial.as_str());
    assert_eq!(revoked[0]["reason"], "keyCompromise");
    assert_eq!(revoked[0]["cause"], "citizen");
    assert_eq!(told(&app, "certificate_revoked"), 1);

    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    save_certs(&app, d).await;
    save_pem(&app, &b, &serial, d, "mine.pem").await;
    let text = crl_text(&app, d).await;
    assert!(
        text.to_ascii_lowercase().contains(&serial),
        "the CRL lists {serial}: {text}"
    );
    assert!(text.contains("Key Compromise"), "{text}");
    let text = ocsp_text(&app, d, "mine.pem");
    assert!(text.contains("mine.pem: revoked"), "{text}");
}

/// Runs the `vhod` command line on the test server's store: success, and standard output
/// (followed by standard error when it failed).
fn vhod(app: &TestApp, args: &[&str]) -> (bool, String) {
    let c = app.config.as_ref().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_vhod"))
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("VHOD_KEK", c.kek.as_deref().unwrap())
        .env("VHOD_LOG", "warn")
        .arg("--data-dir")
        .arg(&c.data_dir)
        .arg("--database-url")
        .arg(c.database_url())
        .args(args)
        .output()
        .unwrap();
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        text.push_str(&String::from_utf8_lossy(&out.stderr));
    }
    (out.status.success(), text)
}

/// Issues `n` certificates to `id` directly through the CA.
async fn issue_directly(app: &TestApp, id: &str, n: usize) {
    let subject = keys::ca::CitizenSubject {
        surname: "Иванова".into(),
        given_name: "Алиса".into(),
        patronymic: None,
        snils: Some(keys::ca::Snils::parse("112-233-445 95").unwrap()),
        inn: None,
    };
    for _ in 0..n {
        let alg = keys::ca::KeyAlg::P256;
        app.app
            .signer
            .ca
            .issue(id, &subject, alg, None)
            .await
            .unwrap();
    }
}

async fn all_revoked(app: &TestApp, id: &str, reason: &str) {
    let list = certs(app, id).await;
    assert!(!list.is_empty());
    for c in list {
        let keys::ca::CertStatus::Revoked { reason: r, .. } = c.status else {
            panic!("{} still valid", c.serial)
        };
        assert_eq!(idp::account::certificates::follow::reason_name(r), reason);
    }
    let revoked = events(app, id, "certificate.revoked").await;
    assert_eq!(revoked.len(), 2, "one event per certificate: {revoked:?}");
}

async fn lowering_the_level_locking_and_deleting_revoke_every_certificate(app: TestApp) {
    // The operator lowers the level.
    let lowered = citizen(&app, "lena", "confirmed").await;
    issue_directly(&app, &lowered, 2).await;
    let (ok, text) = vhod(
        &app,
        &["users", "set-level", "--login", "lena", "--level", "nobody"],
    );
    assert!(
        !ok && text.contains("simplified, standard, confirmed"),
        "{text}"
    );
    let (ok, text) = vhod(
        &app,
        &[
            "users",
            "set-level",
            "--login",
            "lena",
            "--level",
            "standard",
        ],
    );
    assert!(ok && text.contains("2 certificate(s) revoked"), "{text}");
    all_revoked(&app, &lowered, "privilegeWithdrawn").await;
    // The command line tells her of both (its development outbox is the data directory's).
    let told = outbox_files(&app, "lena@example.com");
    assert_eq!(told, ["certificate_revoked", "level_changed"], "{told:?}");
    let a = app.app.db.accounts().get(&lowered).await.unwrap().unwrap();
    assert_eq!(a.level, "standard");
    let levels = app.app.db.identities().levels(&lowered).await.unwrap();
    assert_eq!(levels.last().unwrap().evidence["method"], "operator");

    // The hundredth failed sign-in locks the account.
    let locked = citizen(&app, "lida", "confirmed").await;
    issue_directly(&app, &locked, 2).await;
    sqlx::query("UPDATE accounts SET failed_logins = 99 WHERE id = $1")
        .bind(&locked)
        .execute(&app.app.db.pool)
        .await
        .unwrap();
    let b = Browser::new();
    let (_, _, html) = b.get(&app.base, &app.url("/account")).await.page();
    let (status, _, _) = b
        .submit(
            &app.base,
            &html,
            &[("login", "lida"), ("password", "a wrong guess")],
        )
        .await
        .page();
    assert_eq!(status, 401);
    // The lock, and what follows it, is written just after the answer.
    let (t, id) = (&app, locked.as_str());
    eventually("the lock revokes both certificates", move || async move {
        events(t, id, "certificate.revoked").await.len() == 2
    })
    .await;
    all_revoked(&app, &locked, "privilegeWithdrawn").await;
    let lock_events = events(&app, &locked, "certificate.revoked").await;
    assert!(lock_events.iter().all(|e| e["cause"] == "account_locked"));

    // The citizen deletes the account.
    let deleted = citizen(&app, "dina", "confirmed").await;
    issue_directly(&app, &deleted, 2).await;
    let b = open(&app, "dina").await;
    let (_, _, html) = b.get(&app.base, &app.url("/account/delete")).await.page();
    let code = fresh_code(&app);
    let (status, _, html) = b
        .submit(&app.base, &html, &[("password", PW), ("code", &code)])
        .await
        .page();
    assert_eq!(status, 200, "{html}");
    all_revoked(&app, &deleted, "cessationOfOperation").await;

    // The trail holds, and lists each account's events.
    let (ok, text) = vhod(&app, &["audit", "verify"]);
    assert!(ok, "{text}");
    for id in [&lowered, &locked, &deleted] {
        let (ok, text) = vhod(&app, &["audit", "list", "--subject", id, "--json"]);
        assert!(ok, "{text}");
        let list: serde_json::Value = serde_json::from_str(&text).unwrap();
        let revoked = list
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "certificate.revoked")
            .count();
        assert_eq!(revoked, 2, "{text}");
    }
    let (_, text) = vhod(&app, &["audit", "list", "--subject", &lowered, "--json"]);
    assert!(text.contains("account.level_changed"), "{text}");
}

async fn a_passkey_confirms_one_issuance(app: TestApp) {
    let id = citizen(&app, "pavel", "confirmed").await;
    let b = open(&app, "pavel").await;
    let mut key = crate::passkeys::add_passkey_with(&app, &b, "phone", PW).await;
    let (_, _, html) = b
        .get(&app.base, &app.url("/account/certificates"))
        .await
        .page();
    let form = &html[html[..html.find("id=\"passkey-form\"").unwrap()]
        .rfind("<form")
        .unwrap()..];
    let credential = key.assert(&page_options(form), &app.base);
    let (status, _, html) = b
        .submit(&app.base, form, &[("credential", &credential)])
        .await
        .page();
    assert_eq!(status, 200, "{html}");
    let list = certs(&app, &id).await;
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].key_alg.as_str(), "P-256");
    let issued = events(&app, &id, "certificate.issued").await;
    assert_eq!(issued[0]["second_factor"], "passkey");
    // The challenge was spent: the same answer again makes nothing.
    let (status, _, _) = b
        .submit(&app.base, form, &[("credential", &credential)])
        .await
        .page();
    assert_eq!(status, 400);
    assert_eq!(certs(&app, &id).await.len(), 1);
    let refused = events(&app, &id, "certificate.refused").await;
    assert_eq!(refused[0]["method"], "passkey");
}

async fn a_code_sent_by_email_confirms_an_issuance(app: TestApp) {
    let id = citizen(&app, "egor", "confirmed").await;
    let now = app.app.now();
    app.app
        .db
        .otp_factors()
        .add(&id, "email", now)
        .await
        .unwrap();
    let mail = idp::notify::Recipient::Email("egor@example.com".into());
    let b = open(&app, "egor").await;
    let (_, _, html) = b
        .get(&app.base, &app.url("/account/certificates"))
        .await
        .page();
    let (status, _, html) = b
        .submit_form(&app.base, &html, "/certificates/code", &[])
        .await
        .page();
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("e***@example.com"), "{html}");
    let code = crate::otp_factors::last_code(&app, "certificate_code", &mail);
    let fields = [("method", "email"), ("code", code.as_str())];
    let (status, _, html) = b
        .submit_form(&app.base, &html, "/certificates/issue", &fields)
        .await
        .page();
    assert_eq!(status, 200, "{html}");
    assert_eq!(certs(&app, &id).await.len(), 1);
    let issued = events(&app, &id, "certificate.issued").await;
    assert_eq!(issued[0]["second_factor"], "email");
    // Sent codes work once.
    let (status, _, _) = b
        .submit_form(&app.base, &html, "/certificates/issue", &fields)
        .await
        .page();
    assert_eq!(status, 400);
    assert_eq!(certs(&app, &id).await.len(), 1);
}

/// `[ca]`: the citizen certificate lifetime and the organisation come from the
/// configuration; out-of-range values are refused at start with a clear message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ca_section_sets_lifetime_and_organisation() {
    let dir = std::sync::Arc::new(tempfile::tempdir().unwrap());
    let mut c = test_config(Store::Embedded, dir.path(), None)
        .await
        .unwrap();
    for (days, org) in [
        (0, "Госуслуги"),
        (5 * 365 + 1, "Госуслуги"),
        (30, ""),
        (30, " x "),
    ] {
        let mut bad = c.clone();
        bad.ca.citizen_validity_days = days;
        bad.ca.organization = org.into();
        let e = bad.validate().unwrap_err().to_string();
        assert!(e.contains("ca."), "{days} {org:?}: {e}");
    }
    c.ca.citizen_validity_days = 30;
    c.ca.organization = "Минцифры".into();
    let app = spawn_with(c, dir).await;
    let id = app.user("ivan", PW).await;
    issue_directly(&app, &id, 1).await;
    let cert = &certs(&app, &id).await[0];
    assert_eq!(cert.not_after - cert.not_before, 30 * 86400);
    let d = tempfile::tempdir().unwrap();
    save_certs(&app, d.path()).await;
    let (ok, text) = openssl(
        &[
            "x509",
            "-in",
            "root.pem",
            "-noout",
            "-subject",
            "-nameopt",
            "utf8,-esc_msb",
        ],
        d.path(),
    );
    assert!(ok && text.contains("Минцифры Root CA"), "{text}");
}
