//! The start page, and for now the profile and narration pages (the
//! profiles and narrations page groups take them over).

use super::{
    cards::{cards, ActorCard, Card},
    layout::{display_name, handle, render, see_other, Layout, WebError},
    session::Viewer,
};
use crate::{apub::Data, context::Context, error::Error, service};
use actix_web::{http::StatusCode, web, HttpResponse};
use askama::Template;

#[derive(Template)]
#[template(path = "start.html", config = "src/web/askama.toml")]
struct StartPage<'a> {
    layout: Layout,
    description: &'a str,
    domain: &'a str,
}

/// `GET /`: what this instance is; people signed in go to their home.
pub async fn start(data: Data<Context>, viewer: Viewer) -> Result<HttpResponse, WebError> {
    if viewer.signed_in().is_some() {
        return see_other("/home");
    }
    let layout = Layout::new(&data, &viewer, "").await?;
    let identity = service::instance::identity(&data.db, &data.config.instance).await?;
    let page = StartPage {
        layout,
        description: &identity.description,
        domain: data.urls.domain(),
    };
    Ok(viewer.finish(render(StatusCode::OK, &page)?))
}

#[derive(Template)]
#[template(path = "profile.html", config = "src/web/askama.toml")]
struct ProfilePage {
    layout: Layout,
    actor: ActorCard,
    actor_url: String,
}

/// `GET /@{name}`: a person's or community's public profile.
pub async fn profile(
    name: web::Path<String>,
    data: Data<Context>,
    viewer: Viewer,
) -> Result<HttpResponse, WebError> {
    let actor = service::accounts::local_actor(&data.db, &name).await?;
    let layout = Layout::new(
        &data,
        &viewer,
        format!("{} ({})", display_name(&actor), handle(&actor)),
    )
    .await?;
    let page = ProfilePage {
        layout,
        actor: ActorCard::of(&actor),
        actor_url: actor.ap_id.to_string(),
    };
    Ok(viewer.finish(render(StatusCode::OK, &page)?))
}

#[derive(Template)]
#[template(path = "post.html", config = "src/web/askama.toml")]
struct PostPage {
    layout: Layout,
    card: Card,
}

/// `GET /@{name}/{id}`: one narration, as its viewer may see it.
pub async fn post(
    path: web::Path<(String, String)>,
    data: Data<Context>,
    viewer: Viewer,
) -> Result<HttpResponse, WebError> {
    let (name, id) = path.into_inner();
    let author = service::accounts::local_actor(&data.db, &name).await?;
    let post = service::posts::get(&data, viewer.actor(), &id).await?;
    if post.author_id != author.id {
        return Err(Error::not_found("no such post").into());
    }
    let title = post
        .title
        .clone()
        .unwrap_or_else(|| display_name(&author).to_string());
    let card = cards(
        &data,
        viewer.actor(),
        vec![service::timelines::Item::Post(post)],
    )
    .await?
    .pop()
    .ok_or_else(WebError::not_found)?;
    let layout = Layout::new(&data, &viewer, title).await?;
    Ok(viewer.finish(render(StatusCode::OK, &PostPage { layout, card })?))
}
