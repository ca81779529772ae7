//! Page handlers: thin, one service call each, rendered with askama.

use crate::{
    apub::Data,
    context::Context,
    error::{Error, ErrorKind},
    service,
};
use actix_web::{http::StatusCode, web, HttpResponse};
use askama::Template;

#[derive(Template)]
#[template(path = "home.html", config = "src/web/askama.toml")]
struct HomePage<'a> {
    instance_name: &'a str,
    description: &'a str,
    domain: &'a str,
}

#[derive(Template)]
#[template(path = "profile.html", config = "src/web/askama.toml")]
struct ProfilePage<'a> {
    instance_name: &'a str,
    display_name: &'a str,
    handle: String,
    /// Sanitized HTML (local summaries are rendered by us, remote ones
    /// cleaned on the way in).
    summary_html: &'a str,
    actor_url: &'a str,
}

#[derive(Template)]
#[template(path = "post.html", config = "src/web/askama.toml")]
struct PostPage<'a> {
    instance_name: &'a str,
    display_name: &'a str,
    handle: String,
    profile_url: String,
    object_url: &'a str,
    title: Option<&'a str>,
    warning: Option<&'a str>,
    /// Sanitized HTML.
    content_html: &'a str,
    published: String,
}

#[derive(Template)]
#[template(path = "error.html", config = "src/web/askama.toml")]
struct ErrorPage<'a> {
    instance_name: &'a str,
    status: u16,
    message: &'a str,
}

fn html(status: StatusCode, body: askama::Result<String>) -> HttpResponse {
    match body {
        Ok(body) => HttpResponse::build(status)
            .content_type("text/html; charset=utf-8")
            .body(body),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            HttpResponse::InternalServerError()
                .content_type("text/plain; charset=utf-8")
                .body("internal server error")
        }
    }
}

/// Renders an error as an HTML page with the error's status.
pub fn error_page(data: &Context, error: &Error) -> HttpResponse {
    let status = error.kind.status();
    if error.kind == ErrorKind::Internal {
        tracing::error!(error = ?error, "page failed");
    }
    html(
        status,
        ErrorPage {
            instance_name: &data.config.instance.name,
            status: status.as_u16(),
            message: error.safe_message(),
        }
        .render(),
    )
}

/// `GET /`: what this instance is.
pub async fn home(data: Data<Context>) -> HttpResponse {
    html(
        StatusCode::OK,
        HomePage {
            instance_name: &data.config.instance.name,
            description: &data.config.instance.description,
            domain: data.urls.domain(),
        }
        .render(),
    )
}

/// `GET /@{name}`: a person's or community's public profile.
pub async fn profile(name: web::Path<String>, data: Data<Context>) -> HttpResponse {
    let actor = match service::accounts::local_actor(&data.db, &name).await {
        Ok(actor) => actor,
        Err(e) => return error_page(&data, &e),
    };
    let handle = format!("@{}@{}", actor.username, data.urls.domain());
    html(
        StatusCode::OK,
        ProfilePage {
            instance_name: &data.config.instance.name,
            display_name: actor.display_name.as_deref().unwrap_or(&actor.username),
            handle,
            summary_html: actor.summary.as_deref().unwrap_or(""),
            actor_url: actor.ap_id.as_str(),
        }
        .render(),
    )
}

/// `GET /@{name}/{id}`: one public or unlisted narration.
pub async fn post(path: web::Path<(String, String)>, data: Data<Context>) -> HttpResponse {
    let (name, id) = path.into_inner();
    let found = async {
        let author = service::accounts::local_actor(&data.db, &name).await?;
        let post = service::posts::get(&data, None, &id).await?;
        if post.author_id != author.id {
            return Err(Error::not_found("no such post"));
        }
        Ok((author, post))
    }
    .await;
    let (author, post) = match found {
        Ok(found) => found,
        Err(e) => return error_page(&data, &e),
    };
    html(
        StatusCode::OK,
        PostPage {
            instance_name: &data.config.instance.name,
            display_name: author.display_name.as_deref().unwrap_or(&author.username),
            handle: format!("@{}@{}", author.username, data.urls.domain()),
            profile_url: data.urls.profile_page(&author.username).to_string(),
            object_url: post.ap_id.as_str(),
            title: post.title.as_deref(),
            warning: post.summary.as_deref(),
            content_html: &post.content,
            published: post.published.and_utc().to_rfc3339(),
        }
        .render(),
    )
}
