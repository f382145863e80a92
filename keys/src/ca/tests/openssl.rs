//! Interoperability: what the CA produces is checked by the `openssl` command-line tool, an
//! independent implementation of X.509 (RFC 5280), OCSP (RFC 6960), time stamps (RFC 3161)
//! and CMS (RFC 5652). Each test writes its artefacts to a temporary directory and runs the
//! command a relying party would.

use super::*;
use std::path::Path;
use std::process::Command;

/// Runs `openssl args…` in `dir`; returns whether it succeeded and stdout + stderr.
fn openssl(dir: &Path, args: &[&str]) -> (bool, String) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl command is installed");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// `openssl verify` of a chain to root.pem through issuing.pem, with `args` after.
fn verify(dir: &Path, args: &[&str]) -> (bool, String) {
    let mut all = vec!["verify", "-CAfile", "root.pem", "-untrusted", "issuing.pem"];
    all.extend_from_slice(args);
    openssl(dir, &all)
}

fn write(dir: &Path, name: &str, data: impl AsRef<[u8]>) {
    std::fs::write(dir.join(name), data).unwrap();
}

/// root.pem, issuing.pem, and chain.pem (TSA, OCSP responder and issuing CA) in `dir`.
fn write_ca(dir: &Path, ca: &Ca) {
    write(dir, "root.pem", cert_pem(ca.root_der()));
    write(dir, "issuing.pem", cert_pem(ca.issuing_der()));
    write(dir, "tsa.pem", cert_pem(ca.tsa_der()));
    write(
        dir,
        "untrusted.pem",
        cert_pem(ca.tsa_der()) + &cert_pem(ca.ocsp_der()) + &cert_pem(ca.issuing_der()),
    );
}

/// A fresh CA on `pool` and a temporary directory holding its certificates.
async fn ca_in_dir(pool: &sqlx::AnyPool, backend: Backend) -> (Ca, tempfile::TempDir) {
    let ca = ca_on(pool, backend, &Kek::generate().0).await;
    let dir = tempfile::tempdir().unwrap();
    write_ca(dir.path(), &ca);
    (ca, dir)
}

/// [`ca_in_dir`] on SQLite only, for the tests whose subject does not touch storage.
async fn sqlite_ca_in_dir() -> (Ca, tempfile::TempDir) {
    let (pool, backend) = pools().await.remove(0);
    ca_in_dir(&pool, backend).await
}

#[tokio::test]
async fn openssl_verifies_citizen_certificates_and_shows_the_russian_attributes() {
    for (pool, backend) in pools().await {
        let (ca, dir) = ca_in_dir(&pool, backend).await;
        let d = dir.path();
        for alg in [KeyAlg::P256, KeyAlg::Rsa2048] {
            let c = ca.issue("acc", &ivanov(), alg, None).await.unwrap();
            write(d, "citizen.pem", cert_pem(&c.der));
            let (ok, out) = verify(d, &["citizen.pem"]);
            assert!(
                ok && out.contains("citizen.pem: OK"),
                "{backend:?} {alg:?}: {out}"
            );
            let (ok, text) = openssl(
                d,
                &[
                    "x509",
                    "-in",
                    "citizen.pem",
                    "-noout",
                    "-text",
                    "-nameopt",
                    "utf8,sep_comma_plus,oid",
                ],
            );
            assert!(ok, "{text}");
            for want in [
                "1.2.643.100.3=11223344595",
                "1.2.643.3.131.1.1=500100732259",
                "2.5.4.3=Иванов Иван Иванович",
                "2.5.4.4=Иванов",
                "2.5.4.42=Иван Иванович",
                "Digital Signature, Non Repudiation",
                "URI:http://ca.test/ca/crl",
                "OCSP - URI:http://ca.test/ca/ocsp",
                "CA Issuers - URI:http://ca.test/ca/issuing.crt",
                "X509v3 Subject Key Identifier",
                "X509v3 Authority Key Identifier",
            ] {
                assert!(text.contains(want), "{want} missing from:\n{text}");
            }
            assert!(text.contains("X509v3 Key Usage: critical"), "{text}");
            // SNILS and INN are NumericString (Приказ ФСБ № 795).
            let (_, asn1) = openssl(d, &["asn1parse", "-in", "citizen.pem"]);
            assert_eq!(asn1.matches("NUMERICSTRING").count(), 2, "{asn1}");
        }
        // The service certificates serve their purposes.
        let (ok, out) = verify(d, &["-purpose", "timestampsign", "tsa.pem"]);
        assert!(ok, "{out}");
        let (_, text) = openssl(d, &["x509", "-in", "issuing.pem", "-noout", "-text"]);
        assert!(text.contains("CA:TRUE, pathlen:0"), "{text}");
        assert!(text.contains("Certificate Sign, CRL Sign"), "{text}");
    }
}

