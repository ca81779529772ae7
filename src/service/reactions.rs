//! Likes and boosts of any post, local or remote: storing them, telling
//! the post's author (and, for boosts, the booster's followers), undoing
//! them, and counting them. Split from `posts`, which re-exports them.

use super::posts::{author_of, can_see};
use crate::apub::objects::post::announce_of;
use crate::{
    apub::{
        outbox,
        protocol::activity::{Like, Undo, UndoneRef},
        Data,
    },
    context::Context,
    db::{
        actor::Actor,
        follow::Follow,
        new_id, now,
        post::Post,
        reaction::{Reaction, ReactionKind},
        DbUrl,
    },
    error::{Error, Result},
};
use activitypub_federation::kinds::activity::{LikeType, UndoType};

/// `actor` (local) likes or boosts `post`. Repeats change nothing.
///
/// Errors: `NotFound` when the actor may not see the post.
pub async fn react(
    data: &Data<Context>,
    actor: &Actor,
    post: &Post,
    kind: ReactionKind,
) -> Result<()> {
    let author = author_of(data, post).await?;
    if !can_see(data, Some(actor), post).await? || post.is_deleted() {
        return Err(Error::not_found("no such post"));
    }
    if kind == ReactionKind::Announce && !post.visibility().is_public() {
        return Err(Error::unprocessable("only public posts can be boosted"));
    }
    let reaction = Reaction {
        id: new_id(),
        ap_id: DbUrl(data.urls.activity(&new_id())),
        kind: kind.as_str().into(),
        actor_id: actor.id.clone(),
        post_id: post.id.clone(),
        created_at: now(),
    };
    let stored = reaction.clone();
    let created = data
        .db
        .run(move |conn| Ok(Reaction::insert(conn, &stored)?))
        .await?;
    if !created {
        return Ok(());
    }
    send_reaction(data, actor, &author, post, &reaction, kind).await
}

async fn send_reaction(
    data: &Data<Context>,
    actor: &Actor,
    author: &Actor,
    post: &Post,
    reaction: &Reaction,
    kind: ReactionKind,
) -> Result<()> {
    match kind {
        ReactionKind::Like => {
            if post.visibility().is_local_only() {
                return Ok(());
            }
            let like = Like {
                id: reaction.ap_id.0.clone(),
                kind: LikeType::Like,
                actor: actor.ap_id.0.clone().into(),
                object: post.ap_id.0.clone(),
            };
            let id = like.id.clone();
            let like_json = outbox::activity_json(&like)?;
            // A post in a community: the community hears of the like too,
            // and passes it on to its members.
            let mut recipients = vec![author.clone()];
            if let Some(group_id) = post.community_id.clone() {
                let group = data
                    .db
                    .run(move |conn| Ok(Actor::by_id(conn, &group_id)?))
                    .await?;
                recipients.extend(group.filter(|g| !g.local));
            }
            outbox::send(data, actor, &id, like, recipients).await?;
            crate::service::communities::share_change(data, post, &like_json).await
        }
        ReactionKind::Announce => {
            let actor_id = actor.id.clone();
            let mut targets = data
                .db
                .run(move |conn| Ok(Follow::all_followers(conn, &actor_id)?))
                .await?;
            targets.push(author.clone());
            let announce = announce_of(actor, post, reaction);
            let id = announce.id.clone();
            outbox::send(data, actor, &id, announce, targets).await
        }
    }
}

/// Takes back a like or boost by `actor` (local) on `post`.
///
/// Errors: `NotFound` when there was none.
pub async fn unreact(
    data: &Data<Context>,
    actor: &Actor,
    post: &Post,
    kind: ReactionKind,
) -> Result<()> {
    let (actor_id, post_id) = (actor.id.clone(), post.id.clone());
    let reaction = data
        .db
        .run(move |conn| {
            let r = Reaction::find(conn, kind, &actor_id, &post_id)?
                .ok_or_else(|| Error::not_found("nothing to undo"))?;
            Reaction::delete(conn, &r.id)?;
            Ok(r)
        })
        .await?;
    let author = author_of(data, post).await?;
    let embedded = match kind {
        ReactionKind::Like => serde_json::to_value(Like {
            id: reaction.ap_id.0.clone(),
            kind: LikeType::Like,
            actor: actor.ap_id.0.clone().into(),
            object: post.ap_id.0.clone(),
        })?,
        ReactionKind::Announce => serde_json::to_value(announce_of(actor, post, &reaction))?,
    };
    let undo = Undo {
        id: data.urls.new_activity(),
        kind: UndoType::Undo,
        actor: actor.ap_id.0.clone().into(),
        object: UndoneRef::Embedded {
            id: reaction.ap_id.0.clone(),
            kind: if kind == ReactionKind::Like {
                "Like"
            } else {
                "Announce"
            }
            .into(),
            rest: embedded.as_object().cloned().unwrap_or_default(),
        },
    };
    let mut targets = vec![author];
    if kind == ReactionKind::Announce {
        let actor_id = actor.id.clone();
        targets.extend(
            data.db
                .run(move |conn| Ok(Follow::all_followers(conn, &actor_id)?))
                .await?,
        );
    }
    let id = undo.id.clone();
    outbox::send(data, actor, &id, undo, targets).await
}

/// Like and boost counts of a post.
pub async fn reaction_counts(data: &Data<Context>, post: &Post) -> Result<(i64, i64)> {
    let id = post.id.clone();
    data.db
        .run(move |conn| {
            Ok((
                Reaction::count(conn, ReactionKind::Like, &id)?,
                Reaction::count(conn, ReactionKind::Announce, &id)?,
            ))
        })
        .await
}
