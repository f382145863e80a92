//! A small HTML form reader (WHATWG HTML §4.10 forms, §13.2.5.72 character references) for
//! the browser driver: finds `<form>`s with their `<input>`, `<button>` and `<textarea>`
//! controls, attribute values unescaped.

/// One form control.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    /// `input`, `button` or `textarea`.
    pub tag: String,
    /// The lower-cased `type` (`text` for inputs without one, `submit` for buttons).
    pub kind: String,
    pub name: Option<String>,
    /// The unescaped value.
    pub value: String,
    /// The value as written in the page (for redaction).
    pub raw_value: String,
    pub checked: bool,
}

impl Field {
    pub fn is_submit(&self) -> bool {
        self.kind == "submit" || (self.tag == "input" && self.kind == "image")
    }
}

/// One `<form>`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Form {
    /// The `id` attribute, for controls that name their form owner with `form=`.
    pub id: Option<String>,
    pub action: Option<String>,
    /// Lower-cased; `get` when absent.
    pub method: String,
    pub fields: Vec<Field>,
}

/// Decodes the character references that occur in attribute values and text.
pub fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let end = rest.find(';').filter(|e| *e <= 12);
        let decoded = end.and_then(|e| decode_entity(&rest[1..e]).map(|c| (c, e)));
        match decoded {
            Some((c, e)) => {
                out.push(c);
                rest = &rest[e + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn decode_entity(name: &str) -> Option<char> {
    if let Some(num) = name.strip_prefix('#') {
        let code = match num.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => num.parse().ok()?,
        };
        return char::from_u32(code);
    }
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        _ => return None,
    })
}

/// A start tag: lower-cased name and raw attributes (name lower-cased, value raw).
struct Tag {
    name: String,
    attrs: Vec<(String, String)>,
    end: usize,
}

impl Tag {
    fn attr(&self, n: &str) -> Option<String> {
        self.attrs
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| unescape(v))
    }
    fn raw(&self, n: &str) -> Option<&str> {
        self.attrs
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
    }
}

fn parse_tag(s: &str, start: usize) -> Option<Tag> {
    let b = s.as_bytes();
    let mut i = start + 1;
    let name_start = i;
    while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'/') {
        i += 1;
    }
    let name = s.get(name_start..i)?.to_ascii_lowercase();
    let mut attrs = Vec::new();
    loop {
        while i < b.len() && (b[i].is_ascii_whitespace() || b[i] == b'/') {
            i += 1;
        }
        if i >= b.len() {
            return None;
        }
        if b[i] == b'>' {
            return Some(Tag {
                name,
                attrs,
                end: i + 1,
            });
        }
        let ks = i;
        while i < b.len() && !b"=>/ \t\r\n".contains(&b[i]) {
            i += 1;
        }
        let key = s.get(ks..i)?.to_ascii_lowercase();
        while i < b.len() && b[i].is_ascii_whitespace() {
            i += 1;
        }
        let mut val = String::new();
        if i < b.len() && b[i] == b'=' {
            i += 1;
            while i < b.len() && b[i].is_ascii_whitespace() {
                i += 1;
            }
            if i < b.len() && (b[i] == b'"' || b[i] == b'\'') {
                let q = b[i];
                let vs = i + 1;
                let ve = vs + s.get(vs..)?.bytes().position(|c| c == q)?;
                val = s.get(vs..ve)?.to_owned();
                i = ve + 1;
            } else {
                let vs = i;
                while i < b.len() && !b" \t\r\n>".contains(&b[i]) {
                    i += 1;
                }
                val = s.get(vs..i)?.to_owned();
            }
        }
        if key.is_empty() {
            i += 1;
        } else {
            attrs.push((key, val));
        }
    }
}

