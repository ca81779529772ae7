//! The outbound delivery queue: activities stored once, one row per target
//! inbox, and per-host health. Policy (back-off, fairness, signing) lives in
//! `crate::delivery`; this file only reads and writes rows.
//!
//! Claiming is the one place where the backends differ: PostgreSQL selects
//! the candidate rows `FOR UPDATE SKIP LOCKED` inside a transaction, so
//! several processes sharing one database never claim the same row and never
//! wait for each other. SQLite (one process, one writer) selects candidates
//! and then claims them with one atomic `UPDATE` that re-checks each row is
//! still unclaimed. Either way a claim is a lease (`claimed_until`) tagged
//! with a fresh token, and the worker reads back exactly the rows carrying
//! its token.

use super::{
    schema::{deliveries, delivery_hosts, outbound_activities},
    DbConn,
};
use chrono::NaiveDateTime;
use diesel::prelude::*;

mod claim;
mod hosts;
mod results;

pub use claim::{claim_due, claim_host, claimed, due_hosts, ClaimedDelivery};
pub use hosts::DeliveryHost;
pub use results::{record_results, AttemptResult, HostNews, RowUpdate};

/// State of one delivery row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    /// Waiting for its next attempt (or parked while its host is unreachable).
    Queued,
    Delivered,
    /// Given up: rejected by the receiver (4xx) or out of retries.
    Failed,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Queued => "queued",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> DeliveryState {
        match s {
            "delivered" => DeliveryState::Delivered,
            "failed" => DeliveryState::Failed,
            _ => DeliveryState::Queued,
        }
    }
}

/// One row of `outbound_activities`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = outbound_activities)]
pub struct OutboundActivity {
    pub id: String,
    pub ap_id: String,
    /// `actors.id` of the local actor whose key signs the deliveries.
    pub sender_actor_id: String,
    /// The exact body that is signed and sent.
    pub json: String,
    pub created_at: NaiveDateTime,
}

impl OutboundActivity {
    pub fn insert(conn: &mut DbConn, activity: &OutboundActivity) -> QueryResult<()> {
        diesel::insert_into(outbound_activities::table)
            .values(activity)
            .execute(conn)
            .map(|_| ())
    }

    /// Deletes up to `batch` activities created before `before` that no
    /// delivery refers to any more; returns how many.
    pub fn prune_unused(
        conn: &mut DbConn,
        before: NaiveDateTime,
        batch: i64,
    ) -> QueryResult<usize> {
        let unused = diesel::dsl::not(diesel::dsl::exists(
            deliveries::table.filter(deliveries::activity_id.eq(outbound_activities::id)),
        ));
        let ids: Vec<String> = outbound_activities::table
            .filter(outbound_activities::created_at.lt(before))
            .filter(unused)
            .select(outbound_activities::id)
            .limit(batch)
            .load(conn)?;
        diesel::delete(outbound_activities::table.filter(outbound_activities::id.eq_any(&ids)))
            .execute(conn)
    }

    pub fn by_ap_id(conn: &mut DbConn, ap_id: &str) -> QueryResult<Option<OutboundActivity>> {
        outbound_activities::table
            .filter(outbound_activities::ap_id.eq(ap_id))
            .first(conn)
            .optional()
    }
}

