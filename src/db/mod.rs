//! Storage: one diesel code path over SQLite and PostgreSQL.
//!
//! [`DbConn`] is a `MultiConnection` over both engines, picked from the URL
//! scheme by [`Manager`]; [`Db`] is an r2d2 pool whose blocking work runs on
//! tokio's blocking threads so it never stalls the async executor. Queries
//! live in one file per table as plain sync functions taking `&mut DbConn`.
//! This module is a leaf: it imports nothing from the rest of the crate but
//! the error and config types.

pub mod activity;
pub mod actor;
pub mod answer;
pub mod audience;
pub mod community;
pub mod community_stats;
pub mod delivery;
pub mod digest;
pub mod domain_policy;
pub mod events;
pub mod experts;
pub mod facts;
pub mod filter;
pub mod follow;
pub mod followed_tag;
pub mod host_software;
pub mod instance_setting;
pub mod invite;
pub mod list;
pub mod local_user;
pub mod marks;
pub mod media;
pub mod migrations;
pub mod moves;
pub mod notification;
pub mod notification_policy;
pub mod oauth;
pub mod oidc;
pub mod partner;
pub mod portability;
pub mod post;
pub mod push;
pub mod reaction;
pub mod received_activity;
pub mod report;
pub mod schema;
pub mod search;
pub mod stats;
pub mod suggestion;
pub mod timeline;
mod url;
pub mod web_session;

pub use self::url::DbUrl;

use crate::{
    config::{redact_url, Backend},
    error::{Error, ErrorKind, Result},
};
use diesel::{
    connection::SimpleConnection,
    r2d2::{self, ManageConnection, Pool, PooledConnection},
    Connection, PgConnection, SqliteConnection,
};
use std::{sync::PoisonError, time::Duration};

/// One connection to either backend.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgresql(PgConnection),
    Sqlite(SqliteConnection),
}

impl DbConn {
    pub fn backend(&self) -> Backend {
        match self {
            DbConn::Postgresql(_) => Backend::Postgres,
            DbConn::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// Runs `$body` with `$c` bound to the concrete connection of either backend,
/// for the few statements `MultiConnection` cannot express (ON CONFLICT,
/// SKIP LOCKED, full-text search). The body compiles once per backend.
#[macro_export]
macro_rules! per_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            $crate::db::DbConn::Postgresql($c) => $body,
            $crate::db::DbConn::Sqlite($c) => $body,
        }
    };
}

/// Loads one [`Page`] of a boxed query keyed by a time-ordered id column:
/// newest first below `max_id` and above `since_id`; with `min_id`, the
/// oldest rows above it, returned newest first as Mastodon does.
#[macro_export]
macro_rules! load_page {
    ($conn:expr, $query:expr, $id:expr, $page:expr) => {{
        let page: &$crate::db::Page = $page;
        let mut q = $query;
        if let Some(max) = &page.max_id {
            q = q.filter($id.lt(max.clone()));
        }
        if let Some(since) = &page.since_id {
            q = q.filter($id.gt(since.clone()));
        }
        match &page.min_id {
            Some(min) => q
                .filter($id.gt(min.clone()))
                .order($id.asc())
                .limit(page.limit)
                .load($conn)
                .map(|mut rows: Vec<_>| {
                    rows.reverse();
                    rows
                }),
            None => q.order($id.desc()).limit(page.limit).load($conn),
        }
    }};
}

/// SQLite settings that must hold on every connection. `busy_timeout` comes
/// before WAL: r2d2 opens connections in parallel and would otherwise see
/// "database is locked" (research/stack.md §4).
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 10000; \
    PRAGMA journal_mode = WAL; \
    PRAGMA synchronous = NORMAL; \
    PRAGMA foreign_keys = ON;";

/// An r2d2 manager that chooses the backend by URL scheme.
#[derive(Debug, Clone)]
pub struct Manager {
    url: String,
    backend: Backend,
}

