//! The following family: Follow, Accept, Reject and Undo(Follow).

use crate::{
    apub::{
        outbox,
        protocol::activity::{Accept, Follow, FollowRef, Reject, Undo, UndoneRef},
        Data,
    },
    context::Context,
    db::{
        actor::{Actor, ActorKind},
        follow::{self as db_follow, FollowState},
        new_id, now,
        reaction::Reaction,
        DbUrl,
    },
    error::{Error, Result},
};
use activitypub_federation::{
    kinds::activity::{AcceptType, FollowType, RejectType, UndoType},
    traits::Activity,
};
use url::Url;

impl Follow {
    /// A new Follow from `follower` to `followee`.
    pub fn new(data: &Data<Context>, follower: &Actor, followee: &Actor) -> Follow {
        Follow {
            id: data.urls.new_activity(),
            kind: FollowType::Follow,
            actor: follower.ap_id.0.clone().into(),
            object: followee.ap_id.0.clone().into(),
        }
    }
}

/// Sends `Accept(follow)` from the followee to the follower.
pub async fn send_accept(
    data: &Data<Context>,
    followee: &Actor,
    follower: &Actor,
    follow: Follow,
) -> Result<()> {
    let accept = Accept {
        id: data.urls.new_activity(),
        kind: AcceptType::Accept,
        actor: followee.ap_id.0.clone().into(),
        object: FollowRef::Embedded(follow),
    };
    let id = accept.id.clone();
    outbox::send(data, followee, &id, accept, vec![follower.clone()]).await
}

/// Sends `Reject(follow)` from the followee to the follower.
pub async fn send_reject(
    data: &Data<Context>,
    followee: &Actor,
    follower: &Actor,
    follow: Follow,
) -> Result<()> {
    let reject = Reject {
        id: data.urls.new_activity(),
        kind: RejectType::Reject,
        actor: followee.ap_id.0.clone().into(),
        object: FollowRef::Embedded(follow),
    };
    let id = reject.id.clone();
    outbox::send(data, followee, &id, reject, vec![follower.clone()]).await
}

/// Sends `Undo(follow)` from the follower to the followee.
pub async fn send_undo_follow(
    data: &Data<Context>,
    follower: &Actor,
    followee: &Actor,
    follow: Follow,
) -> Result<()> {
    let undo = Undo {
        id: data.urls.new_activity(),
        kind: UndoType::Undo,
        actor: follower.ap_id.0.clone().into(),
        object: UndoneRef::Embedded {
            id: follow.id.clone(),
            kind: "Follow".into(),
            rest: serde_json::to_value(&follow)?
                .as_object()
                .cloned()
                .unwrap_or_default(),
        },
    };
    let id = undo.id.clone();
    outbox::send(data, follower, &id, undo, vec![followee.clone()]).await
}

/// Rebuilds the Follow activity of a stored edge (to accept or reject it).
pub fn follow_of(edge: &db_follow::Follow, follower: &Actor, followee: &Actor) -> Follow {
    Follow {
        id: edge.ap_id.0.clone(),
        kind: FollowType::Follow,
        actor: follower.ap_id.0.clone().into(),
        object: followee.ap_id.0.clone().into(),
    }
}

#[async_trait::async_trait]
impl Activity for Follow {
    type DataType = Context;
    type Error = Error;

    activity_ids!();

    async fn verify(&self, data: &Data<Context>) -> Result<()> {
        if !self.object.is_local(data) {
            return Err(Error::bad_request("Follow of an actor on another server"));
        }
        Ok(())
    }

    /// Records the follow; accepts at once unless the followee approves
    /// followers by hand.
    async fn receive(self, data: &Data<Context>) -> Result<()> {
        let follower = self.actor.dereference(data).await?;
        let followee = self.object.dereference_local(data).await?;
        if !matches!(followee.kind(), ActorKind::Person | ActorKind::Group) {
            return Err(Error::bad_request("this actor cannot be followed"));
        }
        let pending = followee.manually_approves_followers;
        let edge = db_follow::Follow {
            id: new_id(),
            ap_id: DbUrl(self.id.clone()),
            follower_id: follower.id.clone(),
            followee_id: followee.id.clone(),
            state: if pending {
                FollowState::Pending
            } else {
                FollowState::Accepted
            }
            .as_str()
            .into(),
            created_at: now(),
            updated_at: now(),
        };
        // The edge and its Accept commit together.
        let reject = Reject {
            id: data.urls.new_activity(),
            kind: RejectType::Reject,
            actor: followee.ap_id.0.clone().into(),
            object: FollowRef::Embedded(self.clone()),
        };
        let accept = Accept {
            id: data.urls.new_activity(),
            kind: AcceptType::Accept,
            actor: followee.ap_id.0.clone().into(),
            object: FollowRef::Embedded(self),
        };
        let policy = data.config.federation.policy;
        data.db
            .transaction(move |conn| {
                // A block (or domain block) either way: refused, as Mastodon
                // does; so is someone a community here banned.
                if crate::service::blocks::separated(conn, &follower, &followee)?
                    || crate::db::community::Community::is_banned(conn, &followee.id, &follower.id)?
                {
                    outbox::enqueue(conn, policy, &followee, &reject.id, &reject, &[follower])?;
                    return Ok(());
                }
                let accepted =
                    match db_follow::Follow::between(conn, &edge.follower_id, &edge.followee_id)? {
                        // A repeated Follow (the follower lost track of ours):
                        // take its new id, keep the state.
                        Some(existing) => {
                            db_follow::Follow::set_ap_id(conn, &existing.id, &edge.ap_id)?;
                            existing.state() == FollowState::Accepted
                        }
                        None => {
                            db_follow::Follow::insert(conn, &edge)?;
                            edge.state() == FollowState::Accepted
                        }
                    };
                if accepted {
                    outbox::enqueue(conn, policy, &followee, &accept.id, &accept, &[follower])?;
                }
                Ok(())
            })
            .await?;
        data.delivery.wake();
        Ok(())
    }
}

