//! Filters (docs/api.md "Filters"): v2 CRUD with keywords and statuses,
//! the v1 compatibility view, validation, another account's filters, and
//! filters applied: `warn` gives `filtered`, `hide` removes statuses from
//! home and notifications, expiry, and the user stream.

use crate::{
    api_client::Api,
    harness::{both_backends, TestInstance},
    streaming_client::{collect_until, expect_event, Client, Sse},
};
use outloud::config::Backend;
use serde_json::{json, Value};
use std::time::Duration;

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(id).collect()
}

/// The status of `status_id` in a list of statuses.
fn find<'a>(list: &'a Value, status_id: &str) -> Option<&'a Value> {
    list.as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == status_id)
}

async fn crud_and_validation(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    alpha.create_user("alice").await;
    alpha.create_user("bob").await;
    let alice = Api::for_user(&alpha, "alice", "read write follow").await;
    let bob = Api::for_user(&alpha, "bob", "read write follow").await;

    assert_eq!(alice.get("/api/v2/filters").await.ok(), json!([]));
    let created = alice
        .post(
            "/api/v2/filters",
            json!({
                "title": "Spoilers",
                "context": ["home", "public"],
                "filter_action": "hide",
                "keywords_attributes": [
                    {"keyword": "spoiler", "whole_word": true},
                    {"keyword": "finale", "whole_word": false}
                ]
            }),
        )
        .await
        .ok();
    let fid = id(&created);
    assert_eq!(created["title"], "Spoilers");
    assert_eq!(created["context"], json!(["home", "public"]));
    assert_eq!(created["filter_action"], "hide");
    assert_eq!(created["expires_at"], Value::Null);
    assert_eq!(created["keywords"].as_array().unwrap().len(), 2);
    assert_eq!(created["keywords"][0]["keyword"], "spoiler");
    assert_eq!(created["keywords"][0]["whole_word"], true);
    assert_eq!(created["keywords"][1]["whole_word"], false);
    assert_eq!(created["statuses"], json!([]));

    // Form-encoded, as Rails-style apps send it; `warn` by default.
    let form = alice
        .post_form(
            "/api/v2/filters",
            &[
                ("title", "Cats"),
                ("context[]", "notifications"),
                ("context[]", "thread"),
                ("expires_in", "3600"),
                ("keywords_attributes[0][keyword]", "cat"),
                ("keywords_attributes[0][whole_word]", "false"),
            ],
        )
        .await
        .ok();
    assert_eq!(form["filter_action"], "warn");
    assert_eq!(form["context"], json!(["notifications", "thread"]));
    assert!(form["expires_at"].is_string(), "{form}");
    assert_eq!(form["keywords"][0]["keyword"], "cat");
    assert_eq!(form["keywords"][0]["whole_word"], false);
    let list = alice.get("/api/v2/filters").await.ok();
    assert_eq!(ids(&list), vec![fid.clone(), id(&form)]);
    assert_eq!(
        alice.get(&format!("/api/v2/filters/{fid}")).await.ok(),
        created
    );

    // Update: title, contexts, action; keywords changed, removed, added.
    let spoiler_kw = id(&created["keywords"][0]);
    let finale_kw = id(&created["keywords"][1]);
    let updated = alice
        .put(
            &format!("/api/v2/filters/{fid}"),
            json!({
                "title": "Plot",
                "context": ["home"],
                "filter_action": "warn",
                "keywords_attributes": [
                    {"id": spoiler_kw, "keyword": "spoilers", "whole_word": false},
                    {"id": finale_kw, "_destroy": true},
                    {"keyword": "ending"}
                ]
            }),
        )
        .await
        .ok();
    assert_eq!(updated["title"], "Plot");
    assert_eq!(updated["context"], json!(["home"]));
    assert_eq!(updated["filter_action"], "warn");
    let words: Vec<(&str, bool)> = updated["keywords"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["keyword"].as_str().unwrap(),
                k["whole_word"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(words, vec![("spoilers", false), ("ending", true)]);

    // Keyword endpoints.
    let added = alice
        .post_form(
            &format!("/api/v2/filters/{fid}/keywords"),
            &[("keyword", "twist"), ("whole_word", "true")],
        )
        .await
        .ok();
    let kid = id(&added);
    assert_eq!(added["keyword"], "twist");
    let keywords = alice
        .get(&format!("/api/v2/filters/{fid}/keywords"))
        .await
        .ok();
    assert_eq!(keywords.as_array().unwrap().len(), 3);
    assert_eq!(
        alice
            .get(&format!("/api/v2/filters/keywords/{kid}"))
            .await
            .ok(),
        added
    );
    let changed = alice
        .put(
            &format!("/api/v2/filters/keywords/{kid}"),
            json!({"keyword": "plot twist", "whole_word": false}),
        )
        .await
        .ok();
    assert_eq!(changed["keyword"], "plot twist");
    assert_eq!(changed["whole_word"], false);
    alice
        .delete(&format!("/api/v2/filters/keywords/{kid}"))
        .await
        .ok();
    alice
        .get(&format!("/api/v2/filters/keywords/{kid}"))
        .await
        .expect(404);

    // Status endpoints.
    let post = bob.status(json!({"status": "a post to filter"})).await;
    let fs = alice
        .post_form(
            &format!("/api/v2/filters/{fid}/statuses"),
            &[("status_id", &id(&post))],
        )
        .await
        .ok();
    assert_eq!(fs["status_id"], post["id"]);
    let fsid = id(&fs);
    assert_eq!(
        alice
            .get(&format!("/api/v2/filters/{fid}/statuses"))
            .await
            .ok(),
        json!([fs.clone()])
    );
    assert_eq!(
        alice
            .get(&format!("/api/v2/filters/statuses/{fsid}"))
            .await
            .ok(),
        fs
    );
    alice
        .post_form(
            &format!("/api/v2/filters/{fid}/statuses"),
            &[("status_id", "no-such-status")],
        )
        .await
        .expect(404);

    // Validation.
    for bad in [
        json!({"title": "", "context": ["home"]}),
        json!({"title": "   ", "context": ["home"]}),
        json!({"title": "x", "context": []}),
        json!({"title": "x"}),
        json!({"title": "x", "context": ["home", "elsewhere"]}),
        json!({"title": "x", "context": ["home"], "filter_action": "explode"}),
        json!({"title": "x", "context": ["home"], "keywords_attributes": [{"keyword": ""}]}),
        json!({"title": "x", "context": ["home"],
               "keywords_attributes": [{"keyword": "ok"}, {"keyword": " "}]}),
        json!({"title": "x", "context": ["home"], "expires_in": -5}),
    ] {
        let answer = alice.post("/api/v2/filters", bad.clone()).await;
        let body = answer.expect(422);
        assert!(body["error"].is_string(), "{bad}: {body}");
    }
    alice
        .post_form(
            &format!("/api/v2/filters/{fid}/keywords"),
            &[("keyword", "")],
        )
        .await
        .expect(422);
    alice
        .put(
            &format!("/api/v2/filters/keywords/{spoiler_kw}"),
            json!({"keyword": ""}),
        )
        .await
        .expect(422);
    alice
        .put(
            &format!("/api/v2/filters/{fid}"),
            json!({"context": ["nowhere"]}),
        )
        .await
        .expect(422);
    alice
        .put(
            &format!("/api/v2/filters/{fid}"),
            json!({"keywords_attributes": [{"keyword": ""}]}),
        )
        .await
        .expect(422);
    // Nothing of the refused requests was stored.
    assert_eq!(
        alice
            .get("/api/v2/filters")
            .await
            .ok()
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Another account's filter, keyword and status are not found.
    for path in [
        format!("/api/v2/filters/{fid}"),
        format!("/api/v2/filters/{fid}/keywords"),
        format!("/api/v2/filters/{fid}/statuses"),
        format!("/api/v2/filters/keywords/{spoiler_kw}"),
        format!("/api/v2/filters/statuses/{fsid}"),
        format!("/api/v1/filters/{spoiler_kw}"),
    ] {
        bob.get(&path).await.expect(404);
    }
    bob.put(&format!("/api/v2/filters/{fid}"), json!({"title": "mine"}))
        .await
        .expect(404);
    bob.delete(&format!("/api/v2/filters/{fid}"))
        .await
        .expect(404);
    bob.delete(&format!("/api/v2/filters/keywords/{spoiler_kw}"))
        .await
        .expect(404);
    assert_eq!(bob.get("/api/v2/filters").await.ok(), json!([]));
    // Without a token: 401.
    Api::anonymous(&alpha)
        .get("/api/v2/filters")
        .await
        .expect(401);

    // v1: one filter per keyword.
    let v1 = alice.get("/api/v1/filters").await.ok();
    let phrases: Vec<&str> = v1
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["phrase"].as_str().unwrap())
        .collect();
    assert_eq!(phrases, vec!["spoilers", "ending", "cat"]);
    assert_eq!(v1[0]["id"], json!(spoiler_kw));
    assert_eq!(v1[0]["context"], json!(["home"]));
    assert_eq!(v1[0]["irreversible"], false);
    let v1_new = alice
        .post_form(
            "/api/v1/filters",
            &[
                ("phrase", "election"),
                ("context[]", "public"),
                ("irreversible", "true"),
                ("whole_word", "true"),
            ],
        )
        .await
        .ok();
    assert_eq!(v1_new["phrase"], "election");
    assert_eq!(v1_new["irreversible"], true);
    let v2_view = alice.get("/api/v2/filters").await.ok();
    let made = v2_view.as_array().unwrap().last().unwrap().clone();
    assert_eq!(made["title"], "election");
    assert_eq!(made["filter_action"], "hide");
    let v1_id = id(&v1_new);
    let v1_changed = alice
        .put(
            &format!("/api/v1/filters/{v1_id}"),
            json!({"phrase": "elections", "context": ["public", "home"], "irreversible": false}),
        )
        .await
        .ok();
    assert_eq!(v1_changed["phrase"], "elections");
    assert_eq!(v1_changed["context"], json!(["public", "home"]));
    assert_eq!(v1_changed["irreversible"], false);
    alice
        .post_form("/api/v1/filters", &[("phrase", ""), ("context[]", "home")])
        .await
        .expect(422);
    // Deleting the only keyword of a v1 filter deletes its filter.
    alice.delete(&format!("/api/v1/filters/{v1_id}")).await.ok();
    alice
        .get(&format!("/api/v2/filters/{}", id(&made)))
        .await
        .expect(404);

    // Delete.
    alice.delete(&format!("/api/v2/filters/{fid}")).await.ok();
    alice
        .get(&format!("/api/v2/filters/{fid}"))
        .await
        .expect(404);
    alice
        .get(&format!("/api/v2/filters/keywords/{spoiler_kw}"))
        .await
        .expect(404);
    assert_eq!(
        ids(&alice.get("/api/v2/filters").await.ok()),
        vec![id(&form)]
    );
}

async fn applied_to_timelines_and_notifications(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    alpha.create_user("alice").await;
    alpha.create_user("bob").await;
    alpha.follow("alice", &alpha.handle_of("bob")).await;
    let alice = Api::for_user(&alpha, "alice", "read write follow").await;
    let bob = Api::for_user(&alpha, "bob", "read write follow").await;

    let warn = alice
        .post(
            "/api/v2/filters",
            json!({"title": "Cats", "context": ["home", "public", "notifications"],
                   "filter_action": "warn",
                   "keywords_attributes": [{"keyword": "cats", "whole_word": true}]}),
        )
        .await
        .ok();
    alice
        .post(
            "/api/v2/filters",
            json!({"title": "Spoilers", "context": ["home", "notifications"],
                   "filter_action": "hide",
                   "keywords_attributes": [{"keyword": "spoilers", "whole_word": true}]}),
        )
        .await
        .ok();

    let cats = bob.status(json!({"status": "<b>I love</b> CATS!"})).await;
    let catsuit = bob.status(json!({"status": "a catsuit for sale"})).await;
    let warned = bob
        .status(json!({"status": "nothing to see", "spoiler_text": "about cats"}))
        .await;
    let spoiler = bob.status(json!({"status": "big spoilers ahead"})).await;
    let hidden_mention = bob
        .status(json!({"status": "@alice spoilers for you"}))
        .await;
    let warned_mention = bob.status(json!({"status": "@alice cats for you"})).await;
    // Bob sees no filters of alice's.
    let bobs_home = bob.get("/api/v1/timelines/home").await.ok();
    assert!(bobs_home
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["filtered"] == json!([])));

    let home = alice.get("/api/v1/timelines/home").await.ok();
    let home_ids = ids(&home);
    for shown in [&cats, &catsuit, &warned, &warned_mention] {
        assert!(home_ids.contains(&id(shown)), "{shown} missing from {home}");
    }
    for hidden in [&spoiler, &hidden_mention] {
        assert!(!home_ids.contains(&id(hidden)), "{hidden} in home");
    }
    let filtered = &find(&home, &id(&cats)).unwrap()["filtered"];
    assert_eq!(filtered.as_array().unwrap().len(), 1, "{filtered}");
    assert_eq!(filtered[0]["filter"]["id"], warn["id"]);
    assert_eq!(filtered[0]["filter"]["title"], "Cats");
    assert_eq!(filtered[0]["filter"]["filter_action"], "warn");
    assert_eq!(filtered[0]["keyword_matches"], json!(["cats"]));
    assert_eq!(filtered[0]["status_matches"], Value::Null);
    // Whole word: "catsuit" is not "cats".
    assert_eq!(find(&home, &id(&catsuit)).unwrap()["filtered"], json!([]));
    // The content warning is matched too.
    assert_eq!(
        find(&home, &id(&warned)).unwrap()["filtered"][0]["keyword_matches"],
        json!(["cats"])
    );

    // Public: the hide filter is not of the public context, so the post
    // is there (its `filtered` names the filter, with its contexts, as
    // Mastodon's does); the warn filter marks the cats.
    let public = alice.get("/api/v1/timelines/public").await.ok();
    let public_ids = ids(&public);
    assert!(public_ids.contains(&id(&spoiler)));
    let in_public = &find(&public, &id(&cats)).unwrap()["filtered"];
    assert_eq!(in_public[0]["keyword_matches"], json!(["cats"]));
    let spoiler_in_public = &find(&public, &id(&spoiler)).unwrap()["filtered"];
    assert_eq!(
        spoiler_in_public[0]["filter"]["context"],
        json!(["home", "notifications"])
    );
    // A single status carries `filtered` too.
    let single = alice
        .get(&format!("/api/v1/statuses/{}", id(&cats)))
        .await
        .ok();
    assert_eq!(single["filtered"][0]["filter"]["id"], warn["id"]);

    // Notifications: the hidden mention is not listed; the warned one is,
    // its status marked.
    let notifications = alice.get("/api/v1/notifications").await.ok();
    let about: Vec<String> = notifications
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|n| n["status"]["id"].as_str().map(String::from))
        .collect();
    assert!(about.contains(&id(&warned_mention)), "{notifications}");
    assert!(!about.contains(&id(&hidden_mention)), "{notifications}");
    let n = notifications
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["status"]["id"] == warned_mention["id"])
        .unwrap();
    assert_eq!(n["status"]["filtered"][0]["filter"]["id"], warn["id"]);

    // A filtered status (by id) warns on that status only.
    let by_status = alice
        .post(
            "/api/v2/filters",
            json!({"title": "That one", "context": ["home"], "filter_action": "warn"}),
        )
        .await
        .ok();
    alice
        .post_form(
            &format!("/api/v2/filters/{}/statuses", id(&by_status)),
            &[("status_id", &id(&catsuit))],
        )
        .await
        .ok();
    let home = alice.get("/api/v1/timelines/home").await.ok();
    let marked = &find(&home, &id(&catsuit)).unwrap()["filtered"];
    assert_eq!(marked[0]["filter"]["id"], by_status["id"]);
    assert_eq!(marked[0]["status_matches"], json!([id(&catsuit)]));
    assert_eq!(marked[0]["keyword_matches"], Value::Null);

    // Expiry: a filter past its `expires_at` does not apply.
    let short = alice
        .post(
            "/api/v2/filters",
            json!({"title": "Briefly", "context": ["home"], "filter_action": "hide",
                   "expires_in": 2, "keywords_attributes": [{"keyword": "catsuit"}]}),
        )
        .await
        .ok();
    let home = alice.get("/api/v1/timelines/home").await.ok();
    assert!(find(&home, &id(&catsuit)).is_none(), "not hidden yet");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let home = alice.get("/api/v1/timelines/home").await.ok();
    let back = find(&home, &id(&catsuit)).expect("shown again after expiry");
    assert!(back["filtered"]
        .as_array()
        .unwrap()
        .iter()
        .all(|f| f["filter"]["id"] != short["id"]));
    // Expired filters are still listed, with their expiry.
    let listed = alice.get("/api/v2/filters").await.ok();
    assert!(find(&listed, &id(&short)).unwrap()["expires_at"].is_string());

    // Deleting the hide filter brings the post back to home.
    let all = alice.get("/api/v2/filters").await.ok();
    let hide_id = all
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["title"] == "Spoilers")
        .map(id)
        .unwrap();
    alice
        .delete(&format!("/api/v2/filters/{hide_id}"))
        .await
        .ok();
    let home = alice.get("/api/v1/timelines/home").await.ok();
    assert!(find(&home, &id(&spoiler)).is_some());
}

