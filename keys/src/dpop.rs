//! DPoP proofs (RFC 9449 §4), as far as their format goes: the proof is a JWS of `typ`
//! `dpop+jwt` signed with an asymmetric algorithm by the public key its header carries in
//! `jwk`, and names the request (`htm`, `htu`), its time (`iat`) and a unique `jti`. What a
//! proof must match (the request, the clock, the replay cache, the token) is the caller's to
//! check; see `idp::oauth::dpop`. [`Nonces`] makes and checks the server-provided nonces of
//! §8.

use crate::jwk::Jwk;
use crate::jws::verify_jws;
use crate::public_key::PublicKey;
use crate::Error;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};

/// The signature algorithms a proof may use (none of them symmetric).
pub const ALGS: [&str; 8] = [
    "ES256", "ES384", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
];

/// A proof whose signature verifies with the key it carries.
#[derive(Debug, Clone)]
pub struct Proof {
    /// The JWK SHA-256 thumbprint (RFC 7638) of the proof's key, base64url.
    pub jkt: String,
    /// Unique id of the proof.
    pub jti: String,
    /// The HTTP method of the request it was made for.
    pub htm: String,
    /// The URL of that request, without query and fragment.
    pub htu: String,
    /// When it was made, Unix seconds.
    pub iat: i64,
    /// The base64url SHA-256 of the access token it comes with, if any.
    pub ath: Option<String>,
    /// The server-provided nonce it carries, if any (§8).
    pub nonce: Option<String>,
}

/// The oldest proof accepted, seconds.
pub const MAX_AGE: i64 = 300;
/// How far ahead of the checker's clock a proof's `iat` may be, seconds.
pub const MAX_AHEAD: i64 = 60;
/// How long a proof's `jti` must be remembered: as long as the proof could be accepted.
pub const REPLAY_TTL: std::time::Duration =
    std::time::Duration::from_secs((MAX_AGE + MAX_AHEAD + 60) as u64);

impl Proof {
    /// Checks that the proof was made for a request of `method` to `url` (query and fragment
    /// aside, RFC 9449 §4.3), at most [`MAX_AGE`] before `now` and [`MAX_AHEAD`] after, and,
    /// with `token`, for that access token (`ath`). The reason when not.
    pub fn check_request(
        &self,
        method: &str,
        url: &str,
        now: i64,
        token: Option<&str>,
    ) -> Result<(), &'static str> {
        if self.htm != method {
            return Err("the DPoP proof's htm is not this request's method");
        }
        if normal_url(&self.htu).is_none_or(|h| Some(h) != normal_url(url)) {
            return Err("the DPoP proof's htu is not this request's URL");
        }
        if self.iat < now - MAX_AGE || self.iat > now + MAX_AHEAD {
            return Err("the DPoP proof's iat is too old or in the future");
        }
        if let Some(t) = token {
            if self.ath.as_deref() != Some(access_token_hash(t).as_str()) {
                return Err("the DPoP proof's ath is not this access token's hash");
            }
        }
        Ok(())
    }

    /// The key under which its `jti` is remembered (per key, digested) for [`REPLAY_TTL`].
    pub fn replay_key(&self) -> String {
        format!(
            "dpop-jti:{}:{}",
            self.jkt,
            URL_SAFE_NO_PAD.encode(Sha256::digest(self.jti.as_bytes()))
        )
    }
}

/// `u` without query and fragment, normalised (scheme and host in lower case, default port
/// dropped), for comparing `htu` (RFC 9449 §4.3, RFC 3986 §6.2.2–6.2.3).
pub fn normal_url(u: &str) -> Option<String> {
    let mut u = url::Url::parse(u).ok()?;
    u.set_query(None);
    u.set_fragment(None);
    Some(u.to_string())
}

/// Members a public JWK must not have: they belong to private or symmetric keys.
const PRIVATE_MEMBERS: [&str; 7] = ["d", "p", "q", "dp", "dq", "qi", "k"];

