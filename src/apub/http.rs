//! The ActivityPub endpoints other servers call: actor documents (with
//! content negotiation), and later collections, objects and inboxes.

use crate::{
    apub::{protocol::context::context, Data},
    context::Context,
    error::Result,
    service,
};
use activitypub_federation::traits::Object;
use actix_web::{http::header, web, HttpRequest, HttpResponse};

/// Mounts the routes of this module.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/users/{name}", web::get().to(get_person))
        .route("/actor", web::get().to(get_instance_actor));
}

/// What representation a GET asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wants {
    ActivityJson,
    Html,
}

/// ActivityStreams when the Accept header names `application/activity+json`
/// or `application/ld+json`; HTML when it names `text/html` (browsers); and
/// ActivityStreams when it names neither, so `curl URL` shows the document.
pub fn negotiate(req: &HttpRequest) -> Wants {
    let accept = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if accept.contains("application/activity+json") || accept.contains("application/ld+json") {
        Wants::ActivityJson
    } else if accept.contains("text/html") {
        Wants::Html
    } else {
        Wants::ActivityJson
    }
}

/// A 303 to the HTML page of a resource, varying on Accept so caches keep the
/// two representations apart.
pub fn see_html(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((header::LOCATION, location))
        .insert_header((header::VARY, "Accept"))
        .finish()
}

/// `GET /users/{name}`: the Person document, or a redirect to `/@name`.
async fn get_person(
    req: HttpRequest,
    name: web::Path<String>,
    data: Data<Context>,
) -> Result<HttpResponse> {
    let person = service::accounts::local_person(&data.db, &name).await?;
    if negotiate(&req) == Wants::Html {
        return Ok(see_html(data.urls.profile_page(&person.username).as_str()));
    }
    person.http_response(&context(), &data).await
}

/// `GET /actor`: the instance actor (FEP-2677).
async fn get_instance_actor(req: HttpRequest, data: Data<Context>) -> Result<HttpResponse> {
    if negotiate(&req) == Wants::Html {
        return Ok(see_html("/"));
    }
    (*data.instance_actor)
        .clone()
        .http_response(&context(), &data)
        .await
}
