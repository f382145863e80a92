//! Identity data of the "standard" assurance level: full name, date of birth, SNILS,
//! passport and (optionally) a person's INN.
//!
//! This module owns the checks a value must pass before it is stored, and how it is stored:
//! - SNILS: 11 digits with the Pension Fund check number (weights 9..1; numbers up to
//!   001-001-998 carry no check); INN of a person: 12 digits with two check digits, an
//!   organisation's 10-digit INN is refused; passport: series of 4 digits, number of 6.
//! - Names: Cyrillic letters, hyphen, space and apostrophe, 1 to 100 characters; matching
//!   another source's data ignores case and treats ё as е.
//! - Date of birth: a real calendar date, not before 1900-01-01, not in the future, age 14+.
//! - At rest an identifier is sealed (AES-256-GCM, bound to its kind) and found through a
//!   keyed blind index (HMAC-SHA-256), so the database never holds it in clear.
//!
//! Every refusal is a [`FieldError`] with a stable code and a Russian and English message.

use crate::i18n::Lang;

/// Why a value was refused: which field and a stable machine-readable code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The field: `snils`, `inn`, `passport_series`, `passport_number`, `name`, `birth_date`.
    pub field: &'static str,
    /// What is wrong, e.g. `required`, `format`, `checksum`, `too_young`.
    pub code: &'static str,
}

/// Field, code, Russian text, English text.
#[rustfmt::skip]
const MESSAGES: &[(&str, &str, &str, &str)] = &[
    ("snils", "required",
        "Укажите СНИЛС.",
        "Please enter your SNILS."),
    ("snils", "format",
        "СНИЛС — это 11 цифр, например 112-233-445 95.",
        "A SNILS is 11 digits, for example 112-233-445 95."),
    ("snils", "checksum",
        "Контрольное число СНИЛС не сходится — проверьте номер.",
        "The SNILS check digits do not match — please check the number."),
    ("inn", "required",
        "Укажите ИНН.",
        "Please enter your INN."),
    ("inn", "format",
        "ИНН физического лица — это 12 цифр.",
        "A personal INN is 12 digits."),
    ("inn", "organisation",
        "Это ИНН организации (10 цифр). Укажите свой личный ИНН из 12 цифр.",
        "This is an organisation's INN (10 digits). Please enter your personal 12-digit INN."),
    ("inn", "checksum",
        "Контрольные цифры ИНН не сходятся — проверьте номер.",
        "The INN check digits do not match — please check the number."),
    ("passport_series", "required",
        "Укажите серию паспорта.",
        "Please enter the passport series."),
    ("passport_series", "format",
        "Серия паспорта — это 4 цифры, например 45 08.",
        "A passport series is 4 digits, for example 45 08."),
    ("passport_number", "required",
        "Укажите номер паспорта.",
        "Please enter the passport number."),
    ("passport_number", "format",
        "Номер паспорта — это 6 цифр.",
        "A passport number is 6 digits."),
    ("name", "required",
        "Заполните это поле.",
        "Please fill in this field."),
    ("name", "too_long",
        "Не больше 100 символов.",
        "At most 100 characters, please."),
    ("name", "characters",
        "Используйте русские буквы; допустимы также дефис, пробел и апостроф.",
        "Please use Cyrillic letters; a hyphen, space and apostrophe are allowed too."),
    ("birth_date", "required",
        "Укажите дату рождения.",
        "Please enter your date of birth."),
    ("birth_date", "format",
        "Укажите дату в виде ДД.ММ.ГГГГ или ГГГГ-ММ-ДД, например 05.03.1990.",
        "Please enter the date as DD.MM.YYYY or YYYY-MM-DD, for example 05.03.1990."),
    ("birth_date", "not_a_date",
        "Такой даты нет в календаре — проверьте день и месяц.",
        "There is no such date in the calendar — please check the day and month."),
    ("birth_date", "future",
        "Дата рождения не может быть в будущем.",
        "The date of birth cannot be in the future."),
    ("birth_date", "before_1900",
        "Дата рождения не может быть раньше 01.01.1900.",
        "The date of birth cannot be before 1 January 1900."),
    ("birth_date", "too_young",
        "Учётную запись этого уровня можно получить с 14 лет.",
        "This account level is available from the age of 14."),
];

