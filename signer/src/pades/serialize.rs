//! Writes parsed PDF objects back as PDF syntax (ISO 32000-1 §7.3) for the objects an
//! incremental update replaces. Strings are written in hexadecimal form so that their bytes
//! survive exactly; names escape with `#xx` what §7.3.5 requires.

use super::PadesError;
use lopdf::Object;
use std::io::Write;

/// Appends `object` in PDF syntax to `out`. Streams cannot be nested in other objects, and a
/// real that is not finite has no PDF form: both are refused.
pub(super) fn write_object(object: &Object, out: &mut Vec<u8>) -> Result<(), PadesError> {
    match object {
        Object::Null => out.extend_from_slice(b"null"),
        Object::Boolean(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
        Object::Integer(i) => out.extend_from_slice(i.to_string().as_bytes()),
        Object::Real(r) => write_real(*r, out)?,
        Object::Name(name) => write_name(name, out),
        Object::String(bytes, _) => {
            out.push(b'<');
            for b in bytes {
                // Writing to a Vec cannot fail.
                let _ = write!(out, "{b:02X}");
            }
            out.push(b'>');
        }
        Object::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                write_object(item, out)?;
            }
            out.push(b']');
        }
        Object::Dictionary(dict) => {
            out.extend_from_slice(b"<<");
            for (key, value) in dict.iter() {
                write_name(key, out);
                out.push(b' ');
                write_object(value, out)?;
            }
            out.extend_from_slice(b">>");
        }
        Object::Stream(_) => return Err(PadesError::Malformed("a stream inside an object")),
        Object::Reference((id, generation)) => {
            let _ = write!(out, "{id} {generation} R");
        }
    }
    Ok(())
}

fn write_real(r: f32, out: &mut Vec<u8>) -> Result<(), PadesError> {
    if !r.is_finite() {
        return Err(PadesError::Malformed("a number that is not finite"));
    }
    // PDF reals have no exponent form (§7.3.3).
    let text = format!("{r:.6}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    out.extend_from_slice(
        if text.is_empty() || text == "-" {
            "0"
        } else {
            text
        }
        .as_bytes(),
    );
    Ok(())
}

fn write_name(name: &[u8], out: &mut Vec<u8>) {
    out.push(b'/');
    for &b in name {
        let regular = (0x21..=0x7e).contains(&b) && !b"#()<>[]{}/%".contains(&b);
        if regular {
            out.push(b);
        } else {
            let _ = write!(out, "#{b:02X}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lopdf::{dictionary, StringFormat};

    fn written(object: &Object) -> String {
        let mut out = Vec::new();
        write_object(object, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn objects_are_written_in_pdf_syntax() {
        let dict = dictionary! {
            "Type" => "Catalog",
            "A b" => Object::String(b"(x)".to_vec(), StringFormat::Literal),
            "N" => vec![Object::Integer(-3), Object::Real(1.5), Object::Real(2.0), Object::Null],
            "R" => Object::Reference((12, 0)),
            "T" => true,
        };
        assert_eq!(
            written(&Object::Dictionary(dict)),
            "<</Type /Catalog/A#20b <287829>/N [-3 1.5 2 null]/R 12 0 R/T true>>"
        );
    }

    #[test]
    fn non_finite_reals_are_refused() {
        let mut out = Vec::new();
        assert!(write_object(&Object::Real(f32::NAN), &mut out).is_err());
    }
}