/// One row of `deliveries`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = deliveries)]
#[diesel(treat_none_as_null = true)]
pub struct Delivery {
    pub id: String,
    pub activity_id: String,
    pub inbox_url: String,
    pub host: String,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: NaiveDateTime,
    pub claim_token: Option<String>,
    pub claimed_until: Option<NaiveDateTime>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Delivery {
    pub fn state(&self) -> DeliveryState {
        DeliveryState::parse(&self.state)
    }

    /// A new queued row, due at `now`.
    pub fn queued(activity_id: &str, inbox_url: &str, host: &str, now: NaiveDateTime) -> Delivery {
        Delivery {
            id: super::new_id(),
            activity_id: activity_id.to_string(),
            inbox_url: inbox_url.to_string(),
            host: host.to_string(),
            state: DeliveryState::Queued.as_str().into(),
            attempts: 0,
            next_attempt_at: now,
            claim_token: None,
            claimed_until: None,
            last_status: None,
            last_error: None,
            created_at: now,
            updated_at: now,
        }
    }

    pub fn by_id(conn: &mut DbConn, id: &str) -> QueryResult<Option<Delivery>> {
        deliveries::table.find(id).first(conn).optional()
    }

    /// Inserts the rows whose `(activity_id, inbox_url)` is not present yet;
    /// returns how many were inserted. Used inside the caller's transaction,
    /// so the check-then-insert cannot race with itself for one activity.
    pub fn insert_new(conn: &mut DbConn, rows: Vec<Delivery>) -> QueryResult<usize> {
        let Some(first) = rows.first() else {
            return Ok(0);
        };
        let existing: Vec<String> = deliveries::table
            .filter(deliveries::activity_id.eq(&first.activity_id))
            .select(deliveries::inbox_url)
            .load(conn)?;
        let mut inserted = 0;
        for row in rows
            .iter()
            .filter(|r| !existing.iter().any(|e| e == &r.inbox_url))
        {
            inserted += diesel::insert_into(deliveries::table)
                .values(row)
                .execute(conn)?;
        }
        Ok(inserted)
    }

    /// Deletes up to `batch` finished deliveries (delivered, or given up)
    /// whose last attempt was due before `before`; returns how many. The
    /// `deliveries_due` index (state, next_attempt_at) finds them.
    pub fn prune_finished(
        conn: &mut DbConn,
        before: NaiveDateTime,
        batch: i64,
    ) -> QueryResult<usize> {
        let finished = [
            DeliveryState::Delivered.as_str(),
            DeliveryState::Failed.as_str(),
        ];
        let ids: Vec<String> = deliveries::table
            .filter(deliveries::state.eq_any(finished))
            .filter(deliveries::next_attempt_at.lt(before))
            .select(deliveries::id)
            .limit(batch)
            .load(conn)?;
        diesel::delete(deliveries::table.filter(deliveries::id.eq_any(&ids))).execute(conn)
    }

    /// Every delivery of one activity (by its ActivityPub id), by host.
    pub fn of_activity(conn: &mut DbConn, activity_ap_id: &str) -> QueryResult<Vec<Delivery>> {
        deliveries::table
            .inner_join(outbound_activities::table)
            .filter(outbound_activities::ap_id.eq(activity_ap_id))
            .select(Delivery::as_select())
            .order((deliveries::host.asc(), deliveries::inbox_url.asc()))
            .load(conn)
    }

    /// The most recent permanent failures, optionally on one host.
    pub fn recent_failures(
        conn: &mut DbConn,
        host: Option<&str>,
        limit: i64,
    ) -> QueryResult<Vec<Delivery>> {
        let mut query = deliveries::table
            .filter(deliveries::state.eq(DeliveryState::Failed.as_str()))
            .order(deliveries::updated_at.desc())
            .limit(limit)
            .into_boxed();
        if let Some(host) = host {
            query = query.filter(deliveries::host.eq(host.to_string()));
        }
        query.load(conn)
    }

    /// Marks deliveries done, all with the same `status`.
    pub fn mark_delivered(
        conn: &mut DbConn,
        ids: &[&str],
        status: i64,
        now: NaiveDateTime,
    ) -> QueryResult<()> {
        // Bounded statement size on both backends.
        for chunk in ids.chunks(500) {
            diesel::update(deliveries::table.filter(deliveries::id.eq_any(chunk)))
                .set((
                    deliveries::state.eq(DeliveryState::Delivered.as_str()),
                    deliveries::attempts.eq(deliveries::attempts + 1),
                    deliveries::claim_token.eq(None::<String>),
                    deliveries::claimed_until.eq(None::<NaiveDateTime>),
                    deliveries::last_status.eq(Some(status)),
                    deliveries::last_error.eq(None::<String>),
                    deliveries::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
        Ok(())
    }

    /// Schedules another attempt at `next_attempt_at`.
    pub fn mark_retry(
        conn: &mut DbConn,
        id: &str,
        next_attempt_at: NaiveDateTime,
        status: Option<i64>,
        error: &str,
        now: NaiveDateTime,
    ) -> QueryResult<()> {
        diesel::update(deliveries::table.find(id))
            .set((
                deliveries::attempts.eq(deliveries::attempts + 1),
                deliveries::next_attempt_at.eq(next_attempt_at),
                deliveries::claim_token.eq(None::<String>),
                deliveries::claimed_until.eq(None::<NaiveDateTime>),
                deliveries::last_status.eq(status),
                deliveries::last_error.eq(Some(error)),
                deliveries::updated_at.eq(now),
            ))
            .execute(conn)
            .map(|_| ())
    }

    /// Gives up on a delivery.
    pub fn mark_failed(
        conn: &mut DbConn,
        id: &str,
        status: Option<i64>,
        error: &str,
        now: NaiveDateTime,
    ) -> QueryResult<()> {
        diesel::update(deliveries::table.find(id))
            .set((
                deliveries::state.eq(DeliveryState::Failed.as_str()),
                deliveries::attempts.eq(deliveries::attempts + 1),
                deliveries::claim_token.eq(None::<String>),
                deliveries::claimed_until.eq(None::<NaiveDateTime>),
                deliveries::last_status.eq(status),
                deliveries::last_error.eq(Some(error)),
                deliveries::updated_at.eq(now),
            ))
            .execute(conn)
            .map(|_| ())
    }

    /// Rows per (host, state), optionally for one host.
    pub fn counts_by_host(
        conn: &mut DbConn,
        host: Option<&str>,
    ) -> QueryResult<Vec<(String, String, i64)>> {
        let mut query = deliveries::table
            .group_by((deliveries::host, deliveries::state))
            .select((
                deliveries::host,
                deliveries::state,
                diesel::dsl::count_star(),
            ))
            .order(deliveries::host.asc())
            .into_boxed();
        if let Some(host) = host {
            query = query.filter(deliveries::host.eq(host.to_string()));
        }
        query.load(conn)
    }

    /// Queued rows: `(waiting to be sent, parked behind unreachable hosts)`.
    pub fn queue_depth(conn: &mut DbConn) -> QueryResult<(i64, i64)> {
        let queued: i64 = deliveries::table
            .filter(deliveries::state.eq(DeliveryState::Queued.as_str()))
            .count()
            .get_result(conn)?;
        let parked: i64 = deliveries::table
            .filter(deliveries::state.eq(DeliveryState::Queued.as_str()))
            .filter(deliveries::host.eq_any(unreachable_hosts_query()))
            .count()
            .get_result(conn)?;
        Ok((queued - parked, parked))
    }
}

/// `SELECT host FROM delivery_hosts WHERE unreachable_since IS NOT NULL`.
fn unreachable_hosts_query() -> diesel::dsl::Select<
    diesel::dsl::Filter<
        delivery_hosts::table,
        diesel::dsl::IsNotNull<delivery_hosts::unreachable_since>,
    >,
    delivery_hosts::host,
> {
    delivery_hosts::table
        .filter(delivery_hosts::unreachable_since.is_not_null())
        .select(delivery_hosts::host)
}

/// Lets the current transaction commit without waiting for the WAL flush
/// (PostgreSQL `synchronous_commit = off`, for this transaction only). Used
/// for the queue's own bookkeeping — claims and attempt results — never for
/// enqueuing: if the database server crashes, the last of these commits
/// (a fraction of a second's worth) may be rolled back, which only means a
/// row is claimed or sent once more (delivery is at least once anyway);
/// no queued delivery can be lost. SQLite in WAL mode with
/// `synchronous = NORMAL` already commits this way.
fn bookkeeping_commit(conn: &mut DbConn) -> QueryResult<()> {
    if let DbConn::Postgresql(pg) = conn {
        diesel::sql_query("SET LOCAL synchronous_commit = off").execute(pg)?;
    }
    Ok(())
}
