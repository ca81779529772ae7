//! Home-timeline benchmark (docs/performance.md):
//! `cargo bench --bench timeline`.
//!
//! Stores `BENCH_STATUSES` statuses (default 100,000) by `BENCH_AUTHORS`
//! authors (default 100), of whom the reader follows half, plus a boost for
//! every hundredth status, then serves `GET /api/v1/timelines/home?limit=40`
//! to `BENCH_CLIENTS` concurrent clients (default 16) for `BENCH_SECONDS`
//! (default 20) and reports requests per second and latency percentiles,
//! on SQLite and on PostgreSQL when one answers
//! (`OUTLOUD_TEST_POSTGRES`, else `postgres://postgres@127.0.0.1:5432/test`).
//! The server runs in this process with one actix worker per core, as
//! `outloud serve` does, and the clients share the same two cores.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use outloud::{
    config::Config,
    db::{
        actor::Actor, follow::Follow, local_user::Role, new_id, now, post::Post,
        reaction::Reaction, DbUrl,
    },
    service::accounts::{self, NewUser},
    startup::{self, ServerOptions},
    testing::TestDatabase,
};
use std::time::{Duration, Instant};

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
    let mut backends = vec![("sqlite", TestDatabase::sqlite as fn() -> TestDatabase)];
    if TestDatabase::postgres("bench").is_some() {
        backends.push(("postgres", || TestDatabase::postgres("bench").unwrap()));
    }
    println!(
        "| backend | statuses | clients | requests/s | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|---|---|"
    );
    for (name, make) in backends {
        let database = make();
        runtime.block_on(run(name, &database));
    }
}

