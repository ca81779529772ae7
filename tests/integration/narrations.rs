//! Narrations between instances: who receives each visibility, who may
//! fetch it, threads, edits, deletions, likes and boosts.

use crate::harness::{both_backends, settle, settled, TestInstance};
use outloud::{
    config::Backend,
    db::{
        follow::FollowState,
        post::{PostKind, Visibility},
        reaction::ReactionKind,
    },
    service::posts::{self, NewPost, PostEdit},
};
use serde_json::{json, Value};

both_backends!(
    each_visibility_reaches_exactly_its_audience,
    threads_edits_and_deletions_propagate,
    likes_and_boosts_round_trip,
    remote_content_is_sanitized_and_origin_checked,
);

/// alpha: alice (follows bob) and carol (does not); beta: bob; gamma: dave.
async fn three_instances(backend: Backend) -> (TestInstance, TestInstance, TestInstance) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    let gamma = TestInstance::spawn("gamma", backend).await;
    alpha.create_user("alice").await;
    alpha.create_user("carol").await;
    beta.create_user("bob").await;
    gamma.create_user("dave").await;
    let bob = beta.handle_of("bob");
    alpha.follow("alice", &bob).await;
    settled(&[&alpha, &beta], || async {
        (alpha.follow_state(&alpha.handle_of("alice"), &bob).await == Some(FollowState::Accepted))
            .then_some(())
    })
    .await;
    (alpha, beta, gamma)
}

fn with_visibility(text: &str, visibility: Visibility) -> NewPost {
    NewPost {
        visibility,
        ..NewPost::note(text)
    }
}

