//! The citizen's subject name: full name, SNILS and INN, checked before anything is issued.
//!
//! Follows the Russian qualified-certificate profile (Приказ ФСБ России № 795, п. 18):
//! SNILS is a NumericString of 11 digits under OID 1.2.643.100.3, a person's INN
//! (ИННФЛ) a NumericString of 12 digits under 1.2.643.3.131.1.1; the surname goes in SN,
//! the given name and patronymic in GN, the full name in CN (RFC 5280 §4.1.2.6, UTF8String).
//! Check digits are those of DOMAIN.md.

use super::CaError;

/// A SNILS: 11 digits whose check number is right.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Snils(String);

impl Snils {
    /// Parses `XXX-XXX-XXX YY`, or the digits alone; spaces and hyphens are ignored.
    /// Numbers up to 001-001-998 carry no check number and are taken as they are.
    pub fn parse(s: &str) -> Result<Snils, CaError> {
        let digits = only_digits(s, 11).ok_or(CaError::BadSnils("need 11 digits"))?;
        let d = as_numbers(&digits);
        let body: u64 = digits[..9]
            .parse()
            .map_err(|_| CaError::BadSnils("digits"))?;
        if body > 1_001_998 {
            let sum: u32 = d[..9].iter().zip((1..=9).rev()).map(|(x, w)| x * w).sum();
            let check = match sum {
                s if s < 100 => s,
                100 | 101 => 0,
                s => match s % 101 {
                    100 => 0,
                    r => r,
                },
            };
            if check != d[9] * 10 + d[10] {
                return Err(CaError::BadSnils("check number does not match"));
            }
        }
        Ok(Snils(digits))
    }

    /// The 11 digits.
    pub fn digits(&self) -> &str {
        &self.0
    }
}

/// A person's INN: 12 digits whose two check digits are right.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Inn(String);

impl Inn {
    /// Parses 12 digits (spaces and hyphens ignored).
    pub fn parse(s: &str) -> Result<Inn, CaError> {
        let digits = only_digits(s, 12).ok_or(CaError::BadInn("need 12 digits"))?;
        let d = as_numbers(&digits);
        let check = |n: usize, w: &[u32]| -> u32 {
            d[..n].iter().zip(w).map(|(x, w)| x * w).sum::<u32>() % 11 % 10
        };
        let c11 = check(10, &[7, 2, 4, 10, 3, 5, 9, 4, 6, 8]);
        let c12 = check(11, &[3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]);
        if c11 != d[10] || c12 != d[11] {
            return Err(CaError::BadInn("check digits do not match"));
        }
        Ok(Inn(digits))
    }

    /// The 12 digits.
    pub fn digits(&self) -> &str {
        &self.0
    }
}

/// Who a citizen certificate names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CitizenSubject {
    /// Фамилия.
    pub surname: String,
    /// Имя.
    pub given_name: String,
    /// Отчество, when the person has one.
    pub patronymic: Option<String>,
    /// СНИЛС, when known.
    pub snils: Option<Snils>,
    /// ИНН, when known.
    pub inn: Option<Inn>,
}

/// The longest name part accepted (ub-name of RFC 5280 Appendix A is 32768; the Russian
/// profile expects far shorter ones).
const MAX_NAME: usize = 128;

impl CitizenSubject {
    /// Checks the name parts: non-empty, letters with hyphen, space and apostrophe only.
    pub fn validate(&self) -> Result<(), CaError> {
        let parts = [
            Some(&self.surname),
            Some(&self.given_name),
            self.patronymic.as_ref(),
        ];
        for p in parts.into_iter().flatten() {
            let t = p.trim();
            if t.is_empty() || t.chars().count() > MAX_NAME {
                return Err(CaError::BadName("empty or too long name part"));
            }
            if !t
                .chars()
                .all(|c| c.is_alphabetic() || matches!(c, '-' | ' ' | '\'' | '’'))
            {
                return Err(CaError::BadName(
                    "a name part has characters other than letters, hyphen, space or apostrophe",
                ));
            }
        }
        Ok(())
    }

    /// Given name and patronymic, as GN holds them.
    pub fn given_names(&self) -> String {
        match &self.patronymic {
            Some(p) if !p.trim().is_empty() => format!("{} {}", self.given_name.trim(), p.trim()),
            _ => self.given_name.trim().to_owned(),
        }
    }

    /// The full name, as CN holds it.
    pub fn full_name(&self) -> String {
        format!("{} {}", self.surname.trim(), self.given_names())
    }
}

fn only_digits(s: &str, len: usize) -> Option<String> {
    let kept: String = s.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    (kept.len() == len && kept.bytes().all(|b| b.is_ascii_digit())).then_some(kept)
}

fn as_numbers(digits: &str) -> Vec<u32> {
    digits.bytes().map(|b| u32::from(b - b'0')).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn snils_checksum_per_domain_examples() {
        assert_eq!(
            Snils::parse("112-233-445 95").unwrap().digits(),
            "11223344595"
        );
        assert!(matches!(
            Snils::parse("112-233-445 96"),
            Err(CaError::BadSnils(_))
        ));
        assert!(Snils::parse("1122334459").is_err());
        assert!(Snils::parse("11223344a95").is_err());
        // Below 001-001-998 no check number applies.
        assert!(Snils::parse("001-001-997 00").is_ok());
    }

    #[test]
    fn inn_check_digits_per_domain_examples() {
        assert_eq!(Inn::parse("500100732259").unwrap().digits(), "500100732259");
        assert!(matches!(
            Inn::parse("500100732258"),
            Err(CaError::BadInn(_))
        ));
        assert!(
            Inn::parse("7707083893").is_err(),
            "an organisation's INN is not a person's"
        );
    }

    #[test]
    fn names_are_letters_only() {
        let mut s = CitizenSubject {
            surname: "Иванова-Петрова".into(),
            given_name: "Анна".into(),
            patronymic: Some("Сергеевна".into()),
            snils: None,
            inn: None,
        };
        assert!(s.validate().is_ok());
        assert_eq!(s.full_name(), "Иванова-Петрова Анна Сергеевна");
        s.given_name = "<script>".into();
        assert!(matches!(s.validate(), Err(CaError::BadName(_))));
        s.given_name = "  ".into();
        assert!(s.validate().is_err());
    }
}
