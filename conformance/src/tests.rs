//! Unit tests: the HTML form reader and browser driver (HTML §4.10 forms, character
//! references; OAuth 2.0 Form Post Response Mode §2), redaction, and ID Token validation
//! (OIDC Core §3.1.3.7, §3.1.3.6 at_hash) with ES256 keys made on the spot.

use crate::browser::{fill, Browser, Outcome};
use crate::config;
use crate::html::{forms, iframe_sources, refresh_url, unescape};
use crate::http::{Http, Log};
use crate::idtoken::{validate, Expect};
use crate::jose::{b64e, half_hash};
use ring::rand::SystemRandom;
use ring::signature::{EcdsaKeyPair, KeyPair, ECDSA_P256_SHA256_FIXED_SIGNING};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[test]
fn unescapes_attribute_values() {
    assert_eq!(
        unescape("https:&#x2f;&#x2F;a&#47;b?x=1&amp;y=&lt;2&gt;&quot;"),
        "https://a/b?x=1&y=<2>\""
    );
    assert_eq!(unescape("a & b &unknown; &#xZZ;"), "a & b &unknown; &#xZZ;");
}

#[test]
fn reads_forms_with_hidden_inputs_and_buttons() {
    let page = r#"<html><script>var s = "<form action='/evil'>";</script>
      <form method=POST action="&#x2f;login?x=1&amp;y=2"><input type="hidden" name="csrf" value='t&#x2f;k'>
      <input name=login><input type="password" name="password"><!-- <input name="ghost"> -->
      <button name="go" value="1">Sign in</button></form>
      <form action="/consent" method="post"><button name="decision" value="deny">No</button>
      <button type="submit" name="decision" value="allow">Yes</button><input type=checkbox name=remember></form>"#;
    let f = forms(page);
    assert_eq!(f.len(), 2);
    assert_eq!(f[0].action.as_deref(), Some("/login?x=1&y=2"));
    assert_eq!(f[0].method, "post");
    let names: Vec<_> = f[0].fields.iter().filter_map(|i| i.name.clone()).collect();
    assert_eq!(names, ["csrf", "login", "password", "go"]);
    assert_eq!(f[0].fields[0].value, "t/k");
    // Unchecked checkboxes and unchosen buttons are not submitted.
    assert_eq!(
        fill(&f[1], Some(1)),
        vec![("decision".to_owned(), "allow".to_owned())]
    );
    let b = Browser::new(http(), user(), config::Browser::default());
    let (form, button) = b.pick_consent(&f[1..]).expect("consent form");
    assert_eq!(form.fields[button.expect("button")].value, "allow");
}

#[test]
fn redacts_secrets() {
    let r = crate::redact::form("code=abc&state=s&client_secret=x&password=p", "password");
    assert_eq!(
        r,
        "code=%5Bredacted%5D&state=s&client_secret=%5Bredacted%5D&password=%5Bredacted%5D"
    );
    assert_eq!(
        crate::redact::header("Authorization", "Basic Zm9vOmJhcg=="),
        "Basic [redacted]"
    );
    let j = crate::redact::body(
        r#"{"access_token":"a","token_type":"Bearer"}"#,
        "application/json",
        "password",
    );
    assert!(!j.contains("\"a\"") && j.contains("Bearer"));
    let h = crate::redact::body(
        r#"<form><input type=hidden name="code" value="SECRET"></form>"#,
        "text/html",
        "password",
    );
    assert!(!h.contains("SECRET"));
}

fn http() -> Http {
    Http::new(Log::default(), "password", None).expect("client")
}

fn user() -> config::User {
    config::User {
        login: "alice".into(),
        password: "pw d".into(),
    }
}

