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
    schema::{actors, deliveries, delivery_hosts, outbound_activities},
    DbConn,
};
use chrono::{NaiveDateTime, TimeDelta};
use diesel::{connection::SimpleConnection, prelude::*};
use std::collections::{HashMap, HashSet};

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

/// Everything a worker needs to sign and send one claimed delivery.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct ClaimedDelivery {
    pub id: String,
    pub inbox_url: String,
    pub host: String,
    /// Attempts made before this one.
    pub attempts: i64,
    pub activity_ap_id: String,
    pub json: String,
    pub sender_actor_id: String,
    pub sender_ap_id: String,
    pub private_key_pem: Option<String>,
}

/// Hosts with due, unclaimed deliveries that are not parked, the longest
/// waiting first, at most `limit` of them.
pub fn due_hosts(conn: &mut DbConn, now: NaiveDateTime, limit: i64) -> QueryResult<Vec<String>> {
    let rows: Vec<(String, Option<NaiveDateTime>)> = deliveries::table
        .filter(deliveries::state.eq(DeliveryState::Queued.as_str()))
        .filter(deliveries::next_attempt_at.le(now))
        .filter(
            deliveries::claimed_until
                .is_null()
                .or(deliveries::claimed_until.lt(now)),
        )
        .filter(deliveries::host.ne_all(unreachable_hosts_query()))
        .group_by(deliveries::host)
        .select((
            deliveries::host,
            diesel::dsl::min(deliveries::next_attempt_at),
        ))
        .order(diesel::dsl::min(deliveries::next_attempt_at).asc())
        .limit(limit)
        .load(conn)?;
    Ok(rows.into_iter().map(|(host, _)| host).collect())
}

/// Claims up to `limit` due rows of one host until `lease_until`, tagging
/// them with `token`; returns how many were claimed. See the module
/// documentation for why this is safe on both backends.
pub fn claim_host(
    conn: &mut DbConn,
    host: &str,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    token: &str,
    limit: i64,
) -> QueryResult<usize> {
    macro_rules! candidates {
        () => {
            deliveries::table
                .filter(deliveries::host.eq(host))
                .filter(deliveries::state.eq(DeliveryState::Queued.as_str()))
                .filter(deliveries::next_attempt_at.le(now))
                .filter(
                    deliveries::claimed_until
                        .is_null()
                        .or(deliveries::claimed_until.lt(now)),
                )
                .order(deliveries::next_attempt_at.asc())
                .select(deliveries::id)
                .limit(limit)
        };
    }
    match conn {
        DbConn::Postgresql(_) => conn.transaction(|conn| {
            // Rows another process is claiming right now are skipped, not
            // waited for: it will send them.
            let ids: Vec<String> = match conn {
                DbConn::Postgresql(pg) => candidates!().for_update().skip_locked().load(pg)?,
                DbConn::Sqlite(sqlite) => candidates!().load(sqlite)?,
            };
            mark_claimed(conn, ids, now, lease_until, token)
        }),
        DbConn::Sqlite(sqlite) => {
            let ids: Vec<String> = candidates!().load(sqlite)?;
            mark_claimed(conn, ids, now, lease_until, token)
        }
    }
}

