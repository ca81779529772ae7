//! Social learning with a foreign peer (issue 13, "Done when"): two Outloud
//! instances and the Fedify peer of `foreign_peer` (carol, on a server
//! that says no software name, so Outloud treats it as a microblog like
//! Mastodon) share one community on alpha. Typed narrations go both ways,
//! and asks asked in the community are answered from beta and from the
//! peer, accepted on alpha, and known as answered on alpha, on beta and
//! (through the ask's `Update`, read by Fedify) on the peer.

use crate::{
    api_client::Api,
    communities::create_community,
    foreign_peer::Peer,
    harness::{both_backends, settled, TestInstance},
};
use outloud::{
    config::Backend,
    db::{
        answer::AcceptedAnswer,
        community::Posting,
        follow::FollowState,
        post::{NarrationKind, Post},
    },
    service::posts::NewPost,
};
use serde_json::{json, Value};

both_backends!(
    typed_narrations_between_outloud_and_the_peer,
    asks_answered_across_outloud_and_the_peer,
);

/// alpha with alice, who owns the community `rust`; beta with bob; the
/// peer with carol. bob and carol have joined `rust`.
struct Scene {
    alpha: TestInstance,
    beta: TestInstance,
    peer: Peer,
    /// The community's actor id.
    group: url::Url,
}

async fn scene(backend: Backend, label: &str) -> Scene {
    let (alpha, beta, peer) = tokio::join!(
        TestInstance::spawn("alpha", backend),
        TestInstance::spawn("beta", backend),
        Peer::start(label)
    );
    let alice = alpha.create_user("alice").await;
    beta.create_user("bob").await;
    create_community(&alpha, "rust", &alice, false, false, Posting::Members).await;
    let group = alpha.local("rust").await.ap_id.0;
    let rust = format!("rust@{}", alpha.domain);

    // bob joins from beta.
    beta.follow("bob", &rust).await;
    settled(&[&alpha, &beta], || async {
        (beta.follow_state(&beta.handle_of("bob"), &rust).await == Some(FollowState::Accepted))
            .then_some(())
    })
    .await;
    // carol joins from the peer, by the community's handle (WebFinger).
    let follow = peer.control("follow", json!({ "target": rust })).await;
    alpha.drain_deliveries().await;
    let follow_id = follow["id"].as_str().unwrap().to_string();
    let accept = peer
        .received_one("Accept", |a| a["follow"]["id"] == follow_id.as_str())
        .await;
    assert_eq!(accept["actor"], group.as_str());
    assert_eq!(accept["signedBy"], format!("{group}#main-key"));
    assert_eq!(accept["follow"]["object"], group.as_str());
    let mut members = alpha.follower_ids("rust").await;
    members.sort();
    let mut expected = vec![beta.actor_url("bob"), peer.carol()];
    expected.sort();
    assert_eq!(members, expected);
    Scene {
        alpha,
        beta,
        peer,
        group,
    }
}

/// `author` on `instance` narrates `text` of `kind` in the community.
async fn narrate(
    instance: &TestInstance,
    author: &str,
    group: &url::Url,
    kind: NarrationKind,
    text: &str,
) -> Post {
    instance
        .publish(
            author,
            NewPost {
                narration: Some(kind),
                community: Some(group.clone()),
                ..NewPost::note(text)
            },
        )
        .await
}

/// The post `ap_id` once `instance` has it, settling alpha and beta.
async fn arrived(scene: &Scene, instance: &TestInstance, ap_id: &str) -> Post {
    settled(&[&scene.alpha, &scene.beta], || async {
        instance.stored_post(ap_id).await
    })
    .await
}

/// The community's `Announce` of the post `ap_id` the peer received: what
/// Fedify made of the announced post.
async fn announced_to_peer(peer: &Peer, group: &url::Url, ap_id: &str) -> Value {
    let announce = peer
        .received_one("Announce", |a| a["object"]["id"] == ap_id)
        .await;
    assert_eq!(announce["actor"], group.as_str(), "{announce:#}");
    assert_eq!(
        announce["signedBy"],
        format!("{group}#main-key"),
        "{announce:#}"
    );
    announce["object"].clone()
}

fn has_hashtag(object: &Value, name: &str) -> bool {
    object["tags"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["type"] == "Hashtag" && t["name"] == name)
}

/// The accepted answer of the ask `question` (its id on `instance`), as
/// `instance` stores it: the answer's id there.
async fn accepted_on(instance: &TestInstance, question: &Post) -> Option<String> {
    let id = question.id.clone();
    instance
        .context
        .db
        .run(move |conn| Ok(AcceptedAnswer::of_question(conn, &id)?))
        .await
        .unwrap()
        .map(|row| row.answer_id)
}

