//! How one account stands to others: relationships as Mastodon reports
//! them, blocks and mutes, and profile changes.
//!
//! Mutes are kept by this instance for its own accounts: they hide the
//! other account's posts (and notifications) here. Blocks, federated, live
//! in `service::blocks`.

use crate::{
    apub::{outbox, protocol::activity::Update, Data},
    context::Context,
    db::{
        actor::Actor,
        follow::{Follow, FollowState},
        marks::{AccountMark, MarkKind},
        DbConn,
    },
    error::{Error, Result},
};
use activitypub_federation::{kinds::activity::UpdateType, traits::Object};

/// Mastodon's Relationship, as plain data.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Relationship {
    pub id: String,
    pub following: bool,
    pub requested: bool,
    pub followed_by: bool,
    pub requested_by: bool,
    pub blocking: bool,
    pub blocked_by: bool,
    pub muting: bool,
    pub muting_notifications: bool,
    pub domain_blocking: bool,
}

fn relationship_sync(
    conn: &mut DbConn,
    me: &str,
    other: &str,
) -> diesel::QueryResult<Relationship> {
    let out = Follow::between(conn, me, other)?;
    let inc = Follow::between(conn, other, me)?;
    Ok(Relationship {
        id: other.to_string(),
        following: out
            .as_ref()
            .is_some_and(|f| f.state() == FollowState::Accepted),
        requested: out
            .as_ref()
            .is_some_and(|f| f.state() == FollowState::Pending),
        followed_by: inc
            .as_ref()
            .is_some_and(|f| f.state() == FollowState::Accepted),
        requested_by: inc
            .as_ref()
            .is_some_and(|f| f.state() == FollowState::Pending),
        blocking: AccountMark::has(conn, me, MarkKind::Block, other)?,
        blocked_by: AccountMark::has(conn, other, MarkKind::Block, me)?,
        muting: AccountMark::has(conn, me, MarkKind::Mute, other)?,
        muting_notifications: AccountMark::has(conn, me, MarkKind::MuteNotifications, other)?,
        domain_blocking: match Actor::by_id(conn, other)? {
            Some(o) => AccountMark::has(conn, me, MarkKind::DomainBlock, &o.domain)?,
            None => false,
        },
    })
}

/// How `me` stands to each of `others` (ids of actors; unknown ids are
/// left out).
pub async fn relationships(
    data: &Data<Context>,
    me: &Actor,
    others: Vec<String>,
) -> Result<Vec<Relationship>> {
    let me = me.id.clone();
    data.db
        .run(move |conn| {
            let mut out = Vec::new();
            for other in &others {
                if Actor::by_id(conn, other)?.is_some() {
                    out.push(relationship_sync(conn, &me, other)?);
                }
            }
            Ok(out)
        })
        .await
}

pub async fn relationship(data: &Data<Context>, me: &Actor, other: &Actor) -> Result<Relationship> {
    let (me, other) = (me.id.clone(), other.id.clone());
    data.db
        .run(move |conn| Ok(relationship_sync(conn, &me, &other)?))
        .await
}

/// An actor by its local id.
///
/// Errors: `NotFound`.
pub async fn actor_by_id(data: &Data<Context>, id: &str) -> Result<Actor> {
    let id = id.to_string();
    data.db
        .run(move |conn| {
            Actor::by_id(conn, &id)?.ok_or_else(|| Error::not_found("Record not found"))
        })
        .await
}

/// Follows (or joins, for a community), unless either blocks the other
/// (or the other's domain), or a community here banned them.
///
/// Errors: `Forbidden` when a block or a ban stands between them.
pub async fn follow(data: &Data<Context>, me: &Actor, target: &Actor) -> Result<Relationship> {
    let (m, t) = (me.clone(), target.clone());
    let blocked = data
        .db
        .run(move |conn| Ok(crate::service::blocks::separated(conn, &m, &t)?))
        .await?;
    if blocked {
        return Err(Error::forbidden(
            "You cannot follow this account: one of you blocks the other",
        ));
    }
    if target.local
        && target.kind() == crate::db::actor::ActorKind::Group
        && crate::service::moderation::is_banned(data, target, me).await?
    {
        return Err(Error::forbidden(
            "You are banned from this community, so you cannot join it again",
        ));
    }
    crate::service::follows::follow(data, me, target).await?;
    relationship(data, me, target).await
}

