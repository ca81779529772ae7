//! The delivery queue under real `outloud serve` processes (docs/delivery.md,
//! docs/performance.md):
//!
//! - `two_processes_share_the_queue`: two processes on one PostgreSQL send
//!   every row exactly once (skipped without PostgreSQL).
//! - `delivery_soak` (ignored; run it with
//!   `cargo test --release --test integration -- --ignored delivery_soak --nocapture`):
//!   10,000 deliveries to 100 inboxes on 100 hosts while the sender is
//!   killed with SIGKILL three times and restarted; every delivery arrives
//!   at least once, the receiver keeps one copy, and the queue empties.
//!
//! The receiver counts every POST per (inbox, activity id) and checks every
//! signature with the independent openssl verifier.

use crate::harness::{database, http_client, postgres_available};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use outloud::{
    config::{Backend, Config},
    db::{actor::Actor, delivery::Delivery as Row, local_user::Role, Db},
    delivery::{self, Inbox},
    service::{
        self,
        accounts::{self, NewUser},
    },
    startup,
    testing::TestDatabase,
    urls::Urls,
};
use std::{
    collections::{BTreeMap, HashMap},
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};
use url::Url;

/// What the counting receiver saw.
#[derive(Default)]
struct Seen {
    /// POSTs per (host, path, activity id).
    copies: HashMap<(String, String, String), u32>,
}

struct CountingState {
    public_key_pem: String,
    seen: Mutex<Seen>,
    posts: AtomicU64,
    bad_signatures: AtomicU64,
    /// Answer delay, to keep sends in flight for a while.
    delay: Duration,
}

struct CountingReceiver {
    port: u16,
    state: Arc<CountingState>,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for CountingReceiver {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

impl CountingReceiver {
    async fn start(public_key_pem: &str, delay: Duration) -> CountingReceiver {
        let state = Arc::new(CountingState {
            public_key_pem: public_key_pem.to_string(),
            seen: Mutex::new(Seen::default()),
            posts: AtomicU64::new(0),
            bad_signatures: AtomicU64::new(0),
            delay,
        });
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let app_state = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(app_state.clone()))
                .default_service(web::post().to(count))
        })
        .workers(2)
        .backlog(4096)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        CountingReceiver {
            port,
            state,
            handle,
        }
    }

    fn inbox(&self, host: &str, path: &str) -> Url {
        Url::parse(&format!("http://{host}.localhost:{}{path}", self.port)).unwrap()
    }

    fn posts(&self) -> u64 {
        self.state.posts.load(Ordering::Relaxed)
    }

    fn bad_signatures(&self) -> u64 {
        self.state.bad_signatures.load(Ordering::Relaxed)
    }

    /// (distinct deliveries, extra copies beyond the first)
    fn distinct_and_duplicates(&self) -> (usize, u64) {
        let seen = self.state.seen.lock().unwrap();
        let duplicates = seen.copies.values().map(|&n| u64::from(n - 1)).sum();
        (seen.copies.len(), duplicates)
    }

    fn copies(&self) -> HashMap<(String, String, String), u32> {
        self.state.seen.lock().unwrap().copies.clone()
    }
}

async fn count(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<Arc<CountingState>>,
) -> HttpResponse {
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
    if delivery::sign::verify_with_openssl(
        "POST",
        &path_and_query,
        &headers,
        &body,
        &state.public_key_pem,
    )
    .is_err()
    {
        state.bad_signatures.fetch_add(1, Ordering::Relaxed);
        return HttpResponse::Unauthorized().finish();
    }
    let id = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v["id"].as_str().map(str::to_string))
        .unwrap_or_default();
    let key = (
        headers.get("host").cloned().unwrap_or_default(),
        req.path().to_string(),
        id,
    );
    if !state.delay.is_zero() {
        tokio::time::sleep(state.delay).await;
    }
    // Idempotence as a receiver practises it: the first copy is kept, later
    // ones are acknowledged and counted, nothing more.
    *state.seen.lock().unwrap().copies.entry(key).or_default() += 1;
    state.posts.fetch_add(1, Ordering::Relaxed);
    HttpResponse::Accepted().finish()
}

/// `outloud serve` child processes, killed (SIGKILL) when the test ends,
/// however it ends. Also used by the streaming tests
/// (tests/integration/streaming_processes.rs).
pub(crate) struct Processes {
    children: Vec<(u16, Child)>,
    log_dir: tempfile::TempDir,
    /// More `OUTLOUD_…` settings for the processes started from now on.
    extra_env: Vec<(String, String)>,
}

