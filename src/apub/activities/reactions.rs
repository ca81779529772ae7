//! Likes and boosts: Like, Announce (and their Undo, in `following.rs`'s
//! Undo handler).

use crate::{
    apub::{
        protocol::activity::{Announce, Like},
        Data,
    },
    context::Context,
    db::{
        new_id, now,
        post::Post,
        reaction::{Reaction, ReactionKind},
        DbUrl,
    },
    error::{Error, Result},
};
use activitypub_federation::{fetch::object_id::ObjectId, traits::Activity};
use url::Url;

/// Records that the activity's actor reacted to a post.
async fn record(
    data: &Data<Context>,
    kind: ReactionKind,
    activity_id: &Url,
    actor: &ObjectId<crate::db::actor::Actor>,
    post: Post,
) -> Result<()> {
    let actor = actor.dereference(data).await?;
    let reaction = Reaction {
        id: new_id(),
        ap_id: DbUrl(activity_id.clone()),
        kind: kind.as_str().into(),
        actor_id: actor.id,
        post_id: post.id,
        created_at: now(),
    };
    data.db
        .run(move |conn| Ok(Reaction::insert(conn, &reaction)?))
        .await?;
    Ok(())
}

#[async_trait::async_trait]
impl Activity for Like {
    type DataType = Context;
    type Error = Error;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        self.actor.inner()
    }

    async fn verify(&self, _data: &Data<Context>) -> Result<()> {
        Ok(())
    }

    /// Likes of posts we do not have are ignored.
    async fn receive(self, data: &Data<Context>) -> Result<()> {
        let object = self.object.clone();
        let Some(post) = data
            .db
            .run(move |conn| Ok(Post::by_ap_id(conn, &object)?))
            .await?
        else {
            return Ok(());
        };
        record(data, ReactionKind::Like, &self.id, &self.actor, post).await
    }
}

#[async_trait::async_trait]
impl Activity for Announce {
    type DataType = Context;
    type Error = Error;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        self.actor.inner()
    }

    async fn verify(&self, _data: &Data<Context>) -> Result<()> {
        Ok(())
    }

    /// A boost: the boosted post is fetched from its origin when unknown.
    async fn receive(self, data: &Data<Context>) -> Result<()> {
        let object: ObjectId<Post> = self.object.id().clone().into();
        let post = object.dereference(data).await?;
        record(data, ReactionKind::Announce, &self.id, &self.actor, post).await
    }
}
