//! The streaming API (docs/api.md "Streaming") as Mastodon apps use it:
//! server-sent events and the multiplexing WebSocket, tokens from each
//! place Mastodon takes them, every event kind on the streams it belongs
//! to (and not on the others), errors, heartbeats, the advertised URLs,
//! and an event caused by another server's post.

use crate::{
    api_client::Api,
    harness::{both_backends, settle, TestInstance},
    streaming_client::{collect_until, expect_event, Client, Event, Sse, Ws, WsToken, WITHIN},
};
use outloud::config::Backend;
use serde_json::{json, Value};
use std::time::Duration;

/// An instance whose streams beat every second.
async fn spawn(name: &str, backend: Backend) -> TestInstance {
    TestInstance::spawn_with(name, backend, |c| c.streaming.heartbeat_secs = 1).await
}

fn id(status: &Value) -> String {
    status["id"].as_str().unwrap().to_string()
}

/// `(event, status id)` of each event, for comparing whole streams.
fn summary(events: &[Event]) -> Vec<(String, String)> {
    events
        .iter()
        .map(|e| (e.event.clone(), e.status_id().unwrap_or_default()))
        .collect()
}

/// A mention's post and its notification may come in either order;
/// puts the post first.
fn in_post_order(mut events: Vec<(String, String)>) -> Vec<(String, String)> {
    for i in 1..events.len() {
        if events[i - 1].0 == "notification"
            && events[i].0 == "update"
            && events[i - 1].1 == events[i].1
        {
            events.swap(i - 1, i);
        }
    }
    events
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(e, s)| (e.to_string(), s.to_string()))
        .collect()
}

