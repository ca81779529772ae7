//! Server-sent events: a `text/event-stream` body fed by a connection's
//! queue, with `:thump` comment lines as heartbeats.

use crate::{
    db::Db,
    service,
    streaming::{Frame, Registration},
};
use actix_web::{web::Bytes, HttpResponse};
use std::{convert::Infallible, time::Duration};
use tokio::time::{interval_at, Instant, Interval, MissedTickBehavior};

/// One frame as an SSE event: `event:` then the payload as `data:`.
pub fn event_bytes(frame: &Frame) -> Bytes {
    let mut out = String::with_capacity(frame.payload.len() + 32);
    out.push_str("event: ");
    out.push_str(frame.event);
    out.push('\n');
    // A payload is one line (JSON has no raw newlines), but an event with
    // none must still carry a data line to be dispatched by browsers.
    for line in frame.payload.split('\n') {
        out.push_str("data: ");
        out.push_str(line);
        out.push('\n');
    }
    out.push('\n');
    Bytes::from(out)
}

/// What the stream was opened with, checked again at each heartbeat.
#[derive(Debug, Clone)]
pub enum Holder {
    /// An OAuth token's id (the client API).
    Token(String),
    /// A browser session's id (the web app's `/live`).
    Session(String),
}

impl Holder {
    /// Whether it still holds: not revoked, the session not ended. A
    /// failed check keeps the stream (the database may be briefly away).
    async fn holds(&self, db: &Db) -> bool {
        match self {
            Holder::Token(id) => service::oauth::token_is_live(db, id).await,
            Holder::Session(id) => service::sessions::is_open(db, id).await,
        }
        .unwrap_or(true)
    }
}

/// The heartbeat timer of one stream: first tick one interval from now.
pub fn heartbeat(every: Duration) -> Interval {
    let mut tick = interval_at(Instant::now() + every, every);
    tick.set_missed_tick_behavior(MissedTickBehavior::Delay);
    tick
}

/// The comment a stream opens with, sent at once so clients and proxies
/// see the stream is open.
pub const OPENING: &[u8] = b":)\n\n";

/// What an open stream sends next: its next frame as an SSE event, or a
/// heartbeat; `None` once it ends: the hub closed it (it fell behind), or
/// at a heartbeat `holder` no longer holds (revoked or signed out, even
/// by another process: `outloud admin suspend`). Cancel-safe, so a server
/// can wait for it and for the client's end at once.
pub async fn next_chunk(
    registration: &mut Registration,
    tick: &mut Interval,
    holder: &Holder,
    db: &Db,
) -> Option<Bytes> {
    tokio::select! {
        frame = registration.next_frame() => Some(frame?.sse(event_bytes)),
        _ = tick.tick() => {
            // Boxed: an idle stream's task need not hold room for a query.
            if !Box::pin(holder.holds(db)).await {
                return None;
            }
            Some(Bytes::from_static(b":thump\n\n"))
        }
    }
}

/// The streaming response of an open connection on actix: it ends as
/// [`next_chunk`] says; the client closing it drops the registration,
/// which leaves the hub.
pub fn respond(
    registration: Registration,
    every: Duration,
    db: Db,
    holder: Holder,
) -> HttpResponse {
    let state = (registration, heartbeat(every), true);
    let body = futures_util::stream::unfold(state, move |(mut reg, mut tick, first)| {
        let (db, holder) = (db.clone(), holder.clone());
        async move {
            let bytes = if first {
                Bytes::from_static(OPENING)
            } else {
                next_chunk(&mut reg, &mut tick, &holder, &db).await?
            };
            Some((Ok::<_, Infallible>(bytes), (reg, tick, false)))
        }
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-store"))
        // Tells nginx not to buffer the stream.
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body)
}
