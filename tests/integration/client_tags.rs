//! Followed hashtags (docs/api.md "Followed hashtags"): `tags/:name` with
//! its `following`, follow and unfollow, `followed_tags` paged, 404/422
//! for names no post could carry; public posts with a followed tag in the
//! home timeline and the user stream (local ones, and a remote
//! narration that reached the instance through another local follower).

use crate::{
    api_client::{link, Api},
    harness::{both_backends, settle, settled, TestInstance},
    schema::assert_valid,
    streaming_client::{collect_until, Client, Sse},
};
use outloud::config::Backend;
use serde_json::{json, Value};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

async fn home(api: &Api) -> Vec<String> {
    Api::ids(&api.get("/api/v1/timelines/home").await.ok())
}

async fn follow_show_and_list(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    alpha.create_user("alice").await;
    alpha.create_user("bob").await;
    let alice = Api::for_user(&alpha, "alice", "read write follow").await;
    let bob = Api::for_user(&alpha, "bob", "read write follow").await;
    let anonymous = Api::anonymous(&alpha);

    // An unknown but valid name answers, without `following` for nobody.
    let shown = anonymous.get("/api/v1/tags/Rust").await.ok();
    assert_valid("Tag", &shown);
    assert_eq!(shown["name"], "rust");
    assert!(
        shown["url"].as_str().unwrap().ends_with("/tags/rust"),
        "{shown}"
    );
    assert_eq!(shown["history"], json!([]));
    assert_eq!(shown["following"], Value::Null);
    assert_eq!(
        alice.get("/api/v1/tags/rust").await.ok()["following"],
        false
    );

    let followed = alice.post("/api/v1/tags/Rust/follow", json!({})).await.ok();
    assert_valid("Tag", &followed);
    assert_eq!(followed["name"], "rust");
    assert_eq!(followed["following"], true);
    // Again is no error (idempotent, as Mastodon since 4.1).
    alice.post("/api/v1/tags/rust/follow", json!({})).await.ok();
    assert_eq!(alice.get("/api/v1/tags/RUST").await.ok()["following"], true);
    assert_eq!(bob.get("/api/v1/tags/rust").await.ok()["following"], false);
    assert_eq!(
        anonymous.get("/api/v1/tags/rust").await.ok()["following"],
        Value::Null
    );

    // followed_tags: newest first, paged with a Link header.
    alice
        .post("/api/v1/tags/gardening/follow", json!({}))
        .await
        .ok();
    alice.post("/api/v1/tags/Café/follow", json!({})).await.ok();
    let all = alice.get("/api/v1/followed_tags").await.ok();
    assert_valid("Tag", &all[0]);
    let names: Vec<&str> = all
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["café", "gardening", "rust"]);
    assert!(all
        .as_array()
        .unwrap()
        .iter()
        .all(|t| t["following"] == true));
    let first = alice.get("/api/v1/followed_tags?limit=2").await;
    let next = link(&first.header("link").unwrap(), "next").unwrap();
    assert_eq!(first.ok().as_array().unwrap().len(), 2);
    let rest = alice.get(&next).await.ok();
    assert_eq!(rest[0]["name"], "rust");
    assert_eq!(rest.as_array().unwrap().len(), 1);
    assert_eq!(bob.get("/api/v1/followed_tags").await.ok(), json!([]));

    let unfollowed = alice
        .post("/api/v1/tags/gardening/unfollow", json!({}))
        .await
        .ok();
    assert_eq!(unfollowed["following"], false);
    // Unfollowing one not followed is no error either.
    alice
        .post("/api/v1/tags/gardening/unfollow", json!({}))
        .await
        .ok();
    assert_eq!(
        alice
            .get("/api/v1/followed_tags")
            .await
            .ok()
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Names no post could carry: 404 to show, 422 to follow.
    for bad in ["no-good", "1234", "a%20b"] {
        anonymous
            .get(&format!("/api/v1/tags/{bad}"))
            .await
            .expect(404);
        alice
            .post(&format!("/api/v1/tags/{bad}/follow"), json!({}))
            .await
            .expect(422);
        alice
            .post(&format!("/api/v1/tags/{bad}/unfollow"), json!({}))
            .await
            .expect(422);
    }
    // Following needs a user's token with write:follows.
    anonymous
        .post("/api/v1/tags/rust/follow", json!({}))
        .await
        .expect(401);
    anonymous.get("/api/v1/followed_tags").await.expect(401);
}

