//! Delivery benchmark (docs/performance.md): `cargo bench --bench delivery`.
//!
//! 1. **Throughput.** Deliveries per second to 1,000 distinct inboxes, one
//!    per host (`r0.localhost` … `r999.localhost`, all 127.0.0.1), of a
//!    loopback receiver that answers 202 without verifying:
//!    - Outloud's durable queue (`delivery::spawn_workers`, as `outloud
//!      serve` runs it) on SQLite, and on PostgreSQL when one answers;
//!    - the federation crate's own sending path as the baseline: the same
//!      deliveries prepared with `SendActivityTask::prepare` and sent with
//!      `SendActivityTask::sign_and_send`, as many at once as Outloud has
//!      workers (what the crate's in-memory queue does with
//!      `queue_worker_count`; its queue itself cannot be used on loopback
//!      because outside debug mode it refuses inbox URLs with a port).
//!
//!    Also reported: the share of the machine's CPU time spent on RSA
//!    signatures.
//! 2. **Fairness.** Time to deliver to 100 healthy hosts alone, then with a
//!    dead host (connection refused) and a slow host (answers after 30 s)
//!    among the recipients.
//!
//! Settings (environment): `BENCH_ACTIVITIES` (activities sent to the 1,000
//! inboxes, default 10, so 10,000 deliveries), `BENCH_FAIRNESS_ACTIVITIES`
//! (default 50: 5,000 healthy deliveries), `BENCH_ROUNDS` (default 2),
//! `BENCH_SKIP=throughput,baseline,fairness` (any of them), `BENCH_HOSTS`
//! (default 1,000), `BENCH_PROBE=1` (only time plain POSTs to the receiver).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use activitypub_federation::{
    activity_sending::SendActivityTask, config::FederationConfig, traits::Activity,
};
use actix_web::{web, App, HttpResponse, HttpServer};
use outloud::{
    apub::client,
    config::Config,
    db::{actor::Actor, local_user::Role},
    delivery::{self, Inbox},
    service::accounts::{self, NewUser},
    startup,
    testing::TestDatabase,
    Context,
};
use serde::Serialize;
use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    time::{Duration, Instant},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    sync::Semaphore,
};
use url::Url;

static THROUGHPUT_HOSTS: std::sync::LazyLock<usize> =
    std::sync::LazyLock::new(|| env_usize("BENCH_HOSTS", 1000));
const FAIRNESS_HOSTS: usize = 100;
/// Personal inboxes per activity on the dead and on the slow host.
const TROUBLED_INBOXES: usize = 4;
const SENDER_DOMAIN: &str = "alpha.localhost:9";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// CPU time (user + system) this process has used so far, from
/// `/proc/self/stat` (Linux; zero elsewhere).
fn cpu_time() -> Duration {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return Duration::ZERO;
    };
    // Fields after the parenthesised command name; utime and stime are the
    // 14th and 15th fields overall, in clock ticks (100 per second on Linux).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = [11, 12]
        .iter()
        .filter_map(|&i| fields.get(i).and_then(|f| f.parse::<u64>().ok()))
        .sum();
    Duration::from_millis(ticks * 10)
}

fn main() {
    // Like `outloud serve`: a multi-threaded runtime with one thread per core.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(run());
}

