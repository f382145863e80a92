//! The one way the stores talk SQL, whichever the backend.
//!
//! PostgreSQL goes through the sqlx pool. An SQLite file goes through one rusqlite
//! connection used on the calling task itself: sqlx runs every SQLite connection on a
//! thread of its own and hands each query over to it and back, and on a server with one
//! core those two thread switches per query cost more than the query (measured: about half
//! of a sign-in's CPU was sqlx and its thread, a fifth SQLite itself). SQLite answers from
//! its page cache in microseconds, so running it inline is cheaper than any hand-over; what
//! could block for long is kept off this connection:
//!
//! - waiting for another writer: the connection never sleeps in SQLite's busy handler; a
//!   busy database is retried after an asynchronous sleep, for up to [`BUSY_WAIT`];
//! - checkpoints, which `fsync`: automatic checkpoints are off on this connection, and a
//!   background task checkpoints the WAL from a connection of its own on a blocking thread.
//!
//! The statements are the same text on both backends (`$n` placeholders); rusqlite binds
//! each `$n` by its number, as sqlx does.

use super::StoreError;
use rusqlite::types::{Value, ValueRef};
use sqlx::any::AnyRow;
use sqlx::AnyPool;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, OwnedMutexGuard};

/// How long a statement waits for another writer before it fails.
pub(crate) const BUSY_WAIT: Duration = Duration::from_secs(5);
/// How often the WAL is checkpointed in the background.
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

/// Where the stores' statements go.
#[derive(Clone, Debug)]
pub enum Sql {
    /// Through the sqlx pool (PostgreSQL, or SQLite without a file of its own).
    Any(AnyPool),
    /// An SQLite file, inline.
    Lite(Arc<Lite>),
}

/// The inline SQLite connection.
pub struct Lite {
    conn: Arc<Mutex<rusqlite::Connection>>,
    path: String,
}

impl std::fmt::Debug for Lite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lite").field("path", &self.path).finish()
    }
}

impl Lite {
    /// Opens the SQLite file at `path` (created and migrated by the sqlx pool before) and
    /// starts its background checkpoints.
    pub(crate) fn open(path: &str) -> Result<Arc<Lite>, StoreError> {
        let conn = open_conn(path)?;
        // The background task checkpoints; a commit here never does.
        conn.pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(StoreError::Sqlite)?;
        let lite = Arc::new(Lite {
            conn: Arc::new(Mutex::new(conn)),
            path: path.to_owned(),
        });
        let weak = Arc::downgrade(&lite);
        let path = path.to_owned();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut checkpointer: Option<rusqlite::Connection> = None;
            // Rows this connection had changed at the last checkpoint: an idle second costs
            // nothing. Other writers (the pool, the command line) keep SQLite's own
            // checkpoint every 1000 pages.
            let mut changed_at_last = 0;
            loop {
                tick.tick().await;
                // Stops with the store.
                let Some(lite) = weak.upgrade() else {
                    break;
                };
                let changed = lite.conn.lock().await.total_changes();
                drop(lite);
                if changed == changed_at_last {
                    continue;
                }
                changed_at_last = changed;
                let p = path.clone();
                let taken = checkpointer.take();
                let done = tokio::task::spawn_blocking(move || {
                    let c = match taken {
                        Some(c) => c,
                        None => open_conn(&p)?,
                    };
                    // PASSIVE: copies what no reader still needs, waits for no one.
                    c.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))
                        .map_err(StoreError::Sqlite)?;
                    Ok::<_, StoreError>(c)
                })
                .await;
                match done {
                    Ok(Ok(c)) => checkpointer = Some(c),
                    Ok(Err(e)) => tracing::warn!(error = %e, "WAL checkpoint failed"),
                    Err(e) => tracing::warn!(error = %e, "WAL checkpoint task failed"),
                }
            }
        });
        Ok(lite)
    }
}

