//! Communities of practice: a community's page (`/c/name` here,
//! `/c/name@host` elsewhere) with its Posts, About and Moderation tabs,
//! joining and leaving, the moderators' forms, and the directories of
//! communities (`/communities`, with the create form for those allowed)
//! and people (`/people`).

use super::{
    cards::{actor_cards, cards, ActorCard, Card},
    layout::{community_path, display_name, handle, render, see_other, Layout, WebError},
    profiles::{
        follow_button, follow_or_unfollow, pager, render_with_remote, FollowButton, PageQuery,
        RemoteForm, PER_PAGE,
    },
    session::{CsrfOnly, Form, Viewer},
};
use crate::{
    apub::Data,
    context::Context,
    db::{actor::Actor, community::Posting, timeline::AccountFilter},
    error::{Error, ErrorKind},
    service::{self, timelines::AccountStatuses},
};
use actix_web::{http::StatusCode, web, HttpResponse};
use askama::Template;
use serde::Deserialize;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/communities", web::get().to(directory))
        .route("/communities", web::post().to(create))
        .route("/people", web::get().to(people))
        .route("/c/{name}", web::get().to(community))
        .route("/c/{name}/join", web::post().to(join))
        .route("/c/{name}/leave", web::post().to(leave))
        .route("/c/{name}/moderation", web::post().to(moderate));
}

/// The community of a `/c/…` path segment: `name` here, `name@host`
/// elsewhere (looked up on its server when not known yet).
pub(super) async fn group_of(data: &Data<Context>, name: &str) -> Result<Actor, WebError> {
    let actor = if name.contains('@') {
        service::resolve::page_actor(data, name).await?
    } else {
        service::accounts::local_actor(&data.db, name).await?
    };
    if actor.kind() != crate::db::actor::ActorKind::Group {
        return Err(WebError::not_found());
    }
    Ok(actor)
}

/// The first sentence (or line) of a description, for the header.
fn tagline(summary_html: &str) -> String {
    let text = crate::text::strip_html(summary_html);
    let first = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    let mut out: String = first.chars().take(160).collect();
    if first.chars().count() > 160 {
        out.push('…');
    }
    out
}

/// A moderator as the About tab lists them: with their organisation.
#[derive(Debug, Clone)]
struct ModeratorRow {
    actor: ActorCard,
    organisation: String,
}

/// One line of the moderation log.
#[derive(Debug, Clone)]
struct LogRow {
    when_iso: String,
    when: String,
    who: Option<ActorCard>,
    what: &'static str,
    target: String,
    reason: Option<String>,
}

fn action_label(action: &str) -> &'static str {
    match action {
        "remove" => "removed a post",
        "ban" => "banned",
        "unban" => "lifted the ban on",
        "approve" => "approved the request to join of",
        "reject" => "refused the request to join of",
        "pin" => "pinned a post",
        "unpin" => "unpinned a post",
        "add_moderator" => "made a moderator:",
        "remove_moderator" => "removed the moderator",
        _ => "acted on",
    }
}

#[derive(Template)]
#[template(path = "community.html", config = "src/web/askama.toml")]
struct CommunityPage {
    layout: Layout,
    actor: ActorCard,
    actor_url: String,
    /// `/c/name` or `/c/name@host`.
    path: String,
    tagline: String,
    members: i64,
    organisations: i64,
    local: bool,
    locked: bool,
    members_only: bool,
    /// Who may post, in words (local communities).
    posting: &'static str,
    origin_url: Option<String>,
    button: Option<FollowButton>,
    blocked: bool,
    remote: Option<RemoteForm>,
    is_mod: bool,
    /// `posts`, `about` or `moderation`.
    tab: &'static str,
    pinned: Vec<Card>,
    pinned_ids: Vec<String>,
    cards: Vec<Card>,
    newer: Option<String>,
    older: Option<String>,
    moderators: Vec<ModeratorRow>,
    desk: Option<DeskView>,
    kinds: super::kinds::KindNav,
}