/// Finds the edge an Accept or Reject answers: by the Follow's id, or, when
/// the id is unknown but the Follow is embedded, by its two actors.
async fn edge_answered(
    data: &Data<Context>,
    object: &FollowRef,
    answerer: &Url,
) -> Result<Option<db_follow::Follow>> {
    let id = object.id().clone();
    let pair = match object {
        FollowRef::Embedded(follow) => {
            Some((follow.actor.inner().clone(), follow.object.inner().clone()))
        }
        FollowRef::Id(_) => None,
    };
    let answerer = answerer.clone();
    data.db
        .run(move |conn| {
            let edge = match db_follow::Follow::by_ap_id(conn, &id)? {
                Some(edge) => Some(edge),
                None => match pair {
                    Some((follower, followee)) => {
                        let f = Actor::by_ap_id(conn, &follower)?;
                        let g = Actor::by_ap_id(conn, &followee)?;
                        match (f, g) {
                            (Some(f), Some(g)) => db_follow::Follow::between(conn, &f.id, &g.id)?,
                            _ => None,
                        }
                    }
                    None => None,
                },
            };
            // Only the followee may answer a follow.
            let Some(edge) = edge else { return Ok(None) };
            let followee = Actor::by_id(conn, &edge.followee_id)?;
            if followee.is_some_and(|g| *g.ap_id == answerer) {
                Ok(Some(edge))
            } else {
                Err(Error::bad_request(
                    "only the followed actor may answer a Follow",
                ))
            }
        })
        .await
}

#[async_trait::async_trait]
impl Activity for Accept {
    type DataType = Context;
    type Error = Error;

    activity_ids!();

    async fn verify(&self, _data: &Data<Context>) -> Result<()> {
        Ok(())
    }

    async fn receive(self, data: &Data<Context>) -> Result<()> {
        if let Some(edge) = edge_answered(data, &self.object, self.actor.inner()).await? {
            data.db
                .run(move |conn| Ok(db_follow::Follow::accept(conn, &edge.id)?))
                .await?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Activity for Reject {
    type DataType = Context;
    type Error = Error;

    activity_ids!();

    async fn verify(&self, _data: &Data<Context>) -> Result<()> {
        Ok(())
    }

    /// A refused request, or an existing follower removed: the edge goes.
    async fn receive(self, data: &Data<Context>) -> Result<()> {
        if let Some(edge) = edge_answered(data, &self.object, self.actor.inner()).await? {
            data.db
                .run(move |conn| Ok(db_follow::Follow::delete(conn, &edge.id)?))
                .await?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Activity for Undo {
    type DataType = Context;
    type Error = Error;

    activity_ids!();

    async fn verify(&self, _data: &Data<Context>) -> Result<()> {
        Ok(())
    }

    /// Takes back what the actor did: only its own follows (and later likes
    /// and boosts). Unknown ids are ignored, so repeats change nothing.
    async fn receive(self, data: &Data<Context>) -> Result<()> {
        if let UndoneRef::Embedded { kind, rest, .. } = &self.object {
            if kind == "Block" {
                // With a community named, a lifted ban; else a person's block.
                if rest.contains_key("target") || rest.contains_key("audience") {
                    return super::moderation::undo_block(data, self.actor.inner(), rest).await;
                }
                return super::block::undo_block(data, self.actor.inner(), rest).await;
            }
        }
        let undone = self.object.id().clone();
        let actor = self.actor.inner().clone();
        let embedded_follow = match &self.object {
            UndoneRef::Embedded { kind, rest, .. } if kind == "Follow" => rest
                .get("object")
                .and_then(|o| o.as_str())
                .and_then(|o| Url::parse(o).ok()),
            _ => None,
        };
        data.db
            .transaction(move |conn| {
                let Some(undoer) = Actor::by_ap_id(conn, &actor)? else {
                    return Ok(());
                };
                if let Some(reaction) = Reaction::by_ap_id(conn, &undone)? {
                    if reaction.actor_id != undoer.id {
                        return Err(Error::bad_request(
                            "an actor may only undo its own activity",
                        ));
                    }
                    Reaction::delete(conn, &reaction.id)?;
                    return Ok(());
                }
                let mut edge = db_follow::Follow::by_ap_id(conn, &undone)?;
                if edge.is_none() {
                    if let Some(followee) = embedded_follow {
                        if let Some(g) = Actor::by_ap_id(conn, &followee)? {
                            edge = db_follow::Follow::between(conn, &undoer.id, &g.id)?;
                        }
                    }
                }
                if let Some(edge) = edge {
                    if edge.follower_id != undoer.id {
                        return Err(Error::bad_request("an actor may only undo its own follow"));
                    }
                    db_follow::Follow::delete(conn, &edge.id)?;
                }
                Ok(())
            })
            .await
    }
}
