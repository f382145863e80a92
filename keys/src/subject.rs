//! Pairwise subject identifiers (OpenID Connect Core 1.0 §8.1): a client registered for them
//! is told a `sub` of its own sector for each account, so that services of different sectors
//! cannot join what they know about a citizen by the identifier alone.
//!
//! The identifier is the account's id encrypted with AES-SIV (RFC 5297), deterministic
//! authenticated encryption, with the sector as associated data: the same account and sector
//! always give the same `sub`, another sector gives an unrelated one, and no one without the
//! key can tell two of them belong to one account. Unlike a keyed hash it can be turned back
//! into the account by the provider alone, so a `sub` that comes back (an access token at
//! UserInfo, an `id_token_hint`, a signing request naming its signer) needs no table of every
//! identifier ever issued, and every node reads it the same way. The key is derived from the
//! key-encryption key; like the client-secret key it must never change, or every pairwise
//! identifier does.

use crate::Kek;
use aes_siv::siv::Aes256Siv;
use aes_siv::KeyInit;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use zeroize::Zeroizing;

/// Associated data binding every identifier to this scheme and version.
const CONTEXT: &[u8] = b"vhod/pairwise-subject/v1";

/// Makes and reads pairwise identifiers.
#[derive(Clone)]
pub struct Pairwise {
    key: Zeroizing<[u8; 64]>,
}

impl std::fmt::Debug for Pairwise {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Pairwise([redacted])")
    }
}

impl Pairwise {
    /// Under a 512-bit AES-SIV key (two AES-256 keys: S2V's and CTR's).
    pub fn new(key: [u8; 64]) -> Pairwise {
        Pairwise {
            key: Zeroizing::new(key),
        }
    }

    /// Under keys derived from `kek`, the same on every node that shares it.
    pub fn from_kek(kek: &Kek) -> Pairwise {
        let mut key = [0u8; 64];
        key[..32].copy_from_slice(&kek.derive_key(b"vhod/pairwise-subject/s2v"));
        key[32..].copy_from_slice(&kek.derive_key(b"vhod/pairwise-subject/ctr"));
        Pairwise::new(key)
    }

    /// The cipher; `None` is not reached (the key is 64 bytes, the size AES-256-SIV takes).
    fn cipher(&self) -> Option<Aes256Siv> {
        Aes256Siv::new_from_slice(&self.key[..]).ok()
    }

    /// The `sub` of `account_id` in `sector` (base64url, 16 bytes longer than the id).
    pub fn subject(&self, sector: &str, account_id: &str) -> String {
        // AES-SIV fails only for more than 126 associated-data items; two never fail. The
        // empty string is unreachable and matches no account.
        self.cipher()
            .and_then(|mut c| {
                c.encrypt([CONTEXT, sector.as_bytes()], account_id.as_bytes())
                    .ok()
            })
            .map(|ct| URL_SAFE_NO_PAD.encode(ct))
            .unwrap_or_default()
    }

    /// The account whose `sub` in `sector` is `sub`; `None` for anything this provider did
    /// not make for that sector (another sector's, a public identifier, a forgery).
    pub fn account(&self, sector: &str, sub: &str) -> Option<String> {
        let ct = URL_SAFE_NO_PAD.decode(sub).ok()?;
        let pt = self
            .cipher()?
            .decrypt([CONTEXT, sector.as_bytes()], &ct)
            .ok()?;
        String::from_utf8(pt).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairwise(seed: u8) -> Pairwise {
        let mut key = [0u8; 64];
        for (i, b) in key.iter_mut().enumerate() {
            *b = seed.wrapping_add(i as u8);
        }
        Pairwise::new(key)
    }

    #[test]
    fn one_sector_one_stable_identifier_that_reads_back() {
        let p = pairwise(1);
        let id = "6f1c2a7e-1b0d-4c5e-9a3f-2d8b7c6e5f40";
        let a = p.subject("rp.example", id);
        assert_eq!(a, p.subject("rp.example", id), "deterministic");
        assert_eq!(
            a.len(),
            ((16 + id.len()) * 4).div_ceil(3),
            "base64url of tag and id"
        );
        assert!(
            a.len() <= 255,
            "OpenID Connect caps sub at 255 ASCII characters"
        );
        assert!(
            !a.contains(id)
                && a.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(p.account("rp.example", &a).as_deref(), Some(id));
    }

    #[test]
    fn sectors_accounts_and_keys_do_not_mix() {
        let p = pairwise(1);
        let (x, y) = ("account-x", "account-y");
        let in_a = p.subject("a.example", x);
        assert_ne!(
            in_a,
            p.subject("b.example", x),
            "another sector, another sub"
        );
        assert_ne!(
            in_a,
            p.subject("a.example", y),
            "another account, another sub"
        );
        // A sub read in the wrong sector, under another key, or altered: no account.
        assert_eq!(p.account("b.example", &in_a), None);
        assert_eq!(pairwise(2).account("a.example", &in_a), None);
        let mut bytes = URL_SAFE_NO_PAD.decode(&in_a).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(p.account("a.example", &URL_SAFE_NO_PAD.encode(bytes)), None);
        // A public identifier and garbage are not pairwise ones.
        assert_eq!(p.account("a.example", x), None);
        assert_eq!(p.account("a.example", "not base64!"), None);
        assert_eq!(p.account("a.example", ""), None);
    }

    #[test]
    fn keys_derived_from_one_kek_agree_across_nodes() {
        let kek = Kek::from_bytes([7u8; 32]);
        let (a, b) = (Pairwise::from_kek(&kek), Pairwise::from_kek(&kek));
        let sub = a.subject("rp.example", "acc");
        assert_eq!(b.account("rp.example", &sub).as_deref(), Some("acc"));
        let other = Pairwise::from_kek(&Kek::from_bytes([8u8; 32]));
        assert_eq!(other.account("rp.example", &sub), None);
    }
}