/// Opens a PostgreSQL connection, initializing OpenSSL first.
///
/// libpq shares this binary's (statically linked) OpenSSL. Left to itself,
/// OpenSSL registers an `atexit` handler that frees its global state; a
/// pool thread still negotiating TLS with the server when the process
/// exits (r2d2 opens connections in the background, and a CLI command exits
/// right after its work) then reads freed memory and the process dies with
/// SIGSEGV. The `openssl` crate's initialization passes
/// `OPENSSL_INIT_NO_ATEXIT`, and only the first initialization counts, so
/// it must run before libpq's.
pub fn establish_postgres(url: &str) -> diesel::ConnectionResult<PgConnection> {
    openssl::init();
    PgConnection::establish(url)
}

impl Manager {
    pub fn new(url: &str) -> Result<Manager> {
        let backend = Backend::from_url(url).map_err(|e| Error::new(ErrorKind::BadRequest, e.0))?;
        Ok(Manager {
            url: url.to_string(),
            backend,
        })
    }

    /// The file path of a `sqlite://` URL (`sqlite:///abs` is absolute).
    fn sqlite_path(&self) -> &str {
        self.url.trim_start_matches("sqlite://")
    }
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        match self.backend {
            Backend::Postgres => establish_postgres(&self.url)
                .map(DbConn::Postgresql)
                .map_err(r2d2::Error::ConnectionError),
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(self.sqlite_path())
                    .map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute(SQLITE_PRAGMAS)
                    .map_err(r2d2::Error::QueryError)?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }

    /// Runs on every checkout: a prepared (and cached) `SELECT ?`, so the
    /// check costs no statement parse per `Db::run` as `SELECT 1` through
    /// `batch_execute` did.
    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        use diesel::{IntoSql, RunQueryDsl};
        diesel::select(1.into_sql::<diesel::sql_types::Integer>())
            .get_result::<i32>(conn)
            .map(|_| ())
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut DbConn) -> bool {
        false
    }
}

/// The connection pool, cheap to clone.
#[derive(Clone)]
pub struct Db {
    pool: Pool<Manager>,
    backend: Backend,
    /// This process's change events for the streaming API (see [`events`]).
    events: tokio::sync::broadcast::Sender<events::StreamEvent>,
    /// SQLite: held by [`Db::transaction`] while it writes. SQLite has one
    /// writer at a time; left to `busy_timeout`, the others poll with
    /// sleeps of up to 100 ms while the lock may already be free again, so
    /// under load the write lock sat idle between transactions. Waiting
    /// here queues them instead (other processes on the file still wait
    /// out `busy_timeout`).
    writer: std::sync::Arc<std::sync::Mutex<()>>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend)
            .finish()
    }
}

impl Db {
    /// Opens the pool. One connection is made first, directly, so that an
    /// unreachable server or unwritable file fails at once with the driver's
    /// own reason instead of r2d2's "timed out waiting for connection".
    pub fn connect(url: &str, pool_size: u32) -> Result<Db> {
        let manager = Manager::new(url)?;
        if manager.backend == Backend::Sqlite {
            let path = std::path::Path::new(manager.sqlite_path());
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).map_err(|e| {
                    Error::new(
                        ErrorKind::Unavailable,
                        format!("cannot create database directory {}: {e}", dir.display()),
                    )
                })?;
            }
        }
        let first = manager.connect().map_err(|e| {
            Error::new(
                ErrorKind::Unavailable,
                format!(
                    "cannot connect to database {}: {}",
                    redact_url(url),
                    e.to_string().trim()
                ),
            )
        })?;
        let pool = Pool::builder()
            .max_size(pool_size)
            .min_idle(Some(1))
            .connection_timeout(Duration::from_secs(10))
            .build_unchecked(manager.clone());
        // Hand the probe connection to nobody: dropping it is enough, the
        // pool opens its own lazily.
        drop(first);
        Ok(Db {
            pool,
            backend: manager.backend,
            events: tokio::sync::broadcast::channel(EVENT_BACKLOG).0,
            writer: Default::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The sender of this process's change events: the streaming hub
    /// subscribes to it, the PostgreSQL listener feeds it.
    pub fn events(&self) -> &tokio::sync::broadcast::Sender<events::StreamEvent> {
        &self.events
    }

    /// Takes a connection, blocking. Only for blocking contexts (CLI, tests);
    /// async code uses [`Db::run`].
    pub fn get(&self) -> Result<PooledConnection<Manager>> {
        Ok(self.pool.get()?)
    }

    /// Runs blocking diesel work on a blocking thread.
    pub async fn run<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&mut DbConn) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let (pool, events) = (self.pool.clone(), self.events.clone());
        tokio::task::spawn_blocking(move || {
            let mut conn = pool.get()?;
            // Anything left from blocking work outside `run` is dropped.
            drop(events::take_pending());
            let result = f(&mut conn);
            let pending = events::take_pending();
            if result.is_ok() {
                // Committed (SQLite only queues; PostgreSQL notified at
                // commit). No subscriber is no error.
                for event in pending {
                    let _ = events.send(event);
                }
            }
            result
        })
        .await?
    }

    /// Like [`Db::run`], inside one transaction (rolled back on `Err`).
    pub async fn transaction<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&mut DbConn) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let writer = self.writer.clone();
        self.run(move |conn| match conn {
            // SQLite: BEGIN IMMEDIATE takes the write lock up front, waiting
            // out `busy_timeout`. A deferred transaction that reads first
            // and writes later fails at once with "database is locked" when
            // another connection wrote meanwhile (WAL snapshot upgrade).
            DbConn::Sqlite(_) => {
                // Taken with the connection in hand, so the lock is held
                // only while the transaction runs.
                let _writing = writer.lock().unwrap_or_else(PoisonError::into_inner);
                immediate_transaction(conn, f)
            }
            DbConn::Postgresql(_) => conn.transaction(|tx| f(tx)),
        })
        .await
    }

    /// Whether the database answers a trivial query (for `/readyz`).
    pub async fn ping(&self) -> Result<()> {
        self.run(|conn| {
            conn.batch_execute("SELECT 1")?;
            Ok(())
        })
        .await
    }
}

