//! Signatures in a PDF (ISO 32000-1 §12.8.1, ETSI EN 319 142-1): every signature dictionary's
//! `/ByteRange [0 a b c]` must start at the file's first byte and leave out exactly the
//! `/Contents <hex>` string; the signature covers the whole current file only if `b + c` is
//! its length (otherwise incremental updates were appended after it).
//!
//! The file is scanned for `/ByteRange` arrays instead of being parsed with lopdf: a full
//! parse of a 10 MB document costs more than hashing it, and the byte range itself is what the
//! signature covers. A candidate counts only if its hole is a hex string directly after a
//! `/Contents` key, so a stray `/ByteRange` elsewhere is ignored.

/// One signature found in the file.
pub(crate) struct PdfSignature<'a> {
    pub byte_range: [usize; 4],
    /// The two signed parts of the file.
    pub parts: [&'a [u8]; 2],
    /// The decoded `/Contents` (the CMS, possibly zero-padded).
    pub contents: Vec<u8>,
    pub sub_filter: Option<String>,
}

const KEY: &[u8] = b"/ByteRange";
/// How far around the `/ByteRange` key the dictionary's `/SubFilter` is looked for.
const DICT_WINDOW: usize = 4096;

/// Every signature of `pdf`, in file order.
pub(crate) fn signatures(pdf: &[u8]) -> Vec<PdfSignature<'_>> {
    let mut found: Vec<PdfSignature<'_>> = Vec::new();
    let mut from = 0;
    while let Some(at) = find(pdf, KEY, from) {
        from = at + KEY.len();
        if let Some(sig) = candidate(pdf, at) {
            if !found.iter().any(|s| s.byte_range == sig.byte_range) {
                found.push(sig);
            }
        }
    }
    found
}

fn find(haystack: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let first = *needle.first()?;
    let mut i = from;
    while i + needle.len() <= haystack.len() {
        let next = haystack.get(i..)?.iter().position(|b| *b == first)? + i;
        if haystack.get(next..next + needle.len())? == needle {
            return Some(next);
        }
        i = next + 1;
    }
    None
}

fn candidate(pdf: &[u8], at: usize) -> Option<PdfSignature<'_>> {
    let mut i = skip_ws(pdf, at + KEY.len());
    if *pdf.get(i)? != b'[' {
        return None;
    }
    i += 1;
    let mut range = [0usize; 4];
    for slot in &mut range {
        i = skip_ws(pdf, i);
        let start = i;
        while pdf.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        *slot = std::str::from_utf8(pdf.get(start..i)?).ok()?.parse().ok()?;
    }
    if *pdf.get(skip_ws(pdf, i))? != b']' {
        return None;
    }
    let [zero, hole_start, hole_end, tail] = range;
    if zero != 0
        || hole_end <= hole_start.checked_add(1)?
        || hole_end.checked_add(tail)? > pdf.len()
    {
        return None;
    }
    if *pdf.get(hole_start)? != b'<' || *pdf.get(hole_end - 1)? != b'>' {
        return None;
    }
    // The hole must be the value of /Contents.
    let before = trim_end(pdf.get(..hole_start)?);
    if !before.ends_with(b"/Contents") {
        return None;
    }
    let contents = unhex(pdf.get(hole_start + 1..hole_end - 1)?)?;
    // The signature dictionary's own object: from its `obj` keyword to its `endobj`.
    let key_at = at.min(hole_start);
    let window_start = key_at.saturating_sub(DICT_WINDOW);
    let object_start =
        rfind(pdf.get(window_start..key_at)?, b"obj").map_or(window_start, |p| window_start + p);
    let window_end = (hole_end + DICT_WINDOW).min(pdf.len());
    let object_end = find(pdf, b"endobj", hole_end).map_or(window_end, |p| p.min(window_end));
    let sub_filter = sub_filter(pdf.get(object_start..hole_start)?)
        .or_else(|| sub_filter(pdf.get(hole_end..object_end)?));
    Some(PdfSignature {
        byte_range: range,
        parts: [pdf.get(..hole_start)?, pdf.get(hole_end..hole_end + tail)?],
        contents,
        sub_filter,
    })
}

fn rfind(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).rposition(|w| w == needle)
}

fn skip_ws(pdf: &[u8], mut i: usize) -> usize {
    while pdf
        .get(i)
        .is_some_and(|b| b.is_ascii_whitespace() || *b == 0)
    {
        i += 1;
    }
    i
}

fn trim_end(bytes: &[u8]) -> &[u8] {
    let end = bytes
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |p| p + 1);
    bytes.get(..end).unwrap_or_default()
}

fn unhex(hex: &[u8]) -> Option<Vec<u8>> {
    let digits: Vec<u8> = hex
        .iter()
        .filter(|b| !b.is_ascii_whitespace())
        .map(|b| {
            char::from(*b)
                .to_digit(16)
                .and_then(|d| u8::try_from(d).ok())
        })
        .collect::<Option<_>>()?;
    Some(
        digits
            .chunks(2)
            .map(|pair| {
                (pair.first().copied().unwrap_or(0) << 4) | pair.get(1).copied().unwrap_or(0)
            })
            .collect(),
    )
}

/// The name after the last `/SubFilter` key in `dict`.
fn sub_filter(dict: &[u8]) -> Option<String> {
    const SUB: &[u8] = b"/SubFilter";
    let mut last = None;
    let mut from = 0;
    while let Some(at) = find(dict, SUB, from) {
        last = Some(at);
        from = at + SUB.len();
    }
    let mut i = skip_ws(dict, last? + SUB.len());
    if *dict.get(i)? != b'/' {
        return None;
    }
    i += 1;
    let start = i;
    while dict
        .get(i)
        .is_some_and(|b| !b.is_ascii_whitespace() && !b"/<>[]()".contains(b))
    {
        i += 1;
    }
    Some(String::from_utf8_lossy(dict.get(start..i)?).into_owned())
}

#[cfg(test)]
mod tests {
    use super::signatures;

    #[test]
    fn byte_ranges_at_the_edge_of_usize_are_refused_not_overflowed() {
        for range in [
            "[0 18446744073709551615 0 0]",
            "[0 1 18446744073709551615 18446744073709551615]",
            "[0 99999999999999999999 2 3]",
        ] {
            let pdf = format!("%PDF-1.7\n1 0 obj << /ByteRange {range} /Contents <00> >>\n");
            assert!(signatures(pdf.as_bytes()).is_empty(), "{range}");
        }
    }
}
