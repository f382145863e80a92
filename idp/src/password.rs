//! Citizens' passwords: argon2id with OWASP's parameters (19 MiB, 2 passes, 1 lane).
//!
//! Hashing runs on the blocking pool so a burst of sign-ins cannot stall the protocol
//! endpoints. Unknown logins are checked against a dummy hash so they cost the same time.

use argon2::password_hash::{
    rand_core::OsRng, Error, Output, ParamsString, PasswordHash, SaltString,
};
use argon2::{Algorithm, Argon2, Params, Version};

fn argon() -> Argon2<'static> {
    // OWASP Password Storage Cheat Sheet: m=19456 KiB, t=2, p=1. These constants are valid.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a password into a PHC string: argon2id with today's parameters and a random salt,
/// computed as [`check`] computes it.
pub fn hash(password: &str) -> Result<String, Error> {
    let salt = SaltString::generate(&mut OsRng);
    let mut salt_buf = [0u8; 64];
    let raw_salt = salt.decode_b64(&mut salt_buf)?;
    let mut out = [0u8; 32];
    let (algorithm, version) = (
        argon2_rust::Algorithm::Argon2id,
        argon2_rust::Version::V0x13,
    );
    if !compute(
        algorithm,
        version,
        argon().params(),
        password,
        raw_salt,
        &mut out,
    ) {
        return Err(Error::Crypto);
    }
    phc(&salt, &out)
}

/// The PHC string of an argon2id hash with today's parameters.
fn phc(salt: &SaltString, output: &[u8]) -> Result<String, Error> {
    Ok(PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(argon().params())?,
        salt: Some(salt.as_salt()),
        hash: Some(Output::new(output)?),
    }
    .to_string())
}

/// Hashes on the blocking pool.
pub async fn hash_async(password: String) -> Result<String, argon2::password_hash::Error> {
    tokio::task::spawn_blocking(move || hash(&password))
        .await
        .unwrap_or(Err(argon2::password_hash::Error::Crypto))
}

thread_local! {
    /// The argon2 working memory of this blocking thread, kept between checks: allocating,
    /// faulting in and unmapping 19 MiB for every sign-in cost about a millisecond of CPU
    /// on top of the hash itself. It is wiped after every check (no password-derived block
    /// stays in memory) and freed when the thread exits (idle blocking threads exit after
    /// 10 s); after sign-ins the process stays resident at up to 19 MiB per check that ran
    /// at once (at most [`permits`]), reused by the next ones rather than added to.
    static HASHER: std::cell::RefCell<Option<argon2_rust::Hasher>> = const { std::cell::RefCell::new(None) };
}

/// Checks `password` against a PHC string with this thread's reusable working memory.
///
/// PHC strings are read (and, by [`hash`], written) with RustCrypto's `password-hash`; the
/// argon2 computation itself is `argon2-rust`'s, a port of the reference implementation with
/// runtime-dispatched SIMD that gives the same output bit for bit (checked in the tests
/// below against RustCrypto's `argon2` over every algorithm, version and several shapes) in
/// half the CPU time of RustCrypto's on AVX-512 machines (6.4 against 13.0 ms for OWASP's
/// parameters, measured side by side; `benches/README.md`). A sign-in's CPU is mostly this
/// computation, so that is half the cost of every password sign-in.
fn check(password: &str, phc: &str) -> bool {
    let Ok(h) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (h.salt, h.hash) else {
        return false;
    };
    let algorithm = match Algorithm::try_from(h.algorithm) {
        Ok(Algorithm::Argon2d) => argon2_rust::Algorithm::Argon2d,
        Ok(Algorithm::Argon2i) => argon2_rust::Algorithm::Argon2i,
        Ok(Algorithm::Argon2id) => argon2_rust::Algorithm::Argon2id,
        Err(_) => return false,
    };
    let version = match h.version.map(Version::try_from) {
        None | Some(Ok(Version::V0x13)) => argon2_rust::Version::V0x13,
        Some(Ok(Version::V0x10)) => argon2_rust::Version::V0x10,
        Some(Err(_)) => return false,
    };
    let Ok(params) = Params::try_from(&h) else {
        return false;
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    compute(algorithm, version, &params, password, salt, &mut out)
        && crate::crypto::ct_eq_bytes(&out, expected.as_bytes())
}

/// Computes argon2 of `password` with `params` (memory, passes, lanes and associated data
/// as a PHC string gives them) into `out`, whose length is the tag's, with this thread's
/// reusable working memory. False if the parameters cannot be used.
fn compute(
    algorithm: argon2_rust::Algorithm,
    version: argon2_rust::Version,
    params: &Params,
    password: &str,
    salt: &[u8],
    out: &mut [u8],
) -> bool {
    let Ok(p) = argon2_rust::Params::builder()
        .memory(argon2_rust::params::Memory::kib(u64::from(params.m_cost())))
        .passes(params.t_cost())
        .lanes(params.p_cost())
        .tag_len(argon2_rust::params::TagLen::bytes(out.len() as u64))
        .build()
    else {
        return false;
    };
    let argon = argon2_rust::Argon2::new(algorithm, version, p);
    HASHER.with(|cell| {
        let mut cell = cell.borrow_mut();
        let hasher = match cell.as_mut() {
            Some(h) => {
                h.set_argon2(argon);
                h
            }
            None => cell.insert(argon.hasher()),
        };
        // No secret (a pepper is not part of a PHC string); `data=`, if given, is the
        // associated data.
        hasher
            .hash_into_with_ad(password.as_bytes(), salt, &[], params.data(), out)
            .is_ok()
    })
}

/// At most this many password checks run at once (twice the cores): each holds 19 MiB, so
/// a burst of sign-ins waits in line instead of growing the blocking pool and the memory.
fn permits() -> &'static tokio::sync::Semaphore {
    static P: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    P.get_or_init(|| {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        tokio::sync::Semaphore::new(cores * 2)
    })
}