/// A connection to the file with the settings every connection here uses.
fn open_conn(path: &str) -> Result<rusqlite::Connection, StoreError> {
    use rusqlite::OpenFlags;
    let c = rusqlite::Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(StoreError::Sqlite)?;
    // Never sleep inside SQLite: a busy database is retried asynchronously.
    c.busy_timeout(Duration::ZERO).map_err(StoreError::Sqlite)?;
    c.pragma_update(None, "journal_mode", "WAL")
        .map_err(StoreError::Sqlite)?;
    c.pragma_update(None, "synchronous", "NORMAL")
        .map_err(StoreError::Sqlite)?;
    c.pragma_update(None, "foreign_keys", "ON")
        .map_err(StoreError::Sqlite)?;
    // Every statement of the stores stays prepared.
    c.set_prepared_statement_cache_capacity(256);
    Ok(c)
}

/// The file path in an `sqlite://PATH?...` or `sqlite:PATH` URL; `None` for an in-memory
/// database (each connection would have its own), which stays with the sqlx pool.
pub(crate) fn sqlite_path(url: &str) -> Option<String> {
    let rest = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?;
    let path = rest.split('?').next().unwrap_or("");
    if path.is_empty() || path.contains(":memory:") || url.contains("mode=memory") {
        return None;
    }
    Some(path.to_owned())
}

/// A bound value.
#[derive(Clone, Debug)]
pub enum Arg {
    /// An integer.
    I64(i64),
    /// Text.
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
    /// NULL of a text column.
    NullText,
    /// NULL of an integer column.
    NullI64,
    /// NULL of a bytes column.
    NullBlob,
}

impl rusqlite::ToSql for Arg {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::ToSqlOutput::Borrowed;
        Ok(Borrowed(match self {
            Arg::I64(v) => ValueRef::Integer(*v),
            Arg::Text(s) => ValueRef::Text(s.as_bytes()),
            Arg::Blob(b) => ValueRef::Blob(b),
            Arg::NullText | Arg::NullI64 | Arg::NullBlob => ValueRef::Null,
        }))
    }
}

/// What can be bound to a statement.
pub trait Bind {
    /// The value.
    fn arg(self) -> Arg;
}

impl Bind for i64 {
    fn arg(self) -> Arg {
        Arg::I64(self)
    }
}
impl Bind for Option<i64> {
    fn arg(self) -> Arg {
        self.map_or(Arg::NullI64, Arg::I64)
    }
}
impl Bind for &str {
    fn arg(self) -> Arg {
        Arg::Text(self.to_owned())
    }
}
impl Bind for &String {
    fn arg(self) -> Arg {
        Arg::Text(self.clone())
    }
}
impl Bind for String {
    fn arg(self) -> Arg {
        Arg::Text(self)
    }
}
impl Bind for Option<&str> {
    fn arg(self) -> Arg {
        self.map_or(Arg::NullText, |s| Arg::Text(s.to_owned()))
    }
}
impl Bind for Option<String> {
    fn arg(self) -> Arg {
        self.map_or(Arg::NullText, Arg::Text)
    }
}
impl Bind for &[u8] {
    fn arg(self) -> Arg {
        Arg::Blob(self.to_vec())
    }
}
impl Bind for &Vec<u8> {
    fn arg(self) -> Arg {
        Arg::Blob(self.clone())
    }
}
impl Bind for Vec<u8> {
    fn arg(self) -> Arg {
        Arg::Blob(self)
    }
}
impl Bind for Option<&[u8]> {
    fn arg(self) -> Arg {
        self.map_or(Arg::NullBlob, |b| Arg::Blob(b.to_vec()))
    }
}

/// A statement with its values, run by one of the `fetch`/`execute` methods.
#[must_use]
pub struct Query<'q> {
    sql: &'q str,
    args: Vec<Arg>,
}

/// A statement (`$1`, `$2`, ... for its values).
pub fn query(sql: &str) -> Query<'_> {
    Query {
        sql,
        args: Vec::new(),
    }
}

