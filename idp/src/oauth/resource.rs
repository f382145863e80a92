//! Resource Indicators (RFC 8707): a client names the resource servers it wants an access
//! token for with `resource` (once or more) at the authorization, device authorization and
//! token endpoints; each must be one it registered. The grant remembers what it was given,
//! a token request may narrow it, and the access token's `aud` is what remains (RFC 9068
//! §3). Without any, the token's audience is this provider (UserInfo, the signing API), as
//! before; a token for other resource servers is not taken there.

use crate::oauth::error::{ErrorCode, OAuthError};
use crate::oauth::params::Params;
use crate::store::Client;

/// Longest resource URI a client may register.
const MAX_LEN: usize = 2048;

fn invalid_target(d: &'static str) -> OAuthError {
    OAuthError::new(ErrorCode::InvalidTarget, d)
}

/// Whether `u` can name a resource server (RFC 8707 §2): an absolute URI without a fragment,
/// white space or control characters; the reason when it cannot.
pub fn check_uri(u: &str) -> Result<(), &'static str> {
    if u.is_empty() || u.len() > MAX_LEN {
        return Err("a resource is an absolute URI of at most 2048 characters");
    }
    if u.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("a resource URI has no white space or control characters");
    }
    let parsed = url::Url::parse(u).map_err(|_| "a resource must be an absolute URI")?;
    if parsed.fragment().is_some() {
        return Err("a resource URI must not have a fragment (RFC 8707 §2)");
    }
    Ok(())
}

/// The resources `p` asks for, each registered by `client` (in the order given, once each);
/// `invalid_target` for a malformed or unregistered one.
pub fn requested(client: &Client, p: &Params) -> Result<Vec<String>, OAuthError> {
    if p.bad_resource {
        return Err(invalid_target("a resource must be one absolute URI"));
    }
    let mut out: Vec<String> = Vec::new();
    for r in p.resources() {
        if !client.resources.iter().any(|x| x == r) {
            return Err(invalid_target(
                "a resource is not one this client is registered for",
            ));
        }
        if !out.iter().any(|x| x == r) {
            out.push(r.to_owned());
        }
    }
    Ok(out)
}

/// At the token endpoint, for a grant given `granted` (space-separated): the resources the
/// access token is for. Those `p` names, each one the grant was given (RFC 8707 §2.2);
/// without any, all the grant was given.
pub fn narrowed(granted: &str, p: &Params) -> Result<Vec<String>, OAuthError> {
    if p.bad_resource {
        return Err(invalid_target("a resource must be one absolute URI"));
    }
    let granted: Vec<&str> = granted.split(' ').filter(|x| !x.is_empty()).collect();
    let asked = p.resources();
    if asked.is_empty() {
        return Ok(granted.iter().map(|s| s.to_string()).collect());
    }
    let mut out: Vec<String> = Vec::new();
    for r in asked {
        if !granted.contains(&r) {
            return Err(invalid_target("a resource is not one this grant was given"));
        }
        if !out.iter().any(|x| x == r) {
            out.push(r.to_owned());
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_uris_are_absolute_and_without_fragments() {
        assert!(check_uri("https://api.example.gov/").is_ok());
        assert!(check_uri("urn:example:tax-api").is_ok());
        for bad in [
            "",
            "/relative",
            "api.example.gov",
            "https://api.example.gov/#part",
            "https://api.example.gov/ x",
            "https://api.example.gov/\u{7}",
        ] {
            assert!(check_uri(bad).is_err(), "{bad:?}");
        }
        assert!(check_uri(&format!("https://a.example/{}", "x".repeat(2100))).is_err());
    }

    #[test]
    fn a_token_request_narrows_what_the_grant_was_given() {
        let granted = "https://a.example/ https://b.example/";
        let p = Params::parse(b"grant_type=x");
        assert_eq!(
            narrowed(granted, &p).map_err(|e| e.code),
            Ok(vec![
                "https://a.example/".to_owned(),
                "https://b.example/".to_owned()
            ])
        );
        let p = Params::parse(b"resource=https%3A%2F%2Fb.example%2F");
        assert_eq!(
            narrowed(granted, &p).map_err(|e| e.code),
            Ok(vec!["https://b.example/".to_owned()])
        );
        let p = Params::parse(b"resource=https%3A%2F%2Fc.example%2F");
        assert_eq!(
            narrowed(granted, &p).map_err(|e| e.code),
            Err(ErrorCode::InvalidTarget)
        );
        let p = Params::parse(b"resource=https%3A%2F%2Fa.example%2F%20https%3A%2F%2Fb.example%2F");
        assert_eq!(
            narrowed(granted, &p).map_err(|e| e.code),
            Err(ErrorCode::InvalidTarget),
            "two URIs in one value"
        );
        assert_eq!(
            narrowed("", &Params::parse(b"")).map_err(|e| e.code),
            Ok(vec![])
        );
    }
}
