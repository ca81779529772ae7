//! The outbound delivery queue end to end: alpha enqueues, a small test
//! receiver on 127.0.0.1 checks every signature twice (with the federation
//! crate's verifier, through beta's context, and with an independent openssl
//! check) and counts what arrives; the queue is drained with
//! `deliver_due`, so every step is deterministic.

use crate::harness::{both_backends, database, eventually, TestInstance};
use activitypub_federation::{config::FederationConfig, fetch::object_id::ObjectId};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use outloud::{
    config::Backend,
    db::{actor::Actor, now},
    delivery::{self, Inbox},
    service::deliveries::{self, Status},
    Context,
};
use std::{
    collections::{BTreeMap, HashMap, VecDeque},
    process::Command,
    sync::{Arc, Mutex},
};
use url::Url;

both_backends!(
    delivers_each_target_once_with_valid_signatures,
    background_workers_deliver_without_draining,
    retries_server_errors_and_drops_rejections,
    admin_command_lists_and_revives,
);

/// One POST the receiver got.
#[derive(Debug, Clone)]
struct Hit {
    host: String,
    path: String,
    body: String,
    crate_verdict: Result<(), String>,
    openssl_verdict: Result<(), String>,
}

struct ReceiverState {
    /// Beta's federation config: the crate's verifier needs a context to
    /// fetch the signer's actor (from alpha, over HTTP).
    verifier: FederationConfig<Context>,
    /// The public key the independent check expects.
    public_key_pem: String,
    hits: Mutex<Vec<Hit>>,
    /// Scripted statuses per path, then 202.
    script: Mutex<HashMap<String, VecDeque<u16>>>,
}

struct Receiver {
    port: u16,
    state: Arc<ReceiverState>,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

impl Receiver {
    /// Starts a receiver that verifies with `verifier`'s context, expecting
    /// signatures by `signer`.
    async fn start(verifier: &TestInstance, signer: &Actor) -> Receiver {
        // Resolve the signer once up front. Concurrent first fetches of one
        // remote actor currently race in `Actor::from_json` (a duplicate-key
        // error on PostgreSQL, reported separately), which is not what this
        // file tests.
        let data = verifier.data();
        ObjectId::<Actor>::from(signer.ap_id.0.clone())
            .dereference(&data)
            .await
            .unwrap();
        let public_key_pem = signer.public_key_pem.as_str();
        let state = Arc::new(ReceiverState {
            verifier: verifier.federation.clone(),
            public_key_pem: public_key_pem.to_string(),
            hits: Mutex::new(Vec::new()),
            script: Mutex::new(HashMap::new()),
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let app_state = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(app_state.clone()))
                .default_service(web::post().to(receive))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Receiver {
            port,
            state,
            handle,
        }
    }

    /// `http://{name}.localhost:PORT{path}`
    fn url(&self, name: &str, path: &str) -> Url {
        Url::parse(&format!("http://{name}.localhost:{}{path}", self.port)).unwrap()
    }

    fn script(&self, path: &str, statuses: &[u16]) {
        self.state
            .script
            .lock()
            .unwrap()
            .insert(path.to_string(), statuses.iter().copied().collect());
    }

    fn hits(&self) -> Vec<Hit> {
        self.state.hits.lock().unwrap().clone()
    }
}

async fn receive(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<Arc<ReceiverState>>,
) -> HttpResponse {
    let data = state.verifier.to_request_data();
    let crate_verdict =
        activitypub_federation::actix_web::signing_actor::<Actor>(&req, Some(body.clone()), &data)
            .await
            .map(|_| ())
            .map_err(|e| format!("{e:?}"));
    let headers: BTreeMap<String, String> = req
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let path_and_query = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let openssl_verdict = delivery::sign::verify_with_openssl(
        req.method().as_str(),
        &path_and_query,
        &headers,
        &body,
        &state.public_key_pem,
    )
    .map(|_| ());
    let path = req.path().to_string();
    state.hits.lock().unwrap().push(Hit {
        host: headers.get("host").cloned().unwrap_or_default(),
        path: path.clone(),
        body: String::from_utf8_lossy(&body).to_string(),
        crate_verdict,
        openssl_verdict,
    });
    let status = state
        .script
        .lock()
        .unwrap()
        .get_mut(&path)
        .and_then(VecDeque::pop_front)
        .unwrap_or(202);
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).finish()
}

/// Queues `json` from `sender` to `inboxes` the way a service function does:
/// inside a transaction.
async fn enqueue(
    instance: &TestInstance,
    sender: &Actor,
    json: serde_json::Value,
    inboxes: Vec<Inbox>,
) -> delivery::Enqueued {
    let sender_id = sender.id.clone();
    let id = Url::parse(json["id"].as_str().unwrap()).unwrap();
    instance
        .context
        .db
        .transaction(move |conn| delivery::enqueue(conn, &sender_id, &id, &json, inboxes))
        .await
        .unwrap()
}

fn create_note(instance: &TestInstance, actor: &Actor, n: u32) -> serde_json::Value {
    serde_json::json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": instance.url(&format!("/activities/test-{n}")),
        "type": "Create",
        "actor": actor.ap_id.as_str(),
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": {
            "id": instance.url(&format!("/objects/test-{n}")),
            "type": "Note",
            "attributedTo": actor.ap_id.as_str(),
            "content": "hello",
        },
    })
}

