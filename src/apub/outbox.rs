//! Outbound activities: the one place where they are addressed and handed
//! to the durable delivery queue (`crate::delivery`).
//!
//! [`enqueue`] runs inside the caller's database transaction, so an
//! activity is queued exactly when the change that causes it commits.
//! [`send`] is the same in a transaction of its own, for activities that
//! follow no stored change (an Accept re-sent, say). The federation policy
//! is applied here: recipients on hosts the policy refuses are left out,
//! and so are actors who told us they block the sender (`Block`).

use crate::{
    apub::{protocol::context::context, Data},
    config::FederationPolicy,
    context::Context,
    db::{
        actor::Actor,
        domain_policy,
        marks::{AccountMark, MarkKind},
        DbConn,
    },
    delivery::{self, Inbox},
    error::Result,
};
use activitypub_federation::protocol::context::WithContext;
use serde::Serialize;
use url::Url;

/// The JSON an activity is delivered as: with our `@context`.
pub fn activity_json<A: Serialize>(activity: &A) -> Result<serde_json::Value> {
    Ok(serde_json::to_value(WithContext::new(activity, context()))?)
}

/// Queues `activity` (whose id is `activity_id`), signed by local `sender`,
/// for every remote actor in `recipients` the policy allows. Synchronous:
/// call it inside the transaction that stores the change.
pub fn enqueue<A: Serialize>(
    conn: &mut DbConn,
    policy: FederationPolicy,
    sender: &Actor,
    activity_id: &Url,
    activity: &A,
    recipients: &[Actor],
) -> Result<()> {
    let mut inboxes = Vec::new();
    for recipient in recipients.iter().filter(|r| !r.local) {
        let host = recipient
            .inbox_url
            .host_str()
            .unwrap_or_default()
            .to_string();
        if AccountMark::has(conn, &recipient.id, MarkKind::Block, &sender.id)? {
            tracing::debug!(recipient = %recipient.ap_id, "not delivering: the recipient blocks the sender");
        } else if domain_policy::allows(conn, policy, &host)? {
            inboxes.push(Inbox::of_actor(recipient));
        } else {
            tracing::debug!(%host, "not delivering: refused by federation policy");
        }
    }
    if inboxes.is_empty() {
        return Ok(());
    }
    let json = activity_json(activity)?;
    delivery::enqueue(conn, &sender.id, activity_id, &json, inboxes)?;
    Ok(())
}

/// [`enqueue`] in a transaction of its own, then wakes the workers.
pub async fn send<A: Serialize + Send + 'static>(
    data: &Data<Context>,
    sender: &Actor,
    activity_id: &Url,
    activity: A,
    recipients: Vec<Actor>,
) -> Result<()> {
    let (policy, sender, activity_id) = (
        data.config.federation.policy,
        sender.clone(),
        activity_id.clone(),
    );
    data.db
        .transaction(move |conn| {
            enqueue(conn, policy, &sender, &activity_id, &activity, &recipients)
        })
        .await?;
    data.delivery.wake();
    Ok(())
}
