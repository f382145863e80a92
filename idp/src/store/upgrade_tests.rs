//! Upgrading a database that already holds rows: what a migration rebuilds keeps them.

use super::grants::{Grant, RefreshUse};
use super::history::{LoginEvent, SessionRow};
use super::{accounts::NewAccount, Db};
use std::borrow::Cow;

/// The first migration that rebuilds tables which already hold citizens' rows (the next,
/// `20260102000021`, rebuilds one of them again).
const WITHOUT_ROWID: i64 = 20260102000020;

#[tokio::test]
async fn rebuilding_the_sign_in_and_grant_tables_keeps_their_rows() {
    let (url, dir) = super::sql::tests::scratch_file("upgrade");
    let db = Db::connect(&url).await.unwrap();
    keys::migrate(&db.pool, db.backend).await.unwrap();
    // The schema as it was before the rebuild.
    let mut before = sqlx::migrate!("./migrations/sqlite");
    before.migrations = Cow::Owned(
        before
            .migrations
            .iter()
            .filter(|m| m.version < WITHOUT_ROWID)
            .cloned()
            .collect(),
    );
    before.set_ignore_missing(true);
    before.run(&db.pool).await.unwrap();

    let account = db
        .accounts()
        .insert(
            &NewAccount {
                login: "alice".into(),
                password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA".into(),
                ..Default::default()
            },
            1_000,
        )
        .await
        .unwrap();
    let event = |at: i64, device: &str| LoginEvent {
        at,
        ip: "192.0.2.1".into(),
        user_agent: "Test/1".into(),
        device: device.into(),
        amr: "pwd".into(),
    };
    let session = SessionRow {
        sid: "sid-1".into(),
        cache_key: "cache-1".into(),
        started_at: 1_000,
        ip: "192.0.2.1".into(),
        user_agent: "Test/1".into(),
    };
    let history = db.history();
    history
        .record(&account, &event(1_000, "dev-a"), Some((&session, 90_000)))
        .await
        .unwrap();
    history
        .record(&account, &event(1_000, "dev-b"), None)
        .await
        .unwrap();
    history
        .record(&account, &event(2_000, "dev-a"), None)
        .await
        .unwrap();
    let grant = |id: &str| Grant {
        id: id.into(),
        account_id: account.clone(),
        client_id: "client-1".into(),
        scope: "openid profile".into(),
        claims: r#"{"userinfo":{"email":null}}"#.into(),
        sid: "sid-1".into(),
        auth_time: 1_000,
        acr: "urn:vhod:acr:simplified".into(),
        amr: "pwd".into(),
        created_at: 1_000,
        expires_at: 90_000,
        revoked_at: None,
        dpop_jkt: None,
        resources: String::new(),
    };
    // Written as the store wrote them then: the columns added since did not exist.
    for (id, rt, revoked_at) in [("g-1", "rt-1", None), ("g-2", "rt-2", Some(1_500i64))] {
        let g = grant(id);
        sqlx::query(
            "INSERT INTO grants (id, account_id, client_id, scope, claims, sid, auth_time, acr, \
             amr, created_at, expires_at, revoked_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&g.id)
        .bind(&g.account_id)
        .bind(&g.client_id)
        .bind(&g.scope)
        .bind(&g.claims)
        .bind(&g.sid)
        .bind(g.auth_time)
        .bind(&g.acr)
        .bind(&g.amr)
        .bind(g.created_at)
        .bind(g.expires_at)
        .bind(revoked_at)
        .execute(&db.pool)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO refresh_tokens (hash, grant_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(rt)
        .bind(id)
        .bind(g.created_at)
        .bind(g.expires_at)
        .execute(&db.pool)
        .await
        .unwrap();
    }

    db.migrate().await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND sql LIKE '%WITHOUT ROWID%' \
         ORDER BY name",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(
        tables,
        [
            "account_sessions",
            "grants",
            "login_events",
            "refresh_tokens"
        ]
    );
    // Only the indexes a statement uses are left to write on every sign-in and redemption.
    let indexes: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL \
         AND tbl_name IN ('account_sessions', 'grants', 'login_events', 'refresh_tokens') \
         ORDER BY name",
    )
    .fetch_all(&db.pool)
    .await
    .unwrap();
    assert_eq!(indexes, ["grants_account", "login_events_device"]);

    // Every row is still there, read through the stores as the service reads them.
    let listed = db.history().list(&account, 10).await.unwrap();
    let seen: Vec<(i64, &str)> = listed.iter().map(|e| (e.at, e.device.as_str())).collect();
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(seen[0], (2_000, "dev-a"));
    assert!(seen[1..].contains(&(1_000, "dev-a")) && seen[1..].contains(&(1_000, "dev-b")));
    let seen = db
        .history()
        .record(&account, &event(3_000, "dev-b"), None)
        .await
        .unwrap();
    assert!(seen.here && seen.before, "{seen:?}");
    let seen = db
        .history()
        .record(&account, &event(3_000, "dev-c"), None)
        .await
        .unwrap();
    assert!(!seen.here && seen.before, "{seen:?}");
    assert_eq!(db.history().list(&account, 10).await.unwrap().len(), 5);
    let sessions = db.sessions().list(&account, 2_000).await.unwrap();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].sid, "sid-1");
    let g1 = db.grants().get("g-1").await.unwrap().unwrap();
    assert_eq!(g1.claims, r#"{"userinfo":{"email":null}}"#);
    assert!(g1.is_active(2_000));
    let g2 = db.grants().get("g-2").await.unwrap().unwrap();
    assert_eq!(g2.revoked_at, Some(1_500));
    match db.grants().use_refresh("rt-1", 2_000).await.unwrap() {
        RefreshUse::Fresh(g) => assert_eq!(g.id, "g-1"),
        other => panic!("rt-1 after the upgrade: {other:?}"),
    }
    // The keys still do their work: a used token is known as reused, a grant id is taken once,
    // and deleting the account still removes its history.
    assert!(matches!(
        db.grants().use_refresh("rt-1", 2_001).await.unwrap(),
        RefreshUse::Reused(g) if g == "g-1"
    ));
    assert!(!db.grants().create(&grant("g-1"), None).await.unwrap());
    assert_eq!(
        db.sessions()
            .remove(&account, "sid-1")
            .await
            .unwrap()
            .as_deref(),
        Some("cache-1")
    );
    sqlx::query("DELETE FROM accounts WHERE id = $1")
        .bind(&account)
        .execute(&db.pool)
        .await
        .unwrap();
    assert!(db.history().list(&account, 10).await.unwrap().is_empty());
    let _ = std::fs::remove_dir_all(dir);
}