impl FieldError {
    const fn new(field: &'static str, code: &'static str) -> FieldError {
        FieldError { field, code }
    }

    /// The text to show the person, in `lang`.
    pub fn message(&self, lang: Lang) -> &'static str {
        let (ru, en) = MESSAGES
            .iter()
            .find(|(f, c, _, _)| *f == self.field && *c == self.code)
            .map_or(
                ("Проверьте значение.", "Please check this value."),
                |m| (m.2, m.3),
            );
        match lang {
            Lang::Ru => ru,
            Lang::En => en,
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message(Lang::En))
    }
}

impl std::error::Error for FieldError {}

/// The ASCII digits of `input` once the separators `sep` accepts are dropped; `None` if
/// anything else is there.
fn digits(input: &str, sep: impl Fn(char) -> bool) -> Option<Vec<u32>> {
    input
        .chars()
        .filter(|c| !sep(*c))
        .map(|c| c.to_digit(10))
        .collect()
}

fn to_string(d: &[u32]) -> String {
    d.iter().filter_map(|&n| char::from_digit(n, 10)).collect()
}

/// Checks a SNILS (`112-233-445 95`, `11223344595`, spaces and hyphens anywhere) and
/// returns its 11 digits.
pub fn snils(input: &str) -> Result<String, FieldError> {
    let err = |code| FieldError::new("snils", code);
    if input.trim().is_empty() {
        return Err(err("required"));
    }
    let d = digits(input, |c| c.is_whitespace() || c == '-').ok_or(err("format"))?;
    if d.len() != 11 {
        return Err(err("format"));
    }
    let number = d[..9].iter().fold(0u32, |n, x| n * 10 + x);
    let check = d[9] * 10 + d[10];
    // Numbers up to 001-001-998 were issued before the check number was introduced.
    if number > 1_001_998 {
        let sum: u32 = d[..9].iter().zip((1..=9).rev()).map(|(x, w)| x * w).sum();
        let expected = match sum {
            0..=99 => sum,
            100 | 101 => 0,
            _ => sum % 101 % 100,
        };
        if check != expected {
            return Err(err("checksum"));
        }
    }
    Ok(to_string(&d))
}

/// Shows 11 SNILS digits as `XXX-XXX-XXX YY`; anything else is returned unchanged.
pub fn format_snils(digits: &str) -> String {
    if digits.len() != 11 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return digits.to_string();
    }
    format!(
        "{}-{}-{} {}",
        &digits[..3],
        &digits[3..6],
        &digits[6..9],
        &digits[9..]
    )
}

/// An INN check digit: (Σ w·d mod 11) mod 10.
fn inn_check(d: &[u32], weights: &[u32]) -> u32 {
    d.iter().zip(weights).map(|(x, w)| x * w).sum::<u32>() % 11 % 10
}

/// Checks a person's INN (12 digits, spaces allowed) and returns its digits; a 10-digit
/// organisation INN is refused with the code `organisation`.
pub fn inn(input: &str) -> Result<String, FieldError> {
    let err = |code| FieldError::new("inn", code);
    if input.trim().is_empty() {
        return Err(err("required"));
    }
    let d = digits(input, char::is_whitespace).ok_or(err("format"))?;
    match d.len() {
        12 => {}
        10 => return Err(err("organisation")),
        _ => return Err(err("format")),
    }
    const W11: [u32; 10] = [7, 2, 4, 10, 3, 5, 9, 4, 6, 8];
    const W12: [u32; 11] = [3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8];
    if inn_check(&d[..10], &W11) != d[10] || inn_check(&d[..11], &W12) != d[11] {
        return Err(err("checksum"));
    }
    Ok(to_string(&d))
}

/// Checks a Russian passport's series (4 digits, e.g. `45 08`) and number (6 digits);
/// whitespace is ignored. Returns both as plain digits.
pub fn passport(series: &str, number: &str) -> Result<(String, String), FieldError> {
    let part = |field, input: &str, len| {
        if input.trim().is_empty() {
            return Err(FieldError::new(field, "required"));
        }
        match digits(input, char::is_whitespace) {
            Some(d) if d.len() == len => Ok(to_string(&d)),
            _ => Err(FieldError::new(field, "format")),
        }
    };
    Ok((
        part("passport_series", series, 4)?,
        part("passport_number", number, 6)?,
    ))
}

