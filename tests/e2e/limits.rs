//! What keeps one address, or a flood, from filling the short-lived state: a limit on the
//! authorization requests an address may start a minute (those that open a sign-in at
//! `/authorize`, and device requests, together; an IPv6 address with its /64; single
//! sign-on is not counted), and a bound on what the in-process cache holds, past which new
//! state is refused and nothing live is evicted.

use crate::helpers::*;
use crate::on_both_store_kinds;
use idp::oauth::types::GrantType;

on_both_store_kinds!(authorization_requests_are_limited_per_address);

/// GET `url` as a browser coming through the trusted proxy from `from`.
async fn authorize_from(url: &str, from: &str) -> reqwest::Response {
    http()
        .get(url)
        .header("x-forwarded-for", from)
        .send()
        .await
        .expect("authorize")
}

/// A device's `POST /device_authorization` as the public client `device`, coming through
/// the trusted proxy from `from` (where no proxy is trusted the header is ignored).
async fn device_from(app: &TestApp, device: &Rp, from: &str) -> reqwest::Response {
    http()
        .post(app.url("/device_authorization"))
        .header("x-forwarded-for", from)
        .form(&[("client_id", device.id.as_str()), ("scope", "openid")])
        .send()
        .await
        .expect("device authorization")
}

/// The error a refused authorization request sends back to the client, checked for the
/// parts every refusal has (RFC 6749 §4.1.2.1, RFC 9207).
fn refused(app: &TestApp, r: &reqwest::Response) -> (String, String) {
    assert_eq!(
        r.status().as_u16(),
        303,
        "the refusal goes back to the client"
    );
    assert!(
        r.headers().get("set-cookie").is_none(),
        "a refused request starts no interaction"
    );
    let loc = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .expect("location");
    let u = url::Url::parse(loc).expect("redirect URL");
    assert!(loc.starts_with("http://127.0.0.1:9/cb?"), "{loc}");
    assert_eq!(Landed::param(&u, "state").as_deref(), Some("st-123"));
    assert_eq!(Landed::param(&u, "iss").as_deref(), Some(app.base.as_str()));
    (
        Landed::param(&u, "error").unwrap_or_default(),
        Landed::param(&u, "error_description").unwrap_or_default(),
    )
}

async fn authorization_requests_are_limited_per_address(store: Store) {
    let Some(app) = spawn_configured(store, |c| {
        c.authorization_requests_per_minute = 3;
        c.trusted_proxies = vec!["127.0.0.1".parse().expect("address")];
    })
    .await
    else {
        return;
    };
    let rp = app.confidential().await;
    let device = app.public_client(&[GrantType::DeviceCode]).await;
    let (url, _) = authorize_url(&app, &rp, &[("ui_locales", "en")]);
    // Three sign-ins start from one address: each gets its login page.
    for _ in 0..3 {
        let r = authorize_from(&url, "203.0.113.7").await;
        assert_eq!(r.status().as_u16(), 200);
        assert!(r.headers().get("set-cookie").is_some());
    }
    // The fourth goes back to the client, which is told to try again later.
    let r = authorize_from(&url, "203.0.113.7").await;
    let (error, description) = refused(&app, &r);
    assert_eq!(error, "temporarily_unavailable");
    assert!(
        description.starts_with("too many authorization requests from this address; try again in "),
        "{description}"
    );
    let wait: u64 = description
        .trim_start_matches("too many authorization requests from this address; try again in ")
        .trim_end_matches(" s")
        .parse()
        .expect("seconds");
    assert!((1..=120).contains(&wait), "{wait}");
    // A bad request is answered as before: the limit counts only requests that would start
    // something, and an unknown client is never redirected to.
    let (bad, _) = authorize_url(&app, &rp, &[("client_id", "vhc_nobody")]);
    assert_eq!(authorize_from(&bad, "203.0.113.7").await.status(), 400);
    // The device endpoint counts with the same address: a 429 with Retry-After, as JSON.
    let r = device_from(&app, &device, "203.0.113.7").await;
    assert_eq!(r.status().as_u16(), 429);
    let retry: u64 = r
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After");
    assert!((1..=120).contains(&retry), "{retry}");
    let v: serde_json::Value = r.json().await.expect("JSON");
    assert_eq!(v["error"], "temporarily_unavailable");
    assert!(v["error_description"]
        .as_str()
        .is_some_and(|d| d.contains("try again in")));
    // Another address is not held back by the first one's count.
    let r = authorize_from(&url, "198.51.100.20").await;
    assert_eq!(r.status().as_u16(), 200);
    let r = device_from(&app, &device, "198.51.100.20").await;
    assert_eq!(r.status().as_u16(), 200);
    // An IPv6 address counts with its /64: three addresses of one /64 share a count...
    for from in ["2001:db8:7:1::a", "2001:db8:7:1::b", "2001:db8:7:1:ffff::c"] {
        assert_eq!(authorize_from(&url, from).await.status().as_u16(), 200);
    }
    let (error, _) = refused(&app, &authorize_from(&url, "2001:db8:7:1::d").await);
    assert_eq!(error, "temporarily_unavailable");
    // ...and the next /64 has its own.
    let r = authorize_from(&url, "2001:db8:7:2::a").await;
    assert_eq!(r.status().as_u16(), 200);
    // Without a trusted proxy's header the peer (127.0.0.1 here) is the address, with its
    // own count: alice signs in (one), two more sign-ins start (three), the next is refused.
    app.user("alice", "correct horse battery").await;
    let alice = Browser::new();
    let cb = alice
        .sign_in_at(&app.base, &url, "alice", "correct horse battery")
        .await;
    assert!(Landed::param(&cb, "code").is_some(), "{cb}");
    for _ in 0..2 {
        let r = http().get(&url).send().await.expect("authorize");
        assert_eq!(r.status().as_u16(), 200);
    }
    let r = http().get(&url).send().await.expect("authorize");
    assert_eq!(refused(&app, &r).0, "temporarily_unavailable");
    // Requests her session answers at once start nothing and are not counted: single
    // sign-on and prompt=none still give her codes from the same address.
    for extra in [vec![("ui_locales", "en")], vec![("prompt", "none")]] {
        let (again, _) = authorize_url(&app, &rp, &extra);
        let cb = alice.get(&app.base, &again).await.redirect();
        assert!(Landed::param(&cb, "code").is_some(), "{cb}");
    }
    // But one that asks her to sign in again (prompt=login) starts an interaction: refused.
    let (relogin, _) = authorize_url(&app, &rp, &[("prompt", "login")]);
    let cb = alice.get(&app.base, &relogin).await.redirect();
    assert_eq!(
        Landed::param(&cb, "error").as_deref(),
        Some("temporarily_unavailable")
    );
}

