//! Remote interaction, both ways.
//!
//! - Someone from another server, on one of our pages, types their handle
//!   (`POST /interact`): we look up their server's WebFinger subscribe
//!   template and send them there with our object's id filled in.
//! - Someone of ours comes from another server's page
//!   (`GET /authorize_interaction?uri=…`, the template our WebFinger
//!   advertises, as Mastodon's): signed in, they see what the uri is and
//!   can follow or join it (an account) or open it to reply or like (a
//!   narration); not signed in, they sign in first.

use super::{
    cards::{cards, ActorCard, Card},
    layout::{actor_path, display_name, see_other, sign_in_first, Layout, WebError},
    profiles::{follow_button, render_with_remote, FollowButton, RemoteForm},
    session::{Form, Viewer},
};
use crate::{
    apub::Data,
    context::Context,
    error::{Error, ErrorKind},
    service::{self, search},
};
use actix_web::{http::StatusCode, web, HttpResponse};
use askama::Template;
use serde::Deserialize;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/interact", web::get().to(interact_page))
        .route("/interact", web::post().to(interact))
        .route(
            "/authorize_interaction",
            web::get().to(authorize_interaction),
        );
}

#[derive(Template)]
#[template(path = "interaction.html", config = "src/web/askama.toml")]
struct InteractionPage {
    layout: Layout,
    /// The visitor's form (to their own server), with what they typed.
    remote: Option<RemoteForm>,
    handle: String,
    error: Option<String>,
    /// Our person's confirmation: an account…
    actor: Option<ActorCard>,
    button: Option<FollowButton>,
    /// …or a narration.
    card: Option<Card>,
}

impl InteractionPage {
    fn new(layout: Layout) -> InteractionPage {
        InteractionPage {
            layout,
            remote: None,
            handle: String::new(),
            error: None,
            actor: None,
            button: None,
            card: None,
        }
    }
}

#[derive(Debug, Deserialize, Default)]
pub struct UriQuery {
    uri: Option<String>,
}

/// A uri parameter that is an http(s) URL.
fn checked_uri(uri: Option<&str>) -> Result<url::Url, WebError> {
    let uri = uri
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .ok_or_else(|| {
            WebError(Error::bad_request(
                "The link is missing what to interact with (its uri).",
            ))
        })?;
    match url::Url::parse(uri) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(u),
        _ => Err(WebError(Error::bad_request(
            "The uri of this link is not a web address.",
        ))),
    }
}

fn verb_for(uri: &url::Url, data: &Data<Context>) -> &'static str {
    if data.urls.parse_community(uri).is_some() {
        "Join"
    } else if data.urls.parse_person(uri).is_some() {
        "Follow"
    } else {
        "Reply"
    }
}

/// `GET /interact?uri=…`: the "from your own server" form on a page of its
/// own.
pub async fn interact_page(
    query: web::Query<UriQuery>,
    data: Data<Context>,
    viewer: Viewer,
) -> Result<HttpResponse, WebError> {
    let uri = checked_uri(query.uri.as_deref())?;
    let verb = verb_for(&uri, &data);
    let mut page = InteractionPage::new(Layout::new(&data, &viewer, "From your own server").await?);
    page.remote = Some(RemoteForm::new(uri.to_string(), verb, "/"));
    Ok(viewer.finish(render_with_remote(StatusCode::OK, &page, true)?))
}

#[derive(Debug, Deserialize)]
pub struct InteractForm {
    #[serde(default)]
    handle: String,
    uri: Option<String>,
}

/// `POST /interact`: sends a visitor to their own server to follow, join
/// or answer `uri`; their handle back with what went wrong if that cannot
/// be done.
pub async fn interact(
    data: Data<Context>,
    viewer: Viewer,
    Form(form): Form<InteractForm>,
) -> Result<HttpResponse, WebError> {
    let uri = checked_uri(form.uri.as_deref())?;
    let handle = form.handle.trim();
    let failed = match service::resolve::interaction_url(&data, handle, &uri).await {
        Ok(target) => return see_other(&target),
        Err(e) => e,
    };
    let status = match failed.kind {
        ErrorKind::NotFound => StatusCode::NOT_FOUND,
        ErrorKind::Forbidden => StatusCode::FORBIDDEN,
        ErrorKind::Unprocessable | ErrorKind::BadRequest => StatusCode::UNPROCESSABLE_ENTITY,
        _ => return Err(failed.into()),
    };
    let mut page = InteractionPage::new(Layout::new(&data, &viewer, "From your own server").await?);
    page.handle = handle.chars().take(300).collect();
    page.error = Some(match failed.kind {
        ErrorKind::NotFound => format!(
            "We could not find {} — check your handle (name@your.server) and try again.",
            page.handle
        ),
        _ => failed.safe_message().to_string(),
    });
    page.remote = Some(RemoteForm::new(uri.to_string(), verb_for(&uri, &data), "/"));
    render_with_remote(status, &page, true)
}

/// `GET /authorize_interaction?uri=…`: an account or narration from
/// elsewhere, to follow, join or answer from here.
pub async fn authorize_interaction(
    query: web::Query<UriQuery>,
    data: Data<Context>,
    viewer: Viewer,
) -> Result<HttpResponse, WebError> {
    let raw = query.uri.as_deref().map(str::trim).unwrap_or("");
    let Some(me) = viewer.signed_in() else {
        let enc: String = url::form_urlencoded::byte_serialize(raw.as_bytes()).collect();
        return sign_in_first(&format!("/authorize_interaction?uri={enc}"));
    };
    if raw.is_empty() {
        return Err(WebError(Error::bad_request(
            "The link is missing what to interact with (its uri).",
        )));
    }
    // Mastodon sends handles as `acct:name@host` too.
    let q = raw.trim_start_matches("acct:").to_string();
    let found = search::search(
        &data,
        Some(&me.actor),
        search::SearchQuery {
            q,
            kind: None,
            resolve: true,
            limit: 1,
            offset: 0,
        },
    )
    .await?;
    let mut page = InteractionPage::new(Layout::new(&data, &viewer, "Interact").await?);
    if let Some(actor) = found.accounts.into_iter().next() {
        if actor.id == me.actor.id {
            return see_other(&actor_path(&actor));
        }
        let rel = service::relations::relationship(&data, &me.actor, &actor).await?;
        page.button = follow_button(&actor_path(&actor), &actor, &rel);
        page.layout.title = display_name(&actor).to_string();
        page.actor = Some(ActorCard::of(&actor));
    } else if let Some(post) = found.statuses.into_iter().next() {
        page.card = cards(
            &data,
            Some(&me.actor),
            vec![service::timelines::Item::Post(post)],
        )
        .await?
        .pop();
        if page.card.is_none() {
            return Err(WebError::not_found());
        }
    } else {
        return Err(WebError(Error::not_found(
            "Nothing was found at that address.",
        )));
    }
    Ok(viewer.finish(super::layout::render(StatusCode::OK, &page)?))
}
