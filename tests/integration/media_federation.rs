//! Media across servers: attachments in outgoing and incoming Notes, the
//! media proxy (`/media/proxy/…`) that serves remote attachments, avatars
//! and headers from this server, and its refusals (too large, not media).
//!
//! Files live on a counting origin ([`Origin`]): the sending instance's
//! `[media] public_url` points at it (as at a CDN in front of its store),
//! so a test sees every fetch the proxy makes.

use crate::fake_server::FakeServer;
use crate::foreign_peer::{carol_follows_alice, Peer};
use crate::harness::{both_backends, settle, settled, TestInstance};
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use outloud::{
    config::Backend,
    db::{actor::Actor, media::MediaAttachment},
    service::{
        media::{self, MediaLinks},
        posts::{self, NewPost, PostEdit},
    },
};
use serde_json::{json, Value};
use std::{
    collections::HashMap,
    path::PathBuf,
    sync::{Arc, Mutex},
};

both_backends!(
    an_outloud_attachment_reaches_another_outloud_through_its_proxy,
    remote_avatars_and_headers_are_proxied,
    incoming_attachment_forms_and_proxy_refusals,
    attachments_between_outloud_and_the_fedify_peer,
);

// ---- a counting file origin ---------------------------------------------

#[derive(Default)]
struct OriginState {
    /// path → (body, Content-Type the origin claims)
    files: Mutex<HashMap<String, (Vec<u8>, String)>>,
    /// `/store/{key}` serves this directory (an instance's local store).
    store: Mutex<Option<PathBuf>>,
    hits: Mutex<HashMap<String, usize>>,
}

/// A plain HTTP file server on `files.localhost:PORT` that counts requests.
pub struct Origin {
    pub domain: String,
    state: Arc<OriginState>,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for Origin {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

async fn origin_serve(req: HttpRequest, state: web::Data<OriginState>) -> HttpResponse {
    let path = req.path().to_string();
    *state.hits.lock().unwrap().entry(path.clone()).or_default() += 1;
    if let Some(key) = path.strip_prefix("/store/") {
        let dir = state.store.lock().unwrap().clone();
        if let Some(bytes) = dir.and_then(|d| std::fs::read(d.join(key)).ok()) {
            // A wrong type on purpose: the proxy must not trust it.
            return HttpResponse::Ok()
                .content_type("application/octet-stream")
                .body(bytes);
        }
        return HttpResponse::NotFound().finish();
    }
    match state.files.lock().unwrap().get(&path) {
        Some((body, kind)) => HttpResponse::Ok()
            .content_type(kind.as_str())
            .body(body.clone()),
        None => HttpResponse::NotFound().finish(),
    }
}

impl Origin {
    pub async fn start() -> Origin {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let domain = format!("files.localhost:{}", listener.local_addr().unwrap().port());
        let state = Arc::new(OriginState::default());
        let shared = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::from(shared.clone()))
                .default_service(web::to(origin_serve))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Origin {
            domain,
            state,
            handle,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.domain)
    }

    pub fn put(&self, path: &str, body: Vec<u8>, content_type: &str) {
        self.state
            .files
            .lock()
            .unwrap()
            .insert(path.into(), (body, content_type.into()));
    }

    pub fn serve_store(&self, dir: PathBuf) {
        *self.state.store.lock().unwrap() = Some(dir);
    }

    pub fn hits(&self, path: &str) -> usize {
        self.state
            .hits
            .lock()
            .unwrap()
            .get(path)
            .copied()
            .unwrap_or(0)
    }
}

/// A real PNG of `w`×`h` pixels, noisy enough not to compress to nothing.
pub fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([
            (x * 7 % 256) as u8,
            (y * 13 % 256) as u8,
            ((x ^ y) % 256) as u8,
        ])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// An instance whose media store is `dir`; with `public` its files are
/// public under that base URL.
async fn spawn_with_store(
    name: &str,
    backend: Backend,
    dir: &std::path::Path,
    public: Option<String>,
) -> TestInstance {
    let dir = dir.to_path_buf();
    TestInstance::spawn_with(name, backend, move |c| {
        c.media.path = dir.to_string_lossy().into_owned();
        if let Some(p) = public {
            c.media.public_url = p;
        }
    })
    .await
}

async fn rows_of(instance: &TestInstance, post_id: &str) -> Vec<MediaAttachment> {
    let id = post_id.to_string();
    instance
        .context
        .db
        .run(move |conn| Ok(MediaAttachment::of_posts(conn, &[id])?))
        .await
        .unwrap()
}

async fn row(instance: &TestInstance, id: &str) -> MediaAttachment {
    let id = id.to_string();
    instance
        .context
        .db
        .run(move |conn| Ok(MediaAttachment::by_id(conn, &id)?))
        .await
        .unwrap()
        .unwrap()
}

fn assert_media_headers(res: &reqwest::Response, content_type: &str) {
    let h = res.headers();
    assert_eq!(h["content-type"], content_type);
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("sandbox"));
    assert!(h["cache-control"].to_str().unwrap().contains("max-age"));
}

