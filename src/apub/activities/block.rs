//! `Block` of a local person by a person on another server (Mastodon's),
//! and its `Undo` (reached through the Undo handler in `following`).
//! Community bans, which are `Block`s with a `target`, are in `moderation`.

use crate::{
    apub::{protocol::activity::PersonBlock, Data},
    context::Context,
    db::actor::Actor,
    error::{Error, Result},
    service::blocks,
};
use activitypub_federation::{fetch::object_id::ObjectId, traits::Activity};
use url::Url;

#[async_trait::async_trait]
impl Activity for PersonBlock {
    type DataType = Context;
    type Error = Error;

    activity_ids!();

    async fn verify(&self, data: &Data<Context>) -> Result<()> {
        if !self.object.is_local(data) {
            return Err(Error::bad_request("Block of an actor on another server"));
        }
        Ok(())
    }

    async fn receive(self, data: &Data<Context>) -> Result<()> {
        let blocker = self.actor.dereference(data).await?;
        let blocked = self.object.dereference_local(data).await?;
        blocks::receive_block(data, &blocker, &blocked).await
    }
}

/// `Undo(Block)` by `actor`, the Block embedded as `block`: lifts the
/// block when its object is one of ours; anything else is ignored.
pub async fn undo_block(
    data: &Data<Context>,
    actor: &Url,
    block: &serde_json::Map<String, serde_json::Value>,
) -> Result<()> {
    let object = block.get("object").and_then(|o| match o {
        serde_json::Value::String(s) => Url::parse(s).ok(),
        other => other
            .get("id")
            .and_then(|i| i.as_str())
            .and_then(|s| Url::parse(s).ok()),
    });
    let Some(object) = object else {
        return Ok(());
    };
    if block
        .get("actor")
        .and_then(|a| a.as_str())
        .is_some_and(|a| a != actor.as_str())
    {
        return Err(Error::bad_request("an actor may only undo its own Block"));
    }
    let blocked: ObjectId<Actor> = object.into();
    if !blocked.is_local(data) {
        return Ok(());
    }
    let blocked = blocked.dereference_local(data).await?;
    let blocker: ObjectId<Actor> = actor.clone().into();
    let blocker = blocker.dereference(data).await?;
    blocks::receive_unblock(data, &blocker, &blocked).await
}
