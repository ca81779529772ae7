//! What the delivery queue did: per activity (so an author can see what
//! reached whom) and per host (for `outloud admin deliveries`), and the
//! admin's way to revive a parked host.

use crate::{
    apub::Data,
    context::Context,
    db::{
        actor::Actor,
        delivery::{Delivery, DeliveryHost, DeliveryState},
        post::Post,
        Db,
    },
    error::Result,
};
use chrono::NaiveDateTime;
use std::collections::BTreeMap;
use url::Url;

/// Where one delivery of an activity stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Delivered,
    /// Waiting for its (next) attempt.
    Queued,
    /// Queued, but its host is unreachable: held until it is seen alive.
    Parked,
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Delivered => "delivered",
            Status::Queued => "queued",
            Status::Parked => "parked",
            Status::Failed => "failed",
        }
    }
}

/// One target inbox of an activity.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryStatus {
    pub host: String,
    pub inbox: String,
    pub status: Status,
    pub attempts: i64,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    /// When the next attempt is due (queued rows).
    pub next_attempt_at: Option<NaiveDateTime>,
    pub updated_at: NaiveDateTime,
}

/// The delivery state of one activity, per target inbox, sorted by host.
/// Empty when the activity was never queued (or had no remote audience).
pub async fn activity_status(db: &Db, activity_id: &Url) -> Result<Vec<DeliveryStatus>> {
    let activity_id = activity_id.to_string();
    db.run(move |conn| {
        let rows = Delivery::of_activity(conn, &activity_id)?;
        let parked: Vec<String> = DeliveryHost::unreachable(conn)?
            .into_iter()
            .map(|h| h.host)
            .collect();
        Ok(rows
            .into_iter()
            .map(|row| {
                let status = match row.state() {
                    DeliveryState::Delivered => Status::Delivered,
                    DeliveryState::Failed => Status::Failed,
                    DeliveryState::Queued if parked.contains(&row.host) => Status::Parked,
                    DeliveryState::Queued => Status::Queued,
                };
                DeliveryStatus {
                    next_attempt_at: (row.state() == DeliveryState::Queued)
                        .then_some(row.next_attempt_at),
                    host: row.host,
                    inbox: row.inbox_url,
                    status,
                    attempts: row.attempts,
                    last_status: row.last_status,
                    last_error: row.last_error,
                    updated_at: row.updated_at,
                }
            })
            .collect())
    })
    .await
}

/// Delivery counts and health of one host.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostSummary {
    pub host: String,
    pub queued: i64,
    pub delivered: i64,
    pub failed: i64,
    /// Start of the current run of failures.
    pub failing_since: Option<NaiveDateTime>,
    /// Set when the host is parked.
    pub unreachable_since: Option<NaiveDateTime>,
}

/// What `outloud admin deliveries` shows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overview {
    pub hosts: Vec<HostSummary>,
    /// The most recent permanent failures, newest first.
    pub recent_failures: Vec<Delivery>,
}

/// Per-host counts and health, for all hosts or one.
pub async fn overview(db: &Db, host: Option<String>) -> Result<Overview> {
    db.run(move |conn| {
        let mut hosts: BTreeMap<String, HostSummary> = BTreeMap::new();
        for (h, state, count) in Delivery::counts_by_host(conn, host.as_deref())? {
            let summary = hosts.entry(h.clone()).or_insert_with(|| HostSummary {
                host: h,
                ..HostSummary::default()
            });
            match DeliveryState::parse(&state) {
                DeliveryState::Queued => summary.queued += count,
                DeliveryState::Delivered => summary.delivered += count,
                DeliveryState::Failed => summary.failed += count,
            }
        }
        let mut health = DeliveryHost::troubled(conn, host.as_deref())?;
        health.extend(DeliveryHost::unreachable(conn)?.into_iter().filter(|h| {
            host.as_deref().is_none_or(|wanted| wanted == h.host) && h.failing_since.is_none()
        }));
        for h in health {
            let summary = hosts.entry(h.host.clone()).or_insert_with(|| HostSummary {
                host: h.host.clone(),
                ..HostSummary::default()
            });
            summary.failing_since = h.failing_since;
            summary.unreachable_since = h.unreachable_since;
        }
        Ok(Overview {
            hosts: hosts.into_values().collect(),
            recent_failures: Delivery::recent_failures(conn, host.as_deref(), 20)?,
        })
    })
    .await
}

/// An admin revives `host`: its failure record is cleared and its queued
/// deliveries are due at once. Returns whether it was failing or parked.
pub async fn revive_host(db: &Db, host: String) -> Result<bool> {
    db.run(move |conn| crate::delivery::host_seen_alive(conn, &host))
        .await
}

/// Where a local post went, for its author: the delivery of its `Create`
/// to each receiving server. `None` for anyone else (and for posts from
/// other servers), who may not see it.
pub async fn where_it_went(
    data: &Data<Context>,
    viewer: Option<&Actor>,
    post: &Post,
) -> Result<Option<Vec<DeliveryStatus>>> {
    if !post.local || viewer.is_none_or(|v| v.id != post.author_id) {
        return Ok(None);
    }
    let id = crate::service::posts::create_activity_id(&data.urls, post);
    activity_status(&data.db, &id).await.map(Some)
}
