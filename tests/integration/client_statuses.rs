//! Statuses and timelines through the client API: posting with every
//! visibility, reading, paging, threads, reactions, edits and deletion.

use crate::{
    api_client::{link, Api},
    harness::{both_backends, TestInstance},
    schema::{assert_all_valid, assert_valid},
};
use outloud::config::Backend;
use serde_json::json;

async fn posting_and_reading(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    alpha.create_user("alice").await;
    alpha.create_user("bob").await;
    let alice = Api::for_user(&alpha, "alice", "read write follow").await;
    let bob = Api::for_user(&alpha, "bob", "read write follow").await;
    let anon = Api::anonymous(&alpha);

    let public = alice
        .status(json!({"status": "Learning #rust today", "language": "en"}))
        .await;
    assert_valid("Status", &public);
    assert_eq!(public["visibility"], "public");
    assert_eq!(public["local_only"], false);
    assert_eq!(public["tags"][0]["name"], "rust");
    let private = alice
        .status(json!({"status": "followers only", "visibility": "private"}))
        .await;
    assert_eq!(private["visibility"], "private");
    // Form-encoded bodies work as well as JSON.
    let local = alice
        .post_form(
            "/api/v1/statuses",
            &[
                ("status", "inside the organisation"),
                ("local_only", "true"),
            ],
        )
        .await
        .ok();
    assert_valid("Status", &local);
    assert_eq!(local["local_only"], true);
    let article = alice
        .status(json!({"status": "Long **form**.", "title": "What I learned"}))
        .await;
    let content = article["content"].as_str().unwrap();
    assert!(content.starts_with("<p><strong><a href="), "{content}");
    assert!(content.contains("What I learned"), "{content}");

    // Anonymous readers see the public one only; local posts need a local
    // signed-in viewer; followers-only needs a follower.
    anon.get(&format!(
        "/api/v1/statuses/{}",
        public["id"].as_str().unwrap()
    ))
    .await
    .ok();
    anon.get(&format!(
        "/api/v1/statuses/{}",
        local["id"].as_str().unwrap()
    ))
    .await
    .expect(404);
    bob.get(&format!(
        "/api/v1/statuses/{}",
        local["id"].as_str().unwrap()
    ))
    .await
    .ok();
    bob.get(&format!(
        "/api/v1/statuses/{}",
        private["id"].as_str().unwrap()
    ))
    .await
    .expect(404);
    let alice_id = public["account"]["id"].as_str().unwrap().to_string();
    bob.post(&format!("/api/v1/accounts/{alice_id}/follow"), json!({}))
        .await
        .ok();
    bob.get(&format!(
        "/api/v1/statuses/{}",
        private["id"].as_str().unwrap()
    ))
    .await
    .ok();

    // Home: bob sees all four now; public local timeline: public + local.
    let home = bob.get("/api/v1/timelines/home").await.ok();
    assert_all_valid("Status", &home);
    assert_eq!(home.as_array().unwrap().len(), 4, "{home}");
    let local_tl = bob.get("/api/v1/timelines/public?local=true").await.ok();
    let ids = Api::ids(&local_tl);
    assert!(ids.contains(&local["id"].as_str().unwrap().to_string()));
    assert!(!ids.contains(&private["id"].as_str().unwrap().to_string()));
    let anon_tl = anon.get("/api/v1/timelines/public").await.ok();
    assert!(!Api::ids(&anon_tl).contains(&local["id"].as_str().unwrap().to_string()));
    let tagged = anon.get("/api/v1/timelines/tag/Rust").await.ok();
    assert_eq!(
        Api::ids(&tagged),
        vec![public["id"].as_str().unwrap().to_string()]
    );
    let own = anon
        .get(&format!("/api/v1/accounts/{alice_id}/statuses"))
        .await
        .ok();
    assert_all_valid("Status", &own);
    assert_eq!(
        own.as_array().unwrap().len(),
        2,
        "public and the article: {own}"
    );

    // Validation errors.
    let e = alice
        .post("/api/v1/statuses", json!({"status": "  "}))
        .await
        .expect(422);
    assert!(e["error"].as_str().unwrap().contains("blank"), "{e}");
    alice
        .post(
            "/api/v1/statuses",
            json!({"status": "x", "visibility": "secret"}),
        )
        .await
        .expect(422);
    alice
        .post(
            "/api/v1/statuses",
            json!({"status": "x", "media_ids": ["1"]}),
        )
        .await
        .expect(422);
    alice
        .get("/api/v1/statuses/does-not-exist")
        .await
        .expect(404);
    anon.post("/api/v1/statuses", json!({"status": "x"}))
        .await
        .expect(401);

    // Idempotency-Key: a retried POST does not post twice, whether the
    // retry comes after the first answer or while the first is still
    // being handled.
    let client = crate::harness::http_client();
    let send = |key: &'static str| {
        let request = client
            .post(alpha.url("/api/v1/statuses"))
            .bearer_auth(alice.token.as_deref().unwrap())
            .header("Idempotency-Key", key)
            .json(&json!({"status": format!("posted once ({key})")}));
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200);
            let status: serde_json::Value = response.json().await.unwrap();
            status["id"].as_str().unwrap().to_string()
        }
    };
    let first = send("abc-123").await;
    assert_eq!(send("abc-123").await, first);
    let together = futures_util::future::join_all((0..4).map(|_| send("def-456"))).await;
    assert!(together.iter().all(|id| id == &together[0]), "{together:?}");
    let mine = alice
        .get(&format!(
            "/api/v1/accounts/{}/statuses?limit=40",
            public["account"]["id"].as_str().unwrap()
        ))
        .await
        .ok();
    let texts: Vec<&str> = mine
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["content"].as_str())
        .filter(|c| c.contains("posted once (def-456)"))
        .collect();
    assert_eq!(texts.len(), 1, "{texts:?}");
}

