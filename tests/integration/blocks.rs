//! Blocks across servers (`Block`, `Undo(Block)`) and per-person domain
//! blocks (`/api/v1/domain_blocks`).

use crate::{
    api_client::Api,
    harness::{both_backends, settle, TestInstance},
    schema::assert_valid,
};
use outloud::{config::Backend, db::follow::FollowState};
use serde_json::{json, Value};

both_backends!(
    a_block_hides_the_blocked_account_everywhere,
    a_block_across_servers_is_sent_and_honoured,
    domain_blocks_hide_a_domain_for_one_person,
);

/// The local id of `query` (a handle) on `api`'s instance, resolved.
async fn account_id(api: &Api, handle: &str) -> String {
    let found = api
        .get(&format!(
            "/api/v2/search?q=@{handle}&resolve=true&type=accounts"
        ))
        .await
        .ok();
    found["accounts"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{handle} not found: {found}"))
        .to_string()
}

async fn relationship(api: &Api, id: &str) -> Value {
    let list = api
        .get(&format!("/api/v1/accounts/relationships?id[]={id}"))
        .await
        .ok();
    assert_valid("Relationship", &list[0]);
    list[0].clone()
}

async fn a_block_across_servers_is_sent_and_honoured(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    alpha.create_user("alice").await;
    beta.create_user("bob").await;
    let alice = Api::for_user(&alpha, "alice", "read write follow").await;
    let bob = Api::for_user(&beta, "bob", "read write follow").await;
    let alice_handle = alpha.handle_of("alice");
    let bob_handle = beta.handle_of("bob");
    alpha.follow("alice", &bob_handle).await;
    beta.follow("bob", &alice_handle).await;
    settle(&[&alpha, &beta]).await;
    assert_eq!(
        beta.follow_state(&bob_handle, &alice_handle).await,
        Some(FollowState::Accepted)
    );

    // Alice blocks bob from alpha.
    let bob_on_alpha = account_id(&alice, &bob_handle).await;
    let rel = alice
        .post(&format!("/api/v1/accounts/{bob_on_alpha}/block"), json!({}))
        .await
        .ok();
    assert_eq!(rel["blocking"], true);
    assert_eq!(rel["following"], false);
    assert_eq!(rel["followed_by"], false);
    settle(&[&alpha, &beta]).await;

    // Beta honours it: no follows either way, and bob sees the block.
    assert_eq!(beta.follow_state(&bob_handle, &alice_handle).await, None);
    assert_eq!(beta.follow_state(&alice_handle, &bob_handle).await, None);
    let alice_on_beta = account_id(&bob, &alice_handle).await;
    let rel = relationship(&bob, &alice_on_beta).await;
    assert_eq!(rel["blocked_by"], true, "{rel}");
    // Bob may not follow alice again.
    let refused = bob
        .post(
            &format!("/api/v1/accounts/{alice_on_beta}/follow"),
            json!({}),
        )
        .await;
    assert_eq!(refused.status.as_u16(), 403, "{}", refused.text);
    assert!(refused.json["error"].as_str().unwrap().contains("block"));
    // Bob's posts no longer reach alice's inbox, not even a mention.
    let mention = bob
        .status(json!({"status": format!("@{alice_handle} hello?")}))
        .await;
    settle(&[&alpha, &beta]).await;
    assert!(
        alpha
            .stored_post(mention["uri"].as_str().unwrap())
            .await
            .is_none(),
        "a post of the blocked person was delivered to the blocker"
    );

    // Alice unblocks: beta lifts the block, and bob may follow again.
    alice
        .post(
            &format!("/api/v1/accounts/{bob_on_alpha}/unblock"),
            json!({}),
        )
        .await
        .ok();
    settle(&[&alpha, &beta]).await;
    let rel = relationship(&bob, &alice_on_beta).await;
    assert_eq!(rel["blocked_by"], false, "{rel}");
    bob.post(
        &format!("/api/v1/accounts/{alice_on_beta}/follow"),
        json!({}),
    )
    .await
    .ok();
    settle(&[&alpha, &beta]).await;
    assert_eq!(
        beta.follow_state(&bob_handle, &alice_handle).await,
        Some(FollowState::Accepted)
    );
}

async fn domain_blocks_hide_a_domain_for_one_person(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    alpha.create_user("alice").await;
    alpha.create_user("amy").await;
    beta.create_user("bob").await;
    let alice = Api::for_user(&alpha, "alice", "read write follow").await;
    let amy = Api::for_user(&alpha, "amy", "read write follow").await;
    let bob = Api::for_user(&beta, "bob", "read write follow").await;
    let (alice_handle, bob_handle) = (alpha.handle_of("alice"), beta.handle_of("bob"));
    alpha.follow("alice", &bob_handle).await;
    alpha.follow("amy", &bob_handle).await;
    beta.follow("bob", &alice_handle).await;
    settle(&[&alpha, &beta]).await;
    let post = bob.status(json!({"status": "news from #beta"})).await;
    settle(&[&alpha, &beta]).await;
    let uri = post["uri"].as_str().unwrap().to_string();
    let uris = |list: Value| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["uri"].as_str().map(String::from))
            .collect()
    };
    assert!(uris(alice.get("/api/v1/timelines/home").await.ok()).contains(&uri));

    // Bad domains: 422 with a reason.
    for bad in [
        "",
        "not a domain",
        "https://beta.localhost/",
        alpha.domain.as_str(),
    ] {
        let answer = alice
            .post_form("/api/v1/domain_blocks", &[("domain", bad)])
            .await;
        assert_eq!(answer.status.as_u16(), 422, "{bad:?}: {}", answer.text);
        assert!(answer.json["error"].is_string());
    }
    Api::for_user(&alpha, "alice", "read")
        .await
        .post_form("/api/v1/domain_blocks", &[("domain", &beta.domain)])
        .await
        .expect(403);

    alice
        .post_form("/api/v1/domain_blocks", &[("domain", &beta.domain)])
        .await
        .ok();
    let listed = alice.get("/api/v1/domain_blocks").await.ok();
    assert_eq!(listed, json!([beta.domain]));

    // Bob's posts are hidden from alice (home, public, tag, search), not amy.
    for path in [
        "/api/v1/timelines/home",
        "/api/v1/timelines/public",
        "/api/v1/timelines/tag/beta",
    ] {
        assert!(
            !uris(alice.get(path).await.ok()).contains(&uri),
            "{path} shows a post from a blocked domain"
        );
    }
    let found = alice.get("/api/v2/search?q=news&type=statuses").await.ok();
    assert!(!uris(found["statuses"].clone()).contains(&uri));
    let found = amy.get("/api/v2/search?q=news&type=statuses").await.ok();
    assert!(uris(found["statuses"].clone()).contains(&uri), "{found}");
    assert!(uris(amy.get("/api/v1/timelines/home").await.ok()).contains(&uri));
    let bob_on_alpha = account_id(&alice, &bob_handle).await;
    let rel = relationship(&alice, &bob_on_alpha).await;
    assert_eq!(rel["domain_blocking"], true, "{rel}");

    // Bob no longer follows alice, on either server, and may not again.
    settle(&[&alpha, &beta]).await;
    assert!(alpha.follower_ids("alice").await.is_empty());
    assert_eq!(beta.follow_state(&bob_handle, &alice_handle).await, None);
    beta.follow("bob", &alice_handle).await;
    settle(&[&alpha, &beta]).await;
    assert!(alpha.follower_ids("alice").await.is_empty());
    assert_eq!(beta.follow_state(&bob_handle, &alice_handle).await, None);
    // Nor does bob notify her: his like of her post is not shown.
    let hers = alice.status(json!({"status": "mine"})).await;
    let hers_on_beta = bob
        .get(&format!(
            "/api/v2/search?q={}&resolve=true&type=statuses",
            hers["uri"].as_str().unwrap()
        ))
        .await
        .ok();
    let hers_id = hers_on_beta["statuses"][0]["id"].as_str().unwrap();
    bob.post(&format!("/api/v1/statuses/{hers_id}/favourite"), json!({}))
        .await
        .ok();
    settle(&[&alpha, &beta]).await;
    let notes = alice.get("/api/v1/notifications").await.ok();
    assert!(
        notes
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["type"] != "favourite"),
        "{notes}"
    );

    // Lifted: listed no more, bob's posts show again.
    alice
        .send(
            reqwest::Method::DELETE,
            "/api/v1/domain_blocks",
            Some(crate::api_client::Body::Form(vec![(
                "domain".into(),
                beta.domain.clone(),
            )])),
        )
        .await
        .ok();
    assert_eq!(alice.get("/api/v1/domain_blocks").await.ok(), json!([]));
    assert!(uris(alice.get("/api/v1/timelines/home").await.ok()).contains(&uri));
}

