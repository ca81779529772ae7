//! Account migration (Mastodon's `alsoKnownAs` and `Move`): between two
//! Outloud instances, on one instance, refusals both ways, and with the
//! Fedify peer (`tests/peer/peer.mjs`) in both directions.

use crate::{
    api_client::Api,
    browser::Browser,
    foreign_peer::{alpha_and_peer, carol_follows_alice},
    harness::{both_backends, settle, settled, TestInstance},
    partners::sign_in,
    suspension::{failure, outloud, success},
    web_narrations::WebClient,
};
use outloud::{config::Backend, db::follow::FollowState, ErrorKind};
use reqwest::StatusCode;
use serde_json::{json, Value};

both_backends!(
    moving_between_two_instances,
    refused_moves_change_nothing,
    moving_on_one_instance_to_a_locked_account,
    moving_to_and_from_the_foreign_peer,
    the_moving_page_in_a_browser,
);

/// Waits until `follower` follows `followee` (accepted) as `on` records it.
async fn follows(instances: &[&TestInstance], on: &TestInstance, follower: &str, followee: &str) {
    settled(instances, || async {
        (on.follow_state(follower, followee).await == Some(FollowState::Accepted)).then_some(())
    })
    .await;
}

/// Waits until `on` records no follow of `followee` by `follower`.
async fn no_longer_follows(
    instances: &[&TestInstance],
    on: &TestInstance,
    follower: &str,
    followee: &str,
) {
    settled(instances, || async {
        on.follow_state(follower, followee)
            .await
            .is_none()
            .then_some(())
    })
    .await;
}

async fn actor_doc(instance: &TestInstance, name: &str) -> Value {
    instance
        .get_ap(&format!("/users/{name}"))
        .await
        .json()
        .await
        .unwrap()
}

/// alpha: alice and bob, who follows her; beta: alice2 and `other`.
async fn alice_bob_and_alice2(backend: Backend, other: &str) -> (TestInstance, TestInstance) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    alpha.create_user("alice").await;
    alpha.create_user("bob").await;
    beta.create_user("alice2").await;
    beta.create_user(other).await;
    alpha.follow("bob", &alpha.handle_of("alice")).await;
    (alpha, beta)
}

/// The move form of the settings, sent.
async fn web_move(web: &WebClient, target: &str, password: &str) -> reqwest::Response {
    web.submit(
        "/settings/moving",
        "/settings/moving",
        &[("target", target), ("password", password)],
    )
    .await
}