async fn applied_to_the_user_stream(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    alpha.create_user("alice").await;
    alpha.create_user("bob").await;
    alpha.follow("alice", &alpha.handle_of("bob")).await;
    let alice = Api::for_user(&alpha, "alice", "read write follow").await;
    let bob = Api::for_user(&alpha, "bob", "read write follow").await;
    let token = alice.token.clone().unwrap();
    let mut user = Sse::open(&alpha.url("/api/v1/streaming/user"), Some(&token)).await;
    // Another reader without filters gets the same posts unfiltered.
    alpha.create_user("carol").await;
    alpha.follow("carol", &alpha.handle_of("bob")).await;
    let carol_token = Api::for_user(&alpha, "carol", "read").await.token.unwrap();
    let mut carols = Sse::open(&alpha.url("/api/v1/streaming/user"), Some(&carol_token)).await;

    let made = alice
        .post(
            "/api/v2/filters",
            json!({"title": "Spoilers", "context": ["home"], "filter_action": "hide",
                   "keywords_attributes": [{"keyword": "spoilers"}]}),
        )
        .await
        .ok();
    expect_event(Client::Sse(&mut user), "filters_changed", |e| {
        e.event == "filters_changed"
    })
    .await;
    alice
        .post_form(
            &format!("/api/v2/filters/{}/keywords", id(&made)),
            &[("keyword", "leak")],
        )
        .await
        .ok();
    expect_event(Client::Sse(&mut user), "filters_changed", |e| {
        e.event == "filters_changed"
    })
    .await;
    alice
        .post(
            "/api/v2/filters",
            json!({"title": "Cats", "context": ["home"], "filter_action": "warn",
                   "keywords_attributes": [{"keyword": "cats"}]}),
        )
        .await
        .ok();
    expect_event(Client::Sse(&mut user), "filters_changed", |e| {
        e.event == "filters_changed"
    })
    .await;

    let hidden = id(&bob.status(json!({"status": "huge spoilers"})).await);
    let warned = id(&bob.status(json!({"status": "more cats"})).await);
    let marker = id(&bob.status(json!({"status": "the marker"})).await);
    let events = collect_until(Client::Sse(&mut user), &marker).await;
    let updates: Vec<String> = events
        .iter()
        .filter(|e| e.event == "update")
        .filter_map(|e| e.status_id())
        .collect();
    assert_eq!(updates, vec![warned.clone(), marker.clone()], "{events:#?}");
    let cats = events
        .iter()
        .find(|e| e.status_id().as_deref() == Some(warned.as_str()))
        .unwrap()
        .json();
    assert_eq!(cats["filtered"][0]["filter"]["title"], "Cats");
    assert_eq!(cats["filtered"][0]["keyword_matches"], json!(["cats"]));

    // Carol's stream: all three, nothing filtered.
    let events = collect_until(Client::Sse(&mut carols), &marker).await;
    let carol_updates: Vec<(String, Value)> = events
        .iter()
        .filter(|e| e.event == "update")
        .map(|e| (e.status_id().unwrap(), e.json()["filtered"].clone()))
        .collect();
    assert_eq!(
        carol_updates,
        vec![
            (hidden, json!([])),
            (warned, json!([])),
            (marker, json!([]))
        ]
    );
}

both_backends!(
    crud_and_validation,
    applied_to_timelines_and_notifications,
    applied_to_the_user_stream
);
