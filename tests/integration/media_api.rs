//! Media attachments through the client API: uploads (`/api/v1/media`,
//! `/api/v2/media`), the file route `/media/{key}`, attaching to statuses,
//! editing, deleting, housekeeping, avatars and headers, and the limits the
//! instance states.

use crate::{
    api_client::Api,
    harness::{both_backends, http_client},
    media_support::*,
    schema,
};
use image::ImageFormat;
use outloud::config::Backend;
use serde_json::{json, Value};

both_backends!(
    upload_entity_and_files,
    upload_refusals,
    update_and_delete,
    statuses_with_media,
    profile_images,
    instance_media_limits,
    video_and_audio_as_files,
);

// ---- scenarios ----------------------------------------------------------------

async fn upload_entity_and_files(backend: Backend) {
    let (alpha, _dir) = spawn(backend, |_| {}).await;
    alpha.create_user("alice").await;
    let alice = Api::for_user(&alpha, "alice", "read write").await;

    let png_bytes = png(64, 48);
    let media = uploaded(
        &alice,
        &png_bytes,
        &[("description", "A gradient"), ("focus", "-0.5,0.25")],
    )
    .await;
    schema::assert_valid("MediaAttachment", &media);
    assert_eq!(media["type"], "image");
    assert_eq!(media["description"], "A gradient");
    assert_eq!(
        media["meta"]["original"],
        json!({"width": 64, "height": 48, "size": "64x48", "aspect": 64.0 / 48.0})
    );
    assert_eq!(media["meta"]["small"]["width"], 64);
    assert_eq!(media["meta"]["focus"], json!({"x": -0.5, "y": 0.25}));
    assert!(media["blurhash"].as_str().is_some_and(|b| b.len() >= 6));
    assert!(media["remote_url"].is_null());
    let url = media["url"].as_str().unwrap();
    let preview = media["preview_url"].as_str().unwrap();
    assert!(url.starts_with(&alpha.url("/media/")), "{url}");
    assert_ne!(url, preview);

    let file = fetch(url).await;
    assert_eq!(file.status(), 200);
    let header = |r: &reqwest::Response, name: &str| {
        r.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    assert_eq!(header(&file, "content-type"), "image/png");
    assert_eq!(header(&file, "x-content-type-options"), "nosniff");
    assert!(header(&file, "content-security-policy").contains("sandbox"));
    assert!(header(&file, "cache-control").contains("max-age=31536000"));
    let img = decoded(&file.bytes().await.unwrap());
    assert_eq!((img.width(), img.height()), (64, 48));
    let thumb = fetch(preview).await;
    assert_eq!(thumb.status(), 200);
    assert_eq!(header(&thumb, "content-type"), "image/jpeg");
    decoded(&thumb.bytes().await.unwrap());
    // HEAD answers the headers without a body.
    let head = http_client().head(url).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(header(&head, "content-type"), "image/png");
    assert!(head.bytes().await.unwrap().is_empty());

    // The same through v1; the JPEG is turned upright and loses its EXIF.
    let (status, jpeg) = upload(&alice, "/api/v1/media", &jpeg_with_exif(40, 20), &[]).await;
    assert_eq!(status, 200, "{jpeg}");
    assert_eq!(jpeg["meta"]["original"]["size"], "20x40");
    let file = fetch(jpeg["url"].as_str().unwrap()).await;
    assert_eq!(header(&file, "content-type"), "image/jpeg");
    let bytes = file.bytes().await.unwrap();
    assert!(!bytes.windows(4).any(|w| w == b"Exif"), "EXIF survived");
    assert!(
        !bytes.windows(6).any(|w| w == b"SPYCAM"),
        "camera make survived"
    );
    let img = decoded(&bytes);
    assert_eq!((img.width(), img.height()), (20, 40), "not rotated");

    // Unknown and malformed keys.
    for path in [
        "/media/0123456789abcdef.png",
        "/media/..%2F..%2Fetc%2Fpasswd",
        "/media/NOTAKEY",
        "/media/abc.exe",
    ] {
        let r = fetch(&alpha.url(path)).await;
        assert_eq!(r.status(), 404, "{path}");
        assert_eq!(header(&r, "x-content-type-options"), "nosniff");
        let body: Value = r.json().await.unwrap();
        assert!(body["error"].is_string(), "{path}: {body}");
    }
}

async fn upload_refusals(backend: Backend) {
    let (alpha, _dir) = spawn(backend, |c| {
        c.media.image_size_limit = 100_000;
        c.media.video_size_limit = 100_000;
        c.media.description_limit = 50;
    })
    .await;
    alpha.create_user("alice").await;
    let alice = Api::for_user(&alpha, "alice", "read write").await;
    let small = png(16, 16);

    // Over the byte cap: refused while streaming.
    let big = vec![0u8; 5_000_000];
    let (status, json) = upload(&alice, "/api/v2/media", &big, &[]).await;
    assert!(status == 413 || status == 422, "{status} {json}");
    assert!(json["error"].is_string(), "{json}");
    // A text file, a bomb, an empty request.
    for bytes in [b"just some text, not media\n".to_vec(), png_bomb()] {
        let (status, json) = upload(&alice, "/api/v2/media", &bytes, &[]).await;
        assert_eq!(status, 422, "{json}");
        assert!(json["error"]
            .as_str()
            .unwrap()
            .starts_with("Validation failed"));
    }
    let (status, _) = send_multipart(
        &alice,
        reqwest::Method::POST,
        "/api/v2/media",
        &[Part::Text("description", "no file")],
    )
    .await;
    assert_eq!(status, 422);
    alice
        .post("/api/v1/media", json!({"description": "json, no file"}))
        .await
        .expect(422);
    // Bad focus, too-long description.
    for focus in ["5,5", "abc", "0.5"] {
        let (status, json) = upload(&alice, "/api/v1/media", &small, &[("focus", focus)]).await;
        assert_eq!(status, 422, "focus {focus}: {json}");
    }
    let long = "x".repeat(51);
    let (status, _) = upload(&alice, "/api/v1/media", &small, &[("description", &long)]).await;
    assert_eq!(status, 422);
    // No token; a token without write:media.
    let (status, _) = upload(&Api::anonymous(&alpha), "/api/v1/media", &small, &[]).await;
    assert_eq!(status, 401);
    let reader = Api::for_user(&alpha, "alice", "read").await;
    let (status, _) = upload(&reader, "/api/v1/media", &small, &[]).await;
    assert_eq!(status, 403);
    let media_only = Api::for_user(&alpha, "alice", "write:media").await;
    let (status, _) = upload(&media_only, "/api/v1/media", &small, &[]).await;
    assert_eq!(status, 200);
}

async fn update_and_delete(backend: Backend) {
    let (alpha, _dir) = spawn(backend, |_| {}).await;
    alpha.create_user("alice").await;
    alpha.create_user("bob").await;
    let alice = Api::for_user(&alpha, "alice", "read write").await;
    let bob = Api::for_user(&alpha, "bob", "read write").await;
    let media = uploaded(&alice, &png(20, 20), &[]).await;
    let id = media["id"].as_str().unwrap();
    let path = format!("/api/v1/media/{id}");

    let json_put = alice
        .put(
            &path,
            json!({"description": "Alt text", "focus": "0.1,-0.2"}),
        )
        .await
        .ok();
    assert_eq!(json_put["description"], "Alt text");
    assert_eq!(json_put["meta"]["focus"], json!({"x": 0.1, "y": -0.2}));
    // A form PUT, as Mastodon.py sends it; focus is kept.
    let form_put = alice
        .send(
            reqwest::Method::PUT,
            &path,
            Some(crate::api_client::Body::Form(vec![(
                "description".into(),
                "Better alt text".into(),
            )])),
        )
        .await
        .ok();
    assert_eq!(form_put["description"], "Better alt text");
    assert_eq!(form_put["meta"]["focus"]["x"], 0.1);
    let (status, multi_put) = send_multipart(
        &alice,
        reqwest::Method::PUT,
        &path,
        &[Part::Text("focus", "0,0")],
    )
    .await;
    assert_eq!(status, 200, "{multi_put}");
    assert_eq!(multi_put["meta"]["focus"], json!({"x": 0.0, "y": 0.0}));
    alice.put(&path, json!({"focus": "2,0"})).await.expect(422);
    alice
        .put(&path, json!({"description": "y".repeat(1501)}))
        .await
        .expect(422);
    assert_eq!(
        alice.get(&path).await.ok()["description"],
        "Better alt text"
    );

    // Someone else's upload does not exist for bob.
    bob.get(&path).await.expect(404);
    bob.put(&path, json!({"description": "mine now"}))
        .await
        .expect(404);
    bob.delete(&path).await.expect(404);
    bob.post(
        "/api/v1/statuses",
        json!({"status": "stolen", "media_ids": [id]}),
    )
    .await
    .expect(422);
    alice.get("/api/v1/media/0000000000").await.expect(404);

    // Deleting removes the row and the files.
    let url = media["url"].as_str().unwrap().to_string();
    assert_eq!(fetch(&url).await.status(), 200);
    let deleted = alice.delete(&path).await.ok();
    assert_eq!(deleted["id"], id);
    alice.get(&path).await.expect(404);
    assert_eq!(fetch(&url).await.status(), 404);
    assert_eq!(
        fetch(media["preview_url"].as_str().unwrap()).await.status(),
        404
    );
}

fn media_ids(status: &Value) -> Vec<String> {
    Api::ids(&status["media_attachments"])
}

async fn statuses_with_media(backend: Backend) {
    let (alpha, _dir) = spawn(backend, |_| {}).await;
    alpha.create_user("alice").await;
    let alice = Api::for_user(&alpha, "alice", "read write").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        let m = uploaded(
            &alice,
            &png(10 + i, 10),
            &[("description", &format!("pic {i}"))],
        )
        .await;
        ids.push(m["id"].as_str().unwrap().to_string());
    }
    // Five are too many; a missing id is refused.
    alice
        .post(
            "/api/v1/statuses",
            json!({"status": "five", "media_ids": ids}),
        )
        .await
        .expect(422);
    alice
        .post(
            "/api/v1/statuses",
            json!({"status": "nope", "media_ids": ["12345"]}),
        )
        .await
        .expect(422);
    // No text, two pictures (form-encoded, as most apps send it).
    let status = alice
        .post_form(
            "/api/v1/statuses",
            &[("media_ids[]", &ids[1]), ("media_ids[]", &ids[0])],
        )
        .await
        .ok();
    schema::assert_valid("Status", &status);
    assert_eq!(media_ids(&status), vec![ids[1].clone(), ids[0].clone()]);
    assert_eq!(status["media_attachments"][0]["description"], "pic 1");
    assert_eq!(
        status["media_attachments"][0]["meta"]["original"]["width"],
        11
    );
    let sid = status["id"].as_str().unwrap().to_string();
    let shown = alice.get(&format!("/api/v1/statuses/{sid}")).await.ok();
    assert_eq!(media_ids(&shown), media_ids(&status));
    let home = alice.get("/api/v1/timelines/home").await.ok();
    let entry = home
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == sid.as_str())
        .expect("the status is on the home timeline");
    assert_eq!(media_ids(entry), media_ids(&status));

    // An attached upload is no longer found by the media endpoints for
    // changes, cannot be deleted, and cannot go on another status.
    let attached = format!("/api/v1/media/{}", ids[0]);
    alice
        .put(&attached, json!({"description": "late"}))
        .await
        .expect(404);
    alice.get(&attached).await.expect(404);
    alice.delete(&attached).await.expect(422);
    alice
        .post(
            "/api/v1/statuses",
            json!({"status": "again", "media_ids": [ids[0]]}),
        )
        .await
        .expect(422);

    // An edit replaces the attachments and may describe them.
    let edited = alice
        .put(
            &format!("/api/v1/statuses/{sid}"),
            json!({
                "status": "now with words",
                "media_ids": [ids[2], ids[1]],
                "media_attributes": [{"id": ids[1], "description": "described in the edit", "focus": "0.5,0.5"}],
            }),
        )
        .await
        .ok();
    assert_eq!(media_ids(&edited), vec![ids[2].clone(), ids[1].clone()]);
    assert_eq!(
        edited["media_attachments"][1]["description"],
        "described in the edit"
    );
    assert_eq!(edited["media_attachments"][1]["meta"]["focus"]["x"], 0.5);
    let history = alice
        .get(&format!("/api/v1/statuses/{sid}/history"))
        .await
        .ok();
    let last = history.as_array().unwrap().last().unwrap().clone();
    assert_eq!(media_ids(&last), media_ids(&edited));
    // The dropped one is an unattached upload again.
    assert_eq!(alice.get(&attached).await.ok()["id"], ids[0].as_str());

    // Housekeeping: nothing before a day has passed since it was detached;
    // after that the unattached ones go (files included), attached stay.
    let ctx = alpha.context.clone();
    let now = chrono::Utc::now().naive_utc();
    assert_eq!(
        outloud::service::media::prune_orphans(&ctx, now)
            .await
            .unwrap(),
        0
    );
    let later = now + chrono::TimeDelta::hours(25);
    // ids[0] (detached), ids[3], ids[4] (never attached).
    assert_eq!(
        outloud::service::media::prune_orphans(&ctx, later)
            .await
            .unwrap(),
        3
    );
    alice.get(&attached).await.expect(404);
    let after = alice.get(&format!("/api/v1/statuses/{sid}")).await.ok();
    assert_eq!(media_ids(&after), media_ids(&edited));
    for m in after["media_attachments"].as_array().unwrap() {
        assert_eq!(fetch(m["url"].as_str().unwrap()).await.status(), 200);
    }

    // Leaving media_ids out of an edit removes the attachments (Mastodon).
    let bare = alice
        .put(
            &format!("/api/v1/statuses/{sid}"),
            json!({"status": "words only"}),
        )
        .await
        .ok();
    assert!(media_ids(&bare).is_empty());
    // And an edit with neither text nor media is refused.
    alice
        .put(&format!("/api/v1/statuses/{sid}"), json!({"status": ""}))
        .await
        .expect(422);
}

