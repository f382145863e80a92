//! Rules for citizens' passwords, NIST SP 800-63B §5.1.1.2 (memorized secret verifiers):
//!
//! - at least 8 characters when a second factor guards the account, 15 when the password
//!   is the only factor, at most 256; characters are Unicode scalar values, spaces count;
//! - no composition rules (no "one digit, one capital");
//! - refused if it is on the list of common or breached passwords shipped in `idp/data/`,
//!   or if it is the login or contains it.

use std::hash::{DefaultHasher, Hasher};
use std::io::BufRead;
use std::sync::OnceLock;

use crate::i18n::Lang;

/// The shortest password accepted on an account that also has a second factor.
pub const MIN_LEN_WITH_SECOND_FACTOR: usize = 8;
/// The shortest password accepted when it is the only factor.
pub const MIN_LEN_SINGLE_FACTOR: usize = 15;
/// The longest password accepted (NIST asks for at least 64).
pub const MAX_LEN: usize = 256;
/// A login shorter than this is only refused as the whole password, not as a part of it.
const LOGIN_MIN_LEN_FOR_CONTAINS: usize = 4;

/// Lower-cased common and breached passwords, one a line; see `idp/data/README.md`.
static COMMON_GZ: &[u8] = include_bytes!("../data/common-passwords.txt.gz");

/// The list as a sorted set of 64-bit SipHash fingerprints, decompressed once on first use.
///
/// Why fingerprints: the 474,743 entries take 8 bytes each, 3.8 MB (measured: +3.9 MB of
/// anonymous RSS, plus about 2.5 MB of clean, reclaimable file pages of the embedded gzip
/// and inflater read once; the server idles near 13 MB, and nothing is loaded before the
/// first check). A `HashSet<String>` would cost roughly 60 bytes an entry, near 30 MB. A
/// binary search answers in about 19 comparisons; the first load takes about 40 ms in a
/// release build. A password not on the list matches one by chance with probability about
/// n / 2^64 (10^-13), and such a false refusal only asks for another password. The hash need
/// not be secret nor stable across Rust releases: both sides are computed by this binary.
static COMMON: OnceLock<Vec<u64>> = OnceLock::new();

/// Why a password is refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// Fewer characters than the minimum for this account.
    #[error("password shorter than {min} characters")]
    TooShort {
        /// The minimum that applied.
        min: usize,
    },
    /// More characters than [`MAX_LEN`].
    #[error("password longer than {max} characters")]
    TooLong {
        /// The maximum.
        max: usize,
    },
    /// On the list of common or breached passwords.
    #[error("password on the common-password list")]
    Common,
    /// The login itself, or contains it.
    #[error("password contains the login")]
    ContainsLogin,
}

impl PolicyError {
    /// The text shown to the person choosing the password.
    pub fn message(&self, lang: Lang) -> String {
        match (self, lang) {
            (PolicyError::TooShort { min }, Lang::Ru) => {
                format!(
                    "Пароль должен быть не короче {min} {}.",
                    ru_characters(*min)
                )
            }
            (PolicyError::TooShort { min }, Lang::En) => {
                format!("The password must be at least {min} characters long.")
            }
            (PolicyError::TooLong { max }, Lang::Ru) => {
                format!(
                    "Пароль должен быть не длиннее {max} {}.",
                    ru_characters(*max)
                )
            }
            (PolicyError::TooLong { max }, Lang::En) => {
                format!("The password must be at most {max} characters long.")
            }
            (PolicyError::Common, Lang::Ru) => {
                "Этот пароль слишком распространён или был в утечках — выберите другой.".into()
            }
            (PolicyError::Common, Lang::En) => {
                "This password is too common or has appeared in data breaches — choose another one."
                    .into()
            }
            (PolicyError::ContainsLogin, Lang::Ru) => {
                "Пароль не должен совпадать с логином или содержать его.".into()
            }
            (PolicyError::ContainsLogin, Lang::En) => {
                "The password must not be the login or contain it.".into()
            }
        }
    }
}

/// "символа" or "символов" after "не короче N" (genitive): 1, 21, 101… take the singular.
fn ru_characters(n: usize) -> &'static str {
    if n % 10 == 1 && n % 100 != 11 {
        "символа"
    } else {
        "символов"
    }
}

