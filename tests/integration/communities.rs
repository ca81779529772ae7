//! Communities of practice across instances (FEP-1b12): a community on
//! beta, members on alpha and gamma, posts shared with members, microblog
//! members receiving one boost per top-level post.

use crate::{
    fake_server::FakeServer,
    harness::{both_backends, settle, TestInstance},
};
use outloud::service::moderation;
use outloud::{
    config::Backend,
    db::{community::Posting, follow::FollowState, host_software::HostSoftware},
    service::{
        communities::{self, NewCommunity},
        posts::{self, NewPost},
    },
};
use serde_json::{json, Value};

both_backends!(
    community_actor_and_name_space,
    members_receive_posts_and_replies,
    microblog_members_get_one_boost_per_top_level_post,
    moderation_across_instances,
    mass_mentions_are_refused,
    members_only_communities_show_nothing_to_others,
    remote_moderation_activities_and_forgeries,
    directory_and_subscriptions,
    joining_a_lemmy_community,
);

async fn create_rust(beta: &TestInstance, posting: Posting) {
    let bob = beta.local("bob").await;
    communities::create(
        &beta.context.db,
        &beta.context.urls,
        NewCommunity {
            name: "rust",
            owner: &bob,
            display_name: Some("Rust practitioners".into()),
            summary: Some("Learning **Rust** together.".into()),
            approval: false,
            members_only: false,
            posting,
            icon: Some("https://cdn.example/rust.png".into()),
        },
    )
    .await
    .unwrap();
}

