//! Typed narrations (issue 13 §1, docs/api.md "Narration kinds"): the kind
//! from a hashtag written in a Mastodon app, the `?kind=` filter of the
//! client API timelines (422 for an unknown kind), kinds between two
//! Outloud instances (explicit choice, `narrationKind` on the wire), kinds
//! of Notes from a foreign server (hashtag only, property only), and the
//! web composer, badge and filter links in a browser.

use crate::{
    api_client::Api,
    browser::Browser,
    communities::create_community,
    fake_server::FakeServer,
    harness::{both_backends, settled, TestInstance},
};
use outloud::{
    config::Backend,
    db::{community::Posting, follow::FollowState, post::NarrationKind},
    service::posts::NewPost,
};
use serde_json::{json, Value};

both_backends!(
    kind_from_hashtag_and_timeline_filters,
    kinds_federate_between_outloud_instances,
    foreign_notes_get_their_kind,
    communities_lists_and_boosts_filter_by_kind,
    in_the_browser_compose_with_a_kind_and_filter,
);

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

async fn kind_of(instance: &TestInstance, ap_id: &str) -> Option<String> {
    instance
        .stored_post(ap_id)
        .await
        .expect("stored")
        .narration_kind
}

async fn kind_from_hashtag_and_timeline_filters(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let alice = alpha.create_user("alice").await;
    let api = Api::for_user(&alpha, "alice", "read write").await;
    let post = |text: &'static str| {
        let api = &api;
        async move {
            api.post("/api/v1/statuses", json!({ "status": text }))
                .await
                .ok()
        }
    };
    let learned = post("Found why the build was slow #rust #Learned").await;
    let stuck = post("The linker fails on #rust nightly #stuck #ask").await;
    let plain = post("Lunch, then more #rust").await;
    // The status says its kind in Outloud's extension, and stays valid
    // as Mastodon's entity.
    assert_eq!(learned["outloud"], json!({"kind": "learned"}));
    assert!(plain.get("outloud").is_none());
    crate::schema::assert_valid("Status", &learned);
    // The first kind hashtag written sets it; none, no kind.
    assert_eq!(
        kind_of(&alpha, learned["uri"].as_str().unwrap())
            .await
            .as_deref(),
        Some("learned")
    );
    assert_eq!(
        kind_of(&alpha, stuck["uri"].as_str().unwrap())
            .await
            .as_deref(),
        Some("stuck")
    );
    assert_eq!(kind_of(&alpha, plain["uri"].as_str().unwrap()).await, None);
    let (learned_id, stuck_id, plain_id) = (
        learned["id"].as_str().unwrap().to_string(),
        stuck["id"].as_str().unwrap().to_string(),
        plain["id"].as_str().unwrap().to_string(),
    );

    let all = ids(&api.get("/api/v1/timelines/home").await.ok());
    assert_eq!(
        all,
        [plain_id.clone(), stuck_id.clone(), learned_id.clone()]
    );
    for (path, want) in [
        (
            "/api/v1/timelines/home?kind=learned",
            vec![learned_id.clone()],
        ),
        ("/api/v1/timelines/home?kind=stuck", vec![stuck_id.clone()]),
        ("/api/v1/timelines/home?kind=doing", vec![]),
        (
            "/api/v1/timelines/public?kind=stuck",
            vec![stuck_id.clone()],
        ),
        (
            "/api/v1/timelines/public?local=true&kind=learned",
            vec![learned_id.clone()],
        ),
        (
            "/api/v1/timelines/tag/rust?kind=learned",
            vec![learned_id.clone()],
        ),
        (
            "/api/v1/timelines/tag/rust?kind=",
            vec![plain_id.clone(), stuck_id.clone(), learned_id.clone()],
        ),
        (
            &*format!("/api/v1/accounts/{}/statuses?kind=stuck", alice.id),
            vec![stuck_id.clone()],
        ),
    ] {
        assert_eq!(ids(&api.get(path).await.ok()), want, "{path}");
    }
    // `?kind=ask` names the second kind hashtag only: not that post's kind.
    assert!(ids(&api.get("/api/v1/timelines/public?kind=ask").await.ok()).is_empty());

    for path in [
        "/api/v1/timelines/home?kind=bogus".to_string(),
        "/api/v1/timelines/public?kind=Learnt".to_string(),
        "/api/v1/timelines/tag/rust?kind=x".to_string(),
        format!("/api/v1/accounts/{}/statuses?kind=nope", alice.id),
    ] {
        let answer = api.get(&path).await;
        assert_eq!(answer.status.as_u16(), 422, "{path}");
        assert!(
            answer.json["error"].as_str().unwrap().contains("kind"),
            "{path}"
        );
    }

    // An edit sets the kind from the new text.
    let edited = api
        .put(
            &format!("/api/v1/statuses/{plain_id}"),
            json!({ "status": "Lunch, then #doing more #rust" }),
        )
        .await
        .ok();
    assert_eq!(
        kind_of(&alpha, edited["uri"].as_str().unwrap())
            .await
            .as_deref(),
        Some("doing")
    );
    assert_eq!(
        ids(&api.get("/api/v1/timelines/home?kind=doing").await.ok()),
        [plain_id]
    );
}

