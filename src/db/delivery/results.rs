//! Recording what attempts did: row states and host health, a batch in
//! one transaction.

use super::{bookkeeping_commit, Delivery, DeliveryHost};
use crate::db::{schema::delivery_hosts, DbConn};
use chrono::{NaiveDateTime, TimeDelta};
use diesel::prelude::*;
use std::collections::{HashMap, HashSet};

/// The next state of one attempted row, decided by `crate::delivery`.
#[derive(Debug, Clone, PartialEq)]
pub enum RowUpdate {
    Delivered {
        status: i64,
    },
    /// Another attempt at `next_attempt_at`.
    Retry {
        next_attempt_at: NaiveDateTime,
        status: Option<i64>,
        error: String,
    },
    /// Given up.
    Failed {
        status: Option<i64>,
        error: String,
    },
}

/// What one attempt tells about its host's health.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostNews {
    /// It answered (2xx, 4xx other than 408, 429).
    Alive,
    /// 5xx, 408, timeout or connection error.
    Failing,
    /// Nothing (the request was never sent).
    Unknown,
}

/// One attempt's result, as [`record_results`] writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptResult {
    /// `deliveries.id`.
    pub id: String,
    pub host: String,
    pub update: RowUpdate,
    pub host_news: HostNews,
}

/// Writes the results of a batch of attempts, in one transaction: one
/// `UPDATE` for all delivered rows (per status code), one statement per
/// retried or failed row, one read of the hosts involved and one upsert of
/// those whose health changed. Host health is applied in the order of
/// `results`, exactly as recording them one by one would. Returns the hosts
/// this batch marked unreachable (failing for longer than `window`).
pub fn record_results(
    conn: &mut DbConn,
    results: &[AttemptResult],
    now: NaiveDateTime,
    window: TimeDelta,
) -> QueryResult<Vec<String>> {
    if results.is_empty() {
        return Ok(Vec::new());
    }
    conn.transaction(|conn| {
        bookkeeping_commit(conn)?;
        let mut delivered: HashMap<i64, Vec<&str>> = HashMap::new();
        for result in results {
            match &result.update {
                RowUpdate::Delivered { status } => {
                    delivered.entry(*status).or_default().push(&result.id);
                }
                RowUpdate::Retry {
                    next_attempt_at,
                    status,
                    error,
                } => Delivery::mark_retry(conn, &result.id, *next_attempt_at, *status, error, now)?,
                RowUpdate::Failed { status, error } => {
                    Delivery::mark_failed(conn, &result.id, *status, error, now)?
                }
            }
        }
        for (status, ids) in delivered {
            Delivery::mark_delivered(conn, &ids, status, now)?;
        }
        record_host_news(conn, results, now, window)
    })
}

/// The host half of [`record_results`].
fn record_host_news(
    conn: &mut DbConn,
    results: &[AttemptResult],
    now: NaiveDateTime,
    window: TimeDelta,
) -> QueryResult<Vec<String>> {
    let names: Vec<&str> = results
        .iter()
        .filter(|r| r.host_news != HostNews::Unknown)
        .map(|r| r.host.as_str())
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut hosts: HashMap<String, DeliveryHost> = HashMap::new();
    for chunk in names.chunks(500) {
        let rows: Vec<DeliveryHost> = delivery_hosts::table
            .filter(delivery_hosts::host.eq_any(chunk))
            .load(conn)?;
        hosts.extend(rows.into_iter().map(|row| (row.host.clone(), row)));
    }
    let mut changed: HashSet<&str> = HashSet::new();
    let mut newly_unreachable = Vec::new();
    for result in results {
        let host = result.host.as_str();
        match result.host_news {
            HostNews::Alive => {
                if let Some(row) = DeliveryHost::after_success(hosts.get(host), host, now) {
                    hosts.insert(host.to_string(), row);
                    changed.insert(host);
                }
            }
            HostNews::Failing => {
                let (row, newly) =
                    DeliveryHost::after_failure(hosts.remove(host), host, now, window);
                hosts.insert(host.to_string(), row);
                changed.insert(host);
                if newly {
                    newly_unreachable.push(host.to_string());
                }
            }
            HostNews::Unknown => {}
        }
    }
    let mut changed: Vec<&DeliveryHost> = changed.iter().filter_map(|h| hosts.get(*h)).collect();
    // A stable order keeps concurrent writers from deadlocking each other.
    changed.sort_by(|a, b| a.host.cmp(&b.host));
    for row in changed {
        DeliveryHost::save(conn, row)?;
    }
    Ok(newly_unreachable)
}
