//! Moderating communities: removing posts, banning, approving joins,
//! pinning, and managing moderators — by local or remote moderators.
//! Every action is checked against the community's moderators and written
//! to its moderation log.

use crate::{
    apub::{
        outbox,
        protocol::{
            activity::{Undo, UndoneRef},
            note::PUBLIC,
        },
        Data,
    },
    context::Context,
    db::{
        actor::Actor,
        community::{Community, LogEntry},
        follow::Follow,
        new_id, now,
        post::Post,
    },
    error::{Error, Result},
    service::follows,
};
use activitypub_federation::kinds::activity::UndoType;
use serde_json::json;
use url::Url;

/// A moderation action, named as in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Remove,
    Ban,
    Unban,
    Approve,
    Reject,
    Pin,
    Unpin,
    AddModerator,
    RemoveModerator,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Remove => "remove",
            Action::Ban => "ban",
            Action::Unban => "unban",
            Action::Approve => "approve",
            Action::Reject => "reject",
            Action::Pin => "pin",
            Action::Unpin => "unpin",
            Action::AddModerator => "add_moderator",
            Action::RemoveModerator => "remove_moderator",
        }
    }
}

/// The community, if `moderator` moderates `group`.
///
/// Errors: `NotFound` for a group that is not a local community,
/// `Forbidden` (logged) for someone who is not its moderator.
pub async fn require_moderator(
    data: &Data<Context>,
    group: &Actor,
    moderator: &Actor,
) -> Result<Community> {
    let (group_id, mod_id) = (group.id.clone(), moderator.id.clone());
    let (community, is_mod) = data
        .db
        .run(move |conn| {
            let community = Community::by_actor_id(conn, &group_id)?
                .ok_or_else(|| Error::not_found("no such community"))?;
            Ok((
                community,
                Community::is_moderator(conn, &group_id, &mod_id)?,
            ))
        })
        .await?;
    if !is_mod {
        tracing::warn!(community = %group.ap_id, actor = %moderator.ap_id, "moderation refused: not a moderator");
        return Err(Error::forbidden("only moderators may do this"));
    }
    Ok(community)
}

async fn log(
    data: &Data<Context>,
    group: &Actor,
    moderator: &Actor,
    action: Action,
    target: &str,
    reason: Option<String>,
) -> Result<()> {
    let entry = LogEntry {
        id: new_id(),
        community_id: group.id.clone(),
        moderator_id: moderator.id.clone(),
        action: action.as_str().into(),
        target: target.to_string(),
        reason,
        created_at: now(),
    };
    data.db
        .run(move |conn| Ok(Community::log(conn, &entry)?))
        .await
}

/// Tells the community's group-aware members about a moderation activity.
async fn announce_activity(
    data: &Data<Context>,
    group: &Actor,
    activity: serde_json::Value,
) -> Result<()> {
    let group_id = group.id.clone();
    let members = data
        .db
        .run(move |conn| Ok(Follow::all_followers(conn, &group_id)?))
        .await?;
    let mut aware = Vec::new();
    for member in members.into_iter().filter(|m| !m.local) {
        if crate::service::software::is_group_aware(
            &crate::service::software::of_host(data, &member.domain).await?,
        ) {
            aware.push(member);
        }
    }
    let announce_id = data.urls.new_activity();
    let announce = json!({
        "id": announce_id.as_str(),
        "type": "Announce",
        "actor": group.ap_id.as_str(),
        "object": activity,
        "to": [PUBLIC],
        "cc": [group.followers_url],
    });
    outbox::send(data, group, &announce_id, announce, aware).await
}

/// Removes a post from a community: it is deleted here and the removal is
/// announced to members.
///
/// Errors: `Forbidden` (not a moderator), `NotFound` (not in this
/// community).
pub async fn remove_post(
    data: &Data<Context>,
    moderator: &Actor,
    group: &Actor,
    post: &Post,
    reason: Option<String>,
) -> Result<()> {
    require_moderator(data, group, moderator).await?;
    if post.community_id.as_deref() != Some(group.id.as_str()) {
        return Err(Error::not_found("this post is not in the community"));
    }
    let post_id = post.id.clone();
    data.db
        .run(move |conn| Ok(Post::mark_deleted(conn, &post_id)?))
        .await?;
    log(
        data,
        group,
        moderator,
        Action::Remove,
        post.ap_id.as_str(),
        reason,
    )
    .await?;
    let delete = json!({
        "id": data.urls.new_activity(),
        "type": "Delete",
        "actor": group.ap_id.as_str(),
        "object": post.ap_id.as_str(),
        "to": [PUBLIC],
        "cc": [group.followers_url],
        "audience": group.ap_id.as_str(),
    });
    announce_activity(data, group, delete).await
}

