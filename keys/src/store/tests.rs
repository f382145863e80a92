use super::*;
use crate::{jws, ManualClock};

async fn pool() -> AnyPool {
    sqlx::any::install_default_drivers();
    let pool = sqlx::any::AnyPoolOptions::new().max_connections(1).connect("sqlite::memory:").await.unwrap();
    migrate(&pool, Backend::Sqlite).await.unwrap();
    pool
}

fn kids(ring: &KeyRing) -> Vec<String> {
    let v: serde_json::Value = serde_json::from_str(&ring.jwks_json()).unwrap();
    v["keys"].as_array().unwrap().iter().map(|k| k["kid"].as_str().unwrap().to_owned()).collect()
}

fn policy(alg: Alg) -> RotationPolicy {
    RotationPolicy { alg, prepublish_secs: 100, rotation_period_secs: Some(1000), retain_secs: 500 }
}

#[tokio::test]
async fn first_start_creates_one_active_key() {
    let clock = ManualClock::new(1_000_000);
    let ring = KeyRing::load_or_init(pool().await, Kek::generate().0, policy(Alg::ES256), Arc::new(clock)).await.unwrap();
    let list = ring.list().await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].status, KeyStatus::Active);
    assert_eq!(kids(&ring), vec![ring.signer().kid().to_owned()]);
}

#[tokio::test]
async fn rotation_prepublishes_then_switches_then_expires_old_key() {
    let clock = ManualClock::new(1_000_000);
    let ring = KeyRing::load_or_init(pool().await, Kek::generate().0, policy(Alg::ES256), Arc::new(clock.clone())).await.unwrap();
    let old = ring.signer().kid().to_owned();
    let new = ring.rotate().await.unwrap();
    assert_eq!(new.status, KeyStatus::Pending);
    assert!(kids(&ring).contains(&new.kid), "new key is published at once");
    assert_eq!(ring.signer().kid(), old, "but does not sign before prepublish passes");
    clock.advance(100);
    ring.refresh().await.unwrap();
    assert_eq!(ring.signer().kid(), new.kid);
    assert!(kids(&ring).contains(&old), "retired key stays published");
    clock.advance(500);
    ring.refresh().await.unwrap();
    assert!(!kids(&ring).contains(&old), "expired key leaves the JWKS");
    assert!(ring.public_key(&old).is_none());
}

#[tokio::test]
async fn rotate_if_due_respects_period() {
    let clock = ManualClock::new(1_000_000);
    let ring = KeyRing::load_or_init(pool().await, Kek::generate().0, policy(Alg::ES256), Arc::new(clock.clone())).await.unwrap();
    assert!(ring.rotate_if_due().await.unwrap().is_none());
    clock.advance(1000);
    assert!(ring.rotate_if_due().await.unwrap().is_some());
    assert!(ring.rotate_if_due().await.unwrap().is_none());
}

#[tokio::test]
async fn private_keys_are_encrypted_at_rest_and_need_the_right_kek() {
    let p = pool().await;
    let clock = Arc::new(ManualClock::new(1_000_000));
    let kek = Kek::generate().0;
    let ring = KeyRing::load_or_init(p.clone(), kek, policy(Alg::ES256), clock.clone()).await.unwrap();
    let der = ring.signer().pkcs8_der().to_vec();
    let stored: Vec<u8> = sqlx::query("SELECT private_key FROM signing_keys").fetch_one(&p).await.unwrap().get(0);
    assert!(!stored.windows(der.len()).any(|w| w == der.as_slice()));
    let wrong = KeyRing::load_or_init(p, Kek::generate().0, policy(Alg::ES256), clock).await;
    assert!(matches!(wrong, Err(Error::Decrypt(_))), "{wrong:?}", wrong = wrong.err());
}

#[test]
fn jwt_round_trip_es256_and_rs256_and_tamper_detection() {
    for alg in [Alg::ES256, Alg::RS256] {
        let k = SigningKey::generate(alg).unwrap();
        let pk = PublicKey::from_jwk(&k.public_jwk()).unwrap();
        let t = jws::sign_jwt(&k, Some("JWT"), &serde_json::json!({"sub": "a"})).unwrap();
        let (h, p) = jws::verify_jws(&t, |_| Some(pk.clone())).unwrap();
        assert_eq!(h.kid.as_deref(), Some(k.kid()));
        assert_eq!(p["sub"], "a");
        let mut parts: Vec<&str> = t.split('.').collect();
        let forged = base64::Engine::encode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, br#"{"sub":"b"}"#);
        parts[1] = &forged;
        assert!(jws::verify_jws(&parts.join("."), |_| Some(pk.clone())).is_err());
        assert!(jws::verify_jws(&t, |_| None).is_err(), "unknown kid");
    }
}

#[test]
fn alg_none_and_garbage_are_refused() {
    let none = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhIn0.";
    assert!(jws::decode_unverified(none).is_err());
    assert!(jws::decode_unverified("a.b").is_err());
    assert!(jws::decode_unverified("!!.??.**").is_err());
}

#[test]
fn kek_round_trip_and_wrong_aad_or_key_fail() {
    let (k, b64) = Kek::generate();
    let ct = k.encrypt(b"kid1", b"secret").unwrap();
    assert_eq!(k.decrypt(b"kid1", &ct).unwrap(), b"secret");
    assert!(k.decrypt(b"kid2", &ct).is_err());
    assert!(Kek::generate().0.decrypt(b"kid1", &ct).is_err());
    assert_eq!(Kek::from_base64(&b64).unwrap().decrypt(b"kid1", &ct).unwrap(), b"secret");
    assert!(Kek::from_base64("c2hvcnQ=").is_err());
    assert_eq!(format!("{k:?}"), "Kek([redacted])");
}