async fn profile_images(backend: Backend) {
    let (alpha, _dir) = spawn(backend, |_| {}).await;
    alpha.create_user("alice").await;
    let alice = Api::for_user(&alpha, "alice", "read write").await;
    let before = alice.get("/api/v1/accounts/verify_credentials").await.ok();
    assert!(before["avatar"]
        .as_str()
        .unwrap()
        .ends_with("/static/avatar.svg"));
    assert!(before["header"]
        .as_str()
        .unwrap()
        .ends_with("/static/header.svg"));

    let avatar = png(50, 50);
    let header = encoded(&picture(150, 50), ImageFormat::Jpeg);
    let (status, updated) = send_multipart(
        &alice,
        reqwest::Method::PATCH,
        "/api/v1/accounts/update_credentials",
        &[
            Part::Text("display_name", "Alice A."),
            Part::Text("note", "Has a face now"),
            Part::Text("fields_attributes[0][name]", "Site"),
            Part::Text("fields_attributes[0][value]", "example"),
            Part::File {
                name: "avatar",
                filename: "me.png",
                mime: "image/png",
                bytes: &avatar,
            },
            Part::File {
                name: "header",
                filename: "banner.jpg",
                mime: "image/jpeg",
                bytes: &header,
            },
        ],
    )
    .await;
    assert_eq!(status, 200, "{updated}");
    let me = alice.get("/api/v1/accounts/verify_credentials").await.ok();
    assert_eq!(me["display_name"], "Alice A.");
    assert_eq!(me["fields"][0]["name"], "Site");
    let avatar_url = me["avatar"].as_str().unwrap().to_string();
    let header_url = me["header"].as_str().unwrap().to_string();
    assert!(
        avatar_url.starts_with(&alpha.url("/media/")),
        "{avatar_url}"
    );
    assert!(
        header_url.starts_with(&alpha.url("/media/")),
        "{header_url}"
    );
    assert_eq!(me["avatar_static"], me["avatar"]);
    let a = fetch(&avatar_url).await;
    assert_eq!(a.headers()["content-type"], "image/png");
    assert_eq!(decoded(&a.bytes().await.unwrap()).width(), 50);
    let h = fetch(&header_url).await;
    assert_eq!(h.headers()["content-type"], "image/jpeg");
    assert_eq!(decoded(&h.bytes().await.unwrap()).width(), 150);

    // The actor federates both.
    let actor: Value = alpha.get_ap("/users/alice").await.json().await.unwrap();
    assert_eq!(actor["icon"]["url"], avatar_url.as_str());
    assert_eq!(actor["image"]["url"], header_url.as_str());

    // Not an image: refused, nothing changes.
    let (status, json) = send_multipart(
        &alice,
        reqwest::Method::PATCH,
        "/api/v1/accounts/update_credentials",
        &[
            Part::Text("display_name", "Changed"),
            Part::File {
                name: "avatar",
                filename: "me.txt",
                mime: "image/png",
                bytes: b"hello, I am text",
            },
        ],
    )
    .await;
    assert_eq!(status, 422, "{json}");
    let me = alice.get("/api/v1/accounts/verify_credentials").await.ok();
    assert_eq!(me["display_name"], "Alice A.");
    assert_eq!(me["avatar"], avatar_url.as_str());
    // Text-only multipart still works, and a form PATCH keeps the images.
    let (status, _) = send_multipart(
        &alice,
        reqwest::Method::PATCH,
        "/api/v1/accounts/update_credentials",
        &[Part::Text("display_name", "Alice B.")],
    )
    .await;
    assert_eq!(status, 200);
    let me = alice
        .patch_form("/api/v1/accounts/update_credentials", &[("note", "plain")])
        .await
        .ok();
    assert_eq!(me["display_name"], "Alice B.");
    assert_eq!(me["avatar"], avatar_url.as_str());
    assert_eq!(me["header"], header_url.as_str());
}