async fn run() {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let skip = std::env::var("BENCH_SKIP").unwrap_or_default();
    let rounds = env_usize("BENCH_ROUNDS", 2);
    let workers = Config::default().delivery.workers as usize;
    println!("delivery benchmark: {cores} cores, {workers} delivery workers, {rounds} round(s)");
    let receiver = Receiver::start().await;
    if std::env::var("BENCH_PROBE").is_ok() {
        // Raw HTTP to the receiver, no signing: is the receiver fast enough?
        let client = client::build(true, "http://alpha.localhost:9/").unwrap();
        for host in ["p1", "p1", "p1", "p2"] {
            let started = Instant::now();
            for _ in 0..50 {
                client
                    .post(receiver.inbox(host, "/inbox").as_str())
                    .body("x".repeat(600))
                    .send()
                    .await
                    .unwrap();
            }
            println!("probe {host}: {:?} per POST", started.elapsed() / 50);
        }
        let started = Instant::now();
        let mut set = tokio::task::JoinSet::new();
        for w in 0..16 {
            let client = client.clone();
            let url = receiver.inbox(&format!("c{w}"), "/inbox");
            set.spawn(async move {
                for _ in 0..200 {
                    client
                        .post(url.as_str())
                        .body("x".repeat(600))
                        .send()
                        .await
                        .unwrap();
                }
            });
        }
        while set.join_next().await.is_some() {}
        println!(
            "probe 16x200 concurrent: {:?}, {:.0}/s",
            started.elapsed(),
            3200.0 / started.elapsed().as_secs_f64()
        );
        return;
    }
    let mut backends = vec![("sqlite", TestDatabase::sqlite as fn() -> TestDatabase)];
    if TestDatabase::postgres("bench").is_some() {
        backends.push(("postgres", || TestDatabase::postgres("bench").unwrap()));
    }

    if !skip.contains("throughput") {
        let activities = env_usize("BENCH_ACTIVITIES", 10);
        let hosts = *THROUGHPUT_HOSTS;
        let n = activities * hosts;
        println!(
            "\n## Throughput: {activities} activities x {hosts} inboxes on {hosts} hosts \
             = {n} deliveries\n"
        );
        let (outloud_sign, rsa, crate_sign) = signing_costs(&receiver).await;
        println!(
            "signing path, one thread, CPU per request: Outloud (openssl) {:.0} µs \
             (RSA alone {:.0} µs), federation crate (rsa) {:.0} µs\n",
            outloud_sign.as_secs_f64() * 1e6,
            rsa.as_secs_f64() * 1e6,
            crate_sign.as_secs_f64() * 1e6
        );
        println!(
            "| queue | round | seconds | deliveries/s | process CPU s | deliveries per CPU s | signing share of CPU |"
        );
        println!("|---|---|---|---|---|---|---|");
        let row = |name: &str, round: usize, run: &RunResult, sign: Duration| {
            let cpu = run.cpu.as_secs_f64();
            println!(
                "| {name} | {round} | {:.2} | {:.0} | {cpu:.2} | {:.0} | {:.0} % |",
                run.elapsed.as_secs_f64(),
                n as f64 / run.elapsed.as_secs_f64(),
                n as f64 / cpu,
                100.0 * n as f64 * sign.as_secs_f64() / cpu,
            );
        };
        for round in 1..=rounds {
            if !skip.contains("baseline") {
                let run = baseline(&receiver, activities, workers).await;
                row(
                    &format!("activitypub_federation, {workers} at once"),
                    round,
                    &run,
                    crate_sign,
                );
            }
            for (name, database) in &backends {
                let run = outloud_run(&receiver, database(), activities, None).await;
                row(&format!("Outloud, {name}"), round, &run, outloud_sign);
            }
        }
    }

    if !skip.contains("fairness") {
        let activities = env_usize("BENCH_FAIRNESS_ACTIVITIES", 50);
        let n = activities * FAIRNESS_HOSTS;
        println!(
            "\n## Fairness: {n} deliveries to {FAIRNESS_HOSTS} healthy hosts; troubled hosts \
             get {TROUBLED_INBOXES} personal inboxes per activity\n"
        );
        println!(
            "| backend | round | recipients | seconds to the last healthy delivery | vs healthy only | process CPU s |"
        );
        println!("|---|---|---|---|---|---|");
        for (name, database) in &backends {
            for round in 1..=rounds {
                let mut reference = None;
                for trouble in [
                    Trouble::None,
                    Trouble::Dead,
                    Trouble::Slow,
                    Trouble::DeadAndSlow,
                ] {
                    let run = outloud_run(&receiver, database(), activities, Some(trouble)).await;
                    let secs = run.elapsed.as_secs_f64();
                    let base = *reference.get_or_insert(secs);
                    println!(
                        "| {name} | {round} | {} | {secs:.2} | {:+.1} % | {:.2} |",
                        trouble.label(),
                        100.0 * (secs - base) / base,
                        run.cpu.as_secs_f64()
                    );
                }
            }
        }
    }
}

