//! Sign-in history: one row per successful sign-in (time, IP address, user agent, device,
//! methods), newest first for the citizen; and the account's browser sessions.

use super::sql::{query, Query, Sql};
use super::StoreError;

/// One sign-in.
#[derive(Clone, Debug, serde::Serialize)]
pub struct LoginEvent {
    /// Unix time.
    pub at: i64,
    /// The client's IP address.
    pub ip: String,
    /// The browser's User-Agent (at most 200 characters).
    pub user_agent: String,
    /// Keyed hash of the browser's device cookie.
    #[serde(skip)]
    pub device: String,
    /// Methods used (RFC 8176), space-separated.
    pub amr: String,
}

/// What the history knew of a sign-in as it was recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seen {
    /// The account had signed in from this device before.
    pub here: bool,
    /// The account had signed in before at all.
    pub before: bool,
    /// The account's notification settings.
    pub notices: super::notifications::NotificationSettings,
}

/// Sign-in history.
pub struct History<'a>(pub(crate) &'a Sql);

impl History<'_> {
    /// Records a sign-in, and the session it started (expiring at the given time) if it
    /// started one; answers what the account's history knew before it, and the account's
    /// notification settings, so that a sign-in from a new browser can be told.
    ///
    /// On the inline SQLite connection the look-up and the rows are one transaction: the
    /// look-up then takes no lock of its own. Over the network it is one query before the
    /// rows.
    pub async fn record(
        &self,
        account_id: &str,
        e: &LoginEvent,
        session: Option<(&SessionRow, i64)>,
    ) -> Result<Seen, StoreError> {
        // Whether the account has signed in from this device before, and at all: two index
        // probes (`login_events_device`), whose cost does not grow with the history.
        let look = query(
            "SELECT \
             CAST(CASE WHEN EXISTS (SELECT 1 FROM login_events WHERE account_id = $1) \
                  THEN 1 ELSE 0 END AS BIGINT) AS seen, \
             CAST(CASE WHEN EXISTS (SELECT 1 FROM login_events \
                  WHERE account_id = $1 AND device = $2) THEN 1 ELSE 0 END AS BIGINT) AS here, \
             (SELECT channel FROM notification_settings WHERE account_id = $1) AS channel, \
             (SELECT new_device FROM notification_settings WHERE account_id = $1) AS new_device",
        )
        .bind(account_id)
        .bind(&e.device);
        let event = query(
            "INSERT INTO login_events (id, account_id, at, ip, user_agent, device, amr) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(account_id)
        .bind(e.at)
        .bind(&e.ip)
        .bind(&e.user_agent)
        .bind(&e.device)
        .bind(&e.amr);
        let session = session.map(|(row, expires_at)| session_row(account_id, row, expires_at));
        let row = if self.0.inline() {
            let mut tx = self.0.begin().await?;
            let row = look.fetch_one(&mut tx).await?;
            event.execute(&mut tx).await?;
            if let Some(s) = session {
                s.execute(&mut tx).await?;
            }
            tx.commit().await?;
            row
        } else {
            let row = look.fetch_one(self.0).await?;
            // The event always adds its row, so the session row follows it.
            self.0
                .write_together(event, session.into_iter().collect())
                .await?;
            row
        };
        Ok(Seen {
            here: row.try_get::<i64, _>("here")? > 0,
            before: row.try_get::<i64, _>("seen")? > 0,
            notices: super::notifications::settings_from(
                row.try_get("channel")?,
                row.try_get("new_device")?,
            )?,
        })
    }

    /// The latest `limit` sign-ins, newest first.
    pub async fn list(&self, account_id: &str, limit: i64) -> Result<Vec<LoginEvent>, StoreError> {
        let rows = query(
            "SELECT at, ip, user_agent, device, amr FROM login_events WHERE account_id = $1 \
             ORDER BY at DESC, id LIMIT $2",
        )
        .bind(account_id)
        .bind(limit)
        .fetch_all(self.0)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(LoginEvent {
                    at: r.try_get("at")?,
                    ip: r.try_get("ip")?,
                    user_agent: r.try_get("user_agent")?,
                    device: r.try_get("device")?,
                    amr: r.try_get("amr")?,
                })
            })
            .collect()
    }
}

/// A browser session as the account lists it.
#[derive(Clone, Debug, serde::Serialize)]
pub struct SessionRow {
    /// Public session id.
    pub sid: String,
    /// Where the session lives in the shared cache.
    #[serde(skip)]
    pub cache_key: String,
    /// Unix time it began.
    pub started_at: i64,
    /// Its IP address then.
    pub ip: String,
    /// Its browser.
    pub user_agent: String,
}

/// The account's browser sessions.
pub struct Sessions<'a>(pub(crate) &'a Sql);

impl Sessions<'_> {
    /// Records a new session.
    pub async fn record(
        &self,
        account_id: &str,
        row: &SessionRow,
        expires_at: i64,
    ) -> Result<(), StoreError> {
        session_row(account_id, row, expires_at)
            .execute(self.0)
            .await?;
        Ok(())
    }

    /// Sessions not yet expired at `now`, newest first (the caller checks which still live).
    pub async fn list(&self, account_id: &str, now: i64) -> Result<Vec<SessionRow>, StoreError> {
        let rows = query(
            "SELECT sid, cache_key, started_at, ip, user_agent FROM account_sessions \
             WHERE account_id = $1 AND expires_at > $2 ORDER BY started_at DESC, sid",
        )
        .bind(account_id)
        .bind(now)
        .fetch_all(self.0)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SessionRow {
                    sid: r.try_get("sid")?,
                    cache_key: r.try_get("cache_key")?,
                    started_at: r.try_get("started_at")?,
                    ip: r.try_get("ip")?,
                    user_agent: r.try_get("user_agent")?,
                })
            })
            .collect()
    }

    /// Forgets a session of `account_id`; returns its cache key if it was there.
    pub async fn remove(&self, account_id: &str, sid: &str) -> Result<Option<String>, StoreError> {
        let key: Option<String> = query(
            "DELETE FROM account_sessions WHERE account_id = $1 AND sid = $2 RETURNING cache_key",
        )
        .bind(account_id)
        .bind(sid)
        .fetch_scalar(self.0)
        .await?;
        Ok(key)
    }
}

/// The statement listing a new session of `account_id`.
fn session_row(account_id: &str, row: &SessionRow, expires_at: i64) -> Query<'static> {
    query(
        "INSERT INTO account_sessions (sid, account_id, cache_key, started_at, expires_at, \
         ip, user_agent) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&row.sid)
    .bind(account_id)
    .bind(&row.cache_key)
    .bind(row.started_at)
    .bind(expires_at)
    .bind(&row.ip)
    .bind(&row.user_agent)
}