/// Bans an actor: their later posts are refused, and they stop being a
/// member. They get a `Block` from the community.
pub async fn ban(
    data: &Data<Context>,
    moderator: &Actor,
    group: &Actor,
    target: &Actor,
    reason: Option<String>,
) -> Result<()> {
    require_moderator(data, group, moderator).await?;
    let (group_id, target_id, why) = (group.id.clone(), target.id.clone(), reason.clone());
    data.db
        .transaction(move |conn| {
            Community::ban(conn, &group_id, &target_id, why.as_deref())?;
            if let Some(edge) = Follow::between(conn, &target_id, &group_id)? {
                Follow::delete(conn, &edge.id)?;
            }
            Ok(())
        })
        .await?;
    log(
        data,
        group,
        moderator,
        Action::Ban,
        target.ap_id.as_str(),
        reason,
    )
    .await?;
    let block = block_of(data, group, target);
    let id = Url::parse(block["id"].as_str().unwrap_or_default()).map_err(Error::internal)?;
    outbox::send(data, group, &id, block, vec![target.clone()]).await
}

fn block_of(data: &Data<Context>, group: &Actor, target: &Actor) -> serde_json::Value {
    json!({
        "id": data.urls.new_activity().as_str(),
        "type": "Block",
        "actor": group.ap_id.as_str(),
        "object": target.ap_id.as_str(),
        "target": group.ap_id.as_str(),
    })
}

/// Lifts a ban (`Undo(Block)` to the actor).
///
/// Errors: `NotFound` when the actor was not banned.
pub async fn unban(
    data: &Data<Context>,
    moderator: &Actor,
    group: &Actor,
    target: &Actor,
) -> Result<()> {
    require_moderator(data, group, moderator).await?;
    let (group_id, target_id) = (group.id.clone(), target.id.clone());
    let lifted = data
        .db
        .run(move |conn| Ok(Community::unban(conn, &group_id, &target_id)?))
        .await?;
    if !lifted {
        return Err(Error::not_found("this actor is not banned"));
    }
    log(
        data,
        group,
        moderator,
        Action::Unban,
        target.ap_id.as_str(),
        None,
    )
    .await?;
    let block = block_of(data, group, target);
    let undo = Undo {
        id: data.urls.new_activity(),
        kind: UndoType::Undo,
        actor: group.ap_id.0.clone().into(),
        object: UndoneRef::Embedded {
            id: Url::parse(block["id"].as_str().unwrap_or_default()).map_err(Error::internal)?,
            kind: "Block".into(),
            rest: block.as_object().cloned().unwrap_or_default(),
        },
    };
    let id = undo.id.clone();
    outbox::send(data, group, &id, undo, vec![target.clone()]).await
}

/// Approves or refuses a pending request to join.
///
/// Errors: `Forbidden` (not a moderator), `NotFound` (no pending request).
pub async fn decide_join(
    data: &Data<Context>,
    moderator: &Actor,
    group: &Actor,
    applicant: &Actor,
    approve: bool,
) -> Result<()> {
    require_moderator(data, group, moderator).await?;
    follows::decide(data, group, applicant, approve).await?;
    let action = if approve {
        Action::Approve
    } else {
        Action::Reject
    };
    log(
        data,
        group,
        moderator,
        action,
        applicant.ap_id.as_str(),
        None,
    )
    .await
}

/// Pins or unpins a post of the community (its `featured` collection).
pub async fn pin(
    data: &Data<Context>,
    moderator: &Actor,
    group: &Actor,
    post: &Post,
    pinned: bool,
) -> Result<()> {
    require_moderator(data, group, moderator).await?;
    if post.community_id.as_deref() != Some(group.id.as_str()) || post.is_deleted() {
        return Err(Error::not_found("this post is not in the community"));
    }
    let (group_id, post_id) = (group.id.clone(), post.id.clone());
    data.db
        .run(move |conn| {
            if pinned {
                Community::pin(conn, &group_id, &post_id)?;
            } else {
                Community::unpin(conn, &group_id, &post_id)?;
            }
            Ok(())
        })
        .await?;
    let action = if pinned { Action::Pin } else { Action::Unpin };
    log(data, group, moderator, action, post.ap_id.as_str(), None).await?;
    let activity = json!({
        "id": data.urls.new_activity().as_str(),
        "type": if pinned { "Add" } else { "Remove" },
        "actor": group.ap_id.as_str(),
        "object": post.ap_id.as_str(),
        "target": data.urls.community_featured(&group.username).as_str(),
        "audience": group.ap_id.as_str(),
    });
    announce_activity(data, group, activity).await
}