async fn delivers_each_target_once_with_valid_signatures(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    let alice = alpha.create_user("alice").await;
    let receiver = Receiver::start(&beta, &alice).await;
    let shared = receiver.url("r1", "/inbox");
    let inboxes = vec![
        // Two recipients on r1 share one inbox: one POST.
        Inbox::new(receiver.url("r1", "/users/a/inbox"), Some(shared.clone())),
        Inbox::new(receiver.url("r1", "/users/b/inbox"), Some(shared.clone())),
        // r2 offers no shared inbox: one POST per recipient, duplicates once.
        Inbox::new(receiver.url("r2", "/users/c/inbox"), None),
        Inbox::new(receiver.url("r2", "/users/d/inbox"), None),
        Inbox::new(receiver.url("r2", "/users/d/inbox"), None),
        // Local recipients are never POSTed to.
        Inbox::new(
            Url::parse(&alpha.url("/users/bob/inbox")).unwrap(),
            Some(Url::parse(&alpha.url("/inbox")).unwrap()),
        ),
    ];
    let json = create_note(&alpha, &alice, 1);
    let queued = enqueue(&alpha, &alice, json.clone(), inboxes).await;
    assert_eq!(queued.queued, 3);

    let report = alpha.drain_deliveries().await;
    assert_eq!(
        (report.delivered, report.retrying, report.failed),
        (3, 0, 0)
    );
    // Nothing is due any more, and nothing arrives twice.
    assert!(alpha.drain_deliveries().await.is_idle());

    let mut hits = receiver.hits();
    hits.sort_by(|a, b| (&a.host, &a.path).cmp(&(&b.host, &b.path)));
    let port = receiver.port;
    let targets: Vec<(String, String)> = hits
        .iter()
        .map(|h| (h.host.clone(), h.path.clone()))
        .collect();
    assert_eq!(
        targets,
        vec![
            (format!("r1.localhost:{port}"), "/inbox".to_string()),
            (format!("r2.localhost:{port}"), "/users/c/inbox".to_string()),
            (format!("r2.localhost:{port}"), "/users/d/inbox".to_string()),
        ]
    );
    for hit in &hits {
        assert_eq!(
            hit.crate_verdict,
            Ok(()),
            "federation crate rejected {hit:?}"
        );
        assert_eq!(
            hit.openssl_verdict,
            Ok(()),
            "openssl check rejected {hit:?}"
        );
        let body: serde_json::Value = serde_json::from_str(&hit.body).unwrap();
        assert_eq!(body, json);
    }

    // The author can see what reached whom.
    let id = Url::parse(json["id"].as_str().unwrap()).unwrap();
    let status = deliveries::activity_status(&alpha.context.db, &id)
        .await
        .unwrap();
    assert_eq!(status.len(), 3);
    assert!(status.iter().all(|s| s.status == Status::Delivered));
    assert!(status.iter().all(|s| s.last_status == Some(202)));

    let metrics = alpha.get("/metrics").await.text().await.unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l == "outloud_deliveries_sent_total 3"),
        "{metrics}"
    );
    assert!(metrics
        .lines()
        .any(|l| l == "outloud_delivery_queue_depth 0"));
}

