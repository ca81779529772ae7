//! Images in the web app over HTTP, as a browser without script sends
//! them: the composer's multipart form (files with alt text, refused
//! files, too many files, CSRF), the cards that show them, and editing
//! a narration's images.

use crate::harness::{both_backends, TestInstance};
use crate::web_narrations::{csrf_of, WebClient};
use diesel::prelude::*;
use outloud::{config::Backend, db::schema::media_attachments};
use reqwest::{header, StatusCode};
use std::io::Cursor;

both_backends!(
    composing_with_images_shows_them_with_their_alt_text,
    refused_files_leave_nothing_stored,
    multipart_compose_without_a_valid_csrf_token_is_403,
    editing_keeps_describes_removes_and_adds_images,
    in_the_browser_images_live_bar_and_notification_count,
);

/// A PNG of `w`×`h` with some colour in it (so the blurhash is not flat).
pub fn png(w: u32, h: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(w, h, |x, y| {
        image::Rgb([(x * 255 / w.max(1)) as u8, (y * 255 / h.max(1)) as u8, 90])
    });
    let mut out = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

/// A multipart body: text fields, then files (field, filename, type,
/// content). Returns (Content-Type, body).
pub fn multipart(
    fields: &[(&str, &str)],
    files: &[(&str, &str, &str, &[u8])],
) -> (String, Vec<u8>) {
    let boundary = "----outloud-test-boundary-7MA4YWxkTrZu0gW";
    let mut body = Vec::new();
    for (name, value) in fields {
        body.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    for (name, filename, kind, content) in files {
        body.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\nContent-Type: {kind}\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(content);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// An instance whose media directory is a temporary one (kept alive by
/// the returned guard), with `ann` signed in on the web.
async fn ann_signed_in(backend: Backend) -> (TestInstance, WebClient, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_string_lossy().to_string();
    let alpha = TestInstance::spawn_with("alpha", backend, |c| c.media.path = path).await;
    alpha.create_user("ann").await;
    let web = WebClient::sign_in(&alpha, "ann").await;
    (alpha, web, dir)
}

/// How many media rows exist, and how many files the store holds.
async fn stored(alpha: &TestInstance, dir: &tempfile::TempDir) -> (i64, usize) {
    let rows = alpha
        .data()
        .db
        .run(|conn| Ok(media_attachments::table.count().get_result::<i64>(conn)?))
        .await
        .unwrap();
    let files = walk(dir.path());
    (rows, files)
}

fn walk(dir: &std::path::Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    let p = e.path();
                    if p.is_dir() {
                        walk(&p)
                    } else {
                        1
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

async fn narration_count(alpha: &TestInstance) -> i64 {
    use outloud::db::schema::posts;
    alpha
        .data()
        .db
        .run(|conn| Ok(posts::table.count().get_result::<i64>(conn)?))
        .await
        .unwrap()
}

/// Sends the composer as multipart with the CSRF token of /compose.
async fn compose(
    web: &WebClient,
    fields: &[(&str, &str)],
    files: &[(&str, &str, &str, &[u8])],
) -> reqwest::Response {
    let csrf = csrf_of(&web.page("/compose").await);
    let mut all = vec![("csrf", csrf.as_str())];
    all.extend_from_slice(fields);
    let (kind, body) = multipart(&all, files);
    web.post_multipart("/compose", &kind, body).await
}

fn location(response: &reqwest::Response) -> String {
    response.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_string()
}

/// The `<img …>` tag whose alt is `alt`, in a page.
fn img_with_alt<'a>(html: &'a str, alt: &str) -> &'a str {
    let at = html
        .find(&format!("alt=\"{alt}\""))
        .unwrap_or_else(|| panic!("no image with alt {alt:?} in {html}"));
    let start = html[..at].rfind("<img").unwrap();
    let end = at + html[at..].find('>').unwrap();
    &html[start..=end]
}

async fn composing_with_images_shows_them_with_their_alt_text(backend: Backend) {
    let (alpha, web, dir) = ann_signed_in(backend).await;
    let form = web.page("/compose").await;
    assert!(form.contains("enctype=\"multipart/form-data\""));
    for i in 0..4 {
        assert!(
            form.contains(&format!("name=\"media_{i}\" type=\"file\"")),
            "{form}"
        );
        assert!(form.contains(&format!("name=\"alt_{i}\"")));
    }
    assert!(!form.contains("name=\"media_4\""));

    let (wide, tall) = (png(640, 480), png(30, 60));
    let response = compose(
        &web,
        &[
            ("text", "Two sketches of the **workbench**."),
            ("visibility", "public"),
            ("alt_0", "The workbench from above, tools on the left"),
            ("alt_1", ""),
            ("alt_2", "written for an input left empty"),
        ],
        &[
            ("media_0", "bench.png", "image/png", &wide),
            ("media_1", "detail.png", "image/png", &tall),
            ("media_2", "", "application/octet-stream", b""),
        ],
    )
    .await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{}",
        response.text().await.unwrap()
    );
    let permalink = location(&response);
    assert_eq!(stored(&alpha, &dir).await.0, 2);

    let page = web.page(&permalink).await;
    assert!(page.contains("<strong>workbench</strong>"));
    let img = img_with_alt(&page, "The workbench from above, tools on the left");
    // The thumbnail is shown, at its size (no layout shift), lazily.
    assert!(img.contains("loading=\"lazy\""), "{img}");
    assert!(
        img.contains("width=\"") && img.contains("height=\""),
        "{img}"
    );
    assert!(img.contains("src=\"http://alpha.localhost"), "{img}");
    assert!(img.contains("/media/"), "{img}");
    assert!(page.contains("data-blurhash=\""), "{page}");
    // The alt text is also visible, behind an ALT badge.
    assert!(
        page.contains(">ALT</abbr></summary><p>The workbench from above, tools on the left</p>")
    );
    // The second has no description: an empty alt, no badge.
    let second = img_with_alt(&page, "");
    assert!(second.contains("width=\"30\" height=\"60\""), "{second}");
    assert_eq!(page.matches(">ALT</abbr>").count(), 1);
    // The ids of the media rows are in post order.
    let width_first = img
        .split("width=\"")
        .nth(1)
        .and_then(|r| r.split('"').next())
        .unwrap();
    let w: u32 = width_first.parse().unwrap();
    assert!(w > 0 && w <= 640, "{img}");

    // Home shows the same card with its images.
    let home = web.page("/home").await;
    img_with_alt(&home, "The workbench from above, tools on the left");

    // A narration of images only, without text, is fine.
    let response = compose(
        &web,
        &[
            ("text", ""),
            ("visibility", "public"),
            ("alt_0", "Only a picture"),
        ],
        &[("media_0", "only.png", "image/png", &png(20, 20))],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let page = web.page(&location(&response)).await;
    img_with_alt(&page, "Only a picture");
}

async fn refused_files_leave_nothing_stored(backend: Backend) {
    let (alpha, web, dir) = ann_signed_in(backend).await;
    let good = png(50, 50);

    // A text file, after a good image: both refused, nothing kept.
    let response = compose(
        &web,
        &[
            ("text", "My notes and a picture"),
            ("visibility", "public"),
            ("alt_0", "A gradient"),
            ("alt_1", "Notes"),
        ],
        &[
            ("media_0", "gradient.png", "image/png", &good),
            (
                "media_1",
                "notes.txt",
                "image/png",
                b"just some text, not an image",
            ),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.text().await.unwrap();
    assert!(body.contains("role=\"alert\""), "{body}");
    assert!(
        body.contains("&#34;notes.txt&#34; could not be attached"),
        "{body}"
    );
    // What was written is kept, with the alt texts; the files must be chosen again.
    assert!(body.contains("My notes and a picture</textarea>"));
    assert!(body.contains(">A gradient</textarea>"));
    assert!(body.contains("choose them again"));
    assert_eq!(stored(&alpha, &dir).await, (0, 0));
    assert_eq!(narration_count(&alpha).await, 0);

    // Five files: more than a narration may carry.
    let files: Vec<(String, Vec<u8>)> = (0..5)
        .map(|i| (format!("media_{i}"), png(10, 10)))
        .collect();
    let parts: Vec<(&str, &str, &str, &[u8])> = files
        .iter()
        .map(|(n, b)| (n.as_str(), "p.png", "image/png", b.as_slice()))
        .collect();
    let response = compose(&web, &[("text", "Five"), ("visibility", "public")], &parts).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = response.text().await.unwrap();
    assert!(body.contains("at most 4 images"), "{body}");
    assert_eq!(stored(&alpha, &dir).await, (0, 0));

    // A good image but a text the composer refuses: the upload goes again.
    let long = "x".repeat(6_000);
    let response = compose(
        &web,
        &[("text", &long), ("visibility", "public")],
        &[("media_0", "gradient.png", "image/png", &good)],
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("too long"));
    assert_eq!(stored(&alpha, &dir).await, (0, 0));

    // Alt text longer than allowed.
    let alt = "a".repeat(1_501);
    let response = compose(
        &web,
        &[
            ("text", "Long alt"),
            ("visibility", "public"),
            ("alt_0", &alt),
        ],
        &[("media_0", "gradient.png", "image/png", &good)],
    )
    .await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("Description is too long"));
    assert_eq!(stored(&alpha, &dir).await, (0, 0));
    assert_eq!(narration_count(&alpha).await, 0);
}

async fn multipart_compose_without_a_valid_csrf_token_is_403(backend: Backend) {
    let (alpha, web, dir) = ann_signed_in(backend).await;
    let good = png(40, 40);
    for token in [None, Some("stale-token-0123456789abcdef0123456789abcdef")] {
        let mut fields = vec![("text", "Sneaky"), ("visibility", "public")];
        if let Some(t) = token {
            fields.insert(0, ("csrf", t));
        }
        let (kind, body) = multipart(&fields, &[("media_0", "g.png", "image/png", &good)]);
        let response = web.post_multipart("/compose", &kind, body).await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "token {token:?}");
        assert!(response.text().await.unwrap().contains("expired"));
    }
    // Signed out, with another person's fresh token: 403 too.
    let visitor = WebClient::new(&alpha);
    let csrf = csrf_of(&web.page("/compose").await);
    let (kind, body) = multipart(
        &[
            ("csrf", &csrf),
            ("text", "Sneaky"),
            ("visibility", "public"),
        ],
        &[("media_0", "g.png", "image/png", &good)],
    );
    let response = visitor.post_multipart("/compose", &kind, body).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(stored(&alpha, &dir).await, (0, 0));
    assert_eq!(narration_count(&alpha).await, 0);
}

async fn editing_keeps_describes_removes_and_adds_images(backend: Backend) {
    let (alpha, web, dir) = ann_signed_in(backend).await;
    let response = compose(
        &web,
        &[
            ("text", "Before and after"),
            ("visibility", "public"),
            ("alt_0", "Before"),
            ("alt_1", "After"),
        ],
        &[
            ("media_0", "before.png", "image/png", &png(30, 20)),
            ("media_1", "after.png", "image/png", &png(20, 30)),
        ],
    )
    .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let permalink = location(&response);
    let id = permalink.rsplit('/').next().unwrap().to_string();
    let edit_path = format!("/narrations/{id}/edit");
    let form = web.page(&edit_path).await;
    assert!(form.contains("enctype=\"multipart/form-data\""));
    img_with_alt(&form, "Before");
    // Two kept slots, two free ones.
    assert!(form.contains("name=\"keep_0\"") && form.contains("name=\"keep_1\""));
    assert!(form.contains("name=\"media_0\"") && form.contains("name=\"media_1\""));
    assert!(!form.contains("name=\"media_2\""));
    let kept: Vec<String> = (0..2)
        .map(|i| {
            let marker = format!("name=\"keep_{i}\" value=\"");
            let at = form.find(&marker).unwrap() + marker.len();
            form[at..at + form[at..].find('"').unwrap()].to_string()
        })
        .collect();

    // Remove "Before", describe "After" anew, add one.
    let csrf = csrf_of(&form);
    let (kind, body) = multipart(
        &[
            ("csrf", &csrf),
            ("text", "Before and after, edited"),
            ("warning", ""),
            ("keep_0", &kept[0]),
            ("keep_alt_0", "Before"),
            ("remove_0", "1"),
            ("keep_1", &kept[1]),
            ("keep_alt_1", "After: the joint glued and clamped"),
            ("alt_0", "A new detail"),
        ],
        &[("media_0", "detail.png", "image/png", &png(16, 16))],
    );
    let response = web.post_multipart(&edit_path, &kind, body).await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "{}",
        response.text().await.unwrap()
    );
    let page = web.page(&permalink).await;
    assert!(page.contains("Before and after, edited"));
    assert!(!page.contains("alt=\"Before\""), "{page}");
    let after = page
        .find("alt=\"After: the joint glued and clamped\"")
        .unwrap();
    let detail = page.find("alt=\"A new detail\"").unwrap();
    assert!(after < detail, "kept ones first, then new ones");
    // The removed one is detached (pruned later by housekeeping), the
    // new one stored: three rows.
    assert_eq!(stored(&alpha, &dir).await.0, 3);

    // A bad file in the edit form: the edit is refused, nothing new kept.
    let csrf = csrf_of(&web.page(&edit_path).await);
    let (kind, body) = multipart(
        &[("csrf", &csrf), ("text", "Edited again"), ("alt_0", "x")],
        &[("media_0", "bad.gif", "image/gif", b"GIF89a but not really")],
    );
    let response = web.post_multipart(&edit_path, &kind, body).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("could not be attached"));
    assert_eq!(stored(&alpha, &dir).await.0, 3);
    let page = web.page(&permalink).await;
    assert!(page.contains("Before and after, edited"));
    assert!(page.contains("alt=\"A new detail\""));
}

async fn in_the_browser_images_live_bar_and_notification_count(backend: Backend) {
    use crate::browser::Browser;
    use thirtyfour::By;
    let (alpha, _web, dir) = ann_signed_in(backend).await;
    alpha.create_user("bob").await;
    alpha.follow("ann", &alpha.handle_of("bob")).await;
    let label = format!("media-live-{backend:?}").to_lowercase();
    let Some(b) = Browser::start(&label).await else {
        return;
    };
    b.goto(&alpha.url("/login")).await;
    b.fill("#username", "ann").await;
    b.fill("#password", "password for tests").await;
    b.click("main button[type=submit]").await;
    assert!(b.current_url().await.ends_with("/home"));

    // Compose with an image and its alt text.
    let file = dir.path().join("upload-bench.png");
    std::fs::write(&file, png(320, 200)).unwrap();
    b.visit(&alpha.url("/compose"), "compose-images").await;
    b.click("#compose .compose-media summary").await;
    b.driver()
        .find(By::Css("#compose-media-0"))
        .await
        .unwrap()
        .send_keys(file.to_string_lossy().as_ref())
        .await
        .unwrap();
    b.fill("#compose-alt-0", "A plane resting on the bench")
        .await;
    b.fill("#compose-text", "New plane, first shavings.").await;
    b.click("#compose-submit").await;
    assert!(
        b.current_url().await.contains("/@ann/"),
        "{}",
        b.current_url().await
    );
    let img = b.driver().find(By::Css(".focus .thumb img")).await.unwrap();
    assert_eq!(
        img.attr("alt").await.unwrap().as_deref(),
        Some("A plane resting on the bench")
    );
    assert!(img.attr("width").await.unwrap().is_some());
    assert!(
        b.exists(".focus .thumb canvas.blurhash").await,
        "blurhash painted"
    );
    b.click(".focus .alt summary").await;
    assert_eq!(
        b.text(".focus .alt p").await,
        "A plane resting on the bench"
    );
    b.screenshot("narration-with-image").await;
    // The image itself loads from the file route (`GET /media/{key}`).
    let loaded = b
        .driver()
        .execute(
            "return document.querySelector('.focus .thumb img').naturalWidth;",
            Vec::new(),
        )
        .await
        .unwrap();
    assert!(
        loaded.json().as_u64().unwrap_or(0) > 0,
        "the image did not load: {:?}",
        loaded.json()
    );
    b.assert_console_clean().await;

    // Home is open; bob narrates: the live bar appears without a reload.
    b.goto(&alpha.url("/home")).await;
    b.screenshot("home-live-before").await;
    assert!(!b.exists("#live-bar:not([hidden])").await);
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    alpha
        .publish(
            "bob",
            outloud::service::posts::NewPost::note("Bob live from the shop"),
        )
        .await;
    let driver = b.driver().clone();
    crate::harness::eventually(std::time::Duration::from_secs(10), || {
        let driver = driver.clone();
        async move {
            let bar = driver.find(By::Css("#live-bar")).await.ok()?;
            let text = bar.text().await.ok()?;
            text.contains("1 new narration").then_some(())
        }
    })
    .await;
    b.screenshot("home-live-bar").await;

    // A mention of ann: the notifications count updates.
    alpha
        .publish(
            "bob",
            outloud::service::posts::NewPost::note("@ann look at this joint"),
        )
        .await;
    crate::harness::eventually(std::time::Duration::from_secs(10), || {
        let driver = driver.clone();
        async move {
            let count = driver
                .find(By::Css("#nav-notifications .count"))
                .await
                .ok()?;
            let text = count.text().await.ok()?;
            text.starts_with('1').then_some(())
        }
    })
    .await;
    b.screenshot("home-live-notification").await;
    b.assert_console_clean().await;
    // Following the bar shows the new narration, rendered by the server.
    b.click("#live-bar a").await;
    assert!(b.text("main").await.contains("Bob live from the shop"));
    b.close().await;
}
