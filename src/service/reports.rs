//! Reports: filed by local accounts (`POST /api/v1/reports`), received
//! from other servers as `Flag`, and handled by moderators (the admin API;
//! later the web admin pages, which call these same functions).
//!
//! Who handles a report: every local admin, and the local moderators of
//! the community concerned (the community a reported post was shared in,
//! or the reported Group). Each gets an `admin.report` notification.

use crate::{
    apub::{outbox, protocol::activity::Flag, Data},
    context::Context,
    db::{
        actor::{Actor, ActorKind},
        local_user::LocalUser,
        new_id, now,
        post::Post,
        report::{Report, Scope, CATEGORIES},
        DbConn, Page,
    },
    error::{Error, Result},
};
use activitypub_federation::kinds::activity::FlagType;
use url::Url;

/// Longest comment a report may carry (Mastodon's).
pub const MAX_COMMENT: usize = 1000;

/// A report as the client API asks for it.
#[derive(Debug, Clone, Default)]
pub struct NewReport {
    pub account_id: String,
    pub status_ids: Vec<String>,
    pub comment: String,
    pub forward: bool,
    pub category: Option<String>,
    pub rule_ids: Vec<String>,
}

/// A report with the rows it refers to.
#[derive(Debug, Clone)]
pub struct ReportView {
    pub report: Report,
    pub reporter: Actor,
    pub target: Actor,
    pub posts: Vec<Post>,
    pub resolver: Option<Actor>,
}

fn view_sync(conn: &mut DbConn, report: Report) -> Result<ReportView> {
    let actor = |conn: &mut DbConn, id: &str| -> Result<Actor> {
        Actor::by_id(conn, id)?.ok_or_else(|| Error::not_found("Record not found"))
    };
    let reporter = actor(conn, &report.reporter_id)?;
    let target = actor(conn, &report.target_id)?;
    let mut posts = Vec::new();
    for id in Report::post_ids(conn, &report.id)? {
        posts.extend(Post::by_id(conn, &id)?);
    }
    let resolver = match &report.resolved_by {
        Some(id) => Actor::by_id(conn, id)?,
        None => None,
    };
    Ok(ReportView {
        report,
        reporter,
        target,
        posts,
        resolver,
    })
}

/// The community a report concerns: the reported Group, else the first
/// community a reported post was shared in.
fn community_of(target: &Actor, posts: &[Post]) -> Option<String> {
    if target.kind() == ActorKind::Group {
        return Some(target.id.clone());
    }
    posts.iter().find_map(|p| p.community_id.clone())
}

/// Stores a report and tells everyone who handles it, in one transaction.
fn store_and_notify(
    conn: &mut DbConn,
    report: &Report,
    post_ids: &[String],
) -> Result<Option<Report>> {
    let Some(stored) = Report::insert(conn, report, post_ids)? else {
        return Ok(None);
    };
    for recipient in Report::recipients(conn, &stored)? {
        if recipient != stored.reporter_id {
            Report::notify(conn, &stored, &recipient)?;
        }
    }
    Ok(Some(stored))
}