async fn each_visibility_reaches_exactly_its_audience(backend: Backend) {
    let (alpha, beta, gamma) = three_instances(backend).await;
    let dave_handle = gamma.handle_of("dave");
    let public = beta
        .publish(
            "bob",
            with_visibility("Shipping #rust today", Visibility::Public),
        )
        .await;
    let unlisted = beta
        .publish("bob", with_visibility("Quiet note", Visibility::Unlisted))
        .await;
    let followers = beta
        .publish(
            "bob",
            with_visibility("For my followers", Visibility::Followers),
        )
        .await;
    let direct = beta
        .publish(
            "bob",
            with_visibility(&format!("Psst @{dave_handle}"), Visibility::Direct),
        )
        .await;
    let local = beta
        .publish("bob", with_visibility("Internal only", Visibility::Local))
        .await;
    settle(&[&alpha, &beta, &gamma]).await;

    // Who received what: alpha (a follower's server) gets the public,
    // unlisted and followers posts; gamma only the direct one.
    for (post, at_alpha, at_gamma) in [
        (&public, true, false),
        (&unlisted, true, false),
        (&followers, true, false),
        (&direct, false, true),
        (&local, false, false),
    ] {
        let id = post.ap_id.as_str();
        assert_eq!(
            alpha.stored_post(id).await.is_some(),
            at_alpha,
            "alpha, {}",
            post.visibility
        );
        assert_eq!(
            gamma.stored_post(id).await.is_some(),
            at_gamma,
            "gamma, {}",
            post.visibility
        );
    }
    // The received copies keep their visibility.
    let copy = alpha.stored_post(followers.ap_id.as_str()).await.unwrap();
    assert_eq!(copy.visibility(), Visibility::Followers);
    let copy = alpha.stored_post(public.ap_id.as_str()).await.unwrap();
    assert_eq!(copy.visibility(), Visibility::Public);
    assert!(copy.content.contains("tags/rust"), "{}", copy.content);
    let copy = gamma.stored_post(direct.ap_id.as_str()).await.unwrap();
    assert_eq!(copy.visibility(), Visibility::Direct);

    // On alpha, alice (a follower) may see the followers post; carol not.
    let alice = alpha.local("alice").await;
    let carol = alpha.local("carol").await;
    let copy = alpha.stored_post(followers.ap_id.as_str()).await.unwrap();
    assert!(posts::can_see(&alpha.data(), Some(&alice), &copy)
        .await
        .unwrap());
    assert!(!posts::can_see(&alpha.data(), Some(&carol), &copy)
        .await
        .unwrap());
    assert!(!posts::can_see(&alpha.data(), None, &copy).await.unwrap());

    // Fetching from beta, unsigned: only public and unlisted.
    let path = |p: &outloud::db::post::Post| format!("/objects/{}", p.id);
    for (post, status) in [
        (&public, 200),
        (&unlisted, 200),
        (&followers, 404),
        (&direct, 404),
        (&local, 404),
    ] {
        assert_eq!(
            beta.get_ap(&path(post)).await.status(),
            status,
            "unsigned {}",
            post.visibility
        );
    }
    // The Create activities follow the same rules.
    for (post, status) in [
        (&public, 200),
        (&followers, 404),
        (&direct, 404),
        (&local, 404),
    ] {
        let res = beta.get_ap(&format!("/activities/{}", post.id)).await;
        assert_eq!(res.status(), status, "activity of {}", post.visibility);
    }
    // Signed on behalf of an addressee: followers post to alice, direct to
    // dave; never the local post; never to others.
    let dave = gamma.local("dave").await;
    let fetch = |who: &'static str, post: &outloud::db::post::Post| {
        let url = beta.url(&path(post));
        let (alpha, gamma) = (&alpha, &gamma);
        let (alice, carol, dave) = (alice.clone(), carol.clone(), dave.clone());
        async move {
            match who {
                "alice" => alpha.signed_get(&alice, &url).await.status(),
                "carol" => alpha.signed_get(&carol, &url).await.status(),
                _ => gamma.signed_get(&dave, &url).await.status(),
            }
        }
    };
    assert_eq!(fetch("alice", &followers).await, 200);
    assert_eq!(fetch("carol", &followers).await, 404);
    assert_eq!(fetch("dave", &followers).await, 404);
    assert_eq!(fetch("dave", &direct).await, 200);
    assert_eq!(fetch("alice", &direct).await, 404);
    assert_eq!(fetch("alice", &local).await, 404);
    assert_eq!(fetch("dave", &local).await, 404);

    // The outbox lists public and unlisted posts only.
    let outbox: Value = beta.get_ap("/users/bob/outbox").await.json().await.unwrap();
    assert_eq!(outbox["totalItems"], 2);
    let page: Value = beta
        .get_ap("/users/bob/outbox?page=true")
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = page["orderedItems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["object"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec![unlisted.ap_id.as_str(), public.ap_id.as_str()]);
    assert_eq!(page["orderedItems"][0]["type"], "Create");

    // Browsers get the page of public posts, and nothing for the others.
    let res = beta.get_html(&path(&public)).await;
    assert_eq!(res.status(), 303);
    let page = beta.get_html(&format!("/@bob/{}", public.id)).await;
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains("Shipping"));
    assert_eq!(
        beta.get_html(&format!("/@bob/{}", local.id)).await.status(),
        404
    );
    assert_eq!(
        beta.get_html(&format!("/@bob/{}", followers.id))
            .await
            .status(),
        404
    );
}