/// A local block hides the blocked account's posts from the blocker in
/// every view: home, public and tag timelines, search, a thread's context,
/// and notifications. (The tag timeline, search and context showed them
/// before.)
async fn a_block_hides_the_blocked_account_everywhere(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    alpha.create_user("alice").await;
    let bob_row = alpha.create_user("bob").await;
    let alice = Api::for_user(&alpha, "alice", "read write follow").await;
    let bob = Api::for_user(&alpha, "bob", "read write follow").await;
    let root = alice.status(json!({"status": "what do you think?"})).await;
    alice
        .post(&format!("/api/v1/accounts/{}/block", bob_row.id), json!({}))
        .await
        .ok();
    let reply = bob
        .status(json!({
            "status": "@alice obnoxious #zebras opinion",
            "in_reply_to_id": root["id"],
        }))
        .await;
    let id = reply["id"].as_str().unwrap().to_string();
    let ids = |list: &Value| -> Vec<String> {
        list.as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s["id"].as_str().map(String::from))
            .collect()
    };
    // Others see it everywhere, so the views below do list it.
    let anon = Api::anonymous(&alpha);
    assert!(ids(&anon.get("/api/v1/timelines/tag/zebras").await.ok()).contains(&id));
    let context = anon
        .get(&format!(
            "/api/v1/statuses/{}/context",
            root["id"].as_str().unwrap()
        ))
        .await
        .ok();
    assert!(ids(&context["descendants"]).contains(&id));
    let found = anon
        .get("/api/v2/search?q=obnoxious&type=statuses")
        .await
        .ok();
    assert!(ids(&found["statuses"]).contains(&id), "{found}");

    for path in [
        "/api/v1/timelines/home",
        "/api/v1/timelines/public",
        "/api/v1/timelines/tag/zebras",
    ] {
        assert!(!ids(&alice.get(path).await.ok()).contains(&id), "{path}");
    }
    let found = alice
        .get("/api/v2/search?q=obnoxious&type=statuses")
        .await
        .ok();
    assert!(!ids(&found["statuses"]).contains(&id), "search: {found}");
    let context = alice
        .get(&format!(
            "/api/v1/statuses/{}/context",
            root["id"].as_str().unwrap()
        ))
        .await
        .ok();
    assert!(
        !ids(&context["descendants"]).contains(&id),
        "context: {context}"
    );
    let notes = alice.get("/api/v1/notifications").await.ok();
    assert_eq!(notes, json!([]), "notifications: {notes}");
}
