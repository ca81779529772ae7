//! Export and import of narrations (issue 15 §3): an archive made on one
//! instance (through the API and through the web page) imported on
//! another, idempotently; a Mastodon archive; hostile archives refused
//! with a message and nothing stored.

use crate::{
    api_client::Api,
    harness::{both_backends, TestInstance},
};
use outloud::{
    config::Backend,
    db::{
        actor::Actor,
        community::Posting,
        follow::FollowState,
        post::{NarrationKind, Post, PostKind, Visibility},
    },
    service::{
        communities::{self, NewCommunity},
        posts::NewPost,
    },
};
use serde_json::{json, Value};
use std::io::{Cursor, Read, Write};

both_backends!(
    export_then_import_on_another_instance,
    mastodon_archive_imports,
    hostile_archives_are_refused,
    admin_export_command,
    long_archives_page_through_and_admins_export_anyone,
);

const PASSWORD: &str = "password for tests";

/// The bytes of a zip with these entries.
fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        out.start_file(*name, options).unwrap();
        out.write_all(bytes).unwrap();
    }
    out.finish().unwrap().into_inner()
}

/// Every entry of a zip, by name.
fn entries(bytes: &[u8]) -> std::collections::BTreeMap<String, String> {
    let mut zip = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut out = std::collections::BTreeMap::new();
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).unwrap();
        let mut text = String::new();
        entry.read_to_string(&mut text).unwrap();
        out.insert(entry.name().unwrap().to_string(), text);
    }
    out
}

/// A `multipart/form-data` body with text fields and the file `archive`.
fn multipart(fields: &[(&str, &str)], archive: &[u8]) -> (String, Vec<u8>) {
    crate::web_media::multipart(
        fields,
        &[("archive", "archive.zip", "application/zip", archive)],
    )
}

async fn api_export(instance: &TestInstance, token: &str) -> Vec<u8> {
    let response = instance
        .client
        .get(instance.url("/api/v1/outloud/export"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/zip");
    // Streamed: sent as it is made, so no length is known up front.
    assert!(response.headers().get("content-length").is_none());
    assert!(response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment; filename=\"outloud-"));
    response.bytes().await.unwrap().to_vec()
}

/// `POST /api/v1/outloud/import`: status and JSON answer.
async fn api_import(instance: &TestInstance, token: &str, archive: &[u8]) -> (u16, Value) {
    let (content_type, body) = multipart(&[], archive);
    let response = instance
        .client
        .post(instance.url("/api/v1/outloud/import"))
        .bearer_auth(token)
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn token(instance: &TestInstance, name: &str) -> String {
    Api::for_user(instance, name, "read write")
        .await
        .token
        .unwrap()
}

/// A browser session: cookies and the CSRF token of the settings page.
struct Browser {
    cookies: String,
    csrf: String,
}

fn cookies_of(response: &reqwest::Response) -> Vec<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next().map(String::from))
        .collect()
}

fn csrf_in(html: &str) -> String {
    let key = "name=\"csrf\" value=\"";
    let at = html.find(key).unwrap() + key.len();
    html[at..at + html[at..].find('"').unwrap()].to_string()
}

async fn sign_in(instance: &TestInstance, name: &str) -> Browser {
    let login = instance.get_html("/login").await;
    let mut cookies = cookies_of(&login);
    let csrf = csrf_in(&login.text().await.unwrap());
    let response = instance
        .client
        .post(instance.url("/login"))
        .header("cookie", cookies.join("; "))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", name),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    cookies.extend(cookies_of(&response));
    let cookies = cookies.join("; ");
    let page = instance
        .client
        .get(instance.url("/settings/archive"))
        .header("cookie", &cookies)
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(html.contains("Download your archive"), "{html}");
    assert!(html.contains("enctype=\"multipart/form-data\""), "{html}");
    Browser {
        csrf: csrf_in(&html),
        cookies,
    }
}

