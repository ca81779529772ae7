//! Migrations for both backends, embedded in the binary.
//!
//! `migrations/sqlite` and `migrations/postgres` hold the same migration names
//! (a test checks it); the set is chosen by the connection's backend.

use super::DbConn;
use crate::error::{Error, Result};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

fn source(conn: &DbConn) -> EmbeddedMigrations {
    match conn {
        DbConn::Postgresql(_) => POSTGRES,
        DbConn::Sqlite(_) => SQLITE,
    }
}

/// Applies every pending migration; returns the names of those applied.
pub fn run_pending(conn: &mut DbConn) -> Result<Vec<String>> {
    let source = source(conn);
    let applied = conn
        .run_pending_migrations(source)
        .map_err(|e| Error::internal(anyhow::anyhow!("migration failed: {e}")))?;
    Ok(applied.iter().map(|v| v.to_string()).collect())
}

/// Reverts every applied migration (tests of `down.sql`).
pub fn revert_all(conn: &mut DbConn) -> Result<Vec<String>> {
    let source = source(conn);
    let reverted = conn
        .revert_all_migrations(source)
        .map_err(|e| Error::internal(anyhow::anyhow!("revert failed: {e}")))?;
    Ok(reverted.iter().map(|v| v.to_string()).collect())
}

/// Names of the embedded migrations of one backend, in order.
pub fn names(backend: crate::config::Backend) -> Result<Vec<String>> {
    use diesel::migration::MigrationSource;
    let migrations = match backend {
        crate::config::Backend::Sqlite => {
            MigrationSource::<diesel::sqlite::Sqlite>::migrations(&SQLITE)
                .map_err(|e| Error::internal(anyhow::anyhow!("{e}")))?
                .iter()
                .map(|m| m.name().to_string())
                .collect()
        }
        crate::config::Backend::Postgres => {
            MigrationSource::<diesel::pg::Pg>::migrations(&POSTGRES)
                .map_err(|e| Error::internal(anyhow::anyhow!("{e}")))?
                .iter()
                .map(|m| m.name().to_string())
                .collect()
        }
    };
    Ok(migrations)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Backend;

    #[test]
    fn both_trees_list_the_same_migrations() {
        let sqlite = names(Backend::Sqlite).unwrap();
        let postgres = names(Backend::Postgres).unwrap();
        assert!(!sqlite.is_empty());
        assert_eq!(sqlite, postgres);
        // And each has both halves on disk.
        for backend in ["sqlite", "postgres"] {
            for name in &sqlite {
                for half in ["up.sql", "down.sql"] {
                    let path = format!(
                        "{}/migrations/{backend}/{name}/{half}",
                        env!("CARGO_MANIFEST_DIR")
                    );
                    assert!(std::path::Path::new(&path).exists(), "{path} missing");
                }
            }
        }
    }

    #[test]
    fn up_down_up_on_each_backend() {
        crate::testing::for_each_backend("up_down_up", |db| {
            let mut conn = db.get().unwrap();
            // Fresh database: everything pending.
            let first = run_pending(&mut conn).unwrap();
            assert_eq!(
                first,
                names(db.backend())
                    .unwrap_or_default()
                    .iter()
                    .map(|n| version_of(n))
                    .collect::<Vec<_>>()
            );
            let reverted = revert_all(&mut conn).unwrap();
            assert_eq!(reverted.len(), first.len());
            let again = run_pending(&mut conn).unwrap();
            assert_eq!(again, first);
            assert!(run_pending(&mut conn).unwrap().is_empty());
        });
    }

    fn version_of(name: &str) -> String {
        // diesel versions are the directory name without dashes before `_`.
        name.split('_').next().unwrap_or(name).replace('-', "")
    }
}
