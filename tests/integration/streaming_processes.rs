//! The streaming API across `outloud serve` processes on one PostgreSQL
//! database (docs/api.md "Streaming"): an event committed by one process
//! reaches clients connected to another, through `pg_notify` and each
//! process's `LISTEN` connection. Real binaries, as in production behind a
//! load balancer. Skipped without PostgreSQL.

use crate::{
    delivery_scale::Processes,
    harness::{database, postgres_available},
    streaming_client::{expect_event, streaming_http, Client, Sse, Ws, WsToken},
};
use outloud::{
    config::{Backend, Config},
    db::{actor::Actor, local_user::Role},
    service::{
        self,
        accounts::{self, NewUser},
    },
    startup,
    testing::TestDatabase,
    urls::Urls,
};
use reqwest::Method;
use serde_json::{json, Value};

/// One instance (one domain, never dereferenced here) served by two
/// processes; `ports.0` is where people post, `ports.1` where they read.
pub(crate) struct TwoProcesses {
    pub processes: Processes,
    pub ports: (u16, u16),
    /// Kept for the processes' lifetime (dropped after them).
    pub _database: TestDatabase,
}

/// A person and their token.
pub(crate) struct Person {
    pub actor: Actor,
    pub token: String,
}

pub(crate) const DOMAIN: &str = "alpha.localhost";

/// Migrates a fresh PostgreSQL database, creates `names` with tokens
/// (`read write follow`), and starts two processes on it; `None` (with a
/// notice) without PostgreSQL.
pub(crate) async fn two_processes(
    label: &str,
    names: &[&str],
) -> Option<(TwoProcesses, Vec<Person>)> {
    if !postgres_available(label) {
        return None;
    }
    let database = database(Backend::Postgres, label);
    let config = Config::for_test(DOMAIN, &database.url);
    let db = startup::open_database(&config).await.unwrap();
    let urls = Urls::new("http", DOMAIN).unwrap();
    service::instance::ensure_instance_actor(&db, &urls)
        .await
        .unwrap();
    let mut people = Vec::new();
    for name in names {
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
        let token = service::oauth::token_for_user(&db, &actor, "read write follow")
            .await
            .unwrap()
            .access_token;
        people.push(Person { actor, token });
    }
    let mut processes = Processes::new();
    let first = processes.start(DOMAIN, &database.url).await;
    let second = processes.start(DOMAIN, &database.url).await;
    Some((
        TwoProcesses {
            processes,
            ports: (first, second),
            _database: database,
        },
        people,
    ))
}

/// A client-API call to the process on `port`; the answer's JSON, after
/// checking it succeeded.
pub(crate) async fn rest(port: u16, token: &str, method: Method, path: &str, body: Value) -> Value {
    let response = streaming_http()
        .request(method.clone(), format!("http://127.0.0.1:{port}{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let text = response.text().await.unwrap();
    assert!(status.is_success(), "{method} {path}: {status} {text}");
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// bob reads on process 2 (server-sent events and a WebSocket) and on
/// process 1; alice posts, mentions him and deletes through process 1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_reach_other_processes() {
    let Some((mut two, people)) = two_processes("stream_processes", &["alice", "bob"]).await else {
        return;
    };
    let (alice, bob) = (&people[0], &people[1]);
    let (one, other) = two.ports;
    rest(
        one,
        &bob.token,
        Method::POST,
        &format!("/api/v1/accounts/{}/follow", alice.actor.id),
        json!({}),
    )
    .await;

    let url = |port: u16, path: &str| format!("http://127.0.0.1:{port}{path}");
    let mut user = Sse::open(&url(other, "/api/v1/streaming/user"), Some(&bob.token)).await;
    let mut here = Sse::open(&url(one, "/api/v1/streaming/user"), Some(&bob.token)).await;
    let mut public = Ws::connect(
        &format!("127.0.0.1:{other}"),
        "?stream=public",
        WsToken::Protocol(&bob.token),
    )
    .await;

    let post = rest(
        one,
        &alice.token,
        Method::POST,
        "/api/v1/statuses",
        json!({ "status": "@bob from process one" }),
    )
    .await;
    let post_id = post["id"].as_str().unwrap().to_string();
    let is = |event: &'static str| {
        let post_id = post_id.clone();
        move |e: &crate::streaming_client::Event| {
            e.event == event && e.status_id().as_deref() == Some(post_id.as_str())
        }
    };
    for stream in [&mut user, &mut here] {
        expect_event(Client::Sse(stream), "update", is("update")).await;
        let notified = expect_event(Client::Sse(stream), "notification", is("notification")).await;
        assert_eq!(notified.json()["type"], "mention");
    }
    let update = expect_event(Client::Ws(&mut public), "update on public", is("update")).await;
    assert_eq!(update.stream, ["public"]);
    assert_eq!(update.json()["account"]["acct"], "alice");

    rest(
        one,
        &alice.token,
        Method::DELETE,
        &format!("/api/v1/statuses/{post_id}"),
        json!({}),
    )
    .await;
    expect_event(Client::Sse(&mut user), "delete", is("delete")).await;
    expect_event(Client::Ws(&mut public), "delete on public", is("delete")).await;
    two.processes.assert_running();
}