impl CommunityPage {
    fn is_pinned(&self, id: &str) -> bool {
        self.pinned_ids.iter().any(|p| p == id)
    }
}

/// The Moderation tab.
#[derive(Debug, Clone)]
struct DeskView {
    pending: Vec<ActorCard>,
    banned: Vec<ActorCard>,
    moderators: Vec<ActorCard>,
    log: Vec<LogRow>,
}

/// `GET /c/{name}` and `GET /c/{name}@{host}` (`?tab=posts|about|moderation`).
pub async fn community(
    name: web::Path<String>,
    query: web::Query<PageQuery>,
    data: Data<Context>,
    viewer: Viewer,
) -> Result<HttpResponse, WebError> {
    let group = group_of(&data, &name).await?;
    let path = community_path(&group);
    if name.contains('@') && group.local {
        return see_other(&path);
    }
    let tab = match query.tab.as_deref() {
        None | Some("") | Some("posts") => "posts",
        Some("about") => "about",
        Some("moderation") => "moderation",
        Some(_) => return Err(WebError(Error::not_found("no such tab"))),
    };
    let me = viewer.actor();
    let overview = service::communities::overview(&data.db, &group).await?;
    let is_mod = match me {
        Some(me) if group.local => service::moderation::is_moderator(&data, &group, me).await?,
        _ => false,
    };
    let (button, blocked) = match me {
        Some(me) => {
            let rel = service::relations::relationship(&data, me, &group).await?;
            let button = follow_button(&path, &group, &rel);
            let blocked = button.is_none();
            (button, blocked)
        }
        None => (None, false),
    };
    let mut page = CommunityPage {
        layout: Layout::new(
            &data,
            &viewer,
            format!("{} ({})", display_name(&group), handle(&group)),
        )
        .await?
        .nav("communities")
        .feed_if(
            group
                .local
                .then(|| data.urls.community_feed(&group.username)),
        ),
        actor: ActorCard::of(&group),
        actor_url: group.ap_id.to_string(),
        path: path.clone(),
        tagline: tagline(group.summary.as_deref().unwrap_or("")),
        members: overview.members,
        organisations: overview.organisations,
        local: group.local,
        locked: group.manually_approves_followers,
        members_only: overview.community.as_ref().is_some_and(|c| c.members_only),
        posting: match overview.community.as_ref().map(|c| c.posting()) {
            Some(Posting::Anyone) => "Anyone who is not banned may post here.",
            Some(Posting::Members) => "Members may post here.",
            Some(Posting::Moderators) => "Only moderators post here.",
            None => "",
        },
        origin_url: (!group.local)
            .then(|| group.url.clone().unwrap_or_else(|| group.ap_id.to_string())),
        button,
        blocked,
        remote: me
            .is_none()
            .then(|| RemoteForm::new(group.ap_id.to_string(), "Join", &path)),
        is_mod,
        tab,
        pinned: Vec::new(),
        pinned_ids: Vec::new(),
        cards: Vec::new(),
        newer: None,
        older: None,
        moderators: overview
            .moderators
            .iter()
            .map(|m| ModeratorRow {
                actor: ActorCard::of(m),
                organisation: m.domain.clone(),
            })
            .collect(),
        desk: None,
        kinds: super::kinds::KindNav::new(&path, None),
    };
    match tab {
        "posts" => {
            let paging = query.page();
            let items = service::timelines::account(
                &data,
                me,
                &group,
                AccountStatuses {
                    filter: AccountFilter {
                        exclude_replies: true,
                        ..AccountFilter::default()
                    },
                    ..AccountStatuses::default()
                },
                paging.clone(),
            )
            .await?;
            let (newer, older) = pager(&path, &items, &paging);
            page.newer = super::kinds::keep_kind(newer, paging.narration_kind);
            page.older = super::kinds::keep_kind(older, paging.narration_kind);
            page.kinds = super::kinds::KindNav::new(&path, paging.narration_kind);
            page.cards = cards(&data, me, items).await?;
            if group.local
                && paging.max_id.is_none()
                && paging.min_id.is_none()
                && paging.narration_kind.is_none()
            {
                let pinned = service::moderation::pinned(&data, me, &group).await?;
                page.pinned_ids = pinned.iter().map(|p| p.id.clone()).collect();
                let items = pinned
                    .into_iter()
                    .map(service::timelines::Item::Post)
                    .collect();
                page.pinned = cards(&data, me, items).await?;
            }
        }
        "moderation" => {
            let me = match viewer.signed_in() {
                Some(s) => &s.actor,
                None => {
                    return Err(WebError(Error::forbidden(
                        "Only this community's moderators may see its moderation tab.",
                    )))
                }
            };
            let desk = service::moderation::desk(&data, me, &group, 50).await?;
            let now = crate::db::now();
            page.desk = Some(DeskView {
                pending: actor_cards(&desk.pending),
                banned: actor_cards(&desk.banned),
                moderators: actor_cards(&desk.moderators),
                log: desk
                    .log
                    .iter()
                    .map(|(entry, who)| LogRow {
                        when_iso: entry.created_at.and_utc().to_rfc3339(),
                        when: super::cards::ago(entry.created_at, now),
                        who: who.as_ref().map(ActorCard::of),
                        what: action_label(&entry.action),
                        target: entry.target.clone(),
                        reason: entry.reason.clone(),
                    })
                    .collect(),
            });
        }
        _ => {}
    }
    let remote = page.remote.is_some();
    Ok(viewer.finish(render_with_remote(StatusCode::OK, &page, remote)?))
}

