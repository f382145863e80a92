//! `vhod signer trust ...` and `vhod signer validate` on the store of a running server: an
//! OpenSSL signature with a test CA (made by `openssl req` and `openssl cms -sign`) becomes
//! trusted for the API and the CLI at once; the CLI's exit codes follow the verdict.

use crate::helpers::*;
use crate::validation::{api, citizen, sign, verdict, DOCUMENT};
use serde_json::Value;
use signer::Packaging;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

/// A test PKI made with the openssl command line: `root.pem` (a CA) and `ec.pem`/`ec.key`
/// (a signer it issued, without CRL or OCSP pointers).
fn openssl_pki(d: &Path) {
    std::fs::write(
        d.join("pki.cnf"),
        "[req]\ndistinguished_name = dn\nprompt = no\n[dn]\nCN = unused\n\
         [ca_ext]\nbasicConstraints = critical,CA:TRUE\nkeyUsage = critical,keyCertSign,cRLSign\n\
         subjectKeyIdentifier = hash\n\
         [signer_ext]\nbasicConstraints = critical,CA:FALSE\n\
         keyUsage = critical,digitalSignature,nonRepudiation\nsubjectKeyIdentifier = hash\n\
         authorityKeyIdentifier = keyid\n",
    )
    .unwrap();
    for key in ["root", "ec"] {
        openssl(
            d,
            &[
                "genpkey",
                "-algorithm",
                "EC",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-out",
                &format!("{key}.key"),
            ],
        );
    }
    openssl(
        d,
        &[
            "req",
            "-x509",
            "-config",
            "pki.cnf",
            "-extensions",
            "ca_ext",
            "-key",
            "root.key",
            "-subj",
            "/CN=Test Root CA",
            "-days",
            "30",
            "-out",
            "root.pem",
        ],
    );
    openssl(
        d,
        &[
            "req",
            "-new",
            "-config",
            "pki.cnf",
            "-key",
            "ec.key",
            "-subj",
            "/CN=Test Signer",
            "-out",
            "ec.csr",
        ],
    );
    openssl(
        d,
        &[
            "x509",
            "-req",
            "-in",
            "ec.csr",
            "-CA",
            "root.pem",
            "-CAkey",
            "root.key",
            "-set_serial",
            "4660",
            "-days",
            "30",
            "-extfile",
            "pki.cnf",
            "-extensions",
            "signer_ext",
            "-out",
            "ec.pem",
        ],
    );
}

