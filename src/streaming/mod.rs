//! The streaming API's hub, independent of actix: which connections are
//! open, for whom, on which streams, and their bounded queues.
//!
//! Change events come from the storage layer (`db::events`: ids only,
//! after commit), through this process's broadcast (fed by
//! [`listener`] from PostgreSQL `LISTEN`, or directly on SQLite). The
//! dispatcher (`api::streaming::dispatch`) renders each event once per
//! reader and stream with the REST API's queries and conversion, and
//! offers the frame to each matching connection here: into its queue, or
//! on the streaming port straight onto its socket ([`outgoing`]). A
//! connection whose queue is full is closed rather than waited for, so
//! one slow reader never holds up the others or the request that posted.

pub mod listener;
pub mod outgoing;

use crate::{
    db::{actor::Actor, events::StreamEvent, Db},
    error::{Error, ErrorKind},
};
use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex, MutexGuard, OnceLock,
    },
    time::Duration,
};
use tokio::sync::mpsc;

pub use outgoing::Outgoing;

/// A stream a connection follows, by Mastodon's names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Stream {
    /// `user`: home timeline and notifications.
    User,
    /// `user:notification`
    UserNotification,
    /// `public`
    Public,
    /// `public:local`
    PublicLocal,
    /// `public:remote`
    PublicRemote,
    /// `hashtag` with its tag as the client named it (without `#`):
    /// frames echo it, as Mastodon's do, and clients such as masto.js
    /// match frames to subscriptions by it. Timelines compare tags
    /// case-insensitively.
    Hashtag(String),
    /// `hashtag:local`
    HashtagLocal(String),
    /// `list` with its id.
    List(String),
    /// `direct`: direct conversations.
    Direct,
}

/// The error Mastodon answers for a stream name it does not know.
pub const UNKNOWN_STREAM: &str = "Unknown stream type";

impl Stream {
    /// Parses a stream name with its `tag` or `list` parameter.
    ///
    /// Errors: `BadRequest` for an unknown name or a missing parameter.
    pub fn parse(name: &str, tag: Option<&str>, list: Option<&str>) -> Result<Stream, Error> {
        let needed = |value: Option<&str>, what: &str| {
            value
                .map(|v| v.trim().trim_start_matches('#'))
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .ok_or_else(|| Error::new(ErrorKind::BadRequest, format!("Missing {what}")))
        };
        Ok(match name {
            "user" => Stream::User,
            "user:notification" => Stream::UserNotification,
            "public" => Stream::Public,
            "public:local" => Stream::PublicLocal,
            "public:remote" => Stream::PublicRemote,
            "hashtag" => Stream::Hashtag(needed(tag, "tag")?),
            "hashtag:local" => Stream::HashtagLocal(needed(tag, "tag")?),
            "list" => Stream::List(needed(list, "list")?),
            "direct" => Stream::Direct,
            _ => return Err(Error::new(ErrorKind::BadRequest, UNKNOWN_STREAM)),
        })
    }

    /// Whether two subscriptions are the same stream: hashtags compare
    /// case-insensitively, so `#Rust` and `#rust` are one subscription.
    pub fn same(&self, other: &Stream) -> bool {
        match (self, other) {
            (Stream::Hashtag(a), Stream::Hashtag(b))
            | (Stream::HashtagLocal(a), Stream::HashtagLocal(b)) => {
                a.to_lowercase() == b.to_lowercase()
            }
            _ => self == other,
        }
    }

    /// The scope a token needs for this stream, as Mastodon asks (`read`
    /// covers both).
    pub fn scope(&self) -> &'static str {
        match self {
            Stream::UserNotification => "read:notifications",
            _ => "read:statuses",
        }
    }

    /// The `stream` field of a WebSocket frame: `["user"]`,
    /// `["hashtag", "rust"]`, `["list", "ID"]`.
    pub fn names(&self) -> Vec<String> {
        let (name, param) = match self {
            Stream::User => ("user", None),
            Stream::UserNotification => ("user:notification", None),
            Stream::Public => ("public", None),
            Stream::PublicLocal => ("public:local", None),
            Stream::PublicRemote => ("public:remote", None),
            Stream::Hashtag(t) => ("hashtag", Some(t)),
            Stream::HashtagLocal(t) => ("hashtag:local", Some(t)),
            Stream::List(l) => ("list", Some(l)),
            Stream::Direct => ("direct", None),
        };
        std::iter::once(name.to_string())
            .chain(param.cloned())
            .collect()
    }
}