/// A tiny OP: authorize → login (CSRF) → consent (deny first) → form_post to the client.
async fn fake_op() -> String {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", l.local_addr().expect("addr"));
    tokio::spawn(async move {
        // Whether the front-channel logout page's iframe was loaded.
        let mut frame_loaded = false;
        while let Ok((mut s, _)) = l.accept().await {
            let mut buf = vec![0u8; 8192];
            let n = s.read(&mut buf).await.unwrap_or(0);
            let req = String::from_utf8_lossy(&buf[..n]).to_string();
            let line = req.lines().next().unwrap_or("").to_owned();
            let (status, extra, body) = if line.starts_with("GET /authorize") {
                (
                    "302 Found",
                    "location: /login\r\nset-cookie: sid=1; Path=/\r\n",
                    String::new(),
                )
            } else if line.starts_with("GET /login") {
                ("200 OK", "", r#"<form method="post" action="&#x2f;login"><input type="hidden" name="csrf" value="c&amp;1"><input name="login"><input type="password" name="password"><button>Go</button></form>"#.to_owned())
            } else if line.starts_with("POST /login") {
                let ok = req.contains("cookie: sid=1")
                    && req.ends_with("csrf=c%261&login=alice&password=pw+d");
                if ok {
                    ("302 Found", "location: /consent\r\n", String::new())
                } else {
                    ("403 Forbidden", "", "bad login".to_owned())
                }
            } else if line.starts_with("GET /consent") {
                ("200 OK", "", r#"<form method="post" action="/consent"><input type="hidden" name="csrf" value="c2"><button name="decision" value="deny">Deny</button><button name="decision" value="allow">Allow</button></form>"#.to_owned())
            } else if line.starts_with("POST /consent") && req.ends_with("csrf=c2&decision=allow") {
                ("200 OK", "", r#"<body onload="document.forms[0].submit()"><form method="post" action="http://127.0.0.1:9/cb"><input type="hidden" name="code" value="C&#x2f;1"><input type="hidden" name="state" value="st"></form>"#.to_owned())
            } else if line.starts_with("GET /fc-logout-header") {
                // Front-channel logout: a page with the client's page in an iframe (and one
                // in a comment, which a browser does not load) that moves on by a header.
                ("200 OK", "refresh: 3; url=/after-fc\r\n", r#"<p>Signed out</p><!-- <iframe src="/ghost"></iframe> --><iframe class="fc" src="/fc?from=op&amp;sid=1"></iframe>"#.to_owned())
            } else if line.starts_with("GET /fc-logout-meta") {
                ("200 OK", "", r#"<head><meta http-equiv="Refresh" content="0;URL='/after-fc'"></head><iframe src="/fc?sid=2"></iframe>"#.to_owned())
            } else if line.starts_with("GET /fc?") {
                frame_loaded = true;
                ("200 OK", "", String::new())
            } else if line.starts_with("GET /after-fc") && frame_loaded {
                frame_loaded = false;
                (
                    "302 Found",
                    "location: http://127.0.0.1:9/cb?state=fc\r\n",
                    String::new(),
                )
            } else if line.starts_with("GET /logout") {
                // node-oidc-provider's shape: buttons outside the form, tied by form="id".
                ("200 OK", "", r#"<form id="op.logoutForm" method="post" action="/logout/confirm"><input type="hidden" name="xsrf" value="x1"></form><button type="submit" form="op.logoutForm" value="yes" name="logout">Yes</button><button type="submit" form="op.logoutForm">No</button>"#.to_owned())
            } else if line.starts_with("POST /logout/confirm")
                && req.ends_with("xsrf=x1&logout=yes")
            {
                // A form_post answer with an error status must still be followed.
                ("400 Bad Request", "", r#"<form method="post" action="http://127.0.0.1:9/cb"><input type="hidden" name="error" value="login_required"></form>"#.to_owned())
            } else {
                ("400 Bad Request", "", format!("unexpected {line}"))
            };
            let resp = format!("HTTP/1.1 {status}\r\n{extra}content-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
            let _ = s.write_all(resp.as_bytes()).await;
        }
    });
    base
}

#[tokio::test]
async fn drives_login_consent_and_form_post() {
    let base = fake_op().await;
    let b = Browser::new(http(), user(), config::Browser::default());
    let start = url::Url::parse(&format!("{base}/authorize?client_id=x")).expect("url");
    let stop = [url::Url::parse("http://127.0.0.1:9/cb").expect("url")];
    let flow = b.authorize(&start, false, &stop).await.expect("flow");
    assert!(flow.login_shown && flow.consent_shown);
    match flow.outcome {
        Outcome::Redirect {
            params, form_post, ..
        } => {
            assert!(form_post);
            assert_eq!(params.get("code").map(String::as_str), Some("C/1"));
            assert_eq!(params.get("state").map(String::as_str), Some("st"));
        }
        Outcome::Page { status, html, .. } => panic!("stuck at page {status}: {html}"),
    }
}

/// An ES256 key pair and its JWKS.
fn es256() -> (EcdsaKeyPair, Value) {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).expect("gen");
    let kp = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
        .expect("kp");
    let p = kp.public_key().as_ref().to_vec();
    let jwks = json!({"keys": [{"kty": "EC", "crv": "P-256", "kid": "k1", "use": "sig",
        "x": b64e(&p[1..33]), "y": b64e(&p[33..65])}]});
    (kp, jwks)
}

fn sign(kp: &EcdsaKeyPair, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        b64e(br#"{"alg":"ES256","kid":"k1"}"#),
        b64e(claims.to_string().as_bytes())
    );
    let sig = kp
        .sign(&SystemRandom::new(), input.as_bytes())
        .expect("sign");
    format!("{input}.{}", b64e(sig.as_ref()))
}

#[test]
fn validates_id_tokens() {
    let (kp, jwks) = es256();
    let now = 1_700_000_000;
    let good = json!({"iss": "https://op", "aud": "c1", "sub": "u1", "exp": now + 300, "iat": now,
        "nonce": "n1", "auth_time": now - 5, "at_hash": half_hash("ES256", "AT").expect("hash")});
    let exp = Expect {
        issuer: "https://op".into(),
        client_id: "c1".into(),
        nonce: Some("n1".into()),
        access_token: Some("AT".into()),
        require_auth_time: true,
        algs: Some(vec!["ES256".into()]),
    };
    let t = validate(&sign(&kp, &good), &jwks, &exp, now).expect("valid");
    assert_eq!((t.sub.as_str(), t.auth_time), ("u1", Some(now - 5)));

    let bad = |patch: Value, e: &Expect| {
        let mut c = good.clone();
        for (k, v) in patch.as_object().expect("obj") {
            c[k] = v.clone();
        }
        validate(&sign(&kp, &c), &jwks, e, now)
            .expect_err("must fail")
            .to_string()
    };
    assert!(bad(json!({"iss": "https://evil"}), &exp).contains("iss"));
    assert!(bad(json!({"aud": ["c1", "c2"]}), &exp).contains("azp"));
    assert!(bad(json!({"exp": now - 60}), &exp).contains("expired"));
    assert!(bad(json!({"nonce": "other"}), &exp).contains("nonce"));
    assert!(bad(json!({"at_hash": "AAAA"}), &exp).contains("at_hash"));
    assert!(bad(json!({"auth_time": null}), &exp).contains("auth_time"));
    let strict = Expect {
        algs: Some(vec!["RS256".into()]),
        ..exp.clone()
    };
    assert!(bad(json!({}), &strict).contains("alg"));

    // Tampered payload, and an unsigned token.
    let tok = sign(&kp, &good);
    let parts: Vec<&str> = tok.split('.').collect();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        b64e(json!({"sub": "admin"}).to_string().as_bytes()),
        parts[2]
    );
    assert!(validate(&forged, &jwks, &exp, now).is_err());
    let none = format!("{}.{}.", b64e(br#"{"alg":"none"}"#), parts[1]);
    assert!(validate(&none, &jwks, &exp, now)
        .expect_err("none")
        .to_string()
        .contains("unsigned"));
}

#[tokio::test]
async fn logout_confirmation_uses_form_owner_and_form_post_on_error_status() {
    let base = fake_op().await;
    let b = Browser::new(http(), user(), config::Browser::default());
    let start = url::Url::parse(&format!("{base}/logout")).expect("url");
    let stop = [url::Url::parse("http://127.0.0.1:9/cb").expect("url")];
    let flow = b.logout(&start, &stop, true).await.expect("flow");
    assert!(flow.consent_shown, "the confirmation was submitted");
    match flow.outcome {
        Outcome::Redirect {
            params, form_post, ..
        } => {
            assert!(form_post);
            assert_eq!(
                params.get("error").map(String::as_str),
                Some("login_required")
            );
        }
        Outcome::Page { status, html, .. } => panic!("stuck at page {status}: {html}"),
    }
    // Not confirming ends at the confirmation page.
    let flow = b.logout(&start, &stop, false).await.expect("flow");
    assert!(!flow.consent_shown);
    assert!(matches!(flow.outcome, Outcome::Page { status: 200, .. }));
    let f = forms(
        r#"<form id="f" action="/x"></form><input form="f" name="a" value="1"><input form="nope" name="b">"#,
    );
    assert_eq!(
        f[0].fields.len(),
        1,
        "only controls naming an existing form join it"
    );
}

/// Front-Channel Logout 1.0 §3 as a browser without scripts does it: the logout page's
/// iframes are loaded before its `Refresh` header or meta refresh is followed.
#[tokio::test]
async fn a_front_channel_logout_page_loads_its_iframes_then_moves_on() {
    let base = fake_op().await;
    let b = Browser::new(http(), user(), config::Browser::default());
    let stop = [url::Url::parse("http://127.0.0.1:9/cb").expect("url")];
    for page in ["fc-logout-header", "fc-logout-meta"] {
        let start = url::Url::parse(&format!("{base}/{page}")).expect("url");
        let flow = b.logout(&start, &stop, true).await.expect("flow");
        match flow.outcome {
            Outcome::Redirect { params, .. } => {
                assert_eq!(
                    params.get("state").map(String::as_str),
                    Some("fc"),
                    "{page}"
                );
            }
            Outcome::Page { status, html, .. } => {
                panic!("{page}: stuck at page {status} (iframe not loaded?): {html}")
            }
        }
    }
    assert_eq!(
        iframe_sources(
            r#"<!-- <iframe src="/a"> --><script>"<iframe src='/b'>"</script><iframe src="/c?x=1&amp;y=2"><iframe src=" ">"#
        ),
        ["/c?x=1&y=2"]
    );
    for (value, url) in [
        (
            "3; url=https://rp.example/bye?state=1",
            Some("https://rp.example/bye?state=1"),
        ),
        ("0;URL='/x'", Some("/x")),
        ("  5 , \"/y\" ", Some("/y")),
        ("2.5; /z", Some("/z")),
        ("5", None),
        ("5;", None),
        ("soon; url=/x", None),
    ] {
        assert_eq!(refresh_url(value).as_deref(), url, "{value:?}");
    }
}

/// The page readers take whatever an OP sends: non-ASCII text, tags cut off anywhere,
/// unterminated quotes and comments, without panicking.
#[test]
fn page_readers_take_any_text() {
    let page = r#"<p>Выход — готово ✓</p><iframe src="/fc?ф=1"><meta http-equiv=refresh content="0; url='/дальше'"><form action="/x"><input name="имя" value="знач"></form><!-- не закрыт <script>"#;
    for end in 0..=page.len() {
        let Some(cut) = page.get(..end) else { continue };
        let _ = forms(cut);
        let _ = iframe_sources(cut);
        let _ = crate::html::meta_refresh(cut);
        let _ = refresh_url(cut);
    }
    assert_eq!(iframe_sources(page), ["/fc?ф=1"]);
    assert_eq!(crate::html::meta_refresh(page).as_deref(), Some("/дальше"));
    assert_eq!(forms(page)[0].fields[0].value, "знач");
    for value in ["1; url=\"", "1;'", "1; URL=", "١; url=/x", "3;url=„/x“"] {
        let _ = refresh_url(value);
    }
}
