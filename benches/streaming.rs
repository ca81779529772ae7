//! Streaming benchmark (docs/performance.md, "Streaming"):
//! `cargo bench --bench streaming`.
//!
//! Runs `outloud serve` as a child process, so the server's memory can be
//! read on its own (`/proc/<pid>/status` VmRSS), with `BENCH_STREAMS`
//! accounts (default 10,000) who all follow one author. Each opens one
//! idle connection to the `user` stream; the server's RSS before and after
//! gives the memory per idle connection. Each transport runs on a fresh
//! server and database (`BENCH_TRANSPORTS`, comma-separated, default all
//! three): `port-sse` and `port-ws`, server-sent events and the WebSocket
//! on the streaming port (`[streaming] bind`), and `http-sse`, server-sent
//! events on `http.bind` (actix).
//! Then the author posts `BENCH_POSTS` statuses (default 20), one after
//! another, and for each the time from the POST returning until every
//! connection has read its `update` is taken: p50, p99 and max per post,
//! and the same over every single delivery, and the CPU time the server
//! and the bench's clients used per post (POST included, from
//! `/proc/<pid>/stat`: unlike the latencies, it barely changes when
//! something else runs on the machine). SQLite always; PostgreSQL too
//! when one answers (`OUTLOUD_TEST_POSTGRES`, else
//! `postgres://postgres@127.0.0.1:5432/test`).
//!
//! The clients are raw HTTP/1.1 over tokio sockets in this process (one
//! task per connection), sharing the machine's cores with the server.
//!
//! `BENCH_PROBE=1` measures the floor instead: the same clients reading
//! the same bytes from one thread that only writes them (see [`probe`]),
//! printed as `| probe | streams | posts | p50 ms | p99 ms | max ms | CPU
//! ms/post |` (CPU of writer and readers both, one process).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use outloud::{
    db::{actor::Actor, follow::Follow, new_id, now, oauth::OauthToken, Db, DbUrl},
    service::{
        accounts::{self, NewUser},
        oauth::{hash_secret, ADMIN_APP_ID},
    },
    testing::TestDatabase,
    urls::Urls,
};
use std::{
    process::{Child, Command, Stdio},
    sync::Arc,
    time::{Duration, Instant},
};
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
    sync::{mpsc, Semaphore},
};

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Raises the open-files limit to its hard maximum: this process holds one
/// socket per stream, and so does the server (which inherits the limit).
fn raise_nofile(needed: u64) {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    unsafe {
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
        limit.rlim_cur = limit.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit);
    }
    if limit.rlim_cur < needed {
        panic!(
            "the open-files limit is {} but {needed} are needed: raise the hard limit \
             (`ulimit -Hn 65536` as root, or limits.conf) or set BENCH_STREAMS lower",
            limit.rlim_cur
        );
    }
}

