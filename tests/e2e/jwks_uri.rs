//! `private_key_jwt` clients whose keys vhod fetches from their `jwks_uri` (RFC 7591 §2): a set
//! is fetched once and kept, fetched again when an assertion names a key not in it (at most
//! once per cooldown, whatever the assertions claim), kept when a later fetch fails; a
//! broken key server gives `invalid_client`, never a 5xx. The key server is a real HTTP server
//! on 127.0.0.1.

use crate::helpers::*;
use crate::on_both_stores;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use idp::oauth::types::AuthMethod;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

on_both_stores!(
    keys_are_fetched_once_and_again_when_the_client_rotates,
    a_broken_key_server_gives_invalid_client_and_never_a_5xx,
);

/// What the key server answers.
#[derive(Clone)]
struct Answer {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
    delay: Duration,
}

/// A client's key server: answers `GET /jwks?case=NAME` with the answer set for NAME (a 404
/// when none is) and counts the requests per NAME.
#[derive(Clone)]
pub(crate) struct KeyServer {
    answers: Arc<Mutex<HashMap<String, Answer>>>,
    hits: Arc<Mutex<HashMap<String, usize>>>,
    total: Arc<AtomicUsize>,
    base: String,
}

async fn jwks(
    State(s): State<KeyServer>,
    Query(q): Query<HashMap<String, String>>,
) -> (StatusCode, axum::http::HeaderMap, String) {
    s.total.fetch_add(1, Ordering::SeqCst);
    let case = q.get("case").cloned().unwrap_or_default();
    *s.hits.lock().unwrap().entry(case.clone()).or_default() += 1;
    let answer = s.answers.lock().unwrap().get(&case).cloned();
    let Some(a) = answer else {
        return (StatusCode::NOT_FOUND, Default::default(), String::new());
    };
    tokio::time::sleep(a.delay).await;
    let mut headers = axum::http::HeaderMap::new();
    headers.insert("content-type", "application/json".parse().unwrap());
    for (k, v) in a.headers {
        headers.insert(k, v.parse().unwrap());
    }
    (StatusCode::from_u16(a.status).unwrap(), headers, a.body)
}

impl KeyServer {
    pub(crate) async fn start() -> KeyServer {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let s = KeyServer {
            answers: Default::default(),
            hits: Default::default(),
            total: Default::default(),
            base: format!("http://{}", l.local_addr().unwrap()),
        };
        let router = axum::Router::new()
            .route("/jwks", axum::routing::get(jwks))
            .with_state(s.clone());
        tokio::spawn(async move { axum::serve(l, router).await });
        s
    }

    /// The URI of case `name`.
    pub(crate) fn uri(&self, name: &str) -> String {
        format!("{}/jwks?case={name}", self.base)
    }

    fn answer(&self, name: &str, a: Answer) {
        self.answers.lock().unwrap().insert(name.to_owned(), a);
    }

    /// Case `name` answers `status` with `body`.
    pub(crate) fn serve(&self, name: &str, status: u16, body: impl Into<String>) {
        self.answer(
            name,
            Answer {
                status,
                headers: Vec::new(),
                body: body.into(),
                delay: Duration::ZERO,
            },
        );
    }

    /// Case `name` publishes `keys`.
    pub(crate) fn publish(&self, name: &str, keys: &[&keys::SigningKey]) {
        let set: Vec<keys::Jwk> = keys.iter().map(|k| k.public_jwk()).collect();
        self.serve(name, 200, json!({ "keys": set }).to_string());
    }

    /// How often case `name` was asked for.
    pub(crate) fn hits(&self, name: &str) -> usize {
        self.hits.lock().unwrap().get(name).copied().unwrap_or(0)
    }
}

/// A `client_credentials` grant authenticated by an assertion `key` signs (its `kid` in the
/// header); the status and the JSON answer.
pub(crate) async fn grant(
    base: &str,
    client_id: &str,
    key: &keys::SigningKey,
    jti: &str,
) -> (u16, Value) {
    let now = keys::Clock::now(&keys::SystemClock);
    let token = format!("{base}/token");
    let a = keys::sign_jwt(
        key,
        None,
        &json!({"iss": client_id, "sub": client_id, "aud": token, "jti": jti, "iat": now, "exp": now + 60}),
    )
    .unwrap();
    let r = http()
        .post(&token)
        .form(&[
            ("grant_type", "client_credentials"),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_assertion", &a),
        ])
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or_default())
}

