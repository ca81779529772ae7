//! Weekly digests (issue 13 §4, docs/web.md "Digests"): the person's and
//! the community's digest page and Atom feeds with visibility respected,
//! the secret person feed, and the weekly e-mail through a real SMTP
//! listener (aiosmtpd, PyPI, pinned in `tests/client/requirements-smtp.txt`,
//! run by `tests/client/smtp_sink.py`): exactly one multipart message per
//! opted-in person per week, none for others, however often the scheduler
//! passes.
//!
//! Without Python or PyPI the e-mail test prints a notice and passes,
//! unless `OUTLOUD_TEST_SMTP_REQUIRED=1` (CI sets it), where it fails.

use crate::{
    api_client::Api,
    browser::Browser,
    communities::create_community,
    harness::{both_backends, TestInstance},
    web_narrations::WebClient,
};
use chrono::{TimeDelta, Utc};
use outloud::{
    config::{Backend, MailTls},
    db::{answer::AcceptedAnswer, community::Posting, post::NarrationKind, post::Visibility},
    service::{
        self,
        digests::{Pass, Week},
        posts::NewPost,
    },
};
use reqwest::StatusCode;
use std::{
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

both_backends!(
    digest_page_and_feeds,
    digest_through_the_client_api,
    digest_email_once_per_week,
);

fn this_week() -> String {
    Week::containing(Utc::now(), chrono_tz::UTC).to_string()
}

async fn narrate(
    instance: &TestInstance,
    who: &str,
    text: &str,
    kind: NarrationKind,
    visibility: Visibility,
    community: Option<url::Url>,
) -> outloud::db::post::Post {
    let mut new = NewPost::note(text);
    new.narration = Some(kind);
    new.visibility = visibility;
    new.community = community;
    instance.publish(who, new).await
}

/// ana follows bob and joined `rust`; carl is followed by nobody.
async fn week_of_posts(alpha: &TestInstance) {
    let ana = alpha.create_user("ana").await;
    let bob = alpha.create_user("bob").await;
    alpha.create_user("carl").await;
    alpha.create_user("dora").await;
    let _ = ana;
    create_community(alpha, "rust", &bob, false, false, Posting::Members).await;
    alpha.follow("ana", &alpha.handle_of("bob")).await;
    alpha.follow("ana", &alpha.handle_of("rust")).await;
    alpha.follow("dora", &alpha.handle_of("rust")).await;
    let rust = alpha.local("rust").await.ap_id.0.clone();
    let vis = Visibility::Public;
    narrate(
        alpha,
        "bob",
        "Borrowck likes short scopes",
        NarrationKind::Learned,
        vis,
        None,
    )
    .await;
    narrate(
        alpha,
        "bob",
        "Followers hear: cargo caches",
        NarrationKind::Learned,
        Visibility::Followers,
        None,
    )
    .await;
    narrate(
        alpha,
        "carl",
        "Secret of carl",
        NarrationKind::Learned,
        Visibility::Followers,
        None,
    )
    .await;
    narrate(
        alpha,
        "bob",
        "The linker hangs",
        NarrationKind::Stuck,
        vis,
        None,
    )
    .await;
    let asked = narrate(
        alpha,
        "bob",
        "Why is my build slow?",
        NarrationKind::Ask,
        vis,
        None,
    )
    .await;
    narrate(
        alpha,
        "bob",
        "Who knows tokio?",
        NarrationKind::Ask,
        vis,
        None,
    )
    .await;
    narrate(
        alpha,
        "dora",
        "Lifetimes in the community",
        NarrationKind::Learned,
        vis,
        Some(rust),
    )
    .await;
    let answer = alpha
        .reply("carl", &asked.ap_id.0, "Use the mold linker")
        .await;
    alpha
        .context
        .db
        .run(move |conn| {
            AcceptedAnswer::accept(conn, &asked.id, &answer.id, None, outloud::db::now())?;
            Ok(())
        })
        .await
        .unwrap();
}

fn part(page: &str, id: &str) -> String {
    let start = page
        .find(&format!("id=\"digest-{id}\""))
        .unwrap_or_else(|| panic!("part {id} in {page}"));
    let end = page[start..].find("</section>").unwrap() + start;
    page[start..end].to_string()
}

/// The texts of a digest part's statuses.
fn texts(part: &serde_json::Value) -> Vec<String> {
    part.as_array()
        .unwrap_or_else(|| panic!("a list: {part}"))
        .iter()
        .map(|s| s["content"].as_str().unwrap().to_string())
        .collect()
}

/// The same digests as JSON (docs/api.md "Digests"): the person's, with
/// what only a follower may read, and the community's, public only.
async fn digest_through_the_client_api(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    week_of_posts(&alpha).await;
    let week = this_week();
    let ana = Api::for_user(&alpha, "ana", "read").await;
    let mine = ana
        .get(&format!("/api/v1/outloud/digest?week={week}"))
        .await
        .ok();
    assert_eq!(mine["week"], week.as_str());
    assert!(mine["start"].as_str().unwrap() < mine["end"].as_str().unwrap());
    let learned = texts(&mine["learned"]).join(" | ");
    for text in [
        "Borrowck likes short scopes",
        "Followers hear: cargo caches",
        "Lifetimes in the community",
    ] {
        assert!(learned.contains(text), "{text}: {learned}");
    }
    assert!(!mine.to_string().contains("Secret of carl"), "{mine}");
    crate::schema::assert_valid("Status", &mine["learned"][0]);
    let answered = &mine["answered"];
    assert_eq!(answered.as_array().unwrap().len(), 1, "{answered}");
    assert!(texts(answered)[0].contains("Why is my build slow?"));
    assert_eq!(answered[0]["outloud"]["kind"], "ask");
    assert!(answered[0]["outloud"]["accepted_answer_id"].is_string());
    let open = texts(&mine["open"]);
    assert!(
        open.len() == 1 && open[0].contains("Who knows tokio?"),
        "{open:?}"
    );
    assert!(texts(&mine["stuck"])[0].contains("The linker hangs"));
    let members = &mine["new_members"];
    assert_eq!(members[0]["account"]["username"], "dora", "{members}");
    assert_eq!(members[0]["community"]["username"], "rust");
    crate::schema::assert_valid("Account", &members[0]["account"]);

    // Refusals: signed out 401, a bad week 400.
    let anonymous = Api::anonymous(&alpha);
    assert_eq!(
        anonymous
            .get("/api/v1/outloud/digest")
            .await
            .status
            .as_u16(),
        401
    );
    let bad = ana.get("/api/v1/outloud/digest?week=2026-W99").await;
    assert_eq!(bad.status.as_u16(), 400);
    assert!(bad.json["error"].as_str().unwrap().contains("2026-W99"));
    // Without `week`: the last complete week, which has none of this.
    let last = ana.get("/api/v1/outloud/digest").await.ok();
    assert_ne!(last["week"], week.as_str());
    assert!(last["learned"].as_array().unwrap().is_empty(), "{last}");

    // The community's digest is public and holds public posts only.
    let rust = alpha.local("rust").await;
    let community = anonymous
        .get(&format!(
            "/api/v1/outloud/communities/{}/digest?week={week}",
            rust.id
        ))
        .await
        .ok();
    let learned = texts(&community["learned"]);
    assert!(
        learned.len() == 1 && learned[0].contains("Lifetimes in the community"),
        "{learned:?}"
    );
    assert!(!community.to_string().contains("Followers hear"));
    assert_eq!(community["new_members"][0]["account"]["username"], "dora");
    let bob = alpha.local("bob").await;
    for (id, status) in [("nope", 404), (bob.id.as_str(), 404)] {
        let answer = anonymous
            .get(&format!("/api/v1/outloud/communities/{id}/digest"))
            .await;
        assert_eq!(answer.status.as_u16(), status, "{id}: {:?}", answer.json);
    }
}

async fn digest_page_and_feeds(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    week_of_posts(&alpha).await;
    let week = this_week();
    let ana = WebClient::sign_in(&alpha, "ana").await;
    let page = ana.page(&format!("/digest?week={week}")).await;
    let learned = part(&page, "learned");
    assert!(learned.contains("Borrowck likes short scopes"), "{learned}");
    assert!(
        learned.contains("Followers hear: cargo caches"),
        "{learned}"
    );
    assert!(learned.contains("Lifetimes in the community"), "{learned}");
    assert!(
        !page.contains("Secret of carl"),
        "followers-only of carl leaked"
    );
    assert!(part(&page, "answered").contains("Why is my build slow?"));
    let open = part(&page, "open");
    assert!(
        open.contains("Who knows tokio?") && !open.contains("build slow"),
        "{open}"
    );
    assert!(part(&page, "stuck").contains("The linker hangs"));
    assert!(part(&page, "members").contains("dora"));
    // A bad week is a 400 page, not a 500.
    let bad = alpha.get_html("/digest?week=2026-W99").await;
    assert_eq!(
        bad.status(),
        StatusCode::SEE_OTHER,
        "signed out: sign in first"
    );
    let bad = ana.get("/digest?week=2026-W99").await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);

    // The community's digest and feed: public posts only.
    let community = alpha.get_html(&format!("/c/rust/digest?week={week}")).await;
    assert_eq!(community.status(), StatusCode::OK);
    let community = community.text().await.unwrap();
    assert!(part(&community, "learned").contains("Lifetimes in the community"));
    assert!(!community.contains("Followers hear"));
    assert!(part(&community, "members").contains("dora"));
    assert_eq!(
        alpha.get_html("/c/nope/digest").await.status(),
        StatusCode::NOT_FOUND
    );
    let feed = alpha.get("/c/rust/digest.atom").await;
    assert_eq!(feed.status(), StatusCode::OK);
    assert!(feed.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/atom+xml"));
    let feed = feed.text().await.unwrap();
    assert!(feed.contains("<feed") && feed.contains("<entry>"), "{feed}");

    // The person's feed behind the token on the settings page.
    let settings = ana.page("/settings/digest").await;
    let marker = "id=\"digest-feed-url\" value=\"";
    let start = settings.find(marker).expect("feed url") + marker.len();
    let url = &settings[start..start + settings[start..].find('"').unwrap()];
    let path = url.split_once(&alpha.domain).unwrap().1.to_string();
    assert_eq!(alpha.get(&path).await.status(), StatusCode::OK);
    assert_eq!(
        alpha.get("/digest/0123456789abcdef.atom").await.status(),
        StatusCode::NOT_FOUND
    );
    // Asking for the e-mail without an address is refused with a 422 page.
    let refused = ana
        .submit(
            "/settings/digest",
            "/settings/digest",
            &[("email", ""), ("digest_email", "1")],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused = ana
        .submit(
            "/settings/digest",
            "/settings/digest",
            &[("email", "not an address")],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let saved = ana
        .submit(
            "/settings/digest",
            "/settings/digest",
            &[("email", "ana@example.org"), ("digest_email", "1")],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    assert!(ana
        .page("/settings/digest")
        .await
        .contains("ana@example.org"));

    // The page in a real browser: signed in, no console errors.
    if let Some(b) = Browser::start("digest_page").await {
        b.goto(&alpha.url("/login?next=/digest")).await;
        b.fill("#username", "ana").await;
        b.fill("#password", "password for tests").await;
        b.click("main button[type=submit]").await;
        b.visit(&alpha.url(&format!("/digest?week={week}")), "digest")
            .await;
        assert!(b
            .text("#digest-learned")
            .await
            .contains("Borrowck likes short scopes"));
        assert!(!b.source().await.contains("Secret of carl"));
        b.close().await;
    }
}

// ---- the SMTP sink ---------------------------------------------------------

fn required() -> bool {
    std::env::var("OUTLOUD_TEST_SMTP_REQUIRED").is_ok_and(|v| v == "1")
}

/// aiosmtpd on a free loopback port, writing messages into a directory.
struct Sink {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Sink {
    async fn start() -> Option<Sink> {
        let python = match tokio::task::spawn_blocking(crate::mastodon_py::smtp_venv_python)
            .await
            .unwrap()
        {
            Ok(python) => python,
            Err(why) => {
                assert!(!required(), "OUTLOUD_TEST_SMTP_REQUIRED=1 but: {why}");
                eprintln!("skipping the digest e-mail test: {why}");
                return None;
            }
        };
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = std::env::temp_dir().join(format!("outloud-smtp-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/client/smtp_sink.py");
        let mut child = Command::new(python)
            .args(["-I", "-u"])
            .arg(script)
            .env("SMTP_SINK_DIR", &dir)
            .env("SMTP_SINK_PORT", port.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .expect("starting the SMTP sink");
        let stdout = child.stdout.take().unwrap();
        let ready = tokio::task::spawn_blocking(move || {
            use std::io::BufRead;
            let mut line = String::new();
            std::io::BufReader::new(stdout).read_line(&mut line).ok();
            line
        });
        let line = tokio::time::timeout(Duration::from_secs(30), ready)
            .await
            .expect("the SMTP sink starts")
            .unwrap();
        assert_eq!(line.trim(), "READY");
        Some(Sink { child, port, dir })
    }

    /// The messages received so far.
    fn messages(&self) -> Vec<String> {
        let mut names: Vec<_> = std::fs::read_dir(&self.dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap())
            .collect()
    }
}

async fn digest_email_once_per_week(backend: Backend) {
    let Some(sink) = Sink::start().await else {
        return;
    };
    let port = sink.port;
    let alpha = TestInstance::spawn_with("alpha", backend, |config| {
        config.mail.smtp_host = "127.0.0.1".into();
        config.mail.smtp_port = port;
        config.mail.tls = MailTls::None;
        config.mail.from = "Outloud digest <digest@alpha.localhost>".into();
        // Monday 00:00: the moment of the current week has always passed.
        config.digest.day = "mon".into();
        config.digest.hour = 0;
    })
    .await;
    week_of_posts(&alpha).await;
    let ana = alpha.local("ana").await;
    let carl = alpha.local("carl").await;
    let ctx = &alpha.context;
    service::digests::save_email(&ctx.db, &ana.id, "ana@example.org", true)
        .await
        .unwrap();
    // carl has an address but did not ask for the e-mail.
    service::digests::save_email(&ctx.db, &carl.id, "carl@example.org", false)
        .await
        .unwrap();
    // A week on, this week is the last complete one: its digest is due.
    let next_week = Utc::now() + TimeDelta::days(7);
    let first = service::digests::run_due(ctx, next_week).await.unwrap();
    assert_eq!(first, Pass { sent: 1, failed: 0 });
    let second = service::digests::run_due(ctx, next_week + TimeDelta::minutes(5))
        .await
        .unwrap();
    assert_eq!(second, Pass::default(), "a second pass sends nothing");
    let messages = sink.messages();
    assert_eq!(messages.len(), 1, "{messages:?}");
    let message = &messages[0];
    assert!(
        message.starts_with("X-Sink-Rcpt: ana@example.org\r\n"),
        "{message}"
    );
    assert!(message.contains("multipart/alternative"), "{message}");
    assert!(
        message.contains("text/plain") && message.contains("text/html"),
        "{message}"
    );
    assert!(message.contains("Borrowck likes short scopes"), "{message}");
    assert!(!message.contains("Secret of carl"), "{message}");
    let status = {
        let (id, week) = (ana.id.clone(), this_week());
        alpha
            .context
            .db
            .run(move |conn| Ok(outloud::db::digest::status(conn, &id, &week)?))
            .await
            .unwrap()
    };
    assert_eq!(status.as_deref(), Some("sent"));
}

/// Two `outloud serve` processes on one PostgreSQL, both checking every
/// second with the week's moment passed: each opted-in person gets exactly
/// one e-mail, however many passes both make.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_send_one_email_per_person() {
    use outloud::{
        db::local_user::Role,
        service::accounts::{create_user, NewUser},
        startup,
        urls::Urls,
    };
    let label = "digest_processes";
    if !crate::harness::postgres_available(label) {
        return;
    }
    let Some(sink) = Sink::start().await else {
        return;
    };
    let database = crate::harness::database(Backend::Postgres, label);
    let domain = "alpha.localhost";
    let config = outloud::config::Config::for_test(domain, &database.url);
    let db = startup::open_database(&config).await.unwrap();
    let urls = Urls::new("http", domain).unwrap();
    service::instance::ensure_instance_actor(&db, &urls)
        .await
        .unwrap();
    for (name, wants) in [("ana", true), ("bob", true), ("carl", false)] {
        let actor = create_user(
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
        service::digests::save_email(&db, &actor.id, &format!("{name}@example.org"), wants)
            .await
            .unwrap();
    }
    let mut processes = crate::delivery_scale::Processes::new();
    for (name, value) in [
        ("OUTLOUD_MAIL__SMTP_HOST", "127.0.0.1".to_string()),
        ("OUTLOUD_MAIL__SMTP_PORT", sink.port.to_string()),
        ("OUTLOUD_MAIL__TLS", "none".to_string()),
        ("OUTLOUD_MAIL__FROM", "digest@alpha.localhost".to_string()),
        ("OUTLOUD_DIGEST__DAY", "mon".to_string()),
        ("OUTLOUD_DIGEST__HOUR", "0".to_string()),
        ("OUTLOUD_DIGEST__CHECK_SECONDS", "1".to_string()),
    ] {
        processes.set_env(name, &value);
    }
    processes.start(domain, &database.url).await;
    processes.start(domain, &database.url).await;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while sink.messages().len() < 2 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Both processes pass several more times.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let mut to: Vec<String> = sink
        .messages()
        .iter()
        .map(|m| m.lines().next().unwrap().to_string())
        .collect();
    to.sort();
    assert_eq!(
        to,
        [
            "X-Sink-Rcpt: ana@example.org",
            "X-Sink-Rcpt: bob@example.org"
        ]
    );
    drop(processes);
    drop(database);
}