/// The longest name accepted, in characters.
const NAME_MAX: usize = 100;

/// Checks a family, given or middle name: Cyrillic letters, hyphen, space and apostrophe
/// (`'` or `’`, stored as `'`), at least one letter, 1 to 100 characters. Returns it
/// trimmed, with runs of spaces collapsed.
///
/// Every letter of the Cyrillic block is accepted, not only the Russian alphabet, so names
/// written with the letters of the republics' languages (ә, ө, һ...) are not refused.
pub fn person_name(input: &str) -> Result<String, FieldError> {
    let err = |code| FieldError::new("name", code);
    let mut out = String::with_capacity(input.len());
    let mut letters = 0usize;
    for c in input.trim().chars() {
        match c {
            ' ' if out.ends_with(' ') => {}
            ' ' | '-' => out.push(c),
            '\'' | '’' => out.push('\''),
            'Ѐ'..='ӿ' if c.is_alphabetic() => {
                letters += 1;
                out.push(c);
            }
            _ => return Err(err("characters")),
        }
    }
    let len = out.chars().count();
    if len == 0 {
        return Err(err("required"));
    }
    if len > NAME_MAX {
        return Err(err("too_long"));
    }
    if letters == 0 {
        return Err(err("characters"));
    }
    Ok(out)
}

/// Whether two names are the same person's name: case, ё/е, the apostrophe's shape and
/// extra spaces do not matter.
pub fn names_match(a: &str, b: &str) -> bool {
    fn fold(s: &str) -> impl Iterator<Item = char> + '_ {
        s.split_whitespace()
            .flat_map(|w| std::iter::once(' ').chain(w.chars()))
            .flat_map(char::to_lowercase)
            .map(|c| match c {
                'ё' => 'е',
                '’' => '\'',
                c => c,
            })
    }
    fold(a).eq(fold(b))
}

/// The UTC calendar date of unix time `unix` (H. Hinnant's `civil_from_days`).
pub fn civil_date(unix: i64) -> (i32, u32, u32) {
    let z = unix.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = (yoe + era * 400) as i32 + i32::from(m <= 2);
    (y, m, d)
}

fn is_leap(y: i32) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Parses `YYYY-MM-DD` or `DD.MM.YYYY` (day and month may have one digit) into numbers,
/// without checking the calendar.
fn parse_date(s: &str) -> Option<(i32, u32, u32)> {
    let num = |p: &str, min: usize, max: usize| {
        (p.len() >= min && p.len() <= max && p.bytes().all(|b| b.is_ascii_digit()))
            .then(|| p.parse::<u32>().ok())
            .flatten()
    };
    let (y, m, d) = if let [y, m, d] = s.split('-').collect::<Vec<_>>()[..] {
        (num(y, 4, 4)?, num(m, 2, 2)?, num(d, 2, 2)?)
    } else if let [d, m, y] = s.split('.').collect::<Vec<_>>()[..] {
        (num(y, 4, 4)?, num(m, 1, 2)?, num(d, 1, 2)?)
    } else {
        return None;
    };
    Some((i32::try_from(y).ok()?, m, d))
}

/// The youngest age at which an identity is accepted.
const MIN_AGE: i32 = 14;

/// Checks a date of birth (`YYYY-MM-DD` or `DD.MM.YYYY`) against `today` (year, month,
/// day) and returns it as `YYYY-MM-DD`.
///
/// Someone born on 29 February turns 14 on 1 March in a common year.
pub fn birth_date(input: &str, today: (i32, u32, u32)) -> Result<String, FieldError> {
    let err = |code| FieldError::new("birth_date", code);
    let s = input.trim();
    if s.is_empty() {
        return Err(err("required"));
    }
    let (y, m, d) = parse_date(s).ok_or(err("format"))?;
    if d == 0 || d > days_in_month(y, m) {
        return Err(err("not_a_date"));
    }
    if (y, m, d) > today {
        return Err(err("future"));
    }
    if y < 1900 {
        return Err(err("before_1900"));
    }
    if (y + MIN_AGE, m, d) > today {
        return Err(err("too_young"));
    }
    Ok(format!("{y:04}-{m:02}-{d:02}"))
}