async fn retries_server_errors_and_drops_rejections(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    let alice = alpha.create_user("alice").await;
    let receiver = Receiver::start(&beta, &alice).await;
    receiver.script("/flaky/inbox", &[500]);
    receiver.script("/gone/inbox", &[410]);
    // A port nobody listens on: connection refused, retried later.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let dead = Url::parse(&format!("http://dead.localhost:{closed_port}/inbox")).unwrap();
    let json = create_note(&alpha, &alice, 2);
    enqueue(
        &alpha,
        &alice,
        json.clone(),
        vec![
            Inbox::new(receiver.url("flaky", "/flaky/inbox"), None),
            Inbox::new(receiver.url("gone", "/gone/inbox"), None),
            Inbox::new(dead.clone(), None),
        ],
    )
    .await;

    let first = alpha.drain_deliveries().await;
    assert_eq!((first.delivered, first.retrying, first.failed), (0, 2, 1));
    assert_eq!(receiver.hits().len(), 2);
    let id = Url::parse(json["id"].as_str().unwrap()).unwrap();
    let by_host = |status: &[deliveries::DeliveryStatus], host: &str| {
        status
            .iter()
            .find(|s| s.host.starts_with(host))
            .cloned()
            .unwrap()
    };
    let status = deliveries::activity_status(&alpha.context.db, &id)
        .await
        .unwrap();
    let flaky = by_host(&status, "flaky.");
    assert_eq!(flaky.status, Status::Queued);
    assert_eq!((flaky.attempts, flaky.last_status), (1, Some(500)));
    let gone = by_host(&status, "gone.");
    assert_eq!((gone.status, gone.last_status), (Status::Failed, Some(410)));
    assert_eq!(by_host(&status, "dead.").status, Status::Queued);
    // The retry is a minute or so away; a minute and a half later it is due.
    let later = now() + chrono::TimeDelta::seconds(90);
    let second = delivery::deliver_due_at(&alpha.context, later)
        .await
        .unwrap();
    assert_eq!(
        (second.delivered, second.retrying, second.failed),
        (1, 1, 0)
    );
    let hits = receiver.hits();
    assert_eq!(hits.len(), 3);
    assert!(
        hits.iter()
            .all(|h| h.crate_verdict.is_ok() && h.openssl_verdict.is_ok()),
        "{hits:#?}"
    );
    let status = deliveries::activity_status(&alpha.context.db, &id)
        .await
        .unwrap();
    assert_eq!(by_host(&status, "flaky.").status, Status::Delivered);
    let dead_status = by_host(&status, "dead.");
    assert_eq!(dead_status.attempts, 2);
    // Seconds after the refusal, the host is not tried again: the attempt
    // counts, without a signature or a connection.
    let error = dead_status.last_error.unwrap();
    assert!(error.contains("not tried"), "{error}");

    // The inbox hears from the dead host: its delivery is due at once.
    let dead_host = format!("dead.localhost:{closed_port}");
    let revived = alpha
        .context
        .db
        .run(move |conn| delivery::host_seen_alive(conn, &dead_host))
        .await
        .unwrap();
    assert!(revived);
    let third = alpha.drain_deliveries().await;
    assert_eq!(third.claimed, 1);

    // What the operator sees.
    let url = alpha.context.config.database.url.clone();
    let (ok, text) = outloud(&["admin", "deliveries"], &url);
    assert!(ok, "{text}");
    for needle in [
        "dead.localhost",
        "gone.localhost",
        "flaky.localhost",
        "rejected with HTTP 410",
    ] {
        assert!(text.contains(needle), "no `{needle}` in\n{text}");
    }
    let dead_host = format!("dead.localhost:{closed_port}");
    let (ok, text) = outloud(&["admin", "deliveries", "--host", &dead_host], &url);
    assert!(ok, "{text}");
    assert!(
        text.contains("dead.localhost") && !text.contains("flaky.localhost"),
        "{text}"
    );

    let metrics = alpha.get("/metrics").await.text().await.unwrap();
    for line in [
        "outloud_deliveries_sent_total 1",
        "outloud_deliveries_failed_total{reason=\"rejected\"} 1",
        "outloud_deliveries_retried_total 4",
        "outloud_delivery_queue_depth 1",
    ] {
        assert!(
            metrics.lines().any(|l| l == line),
            "no `{line}` in\n{metrics}"
        );
    }
}

