//! Shared pieces of signer's tests: a test PKI made with the `openssl` command line (root CA,
//! intermediate CA, ECDSA P-256 and RSA-2048 signers, a TSA), OpenSSL's own TSA as the
//! timestamp source, and runners for `openssl` and pyHanko. Missing tools fail the tests.

// Each test crate uses a different part of these helpers.
#![allow(dead_code)]

pub mod pdfs;
pub mod venv;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};

use signer::{SignerHandle, TimestampError, TimestampSource};
use x509_cert::der::DecodePem;
use x509_cert::Certificate;

const PKI_CONFIG: &str = "\
[req]
distinguished_name = dn
prompt = no
[dn]
CN = unused
[ca_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign,cRLSign
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[signer_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature,nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
[tsa_ext]
basicConstraints = critical,CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = critical,timeStamping
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
";

/// Runs `openssl` with `args` in `dir`; panics with its output if it cannot start.
pub fn openssl(dir: &Path, args: &[&str]) -> Output {
    Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("the openssl command line must be installed")
}

/// Runs `openssl` and fails the test unless it succeeds.
pub fn openssl_ok(dir: &Path, args: &[&str]) -> String {
    let out = openssl(dir, args);
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A test PKI in a temporary directory: `root.pem`, `intermediate.pem` (which issued the
/// signers and the TSA), `ec.pem`/`ec.key`, `rsa.pem`/`rsa.key`, `tsa.pem`/`tsa.key`.
pub struct Pki {
    pub dir: tempfile::TempDir,
}

impl Pki {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        std::fs::write(d.join("pki.cnf"), PKI_CONFIG).unwrap();
        let ec_key = [
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
        ];
        for key in ["root", "intermediate", "ec", "tsa"] {
            openssl_ok(d, &[&ec_key[..], &["-out", &format!("{key}.key")]].concat());
        }
        openssl_ok(
            d,
            &[
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
                "rsa.key",
            ],
        );
        let pki = Pki { dir };
        pki.self_signed_ca("root.key", "/CN=vhod test root", "1", "root.pem");
        let issue =
            |name, subject, issuer, ext, serial| pki.issue(name, subject, issuer, ext, serial);
        issue(
            "intermediate",
            "/CN=vhod test intermediate",
            "root",
            "ca_ext",
            "10",
        );
        issue(
            "ec",
            "/CN=Test Signer P-256",
            "intermediate",
            "signer_ext",
            "4660",
        );
        issue(
            "rsa",
            "/CN=Test Signer RSA",
            "intermediate",
            "signer_ext",
            "4661",
        );
        issue(
            "tsa",
            "/CN=vhod test TSA",
            "intermediate",
            "tsa_ext",
            "4662",
        );
        let d = pki.dir.path();
        let chain = [read(d, "intermediate.pem"), read(d, "root.pem")].concat();
        std::fs::write(d.join("chain.pem"), chain).unwrap();
        pki
    }

    /// A self-signed CA certificate `out` (30 days, `ca_ext`) for the existing key `key`.
    pub fn self_signed_ca(&self, key: &str, subject: &str, serial: &str, out: &str) {
        let args = [
            "req",
            "-x509",
            "-config",
            "pki.cnf",
            "-extensions",
            "ca_ext",
        ];
        let rest = ["-key", key, "-subj", subject, "-set_serial", serial];
        let out = ["-days", "30", "-out", out];
        openssl_ok(self.dir.path(), &[&args[..], &rest, &out].concat());
    }

    /// Issues `{name}.pem` for the existing key `{name}.key`, signed by `{issuer}.key`, with
    /// the extensions section `ext` of `pki.cnf` (`ca_ext`, `signer_ext`, `tsa_ext`).
    pub fn issue(&self, name: &str, subject: &str, issuer: &str, ext: &str, serial: &str) {
        let d = self.dir.path();
        openssl_ok(
            d,
            &[
                "req",
                "-new",
                "-config",
                "pki.cnf",
                "-key",
                &format!("{name}.key"),
                "-subj",
                subject,
                "-out",
                &format!("{name}.csr"),
            ],
        );
        openssl_ok(
            d,
            &[
                "x509",
                "-req",
                "-in",
                &format!("{name}.csr"),
                "-CA",
                &format!("{issuer}.pem"),
                "-CAkey",
                &format!("{issuer}.key"),
                "-set_serial",
                serial,
                "-days",
                "30",
                "-extfile",
                "pki.cnf",
                "-extensions",
                ext,
                "-out",
                &format!("{name}.pem"),
            ],
        );
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn cert(&self, name: &str) -> Certificate {
        Certificate::from_pem(read(self.dir.path(), &format!("{name}.pem"))).unwrap()
    }

    fn handle<K>(&self, name: &str, key: K) -> SignerHandle<K> {
        SignerHandle {
            key,
            cert: self.cert(name),
            chain: vec![self.cert("intermediate"), self.cert("root")],
        }
    }

    pub fn ec_signer(&self) -> SignerHandle<p256::ecdsa::SigningKey> {
        use p256::pkcs8::DecodePrivateKey;
        let pem = String::from_utf8(read(self.dir.path(), "ec.key")).unwrap();
        self.handle("ec", p256::ecdsa::SigningKey::from_pkcs8_pem(&pem).unwrap())
    }

    pub fn rsa_signer(&self) -> SignerHandle<rsa::pkcs1v15::SigningKey<sha2::Sha256>> {
        use rsa::pkcs8::DecodePrivateKey;
        let pem = String::from_utf8(read(self.dir.path(), "rsa.key")).unwrap();
        let key = rsa::RsaPrivateKey::from_pkcs8_pem(&pem).unwrap();
        self.handle("rsa", rsa::pkcs1v15::SigningKey::new(key))
    }

    /// OpenSSL's `ts -reply` answering with the PKI's TSA certificate.
    pub fn tsa(&self) -> OpenSslTsa {
        self.tsa_sending_chain_copies(1)
    }

    /// A TSA whose tokens carry `copies` copies of the chain: large tokens.
    pub fn tsa_sending_chain_copies(&self, copies: usize) -> OpenSslTsa {
        let d = self.dir.path();
        let chain = read(d, "chain.pem").repeat(copies);
        std::fs::write(d.join("tsa-certs.pem"), chain).unwrap();
        std::fs::write(d.join("tsaserial"), "01\n").unwrap();
        let config = format!(
            "[tsa]\ndefault_tsa = tsa_config\n[tsa_config]\nserial = {dir}/tsaserial\n\
             signer_cert = {dir}/tsa.pem\ncerts = {dir}/tsa-certs.pem\nsigner_key = {dir}/tsa.key\n\
             signer_digest = sha256\ndefault_policy = 1.2.3.4.1\ndigests = sha256\n\
             accuracy = secs:1\nordering = no\ntsa_name = no\ness_cert_id_chain = no\n\
             ess_cert_id_alg = sha256\n",
            dir = d.display()
        );
        std::fs::write(d.join("tsa.cnf"), config).unwrap();
        OpenSslTsa {
            dir: d.to_path_buf(),
            count: AtomicUsize::new(0),
        }
    }
}

pub fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap()
}

/// A TSA that is `openssl ts -query` + `openssl ts -reply -token_out`.
pub struct OpenSslTsa {
    dir: PathBuf,
    count: AtomicUsize,
}

impl TimestampSource for OpenSslTsa {
    fn timestamp(&self, sha256_digest: &[u8]) -> Result<Vec<u8>, TimestampError> {
        let n = self.count.fetch_add(1, Ordering::SeqCst);
        let (query, token) = (format!("q{n}.tsq"), format!("t{n}.der"));
        let hex: String = sha256_digest.iter().map(|b| format!("{b:02x}")).collect();
        let steps: [&[&str]; 2] = [
            &[
                "ts", "-query", "-sha256", "-digest", &hex, "-cert", "-out", &query,
            ],
            &[
                "ts",
                "-reply",
                "-config",
                "tsa.cnf",
                "-queryfile",
                &query,
                "-token_out",
                "-out",
                &token,
            ],
        ];
        for args in steps {
            let out = openssl(&self.dir, args);
            if !out.status.success() {
                let message = String::from_utf8_lossy(&out.stderr).into_owned();
                return Err(TimestampError::Source(message.into()));
            }
        }
        Ok(read(&self.dir, &token))
    }
}

/// The venv holding pyHanko and reportlab (see [`venv::venv_in`]).
pub fn venv() -> PathBuf {
    venv::venv_in(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests"))
}

/// `pyhanko sign validate --pretty-print` of `pdf` trusting only `root.pem`, without
/// revocation checks (the test PKI publishes none). Returns (success, stdout + stderr).
pub fn pyhanko_validate(pki: &Pki, pdf: &Path) -> (bool, String) {
    let pyhanko = venv().join("bin/pyhanko");
    let out = Command::new(&pyhanko)
        .args([
            "sign",
            "validate",
            "--pretty-print",
            "--no-revocation-check",
            "--trust-replace",
        ])
        .arg("--trust")
        .arg(pki.path("root.pem"))
        .arg(pdf)
        .output()
        .unwrap_or_else(|e| panic!("pyHanko must be installed at {}: {e}", pyhanko.display()));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

/// Runs `python` of the venv with `script` and `args`.
pub fn venv_python(script: &str, args: &[&Path]) {
    let python = venv().join("bin/python");
    let out = Command::new(&python)
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("the test venv must exist at {}: {e}", python.display()));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
