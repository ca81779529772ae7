//! The streaming column of the visibility table (tests/integration/
//! visibility.rs): readers hold a WebSocket on every stream while the
//! table's posts are made, and each stream must deliver exactly what the
//! same token reads through the REST API.

use crate::{
    api_client::Api,
    harness::TestInstance,
    streaming_client::{Event, Ws, WsToken, WITHIN},
    visibility::{api_may_see, ids_of, ids_within, rows, within, Rows, World, ROWS},
};
use serde_json::json;

/// Readers holding streams, and their WebSockets.
pub(crate) type Streams = Vec<(&'static str, Ws)>;

/// Who streams: the local readers, bea (blocked ann), mo (muted her) and
/// lea (a local member of the members-only guild).
const STREAM_READERS: [&str; 6] = ["nia", "fay", "ada", "bea", "mo", "lea"];

/// Opens one WebSocket per reader on every stream a post of the table
/// could reach: `user`, `user:notification`, `public`, `public:local`,
/// `direct` and each row's hashtag.
pub(crate) async fn open_streams(alpha: &TestInstance) -> Streams {
    let mut streams = Vec::new();
    for reader in STREAM_READERS {
        let token = Api::for_user(alpha, reader, "read").await.token.unwrap();
        let mut ws = Ws::connect(&alpha.domain, "?stream=user", WsToken::Header(&token)).await;
        for stream in ["user:notification", "public", "public:local", "direct"] {
            ws.send(json!({ "type": "subscribe", "stream": stream }))
                .await;
        }
        for row in ROWS.iter().chain(&["root", "marker"]) {
            ws.send(
                json!({ "type": "subscribe", "stream": "hashtag", "tag": format!("vis_{row}") }),
            )
            .await;
        }
        // Messages are handled in order: once this one's error frame is
        // back, every subscription before it holds.
        ws.send(json!({ "type": "subscribe", "stream": "sync" }))
            .await;
        ws.next_error(WITHIN).await.unwrap();
        streams.push((reader, ws));
    }
    streams
}

/// The rows of the statuses `events` carry (updates, edits, notifications,
/// conversations; a reblog's post too).
fn rows_streamed(w: &World, events: &[&Event]) -> Rows {
    let mut ids = Vec::new();
    for event in events.iter().filter(|e| e.event != "delete") {
        let json = event.json();
        let status = match event.event.as_str() {
            "notification" => json["status"].clone(),
            "conversation" => json["last_status"].clone(),
            _ => json,
        };
        for id in [status["id"].as_str(), status["reblog"]["id"].as_str()]
            .into_iter()
            .flatten()
        {
            ids.push(id.to_string());
        }
    }
    w.rows_in(ids.iter().map(String::as_str))
}

/// The streaming column. Every event a reader's WebSocket got while the
/// table was made, up to a marker nia posts last (events reach a
/// connection in commit order), compared with what the same token reads
/// through the REST API now. The deleted and removed rows were public
/// while they lasted: streams showed them where the public timelines
/// did, and then sent their `delete`.
pub(crate) async fn streaming_paths(w: &World, streams: Streams) {
    let nia = Api::for_user(&w.alpha, "nia", "read write").await;
    let marker = nia
        .status(json!({ "status": "The end visword #vis_marker" }))
        .await["id"]
        .as_str()
        .unwrap()
        .to_string();
    let gone = rows(&["deleted", "removed"]);
    for (reader, mut ws) in streams {
        let mut events = Vec::new();
        loop {
            let event = ws
                .next(WITHIN)
                .await
                .unwrap_or_else(|| panic!("{reader}'s marker never came: {events:#?}"));
            let done = event.stream == ["public"] && event.status_id().as_deref() == Some(&marker);
            events.push(event);
            if done {
                break;
            }
        }
        let on = |name: &str| -> Vec<&Event> {
            events
                .iter()
                .filter(|e| e.stream.join(":") == name)
                .collect()
        };
        let tagged: Vec<&Event> = events
            .iter()
            .filter(|e| e.stream.first().map(String::as_str) == Some("hashtag"))
            .collect();
        let api = Api::for_user(&w.alpha, reader, "read").await;
        let home = api.get("/api/v1/timelines/home?limit=40").await.ok();
        let home = w.rows_in(ids_of(&home));
        let notifications = api.get("/api/v1/notifications?limit=40").await.ok();
        let notifications = w.rows_in(ids_within(&notifications, "status"));
        let conversations = api.get("/api/v1/conversations").await.ok();
        let conversations = w.rows_in(ids_within(&conversations, "last_status"));
        let public = api.get("/api/v1/timelines/public?limit=40").await.ok();
        let public = w.rows_in(ids_of(&public));

        let user = rows_streamed(w, &on("user"));
        let user_notified = rows_streamed(
            w,
            &on("user")
                .into_iter()
                .filter(|e| e.event == "notification")
                .collect::<Vec<_>>(),
        );
        let seen = [
            ("user", user.clone()),
            (
                "user:notification",
                rows_streamed(w, &on("user:notification")),
            ),
            ("public", rows_streamed(w, &on("public"))),
            ("public:local", rows_streamed(w, &on("public:local"))),
            ("hashtag", rows_streamed(w, &tagged)),
            ("direct", rows_streamed(w, &on("direct"))),
        ];
        let (blocked_or_muted, allowed) = match reader {
            "bea" | "mo" => (true, Rows::new()),
            // A member reads the members' post too (nothing else of ann's
            // beyond what nia reads).
            "lea" => (
                false,
                rows(&["public", "unlisted", "local", "local_unlisted", "members"])
                    .union(&gone)
                    .copied()
                    .collect(),
            ),
            _ => (false, api_may_see(reader).union(&gone).copied().collect()),
        };
        for (name, found) in &seen {
            within(&format!("stream {name}"), reader, found, &allowed);
        }
        // Exactly the REST answers, less what was deleted since.
        let now = |name: &str| -> Rows {
            let found = &seen.iter().find(|(n, _)| *n == name).unwrap().1;
            found.difference(&gone).copied().collect()
        };
        assert_eq!(now("user"), home, "{reader}: user stream vs home");
        assert_eq!(
            now("user:notification"),
            notifications,
            "{reader}: notification stream vs notifications"
        );
        assert_eq!(
            user_notified, notifications,
            "{reader}: the user stream's notifications"
        );
        assert_eq!(
            now("direct"),
            conversations,
            "{reader}: direct vs conversations"
        );
        for name in ["public", "public:local", "hashtag"] {
            assert_eq!(
                now(name),
                public,
                "{reader}: {name} stream vs public timeline"
            );
        }
        if blocked_or_muted {
            assert!(
                home.is_empty() && public.is_empty(),
                "{reader} sees ann: {home:?} {public:?}"
            );
        }
        // Each stream that showed a row now deleted got its `delete`. (A
        // post deleted before its event was dispatched is not shown at
        // all: events are rendered when dispatched.)
        for row in ["deleted", "removed"] {
            let id = w.id(row);
            for stream in ["user", "public", "public:local", "direct"] {
                let showed = rows_streamed(w, &on(stream)).contains(row);
                let deleted = on(stream)
                    .iter()
                    .any(|e| e.event == "delete" && e.payload == id);
                assert!(
                    !showed || deleted,
                    "{reader}: {row} on {stream}, not deleted"
                );
            }
        }
        if reader == "fay" {
            assert!(home.contains("followers"), "fay's home: {home:?}");
        }
        if reader == "ada" {
            assert!(conversations.contains("direct"), "ada's conversations");
        }
        if reader == "lea" {
            assert!(home.contains("members"), "lea's home: {home:?}");
        }
    }
}
