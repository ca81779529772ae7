//! The notifications page `/notifications`: mentions and replies, follows
//! and follow requests (answered here with Accept / Reject), requests to
//! join a community the reader moderates (answered here with Approve /
//! Refuse), likes, boosts, edits and reports, each as a line with the
//! narration it is about.
//! Reading the page moves the `notifications` marker, which is what the
//! header's unread count is counted from.

use super::{
    cards::{ago, cards, ActorCard, Card},
    layout::{community_path, render, see_other, sign_in_first, Layout, WebError},
    session::{CsrfOnly, Form, Viewer},
    tags::{pager, query, PageQuery},
};
use crate::{
    apub::Data,
    context::Context,
    db::notification::JOIN_REQUEST,
    service::{
        self,
        notifications::{Entry, Reading},
        timelines::Item,
    },
};
use actix_web::{http::StatusCode, web, HttpRequest, HttpResponse};
use askama::Template;
use std::collections::HashMap;

/// One notification as a line.
struct Line {
    id: String,
    /// The notification's kind, for the badge and styling.
    kind: &'static str,
    /// The badge's word.
    badge: &'static str,
    from: ActorCard,
    /// What happened, after the person's name ("liked your narration").
    text: &'static str,
    at_iso: String,
    at_ago: String,
    at_full: String,
    card: Option<Card>,
    /// A follow request still waiting: the requester's id, for the
    /// Accept / Reject forms.
    request: Option<String>,
    /// A request to join a community the reader moderates.
    join: Option<JoinLine>,
}

/// What a join request's line shows.
struct JoinLine {
    community: ActorCard,
    /// The community's Moderation tab.
    moderation: String,
    /// Still waiting: `{community id}/{applicant id}`, for the Approve /
    /// Refuse forms.
    pending: Option<String>,
}

fn describe(entry: &Entry, pending: bool) -> (&'static str, &'static str, &'static str) {
    let reply = entry.post.as_ref().is_some_and(|p| p.in_reply_to.is_some());
    match entry.notification.kind.as_str() {
        "mention" if reply => ("reply", "Reply", "mentioned you in a reply"),
        "mention" => ("mention", "Mention", "mentioned you"),
        "reblog" => ("boost", "Boost", "boosted your narration"),
        "favourite" => ("like", "Like", "liked your narration"),
        "follow" => ("follow", "Follow", "followed you"),
        "follow_request" if pending => ("request", "Request", "asks to follow you"),
        "follow_request" => ("request", "Request", "asked to follow you (answered)"),
        "join_request" if pending => ("join", "Join request", "asks to join"),
        "join_request" => ("join", "Join request", "asked to join"),
        "update" => ("edit", "Edit", "edited a narration you reacted to"),
        "admin.report" => (
            "report",
            "Report",
            "filed a report for the moderators (see Administration)",
        ),
        _ => ("other", "Notice", "did something"),
    }
}

#[derive(Template)]
#[template(path = "notifications.html", config = "src/web/askama.toml")]
struct NotificationsPage {
    layout: Layout,
    lines: Vec<Line>,
    newer: Option<String>,
    older: Option<String>,
    /// Whether this is a later page (not the newest).
    paged: bool,
}

/// The page's notifications as lines, each with its narration's card.
async fn lines(
    data: &Data<Context>,
    viewer: &Viewer,
    reading: &Reading,
) -> Result<Vec<Line>, WebError> {
    let posts: Vec<Item> = reading
        .entries
        .iter()
        .filter_map(|e| e.post.clone().map(Item::Post))
        .collect();
    let by_post: HashMap<String, Card> = cards(data, viewer.actor(), posts)
        .await?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    let now = crate::db::now();
    Ok(reading
        .entries
        .iter()
        .map(|entry| {
            let from_id = &entry.from.id;
            let join = entry
                .group
                .as_ref()
                .filter(|_| entry.notification.kind == JOIN_REQUEST)
                .map(|group| {
                    let waiting = reading
                        .pending_joins
                        .contains(&(group.id.clone(), from_id.clone()));
                    JoinLine {
                        community: ActorCard::of(group),
                        moderation: format!("{}?tab=moderation", community_path(group)),
                        pending: waiting.then(|| format!("{}/{}", group.id, from_id)),
                    }
                });
            let pending = match entry.notification.kind.as_str() {
                "follow_request" => reading.pending.contains(from_id),
                _ => join.as_ref().is_some_and(|j| j.pending.is_some()),
            };
            let (kind, badge, text) = describe(entry, pending);
            let at = entry.notification.created_at;
            Line {
                id: entry.notification.id.clone(),
                kind,
                badge,
                from: ActorCard::of(&entry.from),
                text,
                at_iso: at.and_utc().to_rfc3339(),
                at_ago: ago(at, now),
                at_full: at.format("%-d %B %Y, %H:%M UTC").to_string(),
                card: entry
                    .post
                    .as_ref()
                    .and_then(|p| by_post.get(&p.id).cloned()),
                request: (pending && entry.notification.kind == "follow_request")
                    .then(|| from_id.clone()),
                join,
            }
        })
        .collect())
}