/// Server-sent events: bob follows alice; what alice and carol do reaches
/// exactly the streams it belongs on, in order.
async fn server_sent_events_carry_each_event(backend: Backend) {
    let alpha = spawn("alpha", backend).await;
    for name in ["alice", "bob", "carol"] {
        alpha.create_user(name).await;
    }
    alpha.follow("bob", &alpha.handle_of("alice")).await;
    let alice = Api::for_user(&alpha, "alice", "read write").await;
    let carol = Api::for_user(&alpha, "carol", "read write").await;
    let bob_token = Api::for_user(&alpha, "bob", "read").await.token.unwrap();
    let open = |path: &str| {
        let (url, token) = (alpha.url(path), bob_token.clone());
        async move { Sse::open(&url, Some(&token)).await }
    };
    let mut user = open("/api/v1/streaming/user").await;
    let mut notifications = open("/api/v1/streaming/user/notification").await;
    let mut public = open("/api/v1/streaming/public").await;
    let mut local = open("/api/v1/streaming/public/local").await;
    let mut remote = open("/api/v1/streaming/public/remote").await;
    let mut tag = open("/api/v1/streaming/hashtag?tag=Rust").await;
    let mut tag_local = open("/api/v1/streaming/hashtag/local?tag=rust").await;

    let first = id(&alice
        .status(json!({ "status": "Learning #rust today" }))
        .await);
    let mention = id(&alice
        .status(json!({ "status": "@bob have a look", "visibility": "unlisted" }))
        .await);
    let theirs = id(&carol.status(json!({ "status": "carol's own" })).await);
    let boost = alice
        .post(&format!("/api/v1/statuses/{theirs}/reblog"), json!({}))
        .await
        .ok();
    alice
        .put(
            &format!("/api/v1/statuses/{first}"),
            json!({ "status": "Learning #rust today, edited" }),
        )
        .await
        .ok();
    // Events are rendered when they are dispatched: an edit whose post is
    // already deleted by then is not sent (its `delete` follows). So the
    // deletion waits until the edit went out on every stream it belongs to.
    let mut early: Vec<Vec<Event>> = Vec::new();
    for stream in [&mut user, &mut public, &mut local, &mut tag, &mut tag_local] {
        let mut events = Vec::new();
        while events
            .last()
            .is_none_or(|e: &Event| e.event != "status.update")
        {
            let event = stream
                .next(WITHIN)
                .await
                .unwrap_or_else(|| panic!("no status.update; got {events:#?}"));
            events.push(event);
        }
        early.push(events);
    }
    let mut early = early.into_iter();
    let mut so_far = || early.next().unwrap();
    alice
        .delete(&format!("/api/v1/statuses/{first}"))
        .await
        .ok();
    // A notification and a public #rust post end every stream's run.
    let marker = id(&alice.status(json!({ "status": "@bob marker #rust" })).await);

    let boost_id = id(&boost);
    let mut events = so_far();
    events.extend(collect_until(Client::Sse(&mut user), &marker).await);
    assert_eq!(
        in_post_order(summary(&events)),
        pairs(&[
            ("update", &first),
            ("update", &mention),
            ("notification", &mention),
            ("update", &boost_id),
            ("status.update", &first),
            ("delete", &first),
            // The run ends at the marker's post (its notification follows).
            ("update", &marker),
        ]),
        "bob's user stream: {events:#?}"
    );
    let boosted = events
        .iter()
        .find(|e| e.status_id().as_deref() == Some(boost_id.as_str()))
        .unwrap()
        .json();
    assert_eq!(boosted["reblog"]["id"], theirs.as_str(), "{boosted}");
    assert_eq!(boosted["account"]["acct"], "alice");
    let notified = events
        .iter()
        .find(|e| e.event == "notification")
        .unwrap()
        .json();
    assert_eq!(notified["type"], "mention", "{notified}");
    assert_eq!(notified["account"]["acct"], "alice");
    let edited = events
        .iter()
        .find(|e| e.event == "status.update")
        .unwrap()
        .json();
    assert!(
        edited["content"].as_str().unwrap().contains("edited"),
        "{edited}"
    );
    assert!(edited["edited_at"].is_string(), "{edited}");

    let events = collect_until(Client::Sse(&mut notifications), &marker).await;
    assert_eq!(
        summary(&events),
        pairs(&[("notification", &mention), ("notification", &marker)]),
        "bob's notification stream"
    );

    // Public streams: public posts only (the unlisted mention is not
    // listed), edits and deletions of what they showed.
    let expected_public = pairs(&[
        ("update", &first),
        ("update", &theirs),
        ("status.update", &first),
        ("delete", &first),
        ("update", &marker),
    ]);
    for (name, stream) in [("public", &mut public), ("public:local", &mut local)] {
        let mut events = so_far();
        events.extend(collect_until(Client::Sse(stream), &marker).await);
        assert_eq!(summary(&events), expected_public, "{name}: {events:#?}");
    }
    let expected_tag = pairs(&[
        ("update", &first),
        ("status.update", &first),
        ("delete", &first),
        ("update", &marker),
    ]);
    for (name, stream) in [("hashtag", &mut tag), ("hashtag:local", &mut tag_local)] {
        let mut events = so_far();
        events.extend(collect_until(Client::Sse(stream), &marker).await);
        assert_eq!(summary(&events), expected_tag, "{name}: {events:#?}");
    }
    // Nothing remote happened: public:remote stays silent (heartbeats only).
    assert!(remote.next(Duration::from_millis(1500)).await.is_none());
    assert!(
        remote.comments.iter().any(|c| c == "thump"),
        "heartbeats: {:?}",
        remote.comments
    );
}

