//! Communities of practice across instances (FEP-1b12): a community on
//! beta, members on alpha and gamma, posts shared with members, microblog
//! members receiving one boost per top-level post.

use crate::harness::{both_backends, settle, TestInstance};
use outloud::{
    config::Backend,
    db::{community::Posting, follow::FollowState, host_software::HostSoftware},
    service::{
        communities::{self, NewCommunity},
        posts::{self, NewPost},
    },
};
use serde_json::Value;

both_backends!(
    community_actor_and_name_space,
    members_receive_posts_and_replies,
    microblog_members_get_one_boost_per_top_level_post,
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
        .publish(
            "carol",
            NewPost {
                in_reply_to: Some(question.ap_id.0.clone()),
                ..NewPost::note("With tokio::test and a paused clock.")
            },
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

    // bob answers on beta: gamma, addressed by nobody, still receives it
    // through the community (gamma runs Outloud, a group-aware server).
    let question_at_beta = beta.stored_post(question.ap_id.as_str()).await.unwrap();
    let answer = beta
        .publish(
            "bob",
            NewPost {
                in_reply_to: Some(question_at_beta.ap_id.0.clone()),
                ..NewPost::note("Same here, plus proptest.")
            },
        )
        .await;
    settle(&all).await;
    let answer_at_gamma = gamma.stored_post(answer.ap_id.as_str()).await.unwrap();
    assert_eq!(
        answer_at_gamma.in_reply_to.as_deref(),
        Some(question.ap_id.as_str())
    );

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
    assert!(shared.contains(&question.ap_id.as_str()));
    assert!(!shared.contains(&spam.ap_id.as_str()));
}

async fn microblog_members_get_one_boost_per_top_level_post(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    let gamma = TestInstance::spawn("gamma", backend).await;
    let all = [&alpha, &beta, &gamma];
    alpha.create_user("alice").await;
    beta.create_user("bob").await;
    gamma.create_user("carol").await;
    create_rust(&beta, Posting::Members).await;
    // beta believes gamma runs Mastodon (as NodeInfo would say of one).
    let gamma_domain = gamma.domain.clone();
    beta.context
        .db
        .run(move |conn| Ok(HostSoftware::set(conn, &gamma_domain, "mastodon")?))
        .await
        .unwrap();
    let rust = format!("rust@{}", beta.domain);
    alpha.follow("alice", &rust).await;
    gamma.follow("carol", &rust).await;
    settle(&all).await;

    let post = alpha
        .publish(
            "alice",
            NewPost::note(&format!("@rust@{} Borrow checker tip", beta.domain)),
        )
        .await;
    settle(&all).await;
    // gamma got the post as a boost by the community.
    let at_gamma = gamma.stored_post(post.ap_id.as_str()).await.unwrap();
    let (_, boosts) = posts::reaction_counts(&gamma.data(), &at_gamma)
        .await
        .unwrap();
    assert_eq!(boosts, 1);
    // beta found out by NodeInfo that alpha runs Outloud.
    let alpha_domain = alpha.domain.clone();
    let software = beta
        .context
        .db
        .run(move |conn| Ok(HostSoftware::by_domain(conn, &alpha_domain)?))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(software.software, "outloud");

    // A reply in the community reaches alpha (group-aware) but not gamma.
    let post_at_beta = beta.stored_post(post.ap_id.as_str()).await.unwrap();
    let reply = beta
        .publish(
            "bob",
            NewPost {
                in_reply_to: Some(post_at_beta.ap_id.0.clone()),
                ..NewPost::note("Thanks, adding it to our notes.")
            },
        )
        .await;
    settle(&all).await;
    assert!(alpha.stored_post(reply.ap_id.as_str()).await.is_some());
    assert!(gamma.stored_post(reply.ap_id.as_str()).await.is_none());
}
