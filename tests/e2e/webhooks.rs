//! Webhooks of signing requests (issue 5): the client learns that a request was signed,
//! declined or expired from a compact JWS (`typ` vhod-webhook+jwt) POSTed to its
//! `webhook_url`, signed with a key of vhod's `/jwks`, retried with backoff until a 2xx, with
//! the same `jti` / `Webhook-Id` on every attempt; two nodes never both deliver one event.

use crate::helpers::*;
use crate::on_both_stores;
use crate::signing::{api_client, create, token, PASSWORD, TXT};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

on_both_stores!(
    a_signed_event_is_retried_until_2xx_with_one_jti_and_verifies_against_the_jwks,
    declined_and_expired_requests_are_reported_once,
    an_unreachable_receiver_is_retried_then_given_up_and_audited,
);

/// One POST the receiver got.
#[derive(Clone, Debug)]
struct Delivery {
    webhook_id: String,
    content_type: String,
    body: String,
    answered: u16,
}

#[derive(Default)]
struct Inbox {
    /// Answers for the first POSTs; 200 afterwards.
    script: Vec<u16>,
    got: Vec<Delivery>,
    /// POSTs in progress per event id, and the most ever seen at once.
    in_flight: HashMap<String, usize>,
    max_in_flight: usize,
}

/// A webhook receiver on 127.0.0.1:0 (a real HTTP server), answering from a script and
/// holding each answer for `delay` (to widen any window for concurrent duplicates).
struct Receiver {
    url: String,
    inbox: Arc<Mutex<Inbox>>,
}

type Shared = (Arc<Mutex<Inbox>>, Duration);

async fn hook(
    State((inbox, delay)): State<Shared>,
    headers: HeaderMap,
    body: String,
) -> StatusCode {
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned()
    };
    let id = header("webhook-id");
    {
        let mut i = inbox.lock().unwrap();
        let n = i.in_flight.entry(id.clone()).or_default();
        *n += 1;
        let now = *n;
        i.max_in_flight = i.max_in_flight.max(now);
    }
    tokio::time::sleep(delay).await;
    let mut i = inbox.lock().unwrap();
    *i.in_flight.entry(id.clone()).or_default() -= 1;
    let answered = if i.got.len() < i.script.len() {
        i.script[i.got.len()]
    } else {
        200
    };
    i.got.push(Delivery {
        webhook_id: id,
        content_type: header("content-type"),
        body,
        answered,
    });
    StatusCode::from_u16(answered).unwrap()
}

impl Receiver {
    async fn start(script: &[u16], delay: Duration) -> Receiver {
        let inbox = Arc::new(Mutex::new(Inbox {
            script: script.to_vec(),
            ..Inbox::default()
        }));
        let router = axum::Router::new()
            .route("/hook", axum::routing::post(hook))
            .with_state((inbox.clone(), delay));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/hook?token=s3cret",
            listener.local_addr().unwrap()
        );
        tokio::spawn(async move { axum::serve(listener, router).await });
        Receiver { url, inbox }
    }

    fn got(&self) -> Vec<Delivery> {
        self.inbox.lock().unwrap().got.clone()
    }

    fn max_in_flight(&self) -> usize {
        self.inbox.lock().unwrap().max_in_flight
    }

    /// Waits (up to a minute) until `n` POSTs arrived.
    async fn wait_for(&self, n: usize) -> Vec<Delivery> {
        poll("webhook deliveries", || async {
            let got = self.got();
            (got.len() >= n).then_some(got)
        })
        .await
    }
}

/// Polls `f` every 50 ms until it gives a value; panics after a generous minute.
async fn poll<T, F, Fut>(what: &str, mut f: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let started = Instant::now();
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{what}: gave up waiting"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A short settle (ten passes of the 100 ms sender) before checking nothing more arrives.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(1000)).await;
}