/// alpha: alice (who moves) and bob; beta: alice2 (the new account) and
/// carol. bob and carol follow alice; afterwards both follow alice2 and
/// not alice, alice's profile and API account say where she went.
async fn moving_between_two_instances(backend: Backend) {
    let (alpha, beta) = alice_bob_and_alice2(backend, "carol").await;
    let (alice, alice2) = (alpha.handle_of("alice"), beta.handle_of("alice2"));
    let (bob, carol) = (alpha.handle_of("bob"), beta.handle_of("carol"));
    let both = [&alpha, &beta];
    beta.follow("carol", &alice).await;
    follows(&both, &beta, &carol, &alice).await;

    // alice2 lists alice as an alias, from the web settings (by handle).
    let web2 = WebClient::sign_in(&beta, "alice2").await;
    let res = web2
        .submit(
            "/settings/moving",
            "/settings/moving/aliases",
            &[("alias", &format!("@{alice}"))],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = web2.page("/settings/moving").await;
    assert!(page.contains(&alpha.actor_url("alice")), "{page}");
    assert_eq!(
        actor_doc(&beta, "alice2").await["alsoKnownAs"],
        json!([alpha.actor_url("alice")])
    );

    // alice moves from her settings, with her password.
    let web = WebClient::sign_in(&alpha, "alice").await;
    let res = web_move(&web, &alice2, "password for tests").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let doc = actor_doc(&alpha, "alice").await;
    assert_eq!(doc["movedTo"], beta.actor_url("alice2"));

    // bob (local) now follows alice2 and not alice; carol's server got the
    // Move and did the same.
    follows(&both, &alpha, &bob, &alice2).await;
    assert_eq!(alpha.follow_state(&bob, &alice).await, None);
    follows(&both, &beta, &carol, &alice2).await;
    no_longer_follows(&both, &beta, &carol, &alice).await;
    no_longer_follows(&both, &alpha, &carol, &alice).await;
    let mut followers = beta.follower_ids("alice2").await;
    followers.sort();
    assert_eq!(
        followers,
        vec![alpha.actor_url("bob"), beta.actor_url("carol")]
    );
    assert!(alpha.follower_ids("alice").await.is_empty());

    // The profile says so, and links to the new account.
    let html = alpha.get_html("/@alice").await.text().await.unwrap();
    assert!(html.contains("id=\"moved\""), "{html}");
    assert!(html.contains(&format!("@{alice2}")), "{html}");
    // The client API's account has `moved`.
    let id = alpha.local("alice").await.id;
    let account = Api::anonymous(&alpha)
        .get(&format!("/api/v1/accounts/{id}"))
        .await
        .ok();
    assert_eq!(account["moved"]["acct"], alice2, "{account:#}");
    crate::schema::assert_valid("Account", &account);
    let bob_account = Api::anonymous(&alpha)
        .get(&format!("/api/v1/accounts/{}", alpha.local("bob").await.id))
        .await
        .ok();
    assert!(bob_account.get("moved").is_none());
    // beta knows alice moved too (from her fresh document).
    let alice_at_beta = beta.resolve(&alice).await;
    let moved = outloud::service::moves::moved_to(&beta.data(), &alice_at_beta)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(moved.ap_id.to_string(), beta.actor_url("alice2"));

    // Moving again sends the Move again and changes nothing.
    let alice_row = alpha.local("alice").await;
    outloud::service::moves::move_account(&alpha.data(), &alice_row, &alice2)
        .await
        .unwrap();
    settle(&both).await;
    assert_eq!(beta.follower_ids("alice2").await.len(), 2);
    assert_eq!(
        beta.follow_state(&carol, &alice2).await,
        Some(FollowState::Accepted)
    );
}

/// A move to an account that does not list the mover is refused (the web
/// page says why, with 422; a wrong password is 401), and an inbound Move
/// whose target does not list the origin, or that the origin does not
/// say, or that someone else sends, is refused with 400: followers stay.
async fn refused_moves_change_nothing(backend: Backend) {
    let (alpha, beta) = alice_bob_and_alice2(backend, "mallory").await;
    let mallory = beta.local("mallory").await;
    let (alice, alice2) = (alpha.handle_of("alice"), beta.handle_of("alice2"));
    let (bob, mallory_handle) = (alpha.handle_of("bob"), beta.handle_of("mallory"));
    let both = [&alpha, &beta];
    alpha.follow("bob", &mallory_handle).await;
    follows(&both, &alpha, &bob, &mallory_handle).await;

    // The page is for the signed-in only.
    let res = alpha.get_html("/settings/moving").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // Outbound: alice2 does not list alice.
    let web = WebClient::sign_in(&alpha, "alice").await;
    let res = web_move(&web, &alice2, "password for tests").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let html = res.text().await.unwrap();
    assert!(
        html.contains("does not list this account as an alias"),
        "{html}"
    );
    let res = web_move(&web, &alice2, "wrong password").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let alice_row = alpha.local("alice").await;
    let refused = outloud::service::moves::move_account(&alpha.data(), &alice_row, &alice2).await;
    assert_eq!(refused.unwrap_err().kind, ErrorKind::Unprocessable);
    let refused = outloud::service::moves::move_account(&alpha.data(), &alice_row, &alice).await;
    assert_eq!(refused.unwrap_err().kind, ErrorKind::Unprocessable);
    assert!(actor_doc(&alpha, "alice").await.get("movedTo").is_none());
    assert_eq!(
        alpha.follow_state(&bob, &alice).await,
        Some(FollowState::Accepted)
    );
    assert!(outloud::service::moves::moved_to(&alpha.data(), &alice_row)
        .await
        .unwrap()
        .is_none());
    // A bad alias is refused on the page too.
    let res = web
        .submit(
            "/settings/moving",
            "/settings/moving/aliases",
            &[("alias", "not a handle")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Inbound: mallory's document says movedTo alice2 (set behind the
    // service's back, as a lying server would), but alice2 does not list
    // mallory.
    let (mallory_id, target) = (mallory.id.clone(), beta.actor_url("alice2"));
    beta.context
        .db
        .run(move |conn| {
            outloud::db::moves::ActorMove::set(conn, &mallory_id, &target)?;
            Ok(())
        })
        .await
        .unwrap();
    let mv = |id: &str, actor: &str, object: &str| {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": beta.url(&format!("/activities/{id}")),
            "type": "Move",
            "actor": actor,
            "object": object,
            "target": beta.actor_url("alice2"),
        })
    };
    let inbox = alpha.url("/inbox");
    let mallory_url = beta.actor_url("mallory");
    let res = beta
        .signed_post(&mallory, &inbox, &mv("m1", &mallory_url, &mallory_url))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let body = res.text().await.unwrap();
    assert!(body.contains("alsoKnownAs"), "{body}");
    // Someone else's Move (actor ≠ object).
    let res = beta
        .signed_post(
            &mallory,
            &inbox,
            &mv("m2", &mallory_url, &alpha.actor_url("alice")),
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    // alice2 lists mallory now, but mallory's document no longer says
    // movedTo: still refused.
    let (mallory_id, alice2_row) = (mallory.id.clone(), beta.local("alice2").await);
    beta.context
        .db
        .run(move |conn| {
            outloud::db::moves::ActorMove::clear(conn, &mallory_id)?;
            outloud::db::moves::add_alias(conn, &alice2_row.id, &mallory_url)?;
            Ok(())
        })
        .await
        .unwrap();
    let mallory_url = beta.actor_url("mallory");
    let res = beta
        .signed_post(&mallory, &inbox, &mv("m3", &mallory_url, &mallory_url))
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.unwrap().contains("movedTo"));
    // A Move of someone nobody on alpha follows: accepted, ignored.
    let alice2_url = beta.actor_url("alice2");
    let res = beta
        .signed_post(
            &beta.local("alice2").await,
            &inbox,
            &json!({
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": beta.url("/activities/m4"), "type": "Move",
                "actor": alice2_url, "object": alice2_url, "target": mallory_url,
            }),
        )
        .await;
    assert_eq!(res.status(), StatusCode::ACCEPTED);
    settle(&both).await;
    assert_eq!(
        alpha.follow_state(&bob, &mallory_handle).await,
        Some(FollowState::Accepted)
    );
    assert_eq!(alpha.follow_state(&bob, &alice2).await, None);
    assert!(beta.follower_ids("alice2").await.is_empty());
}

/// alice moves to alice3 on the same instance; alice3 approves followers
/// by hand, but bob, who followed her alias, is accepted at once.
async fn moving_on_one_instance_to_a_locked_account(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let alice = alpha.create_user("alice").await;
    alpha.create_user("bob").await;
    let alice3 = alpha.create_user("alice3").await;
    outloud::service::follows::set_manual_approval(&alpha.data(), &alice3, true)
        .await
        .unwrap();
    let (alice_h, alice3_h, bob) = (
        alpha.handle_of("alice"),
        alpha.handle_of("alice3"),
        alpha.handle_of("bob"),
    );
    alpha.follow("bob", &alice_h).await;
    // From the command line: refused before alice3 lists alice, then done.
    let reason = failure(outloud(&alpha, &["admin", "move", "alice", &alice3_h]));
    assert!(reason.contains("does not list this account"), "{reason}");
    let reason = failure(outloud(&alpha, &["admin", "move", "nobody", &alice3_h]));
    assert!(reason.contains("no local user named `nobody`"), "{reason}");
    let alice3 = alpha.local("alice3").await;
    outloud::service::moves::add_alias(&alpha.data(), &alice3, &alpha.actor_url("alice"))
        .await
        .unwrap();
    let said = success(outloud(&alpha, &["admin", "move", "alice", &alice3_h]));
    assert!(said.contains(&alpha.actor_url("alice3")), "{said}");
    let moved = outloud::service::moves::moved_to(&alpha.data(), &alice)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(moved.id, alice3.id);
    assert_eq!(
        alpha.follow_state(&bob, &alice3_h).await,
        Some(FollowState::Accepted)
    );
    assert_eq!(alpha.follow_state(&bob, &alice_h).await, None);
    let html = alpha.get_html("/@alice").await.text().await.unwrap();
    assert!(html.contains("href=\"/@alice3\""), "{html}");
    // Removing the alias: it is gone from the document.
    outloud::service::moves::remove_alias(&alpha.data(), &alice3, &alpha.actor_url("alice"))
        .await
        .unwrap();
    assert!(actor_doc(&alpha, "alice3")
        .await
        .get("alsoKnownAs")
        .is_none());
    let again =
        outloud::service::moves::remove_alias(&alpha.data(), &alice3, &alpha.actor_url("alice"))
            .await;
    assert_eq!(again.unwrap_err().kind, ErrorKind::NotFound);
}

/// (a) alice (Outloud) moves to carol (the Fedify peer), whose Person
/// lists her in alsoKnownAs: carol's inbox gets the Move and bob follows
/// carol. (b) carol moves to alice2 (Outloud), which lists her: bob2, who
/// followed carol, follows alice2 instead.
async fn moving_to_and_from_the_foreign_peer(backend: Backend) {
    let (alpha, peer) = alpha_and_peer(backend, "moves").await;
    alpha.create_user("bob").await;
    alpha.create_user("alice2").await;
    alpha.create_user("bob2").await;
    let alice_url = alpha.actor_url("alice");
    let carol = peer.carol_handle();
    let (bob, bob2, alice2) = (
        alpha.handle_of("bob"),
        alpha.handle_of("bob2"),
        alpha.handle_of("alice2"),
    );
    carol_follows_alice(&alpha, &peer).await;
    alpha.follow("bob", &alpha.handle_of("alice")).await;

    // (a) Without the alias the move is refused; with it, it goes.
    let alice = alpha.local("alice").await;
    let refused = outloud::service::moves::move_account(&alpha.data(), &alice, &carol).await;
    assert_eq!(refused.unwrap_err().kind, ErrorKind::Unprocessable);
    peer.control("alias", json!({ "aliases": [alice_url] }))
        .await;
    outloud::service::moves::move_account(&alpha.data(), &alice, &carol)
        .await
        .unwrap();
    alpha.drain_deliveries().await;
    let mv = peer
        .received_one("Move", |a| a["actor"] == alice_url.as_str())
        .await;
    assert_eq!(mv["objectId"], alice_url);
    assert_eq!(mv["target"], peer.carol());
    assert_eq!(mv["signedBy"], format!("{alice_url}#main-key"));
    follows(&[&alpha], &alpha, &bob, &carol).await;
    assert_eq!(
        alpha.follow_state(&bob, &alpha.handle_of("alice")).await,
        None
    );

    // (b) carol moves to alice2, which lists her.
    alpha.follow("bob2", &carol).await;
    follows(&[&alpha], &alpha, &bob2, &carol).await;
    let alice2_row = alpha.local("alice2").await;
    outloud::service::moves::add_alias(&alpha.data(), &alice2_row, &carol)
        .await
        .unwrap();
    // Fedify reads alice2's alsoKnownAs, and alice's movedTo, from their
    // documents (our JSON-LD terms).
    let found = peer.control("resolve", json!({ "handle": alice2 })).await;
    assert_eq!(
        found["actor"]["aliases"],
        json!([peer.carol()]),
        "{found:#}"
    );
    let found = peer
        .control("resolve", json!({ "handle": alpha.handle_of("alice") }))
        .await;
    assert_eq!(found["actor"]["successor"], peer.carol(), "{found:#}");
    peer.control(
        "move",
        json!({ "target": alpha.actor_url("alice2"), "recipients": [alpha.actor_url("bob2")] }),
    )
    .await;
    follows(&[&alpha], &alpha, &bob2, &alice2).await;
    no_longer_follows(&[&alpha], &alpha, &bob2, &carol).await;
    // bob, who followed carol too, moved along.
    follows(&[&alpha], &alpha, &bob, &alice2).await;
    // The peer is told bob2 left (Undo of the Follow).
    peer.received_one("Undo", |a| a["actor"] == alpha.actor_url("bob2").as_str())
        .await;
}

/// The Moving page in Chromium (console clean, accessible): a bad alias
/// is refused on the page, then alice moves to alice3, which lists her,
/// and her profile says so.
async fn the_moving_page_in_a_browser(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    alpha.create_user("alice").await;
    let alice3 = alpha.create_user("alice3").await;
    let label = format!("moving-{backend:?}").to_lowercase();
    let Some(b) = Browser::start(&label).await else {
        return;
    };
    sign_in(&b, &alpha, "alice").await;
    b.visit(&alpha.url("/settings/moving"), "empty").await;
    b.fill("#f-alias", "not a handle").await;
    b.click("form[action=\"/settings/moving/aliases\"] button")
        .await;
    assert!(b
        .text("#error")
        .await
        .contains("neither name@host nor a URL"));
    // Not listed by alice3 yet: refused with the reason.
    b.fill("#f-target", &alpha.handle_of("alice3")).await;
    b.fill("#f-password", "password for tests").await;
    b.click("form[action=\"/settings/moving\"] button").await;
    assert!(b
        .text("#error")
        .await
        .contains("does not list this account"));
    // The two refusals were 422s, which the console lists; nothing else.
    let errors = b.console_errors().await;
    assert_eq!(errors.len(), 2, "{errors:?}");
    assert!(errors.iter().all(|e| e.contains("422")), "{errors:?}");
    b.assert_accessible().await;
    outloud::service::moves::add_alias(&alpha.data(), &alice3, &alpha.handle_of("alice"))
        .await
        .unwrap();
    b.fill("#f-target", &alpha.handle_of("alice3")).await;
    b.fill("#f-password", "password for tests").await;
    b.click("form[action=\"/settings/moving\"] button").await;
    assert!(b.current_url().await.ends_with("done=moved"));
    b.screenshot("moved").await;
    assert!(b.text("#moved").await.contains(&alpha.handle_of("alice3")));
    b.visit(&alpha.url("/@alice"), "profile").await;
    assert!(b.text("#moved").await.contains("has moved to"));
    b.close().await;
}
