//! The streaming API on a port of its own (`[streaming] bind`), beside the
//! same endpoints on `http.bind`, as Mastodon serves streaming from its own
//! process and port behind the same reverse proxy.
//!
//! Why not actix here: its HTTP/1 dispatcher keeps a read and a write
//! buffer of 8 KiB each for the life of every open response (not
//! configurable), so 10,000 idle streams held ~16 KB each, 95 % of it those
//! buffers (docs/performance.md, heaptrack). hyper keeps an 8 KiB read
//! buffer the same way. A stream request is one `GET` with no body that
//! stays open, so this listener reads the request head into a small
//! buffer, parses it with `httparse`, drops the buffer, and from then on
//! holds only the socket, its small backlog and the heartbeat: a few KB.
//! WebSockets are framed by `tungstenite` with a 256-byte read buffer
//! (it grows for a longer message, up to the 64 KiB limit).
//!
//! Frames do not go through the connection's task here: the dispatcher
//! writes each one straight to the socket ([`Outgoing`]), the same bytes
//! to every connection that shares the frame, and the task only writes
//! what the socket did not take at once. Everything else the connection
//! sends (its head, heartbeats, tungstenite's answers) goes through the
//! same [`Outgoing`], so nothing interleaves.
//!
//! Everything after the head (tokens, scopes, streams, frames, heartbeats,
//! subscriptions) is the same code as on `http.bind`: [`super::open_sse`],
//! [`super::open_websocket`], [`sse::next_chunk`] and [`ws::serve`].

use super::{open_sse, open_websocket, sse, ws, Admitted, Credentials, StreamQuery};
use crate::{
    apub::Data,
    context::Context,
    error::{Error, ErrorKind},
    streaming::{Frame, Hub, Outgoing},
};
use activitypub_federation::config::FederationConfig;
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use std::{
    io,
    pin::Pin,
    sync::Arc,
    task::{Context as TaskContext, Poll},
    time::Duration,
};
use tokio::{
    io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf},
    net::{tcp::OwnedReadHalf, TcpListener, TcpStream},
};
use tokio_tungstenite::{
    tungstenite::{
        handshake::derive_accept_key,
        protocol::{
            frame::{
                coding::{Data as OpData, OpCode},
                Frame as WireFrame,
            },
            Role, WebSocketConfig,
        },
        Message, Utf8Bytes,
    },
    WebSocketStream,
};
use tracing::Instrument;

/// Longest request head taken (431 beyond): a token and a few headers fit
/// many times over.
const MAX_HEAD: usize = 16 * 1024;
/// How long a client may take to send its request head.
const HEAD_TIMEOUT: Duration = Duration::from_secs(10);
/// Headers looked at; a request with more is refused.
const MAX_HEADERS: usize = 64;
/// Longest client message taken, as on `http.bind`.
const MAX_MESSAGE: usize = 64 * 1024;

/// Binds `[streaming] bind`.
///
/// Errors: `Unavailable` naming the address when it cannot be bound.
pub async fn bind(addr: &str) -> Result<TcpListener, Error> {
    TcpListener::bind(addr).await.map_err(|e| {
        Error::new(
            ErrorKind::Unavailable,
            format!("cannot listen on streaming.bind {addr}: {e}"),
        )
    })
}

/// Serves streams on `listener` until the task is aborted.
pub fn spawn(
    listener: TcpListener,
    federation: FederationConfig<Context>,
) -> tokio::task::JoinHandle<()> {
    let federation = Arc::new(federation);
    tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((socket, peer)) => {
                    let span = tracing::info_span!("stream_connection", %peer);
                    tokio::spawn(connection(socket, federation.clone()).instrument(span));
                }
                Err(e) => {
                    // Out of file descriptors, usually: wait rather than spin.
                    tracing::warn!(error = %e, "streaming port cannot accept");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    })
}

/// What this listener needs of a request head.
#[derive(Debug, Default)]
struct Head {
    method: String,
    path: String,
    query: String,
    authorization: Option<String>,
    protocol: Option<String>,
    upgrade_websocket: bool,
    websocket_key: Option<String>,
    websocket_version: Option<String>,
    /// Bytes the client sent after the head (its first WebSocket frames).
    rest: Vec<u8>,
}

impl Head {
    fn credentials<'a>(&'a self, query: &'a StreamQuery) -> Credentials<'a> {
        Credentials {
            authorization: self.authorization.as_deref(),
            protocol: self.protocol.as_deref(),
            access_token: query.access_token.as_deref(),
        }
    }
}

/// A refusal before the stream starts: status and Mastodon's
/// `{"error": …}` body.
struct Refusal(u16, String);

impl From<Error> for Refusal {
    fn from(e: Error) -> Refusal {
        Refusal(e.kind.status().as_u16(), e.safe_message().to_string())
    }
}