// ---- scenarios ------------------------------------------------------------

async fn an_outloud_attachment_reaches_another_outloud_through_its_proxy(backend: Backend) {
    let origin = Origin::start().await;
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    origin.serve_store(dir_a.path().to_path_buf());
    let (a, b) = tokio::join!(
        spawn_with_store("alpha", backend, dir_a.path(), Some(origin.url("/store"))),
        spawn_with_store("beta", backend, dir_b.path(), None),
    );
    let alice = a.create_user("alice").await;
    b.create_user("bob").await;
    b.follow("bob", &a.handle_of("alice")).await;
    settle(&[&a, &b]).await;

    let upload = media::upload(
        &a.context,
        &alice,
        png(64, 48),
        Some("cat.png"),
        Some("A grey cat".into()),
        Some((0.25, -0.5)),
    )
    .await
    .unwrap();
    let key = upload.file_key.clone().unwrap();
    let stored_file = a.context.media.get(&key).await.unwrap().unwrap();
    let post = posts::publish_with_media(
        &a.data(),
        &alice,
        NewPost::note("Look at this cat"),
        None,
        vec![upload.id.clone()],
    )
    .await
    .unwrap();
    let file_url = MediaLinks::of(&a.context).file(&key);
    assert_eq!(file_url, origin.url(&format!("/store/{key}")));

    // The object as served to other servers carries the attachment.
    let note: Value = a.get_ap(post.ap_id.0.path()).await.json().await.unwrap();
    let doc = &note["attachment"][0];
    assert_eq!(doc["type"], "Document", "{note:#}");
    assert_eq!(doc["mediaType"], "image/png");
    assert_eq!(doc["url"], file_url.as_str());
    assert_eq!(doc["name"], "A grey cat");
    assert_eq!(doc["blurhash"], upload.blurhash.clone().unwrap().as_str());
    assert_eq!(doc["focalPoint"], json!([0.25, -0.5]));
    assert_eq!(
        (doc["width"].clone(), doc["height"].clone()),
        (json!(64), json!(48))
    );
    let context = note["@context"].to_string();
    assert!(context.contains("toot:blurhash") && context.contains("toot:focalPoint"));

    // beta stores it as a remote attachment.
    let remote = settled(&[&a, &b], || async {
        b.stored_post(post.ap_id.as_str()).await
    })
    .await;
    let rows = rows_of(&b, &remote.id).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    let r = &rows[0];
    assert_eq!(r.remote_url.as_deref(), Some(file_url.as_str()));
    assert_eq!(r.description.as_deref(), Some("A grey cat"));
    assert_eq!(r.blurhash, upload.blurhash);
    assert_eq!((r.focus_x, r.focus_y), (Some(0.25), Some(-0.5)));
    assert_eq!((r.width, r.height), (Some(64), Some(48)));
    assert_eq!(
        (r.kind.as_str(), r.media_type.as_str()),
        ("image", "image/png")
    );
    assert!(r.file_key.is_none());

    // Clients get beta's proxy URL, which serves alice's bytes.
    let (url, preview) = MediaLinks::of(&b.context).of_row(r);
    let proxy = b.url(&format!("/media/proxy/{}", r.id));
    assert_eq!(url.as_deref(), Some(proxy.as_str()));
    assert_eq!(preview.as_deref(), Some(proxy.as_str()));
    let origin_path = format!("/store/{key}");
    let before = origin.hits(&origin_path);
    let res = b.client.get(&proxy).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_media_headers(&res, "image/png");
    assert_eq!(res.bytes().await.unwrap().to_vec(), stored_file);
    assert_eq!(origin.hits(&origin_path), before + 1);
    let cached = row(&b, &r.id)
        .await
        .file_key
        .expect("the proxy records its cache key");
    assert!(b.context.media.get(&cached).await.unwrap().is_some());
    // A second request is served from beta's store, not the origin.
    let again = b.client.get(&proxy).send().await.unwrap();
    assert_eq!(again.status(), 200);
    assert_eq!(again.bytes().await.unwrap().to_vec(), stored_file);
    assert_eq!(origin.hits(&origin_path), before + 1);
    // An unknown id is a JSON 404.
    let missing = b
        .client
        .get(b.url("/media/proxy/nope"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    assert!(missing.json::<Value>().await.unwrap()["error"].is_string());

    // An edit that drops the image removes beta's row and cached file.
    posts::edit_with_media(
        &a.data(),
        &alice,
        &post.id,
        PostEdit {
            narration: None,
            title: None,
            source: "No cat after all".into(),
            summary: None,
            sensitive: false,
            language: None,
        },
        Some(Vec::new()),
    )
    .await
    .unwrap();
    let note: Value = a.get_ap(post.ap_id.0.path()).await.json().await.unwrap();
    assert!(note.get("attachment").is_none(), "{note:#}");
    settled(&[&a, &b], || async {
        rows_of(&b, &remote.id).await.is_empty().then_some(())
    })
    .await;
    assert!(b.context.media.get(&cached).await.unwrap().is_none());
    let gone = b.client.get(&proxy).send().await.unwrap();
    assert_eq!(gone.status(), 404);
}

async fn remote_avatars_and_headers_are_proxied(backend: Backend) {
    let origin = Origin::start().await;
    let dir_b = tempfile::tempdir().unwrap();
    let (a, b) = tokio::join!(
        TestInstance::spawn("alpha", backend),
        spawn_with_store("beta", backend, dir_b.path(), None),
    );
    let (avatar, header) = (png(32, 32), png(120, 40));
    origin.put("/avatar.png", avatar.clone(), "image/png");
    origin.put("/header.png", header.clone(), "text/html");
    // alice's profile names both images; alpha sends them as icon and image.
    let alice = a.create_user("alice").await;
    let changed = Actor {
        icon_url: Some(origin.url("/avatar.png")),
        image_url: Some(origin.url("/header.png")),
        ..alice
    };
    a.context
        .db
        .run(move |conn| Ok(Actor::update(conn, &changed)?))
        .await
        .unwrap();
    let doc: Value = a.get_ap("/users/alice").await.json().await.unwrap();
    assert_eq!(doc["image"]["url"], origin.url("/header.png").as_str());

    let remote = b.resolve(&a.actor_url("alice")).await;
    assert_eq!(
        remote.icon_url.as_deref(),
        Some(origin.url("/avatar.png").as_str())
    );
    assert_eq!(
        remote.image_url.as_deref(),
        Some(origin.url("/header.png").as_str())
    );
    let links = MediaLinks::of(&b.context);
    let avatar_url = links.avatar_of(&remote).unwrap();
    let header_url = links.header_of(&remote).unwrap();
    let avatar_prefix = b.url(&format!("/media/proxy/avatar/{}", remote.id));
    assert!(avatar_url.starts_with(&avatar_prefix), "{avatar_url}");
    assert!(header_url.starts_with(&b.url(&format!("/media/proxy/header/{}", remote.id))));
    // A local actor's images are not proxied.
    let local = Actor {
        icon_url: Some(b.url("/media/x.png")),
        ..b.create_user("bob").await
    };
    assert_eq!(links.avatar_of(&local), local.icon_url);

    for (url, bytes, path) in [
        (&avatar_url, &avatar, "/avatar.png"),
        (&header_url, &header, "/header.png"),
    ] {
        let res = b.client.get(url.as_str()).send().await.unwrap();
        assert_eq!(res.status(), 200, "{url}");
        // The type comes from the bytes, not the origin's (wrong) header.
        assert_media_headers(&res, "image/png");
        assert_eq!(&res.bytes().await.unwrap().to_vec(), bytes);
        let again = b.client.get(url.as_str()).send().await.unwrap();
        assert_eq!(&again.bytes().await.unwrap().to_vec(), bytes);
        assert_eq!(origin.hits(path), 1, "{path} fetched once");
    }
    // Unknown and local actors have nothing to proxy.
    let bob = b.local("bob").await;
    for path in [
        "/media/proxy/avatar/nobody".to_string(),
        format!("/media/proxy/avatar/{}", bob.id),
    ] {
        assert_eq!(
            b.client.get(b.url(&path)).send().await.unwrap().status(),
            404
        );
    }
}

async fn incoming_attachment_forms_and_proxy_refusals(backend: Backend) {
    let origin = Origin::start().await;
    let dir_b = tempfile::tempdir().unwrap();
    // Small limits, so an ordinary PNG is "too large".
    let dir = dir_b.path().to_path_buf();
    let b = TestInstance::spawn_with("beta", backend, move |c| {
        c.media.path = dir.to_string_lossy().into_owned();
        c.media.image_size_limit = 4_000;
        c.media.video_size_limit = 4_000;
    })
    .await;
    b.create_user("lee").await;
    let small = png(8, 8);
    let big = png(200, 200);
    assert!(small.len() < 4_000 && big.len() > 4_000);
    origin.put("/small.png", small.clone(), "image/png");
    origin.put("/big.png", big, "image/png");
    origin.put(
        "/page.png",
        b"<!doctype html><html><body><script>alert(1)</script></body></html>".to_vec(),
        "image/png",
    );

    let fake = FakeServer::start("remote", "mastodon").await;
    let dave = fake.actor("/users/dave", "Person", "dave", json!({}));
    let lee = b.actor_url("lee");
    let note_id = fake.url("/notes/1");
    let note = |attachment: Value| {
        json!({
            "id": note_id,
            "type": "Note",
            "attributedTo": dave.id,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "cc": [lee],
            "content": "<p>pictures</p>",
            "published": "2026-12-01T10:00:00Z",
            "attachment": attachment,
        })
    };
    let create = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": fake.url("/activities/1"),
        "type": "Create",
        "actor": dave.id,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": [lee],
        "object": note(json!([
            {"type": "Document", "mediaType": "image/png", "url": origin.url("/big.png"), "name": "big"},
            {"type": "Image", "url": {"type": "Link", "href": origin.url("/page.png"), "mediaType": "image/png"}},
            {"type": "PropertyValue", "name": "not media", "value": "x"},
            {"type": "Document", "url": "javascript:alert(1)"},
            {"type": "Document", "url": [{"type": "Link", "href": origin.url("/small.png")}], "name": "<b>small</b>",
             "focalPoint": [0.1, 0.2], "blurhash": "LEHV6nWB2yk8pyo0adR*.7kCMdnj"},
            {"type": "Video", "mediaType": "video/mp4", "url": origin.url("/v.mp4")},
            {"type": "Audio", "mediaType": "audio/ogg", "url": origin.url("/fifth.ogg")},
        ])),
    });
    assert_eq!(fake.send(&dave, &b.url("/inbox"), &create).await, 202);
    let post = b.stored_post(&note_id).await.unwrap();
    let rows = rows_of(&b, &post.id).await;
    let urls: Vec<&str> = rows
        .iter()
        .filter_map(|r| r.remote_url.as_deref())
        .collect();
    // Unusable entries dropped, then at most four, in order.
    assert_eq!(
        urls,
        [
            origin.url("/big.png"),
            origin.url("/page.png"),
            origin.url("/small.png"),
            origin.url("/v.mp4"),
        ]
    );
    assert_eq!(rows[1].kind, "image");
    assert_eq!(rows[2].description.as_deref(), Some("small"));
    assert_eq!((rows[2].focus_x, rows[2].focus_y), (Some(0.1), Some(0.2)));
    assert_eq!(rows[3].kind, "video");

    let proxy = |r: &MediaAttachment| b.url(&format!("/media/proxy/{}", r.id));
    // Larger than the configured limits: 502, nothing cached.
    let res = b.client.get(proxy(&rows[0])).send().await.unwrap();
    assert_eq!(res.status(), 502);
    assert!(res.json::<Value>().await.unwrap()["error"].is_string());
    assert!(row(&b, &rows[0].id).await.file_key.is_none());
    // HTML claiming to be a PNG: refused, nothing cached.
    let res = b.client.get(proxy(&rows[1])).send().await.unwrap();
    assert_eq!(res.status(), 502);
    assert!(row(&b, &rows[1].id).await.file_key.is_none());
    // Missing at the origin: 502.
    let res = b.client.get(proxy(&rows[3])).send().await.unwrap();
    assert_eq!(res.status(), 502);
    // The small image is served.
    let res = b.client.get(proxy(&rows[2])).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap().to_vec(), small);
    let cached = row(&b, &rows[2].id).await.file_key.unwrap();
    assert_eq!(
        std::fs::read_dir(dir_b.path()).unwrap().count(),
        1,
        "only the small image is in the store"
    );

    // An Update keeping only the small image (with new alt text) keeps its
    // row and cached file and deletes the others.
    let update = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": fake.url("/activities/2"),
        "type": "Update",
        "actor": dave.id,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": note(json!({"type": "Document", "url": origin.url("/small.png"), "name": "tiny"})),
    });
    assert_eq!(fake.send(&dave, &b.url("/inbox"), &update).await, 202);
    let rows_after = rows_of(&b, &post.id).await;
    assert_eq!(rows_after.len(), 1);
    assert_eq!(rows_after[0].id, rows[2].id);
    assert_eq!(rows_after[0].description.as_deref(), Some("tiny"));
    assert_eq!(rows_after[0].file_key.as_deref(), Some(cached.as_str()));
    assert_eq!(rows_after[0].position, 0);
}

