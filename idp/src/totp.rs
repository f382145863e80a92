//! Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP): 6 digits, 30-second steps,
//! HMAC-SHA1 (what authenticator apps implement), one step of clock drift either way.
//!
//! The shared secret is stored only encrypted (AES-256-GCM under a key derived from the
//! key-encryption key). A code is accepted once: the step it matched is remembered in the
//! shared cache until it can no longer match, so a replay fails on every node.

use crate::crypto::ct_eq;
use totp_rs::{Algorithm, Secret, TOTP};

/// Digits per code.
const DIGITS: usize = 6;
/// Seconds per step.
const STEP: u64 = 30;
/// RFC 4226 §4 R6: the shared secret MUST be at least 128 bits.
const MIN_SECRET_BYTES: usize = 16;
/// Additional authenticated data binding a sealed blob to its use.
const AAD: &[u8] = b"vhod/totp-secret";

/// Why a secret was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum SecretError {
    /// Not RFC 4648 base32.
    NotBase32,
    /// Shorter than 128 bits.
    TooShort,
}

impl std::fmt::Display for SecretError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretError::NotBase32 => f.write_str("the TOTP secret is not base32 (RFC 4648)"),
            SecretError::TooShort => f.write_str(
                "the TOTP secret is shorter than 128 bits (RFC 4226 §4 requires at least 128)",
            ),
        }
    }
}

/// Decodes a base32 secret as authenticator apps show it (case, spaces and padding are
/// forgiven).
pub fn parse_secret(base32: &str) -> Result<Vec<u8>, SecretError> {
    let cleaned: String = base32
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '=')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if cleaned.is_empty() {
        return Err(SecretError::NotBase32);
    }
    let bytes = Secret::Encoded(cleaned)
        .to_bytes()
        .map_err(|_| SecretError::NotBase32)?;
    if bytes.len() < MIN_SECRET_BYTES {
        return Err(SecretError::TooShort);
    }
    Ok(bytes)
}

/// Encrypts a secret for storage.
pub fn seal(key: &keys::Kek, secret: &[u8]) -> Vec<u8> {
    key.encrypt(AAD, secret)
}

/// Decrypts a stored secret.
pub fn open(key: &keys::Kek, sealed: &[u8]) -> Option<Vec<u8>> {
    key.decrypt(AAD, sealed).ok()
}

fn totp(secret: Vec<u8>) -> TOTP {
    // new_unchecked: the length rule is enforced by `parse_secret` at enrolment, with our
    // own message; the other parameters are constants that TOTP::new accepts.
    TOTP::new_unchecked(Algorithm::SHA1, DIGITS, 1, STEP, secret)
}

/// The code for unix time `now` (for tests and enrolment checks).
pub fn code_at(secret: &[u8], now: i64) -> String {
    totp(secret.to_vec()).generate(now.max(0) as u64)
}

/// The step `code` matches at `now` (the current one or a neighbour), if any. Every
/// candidate is compared in constant time.
pub fn matching_step(secret: &[u8], code: &str, now: i64) -> Option<u64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != DIGITS || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let t = totp(secret.to_vec());
    let now = now.max(0) as u64;
    let current = now / STEP;
    let mut found = None;
    for step in [current.saturating_sub(1), current, current + 1] {
        if ct_eq(&t.generate(step * STEP), &code) && found.is_none() {
            found = Some(step);
        }
    }
    found
}

/// A new 160-bit secret (RFC 4226 §4 recommends 160 bits).
pub fn new_secret() -> Vec<u8> {
    use rand::RngCore;
    let mut s = vec![0u8; 20];
    rand::thread_rng().fill_bytes(&mut s);
    s
}

/// The secret in base32 without padding, as people type it into an app.
pub fn base32(secret: &[u8]) -> String {
    Secret::Raw(secret.to_vec())
        .to_encoded()
        .to_string()
        .trim_end_matches('=')
        .to_owned()
}

/// The `otpauth://` URI authenticator apps scan (Google Authenticator's key URI format).
pub fn otpauth_url(issuer: &str, account: &str, secret: &[u8]) -> String {
    let enc = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    format!(
        "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP}",
        enc(issuer),
        enc(account),
        base32(secret),
        enc(issuer)
    )
}

/// `text` as a QR code in SVG (one path, four modules of quiet zone), or `None` when it is
/// too long for a QR code.
pub fn qr_svg(text: &str) -> Option<String> {
    use qrcodegen::{QrCode, QrCodeEcc};
    let qr = QrCode::encode_text(text, QrCodeEcc::Medium).ok()?;
    let n = qr.size();
    let mut path = String::new();
    for y in 0..n {
        for x in 0..n {
            if qr.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + 4, y + 4));
            }
        }
    }
    let side = n + 8;
    Some(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" \
         width=\"240\" height=\"240\" role=\"img\" shape-rendering=\"crispEdges\">\
         <rect width=\"100%\" height=\"100%\" fill=\"#fff\"/>\
         <path d=\"{path}\" fill=\"#000\"/></svg>"
    ))
}

/// The alphabet of recovery codes: Crockford's base32 (no I, L, O, U to misread).
const RECOVERY_ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// Ten new recovery codes, `XXXXX-XXXXX` (50 bits each).
pub fn new_recovery_codes() -> Vec<String> {
    let mut rng = rand::thread_rng();
    (0..10)
        .map(|_| {
            let c: String = (0..10)
                .map(|_| {
                    let i = rand::Rng::gen_range(&mut rng, 0..RECOVERY_ALPHABET.len());
                    char::from(RECOVERY_ALPHABET[i])
                })
                .collect();
            format!("{}-{}", &c[..5], &c[5..])
        })
        .collect()
}

