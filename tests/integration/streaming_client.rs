//! Streaming clients for the tests: server-sent events read with reqwest
//! (`Response::chunk`), and a WebSocket through tokio-tungstenite (a client
//! independent of the actix-ws server). Both hand back [`Event`]s; both
//! keep the heartbeats they saw.
//!
//! Negative assertions ("this stream did not get that post") use a marker:
//! events reach a connection in the order they were committed, so once a
//! marker posted after the action under test arrives, everything the
//! action caused has arrived too (see [`collect_until`]).

#![allow(dead_code)]

use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::time::Duration;
use tokio_tungstenite::tungstenite::{self, client::IntoClientRequest, Message};

/// How long a test waits for an event that must come.
pub const WITHIN: Duration = Duration::from_secs(15);

/// One event as a client sees it.
#[derive(Debug, Clone)]
pub struct Event {
    /// The WebSocket frame's `stream` (empty for server-sent events).
    pub stream: Vec<String>,
    pub event: String,
    /// The payload as sent: a JSON text, or a bare id for `delete`.
    pub payload: String,
}

impl Event {
    /// The payload parsed as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.payload).unwrap_or(Value::Null)
    }

    /// The id of the status the event is about: the payload's `id` for
    /// `update`/`status.update`, the bare id for `delete`, the status of a
    /// `notification`, the last status of a `conversation`.
    pub fn status_id(&self) -> Option<String> {
        match self.event.as_str() {
            "delete" => Some(self.payload.clone()),
            "notification" => self.json()["status"]["id"].as_str().map(String::from),
            "conversation" => self.json()["last_status"]["id"].as_str().map(String::from),
            _ => self.json()["id"].as_str().map(String::from),
        }
    }
}