/// Errors are answered before a stream opens, as JSON.
async fn streaming_errors_are_json(backend: Backend) {
    let alpha = spawn("alpha", backend).await;
    alpha.create_user("bob").await;
    let token = Api::for_user(&alpha, "bob", "read").await.token.unwrap();
    let write_only = Api::for_user(&alpha, "bob", "write").await.token.unwrap();
    let notifications_only = Api::for_user(&alpha, "bob", "read:notifications")
        .await
        .token
        .unwrap();

    let health = Sse::request(&alpha.url("/api/v1/streaming/health"), None).await;
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "OK");

    let check = |path: &'static str, token: Option<String>, status: u16| {
        let url = alpha.url(path);
        async move {
            let response = Sse::request(&url, token.as_deref()).await;
            assert_eq!(response.status(), status, "{path}");
            let body: Value = response.json().await.unwrap_or(Value::Null);
            assert!(body["error"].is_string(), "{path}: {body}");
            body
        }
    };
    check("/api/v1/streaming/user", None, 401).await;
    check("/api/v1/streaming/user", Some("not-a-token".into()), 401).await;
    check("/api/v1/streaming/public?access_token=nope", None, 401).await;
    check("/api/v1/streaming/user", Some(write_only), 401).await;
    check(
        "/api/v1/streaming/user",
        Some(notifications_only.clone()),
        401,
    )
    .await;
    Sse::open(
        &alpha.url("/api/v1/streaming/user/notification"),
        Some(&notifications_only),
    )
    .await;
    let unknown = check("/api/v1/streaming/nonsense", Some(token.clone()), 400).await;
    assert_eq!(unknown["error"], "Unknown stream type");
    check("/api/v1/streaming/hashtag", Some(token.clone()), 400).await;
    // An unknown list (and another person's, see client_lists).
    let list = check("/api/v1/streaming/list?list=1", Some(token.clone()), 404).await;
    assert_eq!(list["error"], "List not found");
    check("/api/v1/streaming/list", Some(token.clone()), 400).await;
    // The token in the query works for server-sent events (EventSource).
    Sse::open(
        &alpha.url(&format!("/api/v1/streaming/public?access_token={token}")),
        None,
    )
    .await;

    // The WebSocket checks the token before the handshake.
    for bad in [
        WsToken::None,
        WsToken::Header("nope"),
        WsToken::Query("nope"),
    ] {
        let refused = Ws::try_connect(&alpha.domain, "?stream=user", bad)
            .await
            .err()
            .unwrap_or_else(|| panic!("{bad:?} was accepted"));
        assert_eq!(refused.status(), 401, "{bad:?}");
    }
    let refused = Ws::try_connect(&alpha.domain, "?stream=nonsense", WsToken::Header(&token))
        .await
        .err()
        .unwrap();
    assert_eq!(refused.status(), 400);
}

