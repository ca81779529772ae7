//! Accounts, relationships, notifications and instance endpoints through
//! the client API.

use crate::{
    api_client::Api,
    harness::{both_backends, TestInstance},
    schema::{assert_all_valid, assert_valid},
};
use outloud::config::Backend;
use serde_json::json;

async fn accounts_and_relationships(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let alice_row = alpha.create_user("alice").await;
    let bob_row = alpha.create_user("bob").await;
    let alice = Api::for_user(&alpha, "alice", "read write follow").await;
    let bob = Api::for_user(&alpha, "bob", "read write follow").await;
    let anon = Api::anonymous(&alpha);

    let found = anon.get("/api/v1/accounts/lookup?acct=alice").await.ok();
    assert_valid("Account", &found);
    assert_eq!(found["id"], alice_row.id.as_str());
    assert_eq!(found["acct"], "alice");
    assert_eq!(found["group"], false);
    anon.get("/api/v1/accounts/lookup?acct=nobody")
        .await
        .expect(404);
    anon.get("/api/v1/accounts/no-such-id").await.expect(404);
    let shown = anon
        .get(&format!("/api/v1/accounts/{}", bob_row.id))
        .await
        .ok();
    assert_valid("Account", &shown);

    // Profile edits.
    let updated = alice
        .patch_form(
            "/api/v1/accounts/update_credentials",
            &[
                ("display_name", "Alice A."),
                ("note", "I narrate *Rust* work."),
                ("locked", "true"),
                ("fields_attributes[0][name]", "Team"),
                ("fields_attributes[0][value]", "Platform"),
            ],
        )
        .await
        .ok();
    assert_valid("CredentialAccount", &updated);
    assert_eq!(updated["display_name"], "Alice A.");
    assert_eq!(updated["locked"], true);
    assert_eq!(updated["fields"][0]["name"], "Team");
    assert!(updated["note"].as_str().unwrap().contains("<em>Rust</em>"));
    assert_eq!(updated["source"]["note"], "I narrate *Rust* work.");
    // Multipart bodies (Tusky edits profiles so); file parts are refused.
    let multipart = |parts: &[(&str, Option<&str>, &str)]| {
        let mut body = String::new();
        for (name, filename, value) in parts {
            body.push_str("--XyZ\r\nContent-Disposition: form-data; name=\"");
            body.push_str(name);
            body.push('"');
            if let Some(f) = filename {
                body.push_str(&format!("; filename=\"{f}\"\r\nContent-Type: image/png"));
            }
            body.push_str("\r\n\r\n");
            body.push_str(value);
            body.push_str("\r\n");
        }
        body.push_str("--XyZ--\r\n");
        alpha
            .client
            .patch(alpha.url("/api/v1/accounts/update_credentials"))
            .bearer_auth(alice.token.as_deref().unwrap())
            .header("Content-Type", "multipart/form-data; boundary=XyZ")
            .body(body)
    };
    let sent = multipart(&[
        ("display_name", None, "Alice M."),
        ("fields_attributes[0][name]", None, "Team"),
        ("fields_attributes[0][value]", None, "Platform"),
    ])
    .send()
    .await
    .unwrap();
    assert_eq!(sent.status(), 200);
    let sent: serde_json::Value = sent.json().await.unwrap();
    assert_eq!(sent["display_name"], "Alice M.");
    let refused = multipart(&[("avatar", Some("me.png"), "not really a png")])
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 422);
    let too_long = "x".repeat(40);
    alice
        .patch_form(
            "/api/v1/accounts/update_credentials",
            &[("display_name", &too_long)],
        )
        .await
        .expect(422);

    // A locked account: following asks (a double tap asks once); the
    // request is authorized.
    let path = format!("/api/v1/accounts/{}/follow", alice_row.id);
    let taps = (0..3).map(|_| bob.post(&path, json!({})));
    let rels: Vec<_> = futures_util::future::join_all(taps)
        .await
        .into_iter()
        .map(|answer| answer.ok())
        .collect();
    let rel = &rels[2];
    assert_valid("Relationship", rel);
    assert_eq!(rel["requested"], true);
    assert_eq!(rel["following"], false);
    let requests = alice.get("/api/v1/follow_requests").await.ok();
    assert_all_valid("Account", &requests);
    assert_eq!(Api::ids(&requests), vec![bob_row.id.clone()]);
    let rel = alice
        .post(
            &format!("/api/v1/follow_requests/{}/authorize", bob_row.id),
            json!({}),
        )
        .await
        .ok();
    assert_eq!(rel["followed_by"], true);
    let rels = bob
        .get(&format!(
            "/api/v1/accounts/relationships?id[]={}&id[]=unknown",
            alice_row.id
        ))
        .await
        .ok();
    assert_all_valid("Relationship", &rels);
    assert_eq!(rels.as_array().unwrap().len(), 1);
    assert_eq!(rels[0]["following"], true);
    let followers = anon
        .get(&format!("/api/v1/accounts/{}/followers", alice_row.id))
        .await
        .ok();
    assert_all_valid("Account", &followers);
    assert_eq!(Api::ids(&followers), vec![bob_row.id.clone()]);
    let following = anon
        .get(&format!("/api/v1/accounts/{}/following", bob_row.id))
        .await
        .ok();
    assert_eq!(Api::ids(&following), vec![alice_row.id.clone()]);

    let count = |id: String| {
        let anon = anon.clone();
        async move {
            let a = anon.get(&format!("/api/v1/accounts/{id}")).await.ok();
            (
                a["followers_count"].as_i64().unwrap(),
                a["following_count"].as_i64().unwrap(),
                a["statuses_count"].as_i64().unwrap(),
            )
        }
    };
    assert_eq!(count(alice_row.id.clone()).await, (1, 0, 0));
    assert_eq!(count(bob_row.id.clone()).await, (0, 1, 0));

    // Mute and block.
    let muted = alice
        .post(&format!("/api/v1/accounts/{}/mute", bob_row.id), json!({}))
        .await
        .ok();
    assert_eq!(muted["muting"], true);
    assert_eq!(
        Api::ids(&alice.get("/api/v1/mutes").await.ok()),
        vec![bob_row.id.clone()]
    );
    bob.status(json!({"status": "@alice hello"})).await;
    assert!(
        alice
            .get("/api/v1/timelines/home")
            .await
            .ok()
            .as_array()
            .unwrap()
            .is_empty(),
        "muted posts stay out of home"
    );
    alice
        .post(
            &format!("/api/v1/accounts/{}/unmute", bob_row.id),
            json!({}),
        )
        .await
        .ok();
    let blocked = alice
        .post(&format!("/api/v1/accounts/{}/block", bob_row.id), json!({}))
        .await
        .ok();
    assert_eq!(blocked["blocking"], true);
    assert_eq!(blocked["followed_by"], false, "a block ends follows");
    // Bob's public post counts; the block ended the follow.
    assert_eq!(count(alice_row.id.clone()).await, (0, 0, 0));
    assert_eq!(count(bob_row.id.clone()).await, (0, 0, 1));
    assert_eq!(
        Api::ids(&alice.get("/api/v1/blocks").await.ok()),
        vec![bob_row.id.clone()]
    );
    let refused = bob
        .post(
            &format!("/api/v1/accounts/{}/follow", alice_row.id),
            json!({}),
        )
        .await
        .expect(403);
    assert!(refused["error"].is_string());
    alice
        .post(
            &format!("/api/v1/accounts/{}/unblock", bob_row.id),
            json!({}),
        )
        .await
        .ok();

    // Account search (local).
    let hits = alice.get("/api/v1/accounts/search?q=bo").await.ok();
    assert_all_valid("Account", &hits);
    assert_eq!(Api::ids(&hits), vec![bob_row.id.clone()]);
}

