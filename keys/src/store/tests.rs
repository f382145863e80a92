//! Key ring tests on in-memory SQLite with a manual clock.

#![allow(clippy::unwrap_used)]

use super::*;
use crate::{jws, Kek, KeyRing, ManualClock, SigningKey};
use sqlx::Row;
use std::sync::Arc;

const T0: i64 = 1_000_000;

async fn pool() -> AnyPool {
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await
        .unwrap();
    migrate(&pool, Backend::Sqlite).await.unwrap();
    migrate(&pool, Backend::Sqlite).await.unwrap(); // idempotent
    pool
}

fn kids(ring: &KeyRing) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(&ring.jwks_json()).unwrap();
    v["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap().to_owned())
        .collect()
}

fn policy(alg: Alg) -> RotationPolicy {
    RotationPolicy {
        alg,
        also: Vec::new(),
        prepublish_secs: 100,
        rotation_period_secs: Some(1000),
        retain_secs: 500,
    }
}

async fn ring_at(clock: &ManualClock) -> Arc<KeyRing> {
    KeyRing::load_or_init(
        pool().await,
        Kek::generate().0,
        policy(Alg::ES256),
        Arc::new(clock.clone()),
    )
    .await
    .unwrap()
}

#[test]
fn backend_from_url_and_policy_default() {
    assert_eq!(Backend::from_url("sqlite::memory:"), Some(Backend::Sqlite));
    assert_eq!(
        Backend::from_url("postgres://u@h/db"),
        Some(Backend::Postgres)
    );
    assert_eq!(Backend::from_url("mysql://x"), None);
    let d = RotationPolicy::default();
    assert_eq!(
        (
            d.alg,
            d.prepublish_secs,
            d.rotation_period_secs,
            d.retain_secs
        ),
        (Alg::ES256, 3600, Some(90 * 86400), 86400)
    );
}

#[tokio::test]
async fn first_start_creates_one_active_key_and_second_start_reuses_it() {
    let p = pool().await;
    let kek = Kek::generate().0;
    let clock = Arc::new(ManualClock::new(T0));
    let ring = KeyRing::load_or_init(p.clone(), kek.clone(), policy(Alg::ES256), clock.clone())
        .await
        .unwrap();
    let list = ring.list().await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].status, KeyStatus::Active);
    assert_eq!(kids(&ring), vec![ring.signer().kid().to_owned()]);
    let again = KeyRing::load_or_init(p, kek, policy(Alg::ES256), clock)
        .await
        .unwrap();
    assert_eq!(again.signer().kid(), ring.signer().kid());
    assert_eq!(again.list().await.unwrap().len(), 1);
    let info = serde_json::to_value(&list[0]).unwrap();
    assert_eq!(
        (info["status"].as_str(), info["alg"].as_str()),
        (Some("active"), Some("ES256"))
    );
}

#[tokio::test]
async fn concurrent_first_start_converges_on_one_signer() {
    let p = pool().await;
    let kek = Kek::generate().0;
    let clock = Arc::new(ManualClock::new(T0));
    // Node b starts on a database where node a inserted its first key after b looked.
    let a = SigningKey::generate(Alg::ES256).unwrap();
    let b = KeyRing::load_or_init(p.clone(), kek.clone(), policy(Alg::ES256), clock.clone())
        .await
        .unwrap();
    keyring_insert(&mut p.acquire().await.unwrap(), &kek, &a).await;
    let a_ring = KeyRing::load_or_init(p.clone(), kek, policy(Alg::ES256), clock)
        .await
        .unwrap();
    b.refresh().await.unwrap();
    assert_eq!(
        a_ring.signer().kid(),
        b.signer().kid(),
        "same deterministic choice"
    );
    assert_eq!(kids(&b).len(), 2);
}

