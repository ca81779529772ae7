//! A push survives a `kill -9` of the server between the notification
//! and its delivery: real `outloud serve` processes on one database.

use super::support::{Receiver, Subscriber, SUB};
use crate::{
    delivery_scale::Processes,
    harness::{both_backends, database},
};
use outloud::{
    config::{Backend, Config},
    db::local_user::Role,
    service::{
        self,
        accounts::{self, NewUser},
    },
    startup,
    urls::Urls,
};
use serde_json::{json, Value};
use std::{collections::HashMap, time::Duration};

both_backends!(push_survives_kill);

/// One instance served by `outloud serve` processes: alice subscribes,
/// bob mentions her, the server is SIGKILLed while its push is in flight
/// (the push service accepted the connection and never answered), and
/// the next process on the same database delivers the push.
async fn push_survives_kill(backend: Backend) {
    const DOMAIN: &str = "alpha.localhost";
    let database = database(backend, "push_survives_kill");
    let config = Config::for_test(DOMAIN, &database.url);
    let db = startup::open_database(&config).await.unwrap();
    let urls = Urls::new("http", DOMAIN).unwrap();
    service::instance::ensure_instance_actor(&db, &urls)
        .await
        .unwrap();
    let mut tokens = HashMap::new();
    for (name, scopes) in [("alice", "read write push"), ("bob", "read write")] {
        let actor = accounts::create_user(
            &db,
            &urls,
            NewUser {
                name,
                password: "password for tests",
                role: Role::User,
            },
        )
        .await
        .unwrap();
        let token = service::oauth::token_for_user(&db, &actor, scopes)
            .await
            .unwrap()
            .access_token;
        tokens.insert(name, token);
    }

    // A push service that accepts connections and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let push_port = silent.local_addr().unwrap().port();
    let mut processes = Processes::new();
    let port = processes.start(DOMAIN, &database.url).await;
    let client = crate::harness::http_client();
    let call = |port: u16, token: &str, method: reqwest::Method, path: &str, body: Value| {
        let request = client
            .request(method, format!("http://127.0.0.1:{port}{path}"))
            .bearer_auth(token)
            .json(&body);
        let path = path.to_string();
        async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            let text = response.text().await.unwrap();
            assert!(status.is_success(), "{path}: {status} {text}");
            serde_json::from_str::<Value>(&text).unwrap()
        }
    };
    let instance = call(
        port,
        &tokens["alice"],
        reqwest::Method::GET,
        "/api/v2/instance",
        json!({}),
    )
    .await;
    let key = instance["configuration"]["vapid"]["public_key"]
        .as_str()
        .unwrap()
        .to_string();
    let subscriber = Subscriber::new();
    let endpoint = format!("http://127.0.0.1:{push_port}/push/alice");
    call(
        port,
        &tokens["alice"],
        reqwest::Method::POST,
        SUB,
        subscriber.body(&endpoint, true, json!({"mention": true}), "all"),
    )
    .await;
    call(
        port,
        &tokens["bob"],
        reqwest::Method::POST,
        "/api/v1/statuses",
        json!({"status": "@alice survive this"}),
    )
    .await;

    // The push is on its way: the server connected and sent its request.
    let (mut socket, _) = tokio::time::timeout(Duration::from_secs(60), silent.accept())
        .await
        .expect("the server never tried to push")
        .unwrap();
    let mut head = Vec::new();
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let mut buf = [0u8; 1024];
        let n = tokio::io::AsyncReadExt::read(&mut socket, &mut buf)
            .await
            .unwrap();
        assert!(n > 0, "the connection closed before the request");
        head.extend_from_slice(&buf[..n]);
    }
    assert!(
        head.starts_with(b"POST /push/alice "),
        "{}",
        String::from_utf8_lossy(&head)
    );
    processes.kill_last();
    drop(socket);
    drop(silent);

    let queued = db
        .run(|conn| Ok(outloud::db::push::queued(conn)?))
        .await
        .unwrap();
    assert_eq!(queued, 1, "the push was lost with the process");

    // The push service is back; so is the server.
    let receiver = Receiver::start(push_port);
    processes.start(DOMAIN, &database.url).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
    let hit = loop {
        if let Some(hit) = receiver.hits().into_iter().next() {
            break hit;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the push never arrived after the restart"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(hit.path, "/push/alice");
    let payload = subscriber.open(&hit, &key);
    assert_eq!(payload["notification_type"], "mention");
    let notification_id: String = db
        .run(|conn| {
            use diesel::prelude::*;
            use outloud::db::schema::notifications;
            Ok(notifications::table
                .filter(notifications::kind.eq("mention"))
                .select(notifications::id)
                .first(conn)?)
        })
        .await
        .unwrap();
    assert_eq!(payload["notification_id"], notification_id.as_str());
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let queued = db
            .run(|conn| Ok(outloud::db::push::queued(conn)?))
            .await
            .unwrap();
        if queued == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the delivered push stayed queued"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(processes);
}