/// A loopback receiver that answers every POST with 202 and counts them.
struct Receiver {
    port: u16,
    count: Arc<AtomicU64>,
}

impl Receiver {
    async fn start() -> Receiver {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let count = Arc::new(AtomicU64::new(0));
        let counter = count.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::new(counter.clone()))
                .default_service(web::to(
                    |count: web::Data<Arc<AtomicU64>>, _body: web::Bytes| async move {
                        count.fetch_add(1, Ordering::Relaxed);
                        HttpResponse::Accepted().finish()
                    },
                ))
        })
        .workers(1)
        .backlog(4096)
        .max_connection_rate(4096)
        // Never close an idle connection the client may be about to reuse.
        .keep_alive(Duration::from_secs(600))
        .client_request_timeout(Duration::from_secs(60))
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        Receiver { port, count }
    }

    fn inbox(&self, host: &str, path: &str) -> Url {
        Url::parse(&format!("http://{host}.localhost:{}{path}", self.port)).unwrap()
    }

    fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
}

/// Which troubled hosts the fairness run adds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Trouble {
    None,
    Dead,
    Slow,
    DeadAndSlow,
}

impl Trouble {
    fn label(self) -> &'static str {
        match self {
            Trouble::None => "healthy only",
            Trouble::Dead => "+ dead host",
            Trouble::Slow => "+ slow host",
            Trouble::DeadAndSlow => "+ dead + slow",
        }
    }
}

/// A host that accepts connections and answers after 30 s (after the
/// sender's 10 s timeout).
async fn slow_host() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                tokio::time::sleep(Duration::from_secs(30)).await;
                let _ = socket
                    .write_all(b"HTTP/1.1 202 Accepted\r\ncontent-length: 0\r\n\r\n")
                    .await;
            });
        }
    });
    port
}

/// A port with nobody listening: connection refused.
fn dead_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn activity_json(n: usize, actor: &Actor) -> serde_json::Value {
    serde_json::json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("http://{SENDER_DOMAIN}/activities/bench-{n}"),
        "type": "Create",
        "actor": actor.ap_id.as_str(),
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": [format!("{}/followers", actor.ap_id)],
        "object": {
            "id": format!("http://{SENDER_DOMAIN}/objects/bench-{n}"),
            "type": "Note",
            "attributedTo": actor.ap_id.as_str(),
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "cc": [format!("{}/followers", actor.ap_id)],
            "content": "<p>Working out loud: a benchmark note of a realistic size, \
                        with a sentence or two of text in it.</p>",
            "published": "2026-11-29T10:00:00Z",
        },
    })
}

struct RunResult {
    /// From starting the workers to the last healthy delivery recorded.
    elapsed: Duration,
    /// CPU time of the whole process meanwhile (sender and receiver).
    cpu: Duration,
}

async fn outloud_context(database: &TestDatabase) -> (Context, Actor) {
    let mut config = Config::for_test(SENDER_DOMAIN, &database.url);
    // The production default, not the test harness's smaller pool.
    config.database.pool_size = Config::default().database.pool_size;
    let db = startup::open_database(&config).await.unwrap();
    let federation = startup::build_context(config, db).await.unwrap();
    let ctx = federation.to_request_data().app_data().clone();
    let actor = accounts::create_user(
        &ctx.db,
        &ctx.urls,
        NewUser {
            name: "bench",
            password: "password for the benchmark",
            role: Role::User,
        },
    )
    .await
    .unwrap();
    (ctx, actor)
}

