//! The start page, and for now the narration page (the narrations page
//! group takes it over).

use super::{
    cards::{cards, Card},
    layout::{display_name, render, see_other, Layout, WebError},
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
    let page = StartPage {
        layout,
        description: &data.config.instance.description,
        domain: data.urls.domain(),
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