async fn followed_tags_in_home_and_stream(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    alpha.create_user("alice").await;
    alpha.create_user("bob").await;
    let alice = Api::for_user(&alpha, "alice", "read write follow").await;
    let bob = Api::for_user(&alpha, "bob", "read write follow").await;
    alice.post("/api/v1/tags/rust/follow", json!({})).await.ok();
    let token = alice.token.clone().unwrap();
    let mut user = Sse::open(&alpha.url("/api/v1/streaming/user"), Some(&token)).await;

    // Alice does not follow Bob: only the public post with the tag comes.
    let public = id(&bob.status(json!({"status": "learning #Rust today"})).await);
    let unlisted = id(&bob
        .status(json!({"status": "quietly #rust", "visibility": "unlisted"}))
        .await);
    let private = id(&bob
        .status(json!({"status": "followers #rust", "visibility": "private"}))
        .await);
    let untagged = id(&bob.status(json!({"status": "no tag here"})).await);
    let other = id(&bob.status(json!({"status": "#python"})).await);
    let marker = id(&alice.status(json!({"status": "marker"})).await);

    let shown = home(&alice).await;
    assert!(shown.contains(&public), "{shown:?}");
    for absent in [&unlisted, &private, &untagged, &other] {
        assert!(!shown.contains(absent), "{absent} in {shown:?}");
    }
    let events = collect_until(Client::Sse(&mut user), &marker).await;
    let updates: Vec<String> = events
        .iter()
        .filter(|e| e.event == "update")
        .filter_map(|e| e.status_id())
        .collect();
    assert_eq!(updates, vec![public.clone(), marker.clone()], "{events:#?}");
    // Bob's own home is unchanged by Alice's tags; a stranger's home has
    // no tagged post.
    alpha.create_user("carol").await;
    let carol = Api::for_user(&alpha, "carol", "read").await;
    assert!(!home(&carol).await.contains(&public));

    // Blocking the author hides the tagged post again.
    let bob_id = id(&alice.get("/api/v1/accounts/lookup?acct=bob").await.ok());
    alice
        .post(&format!("/api/v1/accounts/{bob_id}/mute"), json!({}))
        .await
        .ok();
    assert!(!home(&alice).await.contains(&public));
    alice
        .post(&format!("/api/v1/accounts/{bob_id}/unmute"), json!({}))
        .await
        .ok();
    assert!(home(&alice).await.contains(&public));

    // After unfollowing the tag it is gone from home and the stream.
    alice
        .post("/api/v1/tags/rust/unfollow", json!({}))
        .await
        .ok();
    assert!(!home(&alice).await.contains(&public));
    let later = id(&bob.status(json!({"status": "more #rust"})).await);
    let marker = id(&alice.status(json!({"status": "marker two"})).await);
    let events = collect_until(Client::Sse(&mut user), &marker).await;
    assert!(
        !events
            .iter()
            .any(|e| e.status_id().as_deref() == Some(later.as_str())),
        "{events:#?}"
    );
}

async fn remote_narration_with_a_followed_tag(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    alpha.create_user("alice").await;
    alpha.create_user("carol").await;
    beta.create_user("bob").await;
    // Carol follows Bob, so his posts reach alpha; Alice follows only the tag.
    alpha.follow("carol", &beta.handle_of("bob")).await;
    settle(&[&alpha, &beta]).await;
    let alice = Api::for_user(&alpha, "alice", "read write follow").await;
    let bob = Api::for_user(&beta, "bob", "read write follow").await;
    alice
        .post("/api/v1/tags/openscience/follow", json!({}))
        .await
        .ok();

    let tagged = bob
        .status(json!({"status": "new results, data open #OpenScience"}))
        .await;
    let untagged = bob.status(json!({"status": "lunch"})).await;
    let uri = tagged["uri"].as_str().unwrap().to_string();
    let carol = Api::for_user(&alpha, "carol", "read").await;
    // Both arrive for Carol, who follows Bob.
    settled(&[&alpha, &beta], || {
        let carol = carol.clone();
        let untagged = untagged["uri"].as_str().unwrap().to_string();
        async move {
            let home = carol.get("/api/v1/timelines/home").await.ok();
            let uris: Vec<String> = home
                .as_array()
                .unwrap()
                .iter()
                .map(|s| s["uri"].as_str().unwrap().to_string())
                .collect();
            uris.contains(&untagged).then_some(())
        }
    })
    .await;
    let home = alice.get("/api/v1/timelines/home").await.ok();
    let uris: Vec<&str> = home
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["uri"].as_str().unwrap())
        .collect();
    assert_eq!(uris, vec![uri.as_str()], "{home}");
    assert_eq!(home[0]["account"]["acct"], format!("bob@{}", beta.domain));
    assert_eq!(home[0]["tags"][0]["name"], "openscience");
}

both_backends!(
    follow_show_and_list,
    followed_tags_in_home_and_stream,
    remote_narration_with_a_followed_tag
);