/// Registers a `private_key_jwt` client whose keys are at `uri`.
async fn register(app: &TestApp, uri: &str) -> String {
    let (rp, c) = app
        .machine_client(AuthMethod::PrivateKeyJwt, |c| {
            c.jwks = None;
            c.jwks_uri = Some(uri.to_owned());
        })
        .await;
    assert_eq!(c.jwks_uri.as_deref(), Some(uri));
    rp.id
}

fn es256() -> keys::SigningKey {
    keys::SigningKey::generate(keys::Alg::ES256).unwrap()
}

/// The test servers' cooldown (helpers::test_config).
const COOLDOWN: Duration = Duration::from_secs(2);

async fn keys_are_fetched_once_and_again_when_the_client_rotates(app: TestApp) {
    let ks = KeyServer::start().await;
    let (k1, k2, stranger) = (es256(), es256(), es256());
    ks.publish("rp", &[&k1]);
    let id = register(&app, &ks.uri("rp")).await;

    // Four grants at once before any set is held: one fetch, which the others wait for.
    let first_fetch = Instant::now();
    let four = futures::future::join_all(
        ["a1", "a2", "a3", "a4"].map(|jti| grant(&app.base, &id, &k1, jti)),
    )
    .await;
    assert!(four.iter().all(|(st, _)| *st == 200), "{four:?}");
    assert_eq!(ks.hits("rp"), 1);
    let (st, t) = grant(&app.base, &id, &k1, "b").await;
    assert_eq!((st, t["token_type"].as_str()), (200, Some("Bearer")), "{t}");
    assert_eq!(ks.hits("rp"), 1, "a held set is not fetched again");

    // The client rotates to k2. Within the cooldown an unknown kid (k2's, or made up by
    // anyone) costs the client's server nothing: the held set answers, and k2 is refused.
    ks.publish("rp", &[&k2]);
    for jti in ["c", "d", "e"] {
        let (st, e) = grant(&app.base, &id, &k2, jti).await;
        assert_eq!((st, e["error"].as_str()), (401, Some("invalid_client")));
        let (st, _) = grant(&app.base, &id, &stranger, &format!("s-{jti}")).await;
        assert_eq!(st, 401);
    }
    assert!(
        first_fetch.elapsed() < COOLDOWN,
        "the burst must fall inside the cooldown for this test to mean anything"
    );
    assert_eq!(ks.hits("rp"), 1, "unknown kids inside the cooldown fetched");

    // After the cooldown, k2's kid makes one fetch and k2 is accepted.
    tokio::time::sleep((first_fetch + COOLDOWN + Duration::from_millis(200)) - Instant::now())
        .await;
    assert_eq!(grant(&app.base, &id, &k2, "f").await.0, 200);
    assert_eq!(ks.hits("rp"), 2);
    // The retired k1 is no longer in the set, and its assertion does not fetch again.
    let (st, e) = grant(&app.base, &id, &k1, "g").await;
    assert_eq!((st, e["error"].as_str()), (401, Some("invalid_client")));
    assert_eq!(ks.hits("rp"), 2);
    // Replay protection is unchanged.
    assert_eq!(grant(&app.base, &id, &k2, "f").await.0, 401);
    assert_eq!(grant(&app.base, &id, &k2, "h").await.0, 200);
    assert_eq!(ks.hits("rp"), 2);
}