/// alpha's alice follows beta's bob; bob narrates typed narrations.
async fn kinds_federate_between_outloud_instances(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    alpha.create_user("alice").await;
    beta.create_user("bob").await;
    let bob = beta.handle_of("bob");
    alpha.follow("alice", &bob).await;
    settled(&[&alpha, &beta], || async {
        (alpha.follow_state(&alpha.handle_of("alice"), &bob).await == Some(FollowState::Accepted))
            .then_some(())
    })
    .await;

    // The composer's explicit choice: the hashtag is appended for Mastodon.
    let chosen = beta
        .publish(
            "bob",
            NewPost {
                narration: Some(NarrationKind::Learned),
                ..NewPost::note("Two instances in one process")
            },
        )
        .await;
    assert_eq!(chosen.narration_kind.as_deref(), Some("learned"));
    assert!(chosen
        .source
        .as_deref()
        .unwrap()
        .ends_with("one process #learned"));
    // An explicit choice wins over another kind hashtag in the text; only
    // `narrationKind` carries that to a peer.
    let explicit = beta
        .publish(
            "bob",
            NewPost {
                narration: Some(NarrationKind::Ask),
                ..NewPost::note("#stuck on the linker: who knows it?")
            },
        )
        .await;
    assert_eq!(explicit.narration_kind.as_deref(), Some("ask"));

    // On the wire: a Note with the term in the context, the property, and
    // the hashtag in `tag` and content.
    let path = explicit.ap_id.0.path().to_string();
    let note: Value = beta.get_ap(&path).await.json().await.unwrap();
    assert_eq!(note["type"], "Note");
    assert_eq!(note["narrationKind"], "ask");
    let context = note["@context"].to_string();
    assert!(
        context.contains("\"narrationKind\":\"outloud:narrationKind\""),
        "{context}"
    );
    assert!(
        context.contains("\"outloud\":\"https://outloud.example/ns#\""),
        "{context}"
    );
    let chosen_note: Value = beta
        .get_ap(chosen.ap_id.0.path())
        .await
        .json()
        .await
        .unwrap();
    assert!(chosen_note["tag"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["type"] == "Hashtag" && t["name"] == "#learned"));
    let content = chosen_note["content"].as_str().unwrap();
    assert!(content.contains("tags/learned"), "{content}");
    // An untyped narration carries no property.
    let plain = beta.publish("bob", NewPost::note("Plain text")).await;
    let plain_note: Value = beta
        .get_ap(plain.ap_id.0.path())
        .await
        .json()
        .await
        .unwrap();
    assert!(plain_note.get("narrationKind").is_none());

    let remote = |ap_id: String| {
        let (alpha, beta) = (&alpha, &beta);
        async move {
            settled(&[alpha, beta], || {
                let ap_id = ap_id.clone();
                async move { alpha.stored_post(&ap_id).await }
            })
            .await
        }
    };
    assert_eq!(
        remote(chosen.ap_id.to_string())
            .await
            .narration_kind
            .as_deref(),
        Some("learned")
    );
    assert_eq!(
        remote(explicit.ap_id.to_string())
            .await
            .narration_kind
            .as_deref(),
        Some("ask")
    );
    assert_eq!(remote(plain.ap_id.to_string()).await.narration_kind, None);
    // And alice's home filters the remote copies by kind.
    let api = Api::for_user(&alpha, "alice", "read").await;
    let asks = api.get("/api/v1/timelines/home?kind=ask").await.ok();
    assert_eq!(asks.as_array().unwrap().len(), 1);
    assert_eq!(asks[0]["uri"], explicit.ap_id.to_string());
}