/// `outloud.accepted_answer_id` of the status `id`, read by `api`.
async fn accepted_through_api(api: &Api, id: &str) -> Value {
    let status = api.get(&format!("/api/v1/statuses/{id}")).await.ok();
    assert_eq!(status["outloud"]["kind"], "ask", "{status:#}");
    status["outloud"]["accepted_answer_id"].clone()
}

/// Every `Update` of `ap_id` the peer received, in order.
async fn updates_of(peer: &Peer, ap_id: &str) -> Vec<Value> {
    peer.received()
        .await
        .into_iter()
        .filter(|a| a["type"] == "Update" && a["object"]["id"] == ap_id)
        .collect()
}

/// `<p>Answered: <a href="LINK">` for an answer whose link is `link`.
fn answered_link(link: &str) -> String {
    format!("<p>Answered: <a href=\"{link}\">")
}

async fn typed_narrations_between_outloud_and_the_peer(backend: Backend) {
    let scene = scene(backend, "learning-kinds").await;
    let Scene {
        alpha,
        beta,
        peer,
        group,
    } = &scene;

    // alice's `learned` narration: beta stores its kind; the peer sees the
    // community boost it, and Fedify reads the kind's hashtag.
    let learned = narrate(
        alpha,
        "alice",
        group,
        NarrationKind::Learned,
        "Boxed diesel queries compose",
    )
    .await;
    let at_beta = arrived(&scene, beta, learned.ap_id.as_str()).await;
    assert_eq!(at_beta.narration_kind.as_deref(), Some("learned"));
    let object = announced_to_peer(peer, group, learned.ap_id.as_str()).await;
    assert_eq!(object["type"], "Note", "{object:#}");
    assert_eq!(object["attributedTo"], alpha.actor_url("alice"));
    assert!(has_hashtag(&object, "#learned"), "{object:#}");
    let content = object["content"].as_str().unwrap();
    assert!(
        content.contains("Boxed diesel queries compose"),
        "{content}"
    );
    assert!(content.contains("tags/learned"), "{content}");
    // alice edits it: the peer, which saw it as the community's boost,
    // gets her Update, still of kind `learned`.
    let alice_api = Api::for_user(alpha, "alice", "read write").await;
    alice_api
        .put(
            &format!("/api/v1/statuses/{}", learned.id),
            json!({ "status": "Boxed diesel queries compose, and filter #learned" }),
        )
        .await
        .ok();
    let edited = settled(&[alpha, beta], || async {
        beta.stored_post(learned.ap_id.as_str())
            .await
            .filter(|p| p.content.contains("compose, and filter"))
    })
    .await;
    assert_eq!(edited.narration_kind.as_deref(), Some("learned"));
    let update = peer
        .received_one("Update", |u| u["object"]["id"] == learned.ap_id.as_str())
        .await;
    assert_eq!(update["actor"], alpha.actor_url("alice"));
    assert!(has_hashtag(&update["object"], "#learned"), "{update:#}");
    let content = update["object"]["content"].as_str().unwrap();
    assert!(content.contains("compose, and filter"), "{content}");
    // A second narration, deleted: the peer gets alice's Delete of it
    // (it, too, knew the post only as the community's boost).
    let doomed = narrate(
        alpha,
        "alice",
        group,
        NarrationKind::Doing,
        "Trying sqlx for a day",
    )
    .await;
    arrived(&scene, beta, doomed.ap_id.as_str()).await;
    announced_to_peer(peer, group, doomed.ap_id.as_str()).await;
    alice_api
        .delete(&format!("/api/v1/statuses/{}", doomed.id))
        .await
        .ok();
    alpha.drain_deliveries().await;
    let delete = peer
        .received_one("Delete", |d| d["objectId"] == doomed.ap_id.as_str())
        .await;
    assert_eq!(delete["actor"], alpha.actor_url("alice"));

    // carol posts into the community as a Mastodon user does: the group in
    // `cc` and mentioned, `#stuck` in the text and as a Hashtag.
    let mention = format!(
        "<span class=\"h-card\"><a href=\"{group}\" class=\"u-url mention\">@<span>rust</span></a></span>"
    );
    let stuck_tag = peer.url("/tags/stuck");
    let posted = peer
        .control(
            "post",
            json!({
                "content": format!(
                    "<p>{mention} The migration test hangs on PostgreSQL \
                     <a href=\"{stuck_tag}\" class=\"mention hashtag\" rel=\"tag\">#<span>stuck</span></a></p>"
                ),
                "cc": [group.as_str()],
                "mentions": [{ "href": group.as_str(), "name": format!("@rust@{}", alpha.domain) }],
                "hashtags": [{ "href": stuck_tag, "name": "#stuck" }],
                "recipients": [group.as_str()],
            }),
        )
        .await;
    let stuck_id = posted["id"].as_str().unwrap().to_string();
    let at_alpha = arrived(&scene, alpha, &stuck_id).await;
    assert_eq!(at_alpha.narration_kind.as_deref(), Some("stuck"));
    let group_row = alpha.local("rust").await;
    assert_eq!(
        at_alpha.community_id.as_deref(),
        Some(group_row.id.as_str())
    );
    assert!(
        at_alpha.content.contains("hangs on PostgreSQL"),
        "{}",
        at_alpha.content
    );
    // The leading mention of the community is not kept.
    assert!(
        !at_alpha.content.contains("@<span>rust"),
        "{}",
        at_alpha.content
    );
    // Shared with the members: beta (which fetches it from the peer) and
    // the peer itself (a boost of carol's own Note).
    let at_beta = arrived(&scene, beta, &stuck_id).await;
    assert_eq!(at_beta.narration_kind.as_deref(), Some("stuck"));
    assert!(!at_beta.local);
    let object = announced_to_peer(peer, group, &stuck_id).await;
    assert_eq!(object["attributedTo"], peer.carol());
    assert!(has_hashtag(&object, "#stuck"), "{object:#}");
    // The community's stuck narrations, as beta's bob sees them.
    let bob = Api::for_user(beta, "bob", "read").await;
    let stuck_on_beta = bob.get("/api/v1/timelines/public?kind=stuck").await.ok();
    let uris: Vec<&Value> = stuck_on_beta
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["uri"])
        .collect();
    assert_eq!(uris, [&json!(stuck_id)], "{stuck_on_beta:#}");
    assert_eq!(stuck_on_beta[0]["outloud"]["kind"], "stuck");
}

