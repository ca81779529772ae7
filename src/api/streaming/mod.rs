//! The streaming API (`/api/v1/streaming`, docs/api.md "Streaming"):
//! thin handlers over the hub in `crate::streaming`. Server-sent events at
//! one path per stream, a WebSocket at the root that multiplexes streams,
//! and `/health`. Frames are rendered by [`dispatch`].

pub mod dispatch;
pub mod sse;
mod ws;

use super::{
    auth::{authenticate_token, Auth},
    params::Query,
};
use crate::{
    apub::Data,
    context::Context,
    db::actor::Actor,
    error::{Error, ErrorKind},
    service::streams,
    streaming::Stream,
};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.route("/api/v1/streaming", web::get().to(ws::websocket))
        .route("/api/v1/streaming/health", web::get().to(health))
        .route("/api/v1/streaming/{stream:.+}", web::get().to(server_sent));
}

/// The query of every streaming endpoint.
#[derive(Debug, Default, Deserialize)]
pub struct StreamQuery {
    /// The stream of the WebSocket's first subscription.
    pub stream: Option<String>,
    pub tag: Option<String>,
    pub list: Option<String>,
    /// The token, for clients that cannot set headers (`EventSource`).
    pub access_token: Option<String>,
}

/// `GET /api/v1/streaming/health`
async fn health() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("OK")
}

/// Where a stream's token may come from, in Mastodon's order: the
/// `Authorization` header, the `Sec-WebSocket-Protocol` header (browsers
/// cannot set others on a WebSocket), the `access_token` parameter. The
/// second value is the protocol to echo: the first one offered, whether
/// or not it carried the token, as Mastodon's server does (a browser
/// aborts a handshake that does not echo one it offered).
fn token_of(req: &HttpRequest, query: &StreamQuery) -> (Option<String>, Option<String>) {
    let header = |name| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    };
    let protocol = header(actix_web::http::header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|p| p.split(',').map(str::trim).find(|p| !p.is_empty()))
        .map(str::to_string);
    if let Some((scheme, value)) =
        header(actix_web::http::header::AUTHORIZATION).and_then(|h| h.split_once(' '))
    {
        if scheme.eq_ignore_ascii_case("bearer") && !value.trim().is_empty() {
            return (Some(value.trim().to_string()), protocol);
        }
    }
    if protocol.is_some() {
        return (protocol.clone(), protocol);
    }
    let query_token = query.access_token.clone().filter(|t| !t.is_empty());
    (query_token, None)
}

/// The token's account: 401 for no token, an unknown or revoked one, or
/// one without a user (Mastodon's streams are a person's).
async fn authenticate(
    data: &Context,
    req: &HttpRequest,
    query: &StreamQuery,
) -> Result<(Auth, Option<String>), Error> {
    let (token, protocol) = token_of(req, query);
    let token = token.ok_or_else(|| Error::new(ErrorKind::Unauthorized, "Missing access token"))?;
    let auth = authenticate_token(data, &token).await?;
    if auth.actor.is_none() {
        return Err(Error::new(
            ErrorKind::Unauthorized,
            "This stream requires a user's access token",
        ));
    }
    Ok((auth, protocol))
}

/// Checks that `auth` may read `stream` (scope, and for a list that it
/// is the reader's): 401 for a missing scope, as Mastodon's streaming
/// server answers; 404 for an unknown list.
async fn allow<'a>(
    data: &Data<Context>,
    auth: &'a Auth,
    stream: &Stream,
) -> Result<&'a Actor, Error> {
    let me = auth.user(stream.scope()).map_err(|_| {
        Error::new(
            ErrorKind::Unauthorized,
            "Access token does not have the required scopes",
        )
    })?;
    if let Stream::List(list) = stream {
        streams::list_readable(data, me, list).await?;
    }
    Ok(me)
}

/// `GET /api/v1/streaming/{user, user/notification, public, public/local,
/// public/remote, hashtag, hashtag/local, list, direct}`: server-sent
/// events.
async fn server_sent(
    req: HttpRequest,
    data: Data<Context>,
    path: web::Path<String>,
    Query(query): Query<StreamQuery>,
) -> Result<HttpResponse, Error> {
    let (auth, _) = authenticate(&data, &req, &query).await?;
    let name = path.trim_matches('/').replace('/', ":");
    let stream = Stream::parse(&name, query.tag.as_deref(), query.list.as_deref())?;
    let me = allow(&data, &auth, &stream).await?;
    let registration = data.streams.register(&me.id, vec![stream]);
    Ok(sse::respond(
        registration,
        data.streams.heartbeat,
        data.db.clone(),
        sse::Holder::Token(auth.token.id.clone()),
    ))
}