async fn foreign_notes_get_their_kind(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    alpha.create_user("lee").await;
    let lee = alpha.actor_url("lee");
    let fake = FakeServer::start("remote", "mastodon").await;
    let dave = fake.actor("/users/dave", "Person", "dave", json!({}));
    let send = |n: u32, extra: Value| {
        let (fake, dave, alpha, lee) = (&fake, &dave, &alpha, &lee);
        async move {
            let note_id = fake.url(&format!("/notes/{n}"));
            let mut note = json!({
                "id": note_id,
                "type": "Note",
                "attributedTo": dave.id,
                "to": ["https://www.w3.org/ns/activitystreams#Public"],
                "cc": [lee],
                "content": "<p>a narration</p>",
                "published": "2026-12-01T10:00:00Z",
            });
            note.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            let create = json!({
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": fake.url(&format!("/activities/{n}")),
                "type": "Create",
                "actor": dave.id,
                "to": ["https://www.w3.org/ns/activitystreams#Public"],
                "cc": [lee],
                "object": note,
            });
            assert_eq!(fake.send(dave, &alpha.url("/inbox"), &create).await, 202);
            kind_of(alpha, &note_id).await
        }
    };
    let hashtag = |name: &str| json!({"type": "Hashtag", "name": name, "href": fake.url(&format!("/tags/{}", name.trim_start_matches('#')))});
    // Mastodon: only a kind hashtag in `tag` (any case).
    assert_eq!(
        send(1, json!({"tag": [hashtag("#rust"), hashtag("#Learned")]}))
            .await
            .as_deref(),
        Some("learned")
    );
    // Only the property.
    assert_eq!(
        send(2, json!({"narrationKind": "stuck"})).await.as_deref(),
        Some("stuck")
    );
    // The property wins over a hashtag.
    assert_eq!(
        send(
            3,
            json!({"narrationKind": "ask", "tag": [hashtag("#doing")]})
        )
        .await
        .as_deref(),
        Some("ask")
    );
    // Unknown values are ignored; then the hashtag counts.
    assert_eq!(send(4, json!({"narrationKind": "bogus"})).await, None);
    // A value of another type is ignored too (the Note is not refused).
    assert_eq!(
        send(5, json!({"narrationKind": 7, "tag": hashtag("#doing")}))
            .await
            .as_deref(),
        Some("doing")
    );
    assert_eq!(
        send(
            6,
            json!({"narrationKind": "weird", "tag": [hashtag("#doing")]})
        )
        .await
        .as_deref(),
        Some("doing")
    );
    // A plain hashtag that only starts like a kind is none.
    assert_eq!(
        send(7, json!({"tag": [hashtag("#learnedsomething")]})).await,
        None
    );
}

