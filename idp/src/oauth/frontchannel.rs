//! OpenID Connect Front-Channel Logout 1.0: when a person signs out at the logout endpoint,
//! the page that tells them so also loads, in an invisible iframe, the
//! `frontchannel_logout_uri` of every client that has tokens from the session that ended
//! (§3), with `iss` and `sid` when the client registered
//! `frontchannel_logout_session_required` (§2). Each client's page then clears that client's
//! own session in the browser. Then the browser goes on to the `post_logout_redirect_uri`,
//! if one was given: as soon as every iframe has loaded (a small script), and after
//! [`WAIT_SECS`] at most (a `Refresh` header, which needs no script), with a link to follow
//! by hand meanwhile.
//!
//! Only the logout endpoint's own page can do this: a session ended elsewhere (a password
//! change, "sign out everywhere else", the account deleted) has no page in each browser
//! concerned, and its clients hear of it over the back channel
//! ([`crate::oauth::backchannel`]).
//!
//! A client's front-channel URI must have the scheme, host and port of one of its registered
//! redirect URIs (§2: "MUST be the same"), so that registering one lets a client frame
//! nothing but its own pages; and like the other URLs a client registers for the provider
//! (its key set's, its back-channel logout URI), it is `https`, or plain `http` on a
//! loopback host.

use crate::app::App;
use crate::i18n::Lang;
use crate::store::Client;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::Response;
use minijinja::context;

/// How long the logout page waits for the clients' pages before it goes on without them.
pub const WAIT_SECS: u32 = 3;

/// Whether `uri` may be registered as the front-channel logout URI of a client with
/// `redirect_uris`.
pub fn check_uri(uri: &str, redirect_uris: &[String]) -> Result<(), String> {
    crate::oauth::client_keys::check_jwks_uri(uri).map_err(str::to_owned)?;
    let own = origin(uri);
    let shared = own.is_some() && redirect_uris.iter().any(|r| origin(r) == own);
    if !shared {
        return Err(
            "must have the scheme, host and port of one of the client's redirect URIs".into(),
        );
    }
    Ok(())
}

/// `scheme://host:port` of `uri`, for URLs that have one.
fn origin(uri: &str) -> Option<String> {
    url::Url::parse(uri)
        .ok()
        .map(|u| u.origin().ascii_serialization())
        .filter(|o| o != "null")
}

/// The iframe address for `client` when session `sid` ends, if it registered a front-channel
/// logout URI: the URI as registered, with `iss` and `sid` added when it asked for them.
pub fn frame_of(issuer: &str, client: &Client, sid: &str) -> Option<String> {
    let uri = client.frontchannel_logout_uri.as_deref()?;
    if !client.frontchannel_logout_session_required {
        return Some(uri.to_owned());
    }
    let mut u = url::Url::parse(uri).ok()?;
    u.query_pairs_mut()
        .append_pair("iss", issuer)
        .append_pair("sid", sid);
    Some(u.into())
}

/// The iframe addresses for the clients that have tokens from session `sid` of
/// `account_id`. A failure to read is logged and leaves the client (or all) out: a logout
/// never fails for it, and the back channel still tells the clients that registered one.
pub async fn frames(app: &App, account_id: &str, sid: &str) -> Vec<String> {
    let ids = app
        .db
        .grants()
        .clients_of_session(account_id, sid)
        .await
        .unwrap_or_else(|e| {
            tracing::error!(error = %e, "clients of an ending session not found; no front-channel logout");
            Vec::new()
        });
    let mut out = Vec::new();
    for id in ids {
        match app.client(&id).await {
            Ok(Some(c)) => out.extend(frame_of(&app.settings.issuer, &c, sid)),
            Ok(None) => {}
            Err(e) => {
                tracing::error!(error = %e, client_id = %id, "client not read; no front-channel logout for it");
            }
        }
    }
    out
}

/// The logout page that loads `frames` and then goes on to `next`, if given.
pub fn page(app: &App, lang: Lang, frames: &[String], next: Option<&str>) -> Response {
    let nonce = crate::crypto::random_token(16);
    let mut r = app.pages.page(
        StatusCode::OK,
        "logout.html",
        lang,
        context! { done => true, frames, next, nonce => &nonce },
    );
    let h = r.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&csp(frames, &nonce)) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    if let Some(v) = next.and_then(|n| HeaderValue::from_str(&format!("{WAIT_SECS}; url={n}")).ok())
    {
        h.insert(header::REFRESH, v);
    }
    r
}

/// The page's policy: the site's own, with the clients' origins allowed in frames and the
/// one script (which waits for them) allowed by its nonce.
fn csp(frames: &[String], nonce: &str) -> String {
    let mut origins: Vec<String> = frames.iter().filter_map(|f| origin(f)).collect();
    origins.sort();
    origins.dedup();
    let frame_src = if origins.is_empty() {
        "'none'".to_owned()
    } else {
        origins.join(" ")
    };
    format!(
        "default-src 'none'; script-src 'nonce-{nonce}'; style-src 'self'; img-src 'self' data:; \
         frame-src {frame_src}; frame-ancestors 'none'; base-uri 'none'"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_uri_shares_an_origin_with_a_redirect_uri() {
        let redirects = vec![
            "https://rp.example/cb".to_owned(),
            "http://127.0.0.1:8081/cb".to_owned(),
        ];
        assert_eq!(
            check_uri("https://rp.example/logout?x=1", &redirects),
            Ok(())
        );
        assert_eq!(check_uri("https://rp.example:443/fc", &redirects), Ok(()));
        assert_eq!(check_uri("http://127.0.0.1:8081/fc", &redirects), Ok(()));
        for other in [
            "https://rp.example:8443/fc",
            "https://evil.example/fc",
            "http://rp.example/fc",
            "http://127.0.0.1:8082/fc",
        ] {
            assert!(check_uri(other, &redirects).is_err(), "{other}");
        }
        assert!(check_uri("https://rp.example/fc#frag", &redirects).is_err());
        assert!(check_uri("https://u:p@rp.example/fc", &redirects).is_err());
        assert!(check_uri("/fc", &redirects).is_err());
    }

    #[test]
    fn the_policy_frames_the_clients_origins_only() {
        let p = csp(
            &[
                "https://a.example/fc?iss=x".into(),
                "https://a.example/other".into(),
                "http://127.0.0.1:9/fc".into(),
            ],
            "N",
        );
        assert!(
            p.contains("frame-src http://127.0.0.1:9 https://a.example;"),
            "{p}"
        );
        assert!(p.contains("script-src 'nonce-N';"), "{p}");
        assert!(p.contains("frame-ancestors 'none'"), "{p}");
        assert!(csp(&[], "N").contains("frame-src 'none';"));
    }
}
