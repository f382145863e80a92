//! Revocation (a CRL served at the distribution point, `openssl ocsp`, a CRL held in memory),
//! expiry and the proof of existence a timestamp gives; the local HTTP servers the tests use.

use crate::common::{openssl_ok, read, Pki};
use crate::*;
use signer::cades::{sign, Packaging};
use signer::validate::{HttpRevocation, MemoryRevocation, Policy, SubIndication};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use x509_cert::der::DecodePem;

/// A one-CA PKI run by `openssl ca`, whose certificates name `http://127.0.0.1:{port}/ca.crl`
/// as their CRL distribution point (`signer_ext`) or `http://127.0.0.1:{port}/` as their OCSP
/// responder (`ocsp_signer_ext`).
pub(crate) struct CrlCa {
    dir: tempfile::TempDir,
    ext: &'static str,
}

impl CrlCa {
    pub(crate) fn new(port: u16) -> Self {
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
    pub(crate) fn issue(&self, name: &str, dates: Option<(&str, &str)>) {
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

    pub(crate) fn revoke(&self, name: &str) {
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

    pub(crate) fn crl_der(&self) -> Vec<u8> {
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

    pub(crate) fn sign(&self, name: &str) -> Vec<u8> {
        cms_sign(self.dir.path(), name, DOCUMENT, &[])
    }

    pub(crate) fn policy(&self) -> Policy {
        let mut policy = Policy::new(vec![der_of(self.dir.path(), "root.pem")]);
        policy.revocation = Arc::new(HttpRevocation::new(Duration::from_secs(2), 1 << 20));
        policy
    }
}

/// What a test HTTP server answers a request (head, body) with: a content type and a body,
/// or `None` for 404.
pub type Handler = Arc<dyn Fn(&[u8], Vec<u8>) -> Option<(&'static str, Vec<u8>)> + Send + Sync>;

/// A one-request-per-connection HTTP/1.1 server on `listener`, counting the requests.
pub fn serve(listener: tokio::net::TcpListener, hits: Arc<AtomicUsize>, handler: Handler) {
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

/// [`serve_tsa`] on a free local port; its URL.
pub async fn tsa_url(pki: &Pki) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://127.0.0.1:{}/",
        listener.local_addr().unwrap().port()
    );
    serve_tsa(listener, pki);
    url
}

/// An RFC 3161 TSA over HTTP (RFC 3161 §3.4): `openssl ts -reply` with the PKI's TSA.
pub fn serve_tsa(listener: tokio::net::TcpListener, pki: &Pki) {
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
    ca.issue("long", Some(("20200101000000Z", "20991231000000Z")));
    ca.revoke("revoked");
    ca.revoke("long");
    // Signed before its CRL is made (below), so that the signature exists at every time the
    // end of this test validates it at.
    let revoked_long_ago = ca.sign("long");
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

    // Validating as of a few seconds before the CRL was made (the CA's clock ahead, or the
    // CRL made when asked, in the next second): it still answers. As of an hour before, it
    // cannot speak for that time.
    let made = SystemTime::now();
    for (before, answers) in [(5, true), (3600, false)] {
        let mut then = offline.clone();
        then.validation_time = Some(made - Duration::from_secs(before));
        let report = check(DOCUMENT, Some(&revoked_long_ago), &then).await;
        if answers {
            fails(&report, SubIndication::RevokedNoPoe);
        } else {
            fails(&report, SubIndication::TryLater);
            assert!(
                report.reason.contains("issued after the validation time"),
                "{}",
                report.reason
            );
        }
    }
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

/// Validations signed under `ca` at once, half by "good" and half by "revoked"; their reports
/// in that order.
async fn at_once(ca: &CrlCa, policy: &Policy, n: usize) -> Vec<Report> {
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let signature = ca.sign(if i % 2 == 0 { "good" } else { "revoked" });
        let policy = policy.clone();
        tasks.spawn(async move { (i, check(DOCUMENT, Some(&signature), &policy).await) });
    }
    let mut reports: Vec<_> = tasks.join_all().await;
    reports.sort_by_key(|(i, _)| *i);
    reports.into_iter().map(|(_, r)| r).collect()
}

#[tokio::test]
async fn validations_at_once_fetch_a_crl_once_and_share_a_failed_fetch() {
    // A slow distribution point (it answers one request at a time, after 300 ms): the eight
    // validations overlap its one fetch, and without sharing it they would queue up for
    // eight.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ca = CrlCa::new(listener.local_addr().unwrap().port());
    ca.issue("good", None);
    ca.issue("revoked", None);
    ca.revoke("revoked");
    let crl = ca.crl_der();
    let hits = Arc::new(AtomicUsize::new(0));
    let handler: Handler = Arc::new(move |head: &[u8], _| {
        std::thread::sleep(Duration::from_millis(300));
        head.starts_with(b"GET /ca.crl ")
            .then(|| ("application/pkix-crl", crl.clone()))
    });
    serve(listener, hits.clone(), handler);
    let reports = at_once(&ca, &ca.policy(), 8).await;
    for (i, report) in reports.iter().enumerate() {
        if i % 2 == 0 {
            passed(report);
        } else {
            fails(report, SubIndication::RevokedNoPoe);
        }
    }
    assert_eq!(hits.load(Ordering::SeqCst), 1, "one fetch for all eight");

    // A distribution point that answers 404: one fetch fails, the validations waiting for it
    // and those that come soon after get "try later" without fetching again.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let ca = CrlCa::new(listener.local_addr().unwrap().port());
    ca.issue("good", None);
    ca.issue("revoked", None);
    let hits = Arc::new(AtomicUsize::new(0));
    serve(listener, hits.clone(), Arc::new(|_: &[u8], _| None));
    let policy = ca.policy();
    for report in at_once(&ca, &policy, 4).await {
        fails(&report, SubIndication::TryLater);
    }
    let report = check(DOCUMENT, Some(&ca.sign("good")), &policy).await;
    fails(&report, SubIndication::TryLater);
    assert!(report.reason.contains("404"), "{}", report.reason);
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "a failed fetch is not repeated within {:?}",
        signer::validate::RETRY_AFTER_FAILURE
    );
}

#[tokio::test]
async fn past_the_most_crl_bytes_held_the_cache_starts_over() {
    // Two CAs, each with its CRL (version 1) at its own distribution point, and room for one
    // CRL.
    let mut cas = Vec::new();
    for _ in 0..2 {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let ca = CrlCa::new(listener.local_addr().unwrap().port());
        ca.issue("good", None);
        let hits = Arc::new(AtomicUsize::new(0));
        serve_crl(listener, ca.crl_der(), hits.clone());
        cas.push((ca, hits));
    }
    // Nothing revoked and no CRL extension: openssl issues version 1 CRLs, which omit the
    // version field (RFC 5280 §5.1.2.1).
    let text = openssl_ok(
        cas[0].0.dir.path(),
        &["crl", "-in", "crl.pem", "-noout", "-text"],
    );
    assert!(text.contains("Version 1 (0x0)"), "{text}");
    let room = cas[0].0.crl_der().len().max(cas[1].0.crl_der().len());
    let revocation =
        Arc::new(HttpRevocation::new(Duration::from_secs(2), 1 << 20).with_max_held(room));
    let (a, b) = (&cas[0], &cas[1]);
    let mut policy_a = a.0.policy();
    policy_a.revocation = revocation.clone();
    let mut policy_b = b.0.policy();
    policy_b.revocation = revocation;
    let hits = || (a.1.load(Ordering::SeqCst), b.1.load(Ordering::SeqCst));

    passed(&check(DOCUMENT, Some(&a.0.sign("good")), &policy_a).await);
    passed(&check(DOCUMENT, Some(&a.0.sign("good")), &policy_a).await);
    assert_eq!(hits(), (1, 0), "A's CRL is held");
    passed(&check(DOCUMENT, Some(&b.0.sign("good")), &policy_b).await);
    assert_eq!(hits(), (1, 1));
    // B's CRL took the room: A's was let go and is fetched again, then B's.
    passed(&check(DOCUMENT, Some(&a.0.sign("good")), &policy_a).await);
    assert_eq!(hits(), (2, 1), "A's CRL was let go for B's");
    passed(&check(DOCUMENT, Some(&b.0.sign("good")), &policy_b).await);
    assert_eq!(hits(), (2, 2));
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
