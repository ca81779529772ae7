//! The WebSocket at `/api/v1/streaming`: one connection, any number of
//! streams, changed with `{"type":"subscribe"|"unsubscribe","stream":…}`
//! messages; frames `{"stream":[…],"event":…,"payload":"<JSON text>"}`;
//! a ping every heartbeat.

use super::{allow, authenticate, StreamQuery};
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
    let (auth, protocol) = authenticate(&data, &req, &query).await?;
    let first = match &query.stream {
        Some(name) => {
            let stream = Stream::parse(name, query.tag.as_deref(), query.list.as_deref())?;
            allow(&data, &auth, &stream).await?;
            Some(stream)
        }
        None => None,
    };
    let protocols: Vec<&str> = protocol.iter().map(String::as_str).collect();
    let (response, session, messages) = actix_ws::handle_with_protocols(&req, body, &protocols)
        .map_err(|e| Error::new(ErrorKind::BadRequest, e.to_string()))?;
    let viewer_id = auth
        .actor
        .as_ref()
        .map(|a| a.id.clone())
        .unwrap_or_default();
    let registration = data
        .streams
        .register(&viewer_id, first.into_iter().collect());
    let messages = messages
        .max_frame_size(MAX_MESSAGE)
        .aggregate_continuations()
        .max_continuation_size(MAX_MESSAGE);
    actix_web::rt::spawn(serve(data, auth, session, messages, registration));
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

async fn serve(
    data: Data<Context>,
    auth: Auth,
    mut session: Session,
    mut messages: actix_ws::AggregatedMessageStream,
    mut registration: Registration,
) {
    let every = data.streams.heartbeat;
    let mut tick = interval_at(Instant::now() + every, every);
    loop {
        let sent = tokio::select! {
            frame = registration.frames.recv() => match frame {
                Some(frame) => session.text(frame.ws(frame_json)).await,
                // The hub closed it: it fell behind.
                None => break,
            },
            message = messages.recv() => match message {
                Some(Ok(AggregatedMessage::Text(text))) => {
                    match command(&data, &auth, &registration, &text).await {
                        Ok(()) => Ok(()),
                        Err(e) => session.text(error_json(&e)).await,
                    }
                }
                Some(Ok(AggregatedMessage::Ping(bytes))) => session.pong(&bytes).await,
                Some(Ok(AggregatedMessage::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => Ok(()),
            },
            _ = tick.tick() => {
                // A token revoked since (the account suspended, even by
                // another process) ends the stream; a failed check does not.
                if !crate::service::oauth::token_is_live(&data.db, &auth.token.id)
                    .await
                    .unwrap_or(true)
                {
                    break;
                }
                session.ping(b"").await
            }
        };
        if sent.is_err() {
            break;
        }
    }
    let _ = session.close(None).await;
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
