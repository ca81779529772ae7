//! Per-host health: failing since when, unreachable (parked) since when.

use super::DeliveryState;
use crate::db::{
    schema::{deliveries, delivery_hosts},
    DbConn,
};
use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;

/// One row of `delivery_hosts`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = delivery_hosts)]
#[diesel(treat_none_as_null = true)]
pub struct DeliveryHost {
    pub host: String,
    /// Start of the current run of failures; `None` while healthy.
    pub failing_since: Option<NaiveDateTime>,
    /// Set once the host has failed for longer than the retry window: its
    /// deliveries are parked until it is seen alive again.
    pub unreachable_since: Option<NaiveDateTime>,
    pub last_success_at: Option<NaiveDateTime>,
    pub last_failure_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

impl DeliveryHost {
    pub fn get(conn: &mut DbConn, host: &str) -> QueryResult<Option<DeliveryHost>> {
        delivery_hosts::table.find(host).first(conn).optional()
    }

    pub(super) fn save(conn: &mut DbConn, row: &DeliveryHost) -> QueryResult<()> {
        crate::per_backend!(conn, |c| diesel::insert_into(delivery_hosts::table)
            .values(row)
            .on_conflict(delivery_hosts::host)
            .do_update()
            .set(row)
            .execute(c)
            .map(|_| ()))
    }

    /// Records that `host` answered (any HTTP status but 5xx/408/429). Cheap
    /// for a healthy host: one read, no write unless something changes.
    pub fn record_success(conn: &mut DbConn, host: &str, now: NaiveDateTime) -> QueryResult<()> {
        let existing = DeliveryHost::get(conn, host)?;
        match DeliveryHost::after_success(existing.as_ref(), host, now) {
            Some(row) => DeliveryHost::save(conn, &row),
            None => Ok(()),
        }
    }

    /// Records a failed attempt (5xx, timeout, connection error). Returns
    /// `true` when this failure makes the host unreachable: it has been
    /// failing for longer than `window`.
    pub fn record_failure(
        conn: &mut DbConn,
        host: &str,
        now: NaiveDateTime,
        window: TimeDelta,
    ) -> QueryResult<bool> {
        let existing = DeliveryHost::get(conn, host)?;
        let (row, newly_unreachable) = DeliveryHost::after_failure(existing, host, now, window);
        DeliveryHost::save(conn, &row)?;
        Ok(newly_unreachable)
    }

    /// The row of `host` (`existing`, if any) after it answered at `now`, or
    /// `None` when nothing needs writing: a healthy host whose last success
    /// is less than a minute old.
    pub(super) fn after_success(
        existing: Option<&DeliveryHost>,
        host: &str,
        now: NaiveDateTime,
    ) -> Option<DeliveryHost> {
        if let Some(row) = existing {
            let fresh = row
                .last_success_at
                .is_some_and(|t| now - t < TimeDelta::minutes(1));
            if row.failing_since.is_none() && row.unreachable_since.is_none() && fresh {
                return None;
            }
        }
        let mut row = existing
            .cloned()
            .unwrap_or_else(|| DeliveryHost::new(host, now));
        row.failing_since = None;
        row.unreachable_since = None;
        row.last_success_at = Some(now);
        row.updated_at = now;
        Some(row)
    }

    /// The row of `host` after a failed attempt at `now`, and whether this
    /// failure makes it unreachable (failing for longer than `window`).
    pub(super) fn after_failure(
        existing: Option<DeliveryHost>,
        host: &str,
        now: NaiveDateTime,
        window: TimeDelta,
    ) -> (DeliveryHost, bool) {
        let mut row = existing.unwrap_or_else(|| DeliveryHost::new(host, now));
        let since = *row.failing_since.get_or_insert(now);
        row.last_failure_at = Some(now);
        row.updated_at = now;
        let newly_unreachable = row.unreachable_since.is_none() && now - since > window;
        if newly_unreachable {
            row.unreachable_since = Some(now);
        }
        (row, newly_unreachable)
    }

    /// Clears the failure record of `host`; when it was failing or parked,
    /// its queued deliveries become due at once. Returns whether anything
    /// changed.
    pub fn revive(conn: &mut DbConn, host: &str, now: NaiveDateTime) -> QueryResult<bool> {
        let Some(row) = DeliveryHost::get(conn, host)? else {
            return Ok(false);
        };
        if row.failing_since.is_none() && row.unreachable_since.is_none() {
            return Ok(false);
        }
        DeliveryHost::record_success(conn, host, now)?;
        diesel::update(
            deliveries::table
                .filter(deliveries::host.eq(host))
                .filter(deliveries::state.eq(DeliveryState::Queued.as_str())),
        )
        .set(deliveries::next_attempt_at.eq(now))
        .execute(conn)?;
        Ok(true)
    }

    /// Hosts currently parked.
    pub fn unreachable(conn: &mut DbConn) -> QueryResult<Vec<DeliveryHost>> {
        delivery_hosts::table
            .filter(delivery_hosts::unreachable_since.is_not_null())
            .order(delivery_hosts::host.asc())
            .load(conn)
    }

    /// Hosts with a failure record (failing or unreachable), optionally one.
    pub fn troubled(conn: &mut DbConn, host: Option<&str>) -> QueryResult<Vec<DeliveryHost>> {
        let mut query = delivery_hosts::table
            .filter(delivery_hosts::failing_since.is_not_null())
            .order(delivery_hosts::host.asc())
            .into_boxed();
        if let Some(host) = host {
            query = query.filter(delivery_hosts::host.eq(host.to_string()));
        }
        query.load(conn)
    }

    fn new(host: &str, now: NaiveDateTime) -> DeliveryHost {
        DeliveryHost {
            host: host.to_string(),
            failing_since: None,
            unreachable_since: None,
            last_success_at: None,
            last_failure_at: None,
            updated_at: now,
        }
    }
}
