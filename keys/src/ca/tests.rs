//! Certificate authority tests: storage, issuance rules, revocation, and responders fed
//! garbage. Every test runs on in-memory SQLite and, when `VHOD_TEST_DATABASE_URL` is set,
//! on a fresh PostgreSQL database. The OpenSSL interoperability tests are in `openssl.rs`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::store::Backend;
use crate::{Kek, ManualClock, SystemClock};
use der::{Decode, Encode};
use rand::RngCore;
use sqlx::AnyPool;

mod openssl;

/// In-memory SQLite, and a fresh PostgreSQL database when `VHOD_TEST_DATABASE_URL` is set.
pub(super) async fn pools() -> Vec<(AnyPool, Backend)> {
    sqlx::any::install_default_drivers();
    let sqlite = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .unwrap();
    let mut out = vec![(sqlite, Backend::Sqlite)];
    if let Ok(pg) = std::env::var("VHOD_TEST_DATABASE_URL") {
        let name = format!("vhod_ca_test_{}", uuid::Uuid::new_v4().simple());
        let admin = AnyPool::connect(&pg).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
        let base = pg.split('?').next().unwrap();
        let cut = base.rfind('/').unwrap();
        let url = format!("{}/{name}", &base[..cut]);
        out.push((AnyPool::connect(&url).await.unwrap(), Backend::Postgres));
    }
    out
}

pub(super) fn settings() -> CaSettings {
    CaSettings {
        base_url: "http://ca.test/ca".into(),
        ..CaSettings::default()
    }
}

pub(super) async fn ca_on(pool: &AnyPool, backend: Backend, kek: &Kek) -> Ca {
    Ca::ensure(
        pool.clone(),
        backend,
        kek.clone(),
        Arc::new(SystemClock),
        settings(),
    )
    .await
    .unwrap()
}

pub(super) fn ivanov() -> CitizenSubject {
    CitizenSubject {
        surname: "Иванов".into(),
        given_name: "Иван".into(),
        patronymic: Some("Иванович".into()),
        snils: Some(Snils::parse("112-233-445 95").unwrap()),
        inn: Some(Inn::parse("500100732259").unwrap()),
    }
}

#[tokio::test]
async fn first_start_creates_the_hierarchy_and_later_starts_load_it() {
    for (pool, backend) in pools().await {
        let kek = Kek::generate().0;
        let a = ca_on(&pool, backend, &kek).await;
        let b = ca_on(&pool, backend, &kek).await;
        assert_eq!(a.root_der(), b.root_der(), "{backend:?}");
        assert_eq!(a.issuing_der(), b.issuing_der());
        assert_eq!(a.tsa_der(), b.tsa_der());
        assert_eq!(a.ocsp_der(), b.ocsp_der());
        let n: i64 = sqlx::Row::get(
            &sqlx::query("SELECT COUNT(*) AS n FROM ca_authorities")
                .fetch_one(&pool)
                .await
                .unwrap(),
            "n",
        );
        assert_eq!(n, 4);
        // Keys are sealed under the KEK: another KEK cannot load them.
        let other = Ca::ensure(
            pool.clone(),
            backend,
            Kek::generate().0,
            Arc::new(SystemClock),
            settings(),
        )
        .await;
        assert!(matches!(other, Err(CaError::Key(crate::Error::Decrypt(_)))));
        // Nothing secret in Debug.
        let dbg = format!("{a:?}");
        assert!(
            dbg.contains("[redacted]") && dbg.contains("Root CA"),
            "{dbg}"
        );
    }
}

#[tokio::test]
async fn concurrent_first_starts_converge_on_one_hierarchy() {
    for (pool, backend) in pools().await {
        let kek = Kek::generate().0;
        let (a, b) = tokio::join!(ca_on(&pool, backend, &kek), ca_on(&pool, backend, &kek));
        assert_eq!(a.root_der(), b.root_der(), "{backend:?}");
        assert_eq!(a.issuing_der(), b.issuing_der());
        let c = ca_on(&pool, backend, &kek).await;
        assert_eq!(c.tsa_der(), a.tsa_der());
    }
}

#[tokio::test]
async fn issuing_checks_names_and_validity() {
    let (pool, backend) = pools().await.remove(0);
    let ca = ca_on(&pool, backend, &Kek::generate().0).await;
    let mut bad = ivanov();
    bad.surname = "Robert'); DROP TABLE--".into();
    assert!(matches!(
        ca.issue("acc", &bad, KeyAlg::P256, None).await,
        Err(CaError::BadName(_))
    ));
    assert!(matches!(
        ca.issue("acc", &ivanov(), KeyAlg::P256, Some(0)).await,
        Err(CaError::BadValidity(_))
    ));
    assert!(matches!(
        ca.issue("acc", &ivanov(), KeyAlg::P256, Some(30 * YEAR))
            .await,
        Err(CaError::BadValidity(_))
    ));
    assert!(matches!(
        Snils::parse("112-233-445 96"),
        Err(CaError::BadSnils(_))
    ));
    assert!(ca.list_for_account("acc").await.unwrap().is_empty());
}

