//! People's profiles, here (`/@name`) and on other servers
//! (`/@name@host`, looked up on demand), with their narrations and the
//! follow button.
//!
//! Also the pieces the community pages share: paging links, the
//! follow/join button's state, and the rendering rule for pages that
//! carry the "from your own server" form.

use super::{
    cards::{cards, ActorCard, Card},
    layout::{
        display_name, handle, profile_path, render, render_authorize, see_other, Layout, WebError,
    },
    session::{CsrfOnly, Form, Viewer},
};
use crate::{
    apub::Data,
    context::Context,
    db::{
        actor::{Actor, ActorKind},
        Page,
    },
    service::{
        self,
        relations::Relationship,
        timelines::{AccountStatuses, Item},
    },
};
use actix_web::{http::StatusCode, web, HttpResponse};
use askama::Template;
use serde::Deserialize;

/// Narrations per page.
pub const PER_PAGE: i64 = 20;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/@{name}", web::get().to(profile))
        .route("/@{name}/follow", web::post().to(follow))
        .route("/@{name}/unfollow", web::post().to(unfollow));
}

/// `?max_id=…` / `?min_id=…` (and a community page's `tab`).
#[derive(Debug, Deserialize, Default)]
pub struct PageQuery {
    pub max_id: Option<String>,
    pub min_id: Option<String>,
    pub tab: Option<String>,
    /// `?kind=`: narrations of one kind only (see `web::kinds`).
    pub kind: Option<String>,
}

impl PageQuery {
    pub fn page(&self) -> Page {
        let keep = |id: &Option<String>| id.clone().filter(|s| !s.trim().is_empty());
        Page {
            max_id: keep(&self.max_id),
            min_id: keep(&self.min_id),
            since_id: None,
            limit: PER_PAGE,
            narration_kind: super::kinds::asked(self.kind.as_deref()),
        }
    }
}

/// The « Newer / Older » links of a page of `items` at `base` (which may
/// already carry a query, e.g. `?tab=posts`).
pub fn pager(base: &str, items: &[Item], page: &Page) -> (Option<String>, Option<String>) {
    let (Some(first), Some(last)) = (items.first(), items.last()) else {
        // An empty page past the end: offer the way back to the newest.
        let back = (page.max_id.is_some() || page.min_id.is_some()).then(|| base.to_string());
        return (back, None);
    };
    let full = items.len() as i64 >= page.limit;
    let join = if base.contains('?') { '&' } else { '?' };
    let newer = (page.max_id.is_some() || (page.min_id.is_some() && full))
        .then(|| format!("{base}{join}min_id={}", first.key()));
    let older =
        (full || page.min_id.is_some()).then(|| format!("{base}{join}max_id={}", last.key()));
    (newer, older)
}

/// The follow (or join) button in its state.
#[derive(Debug, Clone)]
pub struct FollowButton {
    /// Where the form posts: `{path}/follow`, `{path}/leave`…
    pub action: String,
    pub label: &'static str,
    /// Says what the state is, beside the button ("Requested").
    pub state: Option<&'static str>,
    /// Leaving or cancelling: the quieter style.
    pub undo: bool,
}

/// What the button of `target`'s page is for `rel`: Follow / Request to
/// follow / Requested — cancel / Unfollow, or for a community Join /
/// Request to join / Pending — cancel / Leave. `None` when a block stands
/// between them (the page says so instead).
pub fn follow_button(path: &str, target: &Actor, rel: &Relationship) -> Option<FollowButton> {
    if rel.blocking || rel.blocked_by {
        return None;
    }
    let group = target.kind() == ActorKind::Group;
    let (on, off) = if group {
        ("join", "leave")
    } else {
        ("follow", "unfollow")
    };
    let button = |verb: &str, label, state, undo| FollowButton {
        action: format!("{path}/{verb}"),
        label,
        state,
        undo,
    };
    Some(match (rel.following, rel.requested, group) {
        (true, _, true) => button(off, "Leave", Some("Member"), true),
        (true, _, false) => button(off, "Unfollow", Some("Following"), true),
        (false, true, true) => button(off, "Cancel request", Some("Pending"), true),
        (false, true, false) => button(off, "Cancel request", Some("Requested"), true),
        (false, false, true) if target.manually_approves_followers => {
            button(on, "Request to join", None, false)
        }
        (false, false, true) => button(on, "Join", None, false),
        (false, false, false) if target.manually_approves_followers => {
            button(on, "Request to follow", None, false)
        }
        (false, false, false) => button(on, "Follow", None, false),
    })
}

/// The "from your own server" form shown to visitors.
#[derive(Debug, Clone)]
pub struct RemoteForm {
    /// The ActivityPub id of what they want to follow, join or answer.
    pub uri: String,
    /// "Follow", "Join", "Reply".
    pub verb: &'static str,
    /// `/login?next=…` back to this page, for people with an account here.
    pub sign_in: String,
}

impl RemoteForm {
    /// The form for `uri`, shown on the page at `path`.
    pub fn new(uri: String, verb: &'static str, path: &str) -> RemoteForm {
        let next: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
        RemoteForm {
            uri,
            verb,
            sign_in: format!("/login?next={next}"),
        }
    }
}

/// Renders a page that may carry the remote-interaction form: its form
/// posts here but is answered with a redirect to the visitor's server,
/// which `form-action 'self'` would stop, so such pages go without it.
pub fn render_with_remote(
    status: StatusCode,
    page: &impl Template,
    remote: bool,
) -> Result<HttpResponse, WebError> {
    if remote {
        Ok(render_authorize(status, page))
    } else {
        render(status, page)
    }
}

