//! Following across instances: automatic and manual approval, refusal,
//! undo, and the followers/following collections.

use crate::harness::{both_backends, settle, settled, TestInstance};
use outloud::{config::Backend, db::follow::FollowState};
use serde_json::Value;

both_backends!(
    follow_is_accepted_automatically_and_undone,
    manual_approval_and_refusal,
    collections_count_publicly_and_list_per_choice,
);

async fn follow_is_accepted_automatically_and_undone(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    alpha.create_user("alice").await;
    beta.create_user("bob").await;
    let (alice, bob) = (alpha.handle_of("alice"), beta.handle_of("bob"));

    alpha.follow("alice", &bob).await;
    // beta accepted and alpha recorded the Accept.
    settled(&[&alpha, &beta], || async {
        (alpha.follow_state(&alice, &bob).await == Some(FollowState::Accepted)).then_some(())
    })
    .await;
    assert_eq!(
        beta.follow_state(&alice, &bob).await,
        Some(FollowState::Accepted)
    );

    // Following again changes nothing.
    alpha.follow("alice", &bob).await;
    let followers: Value = beta
        .get_ap("/users/bob/followers")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(followers["totalItems"], 1);

    alpha.unfollow("alice", &bob).await;
    settled(&[&alpha, &beta], || async {
        beta.follow_state(&alice, &bob)
            .await
            .is_none()
            .then_some(())
    })
    .await;
    assert_eq!(alpha.follow_state(&alice, &bob).await, None);
}

async fn manual_approval_and_refusal(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    alpha.create_user("alice").await;
    alpha.create_user("carol").await;
    let bob_row = beta.create_user("bob").await;
    let bob = beta.handle_of("bob");
    let bob_row = outloud::service::follows::set_manual_approval(&beta.data(), &bob_row, true)
        .await
        .unwrap();
    // The actor document says so, and alpha sees it on resolution.
    let doc: Value = beta.get_ap("/users/bob").await.json().await.unwrap();
    assert_eq!(doc["manuallyApprovesFollowers"], true);

    alpha.follow("alice", &bob).await;
    alpha.follow("carol", &bob).await;
    settle(&[&alpha, &beta]).await;
    let (alice, carol) = (alpha.handle_of("alice"), alpha.handle_of("carol"));
    assert_eq!(
        beta.follow_state(&alice, &bob).await,
        Some(FollowState::Pending)
    );
    assert_eq!(
        alpha.follow_state(&alice, &bob).await,
        Some(FollowState::Pending)
    );
    let pending = outloud::service::follows::pending_requests(&beta.data(), &bob_row)
        .await
        .unwrap();
    assert_eq!(pending.len(), 2);

    let alice_at_beta = beta.resolve(&alice).await;
    let carol_at_beta = beta.resolve(&carol).await;
    outloud::service::follows::decide(&beta.data(), &bob_row, &alice_at_beta, true)
        .await
        .unwrap();
    outloud::service::follows::decide(&beta.data(), &bob_row, &carol_at_beta, false)
        .await
        .unwrap();
    settled(&[&alpha, &beta], || async {
        (alpha.follow_state(&alice, &bob).await == Some(FollowState::Accepted)).then_some(())
    })
    .await;
    settled(&[&alpha, &beta], || async {
        alpha
            .follow_state(&carol, &bob)
            .await
            .is_none()
            .then_some(())
    })
    .await;
    assert_eq!(beta.follow_state(&carol, &bob).await, None);

    // Deciding twice is a clear error.
    let again =
        outloud::service::follows::decide(&beta.data(), &bob_row, &carol_at_beta, true).await;
    assert_eq!(again.unwrap_err().kind, outloud::ErrorKind::NotFound);
}

async fn collections_count_publicly_and_list_per_choice(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    alpha.create_user("alice").await;
    beta.create_user("bob").await;
    alpha.follow("alice", &beta.handle_of("bob")).await;
    settled(&[&alpha, &beta], || async {
        (alpha
            .follow_state(&alpha.handle_of("alice"), &beta.handle_of("bob"))
            .await
            == Some(FollowState::Accepted))
        .then_some(())
    })
    .await;

    let res = beta.get_ap("/users/bob/followers").await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "application/activity+json"
    );
    let collection: Value = res.json().await.unwrap();
    assert_eq!(collection["type"], "OrderedCollection");
    assert_eq!(collection["id"], beta.url("/users/bob/followers"));
    assert_eq!(collection["totalItems"], 1);
    let first = collection["first"].as_str().unwrap();
    let page: Value = beta
        .client
        .get(first)
        .header("Accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(page["type"], "OrderedCollectionPage");
    assert_eq!(page["partOf"], beta.url("/users/bob/followers"));
    assert_eq!(
        page["orderedItems"],
        serde_json::json!([alpha.actor_url("alice")])
    );

    let following: Value = alpha
        .get_ap("/users/alice/following?page=1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        following["orderedItems"],
        serde_json::json!([beta.actor_url("bob")])
    );

    // Bob hides his network: the count stays, the list goes.
    let mut bob = beta.local("bob").await;
    bob.hide_network = true;
    let row = bob.clone();
    beta.context
        .db
        .run(move |conn| Ok(outloud::db::actor::Actor::update(conn, &row)?))
        .await
        .unwrap();
    let collection: Value = beta
        .get_ap("/users/bob/followers")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(collection["totalItems"], 1);
    assert!(collection.get("first").is_none());
    assert_eq!(
        beta.get_ap("/users/bob/followers?page=1").await.status(),
        403
    );

    assert_eq!(beta.get_ap("/users/nobody/followers").await.status(), 404);
    assert_eq!(
        beta.get_ap("/users/bob/following?page=0").await.status(),
        400
    );
}