async fn community_actor_and_name_space(backend: Backend) {
    let beta = TestInstance::spawn("beta", backend).await;
    beta.create_user("bob").await;
    create_rust(&beta, Posting::Members).await;

    let res = beta.get_ap("/communities/rust").await;
    assert_eq!(res.status(), 200);
    let group: Value = res.json().await.unwrap();
    assert_eq!(group["type"], "Group");
    assert_eq!(group["preferredUsername"], "rust");
    assert_eq!(group["name"], "Rust practitioners");
    assert!(group["summary"]
        .as_str()
        .unwrap()
        .contains("<strong>Rust</strong>"));
    assert_eq!(group["source"]["content"], "Learning **Rust** together.");
    assert_eq!(
        group["attributedTo"],
        beta.url("/communities/rust/moderators")
    );
    assert_eq!(group["featured"], beta.url("/communities/rust/featured"));
    assert_eq!(group["followers"], beta.url("/communities/rust/followers"));
    assert_eq!(group["inbox"], beta.url("/communities/rust/inbox"));
    assert_eq!(group["endpoints"]["sharedInbox"], beta.url("/inbox"));
    assert_eq!(group["manuallyApprovesFollowers"], false);
    assert!(group["publicKey"]["publicKeyPem"].is_string());
    assert_eq!(group["icon"]["type"], "Image");
    assert_eq!(group["icon"]["url"], "https://cdn.example/rust.png");

    let mods: Value = beta
        .get_ap("/communities/rust/moderators")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        mods["orderedItems"],
        serde_json::json!([beta.actor_url("bob")])
    );
    let res = beta.webfinger(&format!("acct:rust@{}", beta.domain)).await;
    assert_eq!(res.status(), 200);
    let jrd: Value = res.json().await.unwrap();
    let href = jrd["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "self")
        .unwrap()["href"]
        .clone();
    assert_eq!(href, beta.url("/communities/rust"));
    assert_eq!(beta.get_html("/communities/rust").await.status(), 303);
    assert_eq!(beta.get_html("/c/rust").await.status(), 200);

    // People and communities share one name space.
    let bob = beta.local("bob").await;
    let taken = communities::create(
        &beta.context.db,
        &beta.context.urls,
        NewCommunity {
            name: "bob",
            owner: &bob,
            display_name: None,
            summary: None,
            approval: false,
            members_only: false,
            posting: Posting::Members,
            icon: None,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(taken.kind, outloud::ErrorKind::Conflict);
    let taken = outloud::service::accounts::create_user(
        &beta.context.db,
        &beta.context.urls,
        outloud::service::accounts::NewUser {
            name: "rust",
            password: "long enough password",
            role: outloud::db::local_user::Role::User,
        },
    )
    .await
    .unwrap_err();
    assert_eq!(taken.kind, outloud::ErrorKind::Conflict);
}

/// beta hosts `rust` (owner bob); alice@alpha and carol@gamma join.
async fn community_with_members(backend: Backend) -> (TestInstance, TestInstance, TestInstance) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    let gamma = TestInstance::spawn("gamma", backend).await;
    alpha.create_user("alice").await;
    beta.create_user("bob").await;
    gamma.create_user("carol").await;
    gamma.create_user("dave").await;
    create_rust(&beta, Posting::Members).await;
    let rust = format!("rust@{}", beta.domain);
    alpha.follow("alice", &rust).await;
    gamma.follow("carol", &rust).await;
    settle(&[&alpha, &beta, &gamma]).await;
    assert_eq!(
        alpha.follow_state(&alpha.handle_of("alice"), &rust).await,
        Some(FollowState::Accepted)
    );
    assert_eq!(
        gamma.follow_state(&gamma.handle_of("carol"), &rust).await,
        Some(FollowState::Accepted)
    );
    (alpha, beta, gamma)
}

async fn members_receive_posts_and_replies(backend: Backend) {
    let (alpha, beta, gamma) = community_with_members(backend).await;
    let all = [&alpha, &beta, &gamma];
    let members: Value = beta
        .get_ap("/communities/rust/followers")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(members["totalItems"], 2);

    // alice posts by mentioning the community, as a Mastodon user would.
    let question = alpha
        .publish(
            "alice",
            NewPost::note(&format!(
                "@rust@{} How do you test async code?",
                beta.domain
            )),
        )
        .await;
    settle(&all).await;
    let at_beta = beta.stored_post(question.ap_id.as_str()).await.unwrap();
    let group = beta.local("rust").await;
    assert_eq!(at_beta.community_id.as_deref(), Some(group.id.as_str()));
    assert!(
        at_beta.content.starts_with("<p>How do you test"),
        "leading mention stripped: {}",
        at_beta.content
    );
    // carol, a member on gamma, received it through the community.
    let at_gamma = gamma.stored_post(question.ap_id.as_str()).await.unwrap();
    let group_at_gamma = gamma.resolve(&beta.url("/communities/rust")).await;
    assert_eq!(
        at_gamma.community_id.as_deref(),
        Some(group_at_gamma.id.as_str())
    );

    // carol replies; the reply stays in the community and reaches alice.
    let reply = gamma
        .reply(
            "carol",
            &question.ap_id.0,
            "With tokio::test and a paused clock.",
        )
        .await;
    settle(&all).await;
    let at_alpha = alpha.stored_post(reply.ap_id.as_str()).await.unwrap();
    assert_eq!(
        at_alpha.in_reply_to.as_deref(),
        Some(question.ap_id.as_str())
    );
    let at_beta = beta.stored_post(reply.ap_id.as_str()).await.unwrap();
    assert_eq!(at_beta.community_id.as_deref(), Some(group.id.as_str()));

    // carol likes the question: the community hears of it too.
    let carol = gamma.local("carol").await;
    let question_at_gamma = gamma.stored_post(question.ap_id.as_str()).await.unwrap();
    posts::react(
        &gamma.data(),
        &carol,
        &question_at_gamma,
        outloud::db::reaction::ReactionKind::Like,
    )
    .await
    .unwrap();
    settle(&all).await;
    let question_at_beta = beta.stored_post(question.ap_id.as_str()).await.unwrap();
    let (likes, _) = posts::reaction_counts(&beta.data(), &question_at_beta)
        .await
        .unwrap();
    assert_eq!(likes, 1);

    // bob answers on beta: gamma, addressed by nobody, still receives it
    // through the community (gamma runs Outloud, a group-aware server).
    let answer = beta
        .reply(
            "bob",
            &question_at_beta.ap_id.0,
            "Same here, plus proptest.",
        )
        .await;
    settle(&all).await;
    let answer_at_gamma = gamma.stored_post(answer.ap_id.as_str()).await.unwrap();
    assert_eq!(
        answer_at_gamma.in_reply_to.as_deref(),
        Some(question.ap_id.as_str())
    );

    // alice edits, then deletes, her question: both reach carol on gamma
    // through the community.
    let alice = alpha.local("alice").await;
    posts::edit(
        &alpha.data(),
        &alice,
        &question.id,
        posts::PostEdit {
            narration: None,
            title: None,
            source: format!("@rust@{} How do you test async code? (edited)", beta.domain),
            summary: None,
            sensitive: false,
            language: None,
        },
    )
    .await
    .unwrap();
    settle(&all).await;
    let edited = gamma.stored_post(question.ap_id.as_str()).await.unwrap();
    assert!(edited.content.contains("(edited)"), "{}", edited.content);
    posts::delete(&alpha.data(), &alice, &question.id)
        .await
        .unwrap();
    settle(&all).await;
    assert!(gamma
        .stored_post(question.ap_id.as_str())
        .await
        .unwrap()
        .is_deleted());

    // dave on gamma is no member: his post is refused and not shared.
    let spam = gamma
        .publish(
            "dave",
            NewPost::note(&format!("@rust@{} buy my course", beta.domain)),
        )
        .await;
    settle(&all).await;
    let at_beta = beta.stored_post(spam.ap_id.as_str()).await.unwrap();
    assert_eq!(at_beta.community_id, None);
    assert!(alpha.stored_post(spam.ap_id.as_str()).await.is_none());

    // The community's outbox lists what it shared.
    let outbox: Value = beta
        .get_ap("/communities/rust/outbox")
        .await
        .json()
        .await
        .unwrap();
    let shared: Vec<&str> = outbox["orderedItems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["object"].as_str().unwrap())
        .collect();
    assert!(shared.contains(&answer.ap_id.as_str()));
    assert!(
        !shared.contains(&question.ap_id.as_str()),
        "deleted posts leave the outbox"
    );
    assert!(!shared.contains(&spam.ap_id.as_str()));
}

async fn microblog_members_get_one_boost_per_top_level_post(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    let all = [&alpha, &beta];
    alpha.create_user("alice").await;
    beta.create_user("bob").await;
    create_rust(&beta, Posting::Members).await;
    alpha
        .follow("alice", &format!("rust@{}", beta.domain))
        .await;
    // mo joins from a server whose NodeInfo says Mastodon.
    let peer = FakeServer::start("delta", "mastodon").await;
    let mo = peer.actor("/users/mo", "Person", "mo", json!({}));
    let follow = json!({
        "id": peer.url("/follows/1"),
        "type": "Follow",
        "actor": mo.id,
        "object": beta.url("/communities/rust"),
    });
    assert_eq!(
        peer.send(&mo, &beta.url("/communities/rust/inbox"), &follow)
            .await,
        202
    );
    settle(&all).await;
    assert_eq!(peer.received("Accept").len(), 1);

    let first = alpha
        .publish(
            "alice",
            NewPost::note(&format!("@rust@{} Borrow checker tip", beta.domain)),
        )
        .await;
    settle(&all).await;
    // One Announce of the post itself: a boost, as Mastodon shows it.
    let boosts = peer.received("Announce");
    assert_eq!(boosts.len(), 1, "{boosts:?}");
    assert_eq!(boosts[0]["object"], first.ap_id.as_str());
    assert_eq!(boosts[0]["actor"], beta.url("/communities/rust"));
    assert_eq!(
        boosts[0]["to"][0],
        "https://www.w3.org/ns/activitystreams#Public"
    );
    // beta found out by NodeInfo what each member's server runs.
    for (domain, software) in [(&peer.domain, "mastodon"), (&alpha.domain, "outloud")] {
        let domain = domain.clone();
        let found = beta
            .context
            .db
            .run(move |conn| Ok(HostSoftware::by_domain(conn, &domain)?))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.software, software);
    }

    // A reply in the community reaches alpha (group-aware), not mo.
    let first_at_beta = beta.stored_post(first.ap_id.as_str()).await.unwrap();
    let reply = beta
        .reply(
            "bob",
            &first_at_beta.ap_id.0,
            "Thanks, adding it to our notes.",
        )
        .await;
    settle(&all).await;
    assert!(alpha.stored_post(reply.ap_id.as_str()).await.is_some());
    assert_eq!(peer.received("Announce").len(), 1);

    // The next top-level post is one more boost.
    let second = alpha
        .publish(
            "alice",
            NewPost::note(&format!("@rust@{} Another tip", beta.domain)),
        )
        .await;
    settle(&all).await;
    let boosts = peer.received("Announce");
    assert_eq!(boosts.len(), 2);
    assert_eq!(boosts[1]["object"], second.ap_id.as_str());
}

async fn moderation_across_instances(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    let gamma = TestInstance::spawn("gamma", backend).await;
    let all = [&alpha, &beta, &gamma];
    alpha.create_user("alice").await;
    let bob = beta.create_user("bob").await;
    gamma.create_user("carol").await;
    gamma.create_user("dave").await;
    create_community(&beta, "rust", &bob, true, false, Posting::Members).await;
    let group = beta.local("rust").await;
    let rust = format!("rust@{}", beta.domain);

    // Joining needs approval.
    alpha.follow("alice", &rust).await;
    gamma.follow("carol", &rust).await;
    settle(&all).await;
    let pending = moderation::pending_members(&beta.data(), &group)
        .await
        .unwrap();
    assert_eq!(pending.len(), 2);
    let alice_at_beta = beta.resolve(&alpha.handle_of("alice")).await;
    let carol_at_beta = beta.resolve(&gamma.handle_of("carol")).await;
    for member in [&alice_at_beta, &carol_at_beta] {
        moderation::decide_join(&beta.data(), &bob, &group, member, true)
            .await
            .unwrap();
    }
    settle(&all).await;
    assert_eq!(
        alpha.follow_state(&alpha.handle_of("alice"), &rust).await,
        Some(FollowState::Accepted)
    );

    // carol (on gamma) becomes a moderator; dave (gamma) is nobody.
    moderation::set_moderator(&beta.data(), &bob, &group, &carol_at_beta, true)
        .await
        .unwrap();
    let mods: Value = beta
        .get_ap("/communities/rust/moderators")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(mods["totalItems"], 2);

    let post = alpha
        .publish("alice", NewPost::note(&format!("@{rust} first question")))
        .await;
    settle(&all).await;
    assert!(gamma.stored_post(post.ap_id.as_str()).await.is_some());

    // Pinning shows in `featured`.
    let at_beta = beta.stored_post(post.ap_id.as_str()).await.unwrap();
    moderation::pin(&beta.data(), &bob, &group, &at_beta, true)
        .await
        .unwrap();
    let featured: Value = beta
        .get_ap("/communities/rust/featured")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(featured["orderedItems"][0]["id"], post.ap_id.as_str());
    moderation::pin(&beta.data(), &bob, &group, &at_beta, false)
        .await
        .unwrap();
    let featured: Value = beta
        .get_ap("/communities/rust/featured")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(featured["totalItems"], 0);

    // dave, not a moderator, cannot remove it; nothing changes.
    let group_at_gamma = gamma.resolve(&beta.url("/communities/rust")).await;
    let dave = gamma.local("dave").await;
    moderation::request_removal(&gamma.data(), &dave, &group_at_gamma, &post.ap_id.0)
        .await
        .unwrap();
    settle(&all).await;
    assert!(!beta
        .stored_post(post.ap_id.as_str())
        .await
        .unwrap()
        .is_deleted());

    // carol, a remote moderator, can.
    let carol = gamma.local("carol").await;
    moderation::request_removal(&gamma.data(), &carol, &group_at_gamma, &post.ap_id.0)
        .await
        .unwrap();
    settle(&all).await;
    assert!(beta
        .stored_post(post.ap_id.as_str())
        .await
        .unwrap()
        .is_deleted());
    // The removal was announced: gamma's copy goes, alice's original leaves
    // the community but stays hers.
    assert!(gamma
        .stored_post(post.ap_id.as_str())
        .await
        .unwrap()
        .is_deleted());
    let original = alpha.stored_post(post.ap_id.as_str()).await.unwrap();
    assert!(!original.is_deleted());
    assert_eq!(original.community_id, None);

    // A ban ends membership and refuses later posts; unban lifts it.
    moderation::ban(
        &beta.data(),
        &bob,
        &group,
        &alice_at_beta,
        Some("spam".into()),
    )
    .await
    .unwrap();
    assert!(moderation::is_banned(&beta.data(), &group, &alice_at_beta)
        .await
        .unwrap());
    let members: Value = beta
        .get_ap("/communities/rust/followers")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(members["totalItems"], 1);
    let banned_post = alpha
        .publish("alice", NewPost::note(&format!("@{rust} still here")))
        .await;
    settle(&all).await;
    assert_eq!(
        beta.stored_post(banned_post.ap_id.as_str())
            .await
            .unwrap()
            .community_id,
        None
    );
    assert!(gamma
        .stored_post(banned_post.ap_id.as_str())
        .await
        .is_none());
    moderation::unban(&beta.data(), &bob, &group, &alice_at_beta)
        .await
        .unwrap();
    assert!(!moderation::is_banned(&beta.data(), &group, &alice_at_beta)
        .await
        .unwrap());

    // Only moderators moderate, and everything is in the log.
    let e = moderation::ban(&beta.data(), &alice_at_beta, &group, &carol_at_beta, None)
        .await
        .unwrap_err();
    assert_eq!(e.kind, outloud::ErrorKind::Forbidden);
    let log = moderation::log_of(&beta.data(), &group, 50).await.unwrap();
    let actions: Vec<&str> = log.iter().rev().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        vec![
            "approve",
            "approve",
            "add_moderator",
            "pin",
            "unpin",
            "remove",
            "ban",
            "unban"
        ]
    );
    let carol_id = carol_at_beta.id.clone();
    assert_eq!(
        log.iter()
            .find(|e| e.action == "remove")
            .unwrap()
            .moderator_id,
        carol_id
    );
}