async fn keyring_insert(conn: &mut sqlx::AnyConnection, kek: &Kek, k: &SigningKey) {
    sqlx::query("INSERT INTO signing_keys (kid, alg, private_key, public_jwk, created_at, activates_at) VALUES ($1, $2, $3, $4, $5, $6)")
        .bind(k.kid())
        .bind(k.alg().as_str())
        .bind(kek.encrypt(k.kid().as_bytes(), k.pkcs8_der()))
        .bind(serde_json::to_string(&k.public_jwk()).unwrap())
        .bind(T0)
        .bind(T0)
        .execute(conn)
        .await
        .unwrap();
}

#[tokio::test]
async fn rotation_prepublishes_then_switches_then_expires_old_key() {
    let clock = ManualClock::new(T0);
    let ring = ring_at(&clock).await;
    let old = ring.signer().kid().to_owned();
    let old_token = jws::sign_jwt(&ring.signer(), None, &serde_json::json!({"n": 1})).unwrap();
    let new = ring.rotate().await.unwrap().remove(0);
    assert_eq!(new.status, KeyStatus::Pending);
    assert_eq!(new.activates_at, T0 + 100);
    assert!(
        kids(&ring).contains(&new.kid),
        "new key is published at once"
    );
    assert!(ring.public_key(&new.kid).is_some());
    assert_eq!(
        ring.signer().kid(),
        old,
        "but does not sign before prepublish passes"
    );
    clock.advance(99);
    ring.refresh().await.unwrap();
    assert_eq!(ring.signer().kid(), old);
    clock.advance(1);
    ring.refresh().await.unwrap();
    assert_eq!(ring.signer().kid(), new.kid);
    assert!(kids(&ring).contains(&old), "retired key stays published");
    let verify =
        |t: &str| jws::verify_jws(t, |h| h.kid.as_deref().and_then(|k| ring.public_key(k)));
    assert!(
        verify(&old_token).is_ok(),
        "tokens of the retired key still verify"
    );
    let statuses: Vec<_> = ring
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|i| (i.kid, i.status))
        .collect();
    assert!(statuses.contains(&(old.clone(), KeyStatus::Retired)));
    clock.advance(499);
    ring.refresh().await.unwrap();
    assert!(kids(&ring).contains(&old));
    clock.advance(1);
    ring.refresh().await.unwrap();
    assert_eq!(
        kids(&ring),
        vec![new.kid.clone()],
        "expired key leaves the JWKS"
    );
    assert!(ring.public_key(&old).is_none());
    assert!(verify(&old_token).is_err());
}

#[tokio::test]
async fn rotating_again_supersedes_the_pending_key_without_a_gap() {
    let clock = ManualClock::new(T0);
    let ring = ring_at(&clock).await;
    let old = ring.signer().kid().to_owned();
    let first = ring.rotate().await.unwrap().remove(0);
    clock.advance(50);
    let second = ring.rotate().await.unwrap().remove(0);
    assert!(
        !kids(&ring).contains(&first.kid),
        "superseded pending key never signed; it leaves"
    );
    assert_eq!(kids(&ring).len(), 2);
    clock.advance(60); // past the first key's activation: the old key still signs
    ring.refresh().await.unwrap();
    assert_eq!(ring.signer().kid(), old);
    clock.advance(40);
    ring.refresh().await.unwrap();
    assert_eq!(ring.signer().kid(), second.kid);
}

#[tokio::test]
async fn rotate_if_due_respects_period() {
    let clock = ManualClock::new(T0);
    let ring = ring_at(&clock).await;
    assert!(ring.rotate_if_due().await.unwrap().is_none());
    clock.advance(999);
    assert!(ring.rotate_if_due().await.unwrap().is_none());
    clock.advance(1);
    assert!(ring.rotate_if_due().await.unwrap().is_some());
    assert!(
        ring.rotate_if_due().await.unwrap().is_none(),
        "the pending key is new"
    );
    clock.advance(500);
    assert!(ring.rotate_if_due().await.unwrap().is_none());
}

