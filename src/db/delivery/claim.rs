//! Claiming due deliveries: a lease tagged with a fresh token, fair across
//! hosts, `FOR UPDATE SKIP LOCKED` on PostgreSQL and one re-checking
//! `UPDATE` on SQLite (see the module above).

use super::{unreachable_hosts_query, DeliveryState};
use crate::db::{
    schema::{actors, deliveries, outbound_activities},
    DbConn,
};
use chrono::NaiveDateTime;
use diesel::{connection::SimpleConnection, prelude::*};
use std::collections::{HashMap, HashSet};

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
