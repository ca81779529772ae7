//! Ingest benchmark (docs/performance.md, "Ingest"): `cargo bench --bench ingest`.
//!
//! 1,000 remote actors (`BENCH_ACTORS`) on 100 hosts (`r0.localhost` …
//! `r99.localhost`, all 127.0.0.1 in dev mode, served by this process)
//! POST `BENCH_ACTIVITIES` (default 20,000) signed `Create(Note)`s to the
//! shared inbox over 64 keep-alive connections (`BENCH_CONNECTIONS`). Each
//! Note mentions the local user `bench` and is addressed as Mastodon does
//! (to: Public; cc: the author's followers and the mentioned user); each
//! request is signed draft-cavage `rsa-sha256` over `(request-target) host
//! date digest content-type`, with a `Digest`.
//!
//! Everything is signed before anything is timed (openssl, here), so the
//! load generator's CPU stays out of the timed phase; the requests are then
//! written as prepared bytes over raw HTTP/1.1 sockets. Before the timed
//! phase a warm-up sends one activity per actor (untimed), so every actor's
//! key has been fetched once.
//!
//! Receivers, each a child process on the same port and domain, so its CPU
//! time (`/proc/<pid>/stat`) and peak RSS (`VmHWM`) are its own:
//! - *baseline*: a minimal receiver on the federation crate alone (this
//!   binary re-executed with `BENCH_ROLE=baseline`): actix-web and the
//!   crate's `receive_activity` (digest, signature with the crate's
//!   verifier, actor dereferenced through an in-memory map) with an activity
//!   whose `receive` does nothing;
//! - *outloud*: `outloud serve` on SQLite, and on PostgreSQL when one
//!   answers (`OUTLOUD_TEST_POSTGRES`, else
//!   `postgres://postgres@127.0.0.1:5432/test`; a NOTICE says when not).
//!
//! After each Outloud run every activity must be stored as a post with a
//! mention notification, and the newest visible through
//! `/api/v1/notifications`; otherwise the benchmark panics.
//!
//! Keys: RSA-2048 generation costs ~100 ms each, so `BENCH_KEYS` (default
//! 100) keys are made, in parallel, and actor `n` uses key `n % BENCH_KEYS`.
//! Every actor still has its own document, fetched and stored on its own;
//! verification costs the same whichever key it is.
//!
//! Other settings: `BENCH_RECEIVERS` (comma-separated of `baseline`,
//! `sqlite`, `postgres`; default all), `BENCH_RUST_LOG` (the server's log
//! filter, default `warn`), `BENCH_POOL_SIZE` (Outloud's pool, default its
//! own default), `BENCH_HOLD=1` (print the server's pid and wait 10 s
//! before the timed phase, to attach `perf record -p`).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use base64::Engine;
use openssl::{hash::MessageDigest, pkey::PKey, rsa::Rsa, sign::Signer};
use std::{
    collections::HashMap,
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use url::Url;

const HOSTS: usize = 100;
const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if std::env::var("BENCH_ROLE").as_deref() == Ok("baseline") {
        runtime.block_on(baseline::serve());
        return;
    }
    runtime.block_on(run());
}