async fn mass_mentions_are_refused(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    let alice = alpha.create_user("alice").await;
    let bob = beta.create_user("bob").await;
    let mut names = Vec::new();
    for i in 0..6 {
        let name = format!("topic{i}");
        create_community(&beta, &name, &bob, false, false, Posting::Anyone).await;
        names.push(beta.url(&format!("/communities/{name}")));
    }
    let create = |id: &str, to: &[String]| {
        json!({
            "id": alpha.url(&format!("/activities/{id}")),
            "type": "Create",
            "actor": alpha.actor_url("alice"),
            "to": to,
            "object": {
                "id": alpha.url(&format!("/objects/{id}")),
                "type": "Note",
                "attributedTo": alpha.actor_url("alice"),
                "to": to,
                "content": "<p>buy now</p>",
            },
        })
    };
    let res = alpha
        .signed_post(&alice, &beta.url("/inbox"), &create("spam", &names))
        .await;
    assert_eq!(res.status(), 400);
    assert!(beta
        .stored_post(&alpha.url("/objects/spam"))
        .await
        .is_none());
    // Within the limit it is fine (posting is open to anyone here).
    let res = alpha
        .signed_post(&alice, &beta.url("/inbox"), &create("ok", &names[..2]))
        .await;
    assert_eq!(res.status(), 202);
}