/// Runs `f` in a SQLite `BEGIN IMMEDIATE` transaction, through diesel's
/// transaction manager so that transactions nested inside `f` become
/// savepoints as usual.
fn immediate_transaction<T, F>(conn: &mut DbConn, f: F) -> Result<T>
where
    F: FnOnce(&mut DbConn) -> Result<T>,
{
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let DbConn::Sqlite(sqlite) = conn else {
        return conn.transaction(f);
    };
    AnsiTransactionManager::begin_transaction_sql(sqlite, "BEGIN IMMEDIATE")?;
    let result = f(conn);
    let DbConn::Sqlite(sqlite) = conn else {
        return result;
    };
    match result {
        Ok(value) => match AnsiTransactionManager::commit_transaction(sqlite) {
            Ok(()) => Ok(value),
            Err(e) => {
                let _ = AnsiTransactionManager::rollback_transaction(sqlite);
                Err(e.into())
            }
        },
        Err(e) => {
            AnsiTransactionManager::rollback_transaction(sqlite)?;
            Err(e)
        }
    }
}

/// How many change events may wait for the streaming dispatcher before
/// the oldest are dropped (it then logs how many it missed).
const EVENT_BACKLOG: usize = 4096;

/// Current time truncated to microseconds, so that a value read back from
/// either backend equals the one written.
pub fn now() -> chrono::NaiveDateTime {
    let now = chrono::Utc::now().naive_utc();
    chrono::DurationRound::duration_trunc(now, chrono::TimeDelta::microseconds(1)).unwrap_or(now)
}

/// A new time-ordered id (UUIDv7 as text): sorting ids sorts by creation,
/// which keyset pagination relies on.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// Keyset pagination over time-ordered ids, as Mastodon's `max_id`,
/// `since_id`, `min_id` and `limit` parameters describe it: `max_id` and
/// `since_id` bound a newest-first page; `min_id` asks for the page just
/// above it (the oldest entries newer than `min_id`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page {
    pub max_id: Option<String>,
    pub since_id: Option<String>,
    pub min_id: Option<String>,
    pub limit: i64,
    /// Timelines of posts only: those of this narration kind (issue 13
    /// §1). Carried with the page so that every timeline, and its boosts,
    /// filters in the one place that loads a page (`db::timeline`).
    pub narration_kind: Option<post::NarrationKind>,
}

impl Default for Page {
    fn default() -> Self {
        Page {
            max_id: None,
            since_id: None,
            min_id: None,
            limit: 20,
            narration_kind: None,
        }
    }
}