/// Where a statement runs: the store, or an open transaction.
pub enum Target<'e> {
    /// The store (each statement its own transaction).
    Sql(&'e Sql),
    /// An open transaction.
    Tx(&'e mut Tx),
}

impl<'e> From<&'e Sql> for Target<'e> {
    fn from(s: &'e Sql) -> Self {
        Target::Sql(s)
    }
}
impl<'e> From<&'e mut Tx> for Target<'e> {
    fn from(t: &'e mut Tx) -> Self {
        Target::Tx(t)
    }
}

/// What a statement changed.
#[derive(Clone, Copy, Debug)]
pub struct Done(u64);

impl Done {
    /// Rows inserted, updated or deleted.
    pub fn rows_affected(&self) -> u64 {
        self.0
    }
}

impl<'q> Query<'q> {
    /// Binds the next value (`$1` first).
    pub fn bind(mut self, v: impl Bind) -> Self {
        self.args.push(v.arg());
        self
    }

    fn any(&self) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments<'_>> {
        let mut q = sqlx::query(self.sql);
        for a in &self.args {
            q = match a {
                Arg::I64(v) => q.bind(*v),
                Arg::Text(s) => q.bind(s.as_str()),
                Arg::Blob(b) => q.bind(b.as_slice()),
                Arg::NullText => q.bind(None::<String>),
                Arg::NullI64 => q.bind(None::<i64>),
                Arg::NullBlob => q.bind(None::<Vec<u8>>),
            };
        }
        q
    }

    /// Runs the statement; its rows, all of them.
    pub async fn fetch_all<'e>(self, t: impl Into<Target<'e>>) -> Result<Vec<Row>, StoreError> {
        match t.into() {
            Target::Sql(Sql::Any(p)) => Ok(self
                .any()
                .fetch_all(p)
                .await?
                .into_iter()
                .map(Row::Any)
                .collect()),
            Target::Tx(Tx::Any(tx)) => Ok(self
                .any()
                .fetch_all(&mut **tx)
                .await?
                .into_iter()
                .map(Row::Any)
                .collect()),
            Target::Sql(Sql::Lite(l)) => Ok(lite_retrying(l, self.sql, &self.args).await?.0),
            Target::Tx(Tx::Lite(t)) => Ok(run_lite(t.conn()?, self.sql, &self.args)?.0),
        }
    }

    /// Runs the statement; its first row, if any.
    pub async fn fetch_optional<'e>(
        self,
        t: impl Into<Target<'e>>,
    ) -> Result<Option<Row>, StoreError> {
        match t.into() {
            Target::Sql(Sql::Any(p)) => Ok(self.any().fetch_optional(p).await?.map(Row::Any)),
            Target::Tx(Tx::Any(tx)) => {
                Ok(self.any().fetch_optional(&mut **tx).await?.map(Row::Any))
            }
            other => Ok(self.fetch_all(other).await?.into_iter().next()),
        }
    }

    /// Runs the statement; its first row, which must be there.
    pub async fn fetch_one<'e>(self, t: impl Into<Target<'e>>) -> Result<Row, StoreError> {
        self.fetch_optional(t)
            .await?
            .ok_or(StoreError::Db(sqlx::Error::RowNotFound))
    }

    /// Runs the statement; how many rows it changed.
    pub async fn execute<'e>(self, t: impl Into<Target<'e>>) -> Result<Done, StoreError> {
        match t.into() {
            Target::Sql(Sql::Any(p)) => Ok(Done(self.any().execute(p).await?.rows_affected())),
            Target::Tx(Tx::Any(tx)) => {
                Ok(Done(self.any().execute(&mut **tx).await?.rows_affected()))
            }
            Target::Sql(Sql::Lite(l)) => Ok(Done(lite_retrying(l, self.sql, &self.args).await?.1)),
            Target::Tx(Tx::Lite(t)) => Ok(Done(run_lite(t.conn()?, self.sql, &self.args)?.1)),
        }
    }

    /// Runs the statement; the first column of its first row, if any.
    pub async fn fetch_scalar<'e, T: Col>(
        self,
        t: impl Into<Target<'e>>,
    ) -> Result<Option<T>, StoreError> {
        match self.fetch_optional(t).await? {
            Some(r) => r.get_at(0).map(Some),
            None => Ok(None),
        }
    }
}