/// Unfollows (or leaves); not following is not an error.
pub async fn unfollow(data: &Data<Context>, me: &Actor, target: &Actor) -> Result<Relationship> {
    match crate::service::follows::unfollow(data, me, target).await {
        Ok(()) => {}
        Err(e) if e.kind == crate::error::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    relationship(data, me, target).await
}

/// Blocks `target` (`service::blocks::block`).
pub async fn block(data: &Data<Context>, me: &Actor, target: &Actor) -> Result<Relationship> {
    crate::service::blocks::block(data, me, target).await?;
    relationship(data, me, target).await
}

pub async fn unblock(data: &Data<Context>, me: &Actor, target: &Actor) -> Result<Relationship> {
    crate::service::blocks::unblock(data, me, target).await?;
    relationship(data, me, target).await
}

/// Mutes `target` (and its notifications, unless `notifications` is false).
pub async fn mute(
    data: &Data<Context>,
    me: &Actor,
    target: &Actor,
    notifications: bool,
) -> Result<Relationship> {
    if me.id == target.id {
        return Err(Error::unprocessable("you cannot mute yourself"));
    }
    let (m, t) = (me.id.clone(), target.id.clone());
    data.db
        .transaction(move |conn| {
            AccountMark::set(conn, &m, MarkKind::Mute, &t)?;
            if notifications {
                AccountMark::set(conn, &m, MarkKind::MuteNotifications, &t)?;
            } else {
                AccountMark::unset(conn, &m, MarkKind::MuteNotifications, &t)?;
            }
            Ok(())
        })
        .await?;
    relationship(data, me, target).await
}

pub async fn unmute(data: &Data<Context>, me: &Actor, target: &Actor) -> Result<Relationship> {
    let (m, t) = (me.id.clone(), target.id.clone());
    data.db
        .transaction(move |conn| {
            AccountMark::unset(conn, &m, MarkKind::Mute, &t)?;
            AccountMark::unset(conn, &m, MarkKind::MuteNotifications, &t)?;
            Ok(())
        })
        .await?;
    relationship(data, me, target).await
}

/// Accounts `me` blocked or muted, newest first, with the marks' ids for
/// paging.
pub async fn marked(
    data: &Data<Context>,
    me: &Actor,
    kind: MarkKind,
    page: crate::db::Page,
) -> Result<(Vec<Actor>, Option<(String, String)>)> {
    let me = me.id.clone();
    data.db
        .run(move |conn| {
            let marks = AccountMark::list(conn, &me, kind, &page)?;
            let bounds = match (marks.first(), marks.last()) {
                (Some(a), Some(b)) => Some((a.id.clone(), b.id.clone())),
                _ => None,
            };
            let mut actors = Vec::new();
            for m in &marks {
                actors.extend(Actor::by_id(conn, &m.target_id)?);
            }
            Ok((actors, bounds))
        })
        .await
}

/// What a profile edit may change; `None` leaves a field as it is.
#[derive(Debug, Clone, Default)]
pub struct ProfileEdit {
    pub display_name: Option<String>,
    /// Markdown.
    pub note: Option<String>,
    pub locked: Option<bool>,
    pub discoverable: Option<bool>,
    pub hide_collections: Option<bool>,
    pub fields: Option<Vec<(String, String)>>,
}

/// Longest display name and field texts, and most fields (Mastodon's).
pub const MAX_DISPLAY_NAME: usize = 30;
pub const MAX_NOTE: usize = 500;
pub const MAX_FIELDS: usize = 4;
pub const MAX_FIELD_TEXT: usize = 255;

/// Changes a local account's profile and tells its followers (`Update`).
///
/// Errors: `Unprocessable` for texts over Mastodon's limits.
pub async fn update_profile(data: &Data<Context>, me: &Actor, edit: ProfileEdit) -> Result<Actor> {
    let mut actor = me.clone();
    if let Some(name) = edit.display_name {
        if name.chars().count() > MAX_DISPLAY_NAME {
            return Err(Error::unprocessable(format!(
                "Validation failed: Display name is too long (maximum is {MAX_DISPLAY_NAME} characters)"
            )));
        }
        actor.display_name = Some(name.trim().to_string()).filter(|n| !n.is_empty());
    }
    if let Some(note) = edit.note {
        if note.chars().count() > MAX_NOTE {
            return Err(Error::unprocessable(format!(
                "Validation failed: Note is too long (maximum is {MAX_NOTE} characters)"
            )));
        }
        let urls = data.urls.clone();
        actor.summary = Some(crate::text::render_markdown(
            &note,
            |_| None,
            |t| urls.tag(t).to_string(),
        ))
        .filter(|_| !note.trim().is_empty());
        actor.summary_source = Some(note).filter(|n| !n.trim().is_empty());
    }
    if let Some(locked) = edit.locked {
        actor.manually_approves_followers = locked;
    }
    if let Some(discoverable) = edit.discoverable {
        actor.discoverable = discoverable;
    }
    if let Some(hide) = edit.hide_collections {
        actor.hide_network = hide;
    }
    if let Some(fields) = edit.fields {
        let fields: Vec<(String, String)> = fields
            .into_iter()
            .filter(|(n, v)| !n.trim().is_empty() || !v.trim().is_empty())
            .collect();
        if fields.len() > MAX_FIELDS
            || fields.iter().any(|(n, v)| {
                n.chars().count() > MAX_FIELD_TEXT || v.chars().count() > MAX_FIELD_TEXT
            })
        {
            return Err(Error::unprocessable(format!(
                "Validation failed: at most {MAX_FIELDS} fields of at most {MAX_FIELD_TEXT} characters"
            )));
        }
        let json: Vec<serde_json::Value> = fields
            .iter()
            .map(|(n, v)| {
                serde_json::json!({
                    "name": crate::text::html_escape(n.trim()),
                    "value": crate::text::html_escape(v.trim()),
                })
            })
            .collect();
        actor.fields_json = Some(serde_json::to_string(&json)?);
    }
    actor.updated = Some(crate::db::now());
    let stored = actor.clone();
    data.db
        .run(move |conn| Ok(Actor::update(conn, &stored)?))
        .await?;
    send_actor_update(data, &actor).await?;
    Ok(actor)
}

/// Tells a local actor's remote followers its document changed: an
/// `Update` of the actor as [`Object::into_json`] serves it now (a profile
/// edit, or a suspension, which the document shows as `suspended`).
pub async fn send_actor_update(data: &Data<Context>, actor: &Actor) -> Result<()> {
    let actor_id = actor.id.clone();
    let followers = data
        .db
        .run(move |conn| Ok(Follow::all_followers(conn, &actor_id)?))
        .await?;
    let remote: Vec<Actor> = followers.into_iter().filter(|f| !f.local).collect();
    if remote.is_empty() {
        return Ok(());
    }
    let object = serde_json::to_value(actor.clone().into_json(data).await?)?;
    let update = Update {
        id: data.urls.new_activity(),
        kind: UpdateType::Update,
        actor: actor.ap_id.0.clone().into(),
        object,
        to: url::Url::parse(crate::apub::protocol::note::PUBLIC)
            .into_iter()
            .collect(),
        cc: actor
            .followers_url
            .as_deref()
            .and_then(|f| url::Url::parse(f).ok())
            .into_iter()
            .collect(),
    };
    let id = update.id.clone();
    outbox::send(data, actor, &id, update, remote).await
}