/// Checks a new password against the rules above.
pub fn check(password: &str, has_second_factor: bool, login: &str) -> Result<(), PolicyError> {
    let len = password.chars().take(MAX_LEN + 1).count();
    if len > MAX_LEN {
        return Err(PolicyError::TooLong { max: MAX_LEN });
    }
    let min = if has_second_factor {
        MIN_LEN_WITH_SECOND_FACTOR
    } else {
        MIN_LEN_SINGLE_FACTOR
    };
    if len < min {
        return Err(PolicyError::TooShort { min });
    }
    let lower = password.to_lowercase();
    let login = login.to_lowercase();
    if lower == login
        || (login.chars().count() >= LOGIN_MIN_LEN_FOR_CONTAINS && lower.contains(&login))
    {
        return Err(PolicyError::ContainsLogin);
    }
    if list().binary_search(&fingerprint(lower.as_bytes())).is_ok() {
        return Err(PolicyError::Common);
    }
    Ok(())
}

/// Why a new password from a form was not taken.
#[derive(Debug)]
pub enum NewPasswordError {
    /// The person can fix it: the two fields differ, or the policy refused the password. The
    /// text is in their language.
    Refused(String),
    /// A fault of ours (the blocking pool or the hash failed).
    Unavailable,
}

/// A new password typed twice (`password`, `password2`): both must match, pass [`check`] for
/// an account with or without a second factor and this login, and are then hashed with
/// argon2id. The check and the hash run on the blocking pool (the first check decompresses
/// the common-password list; the hash is deliberately slow).
pub async fn hash_new(
    password: &str,
    repeated: &str,
    has_second_factor: bool,
    login: &str,
    lang: Lang,
) -> Result<String, NewPasswordError> {
    if password != repeated {
        return Err(NewPasswordError::Refused(
            lang.t("err_passwords_differ").to_owned(),
        ));
    }
    let (candidate, login) = (password.to_owned(), login.to_owned());
    match tokio::task::spawn_blocking(move || check(&candidate, has_second_factor, &login)).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(NewPasswordError::Refused(e.message(lang))),
        Err(_) => return Err(NewPasswordError::Unavailable),
    }
    crate::password::hash_async(password.to_owned())
        .await
        .map_err(|_| NewPasswordError::Unavailable)
}

/// How many entries of the common-password list are loaded (loading it if not yet done);
/// 0 means the embedded file could not be read, which is logged. Calling it at start-up
/// moves the one-off decompression out of the first password change.
pub fn list_len() -> usize {
    list().len()
}

fn list() -> &'static [u64] {
    COMMON.get_or_init(|| match decode(COMMON_GZ) {
        Ok(list) => list,
        Err(e) => {
            tracing::error!(
                error = %e,
                "the embedded common-password list is unreadable; passwords are not checked against it"
            );
            Vec::new()
        }
    })
}

fn fingerprint(lower: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    h.write(lower);
    h.finish()
}

