//! Single-thread throughput of the signer's hot paths, for `benches/signer.sh` (which pins it
//! to one core and prints it beside `openssl speed` and pyHanko). A measurement, not a test.
//!
//! `cargo bench -p signer --bench throughput -- --pdf FILE [--seconds S]` prints one JSON
//! object: CAdES-BES (B-B, detached, 1 KiB document) and PAdES B-B signatures per second with a
//! citizen key and certificate issued by vhod's CA (ECDSA P-256), as in production; then
//! validations per second of the 1 KiB CAdES signature and of the signed PDF, and the time to
//! validate a detached signature of a 10 MB document — each validation with vhod's root as
//! trust anchor and revocation read from the CA's CRL, and each asserted TOTAL_PASSED.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark stops at the first broken expectation"
)]

use keys::ca::{Ca, CaSettings, CitizenSubject, KeyAlg, Snils};
use keys::{Backend, Kek, SystemClock};
use signer::cades::{self, Packaging, SignerHandle};
use signer::validate::{validate, Indication, Input, MemoryRevocation, Policy};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use x509_cert::der::Decode;
use x509_cert::Certificate;

/// Runs `f` repeatedly for about `secs` seconds (after a short warm-up); operations per second.
fn rate(secs: f64, mut f: impl FnMut()) -> f64 {
    let warm = Instant::now();
    while warm.elapsed() < Duration::from_millis(200) {
        f();
    }
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < secs {
        for _ in 0..16 {
            f();
        }
        n += 16;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn arg(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `cargo bench` passes `--bench`; without `--pdf` there is nothing to measure.
    let Some(pdf_path) = arg(&args, "--pdf") else {
        eprintln!("usage: throughput --pdf FILE [--seconds S] (run by benches/signer.sh)");
        return;
    };
    let secs: f64 = arg(&args, "--seconds")
        .map(|s| s.parse().expect("--seconds is a number"))
        .unwrap_or(3.0);
    let pdf = std::fs::read(&pdf_path).expect("reading the PDF");

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (cert, chain, key, policy) = rt.block_on(async {
        sqlx::any::install_default_drivers();
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        let ca = Ca::ensure(
            pool,
            Backend::Sqlite,
            Kek::generate().0,
            Arc::new(SystemClock),
            CaSettings::default(),
        )
        .await
        .unwrap();
        let subject = CitizenSubject {
            surname: "Иванов".into(),
            given_name: "Иван".into(),
            patronymic: Some("Иванович".into()),
            snils: Some(Snils::parse("112-233-445 95").unwrap()),
            inn: None,
        };
        let issued = ca
            .issue("bench", &subject, KeyAlg::P256, None)
            .await
            .unwrap();
        let key = ca.citizen_key(&issued.serial).await.unwrap();
        let cert = Certificate::from_der(&issued.der).unwrap();
        let chain = vec![Certificate::from_der(ca.issuing_der()).unwrap()];
        let mut crls = MemoryRevocation::new();
        crls.add_crl(ca.crl_der().await.unwrap());
        let mut policy = Policy::new(vec![ca.root_der().to_vec()]);
        policy.revocation = Arc::new(crls);
        (cert, chain, key, policy)
    });
    let handle = SignerHandle { key, cert, chain };
    let doc = vec![b'a'; 1024];
    let now = SystemTime::now();

    let cades_bes = rate(secs, || {
        let sig = cades::sign(&doc, Packaging::Detached, &handle, now, None).unwrap();
        std::hint::black_box(sig);
    });
    let pades_bb = rate(secs, || {
        let signed = signer::pades::sign_pdf(&pdf, &handle, now, None).unwrap();
        std::hint::black_box(signed);
    });

    let passed = |input: Input<'_>| {
        let r = rt.block_on(validate(input, &policy));
        assert_eq!(r.indication, Indication::TotalPassed, "{}", r.reason);
    };
    let sig = cades::sign(&doc, Packaging::Detached, &handle, now, None).unwrap();
    let validate_cades = rate(secs, || {
        passed(Input::Detached {
            document: &doc,
            signature: &sig,
        })
    });
    let signed_pdf = signer::pades::sign_pdf(&pdf, &handle, now, None).unwrap();
    let validate_pdf = rate(secs, || passed(Input::Pdf { bytes: &signed_pdf }));
    // 10 MB: the best of five, after one warm-up (the figure is a latency, not a rate).
    let big: Vec<u8> = (0..10 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let big_sig = cades::sign(&big, Packaging::Detached, &handle, now, None).unwrap();
    let big_input = Input::Detached {
        document: &big,
        signature: &big_sig,
    };
    passed(big_input);
    let validate_10mb_ms = (0..5)
        .map(|_| {
            let t = Instant::now();
            passed(big_input);
            t.elapsed().as_secs_f64() * 1000.0
        })
        .fold(f64::INFINITY, f64::min);
    println!(
        "{}",
        serde_json::json!({
            "cades_bes_per_s": cades_bes,
            "pades_bb_per_s": pades_bb,
            "validate_cades_per_s": validate_cades,
            "validate_pdf_per_s": validate_pdf,
            "validate_10mb_ms": validate_10mb_ms,
            "pdf_bytes": pdf.len(),
        })
    );
}