/// One connection. The steps before the stream starts (reading the head,
/// checking the token, the stream and the list) are boxed, so their
/// state is freed once they are done: an open stream's task holds only
/// what [`serve_sse`] or [`ws::serve`] need, not the largest state of
/// every query that opened it.
async fn connection(mut socket: TcpStream, federation: Arc<FederationConfig<Context>>) {
    let _ = socket.set_nodelay(true);
    let read = Box::pin(tokio::time::timeout(HEAD_TIMEOUT, read_head(&mut socket)));
    let head = match read.await {
        Ok(Ok(Some(head))) => head,
        // The client went away, or sent nothing in time.
        Ok(Ok(None)) | Err(_) => return,
        Ok(Err(Refusal(status, message))) => {
            return Box::pin(refuse(socket, status, &message)).await
        }
    };
    tracing::debug!(method = %head.method, path = %head.path, "stream request");
    let opened = Box::pin(open(&mut socket, head, &federation)).await;
    match opened {
        Ok(Opened::Sse(stream)) => serve_sse(socket, stream).await,
        Ok(Opened::WebSocket(stream)) => Box::pin(serve_websocket(socket, *stream)).await,
        Ok(Opened::Answered) => {}
        Err(Refusal(status, message)) => Box::pin(refuse(socket, status, &message)).await,
    }
}

/// A WebSocket after its handshake: tungstenite's framing, then
/// [`ws::serve`]. Not an `async fn`, which would keep its arguments twice
/// (rust-lang/rust#62958) for the life of the connection.
#[allow(clippy::manual_async_fn)] // see above: not an `async fn` on purpose
fn serve_websocket(socket: TcpStream, stream: WsStream) -> impl std::future::Future<Output = ()> {
    async move {
        let WsStream {
            data,
            reader,
            admitted,
            rest,
        } = stream;
        let (read, write) = socket.into_split();
        let out = Arc::new(Outgoing::new(write, data.streams.queue()));
        let registration = admitted.register_direct(&data.streams, out.clone(), ws_wire);
        // Boxed: the handshake's state is freed once it is done.
        let framed = Box::pin(WebSocketStream::from_partially_read(
            Duplex { read, out },
            rest,
            Role::Server,
            Some(websocket_config()),
        ))
        .await;
        ws::serve(data, reader, Tungstenite(framed), registration).await;
    }
}

/// A frame as an SSE event on the wire.
fn sse_wire(frame: &Frame) -> Bytes {
    frame.sse(sse::event_bytes)
}

/// A frame as a whole WebSocket text frame on the wire (a server's
/// frames are not masked, so every connection gets the same bytes).
fn ws_wire(frame: &Frame) -> Bytes {
    frame.ws_frame(|frame| {
        let text = frame.ws(ws::frame_json).into_bytes();
        let mut wire = Vec::with_capacity(text.len() + 10);
        let message = WireFrame::message(text, OpCode::Data(OpData::Text), true);
        if let Err(e) = message.format(&mut wire) {
            // Writing into a Vec cannot fail; were it to, the frame is
            // left out rather than sent broken.
            tracing::error!(error = %e, "could not frame a WebSocket message");
            return Bytes::new();
        }
        Bytes::from(wire)
    })
}

/// The socket as tungstenite sees it: reads from the socket; writes go
/// through the connection's [`Outgoing`], which the dispatcher writes
/// frames to as well, and which the connection's task flushes.
struct Duplex {
    read: OwnedReadHalf,
    out: Arc<Outgoing>,
}

impl AsyncRead for Duplex {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut TaskContext<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.read).poll_read(cx, buf)
    }
}

impl AsyncWrite for Duplex {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut TaskContext<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Poll::Ready(if self.out.send(Bytes::copy_from_slice(buf)) {
            Ok(buf.len())
        } else {
            Err(io::ErrorKind::BrokenPipe.into())
        })
    }

    /// What the socket did not take is written by the connection's task
    /// (`Registration::next_frame`), in order with the frames.
    fn poll_flush(self: Pin<&mut Self>, _: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut TaskContext<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// An SSE stream checked, with what it needs while open.
struct SseStream {
    admitted: Admitted,
    holder: sse::Holder,
    db: crate::db::Db,
    hub: Arc<Hub>,
}

/// A WebSocket after its handshake.
struct WsStream {
    data: Data<Context>,
    reader: super::Reader,
    admitted: Admitted,
    /// What the client sent after its request head.
    rest: Vec<u8>,
}

/// What [`open`] made of a request.
enum Opened {
    Sse(SseStream),
    WebSocket(Box<WsStream>),
    /// Answered in full (health, a preflight).
    Answered,
}

/// Reads the request head; `None` when the client closed first.
async fn read_head(socket: &mut TcpStream) -> Result<Option<Head>, Refusal> {
    let mut buf = Vec::with_capacity(1024);
    loop {
        let mut chunk = [0u8; 1024];
        let n = match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return Ok(None),
            Ok(n) => n,
        };
        buf.extend_from_slice(&chunk[..n]);
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut request = httparse::Request::new(&mut headers);
        match request.parse(&buf) {
            Ok(httparse::Status::Complete(len)) => {
                let mut head = parsed(&request);
                head.rest = buf[len..].to_vec();
                return Ok(Some(head));
            }
            Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => continue,
            Ok(httparse::Status::Partial) => {
                return Err(Refusal(431, "Request header fields too large".into()))
            }
            Err(httparse::Error::TooManyHeaders) => {
                return Err(Refusal(431, "Too many request header fields".into()))
            }
            Err(e) => return Err(Refusal(400, format!("Malformed request: {e}"))),
        }
    }
}