/// A typed recovery code in canonical form (upper case, no separators, O→0, I/L→1), or
/// `None` when it cannot be one.
pub fn normalise_recovery_code(typed: &str) -> Option<String> {
    let c: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| match c.to_ascii_uppercase() {
            'O' => '0',
            'I' | 'L' => '1',
            other => other,
        })
        .collect();
    (c.len() == 10 && c.bytes().all(|b| RECOVERY_ALPHABET.contains(&b))).then_some(c)
}

/// The stored form of a recovery code: a keyed hash bound to the account.
pub fn recovery_hash(key: &[u8; 32], account_id: &str, canonical: &str) -> String {
    crate::crypto::hmac_b64(key, format!("{account_id}:{canonical}").as_bytes())
}

/// How long a used step must be remembered: until no clock can match it any more.
pub const REPLAY_WINDOW_SECS: u64 = 3 * STEP;

/// Spends the code of `step` for the account: `true` the first time, `false` when it was
/// used already (remembered in the shared cache, so a replay fails on every node).
pub async fn spend_step(
    app: &crate::app::App,
    account_id: &str,
    step: u64,
) -> Result<bool, crate::cache::CacheError> {
    let used = format!("totp:used:{account_id}:{step}");
    let window = std::time::Duration::from_secs(REPLAY_WINDOW_SECS);
    app.cache.put_if_absent(&used, b"1", window).await
}

#[cfg(test)]
mod tests {
    use super::*;

    // RFC 6238 Appendix B: the SHA-1 seed "12345678901234567890", 8-digit vectors; their
    // last six digits are the 6-digit codes.
    const SEED: &[u8] = b"12345678901234567890";

    #[test]
    fn rfc6238_vectors() {
        for (t, eight) in [
            (59, "94287082"),
            (1111111109, "07081804"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
        ] {
            assert_eq!(code_at(SEED, t), eight[2..], "t={t}");
        }
    }

    #[test]
    fn neighbours_match_and_others_do_not() {
        let now = 1_700_000_015;
        let here = code_at(SEED, now);
        assert_eq!(matching_step(SEED, &here, now), Some(now as u64 / 30));
        let prev = code_at(SEED, now - 30);
        assert_eq!(matching_step(SEED, &prev, now), Some(now as u64 / 30 - 1));
        let far = code_at(SEED, now - 90);
        assert_ne!(far, here);
        assert_eq!(matching_step(SEED, &far, now), None);
        assert_eq!(matching_step(SEED, "12345", now), None);
        assert_eq!(matching_step(SEED, "abcdef", now), None);
        assert_eq!(matching_step(SEED, &format!(" {} ", &here[..3]), now), None);
    }

    #[test]
    fn enrolment_secret_uri_and_qr() {
        let s = new_secret();
        assert_eq!(s.len(), 20);
        assert_eq!(parse_secret(&base32(&s)).unwrap(), s, "base32 round trip");
        let u = otpauth_url("vhod", "alice@example.com", SEED);
        assert_eq!(
            u,
            "otpauth://totp/vhod:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ\
             &issuer=vhod&algorithm=SHA1&digits=6&period=30"
        );
        let svg = qr_svg(&u).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("<path d=\"M"));
        assert!(
            qr_svg(&"x".repeat(5000)).is_none(),
            "too long for a QR code"
        );
    }

    #[test]
    fn recovery_codes_are_ten_distinct_and_forgiving_to_type() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), 10);
        let mut canon: Vec<String> = codes
            .iter()
            .map(|c| normalise_recovery_code(c).unwrap())
            .collect();
        canon.sort();
        canon.dedup();
        assert_eq!(canon.len(), 10);
        assert_eq!(
            normalise_recovery_code("abcde-fgh0o").as_deref(),
            Some("ABCDEFGH00")
        );
        assert_eq!(
            normalise_recovery_code("1il1I 22222").as_deref(),
            Some("1111122222")
        );
        assert_eq!(normalise_recovery_code("123456"), None);
        assert_eq!(
            normalise_recovery_code("ABCDE-FGHIU"),
            None,
            "U is not in the alphabet"
        );
        let k = [3u8; 32];
        assert_ne!(recovery_hash(&k, "a", "X"), recovery_hash(&k, "b", "X"));
    }

    #[test]
    fn secrets_are_base32_of_at_least_128_bits() {
        // "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" is base32 of "12345678901234567890".
        assert_eq!(
            parse_secret("gezd gnbv gy3t qojq gezd gnbv gy3t qojq").unwrap(),
            SEED
        );
        assert_eq!(parse_secret("JBSWY3DPEHPK3PXP"), Err(SecretError::TooShort));
        assert_eq!(parse_secret("not base32!"), Err(SecretError::NotBase32));
        assert_eq!(parse_secret(""), Err(SecretError::NotBase32));
        let key = keys::Kek::from_bytes([9; 32]);
        let sealed = seal(&key, SEED);
        assert!(
            !sealed.windows(SEED.len()).any(|w| w == SEED),
            "stored encrypted"
        );
        assert_eq!(open(&key, &sealed).unwrap(), SEED);
        assert!(open(&keys::Kek::from_bytes([8; 32]), &sealed).is_none());
    }
}
