//! The streaming API (`/api/v1/streaming`, docs/api.md "Streaming"):
//! thin handlers over the hub in `crate::streaming`. Server-sent events at
//! one path per stream, a WebSocket at the root that multiplexes streams,
//! and `/health`. Frames are rendered by [`dispatch`].

pub mod dispatch;
pub mod port;
pub mod sse;
pub mod ws;

use super::{
    auth::{authenticate_token, Auth, INVALID_TOKEN},
    params::Query,
};
use crate::{
    apub::Data,
    context::Context,
    db::actor::Actor,
    error::{Error, ErrorKind},
    service::{oauth::Scopes, streams},
    streaming::{Hub, Outgoing, Registration, Stream, Wire},
};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use std::sync::Arc;

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

/// The parts of a request a stream's token may come from, whichever
/// server read it (actix on `http.bind`, or the streaming port).
#[derive(Debug, Default, Clone, Copy)]
pub struct Credentials<'a> {
    /// The `Authorization` header.
    pub authorization: Option<&'a str>,
    /// The `Sec-WebSocket-Protocol` header.
    pub protocol: Option<&'a str>,
    /// The `access_token` parameter.
    pub access_token: Option<&'a str>,
}

impl<'a> Credentials<'a> {
    fn of(req: &'a HttpRequest, query: &'a StreamQuery) -> Credentials<'a> {
        let header = |name| req.headers().get(name).and_then(|v| v.to_str().ok());
        Credentials {
            authorization: header(actix_web::http::header::AUTHORIZATION),
            protocol: header(actix_web::http::header::SEC_WEBSOCKET_PROTOCOL),
            access_token: query.access_token.as_deref(),
        }
    }

    /// The token, in Mastodon's order: the `Authorization` header, the
    /// `Sec-WebSocket-Protocol` header (browsers cannot set others on a
    /// WebSocket), the `access_token` parameter. The second value is the
    /// protocol to echo: the first one offered, whether or not it carried
    /// the token, as Mastodon's server does (a browser aborts a handshake
    /// that does not echo one it offered).
    fn token(&self) -> (Option<String>, Option<String>) {
        let present = |v: Option<&'a str>| v.map(str::trim).filter(|v| !v.is_empty());
        let protocol = present(self.protocol)
            .and_then(|p| p.split(',').map(str::trim).find(|p| !p.is_empty()))
            .map(str::to_string);
        if let Some((scheme, value)) = present(self.authorization).and_then(|h| h.split_once(' ')) {
            if scheme.eq_ignore_ascii_case("bearer") && !value.trim().is_empty() {
                return (Some(value.trim().to_string()), protocol);
            }
        }
        if protocol.is_some() {
            return (protocol.clone(), protocol);
        }
        (present(self.access_token).map(str::to_string), None)
    }
}

/// The token's reader: 401 for no token, an unknown or revoked one, or
/// one without a user (Mastodon's streams are a person's). Also the
/// WebSocket protocol to echo.
pub async fn authenticate(
    data: &Context,
    credentials: &Credentials<'_>,
) -> Result<(Reader, Actor, Option<String>), Error> {
    let (token, protocol) = credentials.token();
    let token = token.ok_or_else(|| Error::new(ErrorKind::Unauthorized, "Missing access token"))?;
    let (reader, actor) = Reader::of(authenticate_token(data, &token).await?)?;
    Ok((reader, actor, protocol))
}

/// What an open stream keeps of its token: enough to check later
/// subscriptions (scopes, and lists by their owner) and, at heartbeats,
/// that the token still holds. Not the whole [`Auth`]: the account row
/// with its keys is ~3 KB, times every open connection.
#[derive(Debug, Clone)]
pub struct Reader {
    pub token_id: String,
    pub actor_id: String,
    scopes: Scopes,
}

