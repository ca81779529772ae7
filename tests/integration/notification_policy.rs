//! The notification policy (docs/api.md "Notification policy"): v1 and v2
//! reading and changing it, `drop` and `filter` applied where notifications
//! are written, filtered notifications gathered into requests that can be
//! accepted or dismissed, and the policy's conditions (not following, not
//! followers, new accounts, private mentions). Entities are checked against
//! Mastodon's schemas.

use crate::{
    api_client::Api,
    client_extras::make_admin,
    harness::{both_backends, TestInstance},
    schema::{assert_all_valid, assert_valid},
};
use outloud::config::Backend;
use serde_json::{json, Value};

both_backends!(
    policy_read_and_change,
    policy_drops_and_filters_into_requests,
    policy_conditions,
);

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

async fn policy_read_and_change(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    alpha.create_user("alice").await;
    let alice = Api::for_user(&alpha, "alice", "read write").await;
    let policy = alice.get("/api/v2/notifications/policy").await.ok();
    assert_valid("NotificationPolicy", &policy);
    for key in [
        "for_not_following",
        "for_not_followers",
        "for_new_accounts",
        "for_private_mentions",
        "for_limited_accounts",
    ] {
        assert_eq!(policy[key], "accept", "{key}");
    }
    assert_eq!(
        policy["summary"],
        json!({"pending_requests_count": 0, "pending_notifications_count": 0})
    );

    let changed = alice
        .patch_form(
            "/api/v2/notifications/policy",
            &[
                ("for_not_following", "filter"),
                ("for_private_mentions", "drop"),
            ],
        )
        .await
        .ok();
    assert_valid("NotificationPolicy", &changed);
    assert_eq!(changed["for_not_following"], "filter");
    assert_eq!(changed["for_private_mentions"], "drop");
    assert_eq!(changed["for_not_followers"], "accept");

    let v1 = alice.get("/api/v1/notifications/policy").await.ok();
    assert_valid("V1NotificationPolicy", &v1);
    assert_eq!(v1["filter_not_following"], true);
    assert_eq!(v1["filter_not_followers"], false);
    assert_eq!(v1["filter_private_mentions"], true);
    let v1 = alice
        .patch_form(
            "/api/v1/notifications/policy",
            &[
                ("filter_not_followers", "true"),
                ("filter_not_following", "false"),
            ],
        )
        .await
        .ok();
    assert_eq!(v1["filter_not_followers"], true);
    assert_eq!(v1["filter_not_following"], false);
    let policy = alice.get("/api/v2/notifications/policy").await.ok();
    assert_eq!(policy["for_not_followers"], "filter");
    assert_eq!(policy["for_not_following"], "accept");
    assert_eq!(policy["for_private_mentions"], "drop");

    // Bad values: 422, nothing saved.
    let bad = alice
        .patch_form(
            "/api/v2/notifications/policy",
            &[
                ("for_not_followers", "accept"),
                ("for_new_accounts", "maybe"),
            ],
        )
        .await
        .expect(422);
    assert!(bad["error"].as_str().unwrap().contains("for_new_accounts"));
    alice
        .patch_form(
            "/api/v1/notifications/policy",
            &[("filter_new_accounts", "perhaps")],
        )
        .await
        .expect(422);
    let policy = alice.get("/api/v2/notifications/policy").await.ok();
    assert_eq!(policy["for_not_followers"], "filter");
    assert_eq!(policy["for_new_accounts"], "accept");

    // Scopes.
    let reader = Api::for_user(&alpha, "alice", "read").await;
    reader
        .patch_form(
            "/api/v2/notifications/policy",
            &[("for_not_following", "drop")],
        )
        .await
        .expect(403);
    Api::anonymous(&alpha)
        .get("/api/v2/notifications/policy")
        .await
        .expect(401);
}

