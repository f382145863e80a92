//! Secret redaction for the recorded HTTP exchanges shown in `report.html`: client secrets
//! (RFC 6749 §2.3.1), passwords, authorization codes (§4.1.2), tokens (§5.1, RFC 6750 §2)
//! and PKCE verifiers (RFC 7636 §4.1) never reach the report.

use serde_json::Value;

/// Parameter and JSON member names whose values are secret.
pub const SECRET_KEYS: &[&str] = &[
    "client_secret",
    "password",
    "code",
    "code_verifier",
    "access_token",
    "refresh_token",
    "id_token",
    "id_token_hint",
    "client_assertion",
    "csrf",
];

/// The replacement text.
pub const REDACTED: &str = "[redacted]";

fn is_secret(key: &str, password_field: &str) -> bool {
    SECRET_KEYS.contains(&key) || key == password_field
}

/// Redacts secret values in an `application/x-www-form-urlencoded` string.
pub fn form(s: &str, password_field: &str) -> String {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(s.as_bytes())
        .map(|(k, v)| {
            let v = if is_secret(&k, password_field) {
                REDACTED.to_owned()
            } else {
                v.into_owned()
            };
            (k.into_owned(), v)
        })
        .collect();
    url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// Redacts secret query and fragment parameters of a URL.
pub fn url(s: &str, password_field: &str) -> String {
    let Ok(mut u) = url::Url::parse(s) else {
        return s.to_owned();
    };
    if let Some(q) = u.query().map(str::to_owned) {
        u.set_query(Some(&form(&q, password_field)));
    }
    if let Some(f) = u.fragment().map(str::to_owned) {
        u.set_fragment(Some(&form(&f, password_field)));
    }
    u.to_string()
}

/// Redacts a header value: credentials and cookies.
pub fn header(name: &str, value: &str) -> String {
    match name.to_ascii_lowercase().as_str() {
        "authorization" => match value.split_once(' ') {
            Some((scheme, _)) => format!("{scheme} {REDACTED}"),
            None => REDACTED.to_owned(),
        },
        "cookie" | "set-cookie" => match value.split_once('=') {
            Some((n, _)) => format!("{n}={REDACTED}"),
            None => REDACTED.to_owned(),
        },
        "location" => url(value, "password"),
        _ => value.to_owned(),
    }
}

/// Redacts a body: JSON members, form parameters, or HTML hidden secret inputs.
pub fn body(s: &str, content_type: &str, password_field: &str) -> String {
    if let Ok(mut v) = serde_json::from_str::<Value>(s) {
        json(&mut v);
        return serde_json::to_string_pretty(&v).unwrap_or_default();
    }
    if content_type.contains("x-www-form-urlencoded") {
        return form(s, password_field);
    }
    if content_type.contains("html") {
        return html(s);
    }
    if content_type.contains("jwt") {
        return REDACTED.to_owned();
    }
    s.to_owned()
}

fn json(v: &mut Value) {
    if let Value::Object(m) = v {
        for (k, val) in m.iter_mut() {
            if SECRET_KEYS.contains(&k.as_str()) || k == "client_secret" {
                *val = Value::String(REDACTED.into());
            } else {
                json(val);
            }
        }
    }
}

/// Blanks the `value` of inputs named like a secret (form_post responses carry codes).
fn html(s: &str) -> String {
    let mut out = s.to_owned();
    for f in crate::html::forms(s) {
        for i in f.fields {
            if i.name.as_deref().is_some_and(|n| SECRET_KEYS.contains(&n))
                && !i.raw_value.is_empty()
            {
                out = out.replace(&i.raw_value, REDACTED);
            }
        }
    }
    out
}