/// A pending request of `citizen` with `webhook_url`; returns (id, set digest).
async fn request(
    app: &TestApp,
    t: &str,
    citizen: &str,
    webhook_url: &str,
    expires_in: i64,
) -> (String, String) {
    let r = json!({"sub": citizen, "format": "cades-detached", "level": "B-B",
                   "webhook_url": webhook_url, "expires_in": expires_in});
    let (status, _, body) = create(app, Some(t), &r, &[("note.txt", TXT)]).await;
    assert_eq!(status, 201, "{body}");
    (
        body["id"].as_str().unwrap().to_owned(),
        body["set_digest"].as_str().unwrap().to_owned(),
    )
}

/// What `signer_webhooks` says about one event.
#[derive(Debug)]
struct EventRow {
    attempts: i64,
    last_error: Option<String>,
    delivered: bool,
    given_up: bool,
}

/// The `signer_webhooks` row of (request, event).
async fn row(app: &TestApp, id: &str, event: &str) -> Option<EventRow> {
    use sqlx::Row;
    let r = sqlx::query(
        "SELECT attempts, last_error, delivered_at, failed_at FROM signer_webhooks \
         WHERE request_id = $1 AND status = $2",
    )
    .bind(id)
    .bind(event)
    .fetch_optional(&app.app.signer.pool)
    .await
    .unwrap()?;
    Some(EventRow {
        attempts: r.get("attempts"),
        last_error: r.get("last_error"),
        delivered: r.get::<Option<i64>, _>("delivered_at").is_some(),
        given_up: r.get::<Option<i64>, _>("failed_at").is_some(),
    })
}

async fn audit_actions(app: &TestApp, subject: &str, action: &str) -> Vec<Value> {
    app.app
        .signer
        .audit
        .list(Some(subject), None, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == action)
        .map(|e| e.details)
        .collect()
}

/// A citizen, an API client with the `sign` scope and its token.
async fn parties(app: &TestApp, login: &str) -> (String, (String, String), String) {
    let citizen = app.user(login, PASSWORD).await;
    let client = api_client(app, "Нотариус", &["sign"]).await;
    let t = token(app, &client, "sign").await;
    (citizen, client, t)
}

async fn a_signed_event_is_retried_until_2xx_with_one_jti_and_verifies_against_the_jwks(
    app: TestApp,
) {
    let rx = Receiver::start(&[500, 500], Duration::ZERO).await;
    let (citizen, client, t) = parties(&app, "hook-signer").await;
    let (id, digest) = request(&app, &t, &citizen, &rx.url, 3600).await;
    let subject = keys::ca::CitizenSubject {
        surname: "Пример".into(),
        given_name: "Алиса".into(),
        patronymic: None,
        snils: None,
        inn: None,
    };
    let signer = &app.app.signer;
    signer
        .ca
        .issue(&citizen, &subject, keys::ca::KeyAlg::P256, None)
        .await
        .unwrap();
    signer
        .sign_request(&id, &citizen, &digest, "otp")
        .await
        .unwrap();

    let got = rx.wait_for(3).await;
    let answered: Vec<u16> = got.iter().map(|d| d.answered).collect();
    assert_eq!(answered, [500, 500, 200]);
    let event_id = got[0].webhook_id.clone();
    assert!(event_id.starts_with("ev_"), "{event_id}");
    let status_url = app.url(&format!("/api/signer/v1/requests/{id}"));
    let mut event_at = None;
    for d in &got {
        assert_eq!(
            d.webhook_id, event_id,
            "the same Webhook-Id on every attempt"
        );
        assert_eq!(d.content_type, "application/jwt");
        let (header, claims) = verify_with_jwks(&app, &d.body).await;
        assert_eq!(header["typ"], "vhod-webhook+jwt");
        assert_eq!(claims["jti"], event_id.as_str(), "{claims}");
        assert_eq!(claims["iss"], app.base.as_str());
        assert_eq!(claims["aud"], client.0.as_str());
        assert_eq!(claims["event"], "signed");
        assert_eq!(claims["request_id"], id.as_str());
        assert_eq!(claims["status_url"], status_url.as_str());
        assert!(claims["iat"].as_i64().unwrap() >= claims["event_at"].as_i64().unwrap());
        event_at = claims["event_at"].as_i64();
    }
    // The status URL answers the client with the outcome.
    let st = get_bearer_json(&status_url, &t).await;
    assert_eq!(st["status"], "signed", "{st}");
    assert_eq!(st["signed_at"].as_i64(), event_at);
    let r = row(&app, &id, "signed").await.unwrap();
    assert_eq!(
        (r.attempts, r.delivered, r.given_up),
        (3, true, false),
        "{r:?}"
    );
    assert_eq!(r.last_error, None);
    // Delivered: no further POST.
    settle().await;
    assert_eq!(rx.got().len(), 3);
}