async fn members_only_communities_show_nothing_to_others(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    let gamma = TestInstance::spawn("gamma", backend).await;
    let all = [&alpha, &beta, &gamma];
    alpha.create_user("alice").await;
    alpha.create_user("carol").await;
    let bob = beta.create_user("bob").await;
    let dave = gamma.create_user("dave").await;
    create_community(&beta, "inner", &bob, false, true, Posting::Members).await;
    let group = beta.local("inner").await;
    let doc: Value = beta
        .get_ap("/communities/inner")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        doc["manuallyApprovesFollowers"], true,
        "members-only implies approval"
    );

    alpha
        .follow("alice", &format!("inner@{}", beta.domain))
        .await;
    settle(&all).await;
    let alice_at_beta = beta.resolve(&alpha.handle_of("alice")).await;
    moderation::decide_join(&beta.data(), &bob, &group, &alice_at_beta, true)
        .await
        .unwrap();
    settle(&all).await;

    let post = beta
        .publish(
            "bob",
            NewPost {
                community: Some(group.ap_id.0.clone()),
                ..NewPost::note("Internal retro notes")
            },
        )
        .await;
    assert!(!post.visibility().is_public());
    settle(&all).await;

    // The member's server got it, and only the member sees it there.
    let copy = alpha.stored_post(post.ap_id.as_str()).await.unwrap();
    let alice = alpha.local("alice").await;
    let carol = alpha.local("carol").await;
    assert!(posts::can_see(&alpha.data(), Some(&alice), &copy)
        .await
        .unwrap());
    assert!(!posts::can_see(&alpha.data(), Some(&carol), &copy)
        .await
        .unwrap());

    // Non-members see nothing, through any path.
    let object = format!("/objects/{}", post.id);
    assert_eq!(beta.get_ap(&object).await.status(), 404);
    assert_eq!(
        gamma.signed_get(&dave, &beta.url(&object)).await.status(),
        404
    );
    assert!(posts::find(&gamma.data(), &post.ap_id.0).await.is_err());
    assert!(gamma.stored_post(post.ap_id.as_str()).await.is_none());
    assert_eq!(
        beta.get_html(&format!("/@bob/{}", post.id)).await.status(),
        404
    );
    assert_eq!(
        beta.get_ap(&format!("/activities/{}", post.id))
            .await
            .status(),
        404
    );
    for path in ["/communities/inner/outbox", "/communities/inner/featured"] {
        assert_eq!(beta.get_ap(path).await.status(), 404, "{path}");
        assert_eq!(
            gamma.signed_get(&dave, &beta.url(path)).await.status(),
            404,
            "{path}"
        );
    }
    assert_eq!(
        beta.get_ap("/communities/inner/followers?page=1")
            .await
            .status(),
        403
    );
    let members: Value = beta
        .get_ap("/communities/inner/followers")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(members["totalItems"], 1);

    // Members do see the community's outbox.
    let res = alpha
        .signed_get(&alice, &beta.url("/communities/inner/outbox"))
        .await;
    assert_eq!(res.status(), 200);
    let outbox: Value = res.json().await.unwrap();
    assert_eq!(outbox["orderedItems"][0]["object"], post.ap_id.as_str());
}