/// Enqueues everything, then starts the workers and waits until every
/// healthy delivery is recorded as delivered.
async fn outloud_run(
    receiver: &Receiver,
    database: TestDatabase,
    activities: usize,
    trouble: Option<Trouble>,
) -> RunResult {
    let (ctx, actor) = outloud_context(&database).await;
    let hosts = if trouble.is_some() {
        FAIRNESS_HOSTS
    } else {
        *THROUGHPUT_HOSTS
    };
    let mut troubled = Vec::new();
    if matches!(trouble, Some(Trouble::Dead | Trouble::DeadAndSlow)) {
        troubled.push(format!("dead.localhost:{}", dead_port()));
    }
    if matches!(trouble, Some(Trouble::Slow | Trouble::DeadAndSlow)) {
        troubled.push(format!("slow.localhost:{}", slow_host().await));
    }
    for n in 0..activities {
        let mut inboxes: Vec<Inbox> = (0..hosts)
            .map(|h| Inbox::new(receiver.inbox(&format!("r{h}"), "/users/u/inbox"), None))
            .collect();
        for host in &troubled {
            for i in 0..TROUBLED_INBOXES {
                let url = Url::parse(&format!("http://{host}/users/u{i}/inbox")).unwrap();
                inboxes.push(Inbox::new(url, None));
            }
        }
        let json = activity_json(n, &actor);
        let id = Url::parse(json["id"].as_str().unwrap()).unwrap();
        let sender = actor.id.clone();
        ctx.db
            .transaction(move |conn| delivery::enqueue(conn, &sender, &id, &json, inboxes))
            .await
            .unwrap();
    }
    let expected = (activities * hosts) as u64;
    let received_before = receiver.count();
    let cpu_before = cpu_time();
    let started = Instant::now();
    let workers = delivery::spawn_workers(ctx.clone());
    while ctx.delivery.metrics.sent() < expected {
        tokio::time::sleep(Duration::from_millis(2)).await;
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "stuck at {} of {expected}",
            ctx.delivery.metrics.sent()
        );
    }
    let elapsed = started.elapsed();
    let cpu = cpu_time() - cpu_before;
    workers.abort();
    assert_eq!(receiver.count() - received_before, expected);
    // Sends still in flight to the slow host finish (and fail) in the
    // background; keep their database until the process ends.
    std::mem::forget(database);
    RunResult { elapsed, cpu }
}

/// The activity type the baseline hands to the federation crate.
#[derive(Debug, Serialize)]
struct BenchActivity {
    id: Url,
    actor: Url,
    #[serde(flatten)]
    rest: serde_json::Value,
}

#[async_trait::async_trait]
impl Activity for BenchActivity {
    type DataType = ();
    type Error = activitypub_federation::error::Error;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        &self.actor
    }

    async fn verify(
        &self,
        _: &activitypub_federation::config::Data<()>,
    ) -> Result<(), Self::Error> {
        Ok(())
    }

    async fn receive(
        self,
        _: &activitypub_federation::config::Data<()>,
    ) -> Result<(), Self::Error> {
        Ok(())
    }
}