#[tokio::test]
async fn private_keys_are_encrypted_at_rest_and_need_the_right_kek() {
    let p = pool().await;
    let clock = Arc::new(ManualClock::new(T0));
    let kek = Kek::generate().0;
    let ring = KeyRing::load_or_init(p.clone(), kek, policy(Alg::RS256), clock.clone())
        .await
        .unwrap();
    assert_eq!(ring.signer().alg(), Alg::RS256);
    let der = ring.signer().pkcs8_der().to_vec();
    let stored: Vec<u8> = sqlx::query("SELECT private_key FROM signing_keys")
        .fetch_one(&p)
        .await
        .unwrap()
        .get(0);
    assert!(!stored.windows(der.len()).any(|w| w == der.as_slice()));
    assert!(
        !stored.windows(32).any(|w| der.windows(32).any(|d| d == w)),
        "no 32-byte run of the DER"
    );
    let wrong = KeyRing::load_or_init(p, Kek::generate().0, policy(Alg::RS256), clock).await;
    match wrong {
        Err(Error::Decrypt(kid)) => assert_eq!(kid, ring.signer().kid()),
        other => panic!("expected Decrypt, got {:?}", other.err()),
    }
}

#[tokio::test]
async fn refresher_task_runs_and_stops_with_the_ring() {
    let clock = ManualClock::new(T0);
    let ring = ring_at(&clock).await;
    clock.advance(1000);
    let task = ring.spawn_refresher(std::time::Duration::from_millis(20));
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    assert_eq!(
        ring.list().await.unwrap().len(),
        2,
        "scheduled rotation happened"
    );
    drop(ring);
    tokio::time::timeout(std::time::Duration::from_secs(2), task)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_second_algorithm_gets_its_own_key_published_signing_and_rotating() {
    let clock = ManualClock::new(T0);
    let mut p = policy(Alg::ES256);
    p.also = vec![Alg::RS256, Alg::ES256]; // the primary repeated is ignored
    assert_eq!(p.algs(), vec![Alg::ES256, Alg::RS256]);
    let db = pool().await;
    let kek = Kek::generate().0;
    let ring = KeyRing::load_or_init(db.clone(), kek.clone(), p.clone(), Arc::new(clock.clone()))
        .await
        .unwrap();
    assert_eq!(
        ring.signer().alg(),
        Alg::ES256,
        "the primary signs by default"
    );
    let rsa = ring.signer_for(Alg::RS256).unwrap();
    assert_eq!(rsa.alg(), Alg::RS256);
    assert_eq!(kids(&ring).len(), 2);
    assert!(kids(&ring).contains(&rsa.kid().to_owned()));
    // A restart finds both and creates nothing.
    let again = KeyRing::load_or_init(db, kek, p, Arc::new(clock.clone()))
        .await
        .unwrap();
    assert_eq!(again.signer_for(Alg::RS256).unwrap().kid(), rsa.kid());
    assert_eq!(kids(&again).len(), 2);

    let new = ring.rotate().await.unwrap();
    assert_eq!(
        new.iter().map(|k| k.alg).collect::<Vec<_>>(),
        vec![Alg::ES256, Alg::RS256]
    );
    assert_eq!(kids(&ring).len(), 4, "both new keys are published at once");
    clock.advance(100);
    ring.refresh().await.unwrap();
    assert_eq!(ring.signer().kid(), new[0].kid);
    assert_eq!(ring.signer_for(Alg::RS256).unwrap().kid(), new[1].kid);
    let t = jws::sign_jwt(
        &ring.signer_for(Alg::RS256).unwrap(),
        None,
        &serde_json::json!({}),
    )
    .unwrap();
    assert!(jws::verify_jws(&t, |h| h.kid.as_deref().and_then(|k| ring.public_key(k))).is_ok());
    clock.advance(500);
    ring.refresh().await.unwrap();
    assert_eq!(
        kids(&ring).len(),
        2,
        "each retired key leaves after the retention"
    );
}
