//! Citizens' passwords: argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane).
//!
//! Hashing runs on the blocking pool so a burst of sign-ins cannot stall the protocol
//! endpoints. Unknown logins are checked against a dummy hash so they cost the same time.

use argon2::password_hash::{
    rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};

fn argon() -> Argon2<'static> {
    // OWASP Password Storage Cheat Sheet: m=19456 KiB, t=2, p=1. These constants are valid.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string.
pub fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(argon()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// Hashes on the blocking pool.
pub async fn hash_async(password: String) -> Result<String, argon2::password_hash::Error> {
    tokio::task::spawn_blocking(move || hash(&password))
        .await
        .unwrap_or(Err(argon2::password_hash::Error::Crypto))
}

/// Verifies a password against a PHC string on the blocking pool; malformed hashes fail.
pub async fn verify(password: String, phc: String) -> bool {
    tokio::task::spawn_blocking(move || {
        let started = cpu_time::ThreadTime::now();
        let ok = PasswordHash::new(&phc)
            .map(|h| argon().verify_password(password.as_bytes(), &h).is_ok())
            .unwrap_or(false);
        crate::metrics::password_checked(started.elapsed());
        ok
    })
    .await
    .unwrap_or(false)
}

/// A hash of a random password, verified for unknown logins.
pub fn dummy_hash() -> String {
    hash(&crate::crypto::random_token(16)).unwrap_or_default()
}