#[tokio::test]
async fn issue_list_revoke_and_the_key_stops_signing() {
    for (pool, backend) in pools().await {
        let clock = ManualClock::new(SystemClock.now());
        let ca = Ca::ensure(
            pool.clone(),
            backend,
            Kek::generate().0,
            Arc::new(clock.clone()),
            settings(),
        )
        .await
        .unwrap();
        let one = ca
            .issue("acc-1", &ivanov(), KeyAlg::P256, None)
            .await
            .unwrap();
        assert_eq!(
            one.not_after - one.not_before,
            YEAR,
            "default validity one year"
        );
        clock.advance(10);
        let two = ca
            .issue("acc-1", &ivanov(), KeyAlg::P256, Some(86400))
            .await
            .unwrap();
        ca.issue("acc-2", &ivanov(), KeyAlg::P256, None)
            .await
            .unwrap();
        let list = ca.list_for_account("acc-1").await.unwrap();
        assert_eq!(
            list.iter().map(|c| c.serial.as_str()).collect::<Vec<_>>(),
            vec![two.serial.as_str(), one.serial.as_str()],
            "newest first, {backend:?}"
        );
        assert_eq!(one.serial.len(), 32, "16-byte serial");
        use signature::Signer;
        let key = ca.citizen_key(&one.serial).await.unwrap();
        assert!(format!("{key:?}").contains("[redacted]"));
        let sig: CitizenSignature = key.try_sign(b"hello").unwrap();
        assert!(!sig.as_bytes().is_empty());

        assert!(ca
            .revoke(&one.serial, CrlReason::KeyCompromise, clock.now())
            .await
            .unwrap());
        assert!(!ca
            .revoke(&one.serial, CrlReason::Superseded, clock.now())
            .await
            .unwrap());
        assert!(matches!(
            ca.find(&one.serial).await.unwrap().unwrap().status,
            CertStatus::Revoked {
                reason: CrlReason::KeyCompromise,
                ..
            }
        ));
        assert!(matches!(
            ca.citizen_key(&one.serial).await,
            Err(CaError::Revoked)
        ));
        assert!(matches!(
            ca.revoke("00ff", CrlReason::Unspecified, 0).await,
            Err(CaError::UnknownSerial)
        ));
        assert!(matches!(
            ca.revoke(&two.serial, CrlReason::RemoveFromCRL, 0).await,
            Err(CaError::BadReason)
        ));
        for bad_time in [-1, clock.now() + 1, i64::MAX] {
            assert!(matches!(
                ca.revoke(&two.serial, CrlReason::KeyCompromise, bad_time)
                    .await,
                Err(CaError::BadValidity(_))
            ));
        }
        assert_eq!(
            ca.revoke_all_for_account("acc-1", CrlReason::PrivilegeWithdrawn)
                .await
                .unwrap(),
            1
        );
        assert!(ca
            .list_for_account("acc-1")
            .await
            .unwrap()
            .iter()
            .all(|c| c.status != CertStatus::Valid));
        assert_eq!(
            ca.list_for_account("acc-2").await.unwrap()[0].status,
            CertStatus::Valid
        );
    }
}

#[tokio::test]
async fn crl_is_cached_until_a_revocation_and_numbers_grow() {
    let (pool, backend) = pools().await.remove(0);
    let ca = ca_on(&pool, backend, &Kek::generate().0).await;
    let c = ca
        .issue("acc", &ivanov(), KeyAlg::P256, None)
        .await
        .unwrap();
    let first = ca.crl_der().await.unwrap();
    assert_eq!(ca.crl_der().await.unwrap(), first, "cached");
    ca.revoke(&c.serial, CrlReason::KeyCompromise, SystemClock.now())
        .await
        .unwrap();
    let second = ca.crl_der().await.unwrap();
    let parse = |d: &[u8]| x509_cert::crl::CertificateList::from_der(d).unwrap();
    let (a, b) = (parse(&first), parse(&second));
    assert!(a.tbs_cert_list.revoked_certificates.is_none());
    let revoked = b.tbs_cert_list.revoked_certificates.clone().unwrap();
    assert_eq!(profile::hex(revoked[0].serial_number.as_bytes()), c.serial);
    let number = |l: &x509_cert::crl::CertificateList| {
        l.tbs_cert_list.crl_extensions.as_ref().unwrap()[1]
            .extn_value
            .as_bytes()
            .to_vec()
    };
    assert!(number(&a) < number(&b), "cRLNumber grows");
}

