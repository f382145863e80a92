//! The registry check for level `standard`: a mock registry (a real HTTP server on a
//! loopback socket) confirms, reports mismatched fields, fails with 500, answers too late
//! or answers garbage; only a confirmation raises the level, with the registry's evidence.

use crate::account::{open_account, GOOD};
use crate::helpers::*;
use axum::{extract::State, http::HeaderMap, routing::post, Json, Router};
use std::sync::{Arc, Mutex};

const PW: &str = "correct horse battery";

/// What the mock answers next, and what it received.
#[derive(Default)]
struct Mock {
    mode: &'static str,
    seen: Vec<(Option<String>, serde_json::Value)>,
}

type Shared = Arc<Mutex<Mock>>;

async fn registry(
    State(m): State<Shared>,
    headers: HeaderMap,
    Json(v): Json<serde_json::Value>,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    let auth = headers
        .get("authorization")
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned);
    let mode = {
        let mut m = m.lock().unwrap();
        m.seen.push((auth, v));
        m.mode
    };
    match mode {
        "confirmed" => {
            Json(serde_json::json!({"confirmed": true, "result_id": "R-42"})).into_response()
        }
        "mismatch" => Json(
            serde_json::json!({"confirmed": false, "mismatch": ["snils", "passport", "shoe_size"]}),
        )
        .into_response(),
        "slow" => {
            tokio::time::sleep(std::time::Duration::from_secs(3)).await;
            Json(serde_json::json!({"confirmed": true})).into_response()
        }
        "garbage" => "<html>maintenance</html>".into_response(),
        _ => axum::http::StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    }
}

async fn mock() -> (String, Shared) {
    let shared: Shared = Arc::default();
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/check", l.local_addr().unwrap());
    let app = Router::new()
        .route("/check", post(registry))
        .with_state(shared.clone());
    tokio::spawn(async move { axum::serve(l, app).await });
    (url, shared)
}

async fn only_a_confirmation_raises_the_level(store: Store) {
    let (url, m) = mock().await;
    let dir = Arc::new(tempfile::tempdir().unwrap());
    let Some(mut c) = test_config(store, dir.path(), None).await else {
        eprintln!("VHOD_TEST_DATABASE_URL unset: shared-store variant not run here");
        return;
    };
    c.identity.registry_url = Some(url);
    c.identity.registry_name = "mock-registry".into();
    c.identity.registry_timeout_ms = 500;
    c.identity.registry_token = Some("reg-token".into());
    let app = spawn_with(c, dir).await;
    let id = app.user("alice", PW).await;
    let (b, _) = open_account(&app, "alice", PW).await;
    let (_, _, form) = b.get(&app.base, &app.url("/account/identity")).await.page();
    let level = || async { app.app.db.accounts().get(&id).await.unwrap().unwrap().level };

    // Unreachable-like failures: a clear "try later", the form kept, nothing saved.
    for mode in ["error", "slow", "garbage"] {
        m.lock().unwrap().mode = mode;
        let (status, _, html) = b.submit(&app.base, &form, &GOOD).await.page();
        assert_eq!(status, 503, "{mode}: {html}");
        assert!(html.contains("id=\"registry-error\""), "{mode}: {html}");
        assert!(
            html.contains("value=\"112-233-445 95\""),
            "{mode}: the form is kept"
        );
        assert_eq!(level().await, "simplified", "{mode}");
        assert!(app.app.db.identities().get(&id).await.unwrap().is_none());
    }

    // Not confirmed: the mismatched fields are marked, the level stays.
    m.lock().unwrap().mode = "mismatch";
    let (status, _, html) = b.submit(&app.base, &form, &GOOD).await.page();
    assert_eq!(status, 422, "{html}");
    for field in ["snils", "passport_number", "registry"] {
        assert!(
            html.contains(&format!("id=\"{field}-error\"")),
            "{field}: {html}"
        );
    }
    assert!(!html.contains("id=\"family_name-error\""));
    assert_eq!(level().await, "simplified");
    assert!(app
        .app
        .db
        .identities()
        .levels(&id)
        .await
        .unwrap()
        .is_empty());

    // Confirmed: the level rises and the evidence names the registry and its answer.
    m.lock().unwrap().mode = "confirmed";
    let (_, url, html) = b.submit(&app.base, &form, &GOOD).await.page();
    assert!(url.ends_with("/account"), "{url}: {html}");
    assert_eq!(level().await, "standard");
    let levels = app.app.db.identities().levels(&id).await.unwrap();
    assert_eq!(levels.len(), 1);
    let e = &levels[0].evidence;
    assert_eq!(e["method"], "registry");
    assert_eq!(e["registry"]["name"], "mock-registry");
    assert_eq!(e["registry"]["result_id"], "R-42");
    assert!(e["registry"]["at"].as_i64().is_some());

    // What the registry received: the checked, normalised data and the token.
    let seen = &m.lock().unwrap().seen;
    assert_eq!(seen.len(), 5);
    let (auth, body) = seen.last().unwrap();
    assert_eq!(auth.as_deref(), Some("Bearer reg-token"));
    assert_eq!(body["snils"], "11223344595");
    assert_eq!(body["passport_series"], "4508");
    assert_eq!(body["passport_number"], "123456");
    assert_eq!(body["birth_date"], "1990-02-01");
    assert_eq!(body["family_name"], "Иванова");
    assert!(body["middle_name"].is_null());
    assert_eq!(body["inn"], "500100732259");
    assert_eq!(e["registry"]["request_id"], body["request_id"]);
}

/// Without a registry the level rests on the input checks, as before.
async fn without_a_registry_the_input_checks_decide(app: TestApp) {
    let id = app.user("bob", PW).await;
    let (b, _) = open_account(&app, "bob", PW).await;
    let (_, _, form) = b.get(&app.base, &app.url("/account/identity")).await.page();
    let (_, url, _) = b.submit(&app.base, &form, &GOOD).await.page();
    assert!(url.ends_with("/account"), "{url}");
    let levels = app.app.db.identities().levels(&id).await.unwrap();
    assert_eq!(levels[0].evidence["method"], "self_declared");
    assert!(levels[0].evidence["registry"].is_null());
}

crate::on_both_stores!(without_a_registry_the_input_checks_decide);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_confirmation_raises_the_level_embedded() {
    only_a_confirmation_raises_the_level(Store::Embedded).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_a_confirmation_raises_the_level_postgres_redis() {
    only_a_confirmation_raises_the_level(Store::Shared).await;
}