impl Browser {
    async fn download(&self, instance: &TestInstance) -> Vec<u8> {
        let response = instance
            .client
            .get(instance.url("/settings/archive/download"))
            .header("cookie", &self.cookies)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        response.bytes().await.unwrap().to_vec()
    }

    async fn upload(&self, instance: &TestInstance, archive: &[u8]) -> (u16, String) {
        let (content_type, body) = multipart(&[("csrf", &self.csrf)], archive);
        let response = instance
            .client
            .post(instance.url("/settings/archive/import"))
            .header("cookie", &self.cookies)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }
}

async fn posts_of(instance: &TestInstance, actor: &Actor) -> Vec<Post> {
    let id = actor.id.clone();
    let all = outloud::service::portability::export::ALL;
    instance
        .context
        .db
        .run(move |conn| Ok(Post::list_by_author(conn, &id, &all, None, 1000)?))
        .await
        .unwrap()
}

async fn export_then_import_on_another_instance(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    let alice = alpha.create_user("alice").await;
    alpha.create_user("bob").await;
    beta.create_user("alice2").await;
    let bob = alpha.local("bob").await;
    let guild = communities::create(
        &alpha.context.db,
        &alpha.context.urls,
        NewCommunity {
            name: "guild",
            owner: &bob,
            display_name: None,
            summary: None,
            approval: false,
            members_only: false,
            posting: Posting::Members,
            icon: None,
        },
    )
    .await
    .unwrap();
    alpha.follow("alice", &alpha.actor_url("bob")).await;
    alpha.follow("alice", guild.ap_id.as_str()).await;

    let first = alpha
        .publish(
            "alice",
            NewPost {
                narration: Some(NarrationKind::Learned),
                ..NewPost::note("Today I learned how **zip** streams work")
            },
        )
        .await;
    alpha
        .publish(
            "alice",
            NewPost::note("Markdown with <script>alert(1)</script> and <b>tags</b>"),
        )
        .await;
    alpha
        .publish(
            "alice",
            NewPost {
                kind: PostKind::Article,
                title: Some("Notes on archives".into()),
                visibility: Visibility::Unlisted,
                ..NewPost::note("A longer piece.\n\nWith paragraphs.")
            },
        )
        .await;
    let reply = alpha
        .reply("alice", &first.ap_id.0, "And a follow-up to it")
        .await;
    alpha
        .publish(
            "alice",
            NewPost {
                community: Some(guild.ap_id.0.clone()),
                ..NewPost::note("Posted in the guild")
            },
        )
        .await;
    alpha
        .publish(
            "alice",
            NewPost {
                visibility: Visibility::Followers,
                ..NewPost::note("For my followers")
            },
        )
        .await;
    alpha
        .publish(
            "alice",
            NewPost {
                visibility: Visibility::Direct,
                ..NewPost::note("@bob a direct word")
            },
        )
        .await;
    alpha.drain_deliveries().await;

    // The archive through the API.
    let archive = api_export(&alpha, &token(&alpha, "alice").await).await;
    let files = entries(&archive);
    for name in [
        "actor.json",
        "outbox.json",
        "following.json",
        "communities.json",
    ] {
        assert!(
            files.contains_key(name),
            "{name} missing: {:?}",
            files.keys()
        );
    }
    let actor: Value = serde_json::from_str(&files["actor.json"]).unwrap();
    assert_eq!(actor["id"], alice.ap_id.as_str());
    let outbox: Value = serde_json::from_str(&files["outbox.json"]).unwrap();
    assert_eq!(outbox["type"], "OrderedCollection");
    assert_eq!(outbox["totalItems"], 7);
    let items = outbox["orderedItems"].as_array().unwrap();
    assert_eq!(items.len(), 7);
    assert!(items.iter().all(|i| i["type"] == "Create"));
    let following: Value = serde_json::from_str(&files["following.json"]).unwrap();
    assert_eq!(following["orderedItems"], json!([alpha.actor_url("bob")]));
    let joined: Value = serde_json::from_str(&files["communities.json"]).unwrap();
    assert_eq!(joined["orderedItems"], json!([guild.ap_id.as_str()]));
    let markdown: Vec<&String> = files
        .keys()
        .filter(|k| k.starts_with("markdown/") && k.ends_with(".md"))
        .collect();
    assert_eq!(markdown.len(), 7, "{markdown:?}");
    let learned = files
        .values()
        .find(|text| text.contains("how **zip** streams"))
        .unwrap();
    assert!(learned.starts_with("---\n"), "{learned}");
    assert!(learned.contains("kind: \"learned\""), "{learned}");
    assert!(
        learned.contains(&format!("id: \"{}\"", first.ap_id.as_str())),
        "{learned}"
    );
    let in_guild = files
        .values()
        .find(|t| t.contains("Posted in the guild"))
        .unwrap();
    assert!(in_guild.contains(guild.ap_id.as_str()), "{in_guild}");
    let follow_up = files
        .values()
        .find(|t| t.contains("And a follow-up"))
        .unwrap();
    assert!(follow_up.contains(&format!("in_reply_to: \"{}\"", first.ap_id.as_str())));
    // Rendered HTML beside the source, in the outbox.
    let html_item = items
        .iter()
        .find(|i| {
            i["object"]["source"]["content"]
                .as_str()
                .is_some_and(|s| s.contains("<script>"))
        })
        .unwrap();
    assert!(!html_item["object"]["content"]
        .as_str()
        .unwrap()
        .contains("<script"));

    // The same archive through the web page.
    let web = sign_in(&alpha, "alice").await;
    let from_web = entries(&web.download(&alpha).await);
    assert_eq!(
        from_web.keys().collect::<Vec<_>>(),
        files.keys().collect::<Vec<_>>()
    );

    // Imported on beta as alice2.
    let alice2 = beta.local("alice2").await;
    let beta_token = token(&beta, "alice2").await;
    let (status, summary) = api_import(&beta, &beta_token, &archive).await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["imported"], 6, "{summary}");
    assert_eq!(summary["skipped"], 1, "{summary}");
    assert_eq!(summary["already_imported"], 0, "{summary}");
    assert_eq!(summary["follows_requested"], 1, "{summary}");
    assert_eq!(summary["communities_joined"], 1, "{summary}");
    assert_eq!(summary["errors"], json!([]), "{summary}");
    let imported = posts_of(&beta, &alice2).await;
    assert_eq!(imported.len(), 6);
    let originals = posts_of(&alpha, &alice).await;
    for post in &imported {
        let source = post.source.clone().unwrap();
        let original = originals
            .iter()
            .find(|o| source.starts_with(o.source.as_deref().unwrap().trim_end()))
            .unwrap_or_else(|| panic!("no original for {source}"));
        assert_eq!(post.published, original.published, "{source}");
        assert!(
            post.content.contains("Originally published at")
                && post.content.contains(original.url.as_deref().unwrap()),
            "{}",
            post.content
        );
        assert_eq!(post.visibility, original.visibility);
        assert_eq!(post.narration_kind, original.narration_kind);
        assert!(post.local && post.ap_id.as_str().starts_with(&beta.url("/")));
    }
    let escaped = imported
        .iter()
        .find(|p| p.content.contains("alert(1)"))
        .unwrap();
    assert!(!escaped.content.contains("<script"), "{}", escaped.content);
    assert!(
        escaped.content.contains("&lt;script&gt;"),
        "{}",
        escaped.content
    );
    let new_first = imported
        .iter()
        .find(|p| p.content.contains("streams work"))
        .unwrap();
    let new_reply = imported
        .iter()
        .find(|p| p.content.contains("follow-up"))
        .unwrap();
    assert_eq!(
        new_reply.in_reply_to.as_deref(),
        Some(new_first.ap_id.as_str())
    );
    assert_ne!(reply.ap_id, new_reply.ap_id);
    let article = imported.iter().find(|p| p.kind == "Article").unwrap();
    assert_eq!(article.title.as_deref(), Some("Notes on archives"));
    let guild_post = imported
        .iter()
        .find(|p| p.content.contains("Posted in the guild"))
        .unwrap();
    let remote_guild = beta.resolve(guild.ap_id.as_str()).await;
    assert_eq!(
        guild_post.community_id.as_deref(),
        Some(remote_guild.id.as_str())
    );
    // Follows and the membership are requested again.
    assert!(beta
        .follow_state(&beta.actor_url("alice2"), &alpha.actor_url("bob"))
        .await
        .is_some());
    assert!(beta
        .follow_state(&beta.actor_url("alice2"), guild.ap_id.as_str())
        .await
        .is_some());
    beta.drain_deliveries().await;
    assert_eq!(
        alpha
            .follow_state(&beta.actor_url("alice2"), &alpha.actor_url("bob"))
            .await,
        Some(FollowState::Accepted)
    );

    // Importing again creates nothing; the web form says so. A form
    // from elsewhere (no matching CSRF token) is refused.
    let beta_web = sign_in(&beta, "alice2").await;
    let forged = Browser {
        csrf: "not the token at all, but long enough to try".into(),
        cookies: beta_web.cookies.clone(),
    };
    let (status, html) = forged.upload(&beta, &archive).await;
    assert_eq!(status, 403, "{html}");
    let (status, html) = beta_web
        .upload(&beta, b"just some text, not an archive")
        .await;
    assert_eq!(status, 422, "{html}");
    assert!(html.contains("not a zip archive"), "{html}");
    let (status, html) = beta_web.upload(&beta, &archive).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("0 narrations imported"), "{html}");
    assert!(html.contains("6 skipped as already imported"), "{html}");
    let (_, again) = api_import(&beta, &beta_token, &archive).await;
    assert_eq!(again["imported"], 0, "{again}");
    assert_eq!(again["already_imported"], 6, "{again}");
    assert_eq!(posts_of(&beta, &alice2).await.len(), 6);
}

