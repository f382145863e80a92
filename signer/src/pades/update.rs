//! Appends one incremental update (ISO 32000-1 §7.5.6) after the original bytes, which stay
//! untouched: the new and changed objects, then a cross-reference section of the same kind as
//! the original's last one (a §7.5.4 table with a §7.5.5 trailer, or a §7.5.8 cross-reference
//! stream, uncompressed), whose `/Prev` points back at it.
//!
//! lopdf's `IncrementalDocument` can save an update too, but through its general writer, which
//! reports no byte positions: PAdES needs to know exactly where `/ByteRange` and `/Contents`
//! landed, so the few objects of a signing update are written here.

use super::original::Original;
use super::PadesError;
use lopdf::{Object, ObjectId};
use std::io::Write;

/// An object of the update: its id and its body (what goes between `obj` and `endobj`).
pub(super) struct Body {
    pub id: ObjectId,
    pub bytes: Vec<u8>,
}

/// Appends `bodies` and the cross-reference section to `out` (which holds the original) and
/// returns, for each body, the offset in `out` where its bytes begin.
pub(super) fn append(
    out: &mut Vec<u8>,
    original: &Original,
    bodies: &[Body],
    xref_stream_id: u32,
) -> Result<Vec<usize>, PadesError> {
    if !out.ends_with(b"\n") && !out.ends_with(b"\r") {
        out.push(b'\n');
    }
    let mut entries = Vec::with_capacity(bodies.len() + 1);
    let mut body_offsets = Vec::with_capacity(bodies.len());
    for body in bodies {
        entries.push((body.id, out.len()));
        let _ = writeln!(out, "{} {} obj", body.id.0, body.id.1);
        body_offsets.push(out.len());
        out.extend_from_slice(&body.bytes);
        out.extend_from_slice(b"\nendobj\n");
    }
    let size = bodies
        .iter()
        .map(|b| b.id.0)
        .chain([xref_stream_id])
        .max()
        .unwrap_or(xref_stream_id)
        .saturating_add(1);
    let mut trailer = Vec::new();
    let _ = write!(trailer, "/Size {size} /Prev {}", original.prev_xref);
    for (key, value) in original.kept_trailer_entries() {
        trailer.push(b'/');
        trailer.extend_from_slice(key);
        trailer.push(b' ');
        super::serialize::write_object(&value, &mut trailer)?;
    }
    let xref_at = out.len();
    if original.xref_stream {
        entries.push(((xref_stream_id, 0), xref_at));
    }
    entries.sort_unstable();
    if original.xref_stream {
        write_xref_stream(out, &entries, xref_stream_id, &trailer);
    } else {
        write_xref_table(out, &entries, &trailer);
    }
    let _ = write!(out, "startxref\n{xref_at}\n%%EOF\n");
    Ok(body_offsets)
}

/// §7.5.4: one subsection per object, each entry exactly 20 bytes.
fn write_xref_table(out: &mut Vec<u8>, entries: &[(ObjectId, usize)], trailer: &[u8]) {
    out.extend_from_slice(b"xref\n");
    for ((id, generation), offset) in entries {
        let _ = write!(out, "{id} 1\n{offset:010} {generation:05} n\r\n");
    }
    out.extend_from_slice(b"trailer\n<<");
    out.extend_from_slice(trailer);
    out.extend_from_slice(b">>\n");
}

/// §7.5.8: fields of 1, 8 and 2 bytes (type 1, offset, generation), one `/Index` pair per
/// object, the stream itself listed too.
fn write_xref_stream(
    out: &mut Vec<u8>,
    entries: &[(ObjectId, usize)],
    own_id: u32,
    trailer: &[u8],
) {
    let mut data = Vec::with_capacity(entries.len() * 11);
    let mut index = Vec::new();
    for ((id, generation), offset) in entries {
        data.push(1);
        data.extend_from_slice(&(*offset as u64).to_be_bytes());
        data.extend_from_slice(&generation.to_be_bytes());
        let _ = write!(index, "{id} 1 ");
    }
    let _ = write!(out, "{own_id} 0 obj\n<</Type /XRef /W [1 8 2] /Index [");
    out.extend_from_slice(index.trim_ascii_end());
    let _ = write!(out, "] /Length {} ", data.len());
    out.extend_from_slice(trailer);
    out.extend_from_slice(b">>\nstream\n");
    out.extend_from_slice(&data);
    out.extend_from_slice(b"\nendstream\nendobj\n");
}

/// The body of a parsed object in PDF syntax.
pub(super) fn body_of(id: ObjectId, object: &Object) -> Result<Body, PadesError> {
    let mut bytes = Vec::new();
    super::serialize::write_object(object, &mut bytes)?;
    Ok(Body { id, bytes })
}
