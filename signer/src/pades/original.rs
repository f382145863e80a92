//! Reads what an incremental update needs from the PDF being signed (ISO 32000-1 §7.5.6):
//! the last cross-reference section and its kind (§7.5.4 table or §7.5.8 stream, which the
//! update repeats), the trailer's `/Root`, `/Info` and `/ID`, the next free object number
//! and the first page. Encrypted PDFs are refused: their strings would need re-encryption.

use super::PadesError;
use lopdf::{Document, Object, ObjectId};

/// The document being signed, parsed, with the facts about its last revision.
pub(super) struct Original {
    /// The parsed document (objects of every revision, the newest of each).
    pub doc: Document,
    /// Byte offset of the last cross-reference section: the update's `/Prev`.
    pub prev_xref: usize,
    /// The last section is a cross-reference stream, so the update writes one too.
    pub xref_stream: bool,
    /// The first object number the update may use.
    pub next_id: u32,
    /// The document catalog.
    pub root: ObjectId,
    /// The page the signature widget goes on.
    pub first_page: ObjectId,
}

impl Original {
    pub fn read(pdf: &[u8]) -> Result<Self, PadesError> {
        if !pdf.starts_with(b"%PDF-") {
            return Err(PadesError::NotPdf(None));
        }
        let prev_xref = last_startxref(pdf).ok_or(PadesError::Malformed("no startxref"))?;
        let section = pdf
            .get(prev_xref..)
            .ok_or(PadesError::Malformed("startxref beyond the end"))?;
        let xref_stream = !section.starts_with(b"xref");
        let doc = match Document::load_mem(pdf) {
            Ok(doc) => doc,
            Err(
                lopdf::Error::Decryption(_)
                | lopdf::Error::InvalidPassword
                | lopdf::Error::UnsupportedSecurityHandler(_),
            ) => return Err(PadesError::Encrypted),
            Err(e) => return Err(PadesError::NotPdf(Some(e))),
        };
        if doc.was_encrypted() || doc.trailer.has(b"Encrypt") {
            return Err(PadesError::Encrypted);
        }
        let root = doc
            .trailer
            .get(b"Root")
            .and_then(Object::as_reference)
            .map_err(|_| PadesError::Malformed("no /Root"))?;
        let first_page = *doc
            .get_pages()
            .values()
            .next()
            .ok_or(PadesError::Malformed("no pages"))?;
        let declared = doc
            .trailer
            .get(b"Size")
            .and_then(Object::as_i64)
            .ok()
            .and_then(|size| u32::try_from(size).ok())
            .unwrap_or(0);
        let next_id = declared.max(doc.max_id.saturating_add(1));
        Ok(Self {
            doc,
            prev_xref,
            xref_stream,
            next_id,
            root,
            first_page,
        })
    }

    /// The trailer entries an update repeats (§7.5.6): `/Root`, `/Info` and `/ID`.
    pub fn kept_trailer_entries(&self) -> Vec<(&'static [u8], Object)> {
        [b"Root".as_slice(), b"Info", b"ID"]
            .into_iter()
            .filter_map(|key| {
                let value = self.doc.trailer.get(key).ok()?;
                Some((key, value.clone()))
            })
            .collect()
    }
}

/// The offset after the file's last `startxref` keyword (§7.5.5).
fn last_startxref(pdf: &[u8]) -> Option<usize> {
    const KEYWORD: &[u8] = b"startxref";
    let tail_start = pdf.len().saturating_sub(2048);
    let tail = &pdf[tail_start..];
    let at = tail.windows(KEYWORD.len()).rposition(|w| w == KEYWORD)?;
    let digits: Vec<u8> = tail[at + KEYWORD.len()..]
        .iter()
        .skip_while(|b| b.is_ascii_whitespace())
        .take_while(|b| b.is_ascii_digit())
        .copied()
        .collect();
    std::str::from_utf8(&digits).ok()?.parse().ok()
}