/// The WebSocket: three ways to give the token, multiplexed streams,
/// Mastodon's frame shape, error frames, pings.
async fn websocket_multiplexes_streams(backend: Backend) {
    let alpha = spawn("alpha", backend).await;
    for name in ["alice", "bob"] {
        alpha.create_user(name).await;
    }
    alpha.follow("bob", &alpha.handle_of("alice")).await;
    let alice = Api::for_user(&alpha, "alice", "read write").await;
    let token = Api::for_user(&alpha, "bob", "read").await.token.unwrap();

    // Authorization header, first stream in the query.
    let mut by_header = Ws::connect(&alpha.domain, "?stream=user", WsToken::Header(&token)).await;
    // Sec-WebSocket-Protocol, echoed back (browsers abort otherwise).
    let mut by_protocol = Ws::connect(
        &alpha.domain,
        "?stream=hashtag&tag=rust",
        WsToken::Protocol(&token),
    )
    .await;
    assert_eq!(
        by_protocol
            .headers
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok()),
        Some(token.as_str())
    );
    // A protocol offered beside an Authorization header is echoed too.
    let both = Ws::connect(
        &alpha.domain,
        "?stream=public",
        WsToken::HeaderAndProtocol(&token, "mastodon"),
    )
    .await;
    assert_eq!(
        both.headers
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok()),
        Some("mastodon")
    );
    drop(both);
    // access_token, no stream yet: subscriptions by message.
    let mut by_query = Ws::connect(&alpha.domain, "", WsToken::Query(&token)).await;
    by_query
        .send(json!({ "type": "subscribe", "stream": "public" }))
        .await;
    by_query
        .send(json!({ "type": "subscribe", "stream": "hashtag", "tag": "#Rust" }))
        .await;
    by_query
        .send(json!({ "type": "subscribe", "stream": "user:notification" }))
        .await;
    // A refused subscription answers an error frame; messages are handled
    // in order, so once it is here the subscriptions before it hold.
    by_query
        .send(json!({ "type": "subscribe", "stream": "nonsense" }))
        .await;
    let error = by_query.next_error(WITHIN).await.unwrap();
    assert_eq!(error["error"], "Unknown stream type", "{error}");
    assert_eq!(error["status"], 400, "{error}");
    by_query
        .send(json!({ "type": "subscribe", "stream": "list", "list": "1" }))
        .await;
    let error = by_query.next_error(WITHIN).await.unwrap();
    assert_eq!(error["status"], 404, "{error}");
    by_query.send(json!({ "type": "dance" })).await;
    assert!(by_query.next_error(WITHIN).await.unwrap()["error"].is_string());

    let post = id(&alice.status(json!({ "status": "@bob a #rust post" })).await);
    let frame = expect_event(Client::Ws(&mut by_header), "update on user", |e| {
        e.event == "update"
    })
    .await;
    assert_eq!(frame.stream, ["user"]);
    assert_eq!(frame.json()["id"], post.as_str());
    let frame = expect_event(Client::Ws(&mut by_header), "notification on user", |e| {
        e.event == "notification"
    })
    .await;
    assert_eq!(frame.stream, ["user"]);
    assert_eq!(frame.json()["status"]["id"], post.as_str());
    let frame = by_protocol.next(WITHIN).await.unwrap();
    assert_eq!(frame.stream, ["hashtag", "rust"]);
    assert_eq!(frame.event, "update");

    // One connection, three streams: each event once per stream, named.
    let mut got = Vec::new();
    for _ in 0..3 {
        let frame = by_query.next(WITHIN).await.unwrap();
        assert_eq!(
            frame.status_id().as_deref(),
            Some(post.as_str()),
            "{frame:?}"
        );
        got.push((frame.stream.join(":"), frame.event));
    }
    got.sort();
    assert_eq!(
        got,
        [
            ("hashtag:Rust".to_string(), "update".to_string()),
            ("public".into(), "update".into()),
            ("user:notification".into(), "notification".into()),
        ]
    );

    // Unsubscribing from public leaves the others.
    by_query
        .send(json!({ "type": "unsubscribe", "stream": "public" }))
        .await;
    by_query
        .send(json!({ "type": "subscribe", "stream": "nonsense" }))
        .await;
    by_query.next_error(WITHIN).await.unwrap();
    alice.delete(&format!("/api/v1/statuses/{post}")).await.ok();
    let marker = id(&alice.status(json!({ "status": "#rust marker" })).await);
    let events = collect_until(Client::Ws(&mut by_query), &marker).await;
    let streams: Vec<(String, String)> = events
        .iter()
        .map(|e| (e.stream.join(":"), e.event.clone()))
        .collect();
    assert_eq!(
        streams,
        [
            ("hashtag:Rust".to_string(), "delete".to_string()),
            ("hashtag:Rust".into(), "update".into())
        ],
        "{events:#?}"
    );
    assert_eq!(events[0].payload, post, "delete's payload is the id");

    // Heartbeats are pings.
    by_header.drain(Duration::from_millis(2500)).await;
    assert!(by_header.pings > 0, "no ping within 2.5 s");
}