fn main() {
    let streams = env_usize("BENCH_STREAMS", 10_000);
    raise_nofile(streams as u64 + 1_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    if std::env::var("BENCH_PROBE").is_ok_and(|v| v == "1") {
        runtime.block_on(probe(streams));
        return;
    }
    let mut backends = vec![("sqlite", TestDatabase::sqlite as fn() -> TestDatabase)];
    if TestDatabase::postgres("bench streaming").is_some() {
        backends.push(("postgres", || {
            TestDatabase::postgres("bench streaming").unwrap()
        }));
    } else {
        println!("NOTICE: PostgreSQL does not answer; SQLite only");
    }
    let transports =
        std::env::var("BENCH_TRANSPORTS").unwrap_or_else(|_| "port-sse,port-ws,http-sse".into());
    let transports: Vec<Transport> = transports
        .split(',')
        .map(|t| match t.trim() {
            "port-sse" => Transport::PortSse,
            "port-ws" => Transport::PortWs,
            "http-sse" => Transport::HttpSse,
            other => panic!("BENCH_TRANSPORTS: unknown transport {other:?}"),
        })
        .collect();
    let mut rows = Vec::new();
    for (name, make) in backends {
        for &transport in &transports {
            let database = make();
            rows.push(runtime.block_on(run(name, &database, streams, transport)));
        }
    }
    println!(
        "\n| backend | transport | streams | RSS before MiB | RSS after MiB | bytes/idle stream | posts | \
         per post p50 ms | p99 ms | max ms | per delivery p50 ms | p99 ms | server CPU ms/post | bench CPU ms/post |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for row in rows {
        println!("{row}");
    }
}

/// `BENCH_PROBE=1`: the floor of a fan-out on this machine, without a
/// server. One thread writes the same 2 KB SSE event to `streams`
/// loopback sockets (blocking writes, nothing else), read by the same
/// client tasks as a run against the server; timed from the first write
/// to the last read, `BENCH_POSTS` times. What a server adds on top is
/// its dispatch; what this takes, any server on these cores takes.
async fn probe(streams: usize) {
    let posts = env_usize("BENCH_POSTS", 20);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (arrivals_tx, mut arrivals) = mpsc::unbounded_channel::<Instant>();
    let mut writers = Vec::with_capacity(streams);
    for _ in 0..streams {
        let client = TcpStream::connect(addr).await.unwrap();
        let (server, _) = listener.accept().unwrap();
        server.set_nodelay(true).unwrap();
        writers.push(server);
        tokio::spawn(read_updates(
            client,
            arrivals_tx.clone(),
            Transport::PortSse,
        ));
    }
    let event = format!("event: update\ndata: {}\n\n", "x".repeat(2048));
    let (go_tx, go_rx) = std::sync::mpsc::channel::<()>();
    let (started_tx, mut started_rx) = mpsc::unbounded_channel::<Instant>();
    std::thread::spawn(move || {
        use std::io::Write;
        while go_rx.recv().is_ok() {
            let _ = started_tx.send(Instant::now());
            for socket in &mut writers {
                socket.write_all(event.as_bytes()).unwrap();
            }
        }
    });
    let mut per_post = Vec::with_capacity(posts);
    let bench_cpu = cpu_ms("self");
    for _ in 0..posts {
        go_tx.send(()).unwrap();
        let started = started_rx.recv().await.unwrap();
        let mut last = started;
        for _ in 0..streams {
            last = last.max(arrivals.recv().await.unwrap());
        }
        per_post.push(last - started);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let cpu = (cpu_ms("self") - bench_cpu) / posts as f64;
    per_post.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "| probe | {streams} | {posts} | {:.1} | {:.1} | {:.1} | {cpu:.0} |",
        ms(per_post[posts / 2]),
        ms(per_post[((posts as f64 * 0.99) as usize).min(posts - 1)]),
        ms(*per_post.last().unwrap()),
    );
}

/// The server's resident memory, from `/proc/<pid>/status`.
fn rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
    let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kb * 1024
}

/// CPU time (user and system) a process has used so far, from
/// `/proc/<pid>/stat` (clock ticks of 10 ms).
fn cpu_ms(pid: &str) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The command name may hold spaces: fields are counted after its `)`.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    let ticks: f64 = fields[11].parse::<f64>().unwrap() + fields[12].parse::<f64>().unwrap();
    ticks * 10.0
}

/// Stops the child server when the run ends, however it ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Where and how the bench's clients read their streams.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Transport {
    /// Server-sent events on the streaming port.
    PortSse,
    /// The WebSocket on the streaming port.
    PortWs,
    /// Server-sent events on `http.bind`.
    HttpSse,
}

impl Transport {
    fn name(self) -> &'static str {
        match self {
            Transport::PortSse => "port-sse",
            Transport::PortWs => "port-ws",
            Transport::HttpSse => "http-sse",
        }
    }
}