/// `GET /notifications`
pub async fn list(
    req: HttpRequest,
    data: Data<Context>,
    viewer: Viewer,
) -> Result<HttpResponse, WebError> {
    let Some(me) = viewer.signed_in() else {
        return sign_in_first("/notifications");
    };
    let page = query::<PageQuery>(&req)?.page();
    let reading = service::notifications::read_page(&data, &me.actor, page.clone()).await?;
    let (newer, older) = pager(
        "/notifications?",
        &page,
        reading
            .bounds
            .as_ref()
            .map(|(a, b)| (a.as_str(), b.as_str())),
        reading.listed,
    );
    let lines = lines(&data, &viewer, &reading).await?;
    let layout = Layout::new(&data, &viewer, "Notifications")
        .await?
        .nav("notifications")
        .here(super::tags::here(&req));
    let page = NotificationsPage {
        layout,
        lines,
        newer,
        older,
        paged: page.max_id.is_some() || page.min_id.is_some(),
    };
    Ok(viewer.finish(render(StatusCode::OK, &page)?))
}

/// `POST /notifications/clear`: forgets every notification.
pub async fn clear(
    data: Data<Context>,
    viewer: Viewer,
    Form(_): Form<CsrfOnly>,
) -> Result<HttpResponse, WebError> {
    let me = viewer.require()?;
    service::notifications::clear(&data, &me.actor).await?;
    see_other("/notifications")
}

/// `POST /notifications/requests/{actor_id}/{accept|reject}`: answers a
/// follow request.
pub async fn decide(
    path: web::Path<(String, String)>,
    data: Data<Context>,
    viewer: Viewer,
    Form(_): Form<CsrfOnly>,
) -> Result<HttpResponse, WebError> {
    let me = viewer.require()?;
    let (requester, decision) = path.into_inner();
    let approve = match decision.as_str() {
        "accept" => true,
        "reject" => false,
        _ => return Err(WebError::not_found()),
    };
    let requester = service::relations::actor_by_id(&data, &requester).await?;
    service::follows::decide(&data, &me.actor, &requester, approve).await?;
    see_other("/notifications")
}

/// `POST /notifications/joins/{community}/{applicant}/{approve|refuse}`:
/// a moderator answers a request to join (the service checks the role).
pub async fn decide_join(
    path: web::Path<(String, String, String)>,
    data: Data<Context>,
    viewer: Viewer,
    Form(_): Form<CsrfOnly>,
) -> Result<HttpResponse, WebError> {
    let me = viewer.require()?;
    let (group, applicant, decision) = path.into_inner();
    let approve = match decision.as_str() {
        "approve" => true,
        "refuse" => false,
        _ => return Err(WebError::not_found()),
    };
    let group = service::relations::actor_by_id(&data, &group).await?;
    let applicant = service::relations::actor_by_id(&data, &applicant).await?;
    service::moderation::decide_join(&data, &me.actor, &group, &applicant, approve).await?;
    see_other("/notifications")
}

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/notifications", web::get().to(list))
        .route("/notifications/clear", web::post().to(clear))
        .route(
            "/notifications/requests/{actor}/{decision}",
            web::post().to(decide),
        )
        .route(
            "/notifications/joins/{group}/{applicant}/{decision}",
            web::post().to(decide_join),
        );
}
