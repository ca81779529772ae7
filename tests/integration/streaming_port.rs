//! The streaming port (`[streaming] bind`, docs/api.md "Streaming"): the
//! same streams as on `http.bind`, served by the lean listener of
//! `api::streaming::port`, and the URL the instance advertises for it.
//! masto.js's streaming client reads from it as from Mastodon's
//! streaming server.

use crate::{
    api_client::Api,
    harness::{both_backends, TestInstance},
    streaming_client::{Sse, Ws, WsToken, WITHIN},
    streaming_masto,
};
use outloud::config::Backend;
use serde_json::{json, Value};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// An instance with a streaming port; its address.
async fn spawn(name: &str, backend: Backend) -> (TestInstance, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let bind = addr.clone();
    let instance = TestInstance::spawn_with(name, backend, move |c| {
        c.streaming.heartbeat_secs = 1;
        c.streaming.url = format!("ws://{bind}");
        c.streaming.bind = bind;
    })
    .await;
    (instance, addr)
}

/// Sends `request` as it is and reads the answer until the server closes.
async fn raw(addr: &str, request: &[u8]) -> String {
    let mut socket = tokio::net::TcpStream::connect(addr).await.unwrap();
    socket.write_all(request).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(WITHIN, socket.read_to_end(&mut answer))
        .await
        .expect("the streaming port did not close a refused request")
        .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

fn status_line(answer: &str) -> &str {
    answer.lines().next().unwrap_or_default()
}

fn body_json(answer: &str) -> Value {
    let body = answer.split_once("\r\n\r\n").unwrap().1;
    serde_json::from_str(body).unwrap_or_else(|e| panic!("not JSON ({e}): {answer}"))
}

/// Both transports carry events on the port; the advertised URLs name it;
/// revoking the token ends the stream at the next heartbeat.
async fn streaming_port_serves_streams(backend: Backend) {
    let (alpha, addr) = spawn("alpha", backend).await;
    for name in ["alice", "bob"] {
        alpha.create_user(name).await;
    }
    alpha.follow("bob", &alpha.handle_of("alice")).await;
    let alice = Api::for_user(&alpha, "alice", "read write").await;
    let bob = Api::for_user(&alpha, "bob", "read write")
        .await
        .token
        .unwrap();

    let v1 = Api::anonymous(&alpha).get("/api/v1/instance").await.ok();
    assert_eq!(v1["urls"]["streaming_api"], format!("ws://{addr}"));
    let v2 = Api::anonymous(&alpha).get("/api/v2/instance").await.ok();
    assert_eq!(
        v2["configuration"]["urls"]["streaming"],
        format!("ws://{addr}")
    );

    let health = raw(
        &addr,
        b"GET /api/v1/streaming/health HTTP/1.1\r\nHost: x\r\n\r\n",
    )
    .await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health.ends_with("\r\n\r\nOK"), "{health}");

    let mut sse = Sse::open(&format!("http://{addr}/api/v1/streaming/user"), Some(&bob)).await;
    let mut ws = Ws::connect(&addr, "?stream=user", WsToken::Header(&bob)).await;
    // Subscribing by message, with the token in the subprotocol (as
    // browsers send it, echoed back).
    let mut tagged = Ws::connect(&addr, "", WsToken::Protocol(&bob)).await;
    assert_eq!(
        tagged.headers.get("sec-websocket-protocol").unwrap(),
        bob.as_str()
    );
    tagged
        .send(json!({ "type": "subscribe", "stream": "hashtag", "tag": "rust" }))
        .await;
    tagged
        .send(json!({ "type": "subscribe", "stream": "nonsense" }))
        .await;
    let error = tagged.next_error(WITHIN).await.expect("an error frame");
    assert_eq!(error["status"], 400, "{error}");

    let posted = alice
        .status(json!({ "status": "Learning #rust on the streaming port" }))
        .await;
    let id = posted["id"].as_str().unwrap();
    for (name, event) in [
        ("sse", sse.next(WITHIN).await),
        ("ws", ws.next(WITHIN).await),
        ("ws hashtag", tagged.next(WITHIN).await),
    ] {
        let event = event.unwrap_or_else(|| panic!("{name}: no event"));
        assert_eq!(event.event, "update", "{name}");
        assert_eq!(event.status_id().as_deref(), Some(id), "{name}");
    }
    alice.delete(&format!("/api/v1/statuses/{id}")).await.ok();
    let gone = sse.next(WITHIN).await.expect("a delete event");
    assert_eq!((gone.event.as_str(), gone.payload.as_str()), ("delete", id));

    // Heartbeats come on both.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    ws.drain(Duration::from_millis(300)).await;
    assert!(ws.pings > 0, "no WebSocket ping in 1.5 s");

    // Suspending bob (as `outloud admin suspend` does) revokes his tokens:
    // his streams end within a heartbeat.
    let bob_id = alpha.local("bob").await.id;
    outloud::service::suspension::set_suspended(
        &alpha.data(),
        outloud::service::suspension::Suspender::Operator,
        &bob_id,
        true,
    )
    .await
    .unwrap();
    assert!(
        sse.ended(Duration::from_secs(5)).await,
        "a suspended account's SSE stream stayed open"
    );
    assert!(
        ws.next(Duration::from_secs(5)).await.is_none(),
        "a suspended account's WebSocket stayed open"
    );
}