async fn attachments_between_outloud_and_the_fedify_peer(backend: Backend) {
    let origin = Origin::start().await;
    let dir_a = tempfile::tempdir().unwrap();
    origin.serve_store(dir_a.path().to_path_buf());
    let (alpha, peer) = tokio::join!(
        spawn_with_store("alpha", backend, dir_a.path(), Some(origin.url("/store"))),
        Peer::start("media"),
    );
    let alice = alpha.create_user("alice").await;
    carol_follows_alice(&alpha, &peer).await;

    // Outloud → Fedify: the attachment with its alt text and type.
    let upload = media::upload(
        &alpha.context,
        &alice,
        png(40, 30),
        None,
        Some("A bar chart of commits".into()),
        None,
    )
    .await
    .unwrap();
    let post = posts::publish_with_media(
        &alpha.data(),
        &alice,
        NewPost::note("This week in numbers"),
        None,
        vec![upload.id.clone()],
    )
    .await
    .unwrap();
    alpha.drain_deliveries().await;
    let create = peer
        .received_one("Create", |a| a["object"]["id"] == post.ap_id.as_str())
        .await;
    let attachments = create["object"]["attachments"].as_array().unwrap();
    assert_eq!(attachments.len(), 1, "{create:#}");
    assert_eq!(attachments[0]["type"], "Document");
    assert_eq!(attachments[0]["mediaType"], "image/png");
    assert_eq!(attachments[0]["name"], "A bar chart of commits");
    let file_url = MediaLinks::of(&alpha.context).file(upload.file_key.as_deref().unwrap());
    assert_eq!(attachments[0]["url"], file_url.as_str());

    // Fedify → Outloud: carol's Note with a Document is stored and its
    // file served through alpha's proxy.
    let picture = png(16, 16);
    origin.put("/carol/photo.png", picture.clone(), "image/png");
    let alice_url = alpha.actor_url("alice");
    let sent = peer
        .control(
            "post",
            json!({
                "content": "<p>My desk</p>",
                "cc": [alice_url],
                "recipients": [alice_url],
                "attachments": [{
                    "url": origin.url("/carol/photo.png"),
                    "mediaType": "image/png",
                    "name": "A tidy desk",
                }],
            }),
        )
        .await;
    let note_id = sent["id"].as_str().unwrap().to_string();
    let stored = crate::harness::eventually(std::time::Duration::from_secs(60), || async {
        alpha.stored_post(&note_id).await
    })
    .await;
    let rows = rows_of(&alpha, &stored.id).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(
        rows[0].remote_url.as_deref(),
        Some(origin.url("/carol/photo.png").as_str())
    );
    assert_eq!(rows[0].description.as_deref(), Some("A tidy desk"));
    assert_eq!(
        (rows[0].kind.as_str(), rows[0].media_type.as_str()),
        ("image", "image/png")
    );
    let proxy = alpha.url(&format!("/media/proxy/{}", rows[0].id));
    let (url, _) = MediaLinks::of(&alpha.context).of_row(&rows[0]);
    assert_eq!(url.as_deref(), Some(proxy.as_str()));
    let res = alpha.client.get(&proxy).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.bytes().await.unwrap().to_vec(), picture);
    // The client API's status entity shows the remote attachment through
    // the proxy, with its alt text.
    let api = crate::api_client::Api::for_user(&alpha, "alice", "read").await;
    let status = api
        .get(&format!("/api/v1/statuses/{}", stored.id))
        .await
        .ok();
    let attachments = status["media_attachments"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(attachments.len(), 1, "{status:#}");
    assert_eq!(attachments[0]["url"], proxy.as_str(), "{status:#}");
    assert_eq!(
        attachments[0]["remote_url"],
        origin.url("/carol/photo.png").as_str(),
        "{status:#}"
    );
    assert_eq!(attachments[0]["description"], "A tidy desk");
    assert_eq!(attachments[0]["type"], "image");
}
