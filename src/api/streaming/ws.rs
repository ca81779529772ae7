//! The WebSocket at `/api/v1/streaming`: one connection, any number of
//! streams, changed with `{"type":"subscribe"|"unsubscribe","stream":…}`
//! messages; frames `{"stream":[…],"event":…,"payload":"<JSON text>"}`;
//! a ping every heartbeat.

use super::{allow, open_websocket, Credentials, StreamQuery};
use crate::{
    api::{auth::Auth, params::Query},
    apub::Data,
    context::Context,
    error::{Error, ErrorKind},
    streaming::{Frame, Registration, Stream},
};
use actix_web::{web, HttpRequest, HttpResponse};
use actix_ws::{AggregatedMessage, Session};
use serde::Deserialize;
use serde_json::json;
use std::future::Future;
use tokio::time::{interval_at, Instant};

/// Longest client message taken (subscriptions are tiny).
const MAX_MESSAGE: usize = 64 * 1024;

/// `GET /api/v1/streaming` (an upgrade): checks the token before the
/// handshake, so a bad one gets a plain 401.
pub async fn websocket(
    req: HttpRequest,
    body: web::Payload,
    data: Data<Context>,
    Query(query): Query<StreamQuery>,
) -> Result<HttpResponse, Error> {
    let (auth, protocol, registration) =
        open_websocket(&data, &Credentials::of(&req, &query), &query).await?;
    let protocols: Vec<&str> = protocol.iter().map(String::as_str).collect();
    let (response, session, messages) = actix_ws::handle_with_protocols(&req, body, &protocols)
        .map_err(|e| Error::new(ErrorKind::BadRequest, e.to_string()))?;
    let messages = messages
        .max_frame_size(MAX_MESSAGE)
        .aggregate_continuations()
        .max_continuation_size(MAX_MESSAGE);
    let socket = ActixSocket { session, messages };
    actix_web::rt::spawn(serve(data, auth, socket, registration));
    Ok(response)
}

/// A frame as the WebSocket sends it.
pub fn frame_json(frame: &Frame) -> String {
    let mut value = json!({ "stream": frame.stream.names(), "event": frame.event });
    if !frame.payload.is_empty() {
        value["payload"] = json!(&*frame.payload);
    }
    value.to_string()
}

/// The error frame Mastodon sends for a refused subscription.
fn error_json(error: &Error) -> String {
    json!({ "error": error.safe_message(), "status": error.kind.status().as_u16() }).to_string()
}

/// A client's message, as [`serve`] needs it.
pub enum Incoming {
    Text(String),
    Ping(Vec<u8>),
    /// Anything else (pongs, binary): ignored.
    Other,
}

/// A WebSocket as [`serve`] sees it, whichever server carries it (actix
/// here, or `super::port`). Errors are the end of the connection.
pub trait Socket {
    /// Sends a frame's text (made once, shared by every connection).
    fn text(&mut self, frame: &Frame) -> impl Future<Output = Result<(), ()>>;
    /// Sends any other text (an error answer).
    fn reply(&mut self, text: String) -> impl Future<Output = Result<(), ()>>;
    fn ping(&mut self) -> impl Future<Output = Result<(), ()>>;
    fn pong(&mut self, payload: Vec<u8>) -> impl Future<Output = Result<(), ()>>;
    /// The client's next message; `None` once it closed or broke.
    fn next(&mut self) -> impl Future<Output = Option<Incoming>>;
    fn close(self) -> impl Future<Output = ()>;
}

/// The life of one WebSocket: frames out, subscriptions in, a ping each
/// heartbeat (which also ends the stream once its token is revoked, even
/// by another process: the account suspended).
pub async fn serve<S: Socket>(
    data: Data<Context>,
    auth: Auth,
    mut socket: S,
    mut registration: Registration,
) {
    let every = data.streams.heartbeat;
    let mut tick = interval_at(Instant::now() + every, every);
    loop {
        let sent = tokio::select! {
            frame = registration.frames.recv() => match frame {
                Some(frame) => socket.text(&frame).await,
                // The hub closed it: it fell behind.
                None => break,
            },
            message = socket.next() => match message {
                Some(Incoming::Text(text)) => {
                    match command(&data, &auth, &registration, &text).await {
                        Ok(()) => Ok(()),
                        Err(e) => socket.reply(error_json(&e)).await,
                    }
                }
                Some(Incoming::Ping(payload)) => socket.pong(payload).await,
                Some(Incoming::Other) => Ok(()),
                None => break,
            },
            _ = tick.tick() => {
                // A failed check keeps the stream (the database may be
                // briefly away).
                if !crate::service::oauth::token_is_live(&data.db, &auth.token.id)
                    .await
                    .unwrap_or(true)
                {
                    break;
                }
                socket.ping().await
            }
        };
        if sent.is_err() {
            break;
        }
    }
    socket.close().await;
}

/// actix-ws's session and message stream.
struct ActixSocket {
    session: Session,
    messages: actix_ws::AggregatedMessageStream,
}

impl Socket for ActixSocket {
    async fn text(&mut self, frame: &Frame) -> Result<(), ()> {
        self.session.text(frame.ws(frame_json)).await.map_err(drop)
    }
    async fn reply(&mut self, text: String) -> Result<(), ()> {
        self.session.text(text).await.map_err(drop)
    }
    async fn ping(&mut self) -> Result<(), ()> {
        self.session.ping(b"").await.map_err(drop)
    }
    async fn pong(&mut self, payload: Vec<u8>) -> Result<(), ()> {
        self.session.pong(&payload).await.map_err(drop)
    }
    async fn next(&mut self) -> Option<Incoming> {
        Some(match self.messages.recv().await? {
            Ok(AggregatedMessage::Text(text)) => Incoming::Text(text.to_string()),
            Ok(AggregatedMessage::Ping(bytes)) => Incoming::Ping(bytes.to_vec()),
            Ok(AggregatedMessage::Close(_)) | Err(_) => return None,
            Ok(_) => Incoming::Other,
        })
    }
    async fn close(self) {
        let _ = self.session.close(None).await;
    }
}

#[derive(Deserialize)]
struct Command {
    #[serde(rename = "type")]
    kind: String,
    stream: String,
    tag: Option<String>,
    list: Option<String>,
}

/// Applies a `subscribe` or `unsubscribe` message.
async fn command(
    data: &Data<Context>,
    auth: &Auth,
    registration: &Registration,
    text: &str,
) -> Result<(), Error> {
    let command: Command = serde_json::from_str(text)
        .map_err(|_| Error::new(ErrorKind::BadRequest, "Unknown message"))?;
    let stream = Stream::parse(
        &command.stream,
        command.tag.as_deref(),
        command.list.as_deref(),
    )?;
    match command.kind.as_str() {
        "subscribe" => {
            allow(data, auth, &stream).await?;
            registration.subscriber.subscribe(stream);
        }
        "unsubscribe" => registration.subscriber.unsubscribe(&stream),
        _ => return Err(Error::new(ErrorKind::BadRequest, "Unknown message type")),
    }
    Ok(())
}
