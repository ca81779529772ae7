//! The S3 media store against a real S3-compatible server: moto's
//! (PyPI `moto[server]`, pinned in `tests/client/requirements-s3.txt`,
//! installed into `target/moto-venv` like the Mastodon.py test's
//! virtualenv). An upload through the client API lands in the bucket, is
//! served by `/media/{key}`, and deleting it removes the objects.
//!
//! Without Python or PyPI the test prints a notice and passes, unless
//! `OUTLOUD_TEST_S3_REQUIRED=1` (CI sets it), where it fails.

use crate::{
    api_client::Api,
    harness::{both_backends, http_client, TestInstance},
    media_support::{png, uploaded},
};
use outloud::config::{Backend, MediaStoreKind};
use std::{
    process::{Child, Command, Stdio},
    time::Duration,
};

both_backends!(s3_store_round_trip);

const BUCKET: &str = "outloud-media";

fn required() -> bool {
    std::env::var("OUTLOUD_TEST_S3_REQUIRED").is_ok_and(|v| v == "1")
}

/// Fails under `OUTLOUD_TEST_S3_REQUIRED=1`, else says why it skips.
fn unavailable(why: &str) {
    if required() {
        panic!("media_s3: no S3 server (OUTLOUD_TEST_S3_REQUIRED=1): {why}");
    }
    eprintln!("NOTICE: media_s3 skipped, no S3 server: {why}");
}

/// moto's server, killed when dropped.
struct Moto {
    child: Child,
    endpoint: String,
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `python -m moto.server` on a free port and waits until it answers.
async fn start_moto() -> Result<Moto, String> {
    let python = tokio::task::spawn_blocking(crate::mastodon_py::s3_venv_python)
        .await
        .unwrap()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map_err(|e| e.to_string())?
        .port();
    let child = Command::new(python)
        .args([
            "-m",
            "moto.server",
            "-H",
            "127.0.0.1",
            "-p",
            &port.to_string(),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting moto.server: {e}"))?;
    let mut moto = Moto {
        child,
        endpoint: format!("http://127.0.0.1:{port}"),
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(Some(status)) = moto.child.try_wait() {
            return Err(format!("moto.server exited: {status}"));
        }
        if http_client().get(&moto.endpoint).send().await.is_ok() {
            return Ok(moto);
        }
        if tokio::time::Instant::now() > deadline {
            return Err("moto.server did not answer within 60 s".into());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The objects in the bucket with their sizes (S3 ListObjectsV2; moto
/// lets anyone list, while reading an object needs a signed request).
async fn objects(endpoint: &str) -> Vec<(String, u64)> {
    let xml = http_client()
        .get(format!("{endpoint}/{BUCKET}?list-type=2"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let doc = roxmltree::Document::parse(&xml).unwrap();
    let child = |n: roxmltree::Node, tag: &str| {
        n.children()
            .find(|c| c.has_tag_name(tag))
            .and_then(|c| c.text())
            .map(String::from)
    };
    doc.descendants()
        .filter(|n| n.has_tag_name("Contents"))
        .filter_map(|n| Some((child(n, "Key")?, child(n, "Size")?.parse().ok()?)))
        .collect()
}

fn key_of(url: &str) -> String {
    url.rsplit('/').next().unwrap().to_string()
}

async fn s3_store_round_trip(backend: Backend) {
    let moto = match start_moto().await {
        Ok(m) => m,
        Err(why) => return unavailable(&why),
    };
    // S3 CreateBucket.
    let created = http_client()
        .put(format!("{}/{BUCKET}", moto.endpoint))
        .send()
        .await
        .unwrap();
    assert!(
        created.status().is_success(),
        "CreateBucket: {}",
        created.status()
    );

    let endpoint = moto.endpoint.clone();
    let alpha = TestInstance::spawn_with("alpha", backend, |c| {
        c.media.store = MediaStoreKind::S3;
        c.media.s3_bucket = BUCKET.into();
        c.media.s3_endpoint = endpoint;
        c.media.s3_region = "us-east-1".into();
        c.media.s3_access_key = "testing".into();
        c.media.s3_secret_key = "testing".into();
        c.media.s3_path_style = true;
    })
    .await;
    alpha.create_user("alice").await;
    let alice = Api::for_user(&alpha, "alice", "read write").await;

    let bytes = png(40, 30);
    let media = uploaded(&alice, &bytes, &[("description", "in a bucket")]).await;
    let url = media["url"].as_str().unwrap();
    let preview = media["preview_url"].as_str().unwrap();
    let stored = objects(&moto.endpoint).await;
    let size_of = |key: &str| {
        stored
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, size)| *size)
            .unwrap_or_else(|| panic!("{key} not in the bucket: {stored:?}"))
    };
    let thumb_size = size_of(&key_of(preview));
    assert!(thumb_size > 0);

    // Served by this server from the bucket: the object, byte for byte.
    let served = http_client().get(url).send().await.unwrap();
    assert_eq!(served.status(), 200);
    assert_eq!(served.headers()["content-type"], "image/png");
    let body = served.bytes().await.unwrap();
    assert_eq!(body.len() as u64, size_of(&key_of(url)));
    let img = image::load_from_memory(&body).unwrap();
    assert_eq!((img.width(), img.height()), (40, 30));
    let thumb = http_client().get(preview).send().await.unwrap();
    assert_eq!(thumb.bytes().await.unwrap().len() as u64, thumb_size);

    // Deleting the upload removes both objects.
    alice
        .delete(&format!("/api/v1/media/{}", media["id"].as_str().unwrap()))
        .await
        .ok();
    let left = objects(&moto.endpoint).await;
    assert!(
        !left
            .iter()
            .any(|(k, _)| *k == key_of(url) || *k == key_of(preview)),
        "still in the bucket: {left:?}"
    );
    assert_eq!(http_client().get(url).send().await.unwrap().status(), 404);
}
