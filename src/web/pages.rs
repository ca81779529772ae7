//! The start page, and for now the profile page (the profiles page group
//! takes it over).

use super::{
    cards::ActorCard,
    layout::{display_name, handle, render, see_other, Layout, WebError},
    session::Viewer,
};
use crate::{apub::Data, context::Context, service};
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
