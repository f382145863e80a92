//! JWS, signing key and KEK tests.

#![allow(clippy::unwrap_used)]

use super::*;
use crate::{Jwk, Kek};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::json;

fn b64(x: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(x)
}

fn with_part(t: &str, i: usize, v: &str) -> String {
    let mut parts: Vec<&str> = t.split('.').collect();
    parts[i] = v;
    parts.join(".")
}

#[test]
fn jwt_round_trip_es256_and_rs256_and_tamper_detection() {
    for alg in [Alg::ES256, Alg::RS256] {
        let k = SigningKey::generate(alg).unwrap();
        let pk = PublicKey::from_jwk(&k.public_jwk()).unwrap();
        let look = |h: &JwsHeader| (h.kid.as_deref() == Some(k.kid())).then(|| pk.clone());
        let t = sign_jwt(&k, Some("JWT"), &json!({"sub": "a", "n": 1})).unwrap();
        let (h, p) = verify_jws(&t, look).unwrap();
        assert_eq!(
            (h.alg.as_str(), h.kid.as_deref(), h.typ.as_deref()),
            (alg.as_str(), Some(k.kid()), Some("JWT"))
        );
        assert_eq!(p, json!({"sub": "a", "n": 1}));
        let (dh, dp, input, sig) = decode_unverified(&t).unwrap();
        assert_eq!((dh.alg, dp), (alg.as_str().to_owned(), p));
        assert_eq!(input, t.rsplit_once('.').unwrap().0);
        assert_eq!(sig.len(), if alg == Alg::ES256 { 64 } else { 256 });

        assert!(
            verify_jws(&with_part(&t, 1, &b64(br#"{"sub":"b","n":1}"#)), look).is_err(),
            "payload"
        );
        let mut bad = sig.clone();
        bad[10] ^= 1;
        assert!(
            verify_jws(&with_part(&t, 2, &b64(&bad)), look).is_err(),
            "signature"
        );
        assert!(verify_jws(&t, |_| None).is_err(), "unknown kid");
        let other = PublicKey::from_jwk(&SigningKey::generate(alg).unwrap().public_jwk()).unwrap();
        assert!(
            verify_jws(&t, |_| Some(other.clone())).is_err(),
            "wrong key"
        );
        assert!(!sign_jwt(&k, None, &json!({})).unwrap().is_empty());
    }
}

#[test]
fn header_is_exactly_alg_kid_typ() {
    let k = SigningKey::generate(Alg::ES256).unwrap();
    let t = sign_jwt(&k, Some("at+jwt"), &json!({})).unwrap();
    let h = URL_SAFE_NO_PAD
        .decode(t.split('.').next().unwrap())
        .unwrap();
    assert_eq!(
        String::from_utf8(h).unwrap(),
        format!(r#"{{"alg":"ES256","kid":"{}","typ":"at+jwt"}}"#, k.kid())
    );
    let t = sign_jwt(&k, None, &json!({})).unwrap();
    assert!(decode_unverified(&t).unwrap().0.typ.is_none());
}

#[test]
fn alg_none_garbage_crit_and_oversize_are_refused() {
    let payload = b64(br#"{"sub":"a"}"#);
    for alg in ["none", "None", "NONE"] {
        let t = format!(
            "{}.{payload}.",
            b64(format!(r#"{{"alg":"{alg}"}}"#).as_bytes())
        );
        assert!(decode_unverified(&t).is_err(), "{alg}");
        assert!(verify_jws(&t, |_| None).is_err());
    }
    let crit = format!(
        "{}.{payload}.AAAA",
        b64(br#"{"alg":"ES256","crit":["exp"],"exp":1}"#)
    );
    assert!(decode_unverified(&crit).is_err());
    let no_alg = format!("{}.{payload}.AAAA", b64(br#"{"kid":"x"}"#));
    assert!(decode_unverified(&no_alg).is_err());
    let unknown_alg = format!("{}.{payload}.AAAA", b64(br#"{"alg":"HS256"}"#));
    assert!(
        decode_unverified(&unknown_alg).is_ok(),
        "decoding does not judge the alg"
    );
    assert!(verify_jws(&unknown_alg, |_| None).is_err());
    for bad in ["a.b", "a.b.c.d", "!!.??.**", "", "..", "e30.e30.AAAA="] {
        assert!(decode_unverified(bad).is_err(), "{bad}");
    }
    let padded = format!("{}=.{payload}.AAAA", b64(br#"{"alg":"ES256"}"#));
    assert!(decode_unverified(&padded).is_err());
    let huge = format!(
        "{}.{}.AAAA",
        b64(br#"{"alg":"ES256"}"#),
        "A".repeat(MAX_JWS_LEN)
    );
    assert!(decode_unverified(&huge).is_err());
}

#[test]
fn alg_and_key_type_must_match() {
    let ec = SigningKey::generate(Alg::ES256).unwrap();
    let pk = PublicKey::from_jwk(&ec.public_jwk()).unwrap();
    let t = sign_jwt(&ec, None, &json!({})).unwrap();
    let (_, _, input, sig) = decode_unverified(&t).unwrap();
    assert!(pk.verify(Alg::ES256, input.as_bytes(), &sig).is_ok());
    for alg in [Alg::ES384, Alg::RS256, Alg::PS256, Alg::EdDSA] {
        assert!(pk.verify(alg, input.as_bytes(), &sig).is_err(), "{alg}");
    }
    // Header claims RS256 over an EC key.
    let forged = format!(
        "{}.{}",
        b64(format!(r#"{{"alg":"RS256","kid":"{}"}}"#, ec.kid()).as_bytes()),
        t.split_once('.').unwrap().1
    );
    assert!(verify_jws(&forged, |_| Some(pk.clone())).is_err());
}

#[test]
fn alg_names_round_trip() {
    for a in [
        Alg::ES256,
        Alg::ES384,
        Alg::RS256,
        Alg::RS384,
        Alg::RS512,
        Alg::PS256,
        Alg::PS384,
        Alg::PS512,
        Alg::EdDSA,
    ] {
        assert_eq!(a.as_str().parse::<Alg>().unwrap(), a);
        assert_eq!(serde_json::to_string(&a).unwrap(), format!("\"{a}\""));
    }
    assert!("none".parse::<Alg>().is_err());
    assert!("HS256".parse::<Alg>().is_err());
    assert!(
        SigningKey::generate(Alg::PS256).is_err(),
        "we sign with ES256 and RS256 only"
    );
}

#[test]
fn small_rsa_and_bad_jwks_are_refused() {
    let small = Jwk {
        kty: "RSA".into(),
        n: Some(b64(&[0xc5; 128])),
        e: Some("AQAB".into()),
        ..ec_template()
    };
    assert!(PublicKey::from_jwk(&small).is_err(), "1024-bit RSA");
    let short = Jwk {
        x: Some(b64(&[1; 31])),
        ..ec_template()
    };
    assert!(PublicKey::from_jwk(&short).is_err());
    assert!(PublicKey::from_jwk(&Jwk {
        kty: "oct".into(),
        ..ec_template()
    })
    .is_err());
    let ed = Jwk {
        kty: "OKP".into(),
        crv: Some("Ed25519".into()),
        x: Some(b64(&[7; 32])),
        y: None,
        ..ec_template()
    };
    assert!(PublicKey::from_jwk(&ed).is_ok());
}

fn ec_template() -> Jwk {
    SigningKey::generate(Alg::ES256).unwrap().public_jwk()
}

#[test]
fn signing_key_kid_is_the_thumbprint_and_reloads() {
    let k = SigningKey::generate(Alg::ES256).unwrap();
    let j = k.public_jwk();
    assert_eq!(
        (j.use_.as_deref(), j.alg.as_deref(), j.kid.as_deref()),
        (Some("sig"), Some("ES256"), Some(k.kid()))
    );
    let canon = format!(
        r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
        j.x.clone().unwrap(),
        j.y.clone().unwrap()
    );
    assert_eq!(
        k.kid(),
        b64(&<sha2::Sha256 as sha2::Digest>::digest(canon.as_bytes()))
    );
    let again = SigningKey::from_pkcs8("other", Alg::ES256, k.pkcs8_der()).unwrap();
    assert_eq!(again.kid(), "other");
    assert_eq!((again.public_jwk().x, again.public_jwk().y), (j.x, j.y));
    assert!(SigningKey::from_pkcs8("x", Alg::RS256, k.pkcs8_der()).is_err());
    let dbg = format!("{k:?}");
    assert!(dbg.contains("redacted") && !dbg.contains(&b64(k.pkcs8_der())[..20]));
}

/// RS256 checked by a second implementation: the `rsa` crate's PKCS#1 v1.5 verifier.
#[test]
fn rs256_verifies_with_the_rsa_crate() {
    use rsa::{BigUint, Pkcs1v15Sign, RsaPublicKey};
    use sha2::{Digest, Sha256};
    let k = SigningKey::generate(Alg::RS256).unwrap();
    let t = sign_jwt(&k, None, &json!({"x": 1})).unwrap();
    let (_, _, input, sig) = decode_unverified(&t).unwrap();
    let j = k.public_jwk();
    let n = BigUint::from_bytes_be(&URL_SAFE_NO_PAD.decode(j.n.unwrap()).unwrap());
    let e = BigUint::from_bytes_be(&URL_SAFE_NO_PAD.decode(j.e.unwrap()).unwrap());
    let pk = RsaPublicKey::new(n, e).unwrap();
    // DigestInfo prefix for SHA-256 (RFC 8017 §9.2 note 1).
    let prefix = hex_bytes("3031300d060960864801650304020105000420");
    let scheme = Pkcs1v15Sign {
        hash_len: Some(32),
        prefix: prefix.into(),
    };
    pk.verify(scheme, &Sha256::digest(input.as_bytes()), &sig)
        .unwrap();
}

fn hex_bytes(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn kek_round_trip_and_wrong_aad_or_key_fail() {
    let (k, b64s) = Kek::generate();
    let ct = k.encrypt(b"kid1", b"secret");
    assert_eq!(ct.len(), 12 + 6 + 16);
    assert_ne!(k.encrypt(b"kid1", b"secret"), ct, "fresh nonce");
    assert_eq!(k.decrypt(b"kid1", &ct).unwrap(), b"secret");
    assert!(matches!(k.decrypt(b"kid2", &ct), Err(crate::Error::Decrypt(kid)) if kid == "kid2"));
    assert!(Kek::generate().0.decrypt(b"kid1", &ct).is_err());
    assert!(k.decrypt(b"kid1", &ct[..20]).is_err());
    let mut flipped = ct.clone();
    flipped[14] ^= 1;
    assert!(k.decrypt(b"kid1", &flipped).is_err());
    assert_eq!(
        Kek::from_base64(&b64s)
            .unwrap()
            .decrypt(b"kid1", &ct)
            .unwrap(),
        b"secret"
    );
    assert_eq!(format!("{k:?}"), "Kek([redacted])");
}

#[test]
fn kek_parsing() {
    let raw = [0xfbu8; 32];
    let std_b64 = base64::engine::general_purpose::STANDARD.encode(raw);
    let url_b64 = URL_SAFE_NO_PAD.encode(raw);
    assert!(std_b64.contains('+') || std_b64.contains('/'));
    let ct = Kek::from_bytes(raw).encrypt(b"a", b"m");
    for s in [std_b64.clone(), url_b64.clone(), format!("  {std_b64}\n")] {
        assert_eq!(
            Kek::from_base64(&s).unwrap().decrypt(b"a", &ct).unwrap(),
            b"m",
            "{s}"
        );
    }
    assert!(
        matches!(Kek::from_base64("c2hvcnQ="), Err(crate::Error::Kek(m)) if m.contains("need 32"))
    );
    assert!(Kek::from_base64("not base64!").is_err());
    let dir = std::env::temp_dir().join(format!("vhod-kek-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = dir.join("kek.txt");
    std::fs::write(&text, format!("{url_b64}\n")).unwrap();
    assert!(Kek::from_file(&text).unwrap().decrypt(b"a", &ct).is_ok());
    let bin = dir.join("kek.bin");
    std::fs::write(&bin, raw).unwrap();
    assert!(Kek::from_file(&bin).unwrap().decrypt(b"a", &ct).is_ok());
    std::fs::write(&bin, [1u8; 31]).unwrap();
    assert!(matches!(Kek::from_file(&bin), Err(crate::Error::Kek(_))));
    assert!(matches!(
        Kek::from_file(dir.join("missing")),
        Err(crate::Error::Io(_))
    ));
    std::fs::remove_dir_all(&dir).unwrap();
}
