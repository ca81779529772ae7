//! Questions with accepted answers (issue 13 §2, docs/api.md "Accepted
//! answers", docs/FEDERATION.md "Accepted answers"): accepting and
//! re-opening through the client API, the refusals (403 for who, 422 for
//! what), notifications, the Questions view, the Note on the wire, and an
//! ask asked in a community on alpha, answered from beta and accepted on
//! alpha, which beta then knows; a forged Update changes nothing.

use crate::{
    api_client::Api,
    browser::Browser,
    communities::create_community,
    fake_server::FakeServer,
    harness::{both_backends, settle, TestInstance},
};
use outloud::{
    config::Backend,
    db::{answer::AcceptedAnswer, community::Posting, post::NarrationKind, post::Post},
    service::posts::NewPost,
};
use serde_json::{json, Value};

both_backends!(
    accept_reopen_and_refusals_through_the_api,
    accepted_answers_federate_between_instances,
    in_the_browser_accept_reopen_and_questions_pages,
);

/// `author` asks `text` in the community `group` (an ActivityPub id).
async fn ask(instance: &TestInstance, author: &str, group: &url::Url, text: &str) -> Post {
    instance
        .publish(
            author,
            NewPost {
                narration: Some(NarrationKind::Ask),
                community: Some(group.clone()),
                ..NewPost::note(text)
            },
        )
        .await
}

