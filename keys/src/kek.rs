//! The key-encryption key: AES-256-GCM over every private key at rest.

use crate::Error;
use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;
use std::path::Path;

/// A 256-bit key-encryption key. Never printed.
#[derive(Clone)]
pub struct Kek([u8; 32]);

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Kek([redacted])")
    }
}

impl Kek {
    /// From raw bytes.
    pub fn from_bytes(b: [u8; 32]) -> Kek {
        Kek(b)
    }

    /// From base64 (standard or url-safe, padded or not; whitespace trimmed) of exactly 32 bytes.
    pub fn from_base64(s: &str) -> Result<Kek, Error> {
        let s = s.trim();
        let raw = STANDARD
            .decode(s)
            .or_else(|_| URL_SAFE.decode(s))
            .or_else(|_| URL_SAFE_NO_PAD.decode(s))
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(s))
            .map_err(|_| Error::Kek("not base64 (standard or url-safe)".into()))?;
        let arr: [u8; 32] = raw
            .try_into()
            .map_err(|v: Vec<u8>| Error::Kek(format!("{} bytes, need 32", v.len())))?;
        Ok(Kek(arr))
    }

    /// From a file holding the base64 text (surrounding whitespace ignored) or exactly 32 raw
    /// bytes. Base64 of 32 bytes is 43 or more characters, so the two forms cannot be confused.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Kek, Error> {
        let raw = std::fs::read(path.as_ref())?;
        if let Ok(text) = std::str::from_utf8(&raw) {
            if let Ok(k) = Kek::from_base64(text) {
                return Ok(k);
            }
        }
        match <[u8; 32]>::try_from(raw.as_slice()) {
            Ok(arr) => Ok(Kek(arr)),
            Err(_) => Err(Error::Kek(format!(
                "{} holds neither base64 of 32 bytes nor 32 raw bytes",
                path.as_ref().display()
            ))),
        }
    }

    /// A new random KEK and its base64 form to persist.
    pub fn generate() -> (Kek, String) {
        let mut b = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut b);
        (Kek(b), STANDARD.encode(b))
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new(&self.0.into())
    }

    /// Encrypts `plaintext` bound to `aad`; output is nonce (12 random bytes) || ciphertext+tag.
    ///
    /// AES-GCM only refuses plaintexts over 64 GiB; should that ever happen the result is
    /// empty, which [`Kek::decrypt`] rejects, so nothing is silently stored in the clear.
    pub fn encrypt(&self, aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; 12];
        rand::rngs::OsRng.fill_bytes(&mut nonce);
        let Ok(ct) = self.cipher().encrypt(
            Nonce::from_slice(&nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        ) else {
            return Vec::new();
        };
        let mut out = Vec::with_capacity(12 + ct.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ct);
        out
    }

    /// Decrypts what [`Kek::encrypt`] produced with the same `aad`. A wrong KEK, a wrong
    /// `aad` or tampered data give [`Error::Decrypt`] naming the `aad` (the kid for keys).
    pub fn decrypt(&self, aad: &[u8], blob: &[u8]) -> Result<Vec<u8>, Error> {
        let what = || Error::Decrypt(String::from_utf8_lossy(aad).into_owned());
        if blob.len() < 12 + 16 {
            return Err(what());
        }
        let (nonce, ct) = blob.split_at(12);
        self.cipher()
            .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad })
            .map_err(|_| what())
    }

    /// A 32-byte key for another purpose, derived with HMAC-SHA256 under a label, so one
    /// configured secret serves every node and no derived key reveals the KEK.
    pub fn derive_key(&self, label: &[u8]) -> [u8; 32] {
        let mut out = [0u8; 32];
        if let Ok(mut m) = <Hmac<Sha256> as Mac>::new_from_slice(&self.0) {
            m.update(label);
            out.copy_from_slice(&m.finalize().into_bytes());
        }
        out
    }
}