#[tokio::test]
async fn openssl_verifies_the_crl_and_finds_the_revoked_certificate() {
    let (ca, dir) = sqlite_ca_in_dir().await;
    let d = dir.path();
    let c = ca
        .issue("acc", &ivanov(), KeyAlg::P256, None)
        .await
        .unwrap();
    write(d, "citizen.pem", cert_pem(&c.der));
    ca.revoke(&c.serial, CrlReason::KeyCompromise, SystemClock.now())
        .await
        .unwrap();
    write(d, "crl.der", ca.crl_der().await.unwrap());
    let (ok, out) = openssl(
        d,
        &[
            "crl",
            "-inform",
            "DER",
            "-in",
            "crl.der",
            "-CAfile",
            "issuing.pem",
            "-noout",
            "-verify",
        ],
    );
    assert!(ok && out.contains("verify OK"), "{out}");
    let (_, text) = openssl(
        d,
        &["crl", "-inform", "DER", "-in", "crl.der", "-noout", "-text"],
    );
    assert!(text.contains(&c.serial.to_uppercase()), "{text}");
    assert!(text.contains("Key Compromise"), "{text}");
    assert!(text.contains("X509v3 CRL Number"), "{text}");
    let (_, _) = openssl(
        d,
        &["crl", "-inform", "DER", "-in", "crl.der", "-out", "crl.pem"],
    );
    let (ok, out) = verify(d, &["-crl_check", "-CRLfile", "crl.pem", "citizen.pem"]);
    assert!(!ok && out.contains("certificate revoked"), "{out}");
}

#[tokio::test]
async fn openssl_ocsp_round_trip_says_good_then_revoked() {
    for (pool, backend) in pools().await {
        let (ca, dir) = ca_in_dir(&pool, backend).await;
        let d = dir.path();
        let c = ca
            .issue("acc", &ivanov(), KeyAlg::P256, None)
            .await
            .unwrap();
        write(d, "citizen.pem", cert_pem(&c.der));
        let ask = |digest: &'static str| {
            let (ok, out) = openssl(
                d,
                &[
                    "ocsp",
                    "-issuer",
                    "issuing.pem",
                    digest,
                    "-cert",
                    "citizen.pem",
                    "-reqout",
                    "req.der",
                ],
            );
            assert!(ok, "{out}");
        };
        // The nonce is checked against the request read back (`-reqin`); the status line needs
        // `-cert`, which makes OpenSSL build a request of its own, hence `-no_nonce` there.
        let check = |digest: &'static str| {
            let (ok, out) = openssl(
                d,
                &[
                    "ocsp",
                    "-reqin",
                    "req.der",
                    "-respin",
                    "resp.der",
                    "-CAfile",
                    "root.pem",
                    "-verify_other",
                    "untrusted.pem",
                ],
            );
            assert!(ok && out.contains("Response verify OK"), "{out}");
            assert!(!out.contains("once"), "nonce echoed: {out}");
            openssl(
                d,
                &[
                    "ocsp",
                    "-respin",
                    "resp.der",
                    "-issuer",
                    "issuing.pem",
                    digest,
                    "-cert",
                    "citizen.pem",
                    "-no_nonce",
                    "-CAfile",
                    "root.pem",
                    "-verify_other",
                    "untrusted.pem",
                ],
            )
        };
        for digest in ["-sha1", "-sha256"] {
            ask(digest);
            let req = std::fs::read(d.join("req.der")).unwrap();
            write(d, "resp.der", ca.ocsp_respond(&req).await);
            let (ok, out) = check(digest);
            assert!(ok, "{backend:?} {digest}: {out}");
            assert!(out.contains("Response verify OK"), "{out}");
            assert!(out.contains("citizen.pem: good"), "{out}");
        }
        ca.revoke(&c.serial, CrlReason::Superseded, SystemClock.now())
            .await
            .unwrap();
        ask("-sha256");
        let req = std::fs::read(d.join("req.der")).unwrap();
        write(d, "resp.der", ca.ocsp_respond(&req).await);
        let (ok, out) = check("-sha256");
        assert!(ok && out.contains("citizen.pem: revoked"), "{out}");
        assert!(out.contains("Reason: superseded"), "{out}");
    }
}