/// Streams the gzip file line by line into sorted fingerprints, so the text itself is never
/// held in memory whole. Any gzip error, including a bad CRC, fails the whole list.
fn decode(gz: &[u8]) -> std::io::Result<Vec<u64>> {
    let mut reader = std::io::BufReader::new(flate2::bufread::GzDecoder::new(gz));
    let mut list = Vec::new();
    let mut line = Vec::new();
    while reader.read_until(b'\n', &mut line)? > 0 {
        let entry = line.strip_suffix(b"\n").unwrap_or(&line);
        let entry = entry.strip_suffix(b"\r").unwrap_or(entry);
        if !entry.is_empty() {
            list.push(fingerprint(entry));
        }
        line.clear();
    }
    list.sort_unstable();
    list.dedup();
    list.shrink_to_fit();
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn embedded_list_loads_with_at_least_100k_entries() {
        // Guards against a corrupt or truncated data file, which would log and load nothing.
        assert!(list_len() >= 100_000, "only {} entries", list_len());
    }

    #[test]
    fn corrupt_or_truncated_gzip_is_an_error() {
        assert!(decode(b"not gzip at all").is_err());
        assert!(decode(&COMMON_GZ[..COMMON_GZ.len() / 2]).is_err());
    }

    #[test]
    fn decode_reads_lines_and_skips_blank_ones() {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        enc.write_all(b"alpha\r\nbeta\n\nalpha\ngamma").unwrap();
        let list = decode(&enc.finish().unwrap()).unwrap();
        assert_eq!(list.len(), 3);
        for w in ["alpha", "beta", "gamma"] {
            assert!(
                list.binary_search(&fingerprint(w.as_bytes())).is_ok(),
                "{w}"
            );
        }
    }

    #[test]
    fn well_known_passwords_are_refused_as_common_in_any_case() {
        for p in [
            "password",
            "123456789",
            "qwertyuiop",
            "iloveyou",
            "PassWord",
            "IloveYou",
        ] {
            assert_eq!(check(p, true, "citizen"), Err(PolicyError::Common), "{p}");
        }
        // Long enough to be the only factor, and still on the list.
        for p in ["1qaz2wsx3edc4rfv", "123456789987654321", "passwordpassword"] {
            assert_eq!(check(p, false, "citizen"), Err(PolicyError::Common), "{p}");
        }
    }

    #[test]
    fn random_20_character_passphrase_passes_without_second_factor() {
        assert_eq!(check("mauve otter drums 42", false, "citizen"), Ok(()));
        assert_eq!(check("Kq7v-Rtz2-Wm9x-Lp4e", false, "citizen"), Ok(()));
    }

    #[test]
    fn eight_to_fourteen_characters_pass_only_with_second_factor() {
        for p in ["Zq8#Lm2v", "tundra violet7"] {
            assert_eq!(check(p, true, "citizen"), Ok(()), "{p}");
            assert_eq!(
                check(p, false, "citizen"),
                Err(PolicyError::TooShort { min: 15 }),
                "{p}"
            );
        }
        assert_eq!(
            check("Zq8#Lm2", true, "citizen"),
            Err(PolicyError::TooShort { min: 8 })
        );
    }

    #[test]
    fn length_counts_characters_and_spaces_with_no_composition_rules() {
        // 14 Cyrillic letters are 28 bytes but 14 characters.
        let cyrillic = "пароликвоздики";
        assert_eq!(cyrillic.chars().count(), 14);
        assert_eq!(check(cyrillic, true, "citizen"), Ok(()));
        assert_eq!(
            check(cyrillic, false, "citizen"),
            Err(PolicyError::TooShort { min: 15 })
        );
        // Spaces only and lower-case letters only: no composition rules.
        assert_eq!(check("a b c d e f g h", false, "citizen"), Ok(()));
        assert_eq!(check("               ", false, "citizen"), Ok(()));
        assert_eq!(check("zbqwmvtrhlkpxnf", false, "citizen"), Ok(()));
    }

    #[test]
    fn login_as_or_inside_the_password_is_refused() {
        assert_eq!(
            check("Ivanov-secret-2024", true, "ivanov"),
            Err(PolicyError::ContainsLogin)
        );
        assert_eq!(
            check("QZ7HQZ7H", true, "qz7hqz7h"),
            Err(PolicyError::ContainsLogin)
        );
        // A login under 4 characters is only refused as the whole password.
        assert_eq!(check("annotated rivers", false, "ann"), Ok(()));
    }

    #[test]
    fn over_256_characters_is_too_long() {
        let max: String = "abcdefghijklmnopqrstuvwxyz0123456789 "
            .chars()
            .cycle()
            .take(256)
            .collect();
        assert_eq!(check(&max, false, "citizen"), Ok(()));
        let over = format!("{max}x");
        assert_eq!(
            check(&over, false, "citizen"),
            Err(PolicyError::TooLong { max: 256 })
        );
    }

    #[test]
    fn messages_in_russian_and_english() {
        let short = PolicyError::TooShort { min: 15 };
        assert_eq!(
            short.message(Lang::Ru),
            "Пароль должен быть не короче 15 символов."
        );
        assert_eq!(
            short.message(Lang::En),
            "The password must be at least 15 characters long."
        );
        assert_eq!(
            PolicyError::TooShort { min: 21 }.message(Lang::Ru),
            "Пароль должен быть не короче 21 символа."
        );
        assert_eq!(
            PolicyError::Common.message(Lang::Ru),
            "Этот пароль слишком распространён или был в утечках — выберите другой."
        );
        for e in [
            PolicyError::TooLong { max: 256 },
            PolicyError::Common,
            PolicyError::ContainsLogin,
        ] {
            assert!(!e.message(Lang::Ru).is_empty() && !e.message(Lang::En).is_empty());
        }
    }
}
