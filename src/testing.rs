//! Test support shared by unit tests and the integration harness: throwaway
//! databases on both backends.
//!
//! Every test that touches storage runs on SQLite and, when a PostgreSQL
//! server is reachable (`OUTLOUD_TEST_POSTGRES`, default
//! `postgres://postgres@127.0.0.1:5432/test`), again on a fresh PostgreSQL
//! database. Without one, the PostgreSQL half prints a notice on the real
//! stderr (not the captured one) and is skipped; with
//! `OUTLOUD_TEST_POSTGRES_REQUIRED=1` (set by `.ci/run` once it has seen the
//! server answer) an unreachable server fails the test instead.

use crate::config::Backend;
use crate::db::Db;
use diesel::RunQueryDsl;
use std::io::Write;
use std::path::PathBuf;

/// The default PostgreSQL used by tests.
pub const DEFAULT_TEST_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A database that exists for one test and is removed afterwards.
pub struct TestDatabase {
    pub url: String,
    pub backend: Backend,
    dir: Option<PathBuf>,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// A fresh SQLite file in a temporary directory.
    pub fn sqlite() -> TestDatabase {
        let dir = std::env::temp_dir().join(format!("outloud-test-{}", uuid::Uuid::new_v4()));
        let url = format!("sqlite://{}/outloud.db", dir.display());
        TestDatabase {
            url,
            backend: Backend::Sqlite,
            dir: Some(dir),
            postgres: None,
        }
    }

    /// A fresh database on the test PostgreSQL server, or `None` (with a
    /// printed notice) when no server answers.
    pub fn postgres(label: &str) -> Option<TestDatabase> {
        let admin_url =
            std::env::var("OUTLOUD_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_TEST_POSTGRES.into());
        let mut admin = match crate::db::establish_postgres(&admin_url) {
            Ok(conn) => conn,
            Err(e) => {
                let required =
                    std::env::var("OUTLOUD_TEST_POSTGRES_REQUIRED").as_deref() == Ok("1");
                let reason = e.to_string().replace('\n', " ");
                if required {
                    panic!("PostgreSQL required but unreachable at {admin_url}: {reason}");
                }
                // Bypass libtest's capture so the skip is never silent.
                let _ = writeln!(
                    std::io::stderr(),
                    "NOTICE: PostgreSQL unreachable at {admin_url} ({reason}); \
                     skipping the PostgreSQL half of `{label}`"
                );
                return None;
            }
        };
        let name = format!("outloud_t_{}", uuid::Uuid::new_v4().simple());
        if let Err(e) = diesel::sql_query(format!("CREATE DATABASE {name}")).execute(&mut admin) {
            panic!("cannot create test database {name}: {e}");
        }
        let mut url = url::Url::parse(&admin_url).unwrap_or_else(|e| panic!("{admin_url}: {e}"));
        url.set_path(&name);
        Some(TestDatabase {
            url: url.to_string(),
            backend: Backend::Postgres,
            dir: None,
            postgres: Some((admin_url, name)),
        })
    }

    /// Both backends: SQLite always, PostgreSQL when reachable.
    pub fn each(label: &str) -> Vec<TestDatabase> {
        let mut all = vec![TestDatabase::sqlite()];
        all.extend(TestDatabase::postgres(label));
        all
    }

    /// Opens a pool on this database (no migrations run).
    pub fn connect(&self) -> Db {
        Db::connect(&self.url, 4).unwrap_or_else(|e| panic!("{}: {e}", self.url))
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some((admin_url, name)) = &self.postgres {
            if let Ok(mut admin) = crate::db::establish_postgres(admin_url) {
                let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin);
            }
        }
    }
}

/// Runs a blocking storage test once per available backend.
pub fn for_each_backend(label: &str, test: impl Fn(&Db)) {
    for database in TestDatabase::each(label) {
        let db = database.connect();
        test(&db);
    }
}

/// For storage tests: migrates `db` and creates the local person `name`
/// on `alpha.localhost:1` (a blocking call, for [`for_each_backend`]).
///
/// Panics when either fails: it only serves tests.
#[allow(clippy::expect_used)]
pub fn migrated_with_person(db: &Db, name: &str) -> crate::db::actor::Actor {
    let mut conn = db.get().expect("a connection");
    crate::db::migrations::run_pending(&mut conn).expect("migrations");
    drop(conn);
    let urls = crate::urls::Urls::new("http", "alpha.localhost:1").expect("urls");
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime
        .block_on(crate::service::accounts::create_user(
            db,
            &urls,
            crate::service::accounts::NewUser {
                name,
                password: "long enough",
                role: crate::db::local_user::Role::User,
            },
        ))
        .expect("the person")
}
