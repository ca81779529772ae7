//! Enqueuing: the activity stored once and one row per target inbox,
//! shared inboxes used and de-duplicated per host, in the caller's
//! transaction; and a host seen alive again.

use crate::{
    apub::objects::actor::domain_of,
    db::{
        self,
        actor::Actor,
        delivery::{Delivery as Row, DeliveryHost, OutboundActivity},
        DbConn,
    },
    error::{Error, Result},
};
use std::collections::BTreeMap;
use url::Url;

/// A recipient's inboxes, as its actor document lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inbox {
    pub inbox: Url,
    /// `endpoints.sharedInbox`, when the recipient's server offers one.
    pub shared_inbox: Option<Url>,
}

impl Inbox {
    pub fn new(inbox: Url, shared_inbox: Option<Url>) -> Inbox {
        Inbox {
            inbox,
            shared_inbox,
        }
    }

    /// The inboxes of a stored actor.
    pub fn of_actor(actor: &Actor) -> Inbox {
        Inbox {
            inbox: actor.inbox_url.0.clone(),
            shared_inbox: actor
                .shared_inbox_url
                .as_deref()
                .and_then(|u| Url::parse(u).ok()),
        }
    }
}

/// Chooses the URLs to POST to: per host of the recipients' inboxes, the
/// shared inbox when any recipient there offers one (one POST reaches all of
/// them), else each distinct personal inbox. Inboxes on `own_domain` (local
/// recipients) and non-http(s) URLs are left out. Sorted, no duplicates.
pub fn plan_targets(inboxes: Vec<Inbox>, own_domain: &str) -> Vec<Url> {
    let mut by_host: BTreeMap<String, Vec<Inbox>> = BTreeMap::new();
    for inbox in inboxes {
        if !matches!(inbox.inbox.scheme(), "http" | "https") || inbox.inbox.host().is_none() {
            continue;
        }
        by_host
            .entry(domain_of(&inbox.inbox))
            .or_default()
            .push(inbox);
    }
    let mut targets: Vec<Url> = Vec::new();
    for (host, recipients) in by_host {
        if host.eq_ignore_ascii_case(own_domain) {
            continue;
        }
        let shared: Vec<Url> = recipients
            .iter()
            .filter_map(|r| r.shared_inbox.clone())
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
            .collect();
        if shared.is_empty() {
            targets.extend(recipients.into_iter().map(|r| r.inbox));
        } else {
            targets.extend(shared);
        }
    }
    targets.sort();
    targets.dedup();
    targets
}

/// What [`enqueue`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enqueued {
    /// `outbound_activities.id`.
    pub activity_row_id: String,
    /// Delivery rows added (targets already queued for this activity are
    /// not added twice).
    pub queued: usize,
}

/// Queues `activity_json` (whose id is `activity_id`) for delivery to
/// `inboxes`, signed later by the local actor `sender_actor_id` (`actors.id`;
/// the instance actor for instance-level activities). Synchronous, for use
/// inside [`crate::db::Db::transaction`] together with the change that causes
/// the activity. Enqueuing the same activity id again adds only new targets.
/// After the transaction commits, [`Delivery::wake`] shortens the wait.
pub fn enqueue(
    conn: &mut DbConn,
    sender_actor_id: &str,
    activity_id: &Url,
    activity_json: &serde_json::Value,
    inboxes: Vec<Inbox>,
) -> Result<Enqueued> {
    let sender = Actor::by_id(conn, sender_actor_id)?
        .ok_or_else(|| Error::internal(anyhow::anyhow!("unknown sender {sender_actor_id}")))?;
    if !sender.local || sender.private_key_pem.is_none() {
        return Err(Error::internal(anyhow::anyhow!(
            "sender {} is not a local actor with a key",
            sender.ap_id
        )));
    }
    let now = db::now();
    let activity = match OutboundActivity::by_ap_id(conn, activity_id.as_str())? {
        Some(existing) => existing,
        None => {
            let row = OutboundActivity {
                id: db::new_id(),
                ap_id: activity_id.to_string(),
                sender_actor_id: sender.id.clone(),
                json: serde_json::to_string(activity_json)?,
                created_at: now,
            };
            OutboundActivity::insert(conn, &row)?;
            row
        }
    };
    let rows = plan_targets(inboxes, &sender.domain)
        .into_iter()
        .map(|url| Row::queued(&activity.id, url.as_str(), &domain_of(&url), now))
        .collect();
    let queued = Row::insert_new(conn, rows)?;
    Ok(Enqueued {
        activity_row_id: activity.id,
        queued,
    })
}

/// Called by the inbox after a successful request signed by an actor on
/// `host` (`host[:port]`): a host that was failing or parked is healthy
/// again, and its queued deliveries become due at once. One primary-key
/// read when the host was healthy. Returns whether anything changed.
pub fn host_seen_alive(conn: &mut DbConn, host: &str) -> Result<bool> {
    let revived = DeliveryHost::revive(conn, host, db::now())?;
    if revived {
        tracing::info!(host, "delivery host is alive again; its deliveries resume");
    }
    Ok(revived)
}