#[tokio::test]
async fn ocsp_never_panics_on_garbage_and_says_malformed() {
    let (pool, backend) = pools().await.remove(0);
    let ca = ca_on(&pool, backend, &Kek::generate().0).await;
    let mut rng = rand::rngs::OsRng;
    let mut inputs: Vec<Vec<u8>> = vec![vec![], vec![0x30], vec![0x30, 0x00], vec![0x30, 0x80]];
    for len in 0..300 {
        let mut b = vec![0u8; len % 97 + 1];
        rng.fill_bytes(&mut b);
        if len % 2 == 0 {
            b[0] = 0x30; // looks like a SEQUENCE
        }
        inputs.push(b);
    }
    for input in inputs {
        let resp = x509_ocsp::OcspResponse::from_der(&ca.ocsp_respond(&input).await).unwrap();
        assert_eq!(
            resp.response_status,
            x509_ocsp::OcspResponseStatus::MalformedRequest
        );
    }
}

#[tokio::test]
async fn ocsp_refuses_a_foreign_issuer_and_overlong_nonce() {
    use x509_ocsp::builder::OcspRequestBuilder;
    use x509_ocsp::{ext::Nonce, OcspResponse, OcspResponseStatus, Request, Version};
    let (pool, backend) = pools().await.remove(0);
    let ca = ca_on(&pool, backend, &Kek::generate().0).await;
    let cert = ca
        .issue("acc", &ivanov(), KeyAlg::P256, None)
        .await
        .unwrap();
    let cert = x509_cert::Certificate::from_der(&cert.der).unwrap();
    let root = x509_cert::Certificate::from_der(ca.root_der()).unwrap();
    let foreign = OcspRequestBuilder::new(Version::V1)
        .with_request(Request::from_cert::<sha1::Sha1>(&root, &cert).unwrap())
        .build();
    let resp = OcspResponse::from_der(&ca.ocsp_respond(&foreign.to_der().unwrap()).await).unwrap();
    assert_eq!(resp.response_status, OcspResponseStatus::Unauthorized);
    let issuing = x509_cert::Certificate::from_der(ca.issuing_der()).unwrap();
    let long_nonce = OcspRequestBuilder::new(Version::V1)
        .with_request(Request::from_cert::<sha2::Sha256>(&issuing, &cert).unwrap())
        .with_extension(Nonce::new(vec![7u8; 33]).unwrap())
        .unwrap()
        .build();
    let resp =
        OcspResponse::from_der(&ca.ocsp_respond(&long_nonce.to_der().unwrap()).await).unwrap();
    assert_eq!(resp.response_status, OcspResponseStatus::MalformedRequest);
}

fn ts_request(alg: const_oid::ObjectIdentifier, len: usize) -> Vec<u8> {
    x509_tsp::TimeStampReq {
        version: x509_tsp::TspVersion::V1,
        message_imprint: x509_tsp::MessageImprint {
            hash_algorithm: spki::AlgorithmIdentifierOwned {
                oid: alg,
                parameters: None,
            },
            hashed_message: der::asn1::OctetString::new(vec![1u8; len]).unwrap(),
        },
        req_policy: None,
        nonce: None,
        cert_req: true,
        extensions: None,
    }
    .to_der()
    .unwrap()
}

/// The failure bit of a rejection (RFC 3161 §2.4.2), read from the DER.
async fn ts_fail(ca: &Ca, req: &[u8]) -> Option<usize> {
    let der = ca.timestamp(req).await;
    assert!(
        x509_tsp::TimeStampResp::from_der(&der).is_ok(),
        "a TimeStampResp"
    );
    tsa::Rejection::from_der(&der).unwrap().failure_bit()
}

#[tokio::test]
async fn tsa_refuses_weak_hashes_bad_lengths_and_garbage() {
    use const_oid::db::rfc5912::{ID_MD_5, ID_SHA_1, ID_SHA_256};
    use TsaFailure as F;
    let (pool, backend) = pools().await.remove(0);
    let ca = ca_on(&pool, backend, &Kek::generate().0).await;
    let bad_alg = Some(F::BadAlg as usize);
    let bad_format = Some(F::BadDataFormat as usize);
    assert_eq!(
        ts_fail(&ca, &ts_request(ID_SHA_1, 20)).await,
        bad_alg,
        "SHA-1"
    );
    assert_eq!(ts_fail(&ca, &ts_request(ID_MD_5, 16)).await, bad_alg, "MD5");
    assert_eq!(
        ts_fail(&ca, &ts_request(ID_SHA_256, 31)).await,
        bad_format,
        "short imprint"
    );
    let mut rng = rand::rngs::OsRng;
    for len in 0..200 {
        let mut b = vec![0u8; len % 61 + 1];
        rng.fill_bytes(&mut b);
        b[0] = 0x30;
        assert_eq!(ts_fail(&ca, &b).await, bad_format);
    }
    // A good request is granted.
    let der = ca.timestamp(&ts_request(ID_SHA_256, 32)).await;
    let ok = x509_tsp::TimeStampResp::from_der(&der).unwrap();
    assert_eq!(ok.status.status, cmpv2::status::PkiStatus::Accepted);
    assert!(ok.time_stamp_token.is_some());
}