async fn asks_answered_across_outloud_and_the_peer(backend: Backend) {
    let scene = scene(backend, "learning-asks").await;
    let Scene {
        alpha,
        beta,
        peer,
        group,
    } = &scene;
    let alice_api = Api::for_user(alpha, "alice", "read write").await;
    let bob_api = Api::for_user(beta, "bob", "read write").await;
    let accept = |ask: &Post, answer: &Post| {
        let (api, path, answer_id) = (
            &alice_api,
            format!("/api/v1/outloud/statuses/{}/accept", ask.id),
            answer.id.clone(),
        );
        async move {
            api.post(&path, json!({ "answer_id": answer_id }))
                .await
                .ok()
        }
    };

    // alice asks in the community; beta and the peer get it.
    let ask = narrate(
        alpha,
        "alice",
        group,
        NarrationKind::Ask,
        "Which runtime for tests?",
    )
    .await;
    let ask_at_beta = arrived(&scene, beta, ask.ap_id.as_str()).await;
    assert_eq!(ask_at_beta.narration_kind.as_deref(), Some("ask"));
    let object = announced_to_peer(peer, group, ask.ap_id.as_str()).await;
    assert!(has_hashtag(&object, "#ask"), "{object:#}");
    assert!(!object["content"].as_str().unwrap().contains("Answered"));

    // bob answers from beta; alice accepts his reply (its id on alpha).
    let reply = beta
        .reply("bob", &ask.ap_id.0, "tokio, with a paused clock.")
        .await;
    let reply_at_alpha = arrived(&scene, alpha, reply.ap_id.as_str()).await;
    assert_eq!(
        reply_at_alpha.in_reply_to.as_deref(),
        Some(ask.ap_id.as_str())
    );
    let accepted = accept(&ask, &reply_at_alpha).await;
    assert_eq!(accepted["outloud"]["accepted_answer_id"], reply_at_alpha.id);

    // alpha and beta agree, in the database and through the client API.
    assert_eq!(
        accepted_on(alpha, &ask).await.as_deref(),
        Some(reply_at_alpha.id.as_str())
    );
    let on_beta = settled(&[alpha, beta], || async {
        accepted_on(beta, &ask_at_beta).await
    })
    .await;
    assert_eq!(on_beta, reply.id);
    assert_eq!(
        accepted_through_api(&alice_api, &ask.id).await,
        reply_at_alpha.id.as_str()
    );
    assert_eq!(
        accepted_through_api(&bob_api, &ask_at_beta.id).await,
        reply.id.as_str()
    );
    // The peer, which knows the ask as the community's boost, gets its
    // Update: the Mastodon line links bob's reply.
    let link = reply.url.clone().unwrap_or_else(|| reply.ap_id.to_string());
    let update = peer
        .received_one("Update", |u| u["object"]["id"] == ask.ap_id.as_str())
        .await;
    assert_eq!(update["actor"], alpha.actor_url("alice"));
    assert_eq!(
        update["signedBy"],
        format!("{}#main-key", alpha.actor_url("alice"))
    );
    let content = update["object"]["content"].as_str().unwrap();
    assert!(content.contains("Which runtime for tests?"), "{content}");
    assert!(content.contains(&answered_link(&link)), "{content}");
    assert!(content.contains("tokio, with a paused clock."), "{content}");

    // A second ask, answered by carol from the peer as a Mastodon user
    // replies (to alice, mentioning her).
    let ask2 = narrate(
        alpha,
        "alice",
        group,
        NarrationKind::Ask,
        "How do I share a pool between tests?",
    )
    .await;
    let ask2_at_beta = arrived(&scene, beta, ask2.ap_id.as_str()).await;
    announced_to_peer(peer, group, ask2.ap_id.as_str()).await;
    let alice_url = alpha.actor_url("alice");
    let replied = peer
        .control(
            "post",
            json!({
                "content": format!(
                    "<p><span class=\"h-card\"><a href=\"{alice_url}\" class=\"u-url mention\">@<span>alice</span></a></span> \
                     A OnceLock around the pool.</p>"
                ),
                "inReplyTo": ask2.ap_id.as_str(),
                "cc": [alice_url],
                "mentions": [{ "href": alice_url, "name": format!("@{}", alpha.handle_of("alice")) }],
                "recipients": [alice_url],
            }),
        )
        .await;
    let carol_reply = replied["id"].as_str().unwrap().to_string();
    let carol_at_alpha = arrived(&scene, alpha, &carol_reply).await;
    assert_eq!(
        carol_at_alpha.in_reply_to.as_deref(),
        Some(ask2.ap_id.as_str())
    );
    let accepted = accept(&ask2, &carol_at_alpha).await;
    assert_eq!(accepted["outloud"]["accepted_answer_id"], carol_at_alpha.id);
    assert_eq!(
        accepted_on(alpha, &ask2).await.as_deref(),
        Some(carol_at_alpha.id.as_str())
    );
    // beta agrees on carol's reply, fetching it from the peer if it had
    // not seen it.
    let on_beta = settled(&[alpha, beta], || async {
        accepted_on(beta, &ask2_at_beta).await
    })
    .await;
    let carol_at_beta = beta.stored_post(&carol_reply).await.expect("fetched");
    assert_eq!(on_beta, carol_at_beta.id);
    assert_eq!(
        carol_at_beta.in_reply_to.as_deref(),
        Some(ask2.ap_id.as_str())
    );
    assert_eq!(
        accepted_through_api(&bob_api, &ask2_at_beta.id).await,
        carol_at_beta.id.as_str()
    );
    // The first ask keeps bob's answer.
    assert_eq!(
        accepted_on(beta, &ask_at_beta).await,
        Some(reply.id.clone())
    );
    // The peer gets the Update naming carol's reply.
    let update = peer
        .received_one("Update", |u| u["object"]["id"] == ask2.ap_id.as_str())
        .await;
    let content = update["object"]["content"].as_str().unwrap();
    assert!(content.contains(&answered_link(&carol_reply)), "{content}");
    assert!(content.contains("A OnceLock around the pool."), "{content}");

    // Re-opened on alpha: open on beta, and the peer's next Update of the
    // ask has no "Answered:" line.
    let reopened = alice_api
        .post(
            &format!("/api/v1/outloud/statuses/{}/reopen", ask2.id),
            json!({}),
        )
        .await
        .ok();
    assert_eq!(reopened["outloud"]["accepted_answer_id"], Value::Null);
    assert_eq!(accepted_on(alpha, &ask2).await, None);
    settled(&[alpha, beta], || async {
        accepted_on(beta, &ask2_at_beta)
            .await
            .is_none()
            .then_some(())
    })
    .await;
    assert_eq!(
        accepted_through_api(&bob_api, &ask2_at_beta.id).await,
        Value::Null
    );
    let reopen = peer
        .received_one("Update", |u| {
            u["object"]["id"] == ask2.ap_id.as_str()
                && !u["object"]["content"]
                    .as_str()
                    .unwrap_or_default()
                    .contains("Answered")
        })
        .await;
    assert!(reopen["object"]["content"]
        .as_str()
        .unwrap()
        .contains("How do I share a pool between tests?"));
    let all = updates_of(peer, ask2.ap_id.as_str()).await;
    assert_eq!(all.len(), 2, "{all:#?}");
    assert_eq!(all[1]["id"], reopen["id"], "{all:#?}");
    assert!(all[0]["object"]["content"]
        .as_str()
        .unwrap()
        .contains(&answered_link(&carol_reply)));
    // The first ask's one Update was its acceptance.
    assert_eq!(updates_of(peer, ask.ap_id.as_str()).await.len(), 1);
}