async fn run() {
    let actors = env_usize("BENCH_ACTORS", 1000);
    let activities = env_usize("BENCH_ACTIVITIES", 20_000);
    let connections = env_usize("BENCH_CONNECTIONS", 64);
    let receivers =
        std::env::var("BENCH_RECEIVERS").unwrap_or_else(|_| "baseline,sqlite,postgres".into());
    let receivers: Vec<&str> = receivers.split(',').map(str::trim).collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!(
        "ingest benchmark: {cores} cores, {actors} actors on {HOSTS} hosts, \
         {activities} activities over {connections} connections"
    );

    let started = Instant::now();
    let keys = generate_keys(env_usize("BENCH_KEYS", 100));
    eprintln!(
        "({} keys generated in {:.1} s)",
        keys.len(),
        started.elapsed().as_secs_f64()
    );
    let remote = RemoteActors::start(actors, &keys).await;

    let port = free_port();
    let domain = format!("bench.localhost:{port}");
    let started = Instant::now();
    let warm_up = sign_all(&remote, &keys, &domain, 0, actors);
    let timed = sign_all(&remote, &keys, &domain, actors, activities);
    eprintln!(
        "({} requests signed in {:.1} s)",
        warm_up.len() + timed.len(),
        started.elapsed().as_secs_f64()
    );

    let mut rows = Vec::new();
    let mut baseline_rate = None;
    for receiver in receivers {
        let database = match receiver {
            "baseline" => None,
            "sqlite" => Some(outloud::testing::TestDatabase::sqlite()),
            "postgres" => match outloud::testing::TestDatabase::postgres("bench ingest") {
                Some(database) => Some(database),
                None => {
                    println!("NOTICE: PostgreSQL does not answer; SQLite only");
                    continue;
                }
            },
            other => panic!("BENCH_RECEIVERS: unknown receiver {other:?}"),
        };
        let run = Run {
            port,
            domain: &domain,
            connections,
            warm_up: &warm_up,
            timed: &timed,
            remote: &remote,
        };
        let row = match &database {
            None => run.baseline().await,
            Some(database) => run.outloud(database).await,
        };
        if receiver == "baseline" {
            baseline_rate = Some(row.rate());
        }
        rows.push((receiver, row));
    }

    println!(
        "\n| backend | receiver | activities | per s | p50 ms | p99 ms | CPU ms/activity | \
         peak RSS MiB | ratio |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    for (receiver, row) in rows {
        let (backend, name) = match receiver {
            "baseline" => ("-", "federation crate"),
            other => (other, "outloud"),
        };
        let ratio = match baseline_rate {
            Some(base) if receiver != "baseline" => format!("{:.0} %", 100.0 * row.rate() / base),
            _ => "-".into(),
        };
        println!(
            "| {backend} | {name} | {} | {:.0} | {:.1} | {:.1} | {:.2} | {:.0} | {ratio} |",
            row.activities,
            row.rate(),
            row.p50.as_secs_f64() * 1e3,
            row.p99.as_secs_f64() * 1e3,
            row.cpu.as_secs_f64() * 1e3 / row.activities as f64,
            row.peak_rss as f64 / (1024.0 * 1024.0),
        );
        if row.refetches > 0 {
            println!(
                "  ({name} on {backend}: {} actor fetches during the timed phase)",
                row.refetches
            );
        }
    }
}

/// `n` RSA-2048 keys, generated on every core.
fn generate_keys(n: usize) -> Vec<PKey<openssl::pkey::Private>> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let next = AtomicUsize::new(0);
    let keys = Mutex::new(Vec::with_capacity(n));
    std::thread::scope(|s| {
        for _ in 0..cores {
            s.spawn(|| {
                while next.fetch_add(1, Ordering::Relaxed) < n {
                    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
                    keys.lock().unwrap().push(key);
                }
            });
        }
    });
    keys.into_inner().unwrap()
}

/// The remote actors' server: `GET /users/a{n}` on any `r*.localhost`
/// host answers actor `n`'s document, and counts the fetch.
struct RemoteActors {
    port: u16,
    fetches: Arc<AtomicUsize>,
    actors: usize,
}