async fn remote_moderation_activities_and_forgeries(backend: Backend) {
    let (alpha, beta, gamma) = community_with_members(backend).await;
    let all = [&alpha, &beta, &gamma];
    let bob = beta.local("bob").await;
    let group = beta.local("rust").await;
    let carol_at_beta = beta.resolve(&gamma.handle_of("carol")).await;
    moderation::set_moderator(&beta.data(), &bob, &group, &carol_at_beta, true)
        .await
        .unwrap();
    let carol = gamma.local("carol").await;
    let dave = gamma.local("dave").await;
    let post = alpha
        .publish(
            "alice",
            NewPost::note(&format!("@rust@{} pin me", beta.domain)),
        )
        .await;
    settle(&all).await;
    let inbox = beta.url("/communities/rust/inbox");

    // dave is no moderator: his Block and Add are refused with 403.
    let block = |by: &str, n: u32| {
        json!({
            "id": gamma.url(&format!("/activities/block-{n}")),
            "type": "Block",
            "actor": gamma.actor_url(by),
            "object": alpha.actor_url("alice"),
            "target": beta.url("/communities/rust"),
        })
    };
    assert_eq!(
        gamma
            .signed_post(&dave, &inbox, &block("dave", 1))
            .await
            .status(),
        403
    );
    let pin = |by: &str, n: u32| {
        json!({
            "id": gamma.url(&format!("/activities/pin-{n}")),
            "type": "Add",
            "actor": gamma.actor_url(by),
            "object": post.ap_id.as_str(),
            "target": beta.url("/communities/rust/featured"),
        })
    };
    assert_eq!(
        gamma
            .signed_post(&dave, &inbox, &pin("dave", 1))
            .await
            .status(),
        403
    );

    // carol is: her pin and ban take effect, and Undo(Block) lifts it.
    assert_eq!(
        gamma
            .signed_post(&carol, &inbox, &pin("carol", 2))
            .await
            .status(),
        202
    );
    let featured: Value = beta
        .get_ap("/communities/rust/featured")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(featured["totalItems"], 1);
    let ban = block("carol", 3);
    assert_eq!(gamma.signed_post(&carol, &inbox, &ban).await.status(), 202);
    let alice_at_beta = beta.resolve(&alpha.handle_of("alice")).await;
    assert!(moderation::is_banned(&beta.data(), &group, &alice_at_beta)
        .await
        .unwrap());
    let undo = json!({
        "id": gamma.url("/activities/unblock-3"),
        "type": "Undo",
        "actor": gamma.actor_url("carol"),
        "object": ban,
    });
    assert_eq!(gamma.signed_post(&carol, &inbox, &undo).await.status(), 202);
    assert!(!moderation::is_banned(&beta.data(), &group, &alice_at_beta)
        .await
        .unwrap());

    // An Announce claiming to come from the community but signed by
    // someone else's key: 401, nothing stored.
    let forged = json!({
        "id": beta.url("/activities/forged-announce"),
        "type": "Announce",
        "actor": beta.url("/communities/rust"),
        "object": alpha.url("/objects/does-not-matter"),
    });
    let res = beta.signed_post(&bob, &alpha.url("/inbox"), &forged).await;
    assert_eq!(res.status(), 401);

    // A community that does not exist has no inbox.
    let res = gamma
        .signed_post(
            &carol,
            &beta.url("/communities/nosuch/inbox"),
            &pin("carol", 4),
        )
        .await;
    assert_eq!(res.status(), 404);
}