async fn mastodon_archive_imports(backend: Backend) {
    let beta = TestInstance::spawn("beta", backend).await;
    let carol = beta.create_user("carol").await;
    let public = "https://www.w3.org/ns/activitystreams#Public";
    let me = "https://mastodon.example/users/carol";
    let note = |id: &str, to: Value, cc: Value, content: &str, published: &str| {
        json!({
            "id": format!("{me}/statuses/{id}/activity"),
            "type": "Create",
            "actor": me,
            "published": published,
            "to": to, "cc": cc,
            "object": {
                "id": format!("{me}/statuses/{id}"),
                "type": "Note",
                "attributedTo": me,
                "url": format!("https://mastodon.example/@carol/{id}"),
                "published": published,
                "to": to, "cc": cc,
                "content": content,
                "sensitive": false,
            }
        })
    };
    let outbox = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": "outbox.json",
        "type": "OrderedCollection",
        "orderedItems": [
            note("1", json!([public]), json!([format!("{me}/followers")]),
                 "<p>Hello from <b>Mastodon</b></p><p>second paragraph</p>", "2021-03-04T05:06:07Z"),
            note("2", json!([format!("{me}/followers")]), json!([public]),
                 "<p>Quietly unlisted</p>", "2022-01-01T00:00:00Z"),
            note("3", json!([format!("{me}/followers")]), json!([]),
                 "<p>Followers only, stays behind</p>", "2022-02-02T00:00:00Z"),
            {"id": format!("{me}/statuses/4/activity"), "type": "Announce", "actor": me,
             "object": "https://elsewhere.example/notes/9"},
        ]
    });
    let actor = json!({ "id": me, "type": "Person", "followers": format!("{me}/followers") });
    let archive = zip_of(&[
        ("outbox.json", outbox.to_string().as_bytes()),
        ("actor.json", actor.to_string().as_bytes()),
        ("likes.json", b"{\"orderedItems\":[]}"),
        ("media_attachments/files/000/a.png", b"not really a png"),
    ]);
    let token = token(&beta, "carol").await;
    let (status, summary) = api_import(&beta, &token, &archive).await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(summary["imported"], 2, "{summary}");
    assert_eq!(summary["skipped"], 2, "{summary}");
    let posts = posts_of(&beta, &carol).await;
    assert_eq!(posts.len(), 2);
    let hello = posts
        .iter()
        .find(|p| p.content.contains("Hello from"))
        .unwrap();
    assert_eq!(
        hello.published,
        chrono::NaiveDate::from_ymd_opt(2021, 3, 4)
            .unwrap()
            .and_hms_opt(5, 6, 7)
            .unwrap()
    );
    assert_eq!(hello.visibility, "public");
    assert!(!hello.content.contains("<b>"), "{}", hello.content);
    assert!(
        hello.content.contains("https://mastodon.example/@carol/1"),
        "{}",
        hello.content
    );
    let quiet = posts
        .iter()
        .find(|p| p.content.contains("Quietly"))
        .unwrap();
    assert_eq!(quiet.visibility, "unlisted");
    // Oldest first in ids too: the imported posts sort by their dates.
    assert!(quiet.id > hello.id);
    let (_, again) = api_import(&beta, &token, &archive).await;
    assert_eq!(again["imported"], 0, "{again}");
    assert_eq!(again["already_imported"], 2, "{again}");
}