async fn run(
    backend: &str,
    database: &TestDatabase,
    streams: usize,
    transport: Transport,
) -> String {
    let posts = env_usize("BENCH_POSTS", 20);
    let port = free_port();
    let stream_port = match transport {
        Transport::HttpSse => port,
        Transport::PortSse | Transport::PortWs => free_port(),
    };
    let domain = format!("bench.localhost:{port}");
    let log = tempfile::NamedTempFile::new().unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_outloud"));
    command
        .arg("serve")
        .env_remove("OUTLOUD_CONFIG")
        // BENCH_RUST_LOG: the server's log filter (its log is kept at
        // BENCH_SERVER_LOG when that is set), e.g. to time the dispatcher
        // with `outloud::api::streaming::dispatch=debug`.
        .env(
            "RUST_LOG",
            std::env::var("BENCH_RUST_LOG").unwrap_or_else(|_| "warn".into()),
        )
        .env("OUTLOUD_DATABASE__URL", &database.url)
        .env("OUTLOUD_DATABASE__POOL_SIZE", "8")
        .env("OUTLOUD_HTTP__BIND", format!("127.0.0.1:{port}"))
        .env("OUTLOUD_INSTANCE__DOMAIN", &domain)
        .env("OUTLOUD_FEDERATION__DEV_MODE", "true")
        .env("OUTLOUD_API__RATE_LIMIT", "0")
        .env(
            "OUTLOUD_STREAMING__BIND",
            if stream_port == port {
                String::new()
            } else {
                format!("127.0.0.1:{stream_port}")
            },
        )
        .stdin(Stdio::null())
        .stdout(log.reopen().unwrap())
        .stderr(log.reopen().unwrap());
    let server = Server(command.spawn().unwrap());
    let pid = server.0.id();
    let http = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    loop {
        let up = http
            .get(format!("{base}/api/v1/streaming/health"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success());
        if up {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the server did not start: {}",
            std::fs::read_to_string(log.path()).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    let seeding = Instant::now();
    let db = Db::connect(&database.url, 4).unwrap();
    let urls = Urls::new("http", &domain).unwrap();
    let (author, tokens) = seed(&db, &urls, streams).await;
    eprintln!(
        "({backend}: {streams} followers seeded in {:.1} s)",
        seeding.elapsed().as_secs_f64()
    );
    let author_token = token(&db, &author.id, "read write").await;

    // Warm the server up (pool, caches) before the first reading.
    for _ in 0..3 {
        post(&http, &base, &domain, &author_token, "warm-up").await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    let before = rss_bytes(pid);

    let opening = Instant::now();
    let (arrivals_tx, mut arrivals) = mpsc::unbounded_channel::<Instant>();
    let gate = Arc::new(Semaphore::new(64));
    let mut opened = Vec::with_capacity(streams);
    for token in tokens {
        let (gate, domain, arrivals_tx) = (gate.clone(), domain.clone(), arrivals_tx.clone());
        opened.push(tokio::spawn(async move {
            let permit = gate.acquire_owned().await.unwrap();
            let socket = open_stream(stream_port, &domain, &token, transport).await;
            drop(permit);
            tokio::spawn(read_updates(socket, arrivals_tx, transport));
        }));
    }
    for task in opened {
        task.await.unwrap();
    }
    eprintln!(
        "({backend}, {}: {streams} streams opened in {:.1} s)",
        transport.name(),
        opening.elapsed().as_secs_f64()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_bytes(pid);
    let per_stream = after.saturating_sub(before) as f64 / streams as f64;

    let mut per_post = Vec::with_capacity(posts);
    let mut per_delivery = Vec::with_capacity(posts * streams);
    let (server_cpu, bench_cpu) = (cpu_ms(&pid.to_string()), cpu_ms("self"));
    for n in 0..posts {
        let posted = post(&http, &base, &domain, &author_token, &format!("post {n}")).await;
        let mut last = posted;
        for _ in 0..streams {
            let at = tokio::time::timeout(Duration::from_secs(60), arrivals.recv())
                .await
                .unwrap_or_else(|_| panic!("post {n}: not every stream got its update in 60 s"))
                .unwrap();
            // An update read before the POST's answer came back counts as 0.
            per_delivery.push(at.saturating_duration_since(posted));
            last = last.max(at);
        }
        per_post.push(last.saturating_duration_since(posted));
    }
    let server_cpu = (cpu_ms(&pid.to_string()) - server_cpu) / posts as f64;
    let bench_cpu = (cpu_ms("self") - bench_cpu) / posts as f64;
    assert!(
        arrivals.try_recv().is_err(),
        "a stream got more updates than were posted"
    );
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let pct = |all: &mut Vec<Duration>, p: f64| {
        all.sort();
        ms(all[((all.len() as f64 * p) as usize).min(all.len() - 1)])
    };
    let row = format!(
        "| {backend} | {} | {streams} | {:.1} | {:.1} | {:.0} | {posts} | {:.1} | {:.1} | {:.1} | {:.1} | {:.1} | {server_cpu:.0} | {bench_cpu:.0} |",
        transport.name(),
        before as f64 / 1048576.0,
        after as f64 / 1048576.0,
        per_stream,
        pct(&mut per_post, 0.50),
        pct(&mut per_post, 0.99),
        ms(*per_post.iter().max().unwrap()),
        pct(&mut per_delivery, 0.50),
        pct(&mut per_delivery, 0.99),
    );
    println!("{row}");
    drop(server);
    if let Ok(keep) = std::env::var("BENCH_SERVER_LOG") {
        std::fs::copy(log.path(), format!("{keep}.{backend}.{}", transport.name())).unwrap();
    }
    row
}

/// The author and `n` followers with a token each. Followers are bare
/// actor rows sharing the author's keys (a token needs no password), all
/// written in one transaction so seeding takes seconds.
async fn seed(db: &Db, urls: &Urls, n: usize) -> (Actor, Vec<String>) {
    let author = accounts::create_user(
        db,
        urls,
        NewUser {
            name: "author",
            password: "password for benchmarks",
            role: outloud::db::local_user::Role::User,
        },
    )
    .await
    .unwrap();
    let (template, urls) = (author.clone(), urls.clone());
    let tokens = db
        .transaction(move |conn| {
            let mut tokens = Vec::with_capacity(n);
            for i in 0..n {
                let name = format!("reader{i}");
                let reader = Actor {
                    id: new_id(),
                    ap_id: DbUrl(urls.person(&name)),
                    username: name.clone(),
                    inbox_url: DbUrl(urls.person_inbox(&name)),
                    followers_url: Some(urls.person_followers(&name).to_string()),
                    url: Some(urls.profile_page(&name).to_string()),
                    ..template.clone()
                };
                Actor::insert(conn, &reader)?;
                Follow::insert(
                    conn,
                    &Follow {
                        id: new_id(),
                        ap_id: DbUrl(url::Url::parse(&format!("{}#follow", reader.ap_id)).unwrap()),
                        follower_id: reader.id.clone(),
                        followee_id: template.id.clone(),
                        state: "accepted".into(),
                        created_at: now(),
                        updated_at: now(),
                    },
                )?;
                let secret = format!("bench-{}", uuid::Uuid::new_v4().simple());
                OauthToken::insert(conn, &token_row(&reader.id, &secret, "read"))?;
                tokens.push(secret);
            }
            Ok(tokens)
        })
        .await
        .unwrap();
    (author, tokens)
}

fn token_row(actor_id: &str, secret: &str, scopes: &str) -> OauthToken {
    OauthToken {
        id: new_id(),
        token_hash: hash_secret(secret),
        refresh_hash: None,
        app_id: Some(ADMIN_APP_ID.into()),
        actor_id: Some(actor_id.into()),
        scopes: scopes.into(),
        created_at: now(),
        revoked_at: None,
        code_hash: None,
    }
}

async fn token(db: &Db, actor_id: &str, scopes: &str) -> String {
    let secret = format!("bench-{}", uuid::Uuid::new_v4().simple());
    let row = token_row(actor_id, &secret, scopes);
    db.run(move |conn| Ok(OauthToken::insert(conn, &row)?))
        .await
        .unwrap();
    secret
}

/// Posts a public status as the author; returns when the answer came.
async fn post(
    http: &reqwest::Client,
    base: &str,
    domain: &str,
    token: &str,
    text: &str,
) -> Instant {
    let response = http
        .post(format!("{base}/api/v1/statuses"))
        .bearer_auth(token)
        .header("Host", domain)
        .form(&[("status", text), ("visibility", "public")])
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    response.bytes().await.unwrap();
    Instant::now()
}

/// Opens the `user` stream and reads until the server has registered it:
/// the stream's first comment (`:)`) for SSE, the handshake's answer for
/// the WebSocket (the token and stream are checked and the connection
/// registered before it).
async fn open_stream(port: u16, domain: &str, token: &str, transport: Transport) -> TcpStream {
    let mut socket = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
    let (request, until, starts): (String, &[u8], &[u8]) = match transport {
        Transport::PortWs => (
            format!(
                "GET /api/v1/streaming?stream=user HTTP/1.1\r\nHost: {domain}\r\n\
                 Authorization: Bearer {token}\r\nUpgrade: websocket\r\n\
                 Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
                 Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
            ),
            b"\r\n\r\n",
            b"HTTP/1.1 101",
        ),
        Transport::PortSse | Transport::HttpSse => (
            format!(
                "GET /api/v1/streaming/user HTTP/1.1\r\nHost: {domain}\r\n\
                 Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
            ),
            b":)\n",
            b"HTTP/1.1 200",
        ),
    };
    socket.write_all(request.as_bytes()).await.unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !seen.windows(until.len()).any(|w| w == until) {
        let n = socket.read(&mut buf).await.unwrap();
        assert!(n > 0, "stream closed: {}", String::from_utf8_lossy(&seen));
        seen.extend_from_slice(&buf[..n]);
    }
    assert!(
        seen.starts_with(starts),
        "{}",
        String::from_utf8_lossy(&seen)
    );
    socket
}

/// Reports the moment each `update` event is read on one connection: an
/// SSE `event: update` line, or a WebSocket frame's `"event":"update"`
/// (server frames are unmasked, so the JSON text is on the wire as is).
async fn read_updates(
    mut socket: TcpStream,
    arrivals: mpsc::UnboundedSender<Instant>,
    transport: Transport,
) {
    let mark: &[u8] = match transport {
        Transport::PortWs => b"\"event\":\"update\"",
        Transport::PortSse | Transport::HttpSse => b"event: update\n",
    };
    let finder = memchr::memmem::Finder::new(mark);
    // What is kept of the last read: the start of a mark it may have cut.
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 4096];
    loop {
        let n = match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let at = Instant::now();
        pending.extend_from_slice(&buf[..n]);
        let mut from = 0;
        while let Some(i) = finder.find(&pending[from..]) {
            if arrivals.send(at).is_err() {
                return;
            }
            from += i + mark.len();
        }
        let keep = pending.len().saturating_sub(mark.len() - 1).max(from);
        pending.drain(..keep);
    }
}