async fn instance_media_limits(backend: Backend) {
    let (alpha, _dir) = spawn(backend, |c| {
        c.media.image_size_limit = 1_234_567;
        c.media.description_limit = 999;
    })
    .await;
    let anon = Api::anonymous(&alpha);
    for path in ["/api/v2/instance", "/api/v1/instance"] {
        let instance = anon.get(path).await.ok();
        let config = &instance["configuration"];
        assert_eq!(config["statuses"]["max_media_attachments"], 4, "{path}");
        let media = &config["media_attachments"];
        assert_eq!(media["image_size_limit"], 1_234_567, "{path}");
        assert_eq!(media["description_limit"], 999, "{path}");
        assert_eq!(media["image_matrix_limit"], 33_177_600, "{path}");
        assert!(media["video_size_limit"].as_u64().unwrap() > 0);
        let types: Vec<&str> = media["supported_mime_types"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap())
            .collect();
        for t in [
            "image/jpeg",
            "image/png",
            "image/gif",
            "image/webp",
            "video/mp4",
        ] {
            assert!(types.contains(&t), "{path}: {t} missing");
        }
    }
}

/// Video and audio are accepted within their limit and served unchanged, as
/// files with the type their content shows (docs/api.md: no transcoding).
async fn video_and_audio_as_files(backend: Backend) {
    let (alpha, _dir) = spawn(backend, |c| c.media.video_size_limit = 200_000).await;
    alpha.create_user("alice").await;
    let alice = Api::for_user(&alpha, "alice", "read write").await;

    // An MP4's leading `ftyp` box, then filler: what the sniffer reads.
    let mut mp4 = vec![0, 0, 0, 0x18];
    mp4.extend_from_slice(b"ftypisom\0\0\x02\0isomiso2");
    mp4.extend_from_slice(&[0u8; 4000]);
    // A WAV header (RIFF/WAVE, PCM) and a little silence.
    let mut wav = b"RIFF".to_vec();
    wav.extend_from_slice(&(36u32 + 2000).to_le_bytes());
    wav.extend_from_slice(b"WAVEfmt ");
    wav.extend_from_slice(&16u32.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes());
    wav.extend_from_slice(&1u16.to_le_bytes());
    wav.extend_from_slice(&8000u32.to_le_bytes());
    wav.extend_from_slice(&16000u32.to_le_bytes());
    wav.extend_from_slice(&2u16.to_le_bytes());
    wav.extend_from_slice(&16u16.to_le_bytes());
    wav.extend_from_slice(b"data");
    wav.extend_from_slice(&2000u32.to_le_bytes());
    wav.extend_from_slice(&[0u8; 2000]);

    for (bytes, kind, media_type) in [(&mp4, "video", "video/mp4"), (&wav, "audio", "audio/wav")] {
        let media = uploaded(&alice, bytes, &[("description", "A recording")]).await;
        assert_eq!(media["type"], kind, "{media}");
        assert_eq!(media["description"], "A recording");
        let file = fetch(media["url"].as_str().unwrap()).await;
        assert_eq!(file.status(), 200);
        let served = file
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        assert!(
            served == media_type || served.starts_with(kind),
            "{kind}: served as {served}"
        );
        assert_eq!(
            &file.bytes().await.unwrap().to_vec(),
            bytes,
            "{kind} changed"
        );
        // It attaches to a status like an image.
        let status = alice
            .status(json!({"status": "Listen", "media_ids": [media["id"]]}))
            .await;
        assert_eq!(status["media_attachments"][0]["type"], kind, "{status}");
    }

    // Over the video limit: refused.
    let mut big = mp4.clone();
    big.resize(300_000, 0);
    let (status, json) = upload(&alice, "/api/v2/media", &big, &[]).await;
    assert!(status == 413 || status == 422, "{status} {json}");
}