async fn hostile_archives_are_refused(backend: Backend) {
    let beta = TestInstance::spawn_with("beta", backend, |config| {
        config.archives.max_upload = 256 * 1024;
    })
    .await;
    let dave = beta.create_user("dave").await;
    let token = token(&beta, "dave").await;
    let outbox = br#"{"type":"OrderedCollection","orderedItems":[{"type":"Create","published":"2020-01-01T00:00:00Z","object":{"id":"https://old.example/objects/1","type":"Note","attributedTo":"https://old.example/users/dave","to":["https://www.w3.org/ns/activitystreams#Public"],"content":"<p>hi</p>","published":"2020-01-01T00:00:00Z"}}]}"#;
    let traversal = zip_of(&[
        ("outbox.json", outbox),
        ("../../etc/cron.d/evil", b"* * * * * root true"),
    ]);
    let zeros = vec![0u8; 20 * 1024 * 1024];
    let bomb = zip_of(&[("outbox.json", outbox), ("padding.bin", &zeros)]);
    assert!(bomb.len() < 256 * 1024, "the bomb fits the upload cap");
    let oversized: Vec<u8> = (0..400 * 1024u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    for (archive, status, words) in [
        (traversal, 422, "points outside"),
        (bomb, 422, "zip bomb"),
        (
            b"PK\x03\x04 but not really a zip".to_vec(),
            422,
            "not a zip archive",
        ),
        (oversized, 413, "larger than the 262144 bytes"),
    ] {
        let (got, answer) = api_import(&beta, &token, &archive).await;
        assert_eq!(got, status, "{answer}");
        let message = answer["error"].as_str().unwrap_or_default().to_string();
        assert!(message.contains(words), "{words}: {answer}");
    }
    // Without a file, or not multipart.
    let (got, answer) = api_import(&beta, &token, b"").await;
    assert_eq!(got, 422, "{answer}");
    assert!(posts_of(&beta, &dave).await.is_empty());
    let id = dave.id.clone();
    let count = beta
        .context
        .db
        .run(move |conn| Ok(outloud::db::portability::count(conn, &id)?))
        .await
        .unwrap();
    assert_eq!(count, 0);
    // The same archive, sane, imports.
    let fine = zip_of(&[("outbox.json", outbox)]);
    let (got, answer) = api_import(&beta, &token, &fine).await;
    assert_eq!(got, 200, "{answer}");
    assert_eq!(answer["imported"], 1, "{answer}");
    // Scopes: a read-only token may export, not import.
    let read_only = Api::for_user(&beta, "dave", "read").await.token.unwrap();
    let (got, _) = api_import(&beta, &read_only, &fine).await;
    assert_eq!(got, 403);
    api_export(&beta, &read_only).await;
    // Another person's archive is for admins only.
    let other = beta
        .client
        .get(beta.url("/api/v1/outloud/export?username=nobody_else"))
        .bearer_auth(&read_only)
        .send()
        .await
        .unwrap();
    assert_eq!(other.status(), 403);
}

/// `outloud admin export USER --out FILE` writes the same archive; an
/// unknown account is refused with its name.
async fn admin_export_command(backend: Backend) {
    let db = crate::harness::database(backend, "portability_cli");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("erin.zip");
    let run = |args: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_outloud"));
        for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("OUTLOUD_")) {
            cmd.env_remove(name);
        }
        cmd.args(args)
            .env("RUST_LOG", "warn")
            .env("OUTLOUD_DATABASE__URL", &db.url)
            .env("OUTLOUD_INSTANCE__DOMAIN", "cli.localhost")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap()
    };
    let created = run(&["admin", "create-user", "erin"]);
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let exported = run(&["admin", "export", "erin", "--out", out.to_str().unwrap()]);
    let stderr = String::from_utf8_lossy(&exported.stderr);
    assert!(exported.status.success(), "{stderr}");
    assert!(stderr.contains("wrote the archive of @erin"), "{stderr}");
    let files = entries(&std::fs::read(&out).unwrap());
    let actor: Value = serde_json::from_str(&files["actor.json"]).unwrap();
    assert_eq!(actor["preferredUsername"], "erin");
    let outbox: Value = serde_json::from_str(&files["outbox.json"]).unwrap();
    assert_eq!(outbox["totalItems"], 0);
    assert_eq!(outbox["orderedItems"], json!([]));
    let unknown = run(&["admin", "export", "nobody", "--out", out.to_str().unwrap()]);
    assert!(!unknown.status.success());
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("no local user named `nobody`"));
}

