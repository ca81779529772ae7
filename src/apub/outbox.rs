//! Outbound delivery: the one function through which every activity leaves
//! this instance.
//!
//! Today it signs and sends at once, through the federation crate, and logs
//! failures. The persistent delivery queue replaces the body of [`send`]
//! (enqueue in the caller's transaction, workers with retries); callers do
//! not change.

use crate::{
    apub::{protocol::context::context, Data},
    context::Context,
    db::actor::Actor,
    error::Result,
};
use activitypub_federation::{
    activity_sending::SendActivityTask, protocol::context::WithContext, traits,
};
use serde::Serialize;
use std::fmt::Debug;
use tracing::Instrument;
use url::Url;

/// The inboxes to reach a set of actors: shared inboxes where offered, each
/// once, and never our own server.
pub fn inboxes_of<'a>(
    data: &Data<Context>,
    actors: impl IntoIterator<Item = &'a Actor>,
) -> Vec<Url> {
    let mut inboxes: Vec<Url> = actors
        .into_iter()
        .filter(|a| !a.local)
        .map(traits::Actor::shared_inbox_or_inbox)
        .filter(|url| url.host_str().is_some() && !is_ours(data, url))
        .collect();
    inboxes.sort();
    inboxes.dedup();
    inboxes
}

fn is_ours(data: &Data<Context>, url: &Url) -> bool {
    crate::apub::objects::actor::domain_of(url) == data.urls.domain()
}

/// Sends `activity` from `sender` to `inboxes`. Hosts the federation policy
/// refuses are skipped by the crate's URL verifier. Failures are logged, not
/// returned: the change that caused the activity has happened either way.
pub async fn send<A>(
    data: &Data<Context>,
    sender: &Actor,
    activity: A,
    inboxes: Vec<Url>,
) -> Result<()>
where
    A: traits::Activity + Serialize + Debug + Send + Sync,
{
    let inboxes: Vec<Url> = inboxes.into_iter().filter(|i| !is_ours(data, i)).collect();
    if inboxes.is_empty() {
        return Ok(());
    }
    let activity = WithContext::new(activity, context());
    let tasks = SendActivityTask::prepare(&activity, sender, inboxes, data).await?;
    for task in tasks {
        let span = tracing::info_span!("delivery", %task);
        if let Err(e) = task.sign_and_send(data).instrument(span.clone()).await {
            tracing::warn!(parent: &span, error = %e, "delivery failed");
        }
    }
    Ok(())
}