/// One frame for a connection: an event of one stream, its payload
/// rendered for the connection's reader (a JSON text, or a bare id for
/// `delete`). Shared by every connection of the same reader and stream.
#[derive(Debug)]
pub struct Frame {
    pub stream: Stream,
    pub event: &'static str,
    pub payload: Arc<str>,
    /// The frame as written on the wire (an SSE event, a WebSocket text),
    /// made by the first connection that sends it and shared by the rest:
    /// ten thousand readers of one post cost one rendering, not ten
    /// thousand copies of the status.
    sse: OnceLock<bytes::Bytes>,
    ws: OnceLock<bytestring::ByteString>,
    /// The WebSocket text as a whole frame on the wire (header and text),
    /// for connections the dispatcher writes to itself.
    ws_frame: OnceLock<bytes::Bytes>,
}

impl Frame {
    pub fn new(stream: Stream, event: &'static str, payload: Arc<str>) -> Frame {
        Frame {
            stream,
            event,
            payload,
            sse: OnceLock::new(),
            ws: OnceLock::new(),
            ws_frame: OnceLock::new(),
        }
    }

    /// The SSE bytes of the frame, rendered by `render` once.
    pub fn sse(&self, render: impl FnOnce(&Frame) -> bytes::Bytes) -> bytes::Bytes {
        self.sse.get_or_init(|| render(self)).clone()
    }

    /// The WebSocket text of the frame, rendered by `render` once.
    pub fn ws(&self, render: impl FnOnce(&Frame) -> String) -> bytestring::ByteString {
        self.ws.get_or_init(|| render(self).into()).clone()
    }

    /// The WebSocket frame's bytes on the wire, rendered by `render` once.
    pub fn ws_frame(&self, render: impl FnOnce(&Frame) -> bytes::Bytes) -> bytes::Bytes {
        self.ws_frame.get_or_init(|| render(self)).clone()
    }
}

/// What the hub keeps of an open connection: whose it is and what it
/// follows (a WebSocket changes its streams while open). Kept small: an
/// idle connection costs this, its queue and the socket.
#[derive(Debug)]
pub struct Subscriber {
    /// The reader, as [`viewer`] keeps it: loaded when the stream opened,
    /// so a post's event needs no query per reader. What may change since
    /// (blocks, mutes, follows, filters, reactions) is asked per event;
    /// a suspended or deleted reader's token is revoked, which ends the
    /// stream at the next heartbeat.
    pub viewer: Arc<Actor>,
    streams: Mutex<Vec<Stream>>,
}

/// What the dispatcher needs of a reader's account: the row without its
/// keys and profile texts (~2 KB of a local account's ~3 KB), which no
/// rendering for a reader reads, and which every open connection would
/// otherwise hold.
pub fn viewer(actor: Actor) -> Actor {
    Actor {
        public_key_pem: String::new(),
        private_key_pem: None,
        summary: None,
        summary_source: None,
        fields_json: None,
        ..actor
    }
}

impl Subscriber {
    fn lock(&self) -> MutexGuard<'_, Vec<Stream>> {
        self.streams.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The streams followed now.
    pub fn streams(&self) -> Vec<Stream> {
        self.lock().clone()
    }

    /// Follows one more stream (once).
    pub fn subscribe(&self, stream: Stream) {
        let mut streams = self.lock();
        if !streams.iter().any(|s| s.same(&stream)) {
            streams.push(stream);
        }
    }

    /// Stops following a stream.
    pub fn unsubscribe(&self, stream: &Stream) {
        self.lock().retain(|s| !s.same(stream));
    }
}

/// How frames reach an open connection.
enum Sink {
    /// Its task takes them from a queue and writes them (actix's
    /// connections, whose sockets only their task can reach).
    Queue(mpsc::Sender<Arc<Frame>>),
    /// Written to its socket by whoever offers them, in its transport's
    /// bytes (the streaming port's connections).
    Direct(Arc<Outgoing>, Wire),
}