/// Files a report by local `reporter`. With `forward`, a remote target's
/// server gets a `Flag` from our instance actor (so the reporter stays
/// anonymous, as in Mastodon), and so does the remote community the posts
/// were shared in, for its moderators.
///
/// Errors: `Unprocessable` for an unknown account, posts not by it, an
/// unknown category or a comment over [`MAX_COMMENT`] characters.
pub async fn file(data: &Data<Context>, reporter: &Actor, new: NewReport) -> Result<ReportView> {
    if new.comment.chars().count() > MAX_COMMENT {
        return Err(Error::unprocessable(format!(
            "Validation failed: Comment is too long (maximum is {MAX_COMMENT} characters)"
        )));
    }
    let category = match new.category.as_deref().filter(|c| !c.is_empty()) {
        Some(c) if CATEGORIES.contains(&c) => c.to_string(),
        Some(c) => {
            return Err(Error::unprocessable(format!(
                "Validation failed: unknown category {c:?} (one of {})",
                CATEGORIES.join(", ")
            )))
        }
        None if !new.rule_ids.is_empty() => "violation".into(),
        None => "other".into(),
    };
    let reporter_id = reporter.id.clone();
    let forward = new.forward;
    let (view, community) = data
        .db
        .transaction(move |conn| {
            let target = Actor::by_id(conn, &new.account_id)?.ok_or_else(|| {
                Error::unprocessable("Validation failed: the reported account does not exist")
            })?;
            if target.id == reporter_id {
                return Err(Error::unprocessable(
                    "Validation failed: you cannot report yourself",
                ));
            }
            let mut posts = Vec::new();
            for id in &new.status_ids {
                match Post::by_id(conn, id)? {
                    Some(p) if p.author_id == target.id => posts.push(p),
                    _ => {
                        return Err(Error::unprocessable(format!(
                            "Validation failed: status {id} is not a status of the reported account"
                        )))
                    }
                }
            }
            let community_id = community_of(&target, &posts);
            let community = match &community_id {
                Some(id) => Actor::by_id(conn, id)?,
                None => None,
            };
            let report = Report {
                id: new_id(),
                ap_id: None,
                reporter_id: reporter_id.clone(),
                target_id: target.id.clone(),
                community_id,
                comment: new.comment.clone(),
                category,
                forwarded: forward
                    && (!target.local || community.as_ref().is_some_and(|c| !c.local)),
                created_at: now(),
                updated_at: now(),
                resolved_at: None,
                resolved_by: None,
            };
            let post_ids: Vec<String> = posts.iter().map(|p| p.id.clone()).collect();
            let stored = store_and_notify(conn, &report, &post_ids)?
                .ok_or_else(|| Error::internal(anyhow::anyhow!("report id collision")))?;
            Ok((view_sync(conn, stored)?, community))
        })
        .await?;
    if forward {
        let mut recipients = Vec::new();
        if !view.target.local {
            recipients.push(view.target.clone());
        }
        if let Some(c) = community.filter(|c| !c.local) {
            recipients.push(c);
        }
        if !recipients.is_empty() {
            let flag = flag_of(data, &view);
            let id = flag.id.clone();
            let sender = data.instance_actor.as_ref().clone();
            outbox::send(data, &sender, &id, flag, recipients).await?;
        }
    }
    Ok(view)
}

/// The `Flag` a forwarded report is sent as.
fn flag_of(data: &Data<Context>, view: &ReportView) -> Flag {
    let mut object = vec![view.target.ap_id.0.clone()];
    object.extend(view.posts.iter().map(|p| p.ap_id.0.clone()));
    Flag {
        id: data.urls.new_activity(),
        kind: FlagType::Flag,
        actor: data.instance_actor.ap_id.0.clone().into(),
        object,
        content: Some(view.report.comment.clone()).filter(|c| !c.is_empty()),
        to: vec![view.target.ap_id.0.clone()],
    }
}

/// Stores a `Flag` from another server, once per id. Its objects name the
/// reported actor and posts; only ours count: local actors, and posts that
/// are local or shared in a local community. A Flag naming nothing of ours
/// is ignored.
pub async fn receive_flag(
    data: &Data<Context>,
    sender: &Actor,
    flag_id: &Url,
    objects: Vec<Url>,
    content: Option<String>,
) -> Result<()> {
    let sender_id = sender.id.clone();
    let flag_id = flag_id.to_string();
    let stored = data
        .db
        .transaction(move |conn| {
            let mut target: Option<Actor> = None;
            let mut posts: Vec<Post> = Vec::new();
            for url in &objects {
                if let Some(actor) = Actor::by_ap_id(conn, url)? {
                    if actor.local && target.is_none() {
                        target = Some(actor);
                    }
                    continue;
                }
                if let Some(post) = Post::by_ap_id(conn, url)? {
                    let in_local_community = match &post.community_id {
                        Some(c) => Actor::by_id(conn, c)?.is_some_and(|c| c.local),
                        None => false,
                    };
                    if post.local || in_local_community {
                        posts.push(post);
                    }
                }
            }
            let target = match (target, posts.first()) {
                (Some(t), _) => t,
                (None, Some(p)) => Actor::by_id(conn, &p.author_id)?
                    .ok_or_else(|| Error::not_found("the reported post has no author"))?,
                (None, None) => return Ok(None),
            };
            posts.retain(|p| p.author_id == target.id);
            let community_id = community_of(&target, &posts).filter(|c| {
                Actor::by_id(conn, c)
                    .ok()
                    .flatten()
                    .is_some_and(|c| c.local)
            });
            let report = Report {
                id: new_id(),
                ap_id: Some(flag_id),
                reporter_id: sender_id,
                target_id: target.id.clone(),
                community_id,
                comment: content
                    .map(|c| {
                        crate::text::strip_html(&c)
                            .chars()
                            .take(MAX_COMMENT)
                            .collect()
                    })
                    .unwrap_or_default(),
                category: "other".into(),
                forwarded: true,
                created_at: now(),
                updated_at: now(),
                resolved_at: None,
                resolved_by: None,
            };
            let post_ids: Vec<String> = posts.iter().map(|p| p.id.clone()).collect();
            store_and_notify(conn, &report, &post_ids)
        })
        .await?;
    match stored {
        Some(r) => tracing::info!(report = %r.id, target = %r.target_id, "report received"),
        None => tracing::debug!("Flag about nothing of ours, or a repeat: ignored"),
    }
    Ok(())
}

