//! vhod's own CA (`keys::ca`, on SQLite and, when `VHOD_TEST_DATABASE_URL` is set, on
//! PostgreSQL): a citizen's CAdES B-B and B-T and PAdES B-T signatures, stamped by vhod's TSA,
//! pass with vhod's root as the only trust anchor; the revocation status comes from the CRL
//! the CA publishes at the certificate's distribution point (served over a local socket), or
//! from the CA's database through a [`RevocationSource`] of the caller's own.

use crate::common::pdfs::lopdf_pdf;
use crate::revocation::{serve, Handler};
use crate::*;
use keys::ca::{Ca, CaSettings, CertStatus, CitizenSignature, CitizenSubject, CrlReason, KeyAlg};
use keys::{Backend, Kek, SystemClock};
use signer::cades::{sign, Packaging};
use signer::pades::sign_pdf;
use signer::validate::{RevocationSource, RevocationStatus, SubIndication};
use signer::{SignerHandle, TimestampError, TimestampSource};
use sqlx::AnyPool;
use std::sync::atomic::AtomicUsize;
use std::time::{Duration, SystemTime};
use x509_cert::der::{Decode, Encode};
use x509_cert::Certificate;

/// In-memory SQLite, and a fresh PostgreSQL database when `VHOD_TEST_DATABASE_URL` is set.
async fn pools() -> Vec<(AnyPool, Backend)> {
    sqlx::any::install_default_drivers();
    let sqlite = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .unwrap();
    let mut out = vec![(sqlite, Backend::Sqlite)];
    if let Ok(pg) = std::env::var("VHOD_TEST_DATABASE_URL") {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let name = format!("vhod_validate_test_{}_{nanos}", std::process::id());
        let admin = AnyPool::connect(&pg).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
        let base = pg.split('?').next().unwrap();
        let url = format!("{}/{name}", &base[..base.rfind('/').unwrap()]);
        out.push((AnyPool::connect(&url).await.unwrap(), Backend::Postgres));
    }
    out
}

/// vhod's TSA answering in-process (`Ca::timestamp` speaks RFC 3161 request and response).
struct VhodTsa(Arc<Ca>);

impl TimestampSource for VhodTsa {
    fn timestamp(&self, sha256_digest: &[u8]) -> Result<Vec<u8>, TimestampError> {
        use x509_tsp::{MessageImprint, TimeStampReq, TimeStampResp, TspVersion};
        let request = TimeStampReq {
            version: TspVersion::V1,
            message_imprint: MessageImprint {
                hash_algorithm: spki::AlgorithmIdentifier {
                    oid: const_oid::db::rfc5912::ID_SHA_256,
                    parameters: None,
                },
                hashed_message: der::asn1::OctetString::new(sha256_digest).unwrap(),
            },
            req_policy: None,
            nonce: None,
            cert_req: true,
            extensions: None,
        };
        let ca = self.0.clone();
        let der = request.to_der().unwrap();
        let response = tokio::task::block_in_place(|| {
            tokio::runtime::Handle::current().block_on(ca.timestamp(&der))
        });
        let response = TimeStampResp::from_der(&response).unwrap();
        Ok(response.time_stamp_token.unwrap().to_der().unwrap())
    }
}

/// Revocation answered from the CA's database, as vhod's own services can.
struct CaDatabase(Arc<Ca>);

