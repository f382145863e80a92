//! The audit trail: an append-only, tamper-evident log of what matters to a citizen or an
//! auditor (certificates issued and revoked, documents signed, signing refused, ...).
//!
//! Each event carries an HMAC-SHA-256 over its own fields and the previous event's MAC, under a
//! key derived from the key-encryption key. Changing, removing or inserting a row therefore
//! breaks the chain at that row, and without the KEK nobody can forge a consistent chain even
//! with write access to the table. Cutting events off the end leaves a valid shorter chain:
//! [`Audit::verify`] returns the head (count and last MAC) so an operator can compare it with
//! one recorded earlier.
//!
//! Nodes append concurrently: each reads the head, computes `seq + 1` and inserts; the primary
//! key lets exactly one of two racing nodes win, and the other retries on the new head.

use crate::{Clock, Error, Kek};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use sqlx::{AnyPool, Row};
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// MAC of the (absent) event before the first one.
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// How many times an append retries when another node took the same sequence number.
const APPEND_ATTEMPTS: u32 = 50;

/// An event to append.
#[derive(Clone, Debug)]
pub struct NewEvent<'a> {
    /// Who acted: `account:<id>`, `client:<id>`, `cli`, `system`, ...
    pub actor: &'a str,
    /// What happened, dotted: `certificate.issued`, `signature.created`, ...
    pub action: &'a str,
    /// Whom or what it concerns (an account id, a certificate serial, a request id).
    pub subject: Option<&'a str>,
    /// Further facts, as JSON. Never secrets or private keys.
    pub details: serde_json::Value,
}

/// An event as stored.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Event {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// Unix seconds.
    pub at: i64,
    /// Who acted.
    pub actor: String,
    /// What happened.
    pub action: String,
    /// Whom or what it concerns.
    pub subject: Option<String>,
    /// Further facts.
    pub details: serde_json::Value,
    /// This event's chain MAC (hex).
    pub mac: String,
}

/// What [`Audit::verify`] found.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Verification {
    /// Events checked (up to the first broken one).
    pub events: i64,
    /// The MAC of the last event checked (the genesis value when there are none).
    pub head: String,
    /// The first event that breaks the chain, and why.
    pub broken: Option<Broken>,
}

/// Where and why the chain breaks.
#[derive(Clone, Debug, Serialize, PartialEq)]
pub struct Broken {
    /// The sequence number expected or found there.
    pub seq: i64,
    /// What is wrong.
    pub reason: &'static str,
}

/// The audit trail on one database. Cheap to clone.
#[derive(Clone)]
pub struct Audit {
    pool: AnyPool,
    key: Arc<[u8; 32]>,
    clock: Arc<dyn Clock>,
}

impl std::fmt::Debug for Audit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Audit").finish_non_exhaustive()
    }
}

impl Audit {
    /// The trail on `pool` (whose `keys` migrations have run), chained under a key derived
    /// from `kek`.
    pub fn new(pool: AnyPool, kek: &Kek, clock: Arc<dyn Clock>) -> Audit {
        Audit {
            pool,
            key: Arc::new(kek.derive_key(b"vhod/audit-chain/v1")),
            clock,
        }
    }

    fn mac(&self, e: &Event, prev: &str) -> String {
        // Length-prefixed fields, so no two different events encode alike.
        let mut m = match <Hmac<Sha256> as Mac>::new_from_slice(self.key.as_slice()) {
            Ok(m) => m,
            // HMAC takes keys of any length; this arm cannot be reached.
            Err(_) => return String::new(),
        };
        let details = e.details.to_string();
        let subject = e.subject.as_deref();
        for part in [
            prev.as_bytes(),
            &e.seq.to_be_bytes(),
            &e.at.to_be_bytes(),
            e.actor.as_bytes(),
            e.action.as_bytes(),
            &[u8::from(subject.is_some())],
            subject.unwrap_or("").as_bytes(),
            details.as_bytes(),
        ] {
            m.update(&(part.len() as u64).to_be_bytes());
            m.update(part);
        }
        hex(&m.finalize().into_bytes())
    }