impl Processes {
    pub(crate) fn new() -> Processes {
        Processes {
            children: Vec::new(),
            log_dir: tempfile::tempdir().unwrap(),
            extra_env: Vec::new(),
        }
    }

    /// Starts `outloud serve` for `domain` on `database_url`, listening on
    /// 127.0.0.1:`port`, with its background delivery workers.
    pub(crate) fn serve(&mut self, domain: &str, database_url: &str, port: u16) {
        let n = self.children.len();
        let log =
            std::fs::File::create(self.log_dir.path().join(format!("serve-{n}.log"))).unwrap();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_outloud"));
        cmd.arg("serve")
            .env_remove("OUTLOUD_CONFIG")
            .env("RUST_LOG", "warn")
            .env("OUTLOUD_DATABASE__URL", database_url)
            .env("OUTLOUD_DATABASE__POOL_SIZE", "4")
            .env("OUTLOUD_HTTP__BIND", format!("127.0.0.1:{port}"))
            .env("OUTLOUD_INSTANCE__DOMAIN", domain)
            .env("OUTLOUD_FEDERATION__DEV_MODE", "true")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log);
        for (name, _) in std::env::vars().filter(|(n, _)| {
            n.starts_with("OUTLOUD_") && !n.starts_with("OUTLOUD_TEST") && n != "OUTLOUD_CONFIG"
        }) {
            if !matches!(
                name.as_str(),
                "OUTLOUD_DATABASE__URL"
                    | "OUTLOUD_DATABASE__POOL_SIZE"
                    | "OUTLOUD_HTTP__BIND"
                    | "OUTLOUD_INSTANCE__DOMAIN"
                    | "OUTLOUD_FEDERATION__DEV_MODE"
            ) {
                cmd.env_remove(name);
            }
        }
        cmd.envs(self.extra_env.iter().map(|(k, v)| (k, v)));
        self.children.push((port, cmd.spawn().unwrap()));
    }

    /// Sets `name` (an `OUTLOUD_…` variable) for the processes started
    /// from now on.
    pub(crate) fn set_env(&mut self, name: &str, value: &str) {
        self.extra_env.push((name.to_string(), value.to_string()));
    }

    /// SIGKILLs the most recent process: no shutdown, no cleanup.
    pub(crate) fn kill_last(&mut self) {
        if let Some((_, child)) = self.children.last_mut() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }

    /// Starts `outloud serve` for `domain` on a free port and waits until
    /// it answers; returns the port. A port taken between choosing it and
    /// the child binding it (the child exits with "Address already in
    /// use") is given up for another one.
    pub(crate) async fn start(&mut self, domain: &str, database_url: &str) -> u16 {
        for _ in 0..10 {
            let port = free_port();
            self.serve(domain, database_url, port);
            match self.ready(port).await {
                Ok(()) => return port,
                Err(log) if log.contains("Address already in use") => {
                    eprintln!("port {port} was taken meanwhile; trying another");
                    self.children.pop();
                }
                Err(log) => panic!("outloud serve on port {port} exited:\n{log}"),
            }
        }
        panic!("no free port for outloud serve after 10 tries");
    }

    /// Waits until the most recent process answers `GET /readyz`; its log
    /// when it exited instead.
    async fn ready(&mut self, port: u16) -> Result<(), String> {
        let client = http_client();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let n = self.children.len() - 1;
            if let Some(status) = self.children[n].1.try_wait().unwrap() {
                let path = self.log_dir.path().join(format!("serve-{n}.log"));
                let log = std::fs::read_to_string(path).unwrap_or_default();
                return Err(format!("exit {status}: {log}"));
            }
            let ready = client
                .get(format!("http://127.0.0.1:{port}/readyz"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                return Ok(());
            }
            assert!(
                Instant::now() < deadline,
                "outloud serve on port {port} did not become ready:\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Fails the test when a process exited by itself.
    pub(crate) fn assert_running(&mut self) {
        for (i, (_, child)) in self.children.iter_mut().enumerate() {
            if let Some(status) = child.try_wait().unwrap() {
                if status.success() || status.code().is_some() {
                    panic!("outloud serve #{i} exited with {status}:\n{}", self.logs());
                }
            }
        }
    }

    pub(crate) fn logs(&self) -> String {
        let mut text = String::new();
        for n in 0..self.children.len() {
            let path = self.log_dir.path().join(format!("serve-{n}.log"));
            text.push_str(&format!("--- serve #{n} ---\n"));
            text.push_str(&std::fs::read_to_string(path).unwrap_or_default());
        }
        text
    }
}

impl Drop for Processes {
    fn drop(&mut self) {
        for (_, child) in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A port on 127.0.0.1 that was free a moment ago, for a child process to
/// bind. Chosen at random below the kernel's ephemeral range (32768 and
/// up on Linux), where the ports every other test binds (`:0`) and every
/// outgoing connection takes come from: a port released by `bind(:0)`
/// is soon handed out again, which is how these tests used to collide.
/// [`Processes::start`] retries the rare port taken meanwhile anyway.
fn free_port() -> u16 {
    loop {
        let random = u16::from_le_bytes(uuid::Uuid::new_v4().as_bytes()[..2].try_into().unwrap());
        let port = 20_000 + random % 12_000;
        if std::net::TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// Migrates `database`, creates the instance actor and a sender, as the
/// first `outloud serve` would; returns the pool and the sender.
async fn prepare(database: &TestDatabase, domain: &str) -> (Db, Actor) {
    let config = Config::for_test(domain, &database.url);
    let db = startup::open_database(&config).await.unwrap();
    let urls = Urls::new("http", domain).unwrap();
    service::instance::ensure_instance_actor(&db, &urls)
        .await
        .unwrap();
    let sender = accounts::create_user(
        &db,
        &urls,
        NewUser {
            name: "alice",
            password: "password for tests",
            role: Role::User,
        },
    )
    .await
    .unwrap();
    (db, sender)
}

fn activity(domain: &str, sender: &Actor, n: usize) -> (Url, serde_json::Value) {
    let id = Url::parse(&format!("http://{domain}/activities/scale-{n}")).unwrap();
    let json = serde_json::json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": id.as_str(),
        "type": "Create",
        "actor": sender.ap_id.as_str(),
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": {
            "id": format!("http://{domain}/objects/scale-{n}"),
            "type": "Note",
            "attributedTo": sender.ap_id.as_str(),
            "content": format!("note {n}"),
        },
    });
    (id, json)
}

async fn enqueue(db: &Db, sender: &Actor, id: Url, json: serde_json::Value, inboxes: Vec<Inbox>) {
    let sender_id = sender.id.clone();
    db.transaction(move |conn| delivery::enqueue(conn, &sender_id, &id, &json, inboxes))
        .await
        .unwrap();
}

/// `(queued including parked, delivered)` rows.
async fn queue_state(db: &Db) -> (i64, i64) {
    db.run(|conn| {
        let (queued, parked) = Row::queue_depth(conn)?;
        let delivered = Row::counts_by_host(conn, None)?
            .into_iter()
            .filter(|(_, state, _)| state == "delivered")
            .map(|(_, _, n)| n)
            .sum();
        Ok((queued + parked, delivered))
    })
    .await
    .unwrap()
}

/// `outloud_deliveries_sent_total` of the process on `port`.
async fn sent_by(port: u16) -> u64 {
    let text = http_client()
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("outloud_deliveries_sent_total "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no sent counter in\n{text}"))
}

/// Two `outloud serve` processes on one PostgreSQL: 400 deliveries, queued
/// while both run, each sent exactly once, and both processes took part.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_the_queue() {
    if !postgres_available("two_processes_share_the_queue") {
        return;
    }
    const ACTIVITIES: usize = 40;
    const HOSTS: usize = 10;
    let database = database(Backend::Postgres, "two_processes");
    // One instance behind a load balancer: one domain (the balancer's,
    // never dereferenced here), two processes on ports of their own.
    let domain = "alpha.localhost";
    let (db, sender) = prepare(&database, domain).await;
    let receiver = CountingReceiver::start(&sender.public_key_pem, Duration::from_millis(25)).await;
    let mut processes = Processes::new();
    let port_a = processes.start(domain, &database.url).await;
    let port_b = processes.start(domain, &database.url).await;

    // Activities trickle in over two seconds, so both processes' polls find
    // work; each goes to one personal inbox on each of ten hosts.
    for n in 0..ACTIVITIES {
        let (id, json) = activity(domain, &sender, n);
        let inboxes = (0..HOSTS)
            .map(|h| Inbox::new(receiver.inbox(&format!("r{h}"), "/users/u/inbox"), None))
            .collect();
        enqueue(&db, &sender, id, json, inboxes).await;
        if n % 2 == 1 {
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    let expected = ACTIVITIES * HOSTS;
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        processes.assert_running();
        let (queued, delivered) = queue_state(&db).await;
        if queued == 0 && delivered == expected as i64 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "queue did not empty: {queued} queued, {delivered} delivered, {} received\n{}",
            receiver.posts(),
            processes.logs()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Late duplicates would arrive within a poll interval or two.
    tokio::time::sleep(Duration::from_millis(1500)).await;

    assert_eq!(receiver.bad_signatures(), 0);
    let copies = receiver.copies();
    assert_eq!(copies.len(), expected, "distinct deliveries");
    let twice: Vec<_> = copies.iter().filter(|(_, &n)| n != 1).collect();
    assert!(twice.is_empty(), "sent more than once: {twice:?}");
    assert_eq!(receiver.posts(), expected as u64);
    let (a, b) = (sent_by(port_a).await, sent_by(port_b).await);
    println!("two_processes_share_the_queue: {a} + {b} deliveries");
    assert_eq!(a + b, expected as u64);
    assert!(
        a > 0 && b > 0,
        "both processes should have sent some: {a} and {b}"
    );
}

/// 10,000 deliveries (100 activities x 100 inboxes on 100 hosts), the
/// sender SIGKILLed three times mid-run and restarted each time.
///
/// `cargo test --release --test integration -- --ignored delivery_soak --nocapture`
/// (SQLite; `OUTLOUD_SOAK_BACKEND=postgres` for PostgreSQL). Rows in flight
/// when the process dies stay claimed until their 60 s lease ends, so the
/// run lasts at least a minute after the last kill.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a soak test of about two minutes; see docs/performance.md"]
async fn delivery_soak() {
    const ACTIVITIES: usize = 100;
    const HOSTS: usize = 100;
    let backend = match std::env::var("OUTLOUD_SOAK_BACKEND").as_deref() {
        Ok("postgres") => Backend::Postgres,
        _ => Backend::Sqlite,
    };
    let database = database(backend, "delivery_soak");
    let port = free_port();
    let domain = format!("alpha.localhost:{port}");
    let (db, sender) = prepare(&database, &domain).await;
    let receiver = CountingReceiver::start(&sender.public_key_pem, Duration::ZERO).await;
    for n in 0..ACTIVITIES {
        let (id, json) = activity(&domain, &sender, n);
        let inboxes = (0..HOSTS)
            .map(|h| {
                Inbox::new(
                    receiver.inbox(&format!("r{h}"), &format!("/users/u{h}/inbox")),
                    None,
                )
            })
            .collect();
        enqueue(&db, &sender, id, json, inboxes).await;
    }
    let expected = ACTIVITIES * HOSTS;
    assert_eq!(queue_state(&db).await, (expected as i64, 0));

    let started = Instant::now();
    let mut processes = Processes::new();
    processes.serve(&domain, &database.url, port);
    // Kill at about 15 %, 45 % and 75 % of the deliveries received.
    let mut kills = Vec::new();
    for fraction in [0.15, 0.45, 0.75] {
        let at = (expected as f64 * fraction) as u64;
        let deadline = Instant::now() + Duration::from_secs(120);
        while receiver.posts() < at {
            processes.assert_running();
            assert!(Instant::now() < deadline, "stalled:\n{}", processes.logs());
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        processes.kill_last();
        let (queued, delivered) = queue_state(&db).await;
        kills.push((started.elapsed(), receiver.posts(), queued, delivered));
        processes.serve(&domain, &database.url, port);
    }
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        processes.assert_running();
        let (queued, delivered) = queue_state(&db).await;
        if queued == 0 {
            assert_eq!(delivered, expected as i64, "every row ends delivered");
            break;
        }
        assert!(
            Instant::now() < deadline,
            "queue did not empty: {queued} queued, {delivered} delivered\n{}",
            processes.logs()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let elapsed = started.elapsed();
    let (distinct, duplicates) = receiver.distinct_and_duplicates();
    let report = format!(
        "delivery_soak ({backend:?}): {expected} deliveries, {} POSTs received, {distinct} \
         distinct, {duplicates} duplicates, {} bad signatures, queue empty after {:.1} s; \
         kills (time, received, queued, delivered): {kills:?}",
        receiver.posts(),
        receiver.bad_signatures(),
        elapsed.as_secs_f64()
    );
    println!("{report}");
    assert_eq!(receiver.bad_signatures(), 0, "{report}");
    assert_eq!(distinct, expected, "{report}");
    // At least once: duplicates are only the sends in flight at each kill.
    assert!(duplicates <= 3 * 64, "{report}");
}