/// Parses and verifies a proof's own signature.
pub fn verify_proof(proof: &str) -> Result<Proof, Error> {
    let bad = Error::Jws;
    let head = proof
        .split('.')
        .next()
        .filter(|h| h.len() <= 4096)
        .ok_or(bad("not a JWS"))?;
    let header: serde_json::Value = URL_SAFE_NO_PAD
        .decode(head)
        .ok()
        .and_then(|h| serde_json::from_slice(&h).ok())
        .ok_or(bad("the header is not base64url JSON"))?;
    if header.get("typ").and_then(|t| t.as_str()) != Some("dpop+jwt") {
        return Err(bad("typ is not dpop+jwt"));
    }
    let alg = header.get("alg").and_then(|a| a.as_str()).unwrap_or("");
    if !ALGS.contains(&alg) {
        return Err(bad(
            "alg is not an asymmetric algorithm this server accepts",
        ));
    }
    let jwk_value = header
        .get("jwk")
        .filter(|j| j.is_object())
        .ok_or(bad("the header carries no jwk"))?;
    if PRIVATE_MEMBERS.iter().any(|m| jwk_value.get(m).is_some()) {
        return Err(bad("the jwk is not a public key"));
    }
    let jwk: Jwk =
        serde_json::from_value(jwk_value.clone()).map_err(|_| bad("the jwk is malformed"))?;
    let key = PublicKey::from_jwk(&jwk)?;
    let (_, claims) = verify_jws(proof, |_| Some(key.clone()))?;
    let s = |name: &str| claims.get(name).and_then(|v| v.as_str()).map(str::to_owned);
    let jti = s("jti")
        .filter(|j| !j.is_empty() && j.len() <= 256)
        .ok_or(bad("jti is missing or longer than 256 characters"))?;
    let htm = s("htm").ok_or(bad("htm is missing"))?;
    let htu = s("htu").ok_or(bad("htu is missing"))?;
    let iat = claims
        .get("iat")
        .and_then(|v| v.as_i64())
        .ok_or(bad("iat is missing"))?;
    let nonce = match claims.get("nonce") {
        None => None,
        Some(serde_json::Value::String(n)) if !n.is_empty() && n.len() <= 256 => Some(n.clone()),
        Some(_) => return Err(bad("nonce is not a string of at most 256 characters")),
    };
    Ok(Proof {
        jkt: thumbprint(&jwk)?,
        jti,
        htm,
        htu,
        iat,
        ath: s("ath"),
        nonce,
    })
}

/// Server-provided nonces (RFC 9449 §8): a keyed hash of the current [`Nonces::WINDOW`]-second
/// window, so every node that holds the key makes and accepts the same ones without sharing
/// state. A nonce is accepted for the rest of its window and the whole next one (one to two
/// windows after it was given), and in the window before its own, for a node whose clock is
/// a little behind the one that gave it.
#[derive(Clone)]
pub struct Nonces {
    key: [u8; 32],
}

impl std::fmt::Debug for Nonces {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Nonces([redacted])")
    }
}

impl Nonces {
    /// The length of a window, seconds.
    pub const WINDOW: i64 = 60;

    /// Nonces made with `key` (a secret shared by every node).
    pub fn new(key: [u8; 32]) -> Nonces {
        Nonces { key }
    }

    fn of_window(&self, window: i64) -> String {
        use hmac::{Hmac, Mac};
        let mut mac = match Hmac::<Sha256>::new_from_slice(&self.key) {
            Ok(m) => m,
            // HMAC takes keys of any length; a 32-byte key never fails.
            Err(_) => return String::new(),
        };
        mac.update(b"vhod dpop nonce ");
        mac.update(&window.to_be_bytes());
        URL_SAFE_NO_PAD.encode(&mac.finalize().into_bytes()[..16])
    }

    /// The nonce to give at `now` (Unix seconds).
    pub fn current(&self, now: i64) -> String {
        self.of_window(now.div_euclid(Self::WINDOW))
    }

    /// Whether `nonce` is one given at most a window before or after `now`'s window.
    pub fn accepts(&self, nonce: &str, now: i64) -> bool {
        use subtle::ConstantTimeEq;
        let w = now.div_euclid(Self::WINDOW);
        (w - 1..=w + 1).fold(false, |ok, w| {
            ok | bool::from(self.of_window(w).as_bytes().ct_eq(nonce.as_bytes()))
        })
    }
}

/// The JWK SHA-256 thumbprint (RFC 7638 §3): the digest of the key's required members in
/// lexicographic order, without whitespace, base64url.
pub fn thumbprint(j: &Jwk) -> Result<String, Error> {
    let m = |v: &Option<String>| v.clone().ok_or(Error::Jws("the jwk lacks a member"));
    // serde_json's maps keep keys sorted, and it writes no whitespace.
    let canonical = match j.kty.as_str() {
        "EC" => serde_json::json!({"crv": m(&j.crv)?, "kty": "EC", "x": m(&j.x)?, "y": m(&j.y)?}),
        "RSA" => serde_json::json!({"e": m(&j.e)?, "kty": "RSA", "n": m(&j.n)?}),
        "OKP" => serde_json::json!({"crv": m(&j.crv)?, "kty": "OKP", "x": m(&j.x)?}),
        _ => return Err(Error::Jws("unsupported key type")),
    };
    Ok(URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.to_string().as_bytes())))
}

