//! A software WebAuthn authenticator and client (W3C WebAuthn Level 3) for the passkey tests:
//! a P-256 key, `none` attestation, authenticator data with the UP and UV flags, the COSE
//! key and attestation object in CBOR, and the client data JSON a browser would make.
//!
//! Written by hand rather than taken from `webauthn-authenticator-rs` or 1Password's
//! `passkey`: the tests must also do what a well-behaved client never does — claim another
//! origin, answer with a credential the options did not allow, replay an answer, and move
//! the sign counter backwards (a cloned authenticator, §6.1.1) — and both crates hide or
//! forbid those. The CBOR written here is three fixed shapes (§6.5.1.1, §6.5.4, RFC 9053
//! §7.1.1), and webauthn-rs, an independent implementation, parses and verifies all of it.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_ASN1_SIGNING};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// One passkey held by the software authenticator.
pub struct SoftPasskey {
    /// The credential id.
    pub credential_id: Vec<u8>,
    /// The user handle the relying party gave at registration.
    pub user_handle: Vec<u8>,
    /// The signature counter (the next assertion sends `counter + 1`).
    pub counter: u32,
    key: EcdsaKeyPair,
    rng: SystemRandom,
}

/// The options of the first passkey form on a page (its `data-options`, unescaped).
pub fn page_options(html: &str) -> Value {
    let start = html.find("data-options=\"").expect("data-options") + 14;
    let end = html[start..].find('"').expect("end of data-options");
    serde_json::from_str(&super::unescape(&html[start..start + end])).expect("options JSON")
}

fn b64(b: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(b)
}

/// A CBOR byte string header and bytes (RFC 8949 major type 2).
fn cbor_bytes(out: &mut Vec<u8>, b: &[u8]) {
    match b.len() {
        n if n < 24 => out.push(0x40 | n as u8),
        n if n < 256 => out.extend([0x58, n as u8]),
        n => out.extend([0x59, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(b);
}

fn client_data(kind: &str, options: &Value, origin: &str) -> Vec<u8> {
    let challenge = options["publicKey"]["challenge"]
        .as_str()
        .expect("challenge");
    json!({ "type": kind, "challenge": challenge, "origin": origin, "crossOrigin": false })
        .to_string()
        .into_bytes()
}

impl SoftPasskey {
    /// Answers `navigator.credentials.create(options)` from `origin`: makes the key and
    /// returns the passkey and the JSON the page posts.
    pub fn register(options: &Value, origin: &str) -> (SoftPasskey, String) {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng).unwrap();
        let key = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let pk = &options["publicKey"];
        let rp_id = pk["rp"]["id"].as_str().expect("rp id");
        let user_handle = URL_SAFE_NO_PAD
            .decode(pk["user"]["id"].as_str().expect("user id"))
            .unwrap();
        let credential_id: Vec<u8> = (0..16).map(|_| rand::random::<u8>()).collect();
        // COSE_Key, EC2 P-256 ES256: {1: 2, 3: -7, -1: 1, -2: x, -3: y}.
        let point = key.public_key().as_ref();
        let mut cose = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21];
        cbor_bytes(&mut cose, &point[1..33]);
        cose.push(0x22);
        cbor_bytes(&mut cose, &point[33..65]);
        // authenticatorData: rpIdHash, flags UP|UV|AT, signCount 0, attested credential data.
        let mut auth = Sha256::digest(rp_id.as_bytes()).to_vec();
        auth.push(0x45);
        auth.extend(0u32.to_be_bytes());
        auth.extend([0u8; 16]);
        auth.extend((credential_id.len() as u16).to_be_bytes());
        auth.extend(&credential_id);
        auth.extend(&cose);
        // {"fmt": "none", "attStmt": {}, "authData": authData}
        let mut att = vec![0xa3, 0x63];
        att.extend(b"fmt");
        att.push(0x64);
        att.extend(b"none");
        att.push(0x67);
        att.extend(b"attStmt");
        att.extend([0xa0, 0x68]);
        att.extend(b"authData");
        cbor_bytes(&mut att, &auth);
        let answer = json!({
            "id": b64(&credential_id),
            "rawId": b64(&credential_id),
            "type": "public-key",
            "response": {
                "attestationObject": b64(&att),
                "clientDataJSON": b64(&client_data("webauthn.create", options, origin)),
            },
            "extensions": {},
        });
        let passkey = SoftPasskey {
            credential_id,
            user_handle,
            counter: 0,
            key,
            rng,
        };
        (passkey, answer.to_string())
    }

    /// Answers `navigator.credentials.get(options)` from `origin` with this passkey,
    /// whatever credentials the options allow; the counter grows by one.
    pub fn assert(&mut self, options: &Value, origin: &str) -> String {
        self.counter += 1;
        let rp_id = options["publicKey"]["rpId"].as_str().expect("rpId");
        let mut auth = Sha256::digest(rp_id.as_bytes()).to_vec();
        auth.push(0x05); // UP | UV
        auth.extend(self.counter.to_be_bytes());
        let cdata = client_data("webauthn.get", options, origin);
        let mut signed = auth.clone();
        signed.extend(Sha256::digest(&cdata));
        let sig = self.key.sign(&self.rng, &signed).unwrap();
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "authenticatorData": b64(&auth),
                "clientDataJSON": b64(&cdata),
                "signature": b64(sig.as_ref()),
                "userHandle": b64(&self.user_handle),
            },
            "extensions": {},
        })
        .to_string()
    }
}