/// A community's statuses, a list's timeline and boosts in home, by kind.
async fn communities_lists_and_boosts_filter_by_kind(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let ann = alpha.create_user("ann").await;
    let bob = alpha.create_user("bob").await;
    alpha.create_user("cara").await;
    create_community(&alpha, "rust", &ann, false, false, Posting::Anyone).await;
    let group = alpha.local("rust").await;
    alpha.follow("cara", &alpha.handle_of("bob")).await;
    let in_rust = |text: &str| NewPost {
        community: Some(group.ap_id.0.clone()),
        ..NewPost::note(text)
    };
    let learned = alpha
        .publish("ann", in_rust("Boxed queries compose #rust #learned"))
        .await;
    let plain = alpha
        .publish("ann", in_rust("Reading the diesel book #rust"))
        .await;
    let cara = Api::for_user(&alpha, "cara", "read write").await;
    let bob_api = Api::for_user(&alpha, "bob", "read write").await;

    let shared = cara
        .get(&format!("/api/v1/accounts/{}/statuses", group.id))
        .await
        .ok();
    assert_eq!(shared.as_array().unwrap().len(), 2);
    let shared = cara
        .get(&format!(
            "/api/v1/accounts/{}/statuses?kind=learned",
            group.id
        ))
        .await
        .ok();
    let uris: Vec<&Value> = shared
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["reblog"]["uri"])
        .collect();
    assert_eq!(uris, [&json!(learned.ap_id.to_string())]);
    assert_eq!(
        cara.get(&format!("/api/v1/accounts/{}/statuses?kind=zzz", group.id))
            .await
            .status
            .as_u16(),
        422
    );

    // The web pages of the tag and the community filter the same way.
    let cards_of = |path: &'static str| {
        let alpha = &alpha;
        async move {
            let res = alpha.get_html(path).await;
            assert_eq!(res.status(), 200, "{path}");
            res.text().await.unwrap()
        }
    };
    for (path, count) in [
        ("/tags/rust", 2),
        ("/tags/rust?kind=learned", 1),
        ("/tags/rust?kind=stuck", 0),
        ("/c/rust", 2),
        ("/c/rust?kind=learned", 1),
    ] {
        let html = cards_of(path).await;
        assert_eq!(
            html.matches("<article class=\"card").count(),
            count,
            "{path}"
        );
        assert!(html.contains("aria-label=\"Filter by kind\""), "{path}");
    }
    let html = cards_of("/c/rust?kind=learned").await;
    assert!(html.contains("<a href=\"/c/rust?kind=learned\" aria-current=\"page\">learned</a>"));
    assert!(html.contains("Boxed queries compose"));
    assert!(!html.contains("Reading the diesel book"));

    // Bob boosts both; cara, who follows bob, sees only the typed boost.
    for post in [&learned, &plain] {
        bob_api
            .post(&format!("/api/v1/statuses/{}/reblog", post.id), json!({}))
            .await
            .ok();
    }
    let home = cara.get("/api/v1/timelines/home").await.ok();
    assert_eq!(home.as_array().unwrap().len(), 2, "{home}");
    let home = cara.get("/api/v1/timelines/home?kind=learned").await.ok();
    let boosted: Vec<&Value> = home
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["reblog"]["uri"])
        .collect();
    assert_eq!(boosted, [&json!(learned.ap_id.to_string())]);
    assert_eq!(home[0]["account"]["id"], bob.id);

    // A list of bob: his typed posts only.
    let stuck = alpha
        .publish("bob", NewPost::note("CI is red #stuck"))
        .await;
    alpha.publish("bob", NewPost::note("Coffee")).await;
    let list = cara
        .post("/api/v1/lists", json!({"title": "Bob"}))
        .await
        .ok();
    let list_id = list["id"].as_str().unwrap();
    cara.post(
        &format!("/api/v1/lists/{list_id}/accounts"),
        json!({"account_ids": [bob.id]}),
    )
    .await
    .ok();
    let all = cara
        .get(&format!("/api/v1/timelines/list/{list_id}"))
        .await
        .ok();
    assert!(all.as_array().unwrap().len() >= 3, "{all}");
    let typed = cara
        .get(&format!("/api/v1/timelines/list/{list_id}?kind=stuck"))
        .await
        .ok();
    assert_eq!(ids(&typed), [stuck.id]);
    assert_eq!(
        cara.get(&format!("/api/v1/timelines/list/{list_id}?kind=nope"))
            .await
            .status
            .as_u16(),
        422
    );
}