/// The `ath` of an access token: base64url SHA-256 of its ASCII bytes (RFC 9449 §4.2).
pub fn access_token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// Signs a proof with `key` (for clients and tests): `typ` `dpop+jwt`, its public key in
/// `jwk`, and the given claims.
pub fn sign_proof(key: &crate::SigningKey, claims: &serde_json::Value) -> Result<String, Error> {
    let header = serde_json::json!({
        "typ": "dpop+jwt",
        "alg": key.alg().as_str(),
        "jwk": key.public_jwk(),
    });
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig = key.sign(input.as_bytes())?;
    Ok(format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn htu_is_compared_without_query_fragment_or_case_of_scheme_and_host() {
        let token = normal_url("https://op.example/token");
        assert_eq!(normal_url("HTTPS://OP.example:443/token?x=1#f"), token);
        assert_ne!(normal_url("https://op.example/Token"), token);
        assert_ne!(normal_url("http://op.example/token"), token);
        assert_eq!(normal_url("not a url"), None);
    }
    use crate::{Alg, SigningKey};
    use serde_json::json;

    /// RFC 7638 §3.1's example key and its thumbprint.
    #[test]
    fn the_rfc_7638_example_thumbprint() {
        let jwk: Jwk = serde_json::from_value(json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        }))
        .unwrap();
        assert_eq!(
            thumbprint(&jwk).unwrap(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn a_proof_verifies_with_the_key_it_carries_and_nothing_else() {
        let key = SigningKey::generate(Alg::ES256).unwrap();
        let claims = json!({"jti": "j1", "htm": "POST", "htu": "https://op/token", "iat": 1});
        let p = verify_proof(&sign_proof(&key, &claims).unwrap()).unwrap();
        assert_eq!(p.jkt, thumbprint(&key.public_jwk()).unwrap());
        assert_eq!((p.jti.as_str(), p.htm.as_str(), p.iat), ("j1", "POST", 1));
        assert_eq!(p.nonce, None);
        let with_nonce = json!({"jti": "j2", "htm": "POST", "htu": "https://op/token", "iat": 1, "nonce": "n-1"});
        let p = verify_proof(&sign_proof(&key, &with_nonce).unwrap()).unwrap();
        assert_eq!(p.nonce.as_deref(), Some("n-1"));
        for bad in [json!(7), json!(""), json!("x".repeat(257))] {
            let c = json!({"jti": "j3", "htm": "POST", "htu": "https://op/token", "iat": 1, "nonce": bad});
            assert!(
                verify_proof(&sign_proof(&key, &c).unwrap()).is_err(),
                "{bad}"
            );
        }

        // Signed by another key than the one in the header.
        let other = SigningKey::generate(Alg::ES256).unwrap();
        let header = json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": key.public_jwk()});
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let forged = format!(
            "{input}.{}",
            URL_SAFE_NO_PAD.encode(other.sign(input.as_bytes()).unwrap())
        );
        assert!(verify_proof(&forged).is_err());
        let signed_by_key = format!(
            "{input}.{}",
            URL_SAFE_NO_PAD.encode(key.sign(input.as_bytes()).unwrap())
        );
        assert!(verify_proof(&signed_by_key).is_ok());

        // An ordinary JWT (typ, no jwk) is not a proof.
        assert!(verify_proof(&crate::sign_jwt(&key, Some("JWT"), &claims).unwrap()).is_err());
        assert!(verify_proof("").is_err());
        assert!(verify_proof("a.b").is_err());
    }

    #[test]
    fn a_nonce_lives_through_the_window_either_side_and_only_under_its_key() {
        let nonces = Nonces::new([1; 32]);
        let t = 1_800_000_000; // a window's first second
        assert_eq!(t % Nonces::WINDOW, 0);
        let n = nonces.current(t + 30);
        assert_eq!(n, nonces.current(t), "one nonce per window");
        assert_eq!(n.len(), 22);
        assert_ne!(n, nonces.current(t + Nonces::WINDOW));
        for at in [
            t - Nonces::WINDOW,
            t,
            t + 59,
            t + Nonces::WINDOW,
            t + 2 * Nonces::WINDOW - 1,
        ] {
            assert!(nonces.accepts(&n, at), "at {}", at - t);
        }
        for at in [t - Nonces::WINDOW - 1, t + 2 * Nonces::WINDOW] {
            assert!(!nonces.accepts(&n, at), "at {}", at - t);
        }
        assert!(!Nonces::new([2; 32]).accepts(&n, t));
        assert!(!nonces.accepts("", t));
        assert!(!nonces.accepts(&n[..21], t));
        // Before 1970 too (div_euclid, not truncation).
        assert!(nonces.accepts(&nonces.current(-1), 0));
        assert_ne!(nonces.current(-1), nonces.current(0));
    }
}