impl RemoteActors {
    async fn start(actors: usize, keys: &[PKey<openssl::pkey::Private>]) -> RemoteActors {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let pems: Vec<String> = keys
            .iter()
            .map(|k| String::from_utf8(k.public_key_to_pem().unwrap()).unwrap())
            .collect();
        let mut documents = HashMap::new();
        for n in 0..actors {
            let id = actor_id(port, n);
            let document = serde_json::json!({
                "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
                "type": "Person",
                "id": id,
                "preferredUsername": format!("a{n}"),
                "name": format!("Remote actor {n}"),
                "inbox": format!("{id}/inbox"),
                "outbox": format!("{id}/outbox"),
                "followers": format!("{id}/followers"),
                "following": format!("{id}/following"),
                "endpoints": {"sharedInbox": format!("http://{}/inbox", host(port, n))},
                "publicKey": {
                    "id": format!("{id}#main-key"),
                    "owner": id,
                    "publicKeyPem": pems[n % pems.len()],
                },
            });
            documents.insert(
                format!("/users/a{n}"),
                web::Bytes::from(document.to_string()),
            );
        }
        let documents = Arc::new(documents);
        let fetches = Arc::new(AtomicUsize::new(0));
        let counter = fetches.clone();
        let server = HttpServer::new(move || {
            let (documents, counter) = (documents.clone(), counter.clone());
            App::new().default_service(web::to(move |req: HttpRequest| {
                let (documents, counter) = (documents.clone(), counter.clone());
                async move {
                    match documents.get(req.path()) {
                        Some(body) => {
                            counter.fetch_add(1, Ordering::Relaxed);
                            HttpResponse::Ok()
                                .content_type("application/activity+json")
                                .body(body.clone())
                        }
                        None => HttpResponse::NotFound().finish(),
                    }
                }
            }))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        tokio::spawn(server);
        RemoteActors {
            port,
            fetches,
            actors,
        }
    }

    fn fetches(&self) -> usize {
        self.fetches.load(Ordering::Relaxed)
    }
}

fn host(port: u16, actor: usize) -> String {
    format!("r{}.localhost:{port}", actor % HOSTS)
}

fn actor_id(port: u16, actor: usize) -> String {
    format!("http://{}/users/a{actor}", host(port, actor))
}

/// Requests `first..first + count` as prepared bytes: activity `i` is by
/// actor `i % actors`, signed with that actor's key for `POST /inbox` on
/// `domain`. Signed on every core.
fn sign_all(
    remote: &RemoteActors,
    keys: &[PKey<openssl::pkey::Private>],
    domain: &str,
    first: usize,
    count: usize,
) -> Vec<Vec<u8>> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let date = httpdate::fmt_http_date(std::time::SystemTime::now());
    let chunk = count.div_ceil(cores).max(1);
    let mut out: Vec<Vec<u8>> = Vec::with_capacity(count);
    std::thread::scope(|s| {
        let handles: Vec<_> = (first..first + count)
            .collect::<Vec<_>>()
            .chunks(chunk)
            .map(|range| {
                let range = range.to_vec();
                let date = &date;
                s.spawn(move || {
                    range
                        .into_iter()
                        .map(|i| {
                            let actor = i % remote.actors;
                            signed_request(
                                remote.port,
                                &keys[actor % keys.len()],
                                domain,
                                date,
                                actor,
                                i,
                            )
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for handle in handles {
            out.extend(handle.join().unwrap());
        }
    });
    out
}

fn signed_request(
    port: u16,
    key: &PKey<openssl::pkey::Private>,
    domain: &str,
    date: &str,
    actor: usize,
    i: usize,
) -> Vec<u8> {
    let actor_id = actor_id(port, actor);
    let mentioned = format!("http://{domain}/users/bench");
    let note_id = format!("{actor_id}/statuses/{i}");
    let body = serde_json::json!({
        "@context": ["https://www.w3.org/ns/activitystreams", {"sensitive": "as:sensitive"}],
        "id": format!("{note_id}/activity"),
        "type": "Create",
        "actor": actor_id,
        "published": "2026-12-04T12:00:00Z",
        "to": [PUBLIC],
        "cc": [format!("{actor_id}/followers"), mentioned],
        "object": {
            "id": note_id,
            "type": "Note",
            "summary": null,
            "inReplyTo": null,
            "published": "2026-12-04T12:00:00Z",
            "url": format!("http://{}/@a{actor}/{i}", host(port, actor)),
            "attributedTo": actor_id,
            "to": [PUBLIC],
            "cc": [format!("{actor_id}/followers"), mentioned],
            "sensitive": false,
            "content": format!(
                "<p><span class=\"h-card\"><a href=\"{mentioned}\" class=\"u-url mention\">@<span>bench</span></a></span> \
                 number {i} from actor {actor}: a short note of the usual length, with a few words \
                 more to make it look like one.</p>"
            ),
            "contentMap": {"en": "<p>…</p>"},
            "attachment": [],
            "tag": [{"type": "Mention", "href": mentioned, "name": format!("@bench@{domain}")}],
        },
    })
    .to_string();
    let digest = format!(
        "SHA-256={}",
        base64::engine::general_purpose::STANDARD.encode(openssl::sha::sha256(body.as_bytes()))
    );
    let content_type = "application/activity+json";
    let signing_string = format!(
        "(request-target): post /inbox\nhost: {domain}\ndate: {date}\ndigest: {digest}\ncontent-type: {content_type}"
    );
    let mut signer = Signer::new(MessageDigest::sha256(), key).unwrap();
    signer.update(signing_string.as_bytes()).unwrap();
    let signature = base64::engine::general_purpose::STANDARD.encode(signer.sign_to_vec().unwrap());
    let header = format!(
        "keyId=\"{actor_id}#main-key\",algorithm=\"rsa-sha256\",\
         headers=\"(request-target) host date digest content-type\",signature=\"{signature}\""
    );
    let mut request = format!(
        "POST /inbox HTTP/1.1\r\nHost: {domain}\r\nDate: {date}\r\nDigest: {digest}\r\n\
         Content-Type: {content_type}\r\nSignature: {header}\r\n\
         User-Agent: ingest-bench\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body.as_bytes());
    request
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A receiver's figures over the timed phase.
struct Row {
    activities: usize,
    elapsed: Duration,
    p50: Duration,
    p99: Duration,
    /// The receiver process's user + system time.
    cpu: Duration,
    peak_rss: u64,
    /// Actor documents fetched meanwhile (0 when keys are cached).
    refetches: usize,
}

impl Row {
    fn rate(&self) -> f64 {
        self.activities as f64 / self.elapsed.as_secs_f64()
    }
}

/// Stops the child server when the run ends, however it ends.
struct Server {
    child: Child,
    log: tempfile::NamedTempFile,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn spawn(mut command: Command) -> Server {
        let log = tempfile::NamedTempFile::new().unwrap();
        command
            .env(
                "RUST_LOG",
                std::env::var("BENCH_RUST_LOG").unwrap_or_else(|_| "warn".into()),
            )
            .stdin(Stdio::null())
            .stdout(log.reopen().unwrap())
            .stderr(log.reopen().unwrap());
        Server {
            child: command.spawn().unwrap(),
            log,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    /// Waits until `GET path` answers 2xx.
    async fn wait_up(&self, port: u16, path: &str) {
        let http = reqwest::Client::new();
        let started = Instant::now();
        loop {
            let up = http
                .get(format!("http://127.0.0.1:{port}{path}"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if up {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the server did not start: {}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// User + system CPU time, from `/proc/<pid>/stat`.
    fn cpu(&self) -> Duration {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // utime and stime, the 14th and 15th fields, in clock ticks.
        let ticks: u64 = [11, 12]
            .iter()
            .map(|&i| fields[i].parse::<u64>().unwrap())
            .sum();
        // SAFETY: sysconf only reads a constant.
        let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
        Duration::from_micros(ticks * 1_000_000 / per_second)
    }

    /// Peak resident memory (`VmHWM`).
    fn peak_rss(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        let line = status.lines().find(|l| l.starts_with("VmHWM:")).unwrap();
        line.split_whitespace()
            .nth(1)
            .unwrap()
            .parse::<u64>()
            .unwrap()
            * 1024
    }
}

struct Run<'a> {
    port: u16,
    domain: &'a str,
    connections: usize,
    warm_up: &'a [Vec<u8>],
    timed: &'a [Vec<u8>],
    remote: &'a RemoteActors,
}

impl Run<'_> {
    async fn baseline(&self) -> Row {
        let mut command = Command::new(std::env::current_exe().unwrap());
        command
            .env("BENCH_ROLE", "baseline")
            .env("BENCH_PORT", self.port.to_string())
            .env("BENCH_DOMAIN", self.domain);
        let server = Server::spawn(command);
        server.wait_up(self.port, "/up").await;
        self.measure("baseline", &server).await
    }

    async fn outloud(&self, database: &outloud::testing::TestDatabase) -> Row {
        let mut command = Command::new(env!("CARGO_BIN_EXE_outloud"));
        command
            .arg("serve")
            .env_remove("OUTLOUD_CONFIG")
            .env("OUTLOUD_DATABASE__URL", &database.url)
            .env("OUTLOUD_HTTP__BIND", format!("127.0.0.1:{}", self.port))
            .env("OUTLOUD_INSTANCE__DOMAIN", self.domain)
            .env("OUTLOUD_FEDERATION__DEV_MODE", "true")
            .env("OUTLOUD_API__RATE_LIMIT", "0")
            .env("OUTLOUD_STREAMING__BIND", "");
        if let Ok(size) = std::env::var("BENCH_POOL_SIZE") {
            command.env("OUTLOUD_DATABASE__POOL_SIZE", size);
        }
        let server = Server::spawn(command);
        server.wait_up(self.port, "/readyz").await;
        let db = outloud::db::Db::connect(&database.url, 2).unwrap();
        let urls = outloud::urls::Urls::new("http", self.domain).unwrap();
        let user = outloud::service::accounts::create_user(
            &db,
            &urls,
            outloud::service::accounts::NewUser {
                name: "bench",
                password: "password for the benchmark",
                role: outloud::db::local_user::Role::User,
            },
        )
        .await
        .unwrap();
        let label = match database.backend {
            outloud::config::Backend::Sqlite => "sqlite",
            outloud::config::Backend::Postgres => "postgres",
        };
        let row = self.measure(label, &server).await;
        check_stored(&db, &user, self.warm_up.len() + self.timed.len(), self).await;
        row
    }

    /// Warm-up (untimed), then the timed phase.
    async fn measure(&self, label: &str, server: &Server) -> Row {
        let started = Instant::now();
        send_all(self.port, self.connections, self.warm_up, server).await;
        eprintln!(
            "({label}: warm-up of {} in {:.1} s)",
            self.warm_up.len(),
            started.elapsed().as_secs_f64()
        );
        reject_forgeries(self.port, &self.warm_up[0], server).await;
        if std::env::var("BENCH_HOLD").is_ok() {
            eprintln!(
                "({label}: server pid {}; timed phase in 10 s)",
                server.child.id()
            );
            tokio::time::sleep(Duration::from_secs(10)).await;
        }
        let fetches = self.remote.fetches();
        let cpu = server.cpu();
        let started = Instant::now();
        let mut latencies = send_all(self.port, self.connections, self.timed, server).await;
        let elapsed = started.elapsed();
        let cpu = server.cpu() - cpu;
        latencies.sort_unstable();
        let at =
            |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
        Row {
            activities: self.timed.len(),
            elapsed,
            p50: at(0.50),
            p99: at(0.99),
            cpu,
            peak_rss: server.peak_rss(),
            refetches: self.remote.fetches() - fetches,
        }
    }
}

/// Sends every request over `connections` keep-alive connections; each
/// answer must be 2xx. Returns each request's latency.
async fn send_all(
    port: u16,
    connections: usize,
    requests: &[Vec<u8>],
    server: &Server,
) -> Vec<Duration> {
    let requests: Arc<Vec<Vec<u8>>> = Arc::new(requests.to_vec());
    let next = Arc::new(AtomicUsize::new(0));
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let (requests, next) = (requests.clone(), next.clone());
        tasks.spawn(async move {
            let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
            stream.set_nodelay(true).unwrap();
            let mut latencies = Vec::new();
            let mut buffer = Vec::with_capacity(4096);
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(request) = requests.get(i) else {
                    return Ok(latencies);
                };
                let started = Instant::now();
                stream.write_all(request).await.unwrap();
                let (status, body) = read_response(&mut stream, &mut buffer).await?;
                latencies.push(started.elapsed());
                if !(200..300).contains(&status) {
                    return Err(format!("request {i}: {status} {body}"));
                }
            }
        });
    }
    let mut latencies = Vec::with_capacity(requests.len());
    while let Some(done) = tasks.join_next().await {
        match done.unwrap() {
            Ok(l) => latencies.extend(l),
            Err(e) => panic!("{e}\nserver log:\n{}", server.log()),
        }
    }
    assert_eq!(latencies.len(), requests.len());
    latencies
}

/// A receiver that does not check signatures would win this benchmark:
/// a copy of `request` with a flipped signature byte, and one with a
/// changed body (its `Digest` no longer matches), must both be refused.
async fn reject_forgeries(port: u16, request: &[u8], server: &Server) {
    let flip = |request: &[u8], marker: &[u8]| {
        let mut forged = request.to_vec();
        let at = forged
            .windows(marker.len())
            .position(|w| w == marker)
            .unwrap()
            + marker.len();
        forged[at] = if forged[at] == b'A' { b'B' } else { b'A' };
        forged
    };
    for (what, forged) in [
        ("a wrong signature", flip(request, b"signature=\"")),
        (
            "a body that does not match its digest",
            flip(request, b"number "),
        ),
    ] {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        stream.write_all(&forged).await.unwrap();
        let (status, body) = read_response(&mut stream, &mut Vec::new()).await.unwrap();
        assert!(
            (400..500).contains(&status),
            "a request with {what} was answered {status} {body}\nserver log:\n{}",
            server.log()
        );
    }
}

/// Reads one HTTP/1.1 response with a `Content-Length`: status and body.
async fn read_response(
    stream: &mut TcpStream,
    buffer: &mut Vec<u8>,
) -> Result<(u16, String), String> {
    buffer.clear();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        let n = stream.read(&mut chunk).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the server closed the connection".into());
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).to_ascii_lowercase();
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("no status")?;
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .map_or(0, |v| v.trim().parse().unwrap_or(0));
    while buffer.len() < head_end + length {
        let n = stream.read(&mut chunk).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the server closed the connection".into());
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let body = String::from_utf8_lossy(&buffer[head_end..head_end + length]).into_owned();
    Ok((status, body))
}

/// Every activity must be a stored post with a mention notification for
/// `user`, and the newest notification visible through the API.
async fn check_stored(
    db: &outloud::db::Db,
    user: &outloud::db::actor::Actor,
    expected: usize,
    run: &Run<'_>,
) {
    use diesel::prelude::*;
    use outloud::db::schema::{notifications, posts};
    let recipient = user.id.clone();
    let (stored, notified) = db
        .run(move |conn| {
            let stored: i64 = posts::table
                .filter(posts::local.eq(false))
                .count()
                .get_result(conn)?;
            let notified: i64 = notifications::table
                .filter(notifications::recipient_id.eq(&recipient))
                .filter(notifications::kind.eq("mention"))
                .count()
                .get_result(conn)?;
            Ok((stored as usize, notified as usize))
        })
        .await
        .unwrap();
    assert_eq!(stored, expected, "posts stored");
    assert_eq!(notified, expected, "mention notifications");
    let secret = format!("bench-{}", uuid::Uuid::new_v4().simple());
    let token = outloud::db::oauth::OauthToken {
        id: outloud::db::new_id(),
        token_hash: outloud::service::oauth::hash_secret(&secret),
        refresh_hash: None,
        app_id: Some(outloud::service::oauth::ADMIN_APP_ID.into()),
        actor_id: Some(user.id.clone()),
        scopes: "read".into(),
        created_at: outloud::db::now(),
        revoked_at: None,
        code_hash: None,
    };
    db.run(move |conn| Ok(outloud::db::oauth::OauthToken::insert(conn, &token)?))
        .await
        .unwrap();
    let newest: serde_json::Value = reqwest::Client::new()
        .get(format!(
            "http://127.0.0.1:{}/api/v1/notifications?limit=1",
            run.port
        ))
        .header("Host", run.domain)
        .bearer_auth(&secret)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let newest = &newest[0];
    assert_eq!(newest["type"], "mention", "newest notification: {newest}");
    let uri = newest["status"]["uri"].as_str().unwrap_or_default();
    assert!(
        Url::parse(uri).is_ok_and(|u| u.path().contains("/statuses/")),
        "newest notification's status: {newest}"
    );
}

/// The federation crate's own receiving path, storing nothing.
mod baseline {
    use activitypub_federation::{
        actix_web::inbox::receive_activity,
        config::{Data, FederationConfig, FederationMiddleware},
        error::Error,
        traits::{Activity, Actor, Object},
    };
    use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
    use serde::Deserialize;
    use std::{
        collections::HashMap,
        sync::{Arc, RwLock},
    };
    use url::Url;

    /// The remote actors seen, by id (the baseline's whole "database").
    #[derive(Clone, Default)]
    pub struct State {
        actors: Arc<RwLock<HashMap<Url, Person>>>,
    }

    #[derive(Clone, Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    pub struct Person {
        id: Url,
        inbox: Url,
        public_key: PublicKey,
    }

    #[derive(Clone, Debug, Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct PublicKey {
        public_key_pem: String,
    }

    #[async_trait::async_trait]
    impl Object for Person {
        type DataType = State;
        type Kind = Person;
        type Error = Error;

        fn id(&self) -> &Url {
            &self.id
        }

        async fn read_from_id(id: Url, data: &Data<State>) -> Result<Option<Person>, Error> {
            Ok(data.actors.read().unwrap().get(&id).cloned())
        }

        async fn into_json(self, _: &Data<State>) -> Result<Person, Error> {
            Ok(self)
        }

        async fn verify(_: &Person, _: &Url, _: &Data<State>) -> Result<(), Error> {
            Ok(())
        }

        async fn from_json(json: Person, data: &Data<State>) -> Result<Person, Error> {
            data.actors
                .write()
                .unwrap()
                .insert(json.id.clone(), json.clone());
            Ok(json)
        }
    }

    impl Actor for Person {
        fn public_key_pem(&self) -> &str {
            &self.public_key.public_key_pem
        }

        fn private_key_pem(&self) -> Option<String> {
            None
        }

        fn inbox(&self) -> Url {
            self.inbox.clone()
        }
    }

    /// Any activity: parsed (id, actor and the rest as JSON), then ignored.
    #[derive(Debug, Deserialize)]
    pub struct Anything {
        id: Url,
        actor: Url,
        #[serde(flatten)]
        _rest: serde_json::Value,
    }

    #[async_trait::async_trait]
    impl Activity for Anything {
        type DataType = State;
        type Error = Error;

        fn id(&self) -> &Url {
            &self.id
        }

        fn actor(&self) -> &Url {
            &self.actor
        }

        async fn verify(&self, _: &Data<State>) -> Result<(), Error> {
            Ok(())
        }

        async fn receive(self, _: &Data<State>) -> Result<(), Error> {
            Ok(())
        }
    }

    async fn inbox(req: HttpRequest, body: web::Bytes, data: Data<State>) -> HttpResponse {
        match receive_activity::<Anything, Person, State>(req, body, &data).await {
            Ok(_) => HttpResponse::Accepted().finish(),
            Err(e) => HttpResponse::Unauthorized().body(e.to_string()),
        }
    }

    /// Serves `POST /inbox` on `BENCH_PORT` as `BENCH_DOMAIN` until killed.
    pub async fn serve() {
        let port: u16 = std::env::var("BENCH_PORT").unwrap().parse().unwrap();
        let domain = std::env::var("BENCH_DOMAIN").unwrap();
        let config = FederationConfig::builder()
            .domain(domain.clone())
            .app_data(State::default())
            // Outloud's client in dev mode: *.localhost is 127.0.0.1.
            .client(outloud::apub::client::build(true, &format!("http://{domain}/")).unwrap())
            .debug(true)
            .build()
            .await
            .unwrap();
        HttpServer::new(move || {
            App::new()
                .wrap(FederationMiddleware::new(config.clone()))
                .route("/inbox", web::post().to(inbox))
                .route(
                    "/up",
                    web::get().to(|| async { HttpResponse::Ok().finish() }),
                )
        })
        .disable_signals()
        .bind(("127.0.0.1", port))
        .unwrap()
        .run()
        .await
        .unwrap();
    }
}
