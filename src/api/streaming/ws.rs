//! The WebSocket at `/api/v1/streaming`: one connection, any number of
//! streams, changed with `{"type":"subscribe"|"unsubscribe","stream":…}`
//! messages; frames `{"stream":[…],"event":…,"payload":"<JSON text>"}`;
//! a ping every heartbeat.

use super::{allow, open_websocket, Credentials, Reader, StreamQuery};
use crate::{
    api::params::Query,
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
    let (reader, protocol, admitted) =
        open_websocket(&data, &Credentials::of(&req, &query), &query).await?;
    let protocols: Vec<&str> = protocol.iter().map(String::as_str).collect();
    let (response, session, messages) = actix_ws::handle_with_protocols(&req, body, &protocols)
        .map_err(|e| Error::new(ErrorKind::BadRequest, e.to_string()))?;
    let messages = messages
        .max_frame_size(MAX_MESSAGE)
        .aggregate_continuations()
        .max_continuation_size(MAX_MESSAGE);
    let socket = ActixSocket { session, messages };
    let registration = admitted.register(&data.streams);
    actix_web::rt::spawn(serve(data, reader, socket, registration));
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
///
/// Not an `async fn`: its arguments would be kept twice in the future
/// (rust-lang/rust#62958), and this future lives as long as the
/// connection.
#[allow(clippy::manual_async_fn)] // see above: not an `async fn` on purpose
pub fn serve<S: Socket>(
    data: Data<Context>,
    reader: Reader,
    socket: S,
    registration: Registration,
) -> impl Future<Output = ()> {
    async move {
        let (mut socket, mut registration) = (socket, registration);
        let every = data.streams.heartbeat;
        let mut tick = interval_at(Instant::now() + every, every);
        loop {
            let next = tokio::select! {
                frame = registration.next_frame() => match frame {
                    Some(frame) => Next::Frame(frame),
                    // The hub closed it: it fell behind.
                    None => break,
                },
                message = socket.next() => match message {
                    Some(message) => Next::Message(message),
                    None => break,
                },
                _ = tick.tick() => Next::Heartbeat,
            };
            let sent = match next {
                Next::Frame(frame) => socket.text(&frame).await,
                // Rare, and boxed: an open connection's task need not hold
                // room for the state of the queries they make.
                other => Box::pin(answer(&data, &reader, &mut socket, &registration, other)).await,
            };
            if sent.is_err() {
                break;
            }
        }
        socket.close().await;
    }
}

/// What woke a WebSocket.
enum Next {
    Frame(std::sync::Arc<Frame>),
    Message(Incoming),
    Heartbeat,
}

/// Answers a client's message or a heartbeat; `Err` ends the connection.
async fn answer<S: Socket>(
    data: &Data<Context>,
    reader: &Reader,
    socket: &mut S,
    registration: &Registration,
    next: Next,
) -> Result<(), ()> {
    match next {
        Next::Frame(frame) => socket.text(&frame).await,
        Next::Message(Incoming::Text(text)) => {
            match command(data, reader, registration, &text).await {
                Ok(()) => Ok(()),
                Err(e) => socket.reply(error_json(&e)).await,
            }
        }
        Next::Message(Incoming::Ping(payload)) => socket.pong(payload).await,
        Next::Message(Incoming::Other) => Ok(()),
        Next::Heartbeat => {
            // A token revoked since (the account suspended, even by
            // another process) ends the stream; a failed check does not
            // (the database may be briefly away).
            if !crate::service::oauth::token_is_live(&data.db, &reader.token_id)
                .await
                .unwrap_or(true)
            {
                return Err(());
            }
            socket.ping().await
        }
    }
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
    reader: &Reader,
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
            allow(data, reader, &stream).await?;
            registration.subscriber.subscribe(stream);
        }
        "unsubscribe" => registration.subscriber.unsubscribe(&stream),
        _ => return Err(Error::new(ErrorKind::BadRequest, "Unknown message type")),
    }
    Ok(())
}
