//! The small endpoints apps call once a person has signed in (docs/api.md
//! "Suggestions", "Instance texts and activity", "Notification policy",
//! "oEmbed"): follow suggestions (friends of friends first, blocks and
//! dismissals out), the extended description an admin sets, weekly
//! activity, the notification policy (accept, filter, drop) with its
//! requests, and oEmbed with the embed page. Entities are checked against
//! Mastodon's schemas.

use crate::{
    api_client::Api,
    harness::{both_backends, TestInstance},
    schema::assert_all_valid,
};
use outloud::config::Backend;
use serde_json::{json, Value};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// The account ids of a v2 suggestions list, in order.
fn suggested(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|s| id(&s["account"]))
        .collect()
}

async fn suggestions_rank_friends_of_friends(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let mut ids = std::collections::BTreeMap::new();
    for name in ["alice", "bob", "carol", "dave", "erin", "frank", "gus"] {
        ids.insert(name, alpha.create_user(name).await.id);
    }
    let handle = |n: &str| alpha.handle_of(n);
    // Alice follows Bob and Carol; both follow Dave, Bob follows Erin.
    alpha.follow("alice", &handle("bob")).await;
    alpha.follow("alice", &handle("carol")).await;
    alpha.follow("bob", &handle("dave")).await;
    alpha.follow("carol", &handle("dave")).await;
    alpha.follow("bob", &handle("erin")).await;
    let alice = Api::for_user(&alpha, "alice", "read write follow").await;

    let list = alice.get("/api/v2/suggestions").await.ok();
    assert_all_valid("Suggestion", &list);
    let order = suggested(&list);
    // Friends of friends first, most shared first; then the instance's
    // people; never herself or whom she follows.
    assert_eq!(order[..2], [ids["dave"].clone(), ids["erin"].clone()]);
    assert_eq!(
        list[0]["sources"],
        json!(["friends_of_friends", "most_followed"])
    );
    assert_eq!(list[0]["source"], "past_interactions");
    for absent in ["alice", "bob", "carol"] {
        assert!(!order.contains(&ids[absent]), "{absent} in {order:?}");
    }
    for present in ["frank", "gus"] {
        assert!(order.contains(&ids[present]), "{present} missing");
    }
    let frank = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["account"]["id"] == ids["frank"].as_str())
        .unwrap();
    assert_eq!(frank["sources"], json!(["most_followed"]));
    assert_eq!(frank["source"], "global");

    // Blocked either way, or muted, or not discoverable: out.
    alice
        .post(
            &format!("/api/v1/accounts/{}/block", ids["erin"]),
            json!({}),
        )
        .await
        .ok();
    let frank_api = Api::for_user(&alpha, "frank", "read write follow").await;
    frank_api
        .post(
            &format!("/api/v1/accounts/{}/block", ids["alice"]),
            json!({}),
        )
        .await
        .ok();
    let gus = Api::for_user(&alpha, "gus", "read write follow").await;
    gus.patch_form(
        "/api/v1/accounts/update_credentials",
        &[("discoverable", "false")],
    )
    .await
    .ok();
    let order = suggested(&alice.get("/api/v2/suggestions").await.ok());
    assert_eq!(order, vec![ids["dave"].clone()]);

    // Dismissed: gone for good, from both versions.
    let v1 = alice.get("/api/v1/suggestions").await.ok();
    assert_all_valid("Account", &v1);
    assert_eq!(Api::ids(&v1), vec![ids["dave"].clone()]);
    alice
        .delete(&format!("/api/v1/suggestions/{}", ids["dave"]))
        .await
        .ok();
    assert_eq!(alice.get("/api/v2/suggestions").await.ok(), json!([]));
    assert_eq!(alice.get("/api/v1/suggestions").await.ok(), json!([]));
    alice.delete("/api/v1/suggestions/nobody").await.expect(404);

    // `limit`, and a token is needed.
    let bob = Api::for_user(&alpha, "bob", "read").await;
    let one = bob.get("/api/v2/suggestions?limit=1").await.ok();
    assert_eq!(one.as_array().unwrap().len(), 1);
    Api::anonymous(&alpha)
        .get("/api/v2/suggestions")
        .await
        .expect(401);
}

both_backends!(suggestions_rank_friends_of_friends);