both_backends!(streaming_port_serves_streams);

/// Bad requests get Mastodon's `{"error": …}` with the right status, and
/// the connection is closed.
async fn streaming_port_refuses_bad_requests(backend: Backend) {
    let (alpha, addr) = spawn("alpha", backend).await;
    alpha.create_user("bob").await;
    let bob = Api::for_user(&alpha, "bob", "read").await.token.unwrap();
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (
            b"GET /api/v1/streaming/user HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
            "401",
        ),
        (
            b"GET /api/v1/streaming/user HTTP/1.1\r\nAuthorization: Bearer nope\r\n\r\n".to_vec(),
            "401",
        ),
        (
            format!("GET /api/v1/streaming/nonsense HTTP/1.1\r\nAuthorization: Bearer {bob}\r\n\r\n")
                .into_bytes(),
            "400",
        ),
        (
            format!("GET /api/v1/streaming/hashtag HTTP/1.1\r\nAuthorization: Bearer {bob}\r\n\r\n")
                .into_bytes(),
            "400",
        ),
        (
            format!("GET /api/v1/streaming/list?list=999 HTTP/1.1\r\nAuthorization: Bearer {bob}\r\n\r\n")
                .into_bytes(),
            "404",
        ),
        (b"GET /api/v1/timelines/home HTTP/1.1\r\n\r\n".to_vec(), "404"),
        (b"POST /api/v1/streaming/user HTTP/1.1\r\nContent-Length: 0\r\n\r\n".to_vec(), "405"),
        (
            format!("GET /api/v1/streaming HTTP/1.1\r\nAuthorization: Bearer {bob}\r\n\r\n")
                .into_bytes(),
            "400",
        ),
        (
            b"GET /api/v1/streaming HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
              Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n"
                .to_vec(),
            "426",
        ),
        (b"GARBAGE\x01\x02 nonsense\r\n\r\n".to_vec(), "400"),
        (
            format!(
                "GET /api/v1/streaming/user HTTP/1.1\r\nX-Big: {}\r\n\r\n",
                "a".repeat(20_000)
            )
            .into_bytes(),
            "431",
        ),
    ];
    for (request, status) in cases {
        let answer = raw(&addr, &request).await;
        let shown = String::from_utf8_lossy(&request[..request.len().min(80)]).into_owned();
        assert!(
            status_line(&answer).starts_with(&format!("HTTP/1.1 {status} ")),
            "{shown:?} → {answer}"
        );
        assert!(
            body_json(&answer)["error"]
                .as_str()
                .is_some_and(|e| !e.is_empty()),
            "{shown:?} → {answer}"
        );
    }
    // A WebSocket without a token is refused before the handshake.
    let refused = Ws::try_connect(&addr, "?stream=user", WsToken::None).await;
    assert_eq!(refused.err().map(|r| r.status().as_u16()), Some(401));
    // The port still serves after all that.
    Sse::open(&format!("http://{addr}/api/v1/streaming/user"), Some(&bob)).await;
}

both_backends!(streaming_port_refuses_bad_requests);

/// masto.js's `createStreamingAPIClient`, pointed at the advertised
/// streaming URL (the port), gets every event the scenario expects.
async fn masto_streaming_client_on_the_port(backend: Backend) {
    let (alpha, addr) = spawn("alpha", backend).await;
    let tokens = streaming_masto::people(&alpha).await;
    let instance = Api::anonymous(&alpha).get("/api/v1/instance").await.ok();
    let advertised = instance["urls"]["streaming_api"].as_str().unwrap();
    assert_eq!(advertised, format!("ws://{addr}"));
    let port: u16 = alpha.domain.rsplit_once(':').unwrap().1.parse().unwrap();
    streaming_masto::scenario(port, advertised, [&tokens[0], &tokens[1], &tokens[2]]).await;
}

both_backends!(masto_streaming_client_on_the_port);