#[derive(Template)]
#[template(path = "profile.html", config = "src/web/askama.toml")]
struct ProfilePage {
    layout: Layout,
    actor: ActorCard,
    actor_url: String,
    /// Link to the page on the actor's own server (remote people).
    origin_url: Option<String>,
    posts: i64,
    followers: i64,
    following: i64,
    locked: bool,
    /// An admin suspended the account (its profile says so).
    suspended: bool,
    /// The account this one moved to (Mastodon's migration): the page says
    /// so and links there.
    moved_to: Option<ActorCard>,
    is_self: bool,
    /// Why there is no button, when a block stands between them.
    blocked: bool,
    button: Option<FollowButton>,
    remote: Option<RemoteForm>,
    cards: Vec<Card>,
    newer: Option<String>,
    older: Option<String>,
    kinds: super::kinds::KindNav,
}

/// The person of a profile path segment: `name` here, `name@host`
/// elsewhere (looked up on their server when not known yet). A
/// community's name answers with its page's path instead.
async fn person(data: &Data<Context>, name: &str) -> Result<Result<Actor, String>, WebError> {
    let actor = if name.contains('@') {
        service::resolve::page_actor(data, name).await?
    } else {
        service::accounts::local_actor(&data.db, name).await?
    };
    match actor.kind() {
        ActorKind::Person | ActorKind::Service => Ok(Ok(actor)),
        ActorKind::Group => Ok(Err(super::layout::community_path(&actor))),
        ActorKind::Application => Err(WebError::not_found()),
    }
}

/// `GET /@{name}` and `GET /@{name}@{host}`: a person's profile and
/// narrations.
pub async fn profile(
    name: web::Path<String>,
    query: web::Query<PageQuery>,
    data: Data<Context>,
    viewer: Viewer,
) -> Result<HttpResponse, WebError> {
    let actor = match person(&data, &name).await? {
        Ok(actor) => actor,
        Err(community) => return see_other(&community),
    };
    let path = profile_path(&actor);
    if name.contains('@') && actor.local {
        return see_other(&path);
    }
    let page = query.page();
    let stats = service::accounts::stats(&data.db, &actor).await?;
    let items = service::timelines::account(
        &data,
        viewer.actor(),
        &actor,
        AccountStatuses::default(),
        page.clone(),
    )
    .await?;
    let (newer, older) = pager(&path, &items, &page);
    let (newer, older) = (
        super::kinds::keep_kind(newer, page.narration_kind),
        super::kinds::keep_kind(older, page.narration_kind),
    );
    let kinds = super::kinds::KindNav::new(&path, page.narration_kind);
    let cards = cards(&data, viewer.actor(), items).await?;
    let me = viewer.actor();
    let is_self = me.is_some_and(|m| m.id == actor.id);
    let (button, blocked) = match me {
        Some(me) if !is_self => {
            let rel = service::relations::relationship(&data, me, &actor).await?;
            let button = follow_button(&path, &actor, &rel);
            let blocked = button.is_none();
            (button, blocked)
        }
        _ => (None, false),
    };
    let remote = me
        .is_none()
        .then(|| RemoteForm::new(actor.ap_id.to_string(), "Follow", &path));
    let mut layout = Layout::new(
        &data,
        &viewer,
        format!("{} ({})", display_name(&actor), handle(&actor)),
    )
    .await?;
    if actor.local {
        layout = layout.feed(data.urls.person_feed(&actor.username));
    }
    let page = ProfilePage {
        layout,
        actor: ActorCard::of(&actor),
        actor_url: actor.ap_id.to_string(),
        origin_url: (!actor.local)
            .then(|| actor.url.clone().unwrap_or_else(|| actor.ap_id.to_string())),
        posts: stats.statuses_count,
        followers: stats.followers_count,
        following: stats.following_count,
        locked: actor.manually_approves_followers,
        suspended: service::suspension::is_suspended(&data.db, &actor).await?,
        moved_to: service::moves::moved_to(&data, &actor)
            .await?
            .map(|a| ActorCard::of(&a)),
        is_self,
        blocked,
        button,
        remote: remote.clone(),
        cards,
        newer,
        older,
        kinds,
    };
    Ok(viewer.finish(render_with_remote(StatusCode::OK, &page, remote.is_some())?))
}

/// Follows or unfollows (joins or leaves: `communities` uses this too)
/// the actor of a page, then goes back to it.
pub async fn follow_or_unfollow(
    data: &Data<Context>,
    viewer: &Viewer,
    target: &Actor,
    back: &str,
    on: bool,
) -> Result<HttpResponse, WebError> {
    let me = viewer.require()?;
    if on {
        service::relations::follow(data, &me.actor, target).await?;
    } else {
        service::relations::unfollow(data, &me.actor, target).await?;
    }
    see_other(back)
}

async fn follow_form(
    name: web::Path<String>,
    data: Data<Context>,
    viewer: Viewer,
    on: bool,
) -> Result<HttpResponse, WebError> {
    viewer.require()?;
    let actor = match person(&data, &name).await? {
        Ok(actor) => actor,
        Err(_) => return Err(WebError::not_found()),
    };
    follow_or_unfollow(&data, &viewer, &actor, &profile_path(&actor), on).await
}

/// `POST /@{handle}/follow`
pub async fn follow(
    name: web::Path<String>,
    data: Data<Context>,
    viewer: Viewer,
    _form: Form<CsrfOnly>,
) -> Result<HttpResponse, WebError> {
    follow_form(name, data, viewer, true).await
}

/// `POST /@{handle}/unfollow` (also cancels a pending request)
pub async fn unfollow(
    name: web::Path<String>,
    data: Data<Context>,
    viewer: Viewer,
    _form: Form<CsrfOnly>,
) -> Result<HttpResponse, WebError> {
    follow_form(name, data, viewer, false).await
}