async fn declined_and_expired_requests_are_reported_once(app: TestApp) {
    let rx = Receiver::start(&[], Duration::ZERO).await;
    let (citizen, client, t) = parties(&app, "hook-decliner").await;
    let (declined, _) = request(&app, &t, &citizen, &rx.url, 3600).await;
    app.app
        .signer
        .decline_request(&declined, &citizen)
        .await
        .unwrap();
    let got = rx.wait_for(1).await;
    let (_, claims) = verify_with_jwks(&app, &got[0].body).await;
    assert_eq!(claims["event"], "declined", "{claims}");
    assert_eq!(claims["request_id"], declined.as_str());
    assert_eq!(claims["aud"], client.0.as_str());

    // A request nobody acts on expires: stored as expired, reported and audited once.
    let (late, _) = request(&app, &t, &citizen, &rx.url, 60).await;
    app.clock.advance(61);
    let got = rx.wait_for(2).await;
    let (_, claims) = verify_with_jwks(&app, &got[1].body).await;
    assert_eq!(claims["event"], "expired", "{claims}");
    assert_eq!(claims["request_id"], late.as_str());
    let stored: String = sqlx::query_scalar("SELECT status FROM signer_requests WHERE id = $1")
        .bind(&late)
        .fetch_one(&app.app.signer.pool)
        .await
        .unwrap();
    assert_eq!(stored, "expired");
    let t = token(&app, &client, "sign").await;
    let st = get_bearer_json(&app.url(&format!("/api/signer/v1/requests/{late}")), &t).await;
    assert_eq!(st["status"], "expired", "{st}");
    // The declined request is not expired by the sweep; another sweep adds nothing.
    assert_eq!(app.app.signer.expire_requests().await.unwrap(), 0);
    settle().await;
    let got = rx.got();
    assert_eq!(got.len(), 2, "{got:?}");
    let expired = audit_actions(&app, &citizen, "signature.expired").await;
    assert_eq!(expired.len(), 1, "{expired:?}");
    assert_eq!(expired[0]["request"]["request_id"], late.as_str());
    assert!(row(&app, &declined, "expired").await.is_none());
}