/// Verifies a password against a PHC string on the blocking pool; malformed hashes fail.
pub async fn verify(password: String, phc: String) -> bool {
    let Ok(_permit) = permits().acquire().await else {
        return false;
    };
    tokio::task::spawn_blocking(move || {
        let started = cpu_time::ThreadTime::now();
        let ok = check(&password, &phc);
        crate::metrics::password_checked(started.elapsed());
        ok
    })
    .await
    .unwrap_or(false)
}

/// The PHC string checked for unknown logins: today's parameters, a random salt and a
/// random output. Checking a password against it runs argon2id in full before the output is
/// compared, so it costs what checking a real hash does, and no password is known to match
/// it. Built without hashing: start-up does not spend a hash's CPU time and 19 MiB on it.
pub fn dummy_hash() -> String {
    use argon2::password_hash::rand_core::RngCore;
    let salt = SaltString::generate(&mut OsRng);
    let mut output = [0u8; 32];
    OsRng.fill_bytes(&mut output);
    // The error is not reached with the constant parameters; a real hash is as good.
    phc(&salt, &output)
        .unwrap_or_else(|_| hash(&crate::crypto::random_token(16)).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};

    #[test]
    fn reusable_memory_check_agrees_with_the_reference_verifier() {
        let phc = hash("correct horse battery").unwrap();
        let parsed = PasswordHash::new(&phc).unwrap();
        for (pw, want) in [
            ("correct horse battery", true),
            ("correct horse batterY", false),
            ("", false),
        ] {
            assert_eq!(check(pw, &phc), want, "{pw:?}");
            assert_eq!(
                argon().verify_password(pw.as_bytes(), &parsed).is_ok(),
                want
            );
        }
        // Twice on one thread (the buffer is reused), and a hash with other parameters.
        assert!(check("correct horse battery", &phc));
        let small = Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(64, 1, 1, None).unwrap(),
        );
        let other = small
            .hash_password(b"pw", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        assert!(check("pw", &other) && !check("pW", &other));
        assert!(!check("pw", "not a phc string"));
        assert!(!check("pw", "$argon2id$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$"));
    }

    /// `check` (argon2-rust's computation) accepts exactly the password RustCrypto's
    /// `argon2` hashed, for every algorithm and version and several shapes: memory, passes,
    /// lanes, output length, associated data.
    #[test]
    fn check_agrees_with_rustcrypto_argon2_on_every_algorithm_version_and_shape() {
        use argon2::{AssociatedData, ParamsBuilder};
        let shapes: [(u32, u32, u32, usize, &[u8]); 5] = [
            (8, 1, 1, 32, b""),
            (64, 3, 1, 16, b""),
            (256, 2, 4, 64, b""),
            (1024, 1, 2, 32, b""),
            (128, 2, 1, 32, b"associated"),
        ];
        for alg in [Algorithm::Argon2d, Algorithm::Argon2i, Algorithm::Argon2id] {
            for version in [Version::V0x10, Version::V0x13] {
                for (m, t, p, len, data) in shapes {
                    let mut b = ParamsBuilder::new();
                    b.m_cost(m).t_cost(t).p_cost(p).output_len(len);
                    if !data.is_empty() {
                        b.data(AssociatedData::new(data).unwrap());
                    }
                    let reference = Argon2::new(alg, version, b.build().unwrap());
                    let salt = SaltString::generate(&mut OsRng);
                    let phc = reference.hash_password(b"pw", &salt).unwrap().to_string();
                    assert!(check("pw", &phc), "{phc}");
                    assert!(!check("pW", &phc), "{phc}");
                }
            }
        }
    }

    #[test]
    fn the_dummy_hash_costs_what_a_real_one_does_and_matches_nothing() {
        let real_phc = hash("correct horse battery").unwrap();
        let real = PasswordHash::new(&real_phc).unwrap();
        let dummy_phc = dummy_hash();
        let dummy = PasswordHash::new(&dummy_phc).unwrap();
        // The same work: algorithm, version, memory, passes, lanes and output length.
        assert_eq!(dummy.algorithm, real.algorithm);
        assert_eq!(dummy.version, real.version);
        assert_eq!(
            Params::try_from(&dummy).unwrap(),
            Params::try_from(&real).unwrap()
        );
        assert_eq!(dummy.hash.unwrap().len(), real.hash.unwrap().len());
        assert_eq!(Params::try_from(&dummy).unwrap().m_cost(), 19 * 1024);
        // Each one is new, and no password opens it.
        assert_ne!(dummy_phc, dummy_hash());
        assert_ne!(dummy.salt, real.salt);
        for pw in ["", "correct horse battery", "password"] {
            assert!(!check(pw, &dummy_phc), "{pw:?}");
        }
    }
}