/// Adds or removes a moderator (who may be a remote actor).
///
/// Errors: `Forbidden` (not a moderator), `Unprocessable` when the last
/// moderator would go.
pub async fn set_moderator(
    data: &Data<Context>,
    moderator: &Actor,
    group: &Actor,
    target: &Actor,
    add: bool,
) -> Result<()> {
    require_moderator(data, group, moderator).await?;
    let (group_id, target_id) = (group.id.clone(), target.id.clone());
    data.db
        .transaction(move |conn| {
            if add {
                Community::add_moderator(conn, &group_id, &target_id)?;
            } else {
                if Community::moderators(conn, &group_id)?.len() <= 1 {
                    return Err(Error::unprocessable(
                        "a community needs at least one moderator",
                    ));
                }
                Community::remove_moderator(conn, &group_id, &target_id)?;
            }
            Ok(())
        })
        .await?;
    let action = if add {
        Action::AddModerator
    } else {
        Action::RemoveModerator
    };
    log(data, group, moderator, action, target.ap_id.as_str(), None).await?;
    let activity = json!({
        "id": data.urls.new_activity().as_str(),
        "type": if add { "Add" } else { "Remove" },
        "actor": group.ap_id.as_str(),
        "object": target.ap_id.as_str(),
        "target": data.urls.community_moderators(&group.username).as_str(),
        "audience": group.ap_id.as_str(),
    });
    announce_activity(data, group, activity).await
}

/// The moderation log of a community, newest first.
pub async fn log_of(data: &Data<Context>, group: &Actor, limit: i64) -> Result<Vec<LogEntry>> {
    let id = group.id.clone();
    data.db
        .run(move |conn| Ok(Community::log_entries(conn, &id, limit)?))
        .await
}

/// Whether an actor is banned from a community.
pub async fn is_banned(data: &Data<Context>, group: &Actor, actor: &Actor) -> Result<bool> {
    let (g, a) = (group.id.clone(), actor.id.clone());
    data.db
        .run(move |conn| Ok(Community::is_banned(conn, &g, &a)?))
        .await
}

/// Members waiting for approval.
pub async fn pending_members(data: &Data<Context>, group: &Actor) -> Result<Vec<Actor>> {
    follows::pending_requests(data, group).await
}

/// A local moderator of a community on another server asks it to remove a
/// post: a `Delete` by the moderator, addressed to the community, which
/// checks the moderator against its moderators collection.
pub async fn request_removal(
    data: &Data<Context>,
    moderator: &Actor,
    group: &Actor,
    post: &Url,
) -> Result<()> {
    let id = data.urls.new_activity();
    let delete = json!({
        "id": id.as_str(),
        "type": "Delete",
        "actor": moderator.ap_id.as_str(),
        "object": post.as_str(),
        "to": [group.ap_id.as_str()],
        "audience": group.ap_id.as_str(),
    });
    outbox::send(data, moderator, &id, delete, vec![group.clone()]).await
}

/// Whether `actor` moderates the local community `group`.
pub async fn is_moderator(data: &Data<Context>, group: &Actor, actor: &Actor) -> Result<bool> {
    let (g, a) = (group.id.clone(), actor.id.clone());
    data.db
        .run(move |conn| Ok(Community::is_moderator(conn, &g, &a)?))
        .await
}

/// What a community's moderators work from.
#[derive(Debug, Clone)]
pub struct Desk {
    /// People waiting for approval to join.
    pub pending: Vec<Actor>,
    /// Banned actors, most recent first.
    pub banned: Vec<Actor>,
    pub moderators: Vec<Actor>,
    /// The newest entries of the moderation log, with who acted.
    pub log: Vec<(LogEntry, Option<Actor>)>,
}

/// The moderators' view of a local community: join requests, bans,
/// moderators and the latest `log_limit` log entries.
///
/// Errors: `NotFound` (not a local community), `Forbidden` (not a
/// moderator).
pub async fn desk(
    data: &Data<Context>,
    moderator: &Actor,
    group: &Actor,
    log_limit: i64,
) -> Result<Desk> {
    require_moderator(data, group, moderator).await?;
    let pending = pending_members(data, group).await?;
    let id = group.id.clone();
    data.db
        .run(move |conn| {
            let log = Community::log_entries(conn, &id, log_limit)?
                .into_iter()
                .map(|entry| {
                    let who = Actor::by_id(conn, &entry.moderator_id)?;
                    Ok((entry, who))
                })
                .collect::<diesel::QueryResult<Vec<_>>>()?;
            Ok(Desk {
                pending,
                banned: Community::banned(conn, &id)?,
                moderators: Community::moderators(conn, &id)?,
                log,
            })
        })
        .await
}

/// The pinned posts of a local community that `viewer` may see, most
/// recently pinned first.
pub async fn pinned(
    data: &Data<Context>,
    viewer: Option<&Actor>,
    group: &Actor,
) -> Result<Vec<Post>> {
    let id = group.id.clone();
    let posts = data
        .db
        .run(move |conn| Ok(Community::pinned(conn, &id)?))
        .await?;
    let mut visible = Vec::with_capacity(posts.len());
    for post in posts {
        if crate::service::posts::can_see(data, viewer, &post).await? {
            visible.push(post);
        }
    }
    Ok(visible)
}