async fn threads_edits_and_deletions_propagate(backend: Backend) {
    let (alpha, beta, _gamma) = three_instances(backend).await;
    let root = beta
        .publish("bob", NewPost::note("What do you do about flaky tests?"))
        .await;
    settled(&[&alpha, &beta], || async {
        alpha.stored_post(root.ap_id.as_str()).await
    })
    .await;

    // alice replies from alpha; the reply reaches bob (its parent's author).
    let reply = alpha
        .reply(
            "alice",
            &root.ap_id.0,
            "We quarantine them and fix within a week.",
        )
        .await;
    let at_beta = settled(&[&alpha, &beta], || async {
        beta.stored_post(reply.ap_id.as_str()).await
    })
    .await;
    assert_eq!(at_beta.in_reply_to.as_deref(), Some(root.ap_id.as_str()));
    assert_eq!(at_beta.thread.as_deref(), Some(root.ap_id.as_str()));
    let thread = posts::replies(&beta.data(), None, &root).await.unwrap();
    assert_eq!(thread.len(), 1);

    // bob answers the reply: same thread on both sides.
    let answer = beta
        .reply("bob", &reply.ap_id.0, "A week is generous!")
        .await;
    assert_eq!(answer.thread.as_deref(), Some(root.ap_id.as_str()));
    let at_alpha = settled(&[&alpha, &beta], || async {
        alpha.stored_post(answer.ap_id.as_str()).await
    })
    .await;
    assert_eq!(at_alpha.thread.as_deref(), Some(root.ap_id.as_str()));

    // Edits reach alpha.
    let bob = beta.local("bob").await;
    posts::edit(
        &beta.data(),
        &bob,
        &root.id,
        PostEdit {
            narration: None,
            title: None,
            source: "What do you do about **flaky** tests?".into(),
            summary: Some("testing".into()),
            sensitive: false,
            language: None,
        },
    )
    .await
    .unwrap();
    let edited = settled(&[&alpha, &beta], || async {
        alpha
            .stored_post(root.ap_id.as_str())
            .await
            .filter(|p| p.content.contains("<strong>flaky</strong>"))
    })
    .await;
    assert_eq!(edited.summary.as_deref(), Some("testing"));
    assert!(edited.updated.is_some());

    // Nobody but the author may delete a post: bob cannot delete alice's
    // reply, alice can.
    let e = posts::delete(&beta.data(), &bob, &at_beta.id)
        .await
        .unwrap_err();
    assert_eq!(e.kind, outloud::ErrorKind::Forbidden);
    let alice = alpha.local("alice").await;
    posts::delete(&alpha.data(), &alice, &reply.id)
        .await
        .unwrap();
    let gone = settled(&[&alpha, &beta], || async {
        beta.stored_post(reply.ap_id.as_str())
            .await
            .filter(|p| p.is_deleted())
    })
    .await;
    assert!(gone.content.is_empty());

    // Deletion: a tombstone (410) at the origin, a deleted copy at alpha.
    posts::delete(&beta.data(), &bob, &root.id).await.unwrap();
    settled(&[&alpha, &beta], || async {
        alpha
            .stored_post(root.ap_id.as_str())
            .await
            .filter(|p| p.is_deleted())
    })
    .await;
    let res = beta.get_ap(&format!("/objects/{}", root.id)).await;
    assert_eq!(res.status(), 410);
    let tombstone: Value = res.json().await.unwrap();
    assert_eq!(tombstone["type"], "Tombstone");
}