/// Alice's notifications, as ids of their accounts and kinds.
async fn notified(api: &Api, query: &str) -> Vec<(String, String)> {
    let list = api.get(&format!("/api/v1/notifications{query}")).await.ok();
    list.as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["account"]["username"].as_str().unwrap().to_string(),
                n["type"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn policy_drops_and_filters_into_requests(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    for name in ["alice", "bob", "carol", "dave", "erin", "fay"] {
        alpha.create_user(name).await;
    }
    let api = |n: &'static str| Api::for_user(&alpha, n, "read write follow");
    let (alice, bob, carol, dave, erin, fay) = (
        api("alice").await,
        api("bob").await,
        api("carol").await,
        api("dave").await,
        api("erin").await,
        api("fay").await,
    );
    alpha.follow("alice", &alpha.handle_of("fay")).await;
    let mine = id(&alice.status(json!({"status": "hello"})).await);

    // Drop: nothing is stored.
    alice
        .patch_form(
            "/api/v2/notifications/policy",
            &[("for_not_following", "drop")],
        )
        .await
        .ok();
    bob.post(&format!("/api/v1/statuses/{mine}/favourite"), json!({}))
        .await
        .ok();
    assert_eq!(notified(&alice, "?include_filtered=true").await, vec![]);

    // Filter: kept out of the list, in a request per sender.
    alice
        .patch_form(
            "/api/v2/notifications/policy",
            &[("for_not_following", "filter")],
        )
        .await
        .ok();
    bob.status(json!({"status": "@alice hi there"})).await;
    bob.post(&format!("/api/v1/statuses/{mine}/reblog"), json!({}))
        .await
        .ok();
    // Fay, whom Alice follows, is accepted.
    fay.status(json!({"status": "@alice from a friend"})).await;
    assert_eq!(
        notified(&alice, "").await,
        vec![("fay".to_string(), "mention".to_string())]
    );
    assert_eq!(
        notified(&alice, "?include_filtered=true").await.len(),
        3,
        "filtered ones are listed on request"
    );
    let unread = alice.get("/api/v1/notifications/unread_count").await.ok();
    assert_eq!(unread["count"], 1);
    let grouped = alice.get("/api/v2/notifications").await.ok();
    assert_eq!(grouped["notification_groups"].as_array().unwrap().len(), 1);
    let policy = alice.get("/api/v2/notifications/policy").await.ok();
    assert_eq!(
        policy["summary"],
        json!({"pending_requests_count": 1, "pending_notifications_count": 2})
    );
    let requests = alice.get("/api/v1/notifications/requests").await.ok();
    assert_all_valid("NotificationRequest", &requests);
    assert_eq!(requests.as_array().unwrap().len(), 1);
    let request = &requests[0];
    assert_eq!(request["account"]["username"], "bob");
    assert_eq!(request["notifications_count"], "2");
    // The newest filtered notification's status: the boost's, Alice's own.
    assert_eq!(request["last_status"]["id"], mine.as_str());
    let rid = id(request);
    let one = alice
        .get(&format!("/api/v1/notifications/requests/{rid}"))
        .await
        .ok();
    assert_eq!(one["id"], rid.as_str());
    // Another's request is not found.
    bob.get(&format!("/api/v1/notifications/requests/{rid}"))
        .await
        .expect(404);
    bob.post(
        &format!("/api/v1/notifications/requests/{rid}/accept"),
        json!({}),
    )
    .await
    .expect(404);

    // Accept: Bob's notifications join the list, and later ones arrive
    // unfiltered.
    alice
        .post(
            &format!("/api/v1/notifications/requests/{rid}/accept"),
            json!({}),
        )
        .await
        .ok();
    let kinds: Vec<String> = notified(&alice, "")
        .await
        .into_iter()
        .map(|(who, kind)| format!("{who} {kind}"))
        .collect();
    assert_eq!(kinds, vec!["fay mention", "bob reblog", "bob mention"]);
    assert_eq!(
        alice.get("/api/v1/notifications/requests").await.ok(),
        json!([])
    );
    alice
        .get(&format!("/api/v1/notifications/requests/{rid}"))
        .await
        .expect(404);
    bob.status(json!({"status": "@alice again"})).await;
    assert_eq!(notified(&alice, "").await.len(), 4);

    // Dismiss: Carol's notifications are gone.
    carol.status(json!({"status": "@alice buy my stuff"})).await;
    let requests = alice.get("/api/v1/notifications/requests").await.ok();
    assert_eq!(requests[0]["account"]["username"], "carol");
    let carol_request = id(&requests[0]);
    alice
        .post(
            &format!("/api/v1/notifications/requests/{carol_request}/dismiss"),
            json!({}),
        )
        .await
        .ok();
    assert_eq!(
        alice.get("/api/v1/notifications/requests").await.ok(),
        json!([])
    );
    assert_eq!(notified(&alice, "?include_filtered=true").await.len(), 4);

    // The bulk forms, with `id[]`.
    dave.status(json!({"status": "@alice one"})).await;
    erin.status(json!({"status": "@alice two"})).await;
    carol.status(json!({"status": "@alice three"})).await;
    let requests = alice.get("/api/v1/notifications/requests").await.ok();
    let by = |name: &str| {
        id(requests
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["account"]["username"] == name)
            .unwrap())
    };
    let (dave_r, erin_r, carol_r) = (by("dave"), by("erin"), by("carol"));
    alice
        .post_form(
            "/api/v1/notifications/requests/accept",
            &[("id[]", dave_r.as_str()), ("id[]", erin_r.as_str())],
        )
        .await
        .ok();
    let left = alice.get("/api/v1/notifications/requests").await.ok();
    assert_eq!(Api::ids(&left), vec![carol_r.clone()]);
    // As Mastodon.py sends it (`id[][]`), with an unknown id skipped.
    alice
        .post_form(
            "/api/v1/notifications/requests/dismiss",
            &[("id[][]", carol_r.as_str()), ("id[][]", "unknown")],
        )
        .await
        .ok();
    assert_eq!(
        alice.get("/api/v1/notifications/requests").await.ok(),
        json!([])
    );
    let who: Vec<String> = notified(&alice, "")
        .await
        .into_iter()
        .map(|(who, _)| who)
        .collect();
    assert_eq!(who[..2], ["erin".to_string(), "dave".to_string()]);
    assert!(!who.contains(&"carol".to_string()));
    assert_eq!(
        alice
            .get("/api/v1/notifications/requests/merged")
            .await
            .ok(),
        json!({"merged": true})
    );
    alice
        .post("/api/v1/notifications/requests/nope/dismiss", json!({}))
        .await
        .expect(404);
}

/// Each condition of the policy on its own: private mentions (replies to
/// one's own post excepted), non-followers, new accounts, and staff, who
/// are never filtered.
async fn policy_conditions(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    for name in ["alice", "bob", "carol"] {
        alpha.create_user(name).await;
    }
    make_admin(&alpha, "root").await;
    let api = |n: &'static str| Api::for_user(&alpha, n, "read write follow");
    let (alice, bob, carol, root) = (
        api("alice").await,
        api("bob").await,
        api("carol").await,
        api("root").await,
    );
    alpha.follow("bob", &alpha.handle_of("alice")).await;
    let set = |pairs: &'static [(&'static str, &'static str)]| {
        let alice = alice.clone();
        async move {
            alice
                .patch_form("/api/v2/notifications/policy", pairs)
                .await
                .ok();
        }
    };
    let visible = || async { notified(&alice, "").await };
    let filtered = || async {
        alice.get("/api/v2/notifications/policy").await.ok()["summary"]
            ["pending_notifications_count"]
            .as_i64()
            .unwrap()
    };

    // Private mentions from strangers are filtered; public ones and a
    // direct reply to Alice's own post are not.
    set(&[("for_private_mentions", "filter")]).await;
    carol
        .status(json!({"status": "@alice psst", "visibility": "direct"}))
        .await;
    assert_eq!(filtered().await, 1);
    carol.status(json!({"status": "@alice in the open"})).await;
    let own = id(&alice
        .status(json!({"status": "@carol a question", "visibility": "direct"}))
        .await);
    carol
        .status(
            json!({"status": "@alice an answer", "visibility": "direct", "in_reply_to_id": own}),
        )
        .await;
    assert_eq!(filtered().await, 1);
    let mentions = visible()
        .await
        .into_iter()
        .filter(|(who, kind)| who == "carol" && kind == "mention")
        .count();
    assert_eq!(mentions, 2);

    // Not followers: Bob follows Alice, Carol does not.
    set(&[
        ("for_private_mentions", "accept"),
        ("for_not_followers", "drop"),
    ])
    .await;
    let post = id(&alice.status(json!({"status": "like me"})).await);
    bob.post(&format!("/api/v1/statuses/{post}/favourite"), json!({}))
        .await
        .ok();
    carol
        .post(&format!("/api/v1/statuses/{post}/favourite"), json!({}))
        .await
        .ok();
    let favourites: Vec<String> = visible()
        .await
        .into_iter()
        .filter(|(_, kind)| kind == "favourite")
        .map(|(who, _)| who)
        .collect();
    assert_eq!(favourites, vec!["bob".to_string()]);

    // New accounts (all of these are): filtered unless followed, never an
    // admin.
    set(&[
        ("for_not_followers", "accept"),
        ("for_new_accounts", "filter"),
    ])
    .await;
    bob.status(json!({"status": "@alice from a new account"}))
        .await;
    assert_eq!(filtered().await, 2);
    alpha.follow("alice", &alpha.handle_of("bob")).await;
    bob.status(json!({"status": "@alice followed now"})).await;
    assert_eq!(filtered().await, 2);
    set(&[
        ("for_new_accounts", "accept"),
        ("for_not_following", "drop"),
    ])
    .await;
    root.status(json!({"status": "@alice from the admin"}))
        .await;
    assert!(visible()
        .await
        .contains(&("root".to_string(), "mention".to_string())));
}
