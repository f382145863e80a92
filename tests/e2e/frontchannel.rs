//! OpenID Connect Front-Channel Logout 1.0: the logout page loads, in iframes, the
//! `frontchannel_logout_uri` of each client that has tokens from the session that ends (with
//! `iss` and `sid` when the client asked for them), and of no other, then goes on to the
//! `post_logout_redirect_uri` with `state`.

use crate::helpers::*;
use crate::on_both_stores;

const PW: &str = "correct horse battery";

/// A confidential client whose front-channel logout page is `uri` (set through the store, as
/// `clients update --frontchannel-logout-uri` sets it).
async fn front_channel_client(app: &TestApp, uri: &str, session_required: bool) -> Rp {
    let rp = app.confidential().await;
    let clients = app.app.db.clients();
    let stored = clients.get(&rp.id).await.unwrap().unwrap();
    let changed = idp::store::NewClient {
        frontchannel_logout_uri: Some(uri.to_owned()),
        frontchannel_logout_session_required: session_required,
        ..stored.registration()
    };
    assert!(clients.update(&rp.id, &changed, None).await.unwrap());
    rp
}

/// The `src` of every front-channel iframe of a logout page, unescaped.
fn frames(html: &str) -> Vec<String> {
    html.split("<iframe class=\"frontchannel\" src=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(unescape)
        .collect()
}

/// The logout URL with `id_token_hint` and any `extra` parameters.
fn logout_url(app: &TestApp, id_token: &str, extra: &[(&str, &str)]) -> String {
    let mut u = url::Url::parse(&app.url("/logout")).unwrap();
    u.query_pairs_mut().append_pair("id_token_hint", id_token);
    for (k, v) in extra {
        u.query_pairs_mut().append_pair(k, v);
    }
    u.into()
}

/// What the logout endpoint answered, redirects not followed.
struct Answer {
    status: u16,
    headers: reqwest::header::HeaderMap,
    html: String,
}

impl Answer {
    /// Header `n`, or "" when absent.
    fn header(&self, n: &str) -> &str {
        self.headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

/// The logout endpoint's answer to `b` at `url`.
async fn logout_page(b: &Browser, url: String) -> Answer {
    let r = b.http.get(url).send().await.unwrap();
    let status = r.status().as_u16();
    let headers = r.headers().clone();
    let html = r.text().await.unwrap();
    Answer {
        status,
        headers,
        html,
    }
}

on_both_stores!(logout_loads_the_front_channel_pages_of_the_sessions_clients);

async fn logout_loads_the_front_channel_pages_of_the_sessions_clients(app: TestApp) {
    // Clients with a front-channel page: one asking for `iss` and `sid` (its URI has a
    // query of its own), one not; one that alice signs in to in another browser only.
    let with_sid = front_channel_client(&app, "http://127.0.0.1:9/fc?from=vhod", true).await;
    let plain = front_channel_client(&app, "http://127.0.0.1:9/fc-plain", false).await;
    let elsewhere = front_channel_client(&app, "http://127.0.0.1:9/fc-elsewhere", true).await;
    // And one without.
    let without = app.confidential().await;
    app.user("alice", PW).await;

    let b = Browser::new();
    let t = sign_in(&app, &with_sid, &b, "alice", PW).await;
    let id_token = t["id_token"].as_str().unwrap();
    let (_, claims) = verify_with_jwks(&app, id_token).await;
    let sid = claims["sid"].as_str().unwrap().to_owned();
    authorize_signed_in(&app, &plain, &b, &[]).await;
    authorize_signed_in(&app, &without, &b, &[]).await;
    let other = Browser::new();
    let other_t = sign_in(&app, &elsewhere, &other, "alice", PW).await;

    let a = logout_page(
        &b,
        logout_url(
            &app,
            id_token,
            &[
                ("post_logout_redirect_uri", &with_sid.post_logout),
                ("state", "bye & see you"),
            ],
        ),
    )
    .await;
    assert_eq!(
        a.status, 200,
        "a page, not a redirect, while clients log out"
    );
    let csp = a.header("content-security-policy");
    assert!(csp.contains("frame-src http://127.0.0.1:9;"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    let next = format!("{}?state=bye+%26+see+you", with_sid.post_logout);
    assert_eq!(a.header("refresh"), format!("3; url={next}"));
    assert!(
        a.header("set-cookie").contains("Max-Age=0"),
        "the cookie is cleared"
    );
    let mut expected_with_sid = url::Url::parse("http://127.0.0.1:9/fc?from=vhod").unwrap();
    expected_with_sid
        .query_pairs_mut()
        .append_pair("iss", &app.base)
        .append_pair("sid", &sid);
    let mut got = frames(&a.html);
    got.sort();
    let mut expected = vec![
        expected_with_sid.to_string(),
        "http://127.0.0.1:9/fc-plain".to_owned(),
    ];
    expected.sort();
    assert_eq!(
        got, expected,
        "the session's clients with a page, and no other"
    );
    assert!(a
        .html
        .contains(&format!("id=\"next\" href=\"{}\"", escape(&next))));
    let nonce = csp
        .split("'nonce-")
        .nth(1)
        .and_then(|s| s.split('\'').next())
        .unwrap();
    assert!(a.html.contains(&format!("<script nonce=\"{nonce}\">")));

    assert_eq!(
        prompt_none_error(&app, &with_sid, &b).await.as_deref(),
        Some("login_required"),
        "the session ended"
    );
    // The other browser's session goes on; logging it out, without a place to go back to,
    // shows the signed-out page with its one client's page in it and goes nowhere.
    assert_eq!(prompt_none_error(&app, &elsewhere, &other).await, None);
    let a = logout_page(
        &other,
        logout_url(&app, other_t["id_token"].as_str().unwrap(), &[]),
    )
    .await;
    assert_eq!(a.status, 200);
    assert_eq!(a.header("refresh"), "");
    let got = frames(&a.html);
    assert_eq!(got.len(), 1, "{}", a.html);
    assert!(got[0].starts_with("http://127.0.0.1:9/fc-elsewhere?iss="));
    assert!(!a.html.contains("id=\"next\""));
}

mod embedded_only {
    use super::*;

    /// A logout whose session has no client with a front-channel page redirects at once, as
    /// before; and a client's page is loaded only for sessions it has tokens from.
    #[tokio::test]
    async fn without_front_channel_clients_logout_redirects_at_once() {
        let app = spawn_app(Store::Embedded).await.unwrap();
        let rp = app.confidential().await;
        front_channel_client(&app, "http://127.0.0.1:9/fc", true).await;
        app.user("alice", PW).await;
        let b = Browser::new();
        let t = sign_in(&app, &rp, &b, "alice", PW).await;
        let url = logout_url(
            &app,
            t["id_token"].as_str().unwrap(),
            &[("post_logout_redirect_uri", &rp.post_logout)],
        );
        let back = b.get(&app.base, &url).await.redirect();
        assert!(back.as_str().starts_with(&rp.post_logout));
    }
}

/// HTML-escapes an attribute value the way the template engine does.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('"', "&quot;")
        .replace('\'', "&#x27;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('/', "&#x2f;")
}