/// A transport's bytes of a frame (made once per frame, see [`Frame`]).
pub type Wire = fn(&Frame) -> bytes::Bytes;

/// Open connections by id: who, and how their frames reach them.
type Connections = HashMap<u64, (Arc<Subscriber>, Sink)>;

/// The open connections of this process.
pub struct Hub {
    connections: Mutex<Connections>,
    next_id: AtomicU64,
    queue: usize,
    /// Between heartbeats.
    pub heartbeat: Duration,
}

impl std::fmt::Debug for Hub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hub")
            .field("connections", &self.len())
            .finish_non_exhaustive()
    }
}

/// An open connection's end. Dropping it leaves the hub.
pub struct Registration {
    hub: Arc<Hub>,
    id: u64,
    pub subscriber: Arc<Subscriber>,
    way: Way,
}

/// The connection's side of its [`Sink`].
enum Way {
    Queue(mpsc::Receiver<Arc<Frame>>),
    Direct(Arc<Outgoing>),
}

impl Registration {
    /// The next frame the connection's task must write itself; `None`
    /// once the hub closed the connection (it fell behind). A direct
    /// connection gets no frames here: this writes out its backlog
    /// until it is closed. Cancel-safe.
    pub async fn next_frame(&mut self) -> Option<Arc<Frame>> {
        match &mut self.way {
            Way::Queue(frames) => frames.recv().await,
            Way::Direct(out) => {
                out.serve().await;
                None
            }
        }
    }
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.hub.close(self.id);
        if let Way::Direct(out) = &self.way {
            out.close();
        }
    }
}

