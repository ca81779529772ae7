//! Web Push (docs/api.md "Push"): `/api/v1/push/subscription` CRUD and
//! validation, pushes received by a loopback push service and decrypted
//! with the subscriber's private key (both encodings), the VAPID JWT
//! checked against `configuration.vapid.public_key`, policies and
//! alerts, 410 removing the subscription, and a push surviving a
//! `kill -9` of the server between the notification and its delivery.

mod kill;
pub mod support;

use crate::{
    api_client::Api,
    harness::{both_backends, TestInstance},
    schema::assert_valid,
};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use outloud::{config::Backend, push::Outcome};
use serde_json::{json, Value};
use support::{server_key, Hit, Receiver, Subscriber, SUB};

both_backends!(
    push_subscription_crud,
    push_delivered_and_decrypted,
    push_for_reports,
    push_sent_once_by_concurrent_workers,
    no_push_for_filtered_notifications,
);

// ---- scenarios ---------------------------------------------------------------

async fn push_subscription_crud(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    alpha.create_user("alice").await;
    let alice = Api::for_user(&alpha, "alice", "read write follow push").await;
    let other_app = Api::for_user(&alpha, "alice", "push").await;
    let reader = Api::for_user(&alpha, "alice", "read write").await;
    let key = server_key(&alice).await;
    let subscriber = Subscriber::new();
    let endpoint = "http://127.0.0.1:9/push/alice";

    alice.get(SUB).await.expect(404);
    // The `push` scope is needed.
    let body = subscriber.body(endpoint, false, json!({"mention": true}), "all");
    reader.post(SUB, body.clone()).await.expect(403);
    reader.get(SUB).await.expect(403);

    let created = alice
        .post(
            SUB,
            subscriber.body(
                endpoint,
                false,
                json!({"mention": true, "follow": "true", "favourite": false, "bogus": true}),
                "followed",
            ),
        )
        .await
        .expect(200);
    assert_valid("WebPushSubscription", &created);
    assert_eq!(created["endpoint"], endpoint);
    assert_eq!(created["standard"], false);
    assert_eq!(created["policy"], "followed");
    assert_eq!(created["server_key"], key.as_str());
    assert_eq!(created["alerts"]["mention"], true);
    assert_eq!(created["alerts"]["follow"], true);
    assert_eq!(created["alerts"]["favourite"], false);
    assert_eq!(created["alerts"]["admin.report"], false);
    assert!(created["alerts"].get("bogus").is_none());
    assert!(created["id"].as_str().is_some_and(|id| !id.is_empty()));
    assert_eq!(alice.get(SUB).await.ok(), created);
    // One subscription per token: another token of alice's has none.
    other_app.get(SUB).await.expect(404);

    // PUT replaces the alerts and the policy.
    let updated = alice
        .put(
            SUB,
            json!({"data": {"alerts": {"favourite": true}, "policy": "all"}}),
        )
        .await
        .ok();
    assert_eq!(updated["id"], created["id"]);
    assert_eq!(updated["alerts"]["favourite"], true);
    assert_eq!(updated["alerts"]["mention"], false);
    assert_eq!(updated["policy"], "all");
    alice
        .put(SUB, json!({"data": {"policy": "friends"}}))
        .await
        .expect(422);
    // A policy-only update keeps the alerts.
    let policy_only = alice
        .put(SUB, json!({"data": {"policy": "none"}}))
        .await
        .ok();
    assert_eq!(policy_only["policy"], "none");
    assert_eq!(policy_only["alerts"]["favourite"], true);

    // POST again (form-encoded, as Rails apps send it) replaces it; the
    // policy may come as `policy`, as Mastodon.py sends it.
    let replaced = alice
        .post_form(
            SUB,
            &[
                ("subscription[endpoint]", "http://127.0.0.1:9/push/again"),
                ("subscription[keys][p256dh]", &subscriber.p256dh),
                ("subscription[keys][auth]", &subscriber.auth_b64),
                ("subscription[standard]", "true"),
                ("data[alerts][admin.report]", "true"),
                ("data[alerts][mention]", "1"),
                ("policy", "follower"),
            ],
        )
        .await
        .expect(200);
    assert_valid("WebPushSubscription", &replaced);
    assert_ne!(replaced["id"], created["id"]);
    assert_eq!(replaced["standard"], true);
    assert_eq!(replaced["policy"], "follower");
    assert_eq!(replaced["alerts"]["admin.report"], true);
    assert_eq!(replaced["alerts"]["mention"], true);
    assert_eq!(replaced["alerts"]["favourite"], false);
    assert_eq!(alice.get(SUB).await.ok()["id"], replaced["id"]);

    // Bad input: 422, and the stored subscription stays.
    let bad = |endpoint: &str, p256dh: &str, auth: &str| json!({"subscription": {"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}}});
    let (p, a) = (subscriber.p256dh.as_str(), subscriber.auth_b64.as_str());
    let short_auth = URL_SAFE_NO_PAD.encode([1u8; 8]);
    let off_curve = URL_SAFE_NO_PAD.encode([4u8; 65]);
    for body in [
        bad("ftp://127.0.0.1/push", p, a),
        bad("not a url", p, a),
        bad("/push/relative", p, a),
        bad("", p, a),
        bad(endpoint, "", a),
        bad(endpoint, "%%%", a),
        bad(endpoint, &off_curve, a),
        bad(endpoint, p, ""),
        bad(endpoint, p, &short_auth),
        json!({"subscription": {"endpoint": endpoint}}),
        json!({}),
    ] {
        let answer = alice.post(SUB, body.clone()).await;
        assert_eq!(answer.status.as_u16(), 422, "{body}: {}", answer.text);
        assert!(answer.json["error"].as_str().is_some(), "{}", answer.text);
    }
    alice
        .post(SUB, subscriber.body(endpoint, false, json!({}), "everyone"))
        .await
        .expect(422);
    assert_eq!(alice.get(SUB).await.ok()["id"], replaced["id"]);

    // DELETE answers {} and removes it; then GET and PUT are 404.
    assert_eq!(alice.delete(SUB).await.ok(), json!({}));
    alice.get(SUB).await.expect(404);
    alice
        .put(SUB, json!({"data": {"policy": "all"}}))
        .await
        .expect(404);
    assert_eq!(alice.delete(SUB).await.ok(), json!({}));

    // Revoking the token removes its subscription.
    other_app
        .post(
            SUB,
            subscriber.body(endpoint, true, json!({"mention": true}), "all"),
        )
        .await
        .ok();
    let token_id = {
        let db = alpha.context.db.clone();
        db.run(|conn| {
            use diesel::prelude::*;
            use outloud::db::schema::push_subscriptions;
            Ok(push_subscriptions::table
                .select(push_subscriptions::token_id)
                .first::<String>(conn)?)
        })
        .await
        .unwrap()
    };
    let db = alpha.context.db.clone();
    let left = db
        .run(move |conn| {
            outloud::db::oauth::OauthToken::revoke(conn, &token_id)?;
            Ok(outloud::db::push::PushSubscription::of_token(
                conn, &token_id,
            )?)
        })
        .await
        .unwrap();
    assert!(left.is_none());
    other_app.get(SUB).await.expect(401);

    // Outside dev mode, plain http and internal addresses are refused.
    let prod =
        TestInstance::spawn_with("beta", backend, |c| c.federation.dev_mode = Some(false)).await;
    prod.create_user("carol").await;
    let carol = Api::for_user(&prod, "carol", "push").await;
    for endpoint in [
        "http://push.example.net/x",
        "https://127.0.0.1/x",
        "https://192.168.1.10/x",
        "https://localhost/x",
    ] {
        carol
            .post(
                SUB,
                subscriber.body(endpoint, true, json!({"mention": true}), "all"),
            )
            .await
            .expect(422);
    }
    let public = carol
        .post(
            SUB,
            subscriber.body(
                "https://push.example.net/x",
                true,
                json!({"mention": true}),
                "all",
            ),
        )
        .await
        .expect(200);
    assert_eq!(public["endpoint"], "https://push.example.net/x");
}

/// The notification id of alice's newest notification.
async fn newest_notification(api: &Api) -> Value {
    let list = api.get("/api/v1/notifications").await.ok();
    list[0].clone()
}

async fn push_delivered_and_decrypted(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    alpha.create_user("alice").await;
    alpha.create_user("bob").await;
    let receiver = Receiver::start(0);
    let bob = Api::for_user(&alpha, "bob", "read write follow").await;
    let alice = Api::for_user(&alpha, "alice", "read write follow push").await;
    let key = server_key(&alice).await;

    // Four subscriptions of alice's (four apps): standard, legacy, one
    // that wants mentions only from people she follows (she does not
    // follow bob), one that wants follows only, one with policy none.
    let standard = Subscriber::new();
    let legacy = Subscriber::new();
    let subscribe = |s: &Subscriber, path: &str, standard: bool, alerts: Value, policy: &str| {
        let body = s.body(&receiver.url(path), standard, alerts, policy);
        let alpha = &alpha;
        async move {
            let api = Api::for_user(alpha, "alice", "push").await;
            api.post(SUB, body).await.ok();
            api
        }
    };
    let _standard_app = subscribe(
        &standard,
        "/standard",
        true,
        json!({"mention": true}),
        "all",
    )
    .await;
    let _legacy_app = subscribe(
        &legacy,
        "/legacy",
        false,
        json!({"mention": true, "follow": true}),
        "all",
    )
    .await;
    let other = Subscriber::new();
    let _followed = subscribe(
        &other,
        "/followed",
        true,
        json!({"mention": true}),
        "followed",
    )
    .await;
    let _follows_only = subscribe(&other, "/follows", true, json!({"follow": true}), "all").await;
    let _none = subscribe(&other, "/none", true, json!({"mention": true}), "none").await;

    bob.status(json!({"status": "@alice hello from bob"})).await;
    let outcomes = outloud::push::deliver_due(&alpha.context).await.unwrap();
    assert_eq!(outcomes, vec![Outcome::Delivered, Outcome::Delivered]);
    let notification = newest_notification(&alice).await;
    assert_eq!(notification["type"], "mention");
    let mut hits = receiver.hits();
    hits.sort_by(|a, b| a.path.cmp(&b.path));
    let paths: Vec<&str> = hits.iter().map(|h| h.path.as_str()).collect();
    assert_eq!(paths, ["/legacy", "/standard"]);
    assert_eq!(hits[1].headers["content-encoding"], "aes128gcm");
    assert_eq!(hits[0].headers["content-encoding"], "aesgcm");
    for (hit, subscriber) in [(&hits[0], &legacy), (&hits[1], &standard)] {
        let payload = subscriber.open(hit, &key);
        assert_eq!(payload["notification_type"], "mention");
        assert_eq!(payload["notification_id"], notification["id"]);
        assert!(
            payload["title"]
                .as_str()
                .unwrap()
                .ends_with("mentioned you"),
            "{payload}"
        );
        assert!(
            payload["body"].as_str().unwrap().contains("hello from bob"),
            "{payload}"
        );
        assert!(payload["icon"].as_str().unwrap().starts_with("http"));
        assert!(payload.get("access_token").is_some());
    }
    // Nothing else is queued; the others' keys never saw a push.
    assert!(outloud::push::deliver_due(&alpha.context)
        .await
        .unwrap()
        .is_empty());

    // Bob follows alice: the legacy app (follow) and the follows-only
    // app get it.
    alpha.follow("bob", &alpha.handle_of("alice")).await;
    let outcomes = outloud::push::deliver_due(&alpha.context).await.unwrap();
    assert_eq!(outcomes.len(), 2, "{outcomes:?}");
    let follow_hits: Vec<Hit> = receiver.hits().into_iter().skip(2).collect();
    let legacy_follow = follow_hits.iter().find(|h| h.path == "/legacy").unwrap();
    assert_eq!(
        legacy.open(legacy_follow, &key)["notification_type"],
        "follow"
    );
    assert!(follow_hits.iter().any(|h| h.path == "/follows"));

    // A push service failing with 503 keeps the push queued for later.
    receiver.answer(503);
    bob.status(json!({"status": "@alice are you there?"})).await;
    let outcomes = outloud::push::deliver_due(&alpha.context).await.unwrap();
    assert_eq!(outcomes.len(), 2);
    assert!(
        outcomes.iter().all(|o| matches!(o, Outcome::Retry(_))),
        "{outcomes:?}"
    );
    let queued = alpha
        .context
        .db
        .run(|conn| Ok(outloud::db::push::queued(conn)?))
        .await
        .unwrap();
    assert_eq!(queued, 2);

    // 410: the push service says the subscription is gone.
    receiver.answer(410);
    bob.status(json!({"status": "@alice last one"})).await;
    let outcomes = outloud::push::deliver_due(&alpha.context).await.unwrap();
    assert_eq!(outcomes, vec![Outcome::Gone, Outcome::Gone]);
    _standard_app.get(SUB).await.expect(404);
    _legacy_app.get(SUB).await.expect(404);
    // The others are untouched.
    _followed.get(SUB).await.ok();
}

/// An admin subscribed to `admin.report` gets a push when someone files
/// a report (the report's own notification path).
async fn push_for_reports(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    crate::reports::create_admin(&alpha, "ana").await;
    let alice = alpha.create_user("alice").await;
    alpha.create_user("bob").await;
    let receiver = Receiver::start(0);
    let ana = Api::for_user(&alpha, "ana", "read admin:read push").await;
    let key = server_key(&ana).await;
    let subscriber = Subscriber::new();
    ana.post(
        SUB,
        subscriber.body(
            &receiver.url("/ana"),
            true,
            json!({"admin.report": true}),
            "all",
        ),
    )
    .await
    .ok();
    let bob = Api::for_user(&alpha, "bob", "read write").await;
    bob.post(
        "/api/v1/reports",
        json!({"account_id": alice.id, "comment": "spam"}),
    )
    .await
    .ok();
    let outcomes = outloud::push::deliver_due(&alpha.context).await.unwrap();
    assert_eq!(outcomes, vec![Outcome::Delivered]);
    let hits = receiver.hits();
    let payload = subscriber.open(&hits[0], &key);
    assert_eq!(payload["notification_type"], "admin.report");
    let listed = ana
        .get("/api/v1/notifications?types[]=admin.report")
        .await
        .ok();
    assert_eq!(payload["notification_id"], listed[0]["id"]);
}

/// Three workers stepping one queue at once (as three processes would)
/// send each push exactly once.
async fn push_sent_once_by_concurrent_workers(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    alpha.create_user("alice").await;
    alpha.create_user("bob").await;
    let receiver = Receiver::start(0);
    let alice = Api::for_user(&alpha, "alice", "read push").await;
    let key = server_key(&alice).await;
    let subscriber = Subscriber::new();
    alice
        .post(
            SUB,
            subscriber.body(
                &receiver.url("/alice"),
                true,
                json!({"mention": true}),
                "all",
            ),
        )
        .await
        .ok();
    let bob = Api::for_user(&alpha, "bob", "read write").await;
    for n in 0..12 {
        bob.status(json!({"status": format!("@alice number {n}")}))
            .await;
    }
    let (a, b, c) = tokio::join!(
        outloud::push::deliver_due(&alpha.context),
        outloud::push::deliver_due(&alpha.context),
        outloud::push::deliver_due(&alpha.context),
    );
    let sent = a.unwrap().len() + b.unwrap().len() + c.unwrap().len();
    assert_eq!(sent, 12);
    let mut ids: Vec<String> = receiver
        .hits()
        .iter()
        .map(|hit| {
            subscriber.open(hit, &key)["notification_id"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(ids.len(), 12);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 12, "a push was sent twice");
}

/// A notification the recipient's notification policy filters into a
/// request (or drops) is not pushed: the push would announce what the
/// policy keeps quiet. Once the sender is accepted, their next one is.
async fn no_push_for_filtered_notifications(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    alpha.create_user("alice").await;
    alpha.create_user("bob").await;
    let receiver = Receiver::start(0);
    let alice = Api::for_user(&alpha, "alice", "read write push").await;
    let bob = Api::for_user(&alpha, "bob", "read write").await;
    let subscriber = Subscriber::new();
    let body = subscriber.body(
        &receiver.url("/alice"),
        true,
        json!({"mention": true}),
        "all",
    );
    alice.post(SUB, body).await.ok();
    alice
        .patch_form(
            "/api/v2/notifications/policy",
            &[("for_not_following", "filter")],
        )
        .await
        .ok();

    // Alice does not follow bob: his mention waits in a request, unpushed.
    bob.status(json!({"status": "@alice a question for you"}))
        .await;
    let outcomes = outloud::push::deliver_due(&alpha.context).await.unwrap();
    assert!(outcomes.is_empty(), "{outcomes:?}");
    assert!(receiver.hits().is_empty());
    let requests = alice.get("/api/v1/notifications/requests").await.ok();
    assert_eq!(requests.as_array().unwrap().len(), 1, "{requests}");

    // Accepted, bob's next mention is pushed.
    let id = requests[0]["id"].as_str().unwrap().to_string();
    alice
        .post(
            &format!("/api/v1/notifications/requests/{id}/accept"),
            json!({}),
        )
        .await
        .ok();
    bob.status(json!({"status": "@alice thanks!"})).await;
    let outcomes = outloud::push::deliver_due(&alpha.context).await.unwrap();
    assert_eq!(outcomes, vec![Outcome::Delivered]);
    assert_eq!(receiver.hits().len(), 1);
}