/// The federation crate's sending path, `workers` sends at once.
async fn baseline(receiver: &Receiver, activities: usize, workers: usize) -> RunResult {
    let database = TestDatabase::sqlite();
    let (_, actor) = outloud_context(&database).await;
    let data = FederationConfig::builder()
        .domain(SENDER_DOMAIN)
        .app_data(())
        // The same client Outloud delivers with (dev mode: *.localhost is
        // 127.0.0.1).
        .client(client::build(true, &format!("http://{SENDER_DOMAIN}/")).unwrap())
        .debug(true)
        .http_signature_compat(true)
        .build()
        .await
        .unwrap()
        .to_request_data();
    let mut tasks = Vec::new();
    for n in 0..activities {
        let mut json = activity_json(n, &actor);
        let activity = BenchActivity {
            id: Url::parse(json["id"].as_str().unwrap()).unwrap(),
            actor: actor.ap_id.0.clone(),
            rest: {
                let object = json.as_object_mut().unwrap();
                object.remove("id");
                object.remove("actor");
                json
            },
        };
        let inboxes = (0..(*THROUGHPUT_HOSTS))
            .map(|h| receiver.inbox(&format!("r{h}"), "/users/u/inbox"))
            .collect();
        tasks.extend(
            SendActivityTask::prepare(&activity, &actor, inboxes, &data)
                .await
                .unwrap(),
        );
    }
    let expected = tasks.len() as u64;
    let received_before = receiver.count();
    let permits = Arc::new(Semaphore::new(workers));
    let cpu_before = cpu_time();
    let started = Instant::now();
    let mut running = tokio::task::JoinSet::new();
    for task in tasks {
        let permit = permits.clone().acquire_owned().await.unwrap();
        let data = data.reset_request_count();
        running.spawn(async move {
            let result = task.sign_and_send(&data).await;
            drop(permit);
            result
        });
    }
    let mut errors = 0;
    while let Some(done) = running.join_next().await {
        if let Err(e) = done.unwrap() {
            errors += 1;
            if errors == 1 {
                eprintln!("baseline send failed: {e}");
            }
        }
    }
    assert_eq!(errors, 0, "baseline sends failed");
    let elapsed = started.elapsed();
    let cpu = cpu_time() - cpu_before;
    assert_eq!(receiver.count() - received_before, expected);
    RunResult { elapsed, cpu }
}

/// CPU time of one request's signing path, each library on one thread with
/// nothing else running: Outloud's as a delivery runs it
/// (`sign::signed_post_timed` with the activity's body and digest prepared
/// once: RSA with openssl, inline) and the federation crate's
/// (`Data::sign_request`: digest and RSA with the `rsa` crate, inline).
/// Also returns how much of Outloud's is the RSA signature alone:
/// `(outloud, of which RSA, federation crate)`.
async fn signing_costs(receiver: &Receiver) -> (Duration, Duration, Duration) {
    const N: u32 = 400;
    let database = TestDatabase::sqlite();
    let (_, actor) = outloud_context(&database).await;
    let client = client::build(true, &format!("http://{SENDER_DOMAIN}/")).unwrap();
    let inbox = receiver.inbox("r0", "/users/u/inbox");
    let body = activity_json(0, &actor).to_string();
    let key = openssl::pkey::PKey::private_key_from_pem(
        actor.private_key_pem.as_deref().unwrap().as_bytes(),
    )
    .unwrap();
    let key_id = format!("{}#main-key", actor.ap_id);
    let payload = delivery::sign::Payload::new(body.clone());
    let before = cpu_time();
    for _ in 0..N {
        delivery::sign::signed_post_timed(
            &client,
            &inbox,
            key_id.clone(),
            key.clone(),
            &payload,
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    }
    let outloud = (cpu_time() - before) / N;
    let before = cpu_time();
    for n in 0..N {
        delivery::sign::sign_string(&key, &format!("{body}{n}")).unwrap();
    }
    let rsa = (cpu_time() - before) / N;
    let data = FederationConfig::builder()
        .domain(SENDER_DOMAIN)
        .app_data(())
        .client(client.clone())
        .debug(true)
        .http_signature_compat(true)
        .signed_fetch_actor(&actor)
        .build()
        .await
        .unwrap()
        .to_request_data();
    let before = cpu_time();
    for _ in 0..N {
        let builder = client
            .post(inbox.as_str())
            .header("Content-Type", "application/activity+json");
        data.sign_request(builder, web::Bytes::from(body.clone()))
            .await
            .unwrap();
    }
    let federation = (cpu_time() - before) / N;
    (outloud, rsa, federation)
}