fn parsed(request: &httparse::Request<'_, '_>) -> Head {
    let target = request.path.unwrap_or("/");
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut head = Head {
        method: request.method.unwrap_or_default().to_string(),
        path: path.to_string(),
        query: query.to_string(),
        ..Head::default()
    };
    let has_token = |value: &str, token: &str| {
        value
            .split(',')
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    };
    let mut connection_upgrade = false;
    let mut upgrade = false;
    for header in request.headers.iter() {
        let Ok(value) = std::str::from_utf8(header.value) else {
            continue;
        };
        let name = header.name;
        if name.eq_ignore_ascii_case("authorization") {
            head.authorization = Some(value.to_string());
        } else if name.eq_ignore_ascii_case("sec-websocket-protocol") {
            head.protocol = Some(value.to_string());
        } else if name.eq_ignore_ascii_case("sec-websocket-key") {
            head.websocket_key = Some(value.trim().to_string());
        } else if name.eq_ignore_ascii_case("sec-websocket-version") {
            head.websocket_version = Some(value.trim().to_string());
        } else if name.eq_ignore_ascii_case("upgrade") {
            upgrade |= has_token(value, "websocket");
        } else if name.eq_ignore_ascii_case("connection") {
            connection_upgrade |= has_token(value, "upgrade");
        }
    }
    head.upgrade_websocket = upgrade && connection_upgrade;
    head
}

/// Routes the request and checks it; answers what needs no stream. A
/// refusal comes back before anything was sent.
async fn open(
    socket: &mut TcpStream,
    head: Head,
    federation: &FederationConfig<Context>,
) -> Result<Opened, Refusal> {
    if head.method == "OPTIONS" {
        // A browser's preflight for a stream opened with an
        // `Authorization` header.
        let answer = "HTTP/1.1 204 No Content\r\nAccess-Control-Allow-Origin: *\r\n\
                      Access-Control-Allow-Methods: GET\r\n\
                      Access-Control-Allow-Headers: Authorization\r\n\
                      Connection: close\r\n\r\n";
        let _ = socket.write_all(answer.as_bytes()).await;
        return Ok(Opened::Answered);
    }
    if head.method != "GET" {
        return Err(Refusal(405, "Only GET is served here".into()));
    }
    let Some(rest) = head.path.strip_prefix("/api/v1/streaming") else {
        return Err(Refusal(404, "Not found".into()));
    };
    let query: StreamQuery = serde_urlencoded::from_str(&head.query)
        .map_err(|e| Refusal(400, format!("Bad query: {e}")))?;
    let name = rest.trim_matches('/').to_string();
    let data = federation.to_request_data();
    match name.as_str() {
        "health" => {
            let answer = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\
                          Content-Length: 2\r\nConnection: close\r\n\r\nOK";
            let _ = socket.write_all(answer.as_bytes()).await;
            Ok(Opened::Answered)
        }
        "" if head.upgrade_websocket => websocket(socket, head, &query, data).await,
        "" => Err(Refusal(400, "Expected a WebSocket upgrade".into())),
        stream => {
            let (admitted, holder) =
                open_sse(&data, &head.credentials(&query), stream, &query).await?;
            Ok(Opened::Sse(SseStream {
                admitted,
                holder,
                db: data.db.clone(),
                hub: data.streams.clone(),
            }))
        }
    }
}