async fn a_broken_key_server_gives_invalid_client_and_never_a_5xx(app: TestApp) {
    let ks = KeyServer::start().await;
    let k = es256();
    let good = json!({"keys": [k.public_jwk()]}).to_string();
    let mut enc_only = k.public_jwk();
    enc_only.use_ = Some("enc".into());
    ks.serve("500", 500, good.clone());
    ks.serve("not-json", 200, "<html>keys</html>");
    ks.serve("no-keys", 200, r#"{"keys": []}"#);
    ks.serve("enc-only", 200, json!({"keys": [enc_only]}).to_string());
    ks.serve(
        "huge",
        200,
        format!(
            r#"{{"keys": [{}], "pad": "{}"}}"#,
            serde_json::to_string(&k.public_jwk()).unwrap(),
            "x".repeat(100 * 1024)
        ),
    );
    ks.answer(
        "redirect",
        Answer {
            status: 302,
            headers: vec![("location", ks.uri("good"))],
            body: String::new(),
            delay: Duration::ZERO,
        },
    );
    ks.serve("good", 200, good.clone());
    ks.answer(
        "slow",
        Answer {
            status: 200,
            headers: Vec::new(),
            body: good.clone(),
            delay: Duration::from_secs(3),
        },
    );
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        format!("http://{}/jwks", l.local_addr().unwrap())
    };

    let mut cases: Vec<(String, String)> = [
        "500", "not-json", "no-keys", "enc-only", "huge", "redirect", "slow",
    ]
    .iter()
    .map(|c| (c.to_string(), ks.uri(c)))
    .collect();
    cases.push(("closed port".into(), closed));
    for (case, uri) in &cases {
        let id = register(&app, uri).await;
        let t = Instant::now();
        let (st, e) = grant(&app.base, &id, &k, &format!("{case}-1")).await;
        assert_eq!(
            (st, e["error"].as_str(), e["error_description"].as_str()),
            (
                401,
                Some("invalid_client"),
                Some("the client's keys could not be fetched from its jwks_uri")
            ),
            "{case}"
        );
        // The fetch is bounded by client_jwks.timeout_ms (1 s in the tests).
        assert!(t.elapsed() < Duration::from_millis(2500), "{case}");
        // A set that could not be had is not asked for again within the cooldown.
        let before = ks.hits(case);
        assert_eq!(grant(&app.base, &id, &k, &format!("{case}-2")).await.0, 401);
        assert_eq!(
            ks.hits(case),
            before,
            "{case}: fetched again in the cooldown"
        );
    }
    assert_eq!(ks.hits("good"), 0, "a redirect was followed");

    // A set once fetched stays in use when a later fetch fails.
    ks.publish("flaky", &[&k]);
    let id = register(&app, &ks.uri("flaky")).await;
    assert_eq!(grant(&app.base, &id, &k, "flaky-1").await.0, 200);
    ks.serve("flaky", 503, "");
    tokio::time::sleep(COOLDOWN + Duration::from_millis(200)).await;
    let unknown = es256();
    assert_eq!(grant(&app.base, &id, &unknown, "flaky-2").await.0, 401);
    assert_eq!(
        ks.hits("flaky"),
        2,
        "an unknown kid after the cooldown fetches"
    );
    assert_eq!(grant(&app.base, &id, &k, "flaky-3").await.0, 200);
    assert_eq!(ks.hits("flaky"), 2);

    // The server is unharmed.
    assert_eq!(
        http()
            .get(app.url("/.well-known/openid-configuration"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

/// A set older than `client_jwks.cache_max_age` is fetched again before use, and used on
/// when that fetch fails.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_set_past_its_max_age_is_fetched_again() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let mut c = test_config(Store::Embedded, dir.path(), None)
        .await
        .unwrap();
    c.client_jwks.cache_max_age = 1;
    c.client_jwks.cooldown = 1;
    let app = spawn_with(c, dir).await;
    let ks = KeyServer::start().await;
    let k = es256();
    ks.publish("rp", &[&k]);
    let id = register(&app, &ks.uri("rp")).await;
    assert_eq!(grant(&app.base, &id, &k, "a").await.0, 200);
    assert_eq!(ks.hits("rp"), 1);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(grant(&app.base, &id, &k, "b").await.0, 200);
    assert_eq!(ks.hits("rp"), 2);
    // The key server fails: the stale set stays in use rather than locking the client out.
    ks.serve("rp", 503, "");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(grant(&app.base, &id, &k, "c").await.0, 200);
    assert_eq!(ks.hits("rp"), 3);
    // The client withdrew the key: after the next max age, its assertions are refused.
    ks.publish("rp", &[&es256()]);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert_eq!(grant(&app.base, &id, &k, "d").await.0, 401);
    assert_eq!(ks.hits("rp"), 4);
}