async fn paging_threads_and_reactions(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    alpha.create_user("alice").await;
    alpha.create_user("bob").await;
    let alice = Api::for_user(&alpha, "alice", "read write follow").await;
    let bob = Api::for_user(&alpha, "bob", "read write follow").await;
    let mut posted = Vec::new();
    for i in 0..5 {
        posted.push(
            alice.status(json!({"status": format!("note {i}")})).await["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    // Paging: newest first, `Link` next/prev, min_id and since_id.
    let first = alice.get("/api/v1/timelines/home?limit=2").await;
    let header = first.header("link").expect("a Link header");
    let page1 = Api::ids(&first.ok());
    assert_eq!(page1, vec![posted[4].clone(), posted[3].clone()]);
    let next = link(&header, "next").unwrap();
    assert!(next.contains("max_id="), "{next}");
    // A status posted while the reader pages changes neither the next
    // page nor the one after (keyset paging on time-ordered ids).
    let newer = alice.status(json!({"status": "posted meanwhile"})).await;
    let page2 = Api::ids(&alice.get(&next).await.ok());
    assert_eq!(page2, vec![posted[2].clone(), posted[1].clone()]);
    let prev = link(&header, "prev").unwrap();
    assert_eq!(
        Api::ids(&alice.get(&prev).await.ok()),
        vec![newer["id"].as_str().unwrap().to_string()],
        "prev pages forward to what is new"
    );
    let above = Api::ids(
        &alice
            .get(&format!(
                "/api/v1/timelines/home?min_id={}&limit=2",
                posted[0]
            ))
            .await
            .ok(),
    );
    assert_eq!(above, vec![posted[2].clone(), posted[1].clone()]);
    let since = Api::ids(
        &alice
            .get(&format!("/api/v1/timelines/home?since_id={}", posted[3]))
            .await
            .ok(),
    );
    assert_eq!(
        since,
        vec![newer["id"].as_str().unwrap().to_string(), posted[4].clone()]
    );

    // A thread: context on both sides.
    let root = &posted[0];
    let reply = bob
        .status(json!({"status": "@alice a reply", "in_reply_to_id": root}))
        .await;
    assert_eq!(reply["in_reply_to_id"].as_str(), Some(root.as_str()));
    let reply2 = alice
        .status(json!({"status": "and an answer", "in_reply_to_id": reply["id"]}))
        .await;
    let context = bob
        .get(&format!(
            "/api/v1/statuses/{}/context",
            reply["id"].as_str().unwrap()
        ))
        .await
        .ok();
    assert_valid("Context", &context);
    assert_eq!(Api::ids(&context["ancestors"]), vec![root.clone()]);
    assert_eq!(
        Api::ids(&context["descendants"]),
        vec![reply2["id"].as_str().unwrap().to_string()]
    );

    // Reactions. A double tap sends several favourites at once: every one
    // succeeds, and there is one favourite.
    let path = format!("/api/v1/statuses/{root}/favourite");
    let taps = (0..4).map(|_| bob.post(&path, json!({})));
    let favs = futures_util::future::join_all(taps).await;
    let favs: Vec<_> = favs.into_iter().map(|answer| answer.ok()).collect();
    let fav = &favs[3];
    assert_eq!(fav["favourited"], true);
    assert_eq!(fav["favourites_count"], 1);
    let boost = bob
        .post(&format!("/api/v1/statuses/{root}/reblog"), json!({}))
        .await
        .ok();
    assert_valid("Status", &boost);
    assert_eq!(boost["reblog"]["id"].as_str(), Some(root.as_str()));
    assert_eq!(boost["reblogged"], true);
    let by = alice
        .get(&format!("/api/v1/statuses/{root}/reblogged_by"))
        .await
        .ok();
    assert_all_valid("Account", &by);
    assert_eq!(by[0]["username"], "bob");
    let bookmarked = bob
        .post(&format!("/api/v1/statuses/{root}/bookmark"), json!({}))
        .await
        .ok();
    assert_eq!(bookmarked["bookmarked"], true);
    assert_eq!(
        Api::ids(&bob.get("/api/v1/bookmarks").await.ok()),
        vec![root.clone()]
    );
    assert_eq!(
        Api::ids(&bob.get("/api/v1/favourites").await.ok()),
        vec![root.clone()]
    );
    let pinned = alice
        .post(&format!("/api/v1/statuses/{root}/pin"), json!({}))
        .await
        .ok();
    assert_eq!(pinned["pinned"], true);
    let alice_id = pinned["account"]["id"].as_str().unwrap();
    let pins = bob
        .get(&format!("/api/v1/accounts/{alice_id}/statuses?pinned=true"))
        .await
        .ok();
    assert_eq!(Api::ids(&pins), vec![root.clone()]);
    bob.post(&format!("/api/v1/statuses/{root}/pin"), json!({}))
        .await
        .expect(422);
    let unfav = bob
        .post(&format!("/api/v1/statuses/{root}/unfavourite"), json!({}))
        .await
        .ok();
    assert_eq!(unfav["favourited"], false);
    let unboost = bob
        .post(&format!("/api/v1/statuses/{root}/unreblog"), json!({}))
        .await
        .ok();
    assert_eq!(unboost["reblogged"], false);

    // Edits keep history; the source is the Markdown written.
    let edited = alice
        .put(
            &format!("/api/v1/statuses/{root}"),
            json!({"status": "note 0, **edited**"}),
        )
        .await
        .ok();
    assert!(edited["edited_at"].is_string());
    assert!(edited["content"]
        .as_str()
        .unwrap()
        .contains("<strong>edited</strong>"));
    let history = alice
        .get(&format!("/api/v1/statuses/{root}/history"))
        .await
        .ok();
    assert_all_valid("StatusEdit", &history);
    assert_eq!(history.as_array().unwrap().len(), 2);
    let source = alice
        .get(&format!("/api/v1/statuses/{root}/source"))
        .await
        .ok();
    assert_valid("StatusSource", &source);
    assert_eq!(source["text"], "note 0, **edited**");
    bob.put(
        &format!("/api/v1/statuses/{root}"),
        json!({"status": "hijack"}),
    )
    .await
    .expect(403);

    // Deletion answers the status with its source, then it is gone.
    let deleted = alice.delete(&format!("/api/v1/statuses/{root}")).await.ok();
    assert_eq!(deleted["text"], "note 0, **edited**");
    alice
        .get(&format!("/api/v1/statuses/{root}"))
        .await
        .expect(404);
    // Five notes, the one posted while paging and the answer in the
    // thread, less the deleted one.
    let me = alice.get("/api/v1/accounts/verify_credentials").await.ok();
    assert_eq!(me["statuses_count"], 6);
}

async fn direct_conversations(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    alpha.create_user("alice").await;
    alpha.create_user("bob").await;
    alpha.create_user("carol").await;
    let alice = Api::for_user(&alpha, "alice", "read write").await;
    let bob = Api::for_user(&alpha, "bob", "read write").await;
    let carol = Api::for_user(&alpha, "carol", "read write").await;
    let dm = alice
        .status(json!({"status": "@bob just between us", "visibility": "direct"}))
        .await;
    assert_eq!(dm["visibility"], "direct");
    let conversations = bob.get("/api/v1/conversations").await.ok();
    assert_all_valid("Conversation", &conversations);
    assert_eq!(conversations[0]["last_status"]["id"], dm["id"]);
    assert_eq!(conversations[0]["accounts"][0]["username"], "alice");
    assert!(carol
        .get("/api/v1/conversations")
        .await
        .ok()
        .as_array()
        .unwrap()
        .is_empty());
    carol
        .get(&format!("/api/v1/statuses/{}", dm["id"].as_str().unwrap()))
        .await
        .expect(404);
    // Full-text search respects visibility too.
    let found = bob.get("/api/v2/search?q=between&type=statuses").await.ok();
    assert_valid("Search", &found);
    assert_eq!(found["statuses"].as_array().unwrap().len(), 1);
    let none = carol
        .get("/api/v2/search?q=between&type=statuses")
        .await
        .ok();
    assert!(none["statuses"].as_array().unwrap().is_empty());
}

both_backends!(
    posting_and_reading,
    paging_threads_and_reactions,
    direct_conversations
);
