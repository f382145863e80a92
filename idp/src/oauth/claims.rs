//! Standard claims (OIDC Core §5.1) released per scope (§5.4) or asked for one by one
//! through the `claims` parameter (§5.5).

use crate::store::Account;
use serde_json::{Map, Value};

/// Claims each scope releases.
pub const SCOPE_CLAIMS: &[(&str, &[&str])] = &[
    (
        "profile",
        &[
            "name",
            "given_name",
            "family_name",
            "preferred_username",
            "locale",
            "updated_at",
        ],
    ),
    ("email", &["email", "email_verified"]),
    ("phone", &["phone_number", "phone_number_verified"]),
    ("address", &["address"]),
];

/// Every claim this provider can release (for discovery).
pub fn supported() -> Vec<&'static str> {
    let mut v = vec!["sub", "iss", "auth_time", "acr", "amr", "sid"];
    for (_, cs) in SCOPE_CLAIMS {
        v.extend_from_slice(cs);
    }
    v
}

/// One claim's value for `a`, if it has one.
fn value(a: &Account, claim: &str) -> Option<Value> {
    let s = |o: &Option<String>| o.clone().map(Value::String);
    match claim {
        "name" => s(&a.name),
        "given_name" => s(&a.given_name),
        "family_name" => s(&a.family_name),
        "preferred_username" => Some(Value::String(a.login.clone())),
        "locale" => s(&a.locale),
        "updated_at" => Some(a.updated_at.into()),
        "email" => s(&a.email),
        "email_verified" => a.email.as_ref().map(|_| Value::Bool(a.email_verified)),
        "phone_number" => s(&a.phone),
        "phone_number_verified" => a.phone.as_ref().map(|_| Value::Bool(a.phone_verified)),
        "address" => a
            .address
            .as_deref()
            .and_then(|j| serde_json::from_str(j).ok()),
        _ => None,
    }
}

/// The claims of `a` released by `scopes` plus those named in `requested`.
pub fn for_account(a: &Account, scopes: &[&str], requested: &[String]) -> Map<String, Value> {
    let mut out = Map::new();
    let mut names: Vec<&str> = SCOPE_CLAIMS
        .iter()
        .filter(|(s, _)| scopes.contains(s))
        .flat_map(|(_, cs)| cs.iter().copied())
        .collect();
    names.extend(requested.iter().map(String::as_str));
    for n in names {
        if let Some(v) = value(a, n) {
            out.insert(n.to_owned(), v);
        }
    }
    out
}