#[async_trait::async_trait]
impl RevocationSource for CaDatabase {
    async fn status(&self, cert: &Certificate, _: &Certificate, _: SystemTime) -> RevocationStatus {
        let serial = hex(cert.tbs_certificate.serial_number.as_bytes());
        match self.0.find(&serial).await {
            Ok(Some(found)) => match found.status {
                CertStatus::Valid => RevocationStatus::Good,
                CertStatus::Revoked { at, reason } => RevocationStatus::Revoked {
                    at: SystemTime::UNIX_EPOCH + Duration::from_secs(at.try_into().unwrap()),
                    reason: Some(format!("{reason:?}")),
                },
            },
            Ok(None) => RevocationStatus::Unknown {
                why: "not a citizen certificate of this CA".into(),
            },
            Err(e) => RevocationStatus::Unknown { why: e.to_string() },
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn citizen() -> CitizenSubject {
    CitizenSubject {
        surname: "Иванов".into(),
        given_name: "Иван".into(),
        patronymic: Some("Иванович".into()),
        snils: None,
        inn: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vhod_ca_signatures_pass_and_its_revocations_count() {
    for (pool, backend) in pools().await {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let settings = CaSettings {
            base_url: format!("http://127.0.0.1:{port}/ca"),
            ..CaSettings::default()
        };
        let clock = Arc::new(SystemClock);
        let ca = Ca::ensure(pool, backend, Kek::generate().0, clock, settings);
        let ca = Arc::new(ca.await.unwrap());
        let published = ca.clone();
        let handler: Handler = Arc::new(move |head: &[u8], _| {
            let crl = head.starts_with(b"GET /ca/crl ").then(|| {
                let crl = tokio::runtime::Handle::current().block_on(published.crl_der());
                ("application/pkix-crl", crl.unwrap())
            });
            crl
        });
        serve(listener, Arc::new(AtomicUsize::new(0)), handler);

        let issued = ca
            .issue("account-1", &citizen(), KeyAlg::P256, None)
            .await
            .unwrap();
        let handle = SignerHandle {
            key: ca.citizen_key(&issued.serial).await.unwrap(),
            cert: Certificate::from_der(&issued.der).unwrap(),
            chain: [ca.issuing_der(), ca.root_der()]
                .map(|der| Certificate::from_der(der).unwrap())
                .to_vec(),
        };
        let tsa = VhodTsa(ca.clone());
        let now = SystemTime::now();
        let detached = Packaging::Detached;
        let bt = sign::<_, CitizenSignature>(DOCUMENT, detached, &handle, now, Some(&tsa)).unwrap();
        let bb = sign::<_, CitizenSignature>(DOCUMENT, detached, &handle, now, None).unwrap();
        let pdf = sign_pdf::<_, CitizenSignature>(&lopdf_pdf(false), &handle, now, Some(&tsa));
        let pdf = pdf.unwrap();
        let trusting_vhod = || Policy::new(vec![ca.root_der().to_vec()]);
        for signed in [
            check(DOCUMENT, Some(&bt), &trusting_vhod()).await,
            check(&pdf, None, &trusting_vhod()).await,
        ] {
            passed(&signed);
            let stamp = signed.signatures[0].timestamp.as_ref().unwrap();
            assert!(stamp.valid, "{backend:?}: {}", stamp.detail);
        }
        let report = check(DOCUMENT, Some(&bb), &trusting_vhod()).await;
        passed(&report);
        let revocation = report.signatures[0]
            .checks
            .iter()
            .find(|c| c.name == "revocation");
        assert!(
            revocation.unwrap().detail.contains("not revoked"),
            "{report:?}"
        );

        // Revoked a second later: the timestamped signature stands, the other cannot.
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let at = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap();
        let at = i64::try_from(at.as_secs()).unwrap();
        assert!(ca
            .revoke(&issued.serial, CrlReason::KeyCompromise, at)
            .await
            .unwrap());
        passed(&check(DOCUMENT, Some(&bt), &trusting_vhod()).await);
        let report = check(DOCUMENT, Some(&bb), &trusting_vhod()).await;
        fails(&report, SubIndication::RevokedNoPoe);
        let mut from_database = trusting_vhod();
        from_database.revocation = Arc::new(CaDatabase(ca.clone()));
        let report = check(DOCUMENT, Some(&bb), &from_database).await;
        fails(&report, SubIndication::RevokedNoPoe);
    }
}