impl Reader {
    /// The reader of `auth`, and its account (for the hub).
    ///
    /// Errors: 401 for a token without a user (streams are a person's).
    fn of(auth: Auth) -> Result<(Reader, Actor), Error> {
        let scopes = auth.scopes().clone();
        let actor = auth.actor.ok_or_else(|| {
            Error::new(
                ErrorKind::Unauthorized,
                "This stream requires a user's access token",
            )
        })?;
        let reader = Reader {
            token_id: auth.token.id,
            actor_id: actor.id.clone(),
            scopes,
        };
        Ok((reader, actor))
    }
}

/// Checks that `reader` may read `stream` (scope, and for a list that it
/// is the reader's): 401 for a missing scope, as Mastodon's streaming
/// server answers; 404 for an unknown list.
pub async fn allow(data: &Data<Context>, reader: &Reader, stream: &Stream) -> Result<(), Error> {
    if !reader.scopes.allows(stream.scope()) {
        return Err(Error::new(
            ErrorKind::Unauthorized,
            "Access token does not have the required scopes",
        ));
    }
    if let Stream::List(list) = stream {
        let id = reader.actor_id.clone();
        let me = data
            .db
            .run(move |conn| Ok(Actor::by_id(conn, &id)?))
            .await?
            .ok_or_else(|| Error::new(ErrorKind::Unauthorized, INVALID_TOKEN))?;
        streams::list_readable(data, &me, list).await?;
    }
    Ok(())
}

/// A stream request that passed every check, not yet in the hub: its
/// transport registers it once it can take frames (the streaming port
/// after it has written its answer's head, so no frame can come first).
pub struct Admitted {
    /// Boxed: an open stream's task keeps room for this inline for its
    /// whole life, though it is moved into the hub at once.
    actor: Box<Actor>,
    streams: Vec<Stream>,
}

impl Admitted {
    /// Registers the connection with a queue its task reads.
    pub fn register(self, hub: &Arc<Hub>) -> Registration {
        hub.register(*self.actor, self.streams)
    }

    /// Registers the connection for the hub to write to `out` itself.
    pub fn register_direct(self, hub: &Arc<Hub>, out: Arc<Outgoing>, wire: Wire) -> Registration {
        hub.register_direct(*self.actor, self.streams, out, wire)
    }
}

/// Checks a request for the server-sent-events stream `path` names
/// (`user`, `user/notification`, `public/local`, …) for the request's
/// token. Shared by both servers that carry streams.
pub async fn open_sse(
    data: &Data<Context>,
    credentials: &Credentials<'_>,
    path: &str,
    query: &StreamQuery,
) -> Result<(Admitted, sse::Holder), Error> {
    let (reader, actor, _) = authenticate(data, credentials).await?;
    let name = path.trim_matches('/').replace('/', ":");
    let stream = Stream::parse(&name, query.tag.as_deref(), query.list.as_deref())?;
    allow(data, &reader, &stream).await?;
    let admitted = Admitted {
        actor: Box::new(actor),
        streams: vec![stream],
    };
    Ok((admitted, sse::Holder::Token(reader.token_id)))
}

/// Checks a WebSocket's token and its first stream (the `stream`
/// parameter, if any) before the handshake, so a bad one gets a plain
/// 401. Also the protocol to echo.
pub async fn open_websocket(
    data: &Data<Context>,
    credentials: &Credentials<'_>,
    query: &StreamQuery,
) -> Result<(Reader, Option<String>, Admitted), Error> {
    let (reader, actor, protocol) = authenticate(data, credentials).await?;
    let first = match &query.stream {
        Some(name) => {
            let stream = Stream::parse(name, query.tag.as_deref(), query.list.as_deref())?;
            allow(data, &reader, &stream).await?;
            Some(stream)
        }
        None => None,
    };
    let admitted = Admitted {
        actor: Box::new(actor),
        streams: first.into_iter().collect(),
    };
    Ok((reader, protocol, admitted))
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
    let (admitted, holder) = open_sse(&data, &Credentials::of(&req, &query), &path, &query).await?;
    Ok(sse::respond(
        admitted.register(&data.streams),
        data.streams.heartbeat,
        data.db.clone(),
        holder,
    ))
}
