//! Change events for the streaming API, raised where the change is stored.
//!
//! An event carries ids only (a post, a boost, a notification and its
//! recipient): every process renders it per connection for that
//! connection's reader with the REST API's own queries, which is how a
//! stream shows exactly what the same token may read.
//!
//! Events must leave only after the change is committed, and reach every
//! `outloud serve` process:
//! - PostgreSQL: [`emit`] runs `pg_notify` in the writer's transaction;
//!   the server delivers it at commit (never on rollback) to every process
//!   that `LISTEN`s on [`CHANNEL`], this one included
//!   (`crate::streaming::listener`).
//! - SQLite (one process): [`emit`] queues the event on the writing
//!   thread, and [`super::Db::run`] hands the queue to the process's
//!   broadcast once the work returned `Ok` (so after its commit).
//!
//! Raising events here, in the storage layer, rather than in each use case
//! means local posts, posts from the inbox, community shares, boosts and
//! every kind of notification produce them alike.

use super::DbConn;
use diesel::{sql_types::Text, QueryResult, RunQueryDsl};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;

/// The PostgreSQL channel events travel on.
pub const CHANNEL: &str = "outloud_stream";

/// What changed. Serialized compactly: a NOTIFY payload must stay under
/// 8000 bytes, and ids are all it needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "k")]
pub enum StreamEvent {
    /// A post was stored (local, from the inbox, or fetched).
    #[serde(rename = "p")]
    Posted { post: String },
    /// A post's text changed.
    #[serde(rename = "e")]
    Edited { post: String },
    /// A post was deleted.
    #[serde(rename = "d")]
    Deleted { post: String },
    /// A boost (Announce) was stored; `reaction` is its id.
    #[serde(rename = "b")]
    Boosted { reaction: String },
    /// A post was shared in a community (its `community_id` set).
    #[serde(rename = "s")]
    Shared { post: String },
    /// A notification was stored for `recipient`.
    #[serde(rename = "n")]
    Notified { id: String, recipient: String },
    /// An account's filters changed (see
    /// `crate::streaming::filters_changed`).
    #[serde(rename = "f")]
    FiltersChanged { account: String },
}

thread_local! {
    /// SQLite: events raised by the work running on this thread, handed
    /// on by `Db::run` after it returns.
    static PENDING: RefCell<Vec<StreamEvent>> = const { RefCell::new(Vec::new()) };
}

/// Raises `event` for delivery once the caller's transaction commits.
/// A failure to raise it fails the write, so no stored change goes
/// unannounced on PostgreSQL.
pub fn emit(conn: &mut DbConn, event: StreamEvent) -> QueryResult<()> {
    match conn {
        DbConn::Postgresql(pg) => {
            let payload = serde_json::to_string(&event)
                .map_err(|e| diesel::result::Error::SerializationError(Box::new(e)))?;
            diesel::sql_query("SELECT pg_notify($1, $2)")
                .bind::<Text, _>(CHANNEL)
                .bind::<Text, _>(payload)
                .execute(pg)
                .map(|_| ())
        }
        DbConn::Sqlite(_) => {
            PENDING.with(|p| p.borrow_mut().push(event));
            Ok(())
        }
    }
}

/// Empties this thread's queue (see [`PENDING`]).
pub(super) fn take_pending() -> Vec<StreamEvent> {
    PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()))
}

/// Parses a NOTIFY payload; `None` for one this version does not know
/// (a newer process on the same database).
pub fn parse(payload: &str) -> Option<StreamEvent> {
    serde_json::from_str(payload).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_small_and_round_trip() {
        let event = StreamEvent::Notified {
            id: crate::db::new_id(),
            recipient: crate::db::new_id(),
        };
        let json = serde_json::to_string(&event).unwrap();
        assert!(json.len() < 200, "{json}");
        assert_eq!(parse(&json), Some(event));
        assert_eq!(parse(r#"{"k":"zz"}"#), None);
    }
}