/// A server-sent-events stream: no length, so it ends with the
/// connection, which either side may close.
async fn serve_sse(mut socket: TcpStream, stream: SseStream) {
    let SseStream {
        admitted,
        holder,
        db,
        hub,
    } = stream;
    let opening = [
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\
          Cache-Control: no-store\r\nX-Accel-Buffering: no\r\n\
          Access-Control-Allow-Origin: *\r\nConnection: close\r\n\r\n"
            .as_slice(),
        sse::OPENING,
    ]
    .concat();
    // Written before the connection is in the hub: no frame comes first.
    if Box::pin(socket.write_all(&opening)).await.is_err() {
        return;
    }
    drop(opening);
    let (mut reader, writer) = socket.into_split();
    let out = Arc::new(Outgoing::new(writer, hub.queue()));
    let mut registration = admitted.register_direct(&hub, out.clone(), sse_wire);
    let mut tick = sse::heartbeat(hub.heartbeat);
    let mut probe = [0u8; 16];
    loop {
        tokio::select! {
            // Frames are written by the dispatcher; this writes what the
            // socket did not take at once, and the heartbeats.
            chunk = sse::next_chunk(&mut registration, &mut tick, &holder, &db) => match chunk {
                Some(bytes) => {
                    if !out.send(bytes) {
                        break;
                    }
                }
                None => break,
            },
            // A client sends nothing on a stream: a read ends it (closed),
            // anything else is ignored.
            read = reader.read(&mut probe) => match read {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            },
        }
    }
}

/// The WebSocket handshake (RFC 6455 §4.2.2) after the token and first
/// stream were checked.
async fn websocket(
    socket: &mut TcpStream,
    head: Head,
    query: &StreamQuery,
    data: Data<Context>,
) -> Result<Opened, Refusal> {
    if head.websocket_version.as_deref() != Some("13") {
        return Err(Refusal(426, "Only WebSocket version 13 is served".into()));
    }
    let Some(key) = head.websocket_key.as_deref() else {
        return Err(Refusal(400, "Missing Sec-WebSocket-Key".into()));
    };
    let (reader, protocol, admitted) =
        open_websocket(&data, &head.credentials(query), query).await?;
    let mut answer = format!(
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Accept: {}\r\n",
        derive_accept_key(key.as_bytes())
    );
    if let Some(protocol) = &protocol {
        answer.push_str(&format!("Sec-WebSocket-Protocol: {protocol}\r\n"));
    }
    answer.push_str("\r\n");
    if socket.write_all(answer.as_bytes()).await.is_err() {
        return Ok(Opened::Answered);
    }
    Ok(Opened::WebSocket(Box::new(WsStream {
        data,
        reader,
        admitted,
        rest: head.rest,
    })))
}

/// Small buffers: a client only sends subscriptions.
fn websocket_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(256)
        .write_buffer_size(0)
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE))
}

/// tungstenite's WebSocket. It answers pings itself.
struct Tungstenite(WebSocketStream<Duplex>);

impl ws::Socket for Tungstenite {
    async fn text(&mut self, frame: &Frame) -> Result<(), ()> {
        let text = Utf8Bytes::try_from(frame.ws(ws::frame_json).into_bytes()).map_err(drop)?;
        self.0.send(Message::Text(text)).await.map_err(drop)
    }
    async fn reply(&mut self, text: String) -> Result<(), ()> {
        self.0.send(Message::text(text)).await.map_err(drop)
    }
    async fn ping(&mut self) -> Result<(), ()> {
        self.0
            .send(Message::Ping(Default::default()))
            .await
            .map_err(drop)
    }
    async fn pong(&mut self, _: Vec<u8>) -> Result<(), ()> {
        Ok(())
    }
    async fn next(&mut self) -> Option<ws::Incoming> {
        Some(match self.0.next().await? {
            Ok(Message::Text(text)) => ws::Incoming::Text(text.to_string()),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => ws::Incoming::Other,
        })
    }
    async fn close(mut self) {
        let _ = self.0.close(None).await;
    }
}

/// Writes a refusal and closes.
async fn refuse(mut socket: TcpStream, status: u16, message: &str) {
    let reason = match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        _ if status >= 500 => "Internal Server Error",
        _ => "Error",
    };
    let body = serde_json::json!({ "error": message }).to_string();
    let mut answer = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nAccess-Control-Allow-Origin: *\r\nConnection: close\r\n",
        body.len()
    );
    if status == 426 {
        answer.push_str("Sec-WebSocket-Version: 13\r\n");
    }
    answer.push_str("\r\n");
    answer.push_str(&body);
    let _ = socket.write_all(answer.as_bytes()).await;
    let _ = socket.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::Future;

    /// The size of the future a function returns, without calling it.
    fn future_size<A, B, F: Future>(_: fn(A, B) -> F) -> usize {
        std::mem::size_of::<F>()
    }

    /// An open stream's task is one allocation that lives as long as the
    /// connection: what it holds counts in the memory per idle stream
    /// (docs/performance.md). The bounds are about twice today's sizes in
    /// the dev profile (smaller in release), so a query's state creeping
    /// back in unboxed shows here.
    #[test]
    fn an_open_streams_task_stays_small() {
        let connection = future_size(connection);
        let websocket = future_size(serve_websocket);
        assert!(connection <= 2048, "connection's future: {connection} B");
        assert!(websocket <= 4096, "serve_websocket's future: {websocket} B");
    }
}