async fn join_or_leave(
    name: web::Path<String>,
    data: Data<Context>,
    viewer: Viewer,
    on: bool,
) -> Result<HttpResponse, WebError> {
    viewer.require()?;
    let group = group_of(&data, &name).await?;
    follow_or_unfollow(&data, &viewer, &group, &community_path(&group), on).await
}

/// `POST /c/{handle}/join` (a request, where moderators approve members)
pub async fn join(
    name: web::Path<String>,
    data: Data<Context>,
    viewer: Viewer,
    _form: Form<CsrfOnly>,
) -> Result<HttpResponse, WebError> {
    join_or_leave(name, data, viewer, true).await
}

/// `POST /c/{handle}/leave` (also withdraws a pending request)
pub async fn leave(
    name: web::Path<String>,
    data: Data<Context>,
    viewer: Viewer,
    _form: Form<CsrfOnly>,
) -> Result<HttpResponse, WebError> {
    join_or_leave(name, data, viewer, false).await
}

/// The moderators' forms: one action on a post or an account.
#[derive(Debug, Deserialize)]
pub struct ModerationForm {
    #[serde(default)]
    action: String,
    /// The post acted on (remove, pin, unpin), by id.
    post: Option<String>,
    /// The account acted on, by id…
    actor: Option<String>,
    /// …or by handle, as typed (ban, add a moderator).
    handle: Option<String>,
    reason: Option<String>,
    /// `posts` to come back to the Posts tab.
    back: Option<String>,
}

/// The longest reason a moderator may give.
const MAX_REASON: usize = 500;