/// All forms of a page, in document order. A control belongs to the form it is in, or to the
/// form whose `id` its `form` attribute names (HTML §4.10.17.3 form owner, as
/// node-oidc-provider's logout page uses); other controls are ignored. The content of
/// `<script>`, `<style>` and comments is skipped.
pub fn forms(html: &str) -> Vec<Form> {
    let lower = html.to_ascii_lowercase();
    let mut out: Vec<Form> = Vec::new();
    let mut current: Option<Form> = None;
    // Controls with a `form` attribute, attached once every form is known.
    let mut owned: Vec<(String, Field)> = Vec::new();
    scan_tags(html, |tag| {
        let mut pos = tag.end;
        match tag.name.as_str() {
            "form" => {
                if let Some(f) = current.take() {
                    out.push(f);
                }
                current = Some(Form {
                    id: tag.attr("id"),
                    action: tag.attr("action"),
                    method: tag
                        .attr("method")
                        .unwrap_or_else(|| "get".into())
                        .to_lowercase(),
                    fields: Vec::new(),
                });
            }
            "/form" => {
                if let Some(f) = current.take() {
                    out.push(f);
                }
            }
            "input" | "button" | "textarea" => {
                let owner = tag.attr("form");
                if owner.is_none() && current.is_none() {
                    return pos;
                }
                let default_kind = if tag.name == "button" {
                    "submit"
                } else {
                    "text"
                };
                let (value, raw_value) = if tag.name == "textarea" {
                    let end = lower[pos..]
                        .find("</textarea")
                        .map_or(html.len(), |e| pos + e);
                    let raw = html[pos..end].to_owned();
                    pos = end;
                    (unescape(&raw), raw)
                } else {
                    (
                        tag.attr("value").unwrap_or_default(),
                        tag.raw("value").unwrap_or("").to_owned(),
                    )
                };
                let field = Field {
                    tag: tag.name.clone(),
                    kind: tag
                        .attr("type")
                        .unwrap_or_else(|| default_kind.into())
                        .to_lowercase(),
                    name: tag.attr("name"),
                    value,
                    raw_value,
                    checked: tag.attrs.iter().any(|(k, _)| k == "checked"),
                };
                match (owner, current.as_mut()) {
                    (Some(id), _) => owned.push((id, field)),
                    (None, Some(form)) => form.fields.push(field),
                    (None, None) => {}
                }
            }
            _ => {}
        }
        pos
    });
    if let Some(f) = current.take() {
        out.push(f);
    }
    for (id, field) in owned {
        if let Some(f) = out
            .iter_mut()
            .find(|f| f.id.as_deref() == Some(id.as_str()))
        {
            f.fields.push(field);
        }
    }
    out
}

/// Calls `visit` with every tag of `html` outside comments, `<script>` and `<style>`, in
/// document order; `visit` returns where to go on scanning (the tag's end, or past content it
/// read itself, as a `<textarea>`'s).
fn scan_tags(html: &str, mut visit: impl FnMut(Tag) -> usize) {
    let lower = html.to_ascii_lowercase();
    let mut pos = 0;
    while let Some(off) = html.get(pos..).and_then(|r| r.find('<')) {
        let at = pos + off;
        // Slices with `get`: an OP's page is input, and a bad offset must end the scan, not
        // the run (ASCII lower-casing keeps every offset of `html` a boundary of `lower`).
        let from_here = lower.get(at..).unwrap_or("");
        if from_here.starts_with("<!--") {
            pos = from_here.find("-->").map_or(html.len(), |e| at + e + 3);
            continue;
        }
        let Some(tag) = parse_tag(html, at) else {
            pos = at + 1;
            continue;
        };
        pos = tag.end;
        if tag.name == "script" || tag.name == "style" {
            let close = format!("</{}", tag.name);
            pos = lower
                .get(pos..)
                .and_then(|r| r.find(&close))
                .map_or(html.len(), |e| pos + e);
        } else {
            pos = visit(tag).max(pos);
        }
    }
}

/// The start tags named `names` outside comments, `<script>` and `<style>`, in document
/// order.
fn start_tags(html: &str, names: &[&str]) -> Vec<Tag> {
    let mut out = Vec::new();
    scan_tags(html, |tag| {
        let end = tag.end;
        if names.contains(&tag.name.as_str()) {
            out.push(tag);
        }
        end
    });
    out
}

/// The `src` of every `<iframe>` of a page, unescaped (what a browser loads with it: the
/// front-channel logout pages of Front-Channel Logout 1.0 §3).
pub fn iframe_sources(html: &str) -> Vec<String> {
    start_tags(html, &["iframe"])
        .iter()
        .filter_map(|t| t.attr("src"))
        .filter(|s| !s.trim().is_empty())
        .collect()
}

/// The URL of the page's `<meta http-equiv="refresh" content="N; url=…">`, if it has one.
pub fn meta_refresh(html: &str) -> Option<String> {
    start_tags(html, &["meta"])
        .iter()
        .filter(|t| {
            t.attr("http-equiv")
                .is_some_and(|v| v.eq_ignore_ascii_case("refresh"))
        })
        .find_map(|t| t.attr("content").and_then(|c| refresh_url(&c)))
}

/// The URL of a `Refresh` header's or meta refresh's value (HTML §7.11.1 "shared declarative
/// refresh steps": `N`, then `;` or `,`, then an optional `url=`, the URL optionally
/// quoted). `None` when it names no URL (a reload of the same page).
pub fn refresh_url(value: &str) -> Option<String> {
    let rest = value
        .trim_start()
        .trim_start_matches(|c: char| c.is_ascii_digit() || c == '.');
    let rest = rest.trim_start().strip_prefix([';', ','])?.trim_start();
    let rest = match rest.get(..4) {
        Some(p) if p.eq_ignore_ascii_case("url=") => rest.get(4..).unwrap_or("").trim_start(),
        _ => rest,
    };
    let url = match rest.chars().next() {
        Some(q @ ('"' | '\'')) => rest
            .get(q.len_utf8()..)
            .and_then(|r| r.split(q).next())
            .unwrap_or(""),
        _ => rest.trim_end(),
    };
    (!url.is_empty()).then(|| url.to_owned())
}