/// A keyed, deterministic fingerprint of an identifier for lookups and uniqueness:
/// base64url(HMAC-SHA-256(key, kind ‖ 0x00 ‖ canonical)). `kind` (`snils`, `passport`,
/// `inn`) keeps equal digits of different documents apart.
pub fn blind_index(key: &[u8; 32], kind: &str, canonical: &str) -> String {
    let mut msg = Vec::with_capacity(kind.len() + 1 + canonical.len());
    msg.extend_from_slice(kind.as_bytes());
    msg.push(0);
    msg.extend_from_slice(canonical.as_bytes());
    crate::crypto::hmac_b64(key, &msg)
}

/// The additional authenticated data binding a sealed identifier to its kind.
fn aad(kind: &str) -> Vec<u8> {
    [b"vhod/identity/".as_slice(), kind.as_bytes()].concat()
}

/// Encrypts an identifier for storage (AES-256-GCM, bound to `kind`).
pub fn seal(key: &keys::Kek, kind: &str, canonical: &str) -> Vec<u8> {
    key.encrypt(&aad(kind), canonical.as_bytes())
}

/// Decrypts a stored identifier; `None` under a wrong key or kind, or if it was altered.
pub fn open(key: &keys::Kek, kind: &str, blob: &[u8]) -> Option<String> {
    key.decrypt(&aad(kind), blob)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates() {
        assert_eq!(civil_date(0), (1970, 1, 1));
        assert_eq!(civil_date(951_782_400), (2000, 2, 29));
        assert_eq!(civil_date(1_795_622_400), (2026, 11, 25));
        assert_eq!(civil_date(-86_400), (1969, 12, 31));
    }

    const TODAY: (i32, u32, u32) = (2026, 1, 15);

    /// The error's field and code, after checking it has its own text in both languages.
    fn code<T: std::fmt::Debug>(r: Result<T, FieldError>) -> (&'static str, &'static str) {
        let e = r.unwrap_err();
        let known = MESSAGES
            .iter()
            .any(|(f, c, _, _)| (*f, *c) == (e.field, e.code));
        assert!(known, "{e:?} has no message");
        (e.field, e.code)
    }

    #[test]
    fn snils_worked_example_and_its_forms() {
        assert_eq!(snils("112-233-445 95").unwrap(), "11223344595");
        assert_eq!(snils("11223344595").unwrap(), "11223344595");
        assert_eq!(snils(" 112 233 445-95 ").unwrap(), "11223344595");
        assert_eq!(code(snils("112-233-445 96")), ("snils", "checksum"));
        assert_eq!(format_snils("11223344595"), "112-233-445 95");
        assert_eq!(format_snils("123"), "123");
    }

    #[test]
    fn snils_check_number_edges() {
        // Weighted sums: 900000010 → 83, 911000011 → 99, 911000101 → 100, 911000110 → 101,
        // 990700006 → 201 (mod 101 = 100), 999999999 → 405 (mod 101 = 1).
        assert!(snils("900-000-010 83").is_ok());
        assert!(snils("911-000-011 99").is_ok());
        assert!(snils("911-000-101 00").is_ok());
        assert_eq!(code(snils("911-000-101 01")), ("snils", "checksum"));
        assert!(snils("911-000-110 00").is_ok());
        assert_eq!(code(snils("911-000-110 01")), ("snils", "checksum"));
        assert!(snils("990-700-006 00").is_ok());
        assert_eq!(code(snils("990-700-006 99")), ("snils", "checksum"));
        assert!(snils("999-999-999 01").is_ok());
    }

    #[test]
    fn snils_before_the_check_number_takes_any_check() {
        assert!(snils("001-001-998 00").is_ok());
        assert!(snils("001-001-998 77").is_ok());
        assert!(snils("000-000-001 42").is_ok());
        // The first number the rule applies to (weighted sum 65).
        assert!(snils("001-001-999 65").is_ok());
        assert_eq!(code(snils("001-001-999 00")), ("snils", "checksum"));
    }

    #[test]
    fn snils_errors() {
        assert_eq!(code(snils("  ")), ("snils", "required"));
        assert_eq!(code(snils("112-233-445 9")), ("snils", "format"));
        assert_eq!(code(snils("112-233-445 955")), ("snils", "format"));
        assert_eq!(code(snils("112/233/445 95")), ("snils", "format"));
        assert_eq!(code(snils("１１２-233-445 95")), ("snils", "format"));
    }

    #[test]
    fn inn_of_a_person() {
        assert_eq!(inn("500100732259").unwrap(), "500100732259");
        assert_eq!(inn(" 5001 0073 2259 ").unwrap(), "500100732259");
        assert_eq!(code(inn("500100732250")), ("inn", "checksum"));
        assert_eq!(code(inn("500100732269")), ("inn", "checksum"));
        assert_eq!(code(inn("7707083893")), ("inn", "organisation"));
        assert_eq!(code(inn("50010073225")), ("inn", "format"));
        assert_eq!(code(inn("5001-0073-2259")), ("inn", "format"));
        assert_eq!(code(inn("")), ("inn", "required"));
        assert!(FieldError::new("inn", "organisation")
            .message(Lang::En)
            .contains("organisation"));
    }

    #[test]
    fn passport_series_and_number() {
        assert_eq!(
            passport("45 08", "123456").unwrap(),
            ("4508".to_string(), "123456".to_string())
        );
        assert_eq!(passport("4508", " 123 456 ").unwrap().1, "123456");
        assert_eq!(
            code(passport("450", "123456")),
            ("passport_series", "format")
        );
        assert_eq!(
            code(passport("45-08", "123456")),
            ("passport_series", "format")
        );
        assert_eq!(
            code(passport("", "123456")),
            ("passport_series", "required")
        );
        assert_eq!(
            code(passport("4508", "12345")),
            ("passport_number", "format")
        );
        assert_eq!(
            code(passport("4508", "1234567")),
            ("passport_number", "format")
        );
        assert_eq!(
            code(passport("4508", "12345a")),
            ("passport_number", "format")
        );
        assert_eq!(code(passport("4508", " ")), ("passport_number", "required"));
    }

    #[test]
    fn names() {
        assert_eq!(person_name("  Иванова  ").unwrap(), "Иванова");
        assert_eq!(person_name("Римский-Корсаков").unwrap(), "Римский-Корсаков");
        assert_eq!(person_name("Анна   Мария").unwrap(), "Анна Мария");
        assert_eq!(person_name("Д’Артаньян").unwrap(), "Д'Артаньян");
        assert_eq!(person_name("Фёдор").unwrap(), "Фёдор");
        assert_eq!(person_name("ЁЖИКОВ").unwrap(), "ЁЖИКОВ");
        assert_eq!(person_name("Гәрәй").unwrap(), "Гәрәй");
        assert_eq!(person_name(&"я".repeat(100)).unwrap().chars().count(), 100);
        assert_eq!(code(person_name(&"я".repeat(101))), ("name", "too_long"));
        assert_eq!(code(person_name("   ")), ("name", "required"));
        assert_eq!(code(person_name("Ivanov")), ("name", "characters"));
        assert_eq!(code(person_name("Иван0в")), ("name", "characters"));
        assert_eq!(code(person_name("Иван\tов")), ("name", "characters"));
        assert_eq!(code(person_name("- '")), ("name", "characters"));
    }

    #[test]
    fn names_match_ignoring_case_yo_and_spaces() {
        assert!(names_match("Фёдоров", "ФЕДОРОВ"));
        assert!(names_match("Артём", "артем"));
        assert!(names_match("Анна  Мария", " анна мария"));
        assert!(names_match("Д’Артаньян", "д'артаньян"));
        assert!(!names_match("Иванов", "Иванова"));
        assert!(!names_match("Анна Мария", "АннаМария"));
    }

    #[test]
    fn birth_dates() {
        assert_eq!(birth_date("1990-03-05", TODAY).unwrap(), "1990-03-05");
        assert_eq!(birth_date("05.03.1990", TODAY).unwrap(), "1990-03-05");
        assert_eq!(birth_date(" 5.3.1990 ", TODAY).unwrap(), "1990-03-05");
        assert_eq!(birth_date("2000-02-29", TODAY).unwrap(), "2000-02-29");
        assert_eq!(birth_date("1900-01-01", TODAY).unwrap(), "1900-01-01");
        let e = |s| code(birth_date(s, TODAY)).1;
        assert_eq!(e(""), "required");
        assert_eq!(e("1990/03/05"), "format");
        assert_eq!(e("90-03-05"), "format");
        assert_eq!(e("1990-3-5"), "format");
        assert_eq!(e("05.03.90"), "format");
        assert_eq!(e("1990-03-05T00:00"), "format");
        assert_eq!(e("1900-02-29"), "not_a_date");
        assert_eq!(e("2001-02-29"), "not_a_date");
        assert_eq!(e("1990-13-01"), "not_a_date");
        assert_eq!(e("1990-04-31"), "not_a_date");
        assert_eq!(e("00.01.1990"), "not_a_date");
        assert_eq!(e("1899-12-31"), "before_1900");
        assert_eq!(e("2026-01-16"), "future");
        assert_eq!(e("2012-01-16"), "too_young");
        assert_eq!(birth_date("2012-01-15", TODAY).unwrap(), "2012-01-15");
        // 29 February: 14 on 1 March of a common year.
        assert_eq!(code(birth_date("2012-02-29", (2026, 2, 28))).1, "too_young");
        assert!(birth_date("2012-02-29", (2026, 3, 1)).is_ok());
    }

    #[test]
    fn every_code_has_its_own_message_in_both_languages() {
        let mut seen = std::collections::HashSet::new();
        for &(f, c, ru, en) in MESSAGES {
            assert!(seen.insert((f, c)), "{f}/{c} twice");
            assert!(
                seen.insert(("ru", ru)) && seen.insert(("en", en)),
                "{f}/{c} shares a text"
            );
        }
        let e = FieldError::new("snils", "checksum");
        assert_eq!(
            e.message(Lang::Ru),
            "Контрольное число СНИЛС не сходится — проверьте номер."
        );
        assert_eq!(
            e.message(Lang::En),
            "The SNILS check digits do not match — please check the number."
        );
        assert_eq!(e.to_string(), format!("snils: {}", e.message(Lang::En)));
    }

    #[test]
    fn blind_index_is_deterministic_keyed_and_separates_kinds() {
        let k = [1u8; 32];
        let a = blind_index(&k, "snils", "11223344595");
        assert_eq!(a, blind_index(&k, "snils", "11223344595"));
        assert_eq!(a.len(), 43, "32 bytes, base64url without padding");
        assert!(!a.contains(['+', '/', '=']));
        assert_ne!(a, blind_index(&k, "inn", "11223344595"));
        assert_ne!(a, blind_index(&k, "snils", "11223344596"));
        assert_ne!(a, blind_index(&[2u8; 32], "snils", "11223344595"));
        // The separator keeps (kind, value) pairs from running into each other.
        assert_ne!(blind_index(&k, "ab", "c"), blind_index(&k, "a", "bc"));
    }

    #[test]
    fn blind_index_is_hmac_sha256_over_kind_nul_value() {
        use hmac::{Hmac, Mac};
        let k = [9u8; 32];
        let mut m = Hmac::<sha2::Sha256>::new_from_slice(&k).unwrap();
        m.update(b"passport\x004508123456");
        use base64::Engine;
        let want =
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(m.finalize().into_bytes());
        assert_eq!(blind_index(&k, "passport", "4508123456"), want);
    }

    #[test]
    fn seal_and_open() {
        let (k, _) = keys::Kek::generate();
        let blob = seal(&k, "snils", "11223344595");
        assert!(!blob.windows(11).any(|w| w == b"11223344595"));
        assert_eq!(open(&k, "snils", &blob).as_deref(), Some("11223344595"));
        assert_eq!(open(&keys::Kek::generate().0, "snils", &blob), None);
        assert_eq!(open(&k, "inn", &blob), None, "bound to its kind");
        let mut bad = blob.clone();
        if let Some(b) = bad.last_mut() {
            *b ^= 1;
        }
        assert_eq!(open(&k, "snils", &bad), None);
        assert_ne!(
            blob,
            seal(&k, "snils", "11223344595"),
            "a fresh nonce each time"
        );
    }
}
