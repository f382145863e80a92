//! vhod serving TLS itself: TLS 1.3 only, an https issuer, HSTS, and `__Host-` + Secure
//! cookies.

use crate::helpers::*;
use std::sync::Arc;
use vhod::config::{Config, TlsConfig};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_server_speaks_only_tls13_and_sets_secure_cookies() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let ck =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".into(), "localhost".into()]).unwrap();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
    let tls_cfg = TlsConfig { cert, key };
    let mut c = test_config(Store::Embedded, dir.path(), None)
        .await
        .unwrap();
    c.tls = Some(tls_cfg.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    c.listen = listener.local_addr().unwrap();
    let issuer = c.issuer();
    assert!(issuer.starts_with("https://"), "{issuer}");
    let clock = keys::ManualClock::new(keys::Clock::now(&keys::SystemClock));
    let app = vhod::build(&c, Arc::new(clock)).await.unwrap();
    let tls = vhod::load_tls(&tls_cfg).unwrap();
    tokio::spawn(vhod::serve_on(
        listener,
        app.clone(),
        std::time::Duration::from_secs(1),
        Some(tls),
    ));

    let root = reqwest::Certificate::from_pem(ck.cert.pem().as_bytes()).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(root.clone())
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .unwrap();
    let r = client
        .get(format!("{issuer}/.well-known/openid-configuration"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["strict-transport-security"]
        .to_str()
        .unwrap()
        .contains("max-age="));
    let d: serde_json::Value = r.json().await.unwrap();
    assert_eq!(d["issuer"], issuer.as_str());

    // TLS 1.2 is refused.
    let old = reqwest::Client::builder()
        .add_root_certificate(root)
        .max_tls_version(reqwest::tls::Version::TLS_1_2)
        .build()
        .unwrap();
    assert!(
        old.get(format!("{issuer}/healthz")).send().await.is_err(),
        "TLS 1.2 must fail"
    );

    // Cookies over TLS: Secure, and the session cookie is __Host- prefixed.
    let t = TestApp::from_parts(issuer.clone(), app, dir);
    let rp = t.confidential().await;
    t.user("alice", "correct horse battery").await;
    let (url, _) = authorize_url(&t, &rp, &[]);
    // The login page comes with the cookie that ties the interaction to this browser.
    let r = client.get(&url).send().await.unwrap();
    let set = r.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(set.contains("Secure") && set.contains("HttpOnly"), "{set}");
    let html = r.text().await.unwrap();
    let mut form = hidden_inputs(&html);
    form.push(("login".into(), "alice".into()));
    form.push(("password".into(), "correct horse battery".into()));
    let action = form_action(&html).unwrap();
    let r = client
        .post(format!("{issuer}{action}"))
        .form(&form)
        .send()
        .await
        .unwrap();
    let cookies: Vec<String> = r
        .headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    assert!(
        cookies.iter().any(|c| c.starts_with("__Host-vhod_session=")
            && c.contains("Secure")
            && c.contains("Path=/")),
        "{cookies:?}"
    );
}

#[test]
fn production_accepts_a_public_address_only_with_tls() {
    let mut c = Config {
        mode: vhod::config::Mode::Production,
        kek: Some("A".repeat(43) + "="),
        ..Config::default()
    };
    c.listen = "0.0.0.0:8443".parse().unwrap();
    c.issuer = Some("https://id.example".into());
    assert!(c.validate().is_err());
    c.tls = Some(TlsConfig {
        cert: "c.pem".into(),
        key: "k.pem".into(),
    });
    assert!(c.validate().is_ok());
}