/// More narrations than one page of the export's reads (100): every one
/// is in the outbox and the Markdown folder, once. An admin downloads
/// another person's archive.
async fn long_archives_page_through_and_admins_export_anyone(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    alpha.create_user("frank").await;
    for i in 0..230 {
        alpha
            .publish("frank", NewPost::note(&format!("Narration number {i}")))
            .await;
    }
    outloud::service::accounts::create_user(
        &alpha.context.db,
        &alpha.context.urls,
        outloud::service::accounts::NewUser {
            name: "root",
            password: PASSWORD,
            role: outloud::db::local_user::Role::Admin,
        },
    )
    .await
    .unwrap();
    let response = alpha
        .client
        .get(alpha.url("/api/v1/outloud/export?username=frank"))
        .bearer_auth(token(&alpha, "root").await)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let files = entries(&response.bytes().await.unwrap());
    let outbox: Value = serde_json::from_str(&files["outbox.json"]).unwrap();
    assert_eq!(outbox["totalItems"], 230);
    let items = outbox["orderedItems"].as_array().unwrap();
    let mut texts: Vec<String> = items
        .iter()
        .map(|i| {
            i["object"]["source"]["content"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    texts.sort();
    texts.dedup();
    assert_eq!(texts.len(), 230);
    assert_eq!(
        files.keys().filter(|k| k.starts_with("markdown/")).count(),
        230
    );
    let web = sign_in(&alpha, "root").await;
    let response = alpha
        .client
        .get(alpha.url("/settings/archive/download?username=frank"))
        .header("cookie", &web.cookies)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let frank = entries(&response.bytes().await.unwrap());
    assert!(
        frank["actor.json"].contains("\"preferredUsername\":\"frank\"")
            || frank["actor.json"].contains("\"preferredUsername\": \"frank\"")
    );
}
