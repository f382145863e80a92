//! Document types, recognised by content and never by name: PDF, DOCX, XML, plain text (UTF-8),
//! JPEG and PNG. Everything else is refused.

/// A document type we accept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DocType {
    /// `%PDF-`.
    Pdf,
    /// An Office Open XML word-processing package: a ZIP holding `[Content_Types].xml` and
    /// `word/` parts.
    Docx,
    /// XML text.
    Xml,
    /// UTF-8 text.
    Text,
    /// JPEG (SOI marker `FF D8 FF`).
    Jpeg,
    /// PNG (the eight-byte signature).
    Png,
}

impl DocType {
    /// The media type.
    pub fn media_type(self) -> &'static str {
        match self {
            DocType::Pdf => "application/pdf",
            DocType::Docx => {
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            }
            DocType::Xml => "application/xml",
            DocType::Text => "text/plain",
            DocType::Jpeg => "image/jpeg",
            DocType::Png => "image/png",
        }
    }

    /// From a stored media type.
    pub fn from_media_type(m: &str) -> Option<DocType> {
        [
            DocType::Pdf,
            DocType::Docx,
            DocType::Xml,
            DocType::Text,
            DocType::Jpeg,
            DocType::Png,
        ]
        .into_iter()
        .find(|t| t.media_type() == m)
    }

    /// A short name for people (`PDF`, `DOCX`, ...).
    pub fn label(self) -> &'static str {
        match self {
            DocType::Pdf => "PDF",
            DocType::Docx => "DOCX",
            DocType::Xml => "XML",
            DocType::Text => "TXT",
            DocType::Jpeg => "JPEG",
            DocType::Png => "PNG",
        }
    }
}

/// Why a file was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// Zero bytes.
    #[error("is empty")]
    Empty,
    /// A ZIP archive that is not a DOCX package.
    #[error("is a ZIP archive but not a DOCX document")]
    ZipNotDocx,
    /// None of the accepted types.
    #[error("is not a PDF, DOCX, XML, TXT, JPEG or PNG file")]
    Unknown,
}

const PNG: &[u8] = b"\x89PNG\r\n\x1a\n";

/// The type of `data`.
pub fn detect(data: &[u8]) -> Result<DocType, Refused> {
    if data.is_empty() {
        return Err(Refused::Empty);
    }
    if data.starts_with(b"%PDF-") {
        return Ok(DocType::Pdf);
    }
    if data.starts_with(PNG) {
        return Ok(DocType::Png);
    }
    if data.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Ok(DocType::Jpeg);
    }
    if data.starts_with(b"PK\x03\x04") {
        return if is_docx(data) {
            Ok(DocType::Docx)
        } else {
            Err(Refused::ZipNotDocx)
        };
    }
    let text = std::str::from_utf8(data).map_err(|_| Refused::Unknown)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0c'))
    {
        return Err(Refused::Unknown);
    }
    let start = text.trim_start();
    let looks_xml = start.starts_with("<?xml")
        || start
            .strip_prefix('<')
            .and_then(|r| r.chars().next())
            .is_some_and(|c| c.is_alphabetic() || c == '_');
    Ok(if looks_xml && start.trim_end().ends_with('>') {
        DocType::Xml
    } else {
        DocType::Text
    })
}

fn u16_at(d: &[u8], at: usize) -> Option<usize> {
    Some(usize::from(u16::from_le_bytes([
        *d.get(at)?,
        *d.get(at + 1)?,
    ])))
}

fn u32_at(d: &[u8], at: usize) -> Option<usize> {
    let b = d.get(at..at + 4)?;
    usize::try_from(u32::from_le_bytes([b[0], b[1], b[2], b[3]])).ok()
}

/// Whether the ZIP's central directory (APPNOTE 4.3.12, located by the end-of-central-directory
/// record, 4.3.16) names `[Content_Types].xml` and parts under `word/`. Only entry names are
/// needed, so this reads them directly instead of pulling in a ZIP crate and its decompressors.
fn is_docx(d: &[u8]) -> bool {
    // The EOCD is 22 bytes plus a comment of up to 65535 bytes, at the very end.
    let from = d.len().saturating_sub(22 + 65535);
    let Some(eocd) = (from..d.len().saturating_sub(21))
        .rev()
        .find(|&i| d[i..].starts_with(b"PK\x05\x06"))
    else {
        return false;
    };
    let (Some(count), Some(mut at)) = (u16_at(d, eocd + 10), u32_at(d, eocd + 16)) else {
        return false;
    };
    let (mut content_types, mut word) = (false, false);
    for _ in 0..count {
        if !d.get(at..).is_some_and(|r| r.starts_with(b"PK\x01\x02")) {
            return false;
        }
        let (Some(name_len), Some(extra), Some(comment)) =
            (u16_at(d, at + 28), u16_at(d, at + 30), u16_at(d, at + 32))
        else {
            return false;
        };
        let Some(name) = d.get(at + 46..at + 46 + name_len) else {
            return false;
        };
        content_types |= name == b"[Content_Types].xml";
        word |= name.starts_with(b"word/");
        at += 46 + name_len + extra + comment;
    }
    content_types && word
}