/// Signs `name` in on `instance` through the sign-in page.
async fn browser_sign_in(b: &Browser, instance: &TestInstance, name: &str) {
    b.goto(&instance.url("/login")).await;
    b.fill("#username", name).await;
    b.fill("#password", "password for tests").await;
    b.click("main button[type=submit]").await;
    assert!(b.current_url().await.ends_with("/home"));
}

async fn in_the_browser_compose_with_a_kind_and_filter(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    alpha.create_user("ann").await;
    let label = format!("narration-kinds-{backend:?}").to_lowercase();
    let Some(b) = Browser::start(&label).await else {
        return;
    };
    browser_sign_in(&b, &alpha, "ann").await;
    b.visit(&alpha.url("/compose"), "kinds-compose").await;
    b.fill("#compose-text", "Reading the diesel docs on boxed queries.")
        .await;
    b.select("#compose-kind", "learned").await;
    b.click("#compose-submit").await;
    let permalink = b.current_url().await;
    assert!(permalink.contains("/@ann/"), "{permalink}");
    b.assert_console_clean().await;
    assert!(b.text("main .card .kind").await.ends_with("learned"));
    // The hashtag was appended, so Mastodon readers see the kind.
    assert!(b.text("main .card .content").await.contains("#learned"));

    // The edit form shows the kind and may change it.
    b.click("main .card a[href$='/edit']").await;
    assert_eq!(
        b.driver()
            .find(thirtyfour::By::Css("#edit-kind option[selected]"))
            .await
            .unwrap()
            .value()
            .await
            .unwrap()
            .as_deref(),
        Some("learned")
    );
    b.screenshot("kinds-edit").await;
    b.assert_console_clean().await;
    b.assert_accessible().await;
    b.select("#edit-kind", "ask").await;
    b.click("main form[action$='/edit'] button[type=submit]:not([name])")
        .await;
    assert!(b.current_url().await.contains("/@ann/"));
    assert!(b.text("main .card .kind").await.ends_with("ask"));
    assert!(b.text("main .card .content").await.contains("#ask"));
    // Back to learned for what follows.
    b.click("main .card a[href$='/edit']").await;
    b.select("#edit-kind", "learned").await;
    b.click("main form[action$='/edit'] button[type=submit]:not([name])")
        .await;
    assert!(b.text("main .card .kind").await.ends_with("learned"));

    b.goto(&alpha.url("/compose")).await;
    b.fill(
        "#compose-text",
        "The migration test fails on PostgreSQL #stuck",
    )
    .await;
    b.click("#compose-submit").await;
    b.goto(&alpha.url("/compose")).await;
    b.fill("#compose-text", "Lunch break").await;
    b.click("#compose-submit").await;

    b.visit(&alpha.url("/home"), "kinds-home").await;
    assert_eq!(b.texts("main .card").await.len(), 3);
    b.click("nav.kind-filter a[href='/home?kind=learned']")
        .await;
    assert!(b.current_url().await.ends_with("/home?kind=learned"));
    b.screenshot("kinds-home-learned").await;
    b.assert_console_clean().await;
    let cards = b.texts("main .card .content").await;
    assert_eq!(cards.len(), 1, "{cards:?}");
    assert!(cards[0].contains("diesel docs"));
    assert_eq!(
        b.text("nav.kind-filter a[aria-current=page]").await,
        "learned"
    );

    b.visit(&alpha.url("/@ann?kind=stuck"), "kinds-profile-stuck")
        .await;
    let cards = b.texts("main .card .content").await;
    assert_eq!(cards.len(), 1, "{cards:?}");
    assert!(cards[0].contains("PostgreSQL"));
    assert!(b.text("main .card .kind").await.ends_with("stuck"));
    b.close().await;
}