fn openssl(d: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(d)
        .output()
        .expect("openssl");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `vhod ARGS` on the test server's store: exit code, stdout, stderr.
fn cli(c: &vhod::config::Config, args: &[&str]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_vhod"));
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("VHOD_KEK", c.kek.as_deref().unwrap())
        .env("VHOD_LOG", "error")
        .arg("--data-dir")
        .arg(&c.data_dir);
    if let Some(url) = &c.database_url {
        cmd.arg("--database-url").arg(url);
    }
    let out = cmd.args(args).output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn cli_report(c: &vhod::config::Config, args: &[&str]) -> (i32, Value) {
    let (code, out, err) = cli(c, args);
    let report = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out} {err}"));
    (code, report)
}

mod trust_anchors_from_the_cli {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn embedded() {
        super::trust_anchors_from_the_cli(crate::helpers::Store::Embedded).await;
    }
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn postgres_redis() {
        super::trust_anchors_from_the_cli(crate::helpers::Store::Shared).await;
    }
}

/// An OpenSSL signature with a test CA is INDETERMINATE until `vhod signer trust add`, then
/// TOTAL_PASSED, over the API and the CLI alike; the CLI's exit codes follow the verdict.
async fn trust_anchors_from_the_cli(store: Store) {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let Some(c) = test_config(store, dir.path(), None).await else {
        eprintln!("VHOD_TEST_DATABASE_URL unset: shared-store variant not run here");
        return;
    };
    // The PKI first: the server's clock stands still from its start, and the certificates
    // must be valid by then.
    let pki = tempfile::tempdir().unwrap();
    let d = pki.path();
    openssl_pki(d);
    let app = spawn_with(c.clone(), dir.clone()).await;
    std::fs::write(d.join("doc.txt"), DOCUMENT).unwrap();
    openssl(
        d,
        &[
            "cms", "-sign", "-binary", "-in", "doc.txt", "-signer", "ec.pem", "-inkey", "ec.key",
            "-outform", "DER", "-out", "doc.sig",
        ],
    );
    let sig = std::fs::read(d.join("doc.sig")).unwrap();
    let doc = d.join("doc.txt");
    let sig_path = d.join("doc.sig");
    let (doc, sig_path) = (doc.to_str().unwrap(), sig_path.to_str().unwrap());
    let validate = [
        "signer",
        "validate",
        "--document",
        doc,
        "--signature",
        sig_path,
    ];
    let json = [&validate[..], &["--json"]].concat();

    let (_, report) = api(&app, DOCUMENT, Some(&sig)).await;
    assert_eq!(
        verdict(&report),
        ("INDETERMINATE", Some("NO_CERTIFICATE_CHAIN_FOUND")),
        "{report:#}"
    );
    let (code, report) = cli_report(&c, &json);
    assert_eq!(code, 2);
    assert_eq!(
        verdict(&report),
        ("INDETERMINATE", Some("NO_CERTIFICATE_CHAIN_FOUND"))
    );

    let root = d.join("root.pem");
    let (code, out, err) = cli(
        &c,
        &["signer", "trust", "add", "--cert", root.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("added: "), "{out}");
    let fingerprint = out.split_whitespace().nth(1).unwrap().to_owned();
    let (code, out, _) = cli(
        &c,
        &["signer", "trust", "add", "--cert", root.to_str().unwrap()],
    );
    assert_eq!(code, 0);
    assert!(out.starts_with("already trusted: "), "{out}");
    let (code, out, _) = cli(&c, &["signer", "trust", "list", "--json"]);
    assert_eq!(code, 0);
    let list: Value = serde_json::from_str(&out).unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2, "{list:?}");
    assert_eq!(list[0]["source"], "vhod");
    assert_eq!(list[1]["source"], "added");
    assert_eq!(list[1]["fingerprint"], fingerprint.as_str());
    assert_eq!(list[1]["subject"], "CN=Test Root CA");

    // The running server sees the new anchor at once.
    let (_, report) = api(&app, DOCUMENT, Some(&sig)).await;
    assert_eq!(verdict(&report), ("TOTAL_PASSED", None), "{report:#}");
    let (code, report) = cli_report(&c, &json);
    assert_eq!(code, 0);
    assert_eq!(verdict(&report), ("TOTAL_PASSED", None));
    let (code, out, _) = cli(&c, &validate);
    assert_eq!(code, 0);
    assert!(out.starts_with("TOTAL_PASSED: "), "{out}");
    assert!(out.contains("signed by: Test Signer"), "{out}");

    // A one-byte change, garbage, and what is not a CA.
    let mut changed = DOCUMENT.to_vec();
    changed[0] ^= 0x20;
    std::fs::write(d.join("changed.txt"), &changed).unwrap();
    let changed_path = d.join("changed.txt");
    let changed_args = [
        "signer",
        "validate",
        "--document",
        changed_path.to_str().unwrap(),
        "--signature",
        sig_path,
    ];
    let (code, report) = cli_report(&c, &[&changed_args[..], &["--json"]].concat());
    assert_eq!(code, 1);
    assert_eq!(verdict(&report), ("TOTAL_FAILED", Some("HASH_FAILURE")));
    let (code, out, _) = cli(&c, &changed_args);
    assert_eq!(code, 1);
    assert!(out.starts_with("TOTAL_FAILED HASH_FAILURE: "), "{out}");
    let (code, report) = cli_report(&c, &["signer", "validate", "--document", doc, "--json"]);
    assert_eq!(code, 1, "a plain text file alone is no signature");
    assert_eq!(verdict(&report), ("TOTAL_FAILED", Some("FORMAT_FAILURE")));
    let ee = d.join("ec.pem");
    let (code, _, err) = cli(
        &c,
        &["signer", "trust", "add", "--cert", ee.to_str().unwrap()],
    );
    assert_eq!(code, 3);
    assert!(err.contains("is not a CA certificate"), "{err}");
    let (code, _, err) = cli(&c, &["signer", "trust", "add", "--cert", doc]);
    assert_eq!(code, 3);
    assert!(err.contains("not an X.509 certificate"), "{err}");

    // Usage errors: a missing file, an unknown flag, a missing argument.
    let (code, _, err) = cli(
        &c,
        &["signer", "validate", "--document", "/nonexistent/doc"],
    );
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("reading the document"), "{err}");
    assert_eq!(cli(&c, &["signer", "validate", "--frobnicate"]).0, 3);
    assert_eq!(cli(&c, &["signer", "validate"]).0, 3);

    // vhod's own signature, checked by the CLI.
    let (cert, key) = citizen(&app).await;
    let vhod_sig = sign(&app, &cert, key, DOCUMENT, Packaging::Detached, false);
    std::fs::write(d.join("vhod.sig"), vhod_sig).unwrap();
    let vhod_sig_path = d.join("vhod.sig");
    let (code, out, err) = cli(
        &c,
        &[
            "signer",
            "validate",
            "--document",
            doc,
            "--signature",
            vhod_sig_path.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("signed by: Иванова Алиса Петровна (SNILS 112-233-445 95)"),
        "{out}"
    );

    // Removing the anchor: back to INDETERMINATE; vhod's root cannot be removed.
    let (code, _, err) = cli(
        &c,
        &["signer", "trust", "remove", &fingerprint.to_uppercase()],
    );
    assert_eq!(code, 0, "{err}");
    let (_, report) = api(&app, DOCUMENT, Some(&sig)).await;
    assert_eq!(verdict(&report).1, Some("NO_CERTIFICATE_CHAIN_FOUND"));
    assert_eq!(cli(&c, &["signer", "trust", "remove", &fingerprint]).0, 3);
    let own = list[0]["fingerprint"].as_str().unwrap();
    let (code, _, err) = cli(&c, &["signer", "trust", "remove", own]);
    assert_eq!(code, 3);
    assert!(err.contains("always trusted"), "{err}");

    // Each change is in the audit trail.
    let events = app
        .app
        .audit
        .list(Some(&fingerprint), None, 10)
        .await
        .unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["trust_anchor.removed", "trust_anchor.added"]);
}