fn outloud(args: &[&str], database_url: &str) -> (bool, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_outloud"));
    cmd.args(args)
        .env_remove("OUTLOUD_CONFIG")
        .env("RUST_LOG", "warn")
        .env("OUTLOUD_DATABASE__URL", database_url);
    for (name, _) in std::env::vars().filter(|(n, _)| {
        n.starts_with("OUTLOUD_") && n != "OUTLOUD_DATABASE__URL" && !n.starts_with("OUTLOUD_TEST")
    }) {
        cmd.env_remove(name);
    }
    let out = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

async fn admin_command_lists_and_revives(backend: Backend) {
    let db = database(backend, "admin_deliveries");
    let (ok, text) = outloud(&["admin", "deliveries"], &db.url);
    assert!(ok, "{text}");
    assert!(text.contains("no deliveries"), "{text}");
    let (ok, text) = outloud(&["admin", "deliveries", "--revive", "x.example"], &db.url);
    assert!(ok, "{text}");
    assert!(text.contains("nothing to revive"), "{text}");
    let (ok, text) = outloud(
        &[
            "admin",
            "deliveries",
            "--revive",
            "x.example",
            "--host",
            "y",
        ],
        &db.url,
    );
    assert!(!ok, "{text}");
}

/// The loop `outloud serve` runs: no draining, the worker finds and sends
/// the row by itself.
async fn background_workers_deliver_without_draining(backend: Backend) {
    let alpha_db = database(backend, "background_workers");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let domain = format!("alpha.localhost:{}", listener.local_addr().unwrap().port());
    let server = outloud::startup::build_with_listener(
        outloud::Config::for_test(&domain, &alpha_db.url),
        listener,
        outloud::ServerOptions {
            workers: Some(1),
            handle_signals: false,
            delivery_workers: true,
        },
    )
    .await
    .unwrap();
    let context = server.context.clone();
    let handle = server.handle();
    tokio::spawn(server.run_until_stopped());
    let beta = TestInstance::spawn("beta", backend).await;
    let alice = outloud::service::accounts::create_user(
        &context.db,
        &context.urls,
        outloud::service::accounts::NewUser {
            name: "alice",
            password: "password for tests",
            role: outloud::db::local_user::Role::User,
        },
    )
    .await
    .unwrap();
    let receiver = Receiver::start(&beta, &alice).await;
    let sender_id = alice.id.clone();
    let activity = Url::parse(&format!("http://{domain}/activities/bg")).unwrap();
    let json = serde_json::json!({ "id": activity.as_str(), "type": "Create", "actor": alice.ap_id.as_str() });
    let inboxes = vec![Inbox::new(receiver.url("r1", "/inbox"), None)];
    context
        .db
        .transaction(move |conn| delivery::enqueue(conn, &sender_id, &activity, &json, inboxes))
        .await
        .unwrap();
    context.delivery.wake();
    let hits = eventually(std::time::Duration::from_secs(60), || {
        let hits = receiver.hits();
        async move { (!hits.is_empty()).then_some(hits) }
    })
    .await;
    assert_eq!(hits.len(), 1);
    assert!(hits[0].crate_verdict.is_ok() && hits[0].openssl_verdict.is_ok());
    // Recorded as delivered, and sent only once.
    eventually(std::time::Duration::from_secs(60), || {
        let ctx = context.clone();
        async move { (ctx.delivery.metrics.sent() == 1).then_some(()) }
    })
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    assert_eq!(receiver.hits().len(), 1);
    drop(handle.stop(false));
}
