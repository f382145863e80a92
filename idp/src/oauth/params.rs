//! Request parameters from a query string or form body, parsed once at the edge.
//!
//! RFC 6749 §3.1: parameters sent without a value are treated as omitted, and parameters
//! must not be included more than once; duplicates are collected so the caller can answer
//! `invalid_request` at the right point (an error page before the client is known, a
//! redirect after).

use super::error::OAuthError;
use std::collections::HashMap;

/// Longest single parameter value accepted (a request object or assertion fits; a 100 KB
/// `state` does not).
pub const MAX_VALUE_LEN: usize = 16 * 1024;

/// Parsed parameters.
#[derive(Debug, Default, Clone)]
pub struct Params {
    map: HashMap<String, String>,
    /// Names that appeared more than once.
    pub duplicates: Vec<String>,
    /// Names whose value exceeded [`MAX_VALUE_LEN`].
    pub oversized: Vec<String>,
    /// A `resource` value held white space, so it cannot be one URI (RFC 8707 §2).
    pub bad_resource: bool,
}

/// The one parameter that may be given more than once: each `resource` names a resource
/// server (RFC 8707 §2). Its values are kept in one entry, joined by spaces (a URI has none).
pub const RESOURCE: &str = "resource";

impl Params {
    /// Parses a raw query string (absent = no parameters).
    pub fn from_query(q: Option<&str>) -> Params {
        Params::parse(q.unwrap_or_default().as_bytes())
    }

    /// Parses `application/x-www-form-urlencoded` bytes.
    pub fn parse(raw: &[u8]) -> Params {
        let mut p = Params::default();
        for (k, v) in form_urlencoded::parse(raw) {
            if v.is_empty() {
                continue;
            }
            if v.len() > MAX_VALUE_LEN {
                p.oversized.push(k.chars().take(64).collect());
                continue;
            }
            if k == RESOURCE {
                p.bad_resource |= v.contains(char::is_whitespace);
                p.add_resource(&v);
                continue;
            }
            if p.map.contains_key(k.as_ref()) {
                if !p.duplicates.iter().any(|d| d == k.as_ref()) {
                    p.duplicates.push(k.chars().take(64).collect());
                }
                continue;
            }
            p.map.insert(k.into_owned(), v.into_owned());
        }
        p
    }

    /// Adds a `resource` value to those given.
    pub fn add_resource(&mut self, v: &str) {
        match self.map.get_mut(RESOURCE) {
            Some(all) => {
                all.push(' ');
                all.push_str(v);
            }
            None => {
                self.map.insert(RESOURCE.to_owned(), v.to_owned());
            }
        }
    }

    /// The `resource` values given, in order.
    pub fn resources(&self) -> Vec<&str> {
        self.get(RESOURCE)
            .map(|v| v.split(' ').collect())
            .unwrap_or_default()
    }

    /// A parameter's value.
    pub fn get(&self, k: &str) -> Option<&str> {
        self.map.get(k).map(String::as_str)
    }

    /// Whether a parameter is present.
    pub fn has(&self, k: &str) -> bool {
        self.map.contains_key(k)
    }

    /// A required parameter, or `invalid_request` naming it.
    pub fn require(&self, k: &'static str) -> Result<&str, OAuthError> {
        self.get(k)
            .ok_or_else(|| OAuthError::invalid_request(format!("missing required parameter {k}")))
    }

    /// `invalid_request` if any parameter was duplicated or oversized.
    pub fn check_well_formed(&self) -> Result<(), OAuthError> {
        if let Some(d) = self.duplicates.first() {
            return Err(OAuthError::invalid_request(format!(
                "parameter {d} is included more than once"
            )));
        }
        if let Some(o) = self.oversized.first() {
            return Err(OAuthError::invalid_request(format!(
                "parameter {o} is too long"
            )));
        }
        Ok(())
    }

    /// Sets or replaces a value (used when resuming a stored request).
    pub fn set(&mut self, k: &str, v: String) {
        self.map.insert(k.to_owned(), v);
    }

    /// Removes a parameter.
    pub fn remove(&mut self, k: &str) {
        self.map.remove(k);
    }

    /// All parameters, for storing an authorization request.
    pub fn into_map(self) -> HashMap<String, String> {
        self.map
    }

    /// Rebuilds from a stored map.
    pub fn from_map(map: HashMap<String, String>) -> Params {
        Params {
            map,
            ..Default::default()
        }
    }
}