/// `POST /c/{name}/moderation`: a moderator's action on a local community.
/// Non-moderators get 403 and nothing changes (the service checks).
pub async fn moderate(
    name: web::Path<String>,
    data: Data<Context>,
    viewer: Viewer,
    Form(form): Form<ModerationForm>,
) -> Result<HttpResponse, WebError> {
    let me = viewer.require()?.actor.clone();
    let (group, _) = service::communities::local(&data.db, &name).await?;
    // The role first: a handle is resolved (perhaps fetched from another
    // server) only for a moderator.
    service::moderation::require_moderator(&data, &group, &me).await?;
    let reason = form
        .reason
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string);
    if reason
        .as_ref()
        .is_some_and(|r| r.chars().count() > MAX_REASON)
    {
        return Err(WebError(Error::unprocessable(format!(
            "The reason is longer than {MAX_REASON} characters: shorten it and try again."
        ))));
    }
    let post = || async {
        let id = form
            .post
            .as_deref()
            .filter(|p| !p.is_empty())
            .ok_or_else(|| Error::bad_request("Which post? The form named none."))?;
        service::posts::get(&data, Some(&me), id).await
    };
    let target = || async {
        if let Some(id) = form.actor.as_deref().filter(|a| !a.is_empty()) {
            return service::relations::actor_by_id(&data, id).await;
        }
        let typed = form.handle.as_deref().map(str::trim).unwrap_or("");
        if typed.is_empty() {
            return Err(Error::unprocessable(
                "Enter the account's handle, like name@server.",
            ));
        }
        let full = if typed.trim_start_matches('@').contains('@') {
            typed.to_string()
        } else {
            format!("{}@{}", typed.trim_start_matches('@'), data.urls.domain())
        };
        service::resolve::page_actor(&data, &full)
            .await
            .map_err(|e| match e.kind {
                ErrorKind::NotFound => Error::unprocessable(format!(
                    "No account answers to {typed}: check the handle and try again."
                )),
                _ => e,
            })
    };
    use service::moderation as m;
    match form.action.as_str() {
        "remove" => m::remove_post(&data, &me, &group, &post().await?, reason).await?,
        "pin" => m::pin(&data, &me, &group, &post().await?, true).await?,
        "unpin" => m::pin(&data, &me, &group, &post().await?, false).await?,
        "ban" => m::ban(&data, &me, &group, &target().await?, reason).await?,
        "unban" => m::unban(&data, &me, &group, &target().await?).await?,
        "approve" => m::decide_join(&data, &me, &group, &target().await?, true).await?,
        "reject" => m::decide_join(&data, &me, &group, &target().await?, false).await?,
        "add_moderator" => m::set_moderator(&data, &me, &group, &target().await?, true).await?,
        "remove_moderator" => m::set_moderator(&data, &me, &group, &target().await?, false).await?,
        _ => {
            return Err(WebError(Error::bad_request(
                "That moderation action does not exist.",
            )))
        }
    }
    let path = community_path(&group);
    if form.back.as_deref() == Some("posts") {
        see_other(&path)
    } else {
        see_other(&format!("{path}?tab=moderation"))
    }
}

/// A community in the directory.
#[derive(Debug, Clone)]
struct DirectoryRow {
    actor: ActorCard,
    members: i64,
    tagline: String,
    last_post: Option<String>,
}

/// What the create form holds (kept when it is sent back).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct CreateForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    summary: String,
    #[serde(default)]
    posting: String,
    /// Checkboxes: present when ticked.
    approval: Option<String>,
    members_only: Option<String>,
}