/// A cache at its bound refuses new state (a sign-in, a device request) with
/// `temporarily_unavailable`, keeps what it holds (a session made before), and takes new
/// state again once room is made. In-process cache only: Redis is bounded by its own
/// `maxmemory`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_cache_refuses_new_state_and_keeps_what_it_holds() {
    let app = spawn_configured(Store::Embedded, |c| c.cache_max_mb = 16)
        .await
        .expect("embedded app");
    let rp = app.confidential().await;
    let device = app.public_client(&[GrantType::DeviceCode]).await;
    app.user("alice", "correct horse battery").await;
    // Alice signs in before the cache fills: her browser holds a session.
    let alice = Browser::new();
    let (url, _) = authorize_url(&app, &rp, &[("ui_locales", "en")]);
    let cb = alice
        .sign_in_at(&app.base, &url, "alice", "correct horse battery")
        .await;
    assert!(Landed::param(&cb, "code").is_some(), "{cb}");
    // Filled to the brim with what nobody will read, for an hour: large values first, then
    // smaller ones into what is left of each shard, each size until two hundred writes in a
    // row are refused (a shard with room escapes that about once in 400 000).
    let hour = std::time::Duration::from_secs(3600);
    let mut filler = Vec::new();
    for size in [64 << 10, 4 << 10, 256, 16] {
        let value = vec![b'x'; size];
        let (mut refused_in_a_row, mut i) = (0, 0);
        while refused_in_a_row < 200 {
            i += 1;
            let key = format!("filler:{size}:{i}");
            match app.app.cache.put(&key, &value, hour).await {
                Ok(()) => {
                    filler.push(key);
                    refused_in_a_row = 0;
                }
                Err(idp::cache::CacheError::Full) => refused_in_a_row += 1,
                Err(e) => panic!("unexpected cache error: {e}"),
            }
            assert!(filler.len() < 200_000, "16 MiB never filled");
        }
    }
    assert!(filler.len() >= 200, "filled at {} entries", filler.len());
    // A new sign-in is refused back to the client, without storing anything.
    let r = http().get(&url).send().await.expect("authorize");
    let (error, description) = refused(&app, &r);
    assert_eq!(error, "temporarily_unavailable");
    assert!(description.contains("at capacity"), "{description}");
    // So is a device's request (503, the RFC's code).
    let r = device_from(&app, &device, "127.0.0.1").await;
    assert_eq!(r.status().as_u16(), 503);
    let v: serde_json::Value = r.json().await.expect("JSON");
    assert_eq!(v["error"], "temporarily_unavailable");
    // Alice's session is still there: her account page opens.
    let (status, _, page) = alice.get(&app.base, &app.url("/account")).await.page();
    assert_eq!(status, 200);
    assert!(page.contains("alice"), "{page}");
    // Room made, new state is taken again.
    for key in &filler {
        app.app.cache.delete(key).await.expect("delete");
    }
    let r = http().get(&url).send().await.expect("authorize");
    assert_eq!(r.status().as_u16(), 200);
}