fn accept_path(ask: &Post) -> String {
    format!("/api/v1/outloud/statuses/{}/accept", ask.id)
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

async fn accept_reopen_and_refusals_through_the_api(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let mona = alpha.create_user("mona").await;
    for name in ["alice", "carol", "dave"] {
        alpha.create_user(name).await;
    }
    create_community(&alpha, "rust", &mona, false, false, Posting::Anyone).await;
    let group = alpha.local("rust").await;
    let question = ask(
        &alpha,
        "alice",
        &group.ap_id.0,
        "How do I pin a future? #async",
    )
    .await;
    let first = alpha
        .reply("carol", &question.ap_id.0, "Box::pin it.")
        .await;
    let second = alpha
        .reply("dave", &question.ap_id.0, "Or pin! on the stack.")
        .await;
    let unrelated = alpha.publish("carol", NewPost::note("Lunch #async")).await;
    let plain = alpha
        .publish("alice", NewPost::note("Not a question"))
        .await;
    let plain_reply = alpha.reply("carol", &plain.ap_id.0, "Indeed").await;
    let stuck = alpha
        .publish(
            "dave",
            NewPost {
                narration: Some(NarrationKind::Stuck),
                community: Some(group.ap_id.0.clone()),
                ..NewPost::note("The borrow checker wins today #async")
            },
        )
        .await;
    let alice = Api::for_user(&alpha, "alice", "read write").await;
    let carol = Api::for_user(&alpha, "carol", "read write").await;
    let dave = Api::for_user(&alpha, "dave", "read write").await;
    let moderator = Api::for_user(&alpha, "mona", "read write").await;

    // An open ask says so: `accepted_answer_id` is null.
    let open = alice
        .get(&format!("/api/v1/statuses/{}", question.id))
        .await
        .ok();
    assert_eq!(
        open["outloud"],
        json!({"kind": "ask", "accepted_answer_id": null})
    );

    // The asker accepts carol's reply.
    let accepted = alice
        .post(&accept_path(&question), json!({ "answer_id": first.id }))
        .await
        .ok();
    assert_eq!(accepted["id"], question.id.as_str());
    assert_eq!(accepted["outloud"]["accepted_answer_id"], first.id.as_str());
    crate::schema::assert_valid("Status", &accepted);

    // Refusals: a stranger (403), not a reply (422), not an ask (422),
    // no answer named (422); nothing changes.
    let refused = dave
        .post(&accept_path(&question), json!({ "answer_id": second.id }))
        .await
        .expect(403);
    assert!(refused["error"].as_str().unwrap().contains("asker"));
    let refused = dave
        .post(
            &format!("/api/v1/outloud/statuses/{}/reopen", question.id),
            json!({}),
        )
        .await
        .expect(403);
    assert!(refused["error"].as_str().unwrap().contains("asker"));
    let refused = alice
        .post(
            &accept_path(&question),
            json!({ "answer_id": unrelated.id }),
        )
        .await
        .expect(422);
    assert!(
        refused["error"].as_str().unwrap().contains("reply"),
        "{refused}"
    );
    let refused = alice
        .post(&accept_path(&plain), json!({ "answer_id": plain_reply.id }))
        .await
        .expect(422);
    assert!(
        refused["error"].as_str().unwrap().contains("ask"),
        "{refused}"
    );
    alice
        .post(&accept_path(&question), json!({}))
        .await
        .expect(422);
    // A reply deleted since: 422 with the reason, not the reply's 410.
    let gone = alpha
        .reply("carol", &question.ap_id.0, "Soon deleted.")
        .await;
    carol
        .delete(&format!("/api/v1/statuses/{}", gone.id))
        .await
        .ok();
    let refused = alice
        .post(&accept_path(&question), json!({ "answer_id": gone.id }))
        .await
        .expect(422);
    assert!(
        refused["error"].as_str().unwrap().contains("deleted"),
        "{refused}"
    );
    let row = AcceptedAnswer::of_question(&mut alpha.context.db.get().unwrap(), &question.id)
        .unwrap()
        .unwrap();
    assert_eq!(row.answer_id, first.id);

    // The community's moderator accepts another reply instead.
    let changed = moderator
        .post(&accept_path(&question), json!({ "answer_id": second.id }))
        .await
        .ok();
    assert_eq!(changed["outloud"]["accepted_answer_id"], second.id.as_str());

    // Notifications: the answers' authors, and the asker when the
    // moderator accepted (never the one who accepted).
    let kinds_about = |list: Value| -> Vec<(String, String)> {
        list.as_array()
            .unwrap()
            .iter()
            .filter(|n| n["status"]["id"] == question.id.as_str())
            .map(|n| {
                (
                    n["type"].as_str().unwrap().to_string(),
                    n["account"]["username"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    let carols = kinds_about(carol.get("/api/v1/notifications").await.ok());
    assert_eq!(carols, [("update".to_string(), "alice".to_string())]);
    let daves = kinds_about(dave.get("/api/v1/notifications").await.ok());
    assert_eq!(daves, [("update".to_string(), "mona".to_string())]);
    let alices = kinds_about(alice.get("/api/v1/notifications").await.ok());
    assert_eq!(alices, [("update".to_string(), "mona".to_string())]);

    // On the wire: acceptedAnswer, its context term, the Mastodon line.
    let note: Value = alpha
        .get_ap(question.ap_id.0.path())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(note["acceptedAnswer"], second.ap_id.as_str());
    assert!(note["@context"]
        .to_string()
        .contains("schema:acceptedAnswer"));
    let content = note["content"].as_str().unwrap();
    assert!(content.contains("<p>Answered: <a href="), "{content}");
    assert!(content.contains("Or pin! on the stack."), "{content}");
    // The stored text stays as written.
    let stored = alpha.stored_post(question.ap_id.as_str()).await.unwrap();
    assert!(!stored.content.contains("Answered"));

    // The Questions view of the community and of the hashtag.
    let anonymous = Api::anonymous(&alpha);
    for path in [
        format!("/api/v1/outloud/questions?community={}", group.id),
        "/api/v1/outloud/questions?tag=async".to_string(),
    ] {
        let view = anonymous.get(&path).await.ok();
        assert!(ids(&view["open"]).is_empty(), "{path}: {view}");
        assert_eq!(view["answered"][0]["question"]["id"], question.id.as_str());
        assert_eq!(view["answered"][0]["answer"]["id"], second.id.as_str());
        assert_eq!(
            ids(&view["stuck"]),
            std::slice::from_ref(&stuck.id),
            "{path}"
        );
    }
    anonymous.get("/api/v1/outloud/questions").await.expect(422);

    // Re-opened: open again, oldest first, the line gone from the Note.
    let reopened = alice
        .post(
            &format!("/api/v1/outloud/statuses/{}/reopen", question.id),
            json!({}),
        )
        .await
        .ok();
    assert_eq!(reopened["outloud"]["accepted_answer_id"], Value::Null);
    let newer = ask(&alpha, "carol", &group.ap_id.0, "And Unpin? #async").await;
    let view = anonymous
        .get(&format!("/api/v1/outloud/questions?community={}", group.id))
        .await
        .ok();
    assert_eq!(ids(&view["open"]), [question.id.clone(), newer.id.clone()]);
    assert!(view["answered"].as_array().unwrap().is_empty());
    let note: Value = alpha
        .get_ap(question.ap_id.0.path())
        .await
        .json()
        .await
        .unwrap();
    assert!(note.get("acceptedAnswer").is_none());
    assert!(!note["content"].as_str().unwrap().contains("Answered"));
}

async fn accepted_answers_federate_between_instances(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    let alice = alpha.create_user("alice").await;
    let bob = beta.create_user("bob").await;
    create_community(&alpha, "rust", &alice, false, false, Posting::Anyone).await;
    let group = alpha.local("rust").await;
    beta.follow("bob", &format!("rust@{}", alpha.domain)).await;
    // mo, on a Mastodon-like server, follows alice.
    let peer = FakeServer::start("delta", "mastodon").await;
    let mo = peer.actor("/users/mo", "Person", "mo", json!({}));
    let follow = json!({
        "id": peer.url("/follows/1"),
        "type": "Follow",
        "actor": mo.id,
        "object": alice.ap_id.to_string(),
    });
    assert_eq!(
        peer.send(&mo, &alpha.url("/users/alice/inbox"), &follow)
            .await,
        202
    );
    settle(&[&alpha, &beta]).await;

    let question = ask(&alpha, "alice", &group.ap_id.0, "Which runtime for tests?").await;
    settle(&[&alpha, &beta]).await;
    let at_beta = beta
        .stored_post(question.ap_id.as_str())
        .await
        .expect("shared");
    assert_eq!(at_beta.narration_kind.as_deref(), Some("ask"));
    let reply = beta
        .reply("bob", &question.ap_id.0, "tokio, with a paused clock.")
        .await;
    settle(&[&alpha, &beta]).await;
    let reply_at_alpha = alpha
        .stored_post(reply.ap_id.as_str())
        .await
        .expect("reply");

    // alice accepts bob's answer on alpha: beta hears of it.
    let api = Api::for_user(&alpha, "alice", "read write").await;
    api.post(
        &accept_path(&question),
        json!({ "answer_id": reply_at_alpha.id }),
    )
    .await
    .ok();
    settle(&[&alpha, &beta]).await;
    let answer_at_beta = |beta: &TestInstance| {
        let id = at_beta.id.clone();
        let db = beta.context.db.clone();
        async move {
            db.run(move |conn| Ok(AcceptedAnswer::of_question(conn, &id)?))
                .await
                .unwrap()
        }
    };
    // The Mastodon-like follower gets the Update: `acceptedAnswer`, and
    // the "Answered:" line in the content it shows.
    let updates = peer.received("Update");
    let update = updates
        .iter()
        .find(|u| u["object"]["id"] == question.ap_id.as_str())
        .expect("an Update of the ask");
    assert_eq!(update["actor"], alice.ap_id.as_str());
    assert_eq!(update["object"]["acceptedAnswer"], reply.ap_id.as_str());
    let content = update["object"]["content"].as_str().unwrap();
    assert!(content.contains("<p>Answered: <a href="), "{content}");
    assert!(content.contains("tokio, with a paused clock."), "{content}");
    let row = answer_at_beta(&beta).await.expect("beta knows the answer");
    assert_eq!(row.answer_id, reply.id);
    let bob_api = Api::for_user(&beta, "bob", "read write").await;
    let status = bob_api
        .get(&format!("/api/v1/statuses/{}", at_beta.id))
        .await
        .ok();
    assert_eq!(status["outloud"]["accepted_answer_id"], reply.id.as_str());
    // bob, whose answer was accepted, is notified on beta.
    let notes = bob_api.get("/api/v1/notifications").await.ok();
    assert!(
        notes
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["type"] == "update" && n["status"]["id"] == at_beta.id.as_str()),
        "{notes}"
    );

    // bob may not accept on alpha's ask from beta: his server refuses
    // (a remote ask), and a forged Update of alice's ask is refused (403).
    bob_api
        .post(
            &format!("/api/v1/outloud/statuses/{}/reopen", at_beta.id),
            json!({}),
        )
        .await
        .expect(403);
    let mut forged_note: Value = alpha
        .get_ap(question.ap_id.0.path())
        .await
        .json()
        .await
        .unwrap();
    forged_note["acceptedAnswer"] = json!(beta.url("/objects/nothing"));
    let forged = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": beta.url("/activities/forged-answer"),
        "type": "Update",
        "actor": beta.actor_url("bob"),
        "object": forged_note,
    });
    let res = beta.signed_post(&bob, &alpha.url("/inbox"), &forged).await;
    assert_eq!(res.status(), 403);
    let row = AcceptedAnswer::of_question(&mut alpha.context.db.get().unwrap(), &question.id)
        .unwrap()
        .unwrap();
    assert_eq!(row.answer_id, reply_at_alpha.id);

    // Re-opened on alpha: open on beta too.
    api.post(
        &format!("/api/v1/outloud/statuses/{}/reopen", question.id),
        json!({}),
    )
    .await
    .ok();
    settle(&[&alpha, &beta]).await;
    assert!(answer_at_beta(&beta).await.is_none());
    let last = peer.received("Update").pop().unwrap();
    assert!(last["object"].get("acceptedAnswer").is_none());
    assert!(!last["object"]["content"]
        .as_str()
        .unwrap()
        .contains("Answered"));
}

/// Submits a form the page does not offer (what a forged request looks
/// like from a signed-in browser: the session's CSRF token, a made-up
/// action), and waits for the answer page.
async fn submit_forged(b: &Browser, action: &str, answer_id: &str) {
    let before = b.current_url().await;
    b.driver()
        .execute(
            r#"const [action, answer] = arguments;
               const form = document.createElement("form");
               form.method = "post";
               form.action = action;
               for (const [name, value] of [
                   ["csrf", document.querySelector("input[name=csrf]").value],
                   ["answer_id", answer]]) {
                   const input = document.createElement("input");
                   input.type = "hidden";
                   input.name = name;
                   input.value = value;
                   form.append(input);
               }
               document.body.append(form);
               form.submit();"#,
            vec![json!(action), json!(answer_id)],
        )
        .await
        .unwrap();
    for _ in 0..100 {
        if b.current_url().await != before {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("the forged form to {action} got no answer page");
}

async fn browser_sign_in(b: &Browser, instance: &TestInstance, name: &str) {
    b.goto(&instance.url("/login")).await;
    b.fill("#username", name).await;
    b.fill("#password", "password for tests").await;
    b.click("main button[type=submit]").await;
    assert!(b.current_url().await.ends_with("/home"));
}

async fn in_the_browser_accept_reopen_and_questions_pages(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let ann = alpha.create_user("ann").await;
    let carol = alpha.create_user("carol").await;
    alpha.create_user("dave").await;
    create_community(&alpha, "rust", &ann, false, false, Posting::Anyone).await;
    let group = alpha.local("rust").await;
    let question = ask(
        &alpha,
        "ann",
        &group.ap_id.0,
        "Where do lifetimes go? #lifetimes",
    )
    .await;
    let reply = alpha
        .reply("carol", &question.ap_id.0, "After the ampersand.")
        .await;
    let doomed = alpha
        .reply("carol", &question.ap_id.0, "Somewhere, I forget.")
        .await;
    let label = format!("answers-{backend:?}").to_lowercase();
    let Some(b) = Browser::start(&label).await else {
        return;
    };
    let permalink = alpha.url(&format!("/@ann/{}", question.id));

    // A stranger sees an open question and no buttons.
    browser_sign_in(&b, &alpha, "dave").await;
    b.visit(&permalink, "answers-stranger").await;
    assert!(b.text(".answer-state").await.contains("Open question"));
    assert!(!b.exists(".accept-answer").await);
    // The ask's card says so wherever it shows: the community's page.
    let card_state = format!("#n-{} .ask-state", question.id);
    b.visit(&alpha.url("/c/rust"), "answers-card-open").await;
    assert_eq!(b.text(&card_state).await, "Open question");
    // A stranger's forged accept form is refused with the reason.
    b.goto(&permalink).await;
    submit_forged(
        &b,
        &format!("/narrations/{}/accept", question.id),
        &reply.id,
    )
    .await;
    assert_eq!(b.text("h1").await, "Not allowed");
    assert!(b.text("[role=alert]").await.contains("asker"));
    b.screenshot("answers-forged-refused").await;
    let logged = b.console_errors().await;
    assert!(logged.iter().all(|e| e.contains("403")), "{logged:?}");
    b.goto(&permalink).await;
    submit_forged(&b, &format!("/narrations/{}/reopen", question.id), "").await;
    assert_eq!(b.text("h1").await, "Not allowed");
    b.console_errors().await;
    b.driver().delete_all_cookies().await.unwrap();

    // The asker's page offers a reply deleted since: accepting it is
    // refused with a 422 page that says why, and changes nothing.
    browser_sign_in(&b, &alpha, "ann").await;
    b.visit(&permalink, "answers-open").await;
    let stale = format!(
        "form.accept-answer:has(input[name=answer_id][value='{}']) button",
        doomed.id
    );
    assert!(b.exists(&stale).await);
    outloud::service::posts::delete(&alpha.data(), &carol, &doomed.id)
        .await
        .unwrap();
    b.click(&stale).await;
    assert_eq!(b.text("h1").await, "That did not work");
    assert!(b.text(".error-status").await.contains("422"));
    assert!(b.text("[role=alert]").await.contains("reply"));
    let logged = b.console_errors().await;
    assert!(logged.iter().all(|e| e.contains("422")), "{logged:?}");
    assert!(
        AcceptedAnswer::of_question(&mut alpha.context.db.get().unwrap(), &question.id)
            .unwrap()
            .is_none()
    );

    // The asker accepts carol's reply; the page marks it; re-opens it.
    b.visit(&permalink, "answers-open-again").await;
    b.click(".accept-answer button").await;
    b.screenshot("answers-accepted").await;
    b.assert_console_clean().await;
    assert!(b.text(".answer-state").await.contains("Answered"));
    assert!(b.exists("#accepted-answer").await);
    let row = AcceptedAnswer::of_question(&mut alpha.context.db.get().unwrap(), &question.id)
        .unwrap()
        .unwrap();
    assert_eq!(row.answer_id, reply.id);

    // The card on the community's page says answered, and links there.
    b.goto(&alpha.url("/c/rust")).await;
    assert_eq!(b.text(&card_state).await, "Answered");
    assert!(
        b.exists(&format!("{card_state}[href$='#accepted-answer']"))
            .await
    );
    // The community's and the tag's Questions pages list it as answered.
    b.click("nav.tabs a[href$='/questions']").await;
    b.screenshot("answers-community-questions").await;
    b.assert_console_clean().await;
    b.assert_accessible().await;
    assert!(b
        .text(".questions-answered")
        .await
        .contains("After the ampersand."));
    b.visit(
        &alpha.url("/tags/lifetimes/questions"),
        "answers-tag-questions",
    )
    .await;
    assert!(b
        .text(".questions-answered")
        .await
        .contains("Where do lifetimes go?"));

    b.visit(&permalink, "answers-answered").await;
    b.click(".answer-state form button").await;
    b.assert_console_clean().await;
    assert!(b.text(".answer-state").await.contains("Open question"));
    assert!(
        AcceptedAnswer::of_question(&mut alpha.context.db.get().unwrap(), &question.id)
            .unwrap()
            .is_none()
    );
    b.visit(&alpha.url("/c/rust/questions"), "answers-reopened")
        .await;
    assert!(b
        .text(".questions-open")
        .await
        .contains("Where do lifetimes go?"));
    b.close().await;
}