impl Hub {
    pub fn new(config: &crate::config::StreamingConfig) -> Hub {
        Hub {
            connections: Mutex::new(HashMap::new()),
            next_id: AtomicU64::new(1),
            queue: config.queue,
            heartbeat: Duration::from_secs(config.heartbeat_secs),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Connections> {
        self.connections.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Opens a connection for `reader` on `streams` whose task takes its
    /// frames from a queue ([`Registration::next_frame`]).
    pub fn register(self: &Arc<Self>, reader: Actor, streams: Vec<Stream>) -> Registration {
        let (tx, frames) = mpsc::channel(self.queue);
        self.insert(reader, streams, Sink::Queue(tx), Way::Queue(frames))
    }

    /// Opens a connection for `reader` on `streams` whose frames are
    /// written to `out` as `wire` makes them, by whoever offers them.
    pub fn register_direct(
        self: &Arc<Self>,
        reader: Actor,
        streams: Vec<Stream>,
        out: Arc<Outgoing>,
        wire: Wire,
    ) -> Registration {
        let sink = Sink::Direct(out.clone(), wire);
        self.insert(reader, streams, sink, Way::Direct(out))
    }

    /// `streaming.queue`: how many frames may wait for a connection.
    pub fn queue(&self) -> usize {
        self.queue
    }

    fn insert(
        self: &Arc<Self>,
        reader: Actor,
        streams: Vec<Stream>,
        sink: Sink,
        way: Way,
    ) -> Registration {
        let subscriber = Arc::new(Subscriber {
            viewer: Arc::new(viewer(reader)),
            streams: Mutex::new(streams),
        });
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.lock().insert(id, (subscriber.clone(), sink));
        Registration {
            hub: self.clone(),
            id,
            subscriber,
            way,
        }
    }

    /// Number of open connections.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The open connections now, for one event's dispatch.
    pub fn snapshot(&self) -> Vec<(u64, Arc<Subscriber>)> {
        self.lock()
            .iter()
            .map(|(id, (s, _))| (*id, s.clone()))
            .collect()
    }

    /// Offers frames to connections without waiting: one lock of the
    /// hub for all of them, then the direct connections' writes outside
    /// it. A connection that fell `queue` frames behind is closed: its
    /// reader gets the end of the stream and reconnects, as with
    /// Mastodon. Direct writes are system calls, ~10,000 for a post to
    /// 10,000 readers: call this from a blocking thread for many.
    pub fn offer(&self, offers: Vec<(u64, Arc<Frame>)>) {
        let mut direct = Vec::new();
        {
            let mut connections = self.lock();
            for (id, frame) in offers {
                let full = match connections.get(&id) {
                    Some((_, Sink::Queue(tx))) => tx.try_send(frame).is_err(),
                    Some((_, Sink::Direct(out, wire))) => {
                        direct.push((out.clone(), *wire, frame));
                        false
                    }
                    None => false,
                };
                if full {
                    tracing::info!(connection = id, "closing a stream that fell behind");
                    connections.remove(&id);
                }
            }
        }
        // A failed send closed its connection: its task ends and leaves.
        for (out, wire, frame) in direct {
            out.send(wire(&frame));
        }
    }

    fn close(&self, id: u64) {
        self.lock().remove(&id);
    }
}

/// Tells an account's open streams that its filters changed
/// (`filters_changed`, no payload, on the `user` stream as Mastodon
/// sends it). `service::filters` calls this after every stored change to
/// a filter, its keywords or statuses; it reaches every process like any
/// other event.
pub async fn filters_changed(db: &Db, account_id: &str) -> crate::error::Result<()> {
    let event = StreamEvent::FiltersChanged {
        account: account_id.to_string(),
    };
    db.run(move |conn| Ok(crate::db::events::emit(conn, event)?))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_names_parse_and_name_frames() {
        let tag = Stream::parse("hashtag", Some("#Rust"), None).unwrap();
        assert_eq!(tag, Stream::Hashtag("Rust".into()));
        assert_eq!(tag.names(), ["hashtag", "Rust"]);
        assert!(tag.same(&Stream::Hashtag("rust".into())));
        assert!(!tag.same(&Stream::HashtagLocal("rust".into())));
        assert_eq!(
            Stream::parse("user:notification", None, None)
                .unwrap()
                .scope(),
            "read:notifications"
        );
        assert!(Stream::parse("hashtag", None, None).is_err());
        assert!(Stream::parse("nonsense", None, None).is_err());
        assert_eq!(
            Stream::parse("list", None, Some("7")).unwrap().names(),
            ["list", "7"]
        );
    }

    fn reader(name: &str) -> Actor {
        let url = |path: &str| {
            crate::db::DbUrl(url::Url::parse(&format!("http://a.localhost{path}")).unwrap())
        };
        Actor {
            id: name.into(),
            ap_id: url(&format!("/users/{name}")),
            kind: "Person".into(),
            username: name.into(),
            domain: "a.localhost".into(),
            local: true,
            display_name: None,
            summary: Some("a long profile".into()),
            summary_source: None,
            url: None,
            inbox_url: url(&format!("/users/{name}/inbox")),
            shared_inbox_url: None,
            outbox_url: None,
            followers_url: None,
            following_url: None,
            public_key_pem: "PUBLIC".into(),
            private_key_pem: Some("PRIVATE".into()),
            manually_approves_followers: false,
            discoverable: true,
            published: crate::db::now(),
            updated: None,
            last_fetched_at: None,
            hide_network: false,
            icon_url: None,
            fields_json: None,
            image_url: None,
        }
    }

    #[test]
    fn a_subscriber_keeps_no_keys() {
        let hub = Arc::new(Hub::new(&crate::config::StreamingConfig::default()));
        let registration = hub.register(reader("a"), vec![Stream::User]);
        let viewer = &registration.subscriber.viewer;
        assert_eq!((viewer.id.as_str(), viewer.username.as_str()), ("a", "a"));
        assert!(viewer.private_key_pem.is_none() && viewer.public_key_pem.is_empty());
        assert!(viewer.summary.is_none());
    }

    #[tokio::test]
    async fn a_connection_that_falls_behind_is_closed() {
        let hub = Arc::new(Hub::new(&crate::config::StreamingConfig {
            heartbeat_secs: 15,
            queue: 2,
            ..Default::default()
        }));
        let mut registration = hub.register(reader("a"), vec![Stream::Public]);
        let frame = || Arc::new(Frame::new(Stream::Public, "update", "{}".into()));
        let (id, _) = hub.snapshot()[0].clone();
        for _ in 0..3 {
            hub.offer(vec![(id, frame())]);
        }
        assert!(hub.is_empty());
        assert!(registration.next_frame().await.is_some());
        assert!(registration.next_frame().await.is_some());
        assert!(registration.next_frame().await.is_none());
    }
}