/// A client without reqwest's whole-request timeout (a stream never ends),
/// resolving `*.localhost` to 127.0.0.1.
pub fn streaming_http() -> reqwest::Client {
    reqwest::Client::builder()
        .dns_resolver(std::sync::Arc::new(
            outloud::apub::client::LocalhostResolver,
        ))
        .connect_timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// An open server-sent events response.
pub struct Sse {
    response: reqwest::Response,
    buffer: String,
    /// Comment lines seen (`:thump` heartbeats, the opening `:)`).
    pub comments: Vec<String>,
}

impl Sse {
    /// Opens `url` with a bearer token; the response, whatever its status.
    pub async fn request(url: &str, token: Option<&str>) -> reqwest::Response {
        let mut request = streaming_http().get(url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.unwrap()
    }

    /// Opens `url` and checks it is an event stream.
    pub async fn open(url: &str, token: Option<&str>) -> Sse {
        let response = Sse::request(url, token).await;
        assert_eq!(response.status(), 200, "opening {url}");
        let kind = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        assert!(kind.starts_with("text/event-stream"), "{url}: {kind}");
        let mut sse = Sse {
            response,
            buffer: String::new(),
            comments: Vec::new(),
        };
        // The server writes a comment at once: the stream is registered
        // with the hub once it arrives.
        let deadline = tokio::time::Instant::now() + WITHIN;
        while sse.comments.is_empty() {
            assert!(tokio::time::Instant::now() < deadline, "{url} sent nothing");
            assert!(sse.read(Duration::from_secs(1)).await, "{url} ended");
            assert!(
                sse.parse_one().is_none(),
                "an event before the opening comment on {url}"
            );
        }
        sse
    }

    /// Reads one chunk into the buffer; false when the stream ended.
    async fn read(&mut self, within: Duration) -> bool {
        match tokio::time::timeout(within, self.response.chunk()).await {
            Err(_) => true,
            Ok(Ok(Some(bytes))) => {
                self.buffer.push_str(&String::from_utf8_lossy(&bytes));
                true
            }
            Ok(Ok(None)) | Ok(Err(_)) => false,
        }
    }

    /// Takes one complete block off the buffer: comments are kept aside,
    /// an event is returned.
    fn parse_one(&mut self) -> Option<Event> {
        loop {
            let end = self.buffer.find("\n\n")?;
            let block: String = self.buffer.drain(..end + 2).collect();
            let (mut event, mut data) = (String::new(), Vec::new());
            for line in block.lines() {
                if let Some(comment) = line.strip_prefix(':') {
                    self.comments.push(comment.to_string());
                } else if let Some(name) = line.strip_prefix("event:") {
                    event = name.trim().to_string();
                } else if let Some(value) = line.strip_prefix("data:") {
                    data.push(value.strip_prefix(' ').unwrap_or(value).to_string());
                }
            }
            if !event.is_empty() {
                return Some(Event {
                    stream: Vec::new(),
                    event,
                    payload: data.join("\n"),
                });
            }
        }
    }

    /// The next event within `within`, or `None`.
    pub async fn next(&mut self, within: Duration) -> Option<Event> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            if let Some(event) = self.parse_one() {
                return Some(event);
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() || !self.read(left).await {
                return None;
            }
        }
    }

    /// Whether the server closed the stream within `within`.
    pub async fn ended(&mut self, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        while tokio::time::Instant::now() < deadline {
            if !self.read(Duration::from_millis(200)).await {
                return true;
            }
        }
        false
    }
}

type WsStream = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

/// An open WebSocket.
pub struct Ws {
    socket: WsStream,
    /// Headers of the handshake's answer.
    pub headers: tungstenite::http::HeaderMap,
    /// Pings received (the server's heartbeats).
    pub pings: usize,
    /// Text frames that were not events (error frames).
    pub others: Vec<Value>,
}

/// How a WebSocket presents its token.
#[derive(Clone, Copy, Debug)]
pub enum WsToken<'a> {
    Header(&'a str),
    Protocol(&'a str),
    /// The token in `Authorization`, and a subprotocol offered beside it.
    HeaderAndProtocol(&'a str, &'a str),
    Query(&'a str),
    None,
}

impl Ws {
    /// Connects to `ws://{domain}/api/v1/streaming{query}` (query starting
    /// with `?` or empty): the handshake's answer, or the HTTP error
    /// response it got instead.
    pub async fn try_connect(
        domain: &str,
        query: &str,
        token: WsToken<'_>,
    ) -> Result<Ws, tungstenite::http::Response<Option<Vec<u8>>>> {
        let query = match token {
            WsToken::Query(t) if query.is_empty() => format!("?access_token={t}"),
            WsToken::Query(t) => format!("{query}&access_token={t}"),
            _ => query.to_string(),
        };
        let url = format!("ws://{domain}/api/v1/streaming{query}");
        let mut request = url.as_str().into_client_request().unwrap();
        match token {
            WsToken::Header(t) => {
                request
                    .headers_mut()
                    .insert("Authorization", format!("Bearer {t}").parse().unwrap());
            }
            WsToken::Protocol(t) => {
                request
                    .headers_mut()
                    .insert("Sec-WebSocket-Protocol", t.parse().unwrap());
            }
            WsToken::HeaderAndProtocol(t, protocol) => {
                let headers = request.headers_mut();
                headers.insert("Authorization", format!("Bearer {t}").parse().unwrap());
                headers.insert("Sec-WebSocket-Protocol", protocol.parse().unwrap());
            }
            WsToken::Query(_) | WsToken::None => {}
        }
        let port: u16 = domain.rsplit_once(':').unwrap().1.parse().unwrap();
        let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .unwrap();
        match tokio_tungstenite::client_async(request, tcp).await {
            Ok((socket, response)) => Ok(Ws {
                socket,
                headers: response.headers().clone(),
                pings: 0,
                others: Vec::new(),
            }),
            Err(tungstenite::Error::Http(response)) => Err(*response),
            Err(e) => panic!("WebSocket handshake with {url} failed: {e}"),
        }
    }

    /// Connects, and fails the test when refused.
    pub async fn connect(domain: &str, query: &str, token: WsToken<'_>) -> Ws {
        match Ws::try_connect(domain, query, token).await {
            Ok(ws) => ws,
            Err(response) => panic!(
                "WebSocket refused: {} {}",
                response.status(),
                String::from_utf8_lossy(response.body().as_deref().unwrap_or_default())
            ),
        }
    }

    /// Sends a JSON message (subscribe, unsubscribe).
    pub async fn send(&mut self, message: Value) {
        self.socket
            .send(Message::text(message.to_string()))
            .await
            .unwrap();
    }

    /// The next text frame, parsed, within `within` (pings are counted
    /// and answered by tungstenite).
    pub async fn next_text(&mut self, within: Duration) -> Option<Value> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let message = match tokio::time::timeout(left, self.socket.next()).await {
                Err(_) => return None,
                Ok(None) | Ok(Some(Err(_))) => return None,
                Ok(Some(Ok(message))) => message,
            };
            match message {
                Message::Text(text) => {
                    return Some(serde_json::from_str(text.as_str()).unwrap_or_else(|e| {
                        panic!("a WebSocket frame that is not JSON ({e}): {text}")
                    }))
                }
                Message::Ping(_) => self.pings += 1,
                Message::Close(_) => return None,
                _ => {}
            }
        }
    }

    /// The next event within `within`; error frames go to `others`.
    pub async fn next(&mut self, within: Duration) -> Option<Event> {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let frame = self.next_text(left).await?;
            let Some(event) = frame["event"].as_str() else {
                self.others.push(frame);
                continue;
            };
            let stream = frame["stream"]
                .as_array()
                .unwrap_or_else(|| panic!("a frame without its stream: {frame}"))
                .iter()
                .map(|s| s.as_str().unwrap().to_string())
                .collect();
            let payload = match &frame["payload"] {
                Value::String(p) => p.clone(),
                Value::Null => String::new(),
                other => panic!("a payload that is not a JSON string: {other}"),
            };
            return Some(Event {
                stream,
                event: event.to_string(),
                payload,
            });
        }
    }

    /// Reads (and drops) whatever comes for `within`.
    pub async fn drain(&mut self, within: Duration) {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() || self.next_text(left).await.is_none() {
                return;
            }
        }
    }

    /// Waits up to `within` for an error frame.
    pub async fn next_error(&mut self, within: Duration) -> Option<Value> {
        if let Some(e) = self.others.pop() {
            return Some(e);
        }
        let frame = self.next_text(within).await?;
        assert!(frame["event"].is_null(), "expected an error frame: {frame}");
        Some(frame)
    }
}

