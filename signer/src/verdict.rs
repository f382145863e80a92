//! Validation as the service offers it to the API, the public page and the CLI: one policy
//! (vhod's root and the added trust anchors; vhod's issuing CA as a known intermediate;
//! revocation from vhod's database or the network; the signer's clock), the size limits of
//! uploads, and what people are shown of a signer's certificate.

use crate::trust::TrustError;
use crate::validate::{validate, AlgorithmConstraints, Input, Policy, Report};
use crate::Signer;
use std::time::{Duration, SystemTime};

/// The largest document accepted for validation (the signing limit of issue 5).
pub const MAX_DOCUMENT: usize = 10 * 1024 * 1024;
/// The largest detached signature accepted.
pub const MAX_SIGNATURE: usize = 1024 * 1024;

impl Signer {
    /// The validation policy in force now.
    pub async fn validation_policy(&self) -> Result<Policy, TrustError> {
        let now = u64::try_from(self.clock.now()).unwrap_or(0);
        Ok(Policy {
            trust_anchors: self.trust_anchors().ders().await?,
            intermediates: vec![self.ca.issuing_der().to_vec()],
            revocation: self.revocation.clone(),
            validation_time: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(now)),
            algorithms: AlgorithmConstraints::default(),
            max_input_bytes: MAX_DOCUMENT + MAX_SIGNATURE,
            cache: self.validation_cache.clone(),
        })
    }

    /// Validates `input` under [`Self::validation_policy`]. `Err` only when the trust anchors
    /// could not be read: bad input is a report (FORMAT_FAILURE), never an error.
    pub async fn validate(&self, input: Input<'_>) -> Result<Report, TrustError> {
        let policy = self.validation_policy().await?;
        Ok(validate(input, &policy).await)
    }
}

/// What people are shown of a certificate's subject: the name and, for a Russian
/// citizen's certificate, the SNILS.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Person {
    /// The common name (CN), or the whole subject when it has none.
    pub name: String,
    /// SNILS (OID 1.2.643.100.3), shown `XXX-XXX-XXX YY`.
    pub snils: Option<String>,
}

/// The SNILS attribute type (1.2.643.100.3), as RFC 4514 prints a type it has no name for.
const SNILS_OID: &str = "1.2.643.100.3";

impl Person {
    /// Reads an RFC 4514 subject as the validation report prints it. A type without a
    /// registered name, like SNILS, is printed as `OID=#` and the hex of its DER value
    /// (RFC 4514 §2.4), here a NumericString (tag 0x12).
    pub fn from_subject(subject: &str) -> Person {
        let mut name = None;
        let mut snils = None;
        for (key, value) in rdns(subject) {
            if key.eq_ignore_ascii_case("CN") && name.is_none() {
                name = Some(value);
            } else if key == SNILS_OID {
                snils = numeric_string(&value).map(|d| format_snils(&d));
            }
        }
        Person {
            name: name.unwrap_or_else(|| subject.to_owned()),
            snils,
        }
    }
}

/// `(type, unescaped value)` pairs of an RFC 4514 string (multi-valued RDNs split too).
fn rdns(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut part = String::new();
    let mut chars = s.chars();
    let mut flush = |part: &mut String| {
        if let Some((k, v)) = part.split_once('=') {
            out.push((k.trim().to_owned(), v.to_owned()));
        }
        part.clear();
    };
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                // A backslash and two hex digits is one escaped byte (control characters).
                Some(h) if h.is_ascii_hexdigit() => {
                    let l = chars.next().unwrap_or('0');
                    let byte = u8::from_str_radix(&format!("{h}{l}"), 16).unwrap_or(b'?');
                    part.push(char::from(byte));
                }
                Some(e) => part.push(e),
                None => {}
            },
            ',' | '+' => flush(&mut part),
            c => part.push(c),
        }
    }
    flush(&mut part);
    out
}

/// The digits of `#12LL…`, a DER NumericString in hex.
fn numeric_string(value: &str) -> Option<String> {
    let hex = value.strip_prefix('#')?;
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
        .collect::<Option<_>>()?;
    let (&tag, rest) = bytes.split_first()?;
    let (&len, digits) = rest.split_first()?;
    (tag == 0x12 && usize::from(len) == digits.len() && digits.iter().all(u8::is_ascii_digit))
        .then(|| String::from_utf8_lossy(digits).into_owned())
}

/// `11223344595` as `112-233-445 95`; anything else as it is.
fn format_snils(d: &str) -> String {
    match (d.len(), d.get(0..3), d.get(3..6), d.get(6..9), d.get(9..)) {
        (11, Some(a), Some(b), Some(c), Some(e)) => format!("{a}-{b}-{c} {e}"),
        _ => d.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::Person;

    #[test]
    fn a_citizen_subject_gives_name_and_snils() {
        let p = Person::from_subject(
            "CN=Иванова Алиса,SN=Иванова,GIVENNAME=Алиса,1.2.643.100.3=#120b3131323233333434353935",
        );
        assert_eq!(p.name, "Иванова Алиса");
        assert_eq!(p.snils.as_deref(), Some("112-233-445 95"));
    }

    #[test]
    fn escapes_are_undone_and_a_subject_without_cn_is_shown_whole() {
        let p = Person::from_subject("CN=Doe\\, John+O=Example");
        assert_eq!(p.name, "Doe, John");
        assert_eq!(p.snils, None);
        let q = Person::from_subject("O=Example,C=RU");
        assert_eq!(q.name, "O=Example,C=RU");
        let bad = Person::from_subject("CN=x,1.2.643.100.3=#0c0131");
        assert_eq!(bad.snils, None);
    }
}