/// Claims up to `max` due rows at once, the longest-waiting first, giving
/// each host at most `room(host)` of them, until `lease_until`, tagged with
/// `token`; returns how many were claimed. `full` lists hosts known to have
/// no room: they are left out of the window below, so that a slow host's
/// waiting rows at the front of the queue do not fill it.
///
/// The common case costs two statements: the oldest `4 × max` due rows are
/// read in `next_attempt_at` order (the `deliveries_due` index), the per-host
/// limits are applied here, and the chosen rows are marked with one
/// `UPDATE`. Only when that window is full of rows of hosts that have no
/// room left (one big host's backlog in front of everyone else's) does it
/// also look further, host by host ([`due_hosts`]), so a backlog never
/// starves other hosts. Safe on both backends for the reasons in the module
/// documentation: `FOR UPDATE SKIP LOCKED` on PostgreSQL, a re-checking
/// `UPDATE` on SQLite.
pub fn claim_due(
    conn: &mut DbConn,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    token: &str,
    max: usize,
    room: &dyn Fn(&str) -> usize,
    full: &[String],
) -> QueryResult<usize> {
    if max == 0 {
        return Ok(0);
    }
    let window = i64::try_from(max.saturating_mul(4).max(64)).unwrap_or(i64::MAX);
    macro_rules! due {
        () => {
            deliveries::table
                .filter(deliveries::state.eq(DeliveryState::Queued.as_str()))
                .filter(deliveries::next_attempt_at.le(now))
                .filter(
                    deliveries::claimed_until
                        .is_null()
                        .or(deliveries::claimed_until.lt(now)),
                )
                .filter(deliveries::host.ne_all(unreachable_hosts_query()))
                .filter(deliveries::host.ne_all(full))
                .order(deliveries::next_attempt_at.asc())
                .select((deliveries::id, deliveries::host))
        };
    }
    macro_rules! due_on_host {
        ($host:expr) => {
            deliveries::table
                .filter(deliveries::host.eq($host))
                .filter(deliveries::state.eq(DeliveryState::Queued.as_str()))
                .filter(deliveries::next_attempt_at.le(now))
                .filter(
                    deliveries::claimed_until
                        .is_null()
                        .or(deliveries::claimed_until.lt(now)),
                )
                .order(deliveries::next_attempt_at.asc())
                .select(deliveries::id)
        };
    }
    let claim = |conn: &mut DbConn| -> QueryResult<usize> {
        let candidates: Vec<(String, String)> = match conn {
            DbConn::Postgresql(pg) => due!().limit(window).for_update().skip_locked().load(pg)?,
            DbConn::Sqlite(sqlite) => due!().limit(window).load(sqlite)?,
        };
        let window_full = candidates.len() as i64 == window;
        let mut taken: HashMap<String, usize> = HashMap::new();
        let mut chosen: Vec<String> = Vec::new();
        for (id, host) in candidates {
            if chosen.len() == max {
                break;
            }
            let room = room(&host);
            let n = taken.entry(host).or_default();
            if *n < room {
                *n += 1;
                chosen.push(id);
            }
        }
        if chosen.len() < max && window_full {
            // Every row in the window belongs to hosts without room: look
            // past them, host by host.
            let seen: HashSet<String> = chosen.iter().cloned().collect();
            for host in due_hosts(conn, now, FALLBACK_HOSTS)? {
                let have = taken.get(&host).copied().unwrap_or(0);
                let want = room(&host)
                    .saturating_sub(have)
                    .min(max.saturating_sub(chosen.len()));
                if want == 0 {
                    continue;
                }
                let limit = i64::try_from(want + have).unwrap_or(i64::MAX);
                let ids: Vec<String> = match conn {
                    DbConn::Postgresql(pg) => due_on_host!(&host)
                        .limit(limit)
                        .for_update()
                        .skip_locked()
                        .load(pg)?,
                    DbConn::Sqlite(sqlite) => due_on_host!(&host).limit(limit).load(sqlite)?,
                };
                chosen.extend(ids.into_iter().filter(|id| !seen.contains(id)).take(want));
                if chosen.len() >= max {
                    break;
                }
            }
        }
        mark_claimed(conn, chosen, now, lease_until, token)
    };
    match conn {
        DbConn::Postgresql(_) => conn.transaction(|conn| {
            // The commit mode of `bookkeeping_commit`, and no bitmap scans:
            // then the window is read in `deliveries_due` order and the scan
            // stops at its LIMIT. With stale statistics (a queue that filled
            // since the last ANALYZE) the planner otherwise picks a bitmap
            // scan of *every* due row plus a sort, on every claim: O(queue)
            // instead of O(window).
            conn.batch_execute(
                "SET LOCAL synchronous_commit = off; SET LOCAL enable_bitmapscan = off",
            )?;
            claim(conn)
        }),
        DbConn::Sqlite(_) => claim(conn),
    }
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

/// Hosts the fallback of [`claim_due`] looks at, the longest-waiting first.
const FALLBACK_HOSTS: i64 = 256;

/// Tags `ids` with `token` and a lease, skipping any row another claimer
/// took in the meantime (the `UPDATE` re-checks; it is atomic).
fn mark_claimed(
    conn: &mut DbConn,
    ids: Vec<String>,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
    token: &str,
) -> QueryResult<usize> {
    let mut marked = 0;
    // Bounded statement size on both backends.
    for chunk in ids.chunks(500) {
        marked += diesel::update(
            deliveries::table
                .filter(deliveries::id.eq_any(chunk))
                // "Still queued", written so that no index can serve it:
                // with `state = 'queued'` SQLite's planner (no statistics)
                // prefers the `deliveries_due` index over the primary key
                // and scans every queued row on every claim.
                .filter(deliveries::state.ne_all([
                    DeliveryState::Delivered.as_str(),
                    DeliveryState::Failed.as_str(),
                ]))
                .filter(
                    deliveries::claimed_until
                        .is_null()
                        .or(deliveries::claimed_until.lt(now)),
                ),
        )
        .set((
            deliveries::claim_token.eq(Some(token)),
            deliveries::claimed_until.eq(Some(lease_until)),
        ))
        .execute(conn)?;
    }
    Ok(marked)
}

/// The rows claimed with `token`, with their activity and sender key.
pub fn claimed(conn: &mut DbConn, token: &str) -> QueryResult<Vec<ClaimedDelivery>> {
    deliveries::table
        .inner_join(outbound_activities::table.inner_join(actors::table))
        .filter(deliveries::claim_token.eq(token))
        .select((
            deliveries::id,
            deliveries::inbox_url,
            deliveries::host,
            deliveries::attempts,
            outbound_activities::ap_id,
            outbound_activities::json,
            outbound_activities::sender_actor_id,
            actors::ap_id,
            actors::private_key_pem,
        ))
        .order(deliveries::next_attempt_at.asc())
        .load(conn)
}

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

    fn save(conn: &mut DbConn, row: &DeliveryHost) -> QueryResult<()> {
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
    fn after_success(
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
    fn after_failure(
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
