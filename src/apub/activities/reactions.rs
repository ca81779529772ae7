//! Likes and boosts: Like, Announce (and their Undo, in `following.rs`'s
//! Undo handler).

use crate::{
    apub::{
        protocol::activity::{Announce, Like, ObjectRef},
        Data,
    },
    context::Context,
    db::{
        actor::{Actor, ActorKind},
        new_id, now,
        post::Post,
        reaction::{Reaction, ReactionKind},
        DbUrl,
    },
    error::{Error, ErrorKind, Result},
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

    activity_ids!();

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
        let raw = serde_json::to_value(&self)?;
        record(
            data,
            ReactionKind::Like,
            &self.id,
            &self.actor,
            post.clone(),
        )
        .await?;
        // A like of a post in one of our communities is passed on to its
        // group-aware members, as FEP-1b12 servers expect.
        crate::service::communities::share_change(data, &post, &raw).await
    }
}

#[async_trait::async_trait]
impl Activity for Announce {
    type DataType = Context;
    type Error = Error;

    activity_ids!();

    async fn verify(&self, _data: &Data<Context>) -> Result<()> {
        Ok(())
    }

    /// A boost of a post (fetched from its origin when unknown), or a
    /// community passing on an activity (FEP-1b12).
    async fn receive(self, data: &Data<Context>) -> Result<()> {
        if let ObjectRef::Object { rest, .. } = &self.object {
            let kind = rest.get("type").and_then(|t| t.as_str()).unwrap_or("");
            if matches!(
                kind,
                "Create" | "Update" | "Delete" | "Like" | "Undo" | "Announce"
            ) {
                return receive_shared(data, &self, kind, rest).await;
            }
        }
        let object: ObjectId<Post> = self.object.id().clone().into();
        let post = object.dereference(data).await?;
        let announcer = self.actor.dereference(data).await?;
        if announcer.kind() == ActorKind::Group {
            link_to_group(data, &post, &announcer).await?;
        }
        record(data, ReactionKind::Announce, &self.id, &self.actor, post).await
    }
}

/// The id of the object an embedded activity is about.
fn inner_object_id(rest: &serde_json::Map<String, serde_json::Value>) -> Option<Url> {
    match rest.get("object")? {
        serde_json::Value::String(id) => Url::parse(id).ok(),
        serde_json::Value::Object(o) => o.get("id")?.as_str().and_then(|id| Url::parse(id).ok()),
        _ => None,
    }
}

async fn link_to_group(data: &Data<Context>, post: &Post, group: &Actor) -> Result<()> {
    if post.community_id.is_some() {
        return Ok(());
    }
    let (post_id, group_id) = (post.id.clone(), group.id.clone());
    data.db
        .run(move |conn| Ok(Post::set_community(conn, &post_id, &group_id)?))
        .await?;
    Ok(())
}

/// An activity passed on by a community. The embedded copy is not trusted
/// (its author did not sign it for us): the post it concerns is fetched
/// from its origin, which is what Create, Update and Delete then mean.
async fn receive_shared(
    data: &Data<Context>,
    announce: &Announce,
    kind: &str,
    rest: &serde_json::Map<String, serde_json::Value>,
) -> Result<()> {
    let group = announce.actor.dereference(data).await?;
    let Some(object) = inner_object_id(rest) else {
        return Ok(());
    };
    let id: ObjectId<Post> = object.clone().into();
    match kind {
        "Create" | "Update" => {
            let post = id.dereference_forced(data).await?;
            if group.kind() == ActorKind::Group {
                link_to_group(data, &post, &group).await?;
            }
        }
        // A community removing a post shared in it (moderation).
        "Delete" | "Remove" if is_community_post(data, &object, &group).await? => {
            data.db
                .run(move |conn| {
                    if let Some(post) = Post::by_ap_id(conn, &object)? {
                        // Our own author's original stays; it only leaves
                        // the community. Copies of others' posts go.
                        if post.local {
                            Post::clear_community(conn, &post.id)?;
                        } else {
                            Post::mark_deleted(conn, &post.id)?;
                        }
                    }
                    Ok(())
                })
                .await?;
        }
        "Delete" => match id.dereference_forced(data).await {
            Err(e) if matches!(e.kind, ErrorKind::Gone | ErrorKind::NotFound) => {
                data.db
                    .run(move |conn| {
                        if let Some(post) = Post::by_ap_id(conn, &object)? {
                            Post::mark_deleted(conn, &post.id)?;
                        }
                        Ok(())
                    })
                    .await?;
            }
            _ => {}
        },
        // Votes and the rest are not shown by Outloud yet.
        _ => tracing::debug!(kind, "ignoring a shared activity"),
    }
    Ok(())
}

/// Whether `object` is a post we have that was shared in `group`.
async fn is_community_post(data: &Data<Context>, object: &Url, group: &Actor) -> Result<bool> {
    if group.kind() != ActorKind::Group {
        return Ok(false);
    }
    let (object, group_id) = (object.clone(), group.id.clone());
    data.db
        .run(move |conn| {
            Ok(Post::by_ap_id(conn, &object)?
                .is_some_and(|p| p.community_id.as_deref() == Some(group_id.as_str())))
        })
        .await
}