async fn run(backend: &str, database: &TestDatabase) {
    let statuses = env_usize("BENCH_STATUSES", 100_000);
    let authors = env_usize("BENCH_AUTHORS", 100);
    let clients = env_usize("BENCH_CLIENTS", 16);
    let seconds = env_usize("BENCH_SECONDS", 20) as u64;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let domain = format!("bench.localhost:{}", listener.local_addr().unwrap().port());
    let mut config = Config::for_test(&domain, &database.url);
    config.api.rate_limit = 0;
    config.database.pool_size = 8;
    let server = startup::build_with_listener(
        config,
        listener,
        ServerOptions {
            workers: None,
            handle_signals: false,
            delivery_workers: false,
        },
    )
    .await
    .unwrap();
    let context = server.context.clone();
    let handle = server.handle();
    tokio::spawn(server.run_until_stopped());

    let seeding = Instant::now();
    let reader = accounts::create_user(
        &context.db,
        &context.urls,
        NewUser {
            name: "reader",
            password: "password for benchmarks",
            role: Role::User,
        },
    )
    .await
    .unwrap();
    let template = accounts::create_user(
        &context.db,
        &context.urls,
        NewUser {
            name: "template",
            password: "password for benchmarks",
            role: Role::User,
        },
    )
    .await
    .unwrap();
    // Authors share the template's keys: only their rows matter here.
    let author_rows: Vec<Actor> = (0..authors)
        .map(|i| {
            let name = format!("author{i}");
            Actor {
                id: new_id(),
                ap_id: DbUrl(context.urls.person(&name)),
                username: name.clone(),
                inbox_url: DbUrl(context.urls.person_inbox(&name)),
                followers_url: Some(context.urls.person_followers(&name).to_string()),
                url: Some(context.urls.profile_page(&name).to_string()),
                ..template.clone()
            }
        })
        .collect();
    let (rows, reader_row) = (author_rows.clone(), reader.clone());
    context
        .db
        .transaction(move |conn| {
            for (i, author) in rows.iter().enumerate() {
                Actor::insert(conn, author)?;
                if i % 2 == 0 {
                    Follow::insert(
                        conn,
                        &Follow {
                            id: new_id(),
                            ap_id: DbUrl(
                                url::Url::parse(&format!("{}#follow", author.ap_id)).unwrap(),
                            ),
                            follower_id: reader_row.id.clone(),
                            followee_id: author.id.clone(),
                            state: "accepted".into(),
                            created_at: now(),
                            updated_at: now(),
                        },
                    )?;
                }
            }
            Ok(())
        })
        .await
        .unwrap();
    const BATCH: usize = 2_000;
    let mut written = 0;
    while written < statuses {
        let (rows, urls) = (author_rows.clone(), context.urls.clone());
        let start = written;
        let end = (written + BATCH).min(statuses);
        context
            .db
            .transaction(move |conn| {
                for n in start..end {
                    let author = &rows[n % rows.len()];
                    let id = new_id();
                    let post = Post {
                        id: id.clone(),
                        ap_id: DbUrl(urls.object(&id)),
                        author_id: author.id.clone(),
                        kind: "Note".into(),
                        visibility: if n % 10 == 0 { "followers" } else { "public" }.into(),
                        title: None,
                        content: format!(
                            "<p>Narration {n}: what I learned about caching today.</p>"
                        ),
                        source: Some(format!(
                            "Narration {n}: what I learned about caching today."
                        )),
                        summary: None,
                        sensitive: false,
                        language: Some("en".into()),
                        in_reply_to: None,
                        thread: Some(urls.object(&id).to_string()),
                        url: Some(urls.post_page(&author.username, &id).to_string()),
                        to_json: "[\"https://www.w3.org/ns/activitystreams#Public\"]".into(),
                        cc_json: "[]".into(),
                        local: true,
                        published: now(),
                        updated: None,
                        deleted_at: None,
                        community_id: None,
                        search_text: None,
                        narration_kind: None,
                    };
                    Post::insert(conn, &post, &[])?;
                    if n % 100 == 0 {
                        let booster = &rows[(n + 2) % rows.len()];
                        Reaction::insert(
                            conn,
                            &Reaction {
                                id: new_id(),
                                ap_id: DbUrl(urls.activity(&new_id())),
                                kind: "announce".into(),
                                actor_id: booster.id.clone(),
                                post_id: id.clone(),
                                created_at: now(),
                            },
                        )?;
                    }
                }
                Ok(())
            })
            .await
            .unwrap();
        written = end;
    }
    let seeded = seeding.elapsed();
    let token = outloud::service::oauth::token_for_user(&context.db, &reader, "read")
        .await
        .unwrap()
        .access_token;
    let url = format!(
        "http://127.0.0.1:{}/api/v1/timelines/home?limit=40",
        handle_port(&domain)
    );
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients)
        .build()
        .unwrap();
    // Warm up, and check the answer is a full page.
    let first: serde_json::Value = client
        .get(&url)
        .bearer_auth(&token)
        .header("Host", &domain)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(first.as_array().map(|a| a.len()), Some(40), "a full page");
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (client, url, token, domain) =
            (client.clone(), url.clone(), token.clone(), domain.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let t = Instant::now();
                let response = client
                    .get(&url)
                    .bearer_auth(&token)
                    .header("Host", &domain)
                    .send()
                    .await
                    .unwrap();
                assert!(response.status().is_success(), "{}", response.status());
                response.bytes().await.unwrap();
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    let elapsed = started.elapsed();
    all.sort();
    let pct =
        |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)].as_secs_f64() * 1000.0;
    println!(
        "| {backend} | {statuses} | {clients} | {:.0} | {:.1} | {:.1} | {:.1} |",
        all.len() as f64 / elapsed.as_secs_f64(),
        pct(0.50),
        pct(0.99),
        all.last().unwrap().as_secs_f64() * 1000.0
    );
    eprintln!("({backend}: seeding took {:.0} s)", seeded.as_secs_f64());
    handle.stop(false).await;
}

fn handle_port(domain: &str) -> &str {
    domain.rsplit(':').next().unwrap()
}