#[tokio::test]
async fn openssl_verifies_a_time_stamp_token() {
    let (ca, dir) = sqlite_ca_in_dir().await;
    let d = dir.path();
    write(d, "f.txt", "документ для штампа времени");
    let (ok, out) = openssl(
        d,
        &[
            "ts", "-query", "-data", "f.txt", "-sha256", "-cert", "-out", "q.tsq",
        ],
    );
    assert!(ok, "{out}");
    let q = std::fs::read(d.join("q.tsq")).unwrap();
    write(d, "r.tsr", ca.timestamp(&q).await);
    let (ok, out) = openssl(
        d,
        &[
            "ts",
            "-verify",
            "-in",
            "r.tsr",
            "-queryfile",
            "q.tsq",
            "-CAfile",
            "root.pem",
            "-untrusted",
            "untrusted.pem",
        ],
    );
    assert!(ok && out.contains("Verification: OK"), "{out}");
    let (ok, text) = openssl(d, &["ts", "-reply", "-in", "r.tsr", "-text"]);
    assert!(
        ok && text.contains("Status: Granted") && text.contains("Nonce: 0x"),
        "{text}"
    );
    // Two stamps never share a serial number.
    write(d, "r2.tsr", ca.timestamp(&q).await);
    let (_, text2) = openssl(d, &["ts", "-reply", "-in", "r2.tsr", "-text"]);
    let serial = |t: &str| {
        t.lines()
            .find(|l| l.starts_with("Serial number"))
            .map(str::to_owned)
    };
    assert!(serial(&text).is_some());
    assert_ne!(serial(&text), serial(&text2));
    // SHA-1 is refused, as OpenSSL reads it.
    let (ok, out) = openssl(
        d,
        &["ts", "-query", "-data", "f.txt", "-sha1", "-out", "q1.tsq"],
    );
    assert!(ok, "{out}");
    let q1 = std::fs::read(d.join("q1.tsq")).unwrap();
    write(d, "r1.tsr", ca.timestamp(&q1).await);
    let (_, text) = openssl(d, &["ts", "-reply", "-in", "r1.tsr", "-text"]);
    assert!(
        text.contains("Status: Rejected") && text.contains("unrecognized or unsupported algorithm"),
        "{text}"
    );
}

#[tokio::test]
async fn a_citizen_key_signs_cms_that_openssl_verifies() {
    use cms::builder::{SignedDataBuilder, SignerInfoBuilder};
    use cms::cert::{CertificateChoices, IssuerAndSerialNumber};
    use cms::signed_data::{EncapsulatedContentInfo, SignerIdentifier};
    let (ca, dir) = sqlite_ca_in_dir().await;
    let d = dir.path();
    // `cms -verify` takes no untrusted intermediates: both CAs are given as trusted.
    write(
        d,
        "trust.pem",
        cert_pem(ca.root_der()) + &cert_pem(ca.issuing_der()),
    );
    for alg in [KeyAlg::P256, KeyAlg::Rsa2048] {
        let c = ca.issue("acc", &ivanov(), alg, None).await.unwrap();
        let cert = x509_cert::Certificate::from_der(&c.der).unwrap();
        let key = ca.citizen_key(&c.serial).await.unwrap();
        let content = EncapsulatedContentInfo {
            econtent_type: const_oid::db::rfc5911::ID_DATA,
            econtent: Some(der::Any::new(der::Tag::OctetString, b"hello".to_vec()).unwrap()),
        };
        let sha256 = spki::AlgorithmIdentifierOwned {
            oid: const_oid::db::rfc5912::ID_SHA_256,
            parameters: None,
        };
        let signer = SignerInfoBuilder::new(
            &key,
            SignerIdentifier::IssuerAndSerialNumber(IssuerAndSerialNumber {
                issuer: cert.tbs_certificate.issuer.clone(),
                serial_number: cert.tbs_certificate.serial_number.clone(),
            }),
            sha256.clone(),
            &content,
            None,
        )
        .unwrap();
        let signed = SignedDataBuilder::new(&content)
            .add_digest_algorithm(sha256)
            .unwrap()
            .add_certificate(CertificateChoices::Certificate(cert))
            .unwrap()
            .add_signer_info::<_, CitizenSignature>(signer)
            .unwrap()
            .build()
            .unwrap();
        write(d, "sig.der", signed.to_der().unwrap());
        let (ok, out) = openssl(
            d,
            &[
                "cms",
                "-verify",
                "-inform",
                "DER",
                "-in",
                "sig.der",
                "-CAfile",
                "trust.pem",
            ],
        );
        assert!(ok && out.contains("hello"), "{alg:?}: {out}");
    }
}