/// Whether SQLite said another connection holds the lock.
fn busy(e: &rusqlite::Error) -> bool {
    matches!(
        e,
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(f.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// Runs one statement (its own transaction) on the inline connection, retrying after an
/// asynchronous sleep while another connection writes. A statement that got SQLITE_BUSY
/// changed nothing, so running it again is safe.
async fn lite_retrying(l: &Lite, sql: &str, args: &[Arg]) -> Result<(Vec<Row>, u64), StoreError> {
    let deadline = tokio::time::Instant::now() + BUSY_WAIT;
    let mut pause = Duration::from_millis(1);
    loop {
        let r = {
            let c = l.conn.lock().await;
            run_lite(&c, sql, args)
        };
        match r {
            Err(StoreError::Sqlite(e)) if busy(&e) && tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

/// The column names of a prepared statement, shared by every row it returns and kept
/// between runs of the same statement text (an account row has some twenty columns: a
/// string each, every time, otherwise). A kept list is used only while it still matches
/// the statement, so a schema change (`SELECT *` after a migration) is seen.
fn column_names(sql: &str, st: &rusqlite::Statement<'_>) -> Arc<[String]> {
    type Names = std::collections::HashMap<String, Arc<[String]>>;
    static KEPT: std::sync::OnceLock<std::sync::Mutex<Names>> = std::sync::OnceLock::new();
    let kept = KEPT.get_or_init(Default::default);
    let matches = |n: &[String]| {
        n.len() == st.column_count()
            && n.iter()
                .enumerate()
                .all(|(i, name)| st.column_name(i).is_ok_and(|c| c == name))
    };
    if let Ok(map) = kept.lock() {
        if let Some(n) = map.get(sql).filter(|n| matches(n)) {
            return n.clone();
        }
    }
    let names: Arc<[String]> = st.column_names().iter().map(|s| (*s).to_owned()).collect();
    if let Ok(mut map) = kept.lock() {
        // Statement texts are the stores' own constants: a handful of hundreds at most.
        if map.len() >= 1024 {
            map.clear();
        }
        map.insert(sql.to_owned(), names.clone());
    }
    names
}

/// Runs one statement on `c`: its rows and how many rows it changed.
fn run_lite(
    c: &rusqlite::Connection,
    sql: &str,
    args: &[Arg],
) -> Result<(Vec<Row>, u64), StoreError> {
    let mut st = c.prepare_cached(sql).map_err(StoreError::Sqlite)?;
    for i in 1..=st.parameter_count() {
        // `$n` takes the n-th value, wherever and however often it appears.
        let n = st
            .parameter_name(i)
            .and_then(|p| p.strip_prefix('$'))
            .and_then(|p| p.parse::<usize>().ok())
            .ok_or(StoreError::Corrupt("statement parameter"))?;
        let a = args
            .get(n.wrapping_sub(1))
            .ok_or(StoreError::Corrupt("statement parameter"))?;
        st.raw_bind_parameter(i, a).map_err(StoreError::Sqlite)?;
    }
    let mut out = Vec::new();
    {
        let mut rows = st.raw_query();
        // The names are read once the statement has run: a statement prepared before a
        // schema change is prepared again by its first step, and only then has the new
        // columns.
        let mut names: Option<Arc<[String]>> = None;
        while let Some(r) = rows.next().map_err(StoreError::Sqlite)? {
            let names = match (&names, r.as_ref()) {
                (Some(n), _) => n.clone(),
                (None, st) => names.insert(column_names(sql, st)).clone(),
            };
            let mut vals = Vec::with_capacity(names.len());
            for i in 0..names.len() {
                vals.push(Value::from(r.get_ref(i).map_err(StoreError::Sqlite)?));
            }
            out.push(Row::Lite(LiteRow { names, vals }));
        }
    }
    Ok((out, c.changes()))
}

/// Runs a transaction-control statement (`BEGIN IMMEDIATE`, `COMMIT`, `ROLLBACK`) from
/// the statement cache: `execute_batch` would parse it again every time.
fn control(c: &rusqlite::Connection, sql: &str) -> rusqlite::Result<()> {
    c.prepare_cached(sql)?.raw_execute().map(|_| ())
}

/// A row from either backend.
pub enum Row {
    /// From sqlx.
    Any(AnyRow),
    /// From the inline SQLite connection.
    Lite(LiteRow),
}

/// A row read from the inline SQLite connection.
pub struct LiteRow {
    names: Arc<[String]>,
    vals: Vec<Value>,
}

/// A column type the stores read.
pub trait Col: Sized + for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any> {
    /// The value from an SQLite value; `None` if it has another type.
    fn from_lite(v: &Value) -> Option<Self>;
}

impl Col for i64 {
    fn from_lite(v: &Value) -> Option<Self> {
        match v {
            Value::Integer(i) => Some(*i),
            _ => None,
        }
    }
}
impl Col for String {
    fn from_lite(v: &Value) -> Option<Self> {
        match v {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        }
    }
}
impl Col for Vec<u8> {
    fn from_lite(v: &Value) -> Option<Self> {
        match v {
            Value::Blob(b) => Some(b.clone()),
            _ => None,
        }
    }
}
impl<T: Col> Col for Option<T>
where
    Option<T>: for<'r> sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    fn from_lite(v: &Value) -> Option<Self> {
        match v {
            Value::Null => Some(None),
            v => T::from_lite(v).map(Some),
        }
    }
}

impl Row {
    /// The column called `name`.
    pub fn try_get<T: Col, I: AsRef<str>>(&self, name: I) -> Result<T, StoreError> {
        let name = name.as_ref();
        match self {
            Row::Any(r) => Ok(sqlx::Row::try_get(r, name)?),
            Row::Lite(r) => {
                let i = r
                    .names
                    .iter()
                    .position(|n| n == name)
                    .ok_or(StoreError::Corrupt("missing column"))?;
                lite_col(r, i)
            }
        }
    }

    /// The column at `i` (0 first).
    pub fn get_at<T: Col>(&self, i: usize) -> Result<T, StoreError> {
        match self {
            Row::Any(r) => Ok(sqlx::Row::try_get(r, i)?),
            Row::Lite(r) => lite_col(r, i),
        }
    }
}

fn lite_col<T: Col>(r: &LiteRow, i: usize) -> Result<T, StoreError> {
    r.vals
        .get(i)
        .and_then(T::from_lite)
        .ok_or(StoreError::Corrupt("column type"))
}

/// An open transaction; rolled back when dropped without [`Tx::commit`].
pub enum Tx {
    /// On the sqlx pool.
    Any(sqlx::Transaction<'static, sqlx::Any>),
    /// On the inline SQLite connection, which it holds until it ends.
    Lite(LiteTx),
}

/// A transaction on the inline connection.
pub struct LiteTx {
    conn: Option<OwnedMutexGuard<rusqlite::Connection>>,
}

impl LiteTx {
    fn conn(&self) -> Result<&rusqlite::Connection, StoreError> {
        // Taken only by `commit` (which consumes the transaction) and `drop`.
        self.conn
            .as_deref()
            .ok_or(StoreError::Corrupt("transaction ended"))
    }
}

impl Drop for LiteTx {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take() {
            if let Err(e) = control(&c, "ROLLBACK") {
                tracing::error!(error = %e, "rollback failed");
            }
        }
    }
}

impl Sql {
    /// Whether statements run inline (an SQLite file), where a transaction costs no round
    /// trip.
    pub fn inline(&self) -> bool {
        matches!(self, Sql::Lite(_))
    }

    /// Writes `first`, then `rest` in order, unless `first` changed no row (then nothing
    /// else is written and the answer is false).
    ///
    /// On the inline SQLite connection they go in one transaction: it costs no round trip,
    /// and the rows reach the file in one commit instead of one each. Over the network
    /// (PostgreSQL) they are separate statements, a round trip each instead of two more for
    /// `BEGIN` and `COMMIT`: callers use this only where a failure halfway leaves nothing
    /// harmful (a row that nothing refers to yet).
    pub async fn write_together(
        &self,
        first: Query<'_>,
        rest: Vec<Query<'_>>,
    ) -> Result<bool, StoreError> {
        if self.inline() {
            let mut tx = self.begin().await?;
            if first.execute(&mut tx).await?.rows_affected() == 0 {
                return Ok(false);
            }
            for q in rest {
                q.execute(&mut tx).await?;
            }
            tx.commit().await?;
            return Ok(true);
        }
        if first.execute(self).await?.rows_affected() == 0 {
            return Ok(false);
        }
        for q in rest {
            q.execute(self).await?;
        }
        Ok(true)
    }

    /// Opens a transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`),
    /// so no statement inside it can find the database busy halfway.
    pub async fn begin(&self) -> Result<Tx, StoreError> {
        match self {
            Sql::Any(p) => Ok(Tx::Any(p.begin().await?)),
            Sql::Lite(l) => {
                let deadline = tokio::time::Instant::now() + BUSY_WAIT;
                let mut pause = Duration::from_millis(1);
                loop {
                    let c = l.conn.clone().lock_owned().await;
                    match control(&c, "BEGIN IMMEDIATE") {
                        Ok(()) => return Ok(Tx::Lite(LiteTx { conn: Some(c) })),
                        Err(e) if busy(&e) && tokio::time::Instant::now() < deadline => {
                            drop(c);
                            tokio::time::sleep(pause).await;
                            pause = (pause * 2).min(Duration::from_millis(50));
                        }
                        Err(e) => return Err(StoreError::Sqlite(e)),
                    }
                }
            }
        }
    }
}

impl Tx {
    /// Commits.
    pub async fn commit(self) -> Result<(), StoreError> {
        match self {
            Tx::Any(t) => Ok(t.commit().await?),
            Tx::Lite(mut t) => {
                let Some(c) = t.conn.take() else {
                    return Err(StoreError::Corrupt("transaction ended"));
                };
                match control(&c, "COMMIT") {
                    Ok(()) => Ok(()),
                    Err(e) => {
                        // Still open: undo it, so the connection is usable again.
                        let _ = control(&c, "ROLLBACK");
                        Err(StoreError::Sqlite(e))
                    }
                }
            }
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A fresh directory for an SQLite file, and the file's URL.
    pub(crate) fn scratch_file(prefix: &str) -> (String, std::path::PathBuf) {
        let dir = std::env::temp_dir().join(format!(
            "vhod-{prefix}-{}",
            crate::crypto::random_token(9).replace(['-', '_'], "x")
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.join("t.db").display());
        (url, dir)
    }

    /// A fresh SQLite file with a table, through the store's own connection.
    async fn scratch() -> (Db, std::path::PathBuf) {
        let (url, dir) = scratch_file("sql");
        let db = Db::connect(&url).await.unwrap();
        assert!(db.sql.inline(), "an SQLite file is queried inline");
        query("CREATE TABLE t (k TEXT PRIMARY KEY, n BIGINT, b BLOB)")
            .execute(&db.sql)
            .await
            .unwrap();
        (db, dir)
    }

    use super::super::Db;

    #[tokio::test]
    async fn placeholders_bind_by_number_wherever_they_appear() {
        let (db, dir) = scratch().await;
        let r = query("SELECT $2 AS two, $1 AS one, $2 || $2 AS twice, $3 AS none")
            .bind(1_i64)
            .bind("b")
            .bind(None::<&str>)
            .fetch_one(&db.sql)
            .await
            .unwrap();
        assert_eq!(r.try_get::<String, _>("two").unwrap(), "b");
        assert_eq!(r.try_get::<i64, _>("one").unwrap(), 1);
        assert_eq!(r.try_get::<String, _>("twice").unwrap(), "bb");
        assert_eq!(r.try_get::<Option<String>, _>("none").unwrap(), None);
        // A column of another type, or one that is not there, is an error, not a panic.
        assert!(matches!(
            r.try_get::<i64, _>("two"),
            Err(StoreError::Corrupt(_))
        ));
        assert!(matches!(
            r.try_get::<i64, _>("absent"),
            Err(StoreError::Corrupt(_))
        ));
        // Too few values for the placeholders: an error.
        assert!(query("SELECT $1, $2")
            .bind(1_i64)
            .fetch_one(&db.sql)
            .await
            .is_err());
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn writes_count_rows_and_unique_violations_are_conflicts() {
        let (db, dir) = scratch().await;
        let ins = |k: &'static str| {
            query("INSERT INTO t (k, n, b) VALUES ($1, $2, $3) ON CONFLICT (k) DO NOTHING")
                .bind(k)
                .bind(7_i64)
                .bind(&b"\x00\xff"[..])
        };
        assert_eq!(ins("a").execute(&db.sql).await.unwrap().rows_affected(), 1);
        assert_eq!(ins("a").execute(&db.sql).await.unwrap().rows_affected(), 0);
        let dup = query("INSERT INTO t (k) VALUES ($1)")
            .bind("a")
            .execute(&db.sql)
            .await
            .unwrap_err();
        assert!(matches!(
            super::super::conflict(dup, "key"),
            StoreError::Conflict("key")
        ));
        let n: Option<i64> = query("UPDATE t SET n = n + 1 WHERE k = $1 RETURNING n")
            .bind("a")
            .fetch_scalar(&db.sql)
            .await
            .unwrap();
        assert_eq!(n, Some(8));
        let b: Option<Vec<u8>> = query("SELECT b FROM t WHERE k = $1")
            .bind("a")
            .fetch_scalar(&db.sql)
            .await
            .unwrap();
        assert_eq!(b.as_deref(), Some(&b"\x00\xff"[..]));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn a_transaction_dropped_without_commit_is_rolled_back() {
        let (db, dir) = scratch().await;
        {
            let mut tx = db.sql.begin().await.unwrap();
            query("INSERT INTO t (k) VALUES ('gone')")
                .execute(&mut tx)
                .await
                .unwrap();
        }
        let mut tx = db.sql.begin().await.unwrap();
        query("INSERT INTO t (k) VALUES ('kept')")
            .execute(&mut tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        let keys: Vec<String> = query("SELECT k FROM t ORDER BY k")
            .fetch_all(&db.sql)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get_at(0).unwrap())
            .collect();
        assert_eq!(keys, ["kept"]);
        // The pool (another connection) sees the committed row.
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM t")
            .fetch_one(&db.pool)
            .await
            .unwrap();
        assert_eq!(n, 1);
        let _ = std::fs::remove_dir_all(dir);
    }

    /// Another connection holds the write lock; the inline write must wait for it without
    /// blocking the runtime's thread. On a single-threaded runtime the lock is released by
    /// another task on the same thread: if the write slept inside SQLite instead, that task
    /// could not run and the write would fail after `BUSY_WAIT`.
    #[tokio::test(flavor = "current_thread")]
    async fn a_busy_database_is_waited_for_without_blocking_the_runtime() {
        let (db, dir) = scratch().await;
        let other = rusqlite::Connection::open(dir.join("t.db")).unwrap();
        other
            .execute_batch("BEGIN IMMEDIATE; INSERT INTO t (k) VALUES ('other')")
            .unwrap();
        let sql = db.sql.clone();
        let write = tokio::spawn(async move {
            query("INSERT INTO t (k) VALUES ('mine')")
                .execute(&sql)
                .await
        });
        // Lets the write start and find the database locked.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(!write.is_finished(), "the write waits for the lock");
        other.execute_batch("COMMIT").unwrap();
        write.await.unwrap().unwrap();
        let n: Option<i64> = query("SELECT COUNT(*) FROM t")
            .fetch_scalar(&db.sql)
            .await
            .unwrap();
        assert_eq!(n, Some(2));
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test]
    async fn the_wal_is_checkpointed_in_the_background() {
        let (db, dir) = scratch().await;
        let file = dir.join("t.db");
        let before = std::fs::metadata(&file).unwrap().len();
        let mut tx = db.sql.begin().await.unwrap();
        for i in 0..200_i64 {
            query("INSERT INTO t (k, n, b) VALUES ($1, $2, $3)")
                .bind(format!("key-{i}"))
                .bind(i)
                .bind(vec![7_u8; 512])
                .execute(&mut tx)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        // The rows are in the WAL; the main file grows once a checkpoint copies them.
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        while std::fs::metadata(&file).unwrap().len() <= before {
            assert!(
                std::time::Instant::now() < deadline,
                "no checkpoint within 20 s"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let _ = std::fs::remove_dir_all(dir);
    }

    /// Column names are kept between runs of a statement, and follow a schema change.
    #[tokio::test]
    async fn rows_name_their_columns_after_a_schema_change() {
        let (db, dir) = scratch().await;
        query("INSERT INTO t (k, n) VALUES ('a', 1)")
            .execute(&db.sql)
            .await
            .unwrap();
        let all = || query("SELECT * FROM t WHERE k = $1").bind("a");
        for _ in 0..2 {
            let r = all().fetch_one(&db.sql).await.unwrap();
            assert_eq!(r.try_get::<i64, _>("n").unwrap(), 1);
            assert!(r.try_get::<String, _>("z").is_err());
        }
        query("ALTER TABLE t ADD COLUMN z TEXT NOT NULL DEFAULT 'new'")
            .execute(&db.sql)
            .await
            .unwrap();
        let r = all().fetch_one(&db.sql).await.unwrap();
        assert_eq!(r.try_get::<String, _>("z").unwrap(), "new");
        assert_eq!(r.try_get::<i64, _>("n").unwrap(), 1);
        let _ = std::fs::remove_dir_all(dir);
    }

    /// `write_together` writes the rest only after a first statement that changed a row,
    /// inline (one transaction) and through the pool (separate statements) alike.
    #[tokio::test]
    async fn writes_together_stop_when_the_first_changes_nothing() {
        let (file, dir) = scratch().await;
        let memory = Db::connect("sqlite::memory:").await.unwrap();
        assert!(
            !memory.sql.inline(),
            "an in-memory database stays with the pool"
        );
        query("CREATE TABLE t (k TEXT PRIMARY KEY, n BIGINT, b BLOB)")
            .execute(&memory.sql)
            .await
            .unwrap();
        for sql in [&file.sql, &memory.sql] {
            let put = |k: &'static str| {
                query("INSERT INTO t (k) VALUES ($1) ON CONFLICT (k) DO NOTHING").bind(k)
            };
            assert!(sql
                .write_together(put("a"), vec![put("b"), put("c")])
                .await
                .unwrap());
            // `a` is there: nothing more is written.
            assert!(!sql.write_together(put("a"), vec![put("d")]).await.unwrap());
            let keys: Vec<String> = query("SELECT k FROM t ORDER BY k")
                .fetch_all(sql)
                .await
                .unwrap()
                .iter()
                .map(|r| r.get_at(0).unwrap())
                .collect();
            assert_eq!(keys, ["a", "b", "c"]);
        }
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn only_sqlite_files_are_queried_inline() {
        assert_eq!(
            sqlite_path("sqlite:///var/lib/vhod/vhod.db?mode=rwc").as_deref(),
            Some("/var/lib/vhod/vhod.db")
        );
        assert_eq!(
            sqlite_path("sqlite:data/v.db").as_deref(),
            Some("data/v.db")
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("sqlite://x.db?mode=memory"), None);
        assert_eq!(sqlite_path("postgres://u@h/db"), None);
    }
}