async fn directory_and_subscriptions(backend: Backend) {
    let (alpha, beta, _gamma) = community_with_members(backend).await;
    let bob = beta.local("bob").await;
    create_community(&beta, "secret", &bob, false, true, Posting::Members).await;
    let listed = communities::directory(&beta.context.db, None)
        .await
        .unwrap();
    let names: Vec<&str> = listed.iter().map(|e| e.actor.username.as_str()).collect();
    assert_eq!(
        names,
        vec!["rust"],
        "members-only communities are not listed"
    );
    assert_eq!(listed[0].members, 2);
    let found = communities::directory(&beta.context.db, Some("RUST together"))
        .await
        .unwrap();
    assert_eq!(found.len(), 1);
    assert!(communities::directory(&beta.context.db, Some("cooking"))
        .await
        .unwrap()
        .is_empty());

    // alpha knows beta's community too, and alice's subscriptions show it.
    let known = communities::directory(&alpha.context.db, Some("rust"))
        .await
        .unwrap();
    assert_eq!(known.len(), 1);
    assert!(!known[0].actor.local);
    let alice = alpha.local("alice").await;
    let subscriptions = communities::subscriptions(&alpha.context.db, &alice)
        .await
        .unwrap();
    assert_eq!(subscriptions.len(), 1);
    assert_eq!(
        subscriptions[0].ap_id.as_str(),
        beta.url("/communities/rust")
    );

    // NodeInfo counts local communities.
    let info: Value = beta.get("/nodeinfo/2.1").await.json().await.unwrap();
    assert_eq!(info["metadata"]["communities"], 2);
}