/// `urls.streaming_api` (v1) and `configuration.urls.streaming` (v2) say
/// where the streaming API is, for the configured scheme and domain.
async fn streaming_urls_are_advertised(backend: Backend) {
    let alpha = spawn("alpha", backend).await;
    let api = Api::anonymous(&alpha);
    let v1 = api.get("/api/v1/instance").await.ok();
    let v2 = api.get("/api/v2/instance").await.ok();
    let expected = format!("ws://{}", alpha.domain);
    assert_eq!(v1["urls"]["streaming_api"], expected.as_str());
    assert_eq!(v2["configuration"]["urls"]["streaming"], expected.as_str());

    // Production (HTTPS): wss on the configured domain, whatever the host
    // the request came to.
    let live = TestInstance::spawn_with("live", backend, |c| {
        c.federation.dev_mode = Some(false);
        c.instance.domain = "social.example".into();
    })
    .await;
    let base = format!("http://{}", live.domain);
    let client = crate::harness::http_client();
    let v1: Value = client
        .get(format!("{base}/api/v1/instance"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v1["urls"]["streaming_api"], "wss://social.example");
    let v2: Value = client
        .get(format!("{base}/api/v2/instance"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        v2["configuration"]["urls"]["streaming"],
        "wss://social.example"
    );
}

/// A post from another server reaches the streams of the people it is
/// for: beta's bob follows alice@alpha.
async fn remote_posts_reach_the_stream(backend: Backend) {
    let alpha = spawn("alpha", backend).await;
    let beta = spawn("beta", backend).await;
    alpha.create_user("alice").await;
    beta.create_user("bob").await;
    beta.follow("bob", &alpha.handle_of("alice")).await;
    settle(&[&alpha, &beta]).await;
    let token = Api::for_user(&beta, "bob", "read").await.token.unwrap();
    let mut user = Sse::open(&beta.url("/api/v1/streaming/user"), Some(&token)).await;
    let mut remote = Sse::open(&beta.url("/api/v1/streaming/public/remote"), Some(&token)).await;
    let mut local = Sse::open(&beta.url("/api/v1/streaming/public/local"), Some(&token)).await;
    let mut ws = Ws::connect(
        &beta.domain,
        "?stream=hashtag&tag=fedi",
        WsToken::Header(&token),
    )
    .await;

    let alice = Api::for_user(&alpha, "alice", "read write").await;
    let post = alice
        .status(json!({ "status": format!("@bob@{} hello from alpha #fedi", beta.domain) }))
        .await;
    settle(&[&alpha, &beta]).await;
    let uri = post["uri"].as_str().unwrap();

    let update = expect_event(Client::Sse(&mut user), "update", |e| e.event == "update").await;
    assert_eq!(update.json()["uri"], uri, "{}", update.payload);
    assert_eq!(
        update.json()["account"]["acct"],
        alpha.handle_of("alice").as_str()
    );
    let local_id = update.status_id().unwrap();
    let notified = expect_event(Client::Sse(&mut user), "notification", |e| {
        e.event == "notification"
    })
    .await;
    assert_eq!(notified.json()["type"], "mention");
    assert_eq!(notified.status_id().as_deref(), Some(local_id.as_str()));
    let on_remote = remote.next(WITHIN).await.unwrap();
    assert_eq!(on_remote.status_id().as_deref(), Some(local_id.as_str()));
    let on_tag = ws.next(WITHIN).await.unwrap();
    assert_eq!(on_tag.stream, ["hashtag", "fedi"]);
    assert_eq!(on_tag.status_id().as_deref(), Some(local_id.as_str()));

    // Its deletion on alpha becomes `delete` on beta's streams.
    alice
        .delete(&format!(
            "/api/v1/statuses/{}",
            post["id"].as_str().unwrap()
        ))
        .await
        .ok();
    settle(&[&alpha, &beta]).await;
    let deleted = expect_event(Client::Sse(&mut user), "delete", |e| e.event == "delete").await;
    assert_eq!(deleted.payload, local_id);
    let deleted = remote.next(WITHIN).await.unwrap();
    assert_eq!(
        (deleted.event.as_str(), deleted.payload.as_str()),
        ("delete", local_id.as_str())
    );
    // Nothing of it was local.
    assert!(local.next(Duration::from_millis(300)).await.is_none());
}

both_backends!(
    server_sent_events_carry_each_event,
    streaming_errors_are_json,
    websocket_multiplexes_streams,
    streaming_urls_are_advertised,
    remote_posts_reach_the_stream,
);
