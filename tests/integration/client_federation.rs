//! The client API across instances: a Mastodon-app user finds people and
//! communities on another server with `search?resolve=true`, follows and
//! joins them, and reads what they share in the home timeline.

use crate::{
    api_client::Api,
    communities::create_community,
    harness::{both_backends, settle, settled, TestInstance},
    schema::{assert_all_valid, assert_valid},
};
use outloud::{config::Backend, db::community::Posting};
use serde_json::{json, Value};

async fn follow_and_join_across_instances(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    alpha.create_user("alice").await;
    let bob_row = beta.create_user("bob").await;
    create_community(&beta, "rust", &bob_row, false, false, Posting::Anyone).await;
    let alice = Api::for_user(&alpha, "alice", "read write follow").await;
    let bob = Api::for_user(&beta, "bob", "read write follow").await;

    bob.patch_form(
        "/api/v1/accounts/update_credentials",
        &[
            ("fields_attributes[0][name]", "Craft"),
            ("fields_attributes[0][value]", "Build systems"),
        ],
    )
    .await
    .ok();

    // Without resolve, nobody on beta is known yet.
    let bob_handle = format!("bob@{}", beta.domain);
    let unknown = alice
        .get(&format!("/api/v2/search?q={bob_handle}"))
        .await
        .ok();
    assert!(unknown["accounts"].as_array().unwrap().is_empty());
    let found = alice
        .get(&format!("/api/v2/search?q=@{bob_handle}&resolve=true"))
        .await
        .ok();
    assert_valid("Search", &found);
    let bob_account = &found["accounts"][0];
    assert_eq!(bob_account["acct"], bob_handle.as_str());
    // Profile fields travel as PropertyValue attachments.
    assert_eq!(bob_account["fields"][0]["name"], "Craft");
    assert_eq!(bob_account["fields"][0]["value"], "Build systems");
    let rel = alice
        .post(
            &format!(
                "/api/v1/accounts/{}/follow",
                bob_account["id"].as_str().unwrap()
            ),
            json!({}),
        )
        .await
        .ok();
    assert_eq!(rel["requested"], true, "pending until beta accepts");

    let community = alice
        .get(&format!(
            "/api/v2/search?q=rust@{}&resolve=true&type=accounts",
            beta.domain
        ))
        .await
        .ok();
    let group = &community["accounts"][0];
    assert_valid("Account", group);
    assert_eq!(group["group"], true);
    alice
        .post(
            &format!("/api/v1/accounts/{}/follow", group["id"].as_str().unwrap()),
            json!({}),
        )
        .await
        .ok();
    settle(&[&alpha, &beta]).await;
    let rels = alice
        .get(&format!(
            "/api/v1/accounts/relationships?id[]={}&id[]={}",
            bob_account["id"].as_str().unwrap(),
            group["id"].as_str().unwrap()
        ))
        .await
        .ok();
    assert_all_valid("Relationship", &rels);
    assert_eq!(rels[0]["following"], true, "{rels}");
    assert_eq!(rels[1]["following"], true, "joined: {rels}");

    // Bob narrates; he also posts into the community by mentioning it.
    let own = bob
        .status(json!({"status": "Working on the build cache"}))
        .await;
    let shared = bob
        .status(json!({"status": format!("@rust@{} how do you profile async code?", beta.domain)}))
        .await;
    let home = settled(&[&alpha, &beta], || async {
        let home = alice.get("/api/v1/timelines/home").await.ok();
        (home.as_array().unwrap().len() >= 2).then_some(home)
    })
    .await;
    assert_all_valid("Status", &home);
    let uris: Vec<&str> = home
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["reblog"]["uri"].as_str().or(s["uri"].as_str()).unwrap())
        .collect();
    assert!(uris.contains(&own["uri"].as_str().unwrap()), "{uris:?}");
    assert!(uris.contains(&shared["uri"].as_str().unwrap()), "{uris:?}");

    // A community's statuses are what was shared in it, on both servers.
    // (Alice follows bob, so his post may reach her before the
    // community's share of it does.)
    let group_path = format!(
        "/api/v1/accounts/{}/statuses",
        group["id"].as_str().unwrap()
    );
    let shared_here = settled(&[&alpha, &beta], || async {
        let list = alice.get(&group_path).await.ok();
        (!list.as_array().unwrap().is_empty()).then_some(list)
    })
    .await;
    assert_all_valid("Status", &shared_here);
    // Each shown as the community's reblog of the post.
    assert_eq!(
        shared_here[0]["reblog"]["uri"], shared["uri"],
        "{shared_here}"
    );
    assert_eq!(
        shared_here[0]["account"]["id"], group["id"],
        "{shared_here}"
    );
    let rust_on_beta = bob.get("/api/v1/accounts/lookup?acct=rust").await.ok();
    assert_eq!(rust_on_beta["group"], true);
    let shared_there = bob
        .get(&format!(
            "/api/v1/accounts/{}/statuses",
            rust_on_beta["id"].as_str().unwrap()
        ))
        .await
        .ok();
    let reblogged: Vec<&Value> = shared_there
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["reblog"]["id"])
        .collect();
    assert_eq!(reblogged, vec![&shared["id"]], "{shared_there}");
    assert_eq!(shared_there[0]["account"]["id"], rust_on_beta["id"]);

    // Alice likes the shared post from her own server; bob is notified.
    let local_copy = home
        .as_array()
        .unwrap()
        .iter()
        // The post itself, or inside the community's share of it.
        .map(|s| {
            if s["reblog"].is_null() {
                s
            } else {
                &s["reblog"]
            }
        })
        .find(|s| s["uri"] == shared["uri"])
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    alice
        .post(
            &format!("/api/v1/statuses/{local_copy}/favourite"),
            json!({}),
        )
        .await
        .ok();
    let notified = settled(&[&alpha, &beta], || async {
        let list = bob
            .get("/api/v1/notifications?types[]=favourite")
            .await
            .ok();
        (!list.as_array().unwrap().is_empty()).then_some(list)
    })
    .await;
    assert_all_valid("Notification", &notified);
    assert_eq!(
        notified[0]["account"]["acct"],
        format!("alice@{}", alpha.domain)
    );

    // The remote post resolves by URL too, and remote peers are listed.
    let by_url = alice
        .get(&format!(
            "/api/v2/search?q={}&resolve=true&type=statuses",
            own["uri"].as_str().unwrap()
        ))
        .await
        .ok();
    assert_eq!(by_url["statuses"][0]["uri"], own["uri"]);
    let peers = alice.get("/api/v1/instance/peers").await.ok();
    assert!(
        peers.as_array().unwrap().contains(&json!(beta.domain)),
        "{peers}"
    );
}

both_backends!(follow_and_join_across_instances);
