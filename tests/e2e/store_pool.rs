//! The database pool: one SQLite connection by default (a second one would re-read its
//! pages after every write of the first), PostgreSQL's sixteen, and the operator's number
//! when set; the single SQLite connection serves concurrent sign-ins.

use crate::helpers::{authorize_url, redeem, Browser, Landed, TestApp};
use idp::store::Db;
use keys::Backend;

crate::on_both_stores!(pool_size_defaults_by_backend_and_serves_concurrent_flows);

async fn pool_size_defaults_by_backend_and_serves_concurrent_flows(app: TestApp) {
    let want = match app.app.db.backend {
        Backend::Sqlite => 1,
        Backend::Postgres => 16,
    };
    assert_eq!(app.app.db.pool.options().get_max_connections(), want);
    // Eight code flows at once, each through sign-in, consent, token and userinfo.
    app.user("olga", "correct horse battery").await;
    let rp = app.confidential().await;
    let flows = (0..8).map(|_| {
        let (app, rp) = (&app, &rp);
        async move {
            let b = Browser::new();
            let (url, verifier) = authorize_url(app, rp, &[]);
            let landed = b
                .sign_in_at(&app.base, &url, "olga", "correct horse battery")
                .await;
            let code = Landed::param(&landed, "code").unwrap();
            let (status, body) = redeem(app, rp, &code, &verifier).await;
            assert_eq!(status, 200, "{body}");
            let at = body["access_token"].as_str().unwrap().to_owned();
            let r = crate::helpers::http()
                .get(app.url("/userinfo"))
                .bearer_auth(at)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200);
            let v: serde_json::Value = r.json().await.unwrap();
            v["sub"].as_str().unwrap().to_owned()
        }
    });
    let subs = futures::future::join_all(flows).await;
    assert!(
        subs.iter().all(|s| !s.is_empty() && *s == subs[0]),
        "{subs:?}"
    );
}

#[tokio::test]
async fn an_explicit_pool_size_is_used() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("p.db").display());
    let db = Db::connect_with(&url, Some(3)).await.unwrap();
    assert_eq!(db.pool.options().get_max_connections(), 3);
    let db = Db::connect_with(&url, None).await.unwrap();
    assert_eq!(db.pool.options().get_max_connections(), 1);
}