#[derive(Template)]
#[template(path = "directory.html", config = "src/web/askama.toml")]
struct DirectoryPage {
    layout: Layout,
    /// `communities` or `people`.
    showing: &'static str,
    q: String,
    communities: Vec<DirectoryRow>,
    people: Vec<ActorCard>,
    /// The create form, for those who may create communities.
    create: Option<CreateForm>,
    error: Option<String>,
    newer: Option<String>,
    older: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
pub struct DirectoryQuery {
    q: Option<String>,
    page: Option<String>,
}

async fn directory_page(
    data: &Data<Context>,
    viewer: &Viewer,
    q: &str,
    create: Option<CreateForm>,
    error: Option<String>,
) -> Result<DirectoryPage, WebError> {
    let q = q.trim();
    let found = service::communities::directory(&data.db, (!q.is_empty()).then_some(q)).await?;
    let now = crate::db::now();
    let create = match viewer.signed_in() {
        Some(s) if service::communities::may_create(&s.user) => {
            Some(create.unwrap_or_else(|| CreateForm {
                posting: "members".into(),
                ..CreateForm::default()
            }))
        }
        _ => None,
    };
    Ok(DirectoryPage {
        layout: Layout::new(data, viewer, "Communities")
            .await?
            .nav("communities"),
        showing: "communities",
        q: q.to_string(),
        communities: found
            .iter()
            .map(|e| DirectoryRow {
                actor: ActorCard::of(&e.actor),
                members: e.members,
                tagline: tagline(e.actor.summary.as_deref().unwrap_or("")),
                last_post: e.last_post.map(|t| super::cards::ago(t, now)),
            })
            .collect(),
        people: Vec::new(),
        create,
        error,
        newer: None,
        older: None,
    })
}

/// `GET /communities?q=…`: communities here and those known elsewhere.
pub async fn directory(
    query: web::Query<DirectoryQuery>,
    data: Data<Context>,
    viewer: Viewer,
) -> Result<HttpResponse, WebError> {
    let q = query.q.as_deref().unwrap_or("");
    let page = directory_page(&data, &viewer, q, None, None).await?;
    Ok(viewer.finish(render(StatusCode::OK, &page)?))
}

/// `POST /communities`: creates a community (administrators).
pub async fn create(
    data: Data<Context>,
    viewer: Viewer,
    Form(form): Form<CreateForm>,
) -> Result<HttpResponse, WebError> {
    let me = viewer.require()?;
    let Some(posting) = Posting::parse(&form.posting) else {
        let page = directory_page(
            &data,
            &viewer,
            "",
            Some(form),
            Some("Choose who may post.".into()),
        )
        .await?;
        return render(StatusCode::UNPROCESSABLE_ENTITY, &page);
    };
    let created = service::communities::create_as(
        &data.db,
        &data.urls,
        &me.user,
        service::communities::NewCommunity {
            name: form.name.trim(),
            owner: &me.actor,
            display_name: Some(form.display_name.trim().to_string()).filter(|d| !d.is_empty()),
            summary: Some(form.summary.trim().to_string()).filter(|s| !s.is_empty()),
            approval: form.approval.is_some(),
            members_only: form.members_only.is_some(),
            posting,
            icon: None,
        },
    )
    .await;
    match created {
        Ok(group) => see_other(&community_path(&group)),
        Err(e) if matches!(e.kind, ErrorKind::Unprocessable | ErrorKind::Conflict) => {
            let message = match e.kind {
                ErrorKind::Conflict => {
                    format!("The name {} is taken — try another.", form.name.trim())
                }
                _ => format!(
                    "That did not work: {}. Names use letters, digits and _ (up to 30).",
                    e.safe_message()
                ),
            };
            let page = directory_page(&data, &viewer, "", Some(form), Some(message)).await?;
            render(StatusCode::UNPROCESSABLE_ENTITY, &page)
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /people?page=N`: local people who chose to be listed.
pub async fn people(
    query: web::Query<DirectoryQuery>,
    data: Data<Context>,
    viewer: Viewer,
) -> Result<HttpResponse, WebError> {
    let n: i64 = query
        .page
        .as_deref()
        .and_then(|p| p.parse::<i64>().ok())
        .unwrap_or(0)
        .clamp(0, 10_000);
    let per = PER_PAGE * 2;
    let found = service::accounts::discoverable_people(&data.db, n * per, per).await?;
    let page = DirectoryPage {
        layout: Layout::new(&data, &viewer, "People")
            .await?
            .nav("communities"),
        showing: "people",
        q: String::new(),
        communities: Vec::new(),
        newer: (n > 0).then(|| format!("/people?page={}", n - 1)),
        older: (found.len() as i64 >= per).then(|| format!("/people?page={}", n + 1)),
        people: actor_cards(&found),
        create: None,
        error: None,
    };
    Ok(viewer.finish(render(StatusCode::OK, &page)?))
}