async fn an_unreachable_receiver_is_retried_then_given_up_and_audited(app: TestApp) {
    // A port that was free a moment ago: connections are refused.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}/hook?token=s3cret");
    let (citizen, _, t) = parties(&app, "hook-unreachable").await;
    let (id, _) = request(&app, &t, &citizen, &url, 3600).await;
    app.app.signer.decline_request(&id, &citizen).await.unwrap();
    // Attempts grow, each failure recorded without the URL or its token.
    let r = poll("two attempts", || async {
        row(&app, &id, "declined").await.filter(|r| r.attempts >= 2)
    })
    .await;
    assert!(!r.delivered, "{r:?}");
    assert_eq!(r.last_error.as_deref(), Some("connection failed"));
    // After max_attempts (5 in tests) it is given up, once, with an audit event.
    let r = poll("give-up", || async {
        row(&app, &id, "declined").await.filter(|r| r.given_up)
    })
    .await;
    assert_eq!((r.attempts, r.delivered), (5, false), "{r:?}");
    let failed = poll("audit", || async {
        let a = audit_actions(&app, &id, "signature.webhook_failed").await;
        (!a.is_empty()).then_some(a)
    })
    .await;
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0]["attempts"], 5);
    assert_eq!(failed[0]["event"], "declined");
    assert!(!failed[0].to_string().contains("s3cret"));
    // The server still answers.
    let st = get_bearer_json(&app.url(&format!("/api/signer/v1/requests/{id}")), &t).await;
    assert_eq!(st["status"], "declined");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_deliver_each_webhook_event_once() {
    let Some((a, b)) = spawn_two_nodes().await else {
        eprintln!("VHOD_TEST_DATABASE_URL unset: two-node test not run here");
        return;
    };
    // Each answer takes 300 ms, three passes of either node's sender: a second claim of an
    // event in flight would show as two POSTs of one id at once.
    let rx = Receiver::start(&[], Duration::from_millis(300)).await;
    let (citizen, _, t) = parties(&a, "hook-two-nodes").await;
    let mut ids = Vec::new();
    for _ in 0..8 {
        let (id, _) = request(&a, &t, &citizen, &rx.url, 3600).await;
        ids.push(id);
    }
    for (i, id) in ids.iter().enumerate() {
        let node = if i % 2 == 0 { &a } else { &b };
        node.app.signer.decline_request(id, &citizen).await.unwrap();
    }
    // Beside both nodes' own senders, sixteen passes at once, half on each node, race for
    // the same due events.
    let mut passes = tokio::task::JoinSet::new();
    for i in 0..16 {
        let s = if i % 2 == 0 { &a } else { &b }.app.signer.clone();
        passes.spawn(async move { s.run_webhooks_once().await.unwrap() });
    }
    passes.join_all().await;
    rx.wait_for(ids.len()).await;
    settle().await;
    let got = rx.got();
    let mut per_event: HashMap<String, usize> = HashMap::new();
    for d in &got {
        assert_eq!(d.answered, 200);
        *per_event.entry(d.webhook_id.clone()).or_default() += 1;
    }
    assert_eq!(per_event.len(), ids.len(), "{got:?}");
    assert!(per_event.values().all(|n| *n == 1), "{per_event:?}");
    assert_eq!(rx.max_in_flight(), 1);
    for id in &ids {
        let r = row(&b, id, "declined").await.unwrap();
        assert_eq!((r.attempts, r.delivered), (1, true), "{r:?}");
    }
}

/// With the default `webhooks.allow_private_networks = false`: a literal inside address is
/// refused when the request is created, and a host name that resolves only to loopback is
/// never connected to (the event records why, and the receiver gets nothing).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receivers_inside_the_network_are_refused_by_default() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let mut c = test_config(Store::Embedded, dir.path(), None)
        .await
        .unwrap();
    c.webhooks.allow_private_networks = false;
    let app = spawn_with(c, dir).await;
    let (citizen, _, t) = parties(&app, "hook-inside").await;
    for url in [
        "http://127.0.0.1:9/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://10.0.0.8/hook",
    ] {
        let r = json!({"sub": citizen, "format": "cades-detached", "level": "B-B",
                       "webhook_url": url});
        let (status, headers, body) = create(&app, Some(&t), &r, &[("note.txt", TXT)]).await;
        assert_eq!(status, 400, "{url}: {body}");
        assert_eq!(headers["content-type"], "application/problem+json");
        assert!(
            body["detail"].as_str().unwrap().contains("private"),
            "{body}"
        );
    }
    // `localhost` passes creation (a host name), but resolves to loopback only.
    let rx = Receiver::start(&[], Duration::ZERO).await;
    let url = rx.url.replace("127.0.0.1", "localhost");
    let (id, _) = request(&app, &t, &citizen, &url, 3600).await;
    app.app.signer.decline_request(&id, &citizen).await.unwrap();
    let r = poll("a refused attempt", || async {
        row(&app, &id, "declined").await.filter(|r| r.attempts >= 1)
    })
    .await;
    assert!(!r.delivered, "{r:?}");
    assert!(r.last_error.is_some(), "{r:?}");
    settle().await;
    assert!(rx.got().is_empty(), "{:?}", rx.got());
}
