//! The inbox refuses what it must (the bad-input list) and stores
//! nothing when it does; it acknowledges duplicates and unknown types.

use crate::harness::{both_backends, http_client, TestInstance};
use outloud::{config::Backend, db::follow::FollowState};
use serde_json::{json, Value};

both_backends!(
    inbox_refuses_bad_requests,
    inbox_is_idempotent_and_tolerant,
    concurrent_copies_of_one_object_are_stored_once,
    policy_blocks_and_allowlists_hosts,
);

/// A Follow of alice@alpha by bob@beta, with a fresh id on beta.
fn follow(alpha: &TestInstance, beta: &TestInstance, n: u32) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": beta.url(&format!("/activities/test-follow-{n}")),
        "type": "Follow",
        "actor": beta.actor_url("bob"),
        "object": alpha.actor_url("alice"),
    })
}

async fn alice_followed_by_bob(alpha: &TestInstance, beta: &TestInstance) -> Option<FollowState> {
    alpha
        .follow_state(&beta.handle_of("bob"), &alpha.handle_of("alice"))
        .await
}

async fn inbox_refuses_bad_requests(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    alpha.create_user("alice").await;
    let bob = beta.create_user("bob").await;
    beta.create_user("carol").await;
    let inbox = alpha.url("/inbox");
    let client = http_client();
    let now = chrono::Utc::now()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();

    // Missing signature (and digest): 401.
    let res = client
        .post(&inbox)
        .header("Content-Type", "application/activity+json")
        .header("Date", &now)
        .body(follow(&alpha, &beta, 1).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let body: Value = res.json().await.unwrap();
    assert!(body["error"].is_string());

    // Date outside ±12 h: 401 before anything else is looked at.
    let old = (chrono::Utc::now() - chrono::TimeDelta::hours(13))
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    let res = client
        .post(&inbox)
        .header("Date", old)
        .body(follow(&alpha, &beta, 2).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    // Signed by bob but claiming to be carol: the key's owner is not the actor.
    let mut forged = follow(&alpha, &beta, 3);
    forged["actor"] = json!(beta.actor_url("carol"));
    let res = beta.signed_post(&bob, &inbox, &forged).await;
    assert_eq!(res.status(), 401);

    // An id on another host than the actor: 400.
    let mut foreign_id = follow(&alpha, &beta, 4);
    foreign_id["id"] = json!(alpha.url("/activities/not-yours"));
    let res = beta.signed_post(&bob, &inbox, &foreign_id).await;
    assert_eq!(res.status(), 400);

    // A known type missing a required field: 400.
    let mut broken = follow(&alpha, &beta, 5);
    broken.as_object_mut().unwrap().remove("object");
    let res = beta.signed_post(&bob, &inbox, &broken).await;
    assert_eq!(res.status(), 400);

    // Not JSON at all: 400.
    let res = client
        .post(&inbox)
        .header("Date", &now)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);

    // Over 1 MiB: 413.
    let mut huge = follow(&alpha, &beta, 6);
    huge["padding"] = json!("x".repeat(1024 * 1024 + 10));
    let res = client
        .post(&inbox)
        .header("Date", &now)
        .body(huge.to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);

    // A tampered body no longer matches its signed digest: 401.
    let signed = follow(&alpha, &beta, 7);
    let config = activitypub_federation::config::FederationConfig::builder()
        .domain(beta.domain.clone())
        .app_data(beta.context.clone())
        .signed_fetch_actor(&bob)
        .http_signature_compat(true)
        .debug(true)
        .build()
        .await
        .unwrap();
    let mw = reqwest_middleware::ClientWithMiddleware::from(http_client());
    let request = config
        .to_request_data()
        .sign_request(
            mw.post(&inbox),
            actix_web::web::Bytes::from(signed.to_string()),
        )
        .await
        .unwrap();
    let mut tampered = request.try_clone().unwrap();
    let mut evil = signed.clone();
    evil["object"] = json!(alpha.actor_url("somebody_else"));
    *tampered.body_mut() = Some(evil.to_string().into());
    assert_eq!(mw.execute(tampered).await.unwrap().status(), 401);

    // None of it left a trace.
    assert_eq!(alice_followed_by_bob(&alpha, &beta).await, None);

    // The untampered request is fine.
    assert_eq!(mw.execute(request).await.unwrap().status(), 202);
    assert_eq!(
        alice_followed_by_bob(&alpha, &beta).await,
        Some(FollowState::Accepted)
    );
}

async fn inbox_is_idempotent_and_tolerant(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    alpha.create_user("alice").await;
    let bob = beta.create_user("bob").await;
    let inbox = alpha.url("/users/alice/inbox");

    let first = follow(&alpha, &beta, 1);
    assert_eq!(beta.signed_post(&bob, &inbox, &first).await.status(), 202);
    assert_eq!(
        alice_followed_by_bob(&alpha, &beta).await,
        Some(FollowState::Accepted)
    );

    let undo = json!({
        "id": beta.url("/activities/test-undo-1"),
        "type": "Undo",
        "actor": beta.actor_url("bob"),
        "object": first,
    });
    assert_eq!(beta.signed_post(&bob, &inbox, &undo).await.status(), 202);
    assert_eq!(alice_followed_by_bob(&alpha, &beta).await, None);

    // The same Follow again: acknowledged, and nothing changes.
    assert_eq!(beta.signed_post(&bob, &inbox, &first).await.status(), 202);
    assert_eq!(alice_followed_by_bob(&alpha, &beta).await, None);

    // An activity type Outloud does not handle: accepted and ignored.
    let react = json!({
        "id": beta.url("/activities/test-react-1"),
        "type": "EmojiReact",
        "actor": beta.actor_url("bob"),
        "object": alpha.actor_url("alice"),
        "content": "🎉",
    });
    assert_eq!(beta.signed_post(&bob, &inbox, &react).await.status(), 202);

    // The inbox of a person who does not exist: 404.
    let res = beta
        .signed_post(
            &bob,
            &alpha.url("/users/nobody/inbox"),
            &follow(&alpha, &beta, 2),
        )
        .await;
    assert_eq!(res.status(), 404);
}

async fn policy_blocks_and_allowlists_hosts(backend: Backend) {
    use outloud::db::domain_policy::PolicyAction;
    use outloud::service::policy;

    // Open mode with beta blocked: inbound 403, outbound resolution refused.
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    alpha.create_user("alice").await;
    let bob = beta.create_user("bob").await;
    policy::set(&alpha.context.db, &beta.domain, PolicyAction::Block)
        .await
        .unwrap();
    let res = beta
        .signed_post(&bob, &alpha.url("/inbox"), &follow(&alpha, &beta, 1))
        .await;
    assert_eq!(res.status(), 403);
    let refused = outloud::service::resolve::actor(&alpha.data(), &beta.handle_of("bob")).await;
    assert_eq!(refused.unwrap_err().kind, outloud::ErrorKind::Forbidden);
    assert!(alpha.follower_ids("alice").await.is_empty());

    // Unblocked, it works.
    policy::remove(&alpha.context.db, &beta.domain)
        .await
        .unwrap();
    let res = beta
        .signed_post(&bob, &alpha.url("/inbox"), &follow(&alpha, &beta, 2))
        .await;
    assert_eq!(res.status(), 202);

    // Allowlist mode: only listed hosts.
    let gamma = TestInstance::spawn_with("gamma", backend, |c| {
        c.federation.policy = outloud::config::FederationPolicy::Allowlist;
    })
    .await;
    gamma.create_user("carol").await;
    let res = beta
        .signed_post(
            &bob,
            &gamma.url("/inbox"),
            &json!({
                "id": beta.url("/activities/test-follow-gamma"),
                "type": "Follow",
                "actor": beta.actor_url("bob"),
                "object": gamma.actor_url("carol"),
            }),
        )
        .await;
    assert_eq!(res.status(), 403);
    policy::set(&gamma.context.db, &beta.domain, PolicyAction::Allow)
        .await
        .unwrap();
    let res = beta
        .signed_post(
            &bob,
            &gamma.url("/inbox"),
            &json!({
                "id": beta.url("/activities/test-follow-gamma-2"),
                "type": "Follow",
                "actor": beta.actor_url("bob"),
                "object": gamma.actor_url("carol"),
            }),
        )
        .await;
    assert_eq!(res.status(), 202);
}

/// A post often arrives twice at once: from its author, and boosted by a
/// community that shares it. Both inbox requests try to store the same new
/// object; neither may be refused (a 4xx makes the sender give up), and the
/// object is stored once.
async fn concurrent_copies_of_one_object_are_stored_once(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    alpha.create_user("alice").await;
    let bob = beta.create_user("bob").await;
    let inbox = alpha.url("/inbox");
    for round in 0..3 {
        let note_id = beta.url(&format!("/objects/race-{round}"));
        let note = json!({
            "id": note_id,
            "type": "Note",
            "attributedTo": beta.actor_url("bob"),
            "to": [alpha.actor_url("alice")],
            "content": "<p>one object, many copies</p>",
            "published": "2026-12-01T12:00:00Z",
        });
        let sends = (0..8).map(|n| {
            let create = json!({
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": beta.url(&format!("/activities/race-{round}-{n}")),
                "type": "Create",
                "actor": beta.actor_url("bob"),
                "to": [alpha.actor_url("alice")],
                "object": note,
            });
            let (beta, bob, inbox) = (&beta, &bob, &inbox);
            async move { beta.signed_post(bob, inbox, &create).await.status() }
        });
        let statuses = futures_util::future::join_all(sends).await;
        assert!(
            statuses.iter().all(|s| s.as_u16() == 202),
            "round {round}: {statuses:?}"
        );
        assert!(alpha.stored_post(&note_id).await.is_some());
    }
}