    /// Appends an event and returns its sequence number.
    pub async fn append(&self, e: NewEvent<'_>) -> Result<i64, Error> {
        let mut last_err = None;
        for attempt in 0..APPEND_ATTEMPTS {
            let head = sqlx::query("SELECT seq, mac FROM audit_events ORDER BY seq DESC LIMIT 1")
                .fetch_optional(&self.pool)
                .await?;
            let (seq, prev) = match head {
                Some(r) => (r.try_get::<i64, _>(0)? + 1, r.try_get::<String, _>(1)?),
                None => (1, GENESIS.to_owned()),
            };
            let mut ev = Event {
                seq,
                at: self.clock.now(),
                actor: e.actor.to_owned(),
                action: e.action.to_owned(),
                subject: e.subject.map(str::to_owned),
                details: e.details.clone(),
                mac: String::new(),
            };
            ev.mac = self.mac(&ev, &prev);
            let inserted = sqlx::query(
                "INSERT INTO audit_events (seq, at, actor, action, subject, details, mac) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(ev.seq)
            .bind(ev.at)
            .bind(&ev.actor)
            .bind(&ev.action)
            .bind(ev.subject.clone())
            .bind(ev.details.to_string())
            .bind(&ev.mac)
            .execute(&self.pool)
            .await;
            match inserted {
                Ok(_) => return Ok(seq),
                // Another node took `seq` first (or SQLite was busy): read the new head.
                Err(sqlx::Error::Database(d)) => {
                    last_err = Some(sqlx::Error::Database(d));
                    let jitter = u64::from(attempt) * 2 + u64::from(rand::random::<u8>() % 5);
                    tokio::time::sleep(std::time::Duration::from_millis(jitter)).await;
                }
                Err(other) => return Err(other.into()),
            }
        }
        Err(last_err.map_or(Error::Key("audit append".into()), Error::Db))
    }

    /// Events, newest first: those about `subject` when given, with `seq < before` when given.
    pub async fn list(
        &self,
        subject: Option<&str>,
        before: Option<i64>,
        limit: i64,
    ) -> Result<Vec<Event>, Error> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, action, subject, details, mac FROM audit_events \
             WHERE ($1 IS NULL OR subject = $1) AND seq < $2 ORDER BY seq DESC LIMIT $3",
        )
        .bind(subject.map(str::to_owned))
        .bind(before.unwrap_or(i64::MAX))
        .bind(limit.clamp(1, 1000))
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(event_of).collect()
    }

    /// Walks the whole chain from the first event and reports the first break.
    pub async fn verify(&self) -> Result<Verification, Error> {
        let mut prev = GENESIS.to_owned();
        let mut expected = 1i64;
        let mut events = 0i64;
        const PAGE: i64 = 1000;
        loop {
            let rows = sqlx::query(
                "SELECT seq, at, actor, action, subject, details, mac FROM audit_events \
                 WHERE seq >= $1 ORDER BY seq LIMIT $2",
            )
            .bind(expected)
            .bind(PAGE)
            .fetch_all(&self.pool)
            .await?;
            let n = rows.len();
            for r in &rows {
                let broken = |reason| {
                    Ok(Verification {
                        events,
                        head: prev.clone(),
                        broken: Some(Broken {
                            seq: expected,
                            reason,
                        }),
                    })
                };
                let ev = match event_of(r) {
                    Ok(ev) => ev,
                    Err(_) => return broken("unreadable event"),
                };
                if ev.seq != expected {
                    return broken("event missing");
                }
                if !bool::from(self.mac(&ev, &prev).as_bytes().ct_eq(ev.mac.as_bytes())) {
                    return broken("event altered (MAC does not match)");
                }
                prev = ev.mac;
                expected += 1;
                events += 1;
            }
            if (n as i64) < PAGE {
                break;
            }
        }
        // A first event numbered above 1 means the start was cut off.
        let first: Option<i64> = sqlx::query_scalar("SELECT MIN(seq) FROM audit_events")
            .fetch_one(&self.pool)
            .await?;
        if events == 0 && first.is_some_and(|s| s != 1) {
            return Ok(Verification {
                events,
                head: prev,
                broken: Some(Broken {
                    seq: 1,
                    reason: "event missing",
                }),
            });
        }
        Ok(Verification {
            events,
            head: prev,
            broken: None,
        })
    }
}