async fn likes_and_boosts_round_trip(backend: Backend) {
    let (alpha, beta, _gamma) = three_instances(backend).await;
    let post = beta
        .publish("bob", NewPost::note("Retro notes are up"))
        .await;
    let copy = settled(&[&alpha, &beta], || async {
        alpha.stored_post(post.ap_id.as_str()).await
    })
    .await;
    let alice = alpha.local("alice").await;

    for kind in [ReactionKind::Like, ReactionKind::Announce] {
        posts::react(&alpha.data(), &alice, &copy, kind)
            .await
            .unwrap();
        // Twice changes nothing.
        posts::react(&alpha.data(), &alice, &copy, kind)
            .await
            .unwrap();
        let counts = settled(&[&alpha, &beta], || async {
            let c = posts::reaction_counts(&beta.data(), &post).await.unwrap();
            let n = if kind == ReactionKind::Like { c.0 } else { c.1 };
            (n == 1).then_some(c)
        })
        .await;
        assert!(counts.0 == 1);
        posts::unreact(&alpha.data(), &alice, &copy, kind)
            .await
            .unwrap();
        settled(&[&alpha, &beta], || async {
            let c = posts::reaction_counts(&beta.data(), &post).await.unwrap();
            let n = if kind == ReactionKind::Like { c.0 } else { c.1 };
            (n == 0).then_some(())
        })
        .await;
        if kind == ReactionKind::Like {
            posts::react(&alpha.data(), &alice, &copy, kind)
                .await
                .unwrap();
        }
    }

    // A followers-only post cannot be boosted.
    let private = beta
        .publish(
            "bob",
            with_visibility("followers only", Visibility::Followers),
        )
        .await;
    let copy = settled(&[&alpha, &beta], || async {
        alpha.stored_post(private.ap_id.as_str()).await
    })
    .await;
    let e = posts::react(&alpha.data(), &alice, &copy, ReactionKind::Announce)
        .await
        .unwrap_err();
    assert_eq!(e.kind, outloud::ErrorKind::Unprocessable);

    // Articles keep their title and Markdown source.
    let article = beta
        .publish(
            "bob",
            NewPost {
                kind: PostKind::Article,
                title: Some("Our migration, part 1".into()),
                ..NewPost::note("# Why\n\nBecause.")
            },
        )
        .await;
    let json: Value = beta
        .get_ap(&format!("/objects/{}", article.id))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(json["type"], "Article");
    assert_eq!(json["name"], "Our migration, part 1");
    assert_eq!(json["source"]["mediaType"], "text/markdown");
    let copy = settled(&[&alpha, &beta], || async {
        alpha.stored_post(article.ap_id.as_str()).await
    })
    .await;
    assert_eq!(copy.title.as_deref(), Some("Our migration, part 1"));
    assert_eq!(copy.kind(), PostKind::Article);
}

async fn remote_content_is_sanitized_and_origin_checked(backend: Backend) {
    let (alpha, beta, gamma) = three_instances(backend).await;
    let bob = beta.local("bob").await;
    let note = |id: String, content: &str| {
        json!({
            "id": id,
            "type": "Note",
            "attributedTo": beta.actor_url("bob"),
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "content": content,
        })
    };
    let create = json!({
        "id": beta.url("/activities/evil-1"),
        "type": "Create",
        "actor": beta.actor_url("bob"),
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": note(
            beta.url("/objects/evil-1"),
            r#"<p onmouseover="steal()">Hi<script>alert(1)</script><a href="javascript:x()">x</a></p>"#,
        ),
    });
    let res = beta.signed_post(&bob, &alpha.url("/inbox"), &create).await;
    assert_eq!(res.status(), 202);
    let stored = alpha
        .stored_post(&beta.url("/objects/evil-1"))
        .await
        .unwrap();
    assert!(stored.content.contains("Hi"));
    for bad in ["script", "onmouseover", "javascript"] {
        assert!(!stored.content.contains(bad), "{}", stored.content);
    }

    // An object on another host than its actor: 400, nothing stored.
    let forged = json!({
        "id": beta.url("/activities/evil-2"),
        "type": "Create",
        "actor": beta.actor_url("bob"),
        "object": note(gamma.url("/objects/evil-2"), "not mine"),
    });
    let res = beta.signed_post(&bob, &alpha.url("/inbox"), &forged).await;
    assert_eq!(res.status(), 400);
    assert!(alpha
        .stored_post(&gamma.url("/objects/evil-2"))
        .await
        .is_none());

    // A Create claiming someone else's authorship: 400.
    beta.create_user("eve").await;
    let mut impostor = note(beta.url("/objects/evil-3"), "I am bob");
    impostor["attributedTo"] = json!(beta.actor_url("eve"));
    let res = beta
        .signed_post(
            &bob,
            &alpha.url("/inbox"),
            &json!({
                "id": beta.url("/activities/evil-3"),
                "type": "Create",
                "actor": beta.actor_url("bob"),
                "object": impostor,
            }),
        )
        .await;
    assert_eq!(res.status(), 400);
}
