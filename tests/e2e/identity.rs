//! The identity behind the "standard" level, on both stores: SNILS, passport and INN are kept
//! only sealed beside a blind index, one SNILS belongs to one account, and a level change
//! sets `accounts.level` and is kept with its evidence.

use crate::helpers::*;
use crate::on_both_stores;
use idp::identity::{blind_index, open, seal};
use idp::store::identity::NewIdentity;
use idp::store::StoreError;
use serde_json::json;

on_both_stores!(
    identity_is_stored_sealed_and_one_snils_has_one_account,
    level_changes_set_the_account_level_and_keep_their_evidence,
    identity_and_levels_go_with_their_account,
);

const INDEX_KEY: [u8; 32] = [5; 32];
const PASSWORD: &str = "correct horse battery";

/// Checks the inputs as a form would and seals them with the test app's factor key.
fn identity(app: &TestApp, family: &str, snils: &str, inn: Option<&str>) -> NewIdentity {
    let key = &app.app.secrets.factor_key;
    let snils = idp::identity::snils(snils).unwrap();
    let (series, number) = idp::identity::passport("45 08", "123456").unwrap();
    let passport = format!("{series}{number}");
    let inn = inn.map(|i| idp::identity::inn(i).unwrap());
    NewIdentity {
        family_name: idp::identity::person_name(family).unwrap(),
        given_name: idp::identity::person_name("Алиса").unwrap(),
        middle_name: Some(idp::identity::person_name("Петровна").unwrap()),
        birth_date: idp::identity::birth_date("05.03.1990", (2026, 1, 15)).unwrap(),
        snils_enc: seal(key, "snils", &snils),
        snils_index: blind_index(&INDEX_KEY, "snils", &snils),
        passport_enc: seal(key, "passport", &passport),
        passport_index: blind_index(&INDEX_KEY, "passport", &passport),
        inn_enc: inn.as_deref().map(|i| seal(key, "inn", i)),
        inn_index: inn.as_deref().map(|i| blind_index(&INDEX_KEY, "inn", i)),
    }
}

fn contains(hay: &[u8], needle: &str) -> bool {
    hay.windows(needle.len()).any(|w| w == needle.as_bytes())
}

async fn identity_is_stored_sealed_and_one_snils_has_one_account(app: TestApp) {
    let ids = app.app.db.identities();
    let key = &app.app.secrets.factor_key;
    let alice = app.user("alice", PASSWORD).await;
    let bob = app.user("bob", PASSWORD).await;
    let now = app.app.now();
    assert!(ids.get(&alice).await.unwrap().is_none());

    ids.upsert(
        &alice,
        &identity(&app, "Фёдорова", "112-233-445 95", Some("500100732259")),
        now,
    )
    .await
    .unwrap();
    let row = ids.get(&alice).await.unwrap().unwrap();
    assert_eq!(row.account_id, alice);
    assert_eq!(row.updated_at, now);
    let i = &row.identity;
    assert_eq!(
        (i.family_name.as_str(), i.given_name.as_str()),
        ("Фёдорова", "Алиса")
    );
    assert_eq!(i.middle_name.as_deref(), Some("Петровна"));
    assert_eq!(i.birth_date, "1990-03-05");
    // The identifiers come back only through `open`, under their own kind.
    assert_eq!(
        open(key, "snils", &i.snils_enc).as_deref(),
        Some("11223344595")
    );
    assert_eq!(
        open(key, "passport", &i.passport_enc).as_deref(),
        Some("4508123456")
    );
    let inn_enc = i.inn_enc.as_deref().unwrap();
    assert_eq!(open(key, "inn", inn_enc).as_deref(), Some("500100732259"));
    assert_eq!(open(key, "inn", &i.snils_enc), None);
    // Nothing in the row holds them in clear.
    for (blob, clear) in [
        (&i.snils_enc[..], "11223344595"),
        (&i.passport_enc[..], "123456"),
        (inn_enc, "500100732259"),
    ] {
        assert!(!contains(blob, clear));
        for text in [&i.snils_index, &i.passport_index] {
            assert!(!text.contains(clear));
        }
    }
    assert!(
        !format!("{row:?}").contains("Фёдорова"),
        "Debug is redacted"
    );

    // The blind index finds the account.
    let index = blind_index(&INDEX_KEY, "snils", "11223344595");
    assert_eq!(
        ids.by_snils_index(&index).await.unwrap(),
        Some(alice.clone())
    );
    let other = blind_index(&INDEX_KEY, "snils", "99999999901");
    assert_eq!(ids.by_snils_index(&other).await.unwrap(), None);

    // Saving again replaces the identity (here without an INN).
    ids.upsert(
        &alice,
        &identity(&app, "Иванова", "112 233 445 95", None),
        now + 60,
    )
    .await
    .unwrap();
    let row = ids.get(&alice).await.unwrap().unwrap();
    assert_eq!(row.identity.family_name, "Иванова");
    assert_eq!(row.updated_at, now + 60);
    assert!(row.identity.inn_enc.is_none() && row.identity.inn_index.is_none());

    // Another account cannot take the same SNILS, however it was typed.
    let taken = ids
        .upsert(&bob, &identity(&app, "Петрова", "11223344595", None), now)
        .await;
    assert!(
        matches!(taken, Err(StoreError::Conflict("snils"))),
        "{taken:?}"
    );
    assert!(ids.get(&bob).await.unwrap().is_none());
    // A SNILS of its own is fine.
    ids.upsert(
        &bob,
        &identity(&app, "Петрова", "900-000-010 83", None),
        now,
    )
    .await
    .unwrap();
    assert_eq!(ids.by_snils_index(&index).await.unwrap(), Some(alice));
}