fn event_of(r: &sqlx::any::AnyRow) -> Result<Event, Error> {
    let details: String = r.try_get(5)?;
    Ok(Event {
        seq: r.try_get(0)?,
        at: r.try_get(1)?,
        actor: r.try_get(2)?,
        action: r.try_get(3)?,
        subject: r.try_get(4)?,
        details: serde_json::from_str(&details).unwrap_or(serde_json::Value::String(details)),
        mac: r.try_get(6)?,
    })
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ManualClock;

    async fn trail() -> (Audit, AnyPool) {
        sqlx::any::install_default_drivers();
        let pool = sqlx::any::AnyPoolOptions::new()
            .max_connections(1)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        crate::migrate(&pool, crate::Backend::Sqlite).await.unwrap();
        let kek = Kek::from_bytes([7; 32]);
        let clock = Arc::new(ManualClock::new(1_700_000_000));
        (Audit::new(pool.clone(), &kek, clock), pool)
    }

    fn ev(action: &str) -> NewEvent<'_> {
        NewEvent {
            actor: "account:a1",
            action,
            subject: Some("a1"),
            details: serde_json::json!({"serial": "01"}),
        }
    }

    #[tokio::test]
    async fn a_clean_chain_verifies_and_lists_newest_first() {
        let (a, _) = trail().await;
        assert_eq!(a.verify().await.unwrap().events, 0);
        for (i, act) in ["one", "two", "three"].iter().enumerate() {
            assert_eq!(a.append(ev(act)).await.unwrap(), i as i64 + 1);
        }
        let v = a.verify().await.unwrap();
        assert_eq!((v.events, v.broken), (3, None));
        let l = a.list(Some("a1"), None, 10).await.unwrap();
        assert_eq!(
            l.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
            ["three", "two", "one"]
        );
        assert_eq!(v.head, l[0].mac);
        assert!(a.list(Some("other"), None, 10).await.unwrap().is_empty());
        assert_eq!(a.list(None, Some(3), 10).await.unwrap().len(), 2);
    }

    #[tokio::test]
    async fn altering_removing_or_reforging_an_event_breaks_the_chain() {
        let (a, pool) = trail().await;
        for act in ["one", "two", "three"] {
            a.append(ev(act)).await.unwrap();
        }
        sqlx::query("UPDATE audit_events SET details = '{\"serial\":\"02\"}' WHERE seq = 2")
            .execute(&pool)
            .await
            .unwrap();
        let v = a.verify().await.unwrap();
        assert_eq!(v.events, 1);
        assert_eq!(v.broken.unwrap().seq, 2);

        let (a, pool) = trail().await;
        for act in ["one", "two", "three"] {
            a.append(ev(act)).await.unwrap();
        }
        sqlx::query("DELETE FROM audit_events WHERE seq = 2")
            .execute(&pool)
            .await
            .unwrap();
        let b = a.verify().await.unwrap().broken.unwrap();
        assert_eq!((b.seq, b.reason), (2, "event missing"));

        // A trail keyed by another KEK cannot produce events this one accepts.
        let (a, pool) = trail().await;
        a.append(ev("one")).await.unwrap();
        let forger = Audit::new(
            pool.clone(),
            &Kek::from_bytes([8; 32]),
            Arc::new(ManualClock::new(1)),
        );
        forger.append(ev("forged")).await.unwrap();
        let b = a.verify().await.unwrap().broken.unwrap();
        assert_eq!(b.seq, 2);
    }

    #[tokio::test]
    async fn concurrent_appends_make_one_unbroken_chain() {
        let (a, _) = trail().await;
        let mut tasks = Vec::new();
        for i in 0..20 {
            let a = a.clone();
            tasks.push(tokio::spawn(async move {
                a.append(NewEvent {
                    actor: "system",
                    action: "test.event",
                    subject: None,
                    details: serde_json::json!({ "i": i }),
                })
                .await
                .unwrap()
            }));
        }
        let mut seqs = Vec::new();
        for t in tasks {
            seqs.push(t.await.unwrap());
        }
        seqs.sort();
        assert_eq!(seqs, (1..=20).collect::<Vec<_>>());
        let v = a.verify().await.unwrap();
        assert_eq!((v.events, v.broken), (20, None));
    }
}