/// Either kind of stream, for [`collect_until`].
pub enum Client<'a> {
    Sse(&'a mut Sse),
    Ws(&'a mut Ws),
}

impl Client<'_> {
    pub async fn next(&mut self, within: Duration) -> Option<Event> {
        match self {
            Client::Sse(s) => s.next(within).await,
            Client::Ws(w) => w.next(within).await,
        }
    }
}

/// Every event up to and including the first `update` or `notification`
/// of status `marker`; fails the test when it does not come.
pub async fn collect_until(mut client: Client<'_>, marker: &str) -> Vec<Event> {
    let mut events = Vec::new();
    loop {
        let event = client
            .next(WITHIN)
            .await
            .unwrap_or_else(|| panic!("the marker {marker} never came; got {events:#?}"));
        let done = matches!(event.event.as_str(), "update" | "notification")
            && event.status_id().as_deref() == Some(marker);
        events.push(event);
        if done {
            return events;
        }
    }
}

/// Waits for an event matching `wanted`, skipping others; fails the test
/// when none comes.
pub async fn expect_event(
    mut client: Client<'_>,
    what: &str,
    wanted: impl Fn(&Event) -> bool,
) -> Event {
    let mut skipped = Vec::new();
    let deadline = tokio::time::Instant::now() + WITHIN;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match client.next(left).await {
            Some(event) if wanted(&event) => return event,
            Some(event) => skipped.push(event),
            None => panic!("no {what} within {WITHIN:?}; got {skipped:#?}"),
        }
    }
}