async fn level_changes_set_the_account_level_and_keep_their_evidence(app: TestApp) {
    let ids = app.app.db.identities();
    let alice = app.user("alice", PASSWORD).await;
    let bob = app.user("bob", PASSWORD).await;
    let now = app.app.now();
    let level = |id: String| {
        let app = &app;
        async move { app.app.db.accounts().get(&id).await.unwrap().unwrap().level }
    };
    assert_eq!(level(alice.clone()).await, "simplified");
    assert!(ids.levels(&alice).await.unwrap().is_empty());

    let checked = json!({"method": "format_and_checksum", "fields": ["snils", "passport"]});
    ids.record_level(&alice, "standard", &checked, now)
        .await
        .unwrap();
    assert_eq!(level(alice.clone()).await, "standard");
    let in_person = json!({"method": "service_point", "operator": "op-1", "point": "mfc-7"});
    ids.record_level(&alice, "confirmed", &in_person, now + 5)
        .await
        .unwrap();
    assert_eq!(level(alice.clone()).await, "confirmed");

    let history = ids.levels(&alice).await.unwrap();
    let seen: Vec<_> = history
        .iter()
        .map(|c| (c.level.as_str(), &c.evidence, c.at))
        .collect();
    assert_eq!(
        seen,
        [
            ("standard", &checked, now),
            ("confirmed", &in_person, now + 5)
        ]
    );
    assert_ne!(history[0].id, history[1].id);
    // Other accounts are untouched.
    assert_eq!(level(bob.clone()).await, "simplified");
    assert!(ids.levels(&bob).await.unwrap().is_empty());

    // No account, no change: the history refers to an existing account.
    assert!(ids
        .record_level("no-such-account", "standard", &checked, now)
        .await
        .is_err());
    assert!(ids.levels("no-such-account").await.unwrap().is_empty());
}

async fn identity_and_levels_go_with_their_account(app: TestApp) {
    let ids = app.app.db.identities();
    let alice = app.user("alice", PASSWORD).await;
    let now = app.app.now();
    ids.upsert(
        &alice,
        &identity(&app, "Фёдорова", "112-233-445 95", None),
        now,
    )
    .await
    .unwrap();
    ids.record_level(&alice, "standard", &json!({"method": "test"}), now)
        .await
        .unwrap();
    sqlx::query("DELETE FROM accounts WHERE id = $1")
        .bind(&alice)
        .execute(&app.app.db.pool)
        .await
        .unwrap();
    assert!(ids.get(&alice).await.unwrap().is_none());
    assert!(ids.levels(&alice).await.unwrap().is_empty());
    let index = blind_index(&INDEX_KEY, "snils", "11223344595");
    assert_eq!(ids.by_snils_index(&index).await.unwrap(), None);
}