async fn notifications(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let alice_row = alpha.create_user("alice").await;
    alpha.create_user("bob").await;
    let alice = Api::for_user(&alpha, "alice", "read write follow").await;
    let bob = Api::for_user(&alpha, "bob", "read write follow").await;
    let post = alice.status(json!({"status": "narrating"})).await;
    let id = post["id"].as_str().unwrap();
    bob.post(
        &format!("/api/v1/accounts/{}/follow", alice_row.id),
        json!({}),
    )
    .await
    .ok();
    bob.post(&format!("/api/v1/statuses/{id}/favourite"), json!({}))
        .await
        .ok();
    bob.post(&format!("/api/v1/statuses/{id}/reblog"), json!({}))
        .await
        .ok();
    bob.status(json!({"status": "@alice nice one", "in_reply_to_id": id}))
        .await;
    alice
        .put(
            &format!("/api/v1/statuses/{id}"),
            json!({"status": "narrating, edited"}),
        )
        .await
        .ok();

    let all = alice.get("/api/v1/notifications").await.ok();
    assert_all_valid("Notification", &all);
    let types: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        vec!["mention", "reblog", "favourite", "follow"],
        "{all}"
    );
    assert_eq!(all[0]["account"]["username"], "bob");
    assert_eq!(all[1]["status"]["id"], id);
    // Bob boosted and liked it: the edit notifies him.
    let bobs = bob.get("/api/v1/notifications?types[]=update").await.ok();
    assert_eq!(bobs.as_array().unwrap().len(), 1, "{bobs}");

    // Grouped (v2): carol's like joins bob's in one group.
    alpha.create_user("carol").await;
    let carol = Api::for_user(&alpha, "carol", "read write").await;
    carol
        .post(&format!("/api/v1/statuses/{id}/favourite"), json!({}))
        .await
        .ok();
    let grouped = alice.get("/api/v2/notifications").await.ok();
    assert_valid("GroupedNotificationsResults", &grouped);
    let groups = grouped["notification_groups"].as_array().unwrap();
    let kinds: Vec<&str> = groups.iter().map(|g| g["type"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        vec!["favourite", "mention", "reblog", "follow"],
        "{grouped}"
    );
    assert_eq!(groups[0]["notifications_count"], 2);
    assert_eq!(groups[0]["sample_account_ids"].as_array().unwrap().len(), 2);
    assert_eq!(groups[0]["status_id"], id);
    assert!(groups[1]["group_key"]
        .as_str()
        .unwrap()
        .starts_with("ungrouped-"));
    assert_eq!(
        grouped["statuses"].as_array().unwrap().len(),
        2,
        "the post and the reply"
    );
    let key = groups[0]["group_key"].as_str().unwrap();
    let one = alice
        .get(&format!("/api/v2/notifications/{key}"))
        .await
        .ok();
    assert_valid("GroupedNotificationsResults", &one);
    let likers = alice
        .get(&format!("/api/v2/notifications/{key}/accounts"))
        .await
        .ok();
    assert_eq!(likers.as_array().unwrap().len(), 2);
    alice
        .post(&format!("/api/v2/notifications/{key}/dismiss"), json!({}))
        .await
        .ok();
    alice
        .get(&format!("/api/v2/notifications/{key}"))
        .await
        .expect(404);

    let mentions = alice
        .get("/api/v1/notifications?types[]=mention")
        .await
        .ok();
    assert_eq!(mentions.as_array().unwrap().len(), 1);
    let no_follows = alice
        .get("/api/v1/notifications?exclude_types[]=follow&exclude_types[]=mention")
        .await
        .ok();
    assert_eq!(
        no_follows.as_array().unwrap().len(),
        1,
        "the reblog; the likes were dismissed"
    );
    let first = all[0]["id"].as_str().unwrap();
    let one = alice
        .get(&format!("/api/v1/notifications/{first}"))
        .await
        .ok();
    assert_valid("Notification", &one);
    alice
        .post(&format!("/api/v1/notifications/{first}/dismiss"), json!({}))
        .await
        .ok();
    alice
        .get(&format!("/api/v1/notifications/{first}"))
        .await
        .expect(404);
    bob.get(&format!("/api/v1/notifications/{first}"))
        .await
        .expect(404);
    alice
        .post("/api/v1/notifications/clear", json!({}))
        .await
        .ok();
    assert!(alice
        .get("/api/v1/notifications")
        .await
        .ok()
        .as_array()
        .unwrap()
        .is_empty());
    // Reading notifications needs its scope.
    let narrow = Api::for_user(&alpha, "alice", "read:statuses").await;
    narrow.get("/api/v1/notifications").await.expect(403);
}