/// A community on a server that says it runs Lemmy: alice joins it from
/// alpha, and what it shares (an Announce wrapping a Create of a Page, as
/// Lemmy sends it) reaches her, fetched from its origin.
async fn joining_a_lemmy_community(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    alpha.create_user("alice").await;
    let lemmy = FakeServer::start("lemmy", "lemmy").await;
    let group = lemmy.actor(
        "/c/rust",
        "Group",
        "rust",
        json!({"name": "Rust", "summary": "<p>Lemmy's Rust community</p>"}),
    );
    let author = lemmy.actor("/u/ferris", "Person", "ferris", json!({}));
    // Lemmy's WebFinger answers for the community.
    lemmy.put(
        "/.well-known/webfinger",
        json!({
            "subject": format!("acct:rust@{}", lemmy.domain),
            "links": [{"rel": "self", "type": "application/activity+json", "href": group.id}],
        }),
    );

    // alice joins by following; Lemmy accepts.
    alpha.follow("alice", &group.id).await;
    alpha.drain_deliveries().await;
    let follows = lemmy.received("Follow");
    assert_eq!(follows.len(), 1);
    assert_eq!(follows[0]["object"], group.id.as_str());
    let accept = json!({
        "id": lemmy.url("/activities/accept/1"),
        "type": "Accept",
        "actor": group.id,
        "object": follows[0],
    });
    assert_eq!(lemmy.send(&group, &alpha.url("/inbox"), &accept).await, 202);
    let alice = alpha.local("alice").await;
    let joined = communities::subscriptions(&alpha.context.db, &alice)
        .await
        .unwrap();
    assert_eq!(joined.len(), 1);
    assert_eq!(joined[0].ap_id.as_str(), group.id);

    // Lemmy shares a post: Announce(Create(Page)) from the community.
    let page = json!({
        "id": lemmy.url("/post/1"),
        "type": "Page",
        "attributedTo": author.id,
        "to": [group.id, "https://www.w3.org/ns/activitystreams#Public"],
        "audience": group.id,
        "name": "Async traits are stable",
        "content": "<p>Finally.</p>",
        "published": "2026-11-29T08:00:00Z",
    });
    lemmy.put("/post/1", page.clone());
    let announce = json!({
        "id": lemmy.url("/activities/announce/1"),
        "type": "Announce",
        "actor": group.id,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": [format!("{}/followers", group.id)],
        "object": {
            "id": lemmy.url("/activities/create/1"),
            "type": "Create",
            "actor": author.id,
            "to": [group.id, "https://www.w3.org/ns/activitystreams#Public"],
            "object": page,
        },
    });
    assert_eq!(
        lemmy.send(&group, &alpha.url("/inbox"), &announce).await,
        202
    );
    let stored = alpha.stored_post(&lemmy.url("/post/1")).await.unwrap();
    assert_eq!(stored.kind(), outloud::db::post::PostKind::Page);
    assert_eq!(stored.title.as_deref(), Some("Async traits are stable"));
    let group_here = alpha.resolve(&group.id).await;
    assert_eq!(stored.community_id.as_deref(), Some(group_here.id.as_str()));
    assert!(posts::can_see(&alpha.data(), Some(&alice), &stored)
        .await
        .unwrap());

    // Leaving is Undo(Follow).
    alpha.unfollow("alice", &group.id).await;
    alpha.drain_deliveries().await;
    assert_eq!(lemmy.received("Undo").len(), 1);
}

/// `owner` creates a community on `instance`; no display name, summary or
/// icon.
pub async fn create_community(
    instance: &TestInstance,
    name: &str,
    owner: &outloud::db::actor::Actor,
    approval: bool,
    members_only: bool,
    posting: Posting,
) {
    communities::create(
        &instance.context.db,
        &instance.context.urls,
        NewCommunity {
            name,
            owner,
            display_name: None,
            summary: None,
            approval,
            members_only,
            posting,
            icon: None,
        },
    )
    .await
    .unwrap();
}
