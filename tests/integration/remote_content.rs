//! What another server sends is cleaned before a client sees it: one HTML
//! allow-list for every remote HTML field (content, summary, profile
//! summary, field values), plain text for display names, and only http(s)
//! links (a post's or an actor's `url`, an avatar).

use crate::{
    api_client::Api,
    fake_server::FakeServer,
    harness::{both_backends, TestInstance},
};
use outloud::config::Backend;
use serde_json::{json, Value};

const HOSTILE_HTML: &str =
    "<p>Hello</p><img src=\"http://x.localhost/p.png\" onerror=\"alert(1)\">\
<script>alert(2)</script><iframe src=\"http://x.localhost/\"></iframe>\
<a href=\"javascript:alert(3)\">link</a><p style=\"color:red\" onclick=\"alert(4)\">bye</p>";

/// No tag, attribute or scheme outside the allow-list survives.
#[track_caller]
fn assert_clean(field: &str, html: &str) {
    for bad in [
        "<img",
        "<script",
        "<iframe",
        "onerror",
        "onclick",
        "style=",
        "javascript:",
    ] {
        assert!(!html.contains(bad), "{field} keeps {bad}: {html}");
    }
}

async fn remote_html_and_urls_are_cleaned(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    alpha.create_user("lee").await;
    let evil = FakeServer::start("evil", "mastodon").await;
    let mal = evil.actor(
        "/users/mal",
        "Person",
        "mal",
        json!({
            "name": "<b>Mal</b><img src=x>",
            "summary": HOSTILE_HTML,
            "url": "javascript:alert(5)",
            "icon": { "type": "Image", "url": "javascript:alert(6)" },
            "attachment": [{
                "type": "PropertyValue",
                "name": "<i>Site</i>",
                "value": HOSTILE_HTML,
            }],
        }),
    );
    let api = Api::for_user(&alpha, "lee", "read write").await;
    let found = api
        .get(&format!(
            "/api/v2/search?q={}&resolve=true&type=accounts",
            mal.id
        ))
        .await
        .ok();
    let account = &found["accounts"][0];
    assert_eq!(account["uri"], mal.id.as_str(), "{found}");
    assert_clean("note", account["note"].as_str().unwrap());
    assert!(account["note"].as_str().unwrap().contains("Hello"));
    assert_eq!(account["display_name"], "Mal");
    for field in ["url", "avatar", "avatar_static"] {
        let url = account[field].as_str().unwrap();
        assert!(url.starts_with("http"), "{field}: {url}");
    }
    let field = &account["fields"][0];
    assert_clean("field value", field["value"].as_str().unwrap());
    assert!(!field["name"].as_str().unwrap().contains('<'), "{field}");

    // A Note with a hostile url and content, mentioning lee.
    let lee = alpha.actor_url("lee");
    let note_id = evil.url("/notes/1");
    let create = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": evil.url("/activities/1"),
        "type": "Create",
        "actor": mal.id,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": [lee],
        "object": {
            "id": note_id,
            "type": "Note",
            "attributedTo": mal.id,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "cc": [lee],
            "content": HOSTILE_HTML,
            "summary": "<b>cw</b>",
            "url": "javascript:alert(7)",
            "published": "2026-12-01T10:00:00Z",
            "tag": [{ "type": "Mention", "href": lee, "name": "@lee" }],
        },
    });
    let status = evil.send(&mal, &alpha.url("/inbox"), &create).await;
    assert_eq!(status, 202);
    let notifications = api.get("/api/v1/notifications").await.ok();
    let status: &Value = &notifications[0]["status"];
    assert_eq!(status["uri"], note_id.as_str(), "{notifications}");
    assert_clean("content", status["content"].as_str().unwrap());
    assert_eq!(status["spoiler_text"], "cw");
    let url = status["url"].as_str().unwrap();
    assert!(url.starts_with("http"), "status url: {url}");
    assert_clean("account note", status["account"]["note"].as_str().unwrap());
}

both_backends!(remote_html_and_urls_are_cleaned);