async fn instance_and_app_start(backend: Backend) {
    let alpha = TestInstance::spawn_with("alpha", backend, |c| {
        c.api.rate_limit = 40;
        c.instance.contact_email = "admins@alpha.example".into();
    })
    .await;
    alpha.create_user("alice").await;
    let alice = Api::for_user(&alpha, "alice", "read write").await;
    let anon = Api::anonymous(&alpha);
    let v2 = anon.get("/api/v2/instance").await.ok();
    assert_valid("Instance", &v2);
    assert_eq!(v2["configuration"]["statuses"]["max_characters"], 5000);
    // Unknown endpoints answer a JSON error.
    let missing = anon.get("/api/v1/no_such_endpoint").await.expect(404);
    assert_eq!(missing["error"], "Record not found");
    // Some clients add a trailing slash.
    anon.get("/api/v2/instance/").await.ok();
    let v1 = anon.get("/api/v1/instance").await.ok();
    assert_valid("V1Instance", &v1);
    assert!(v1["version"].as_str().unwrap().starts_with("4."));
    assert!(anon.get("/api/v1/instance/peers").await.ok().is_array());
    for empty in [
        "/api/v1/custom_emojis",
        "/api/v1/trends/tags",
        "/api/v1/trends/statuses",
    ] {
        assert_eq!(anon.get(empty).await.ok(), json!([]), "{empty}");
    }
    for empty in [
        "/api/v1/filters",
        "/api/v2/filters",
        "/api/v1/announcements",
        "/api/v1/lists",
        "/api/v1/followed_tags",
    ] {
        assert_eq!(alice.get(empty).await.ok(), json!([]), "{empty}");
    }
    let prefs = alice.get("/api/v1/preferences").await.ok();
    assert_valid("Preferences", &prefs);

    // Markers round trip.
    let saved = alice
        .post_form("/api/v1/markers", &[("home[last_read_id]", "0192")])
        .await
        .ok();
    assert_valid("Marker", &saved["home"]);
    let again = alice
        .post("/api/v1/markers", json!({"home": {"last_read_id": "0193"}}))
        .await
        .ok();
    assert_eq!(again["home"]["version"], 1);
    let read = alice
        .get("/api/v1/markers?timeline[]=home&timeline[]=notifications")
        .await
        .ok();
    assert_eq!(read["home"]["last_read_id"], "0193");
    assert!(read.get("notifications").is_none());
    // Two clients saving the same marker at once both succeed.
    let saves = (0..3).map(|n| {
        alice.post(
            "/api/v1/markers",
            json!({"notifications": {"last_read_id": format!("019{n}")}}),
        )
    });
    for answer in futures_util::future::join_all(saves).await {
        answer.ok();
    }
    let read = alice
        .get("/api/v1/markers?timeline[]=notifications")
        .await
        .ok();
    assert_eq!(read["notifications"]["version"], 2);

    // CORS for browser clients.
    let preflight = alpha
        .client
        .request(
            reqwest::Method::OPTIONS,
            alpha.url("/api/v1/timelines/public"),
        )
        .header("Origin", "https://elk.example")
        .header("Access-Control-Request-Method", "GET")
        .header("Access-Control-Request-Headers", "authorization")
        .send()
        .await
        .unwrap();
    assert!(preflight.status().is_success(), "{}", preflight.status());
    assert!(preflight
        .headers()
        .contains_key("access-control-allow-origin"));

    // Rate limit: headers on every answer, 429 past the limit.
    let answer = alice.get("/api/v1/timelines/home").await;
    assert_eq!(answer.header("x-ratelimit-limit").as_deref(), Some("40"));
    let mut last = answer.status;
    for _ in 0..40 {
        last = alice.get("/api/v1/timelines/home").await.status;
    }
    assert_eq!(last.as_u16(), 429);
    // Another token has its own allowance.
    let other = Api::for_user(&alpha, "alice", "read").await;
    other.get("/api/v1/timelines/home").await.ok();
}

both_backends!(
    accounts_and_relationships,
    notifications,
    instance_and_app_start
);