/// Which reports `moderator` may handle.
///
/// Errors: `Forbidden` for an account that is neither an admin nor a
/// moderator of a local community.
async fn scope_of(data: &Data<Context>, moderator: &Actor) -> Result<Scope> {
    let id = moderator.id.clone();
    data.db
        .run(move |conn| {
            // Admins and instance moderators handle every report.
            let staff = LocalUser::by_actor_id(conn, &id)?.is_some_and(|u| u.role().is_staff());
            if staff {
                return Ok(Scope::All);
            }
            use crate::db::schema::community_moderators;
            use diesel::prelude::*;
            let n: i64 = community_moderators::table
                .filter(community_moderators::actor_id.eq(&id))
                .count()
                .get_result(conn)?;
            if n > 0 {
                Ok(Scope::Communities(id))
            } else {
                Err(Error::forbidden("This action is not allowed"))
            }
        })
        .await
}

/// Reports `moderator` may handle, newest first.
pub async fn list(
    data: &Data<Context>,
    moderator: &Actor,
    resolved: Option<bool>,
    page: Page,
) -> Result<Vec<ReportView>> {
    let scope = scope_of(data, moderator).await?;
    data.db
        .run(move |conn| {
            Report::list(conn, &scope, resolved, &page)?
                .into_iter()
                .map(|r| view_sync(conn, r))
                .collect()
        })
        .await
}

/// One report, if `moderator` may handle it.
///
/// Errors: `Forbidden` (not a moderator), `NotFound` (no such report, or
/// one of a community they do not moderate).
pub async fn get(data: &Data<Context>, moderator: &Actor, id: &str) -> Result<ReportView> {
    let scope = scope_of(data, moderator).await?;
    let id = id.to_string();
    data.db
        .run(move |conn| {
            let report = Report::by_id(conn, &id)?
                .filter(|r| match &scope {
                    Scope::All => true,
                    Scope::Communities(m) => Report::moderated_by(conn, r, m).unwrap_or(false),
                })
                .ok_or_else(|| Error::not_found("Record not found"))?;
            view_sync(conn, report)
        })
        .await
}

/// Marks a report resolved (`true`) or open again (`false`).
pub async fn set_resolved(
    data: &Data<Context>,
    moderator: &Actor,
    id: &str,
    resolved: bool,
) -> Result<ReportView> {
    let view = get(data, moderator, id).await?;
    let (id, by) = (view.report.id.clone(), moderator.id.clone());
    data.db
        .run(move |conn| {
            Report::set_resolved(conn, &id, resolved.then_some(by.as_str()))?;
            let report =
                Report::by_id(conn, &id)?.ok_or_else(|| Error::not_found("Record not found"))?;
            view_sync(conn, report)
        })
        .await
}

/// A report for an `admin.report` notification of `viewer`.
pub async fn for_notification(
    data: &Data<Context>,
    viewer: &Actor,
    id: &str,
) -> Result<Option<ReportView>> {
    match get(data, viewer, id).await {
        Ok(view) => Ok(Some(view)),
        Err(e) if matches!(e.kind, crate::error::ErrorKind::NotFound) => Ok(None),
        Err(e) if matches!(e.kind, crate::error::ErrorKind::Forbidden) => Ok(None),
        Err(e) => Err(e),
    }
}
