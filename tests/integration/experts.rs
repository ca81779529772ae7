//! "People who know" (issue 13 §3, docs/api.md "People who know"):
//! `GET /api/v1/outloud/experts` and the `/experts` page. Listing is
//! strictly opt-in (update_credentials and the settings form), remote
//! people count only when their actor says `discoverable: true`, only
//! public narrations count, accepted answers rank before learned
//! narrations, only the last 12 months count, and bad questions get 422
//! or 404.

use crate::{
    api_client::Api,
    browser::Browser,
    communities::create_community,
    harness::{both_backends, settled, TestInstance},
    web_account::WebClient,
};
use outloud::{
    config::Backend,
    db::{
        answer::AcceptedAnswer, community::Posting, follow::FollowState, post::Visibility,
        schema::posts,
    },
    service::posts::NewPost,
};
use serde_json::Value;

both_backends!(
    opt_in_visibility_ranking_and_window,
    remote_people_count_when_their_actor_is_discoverable,
    refusals_and_communities,
    people_who_know_in_the_browser,
);

/// The handles (`acct`) of an experts answer, in order.
fn accts(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|e| e["account"]["acct"].as_str().unwrap().to_string())
        .collect()
}

/// The entry of `acct` in an experts answer.
fn entry<'a>(list: &'a Value, acct: &str) -> &'a Value {
    list.as_array()
        .unwrap()
        .iter()
        .find(|e| e["account"]["acct"] == acct)
        .unwrap_or_else(|| panic!("{acct} not in {list}"))
}

async fn experts(instance: &TestInstance, query: &str) -> Value {
    Api::anonymous(instance)
        .get(&format!("/api/v1/outloud/experts?{query}"))
        .await
        .ok()
}

fn note(text: &str, visibility: Visibility) -> NewPost {
    NewPost {
        visibility,
        ..NewPost::note(text)
    }
}

async fn opt_in_visibility_ranking_and_window(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    for name in ["ana", "bo", "cy"] {
        alpha.create_user(name).await;
    }
    let ana_api = Api::for_user(&alpha, "ana", "read write").await;

    // Not discoverable yet: ana's public learned narration does not list her.
    let first = alpha
        .publish(
            "ana",
            note("Borrowing explained #rust #learned", Visibility::Public),
        )
        .await;
    assert!(accts(&experts(&alpha, "tag=rust").await).is_empty());

    // Opting in through update_credentials lists her, with the evidence.
    ana_api
        .patch_form(
            "/api/v1/accounts/update_credentials",
            &[("discoverable", "true")],
        )
        .await
        .ok();
    let list = experts(&alpha, "tag=%23Rust").await;
    assert_eq!(accts(&list), ["ana"]);
    let ana = entry(&list, "ana");
    assert_eq!(ana["learned"], 1);
    assert_eq!(ana["accepted_answers"], 0);
    assert_eq!(ana["evidence"][0]["id"], first.id.as_str());
    assert_eq!(ana["evidence"][0]["kind"], "learned");
    let url = ana["evidence"][0]["url"].as_str().unwrap();
    assert!(
        url == first.ap_id.0.as_str() || Some(url) == first.url.as_deref(),
        "{url}"
    );
    crate::schema::assert_valid("Account", &ana["account"]);

    // bo opts in through the settings form; his followers-only, direct,
    // unlisted, local and members-only learned narrations never count.
    let mut web = WebClient::new(&alpha);
    assert_eq!(web.sign_in("bo", "password for tests").await.status, 303);
    assert_eq!(web.get("/settings").await.status, 200);
    let saved = web
        .post(
            "/settings",
            &[("default_visibility", "public"), ("discoverable", "on")],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert!(alpha.local("bo").await.discoverable);
    for visibility in [
        Visibility::Followers,
        Visibility::Direct,
        Visibility::Unlisted,
        Visibility::Local,
    ] {
        alpha
            .publish("bo", note("Lifetimes, finally #rust #learned", visibility))
            .await;
    }
    let bo = alpha.local("bo").await;
    create_community(&alpha, "club", &bo, false, true, Posting::Anyone).await;
    let club = url::Url::parse(&alpha.url("/communities/club")).unwrap();
    let closed = alpha
        .publish(
            "bo",
            NewPost {
                community: Some(club),
                ..note("Members only #rust #learned", Visibility::Public)
            },
        )
        .await;
    assert_ne!(closed.visibility, "public");
    assert!(!accts(&experts(&alpha, "tag=rust").await).contains(&"bo".to_string()));
    alpha
        .publish(
            "bo",
            note("Traits in public #rust #learned", Visibility::Public),
        )
        .await;
    let list = experts(&alpha, "tag=rust").await;
    assert_eq!(entry(&list, "bo")["learned"], 1);

    // ana learns once more; cy (opted in) has an accepted answer to ana's
    // ask, a reply without the tag: an answer ranks before narrations.
    alpha
        .publish(
            "ana",
            note("Iterators are lazy #rust #learned", Visibility::Public),
        )
        .await;
    alpha.opt_in("cy").await;
    let ask = alpha
        .publish(
            "ana",
            note("Why does this not compile? #rust #ask", Visibility::Public),
        )
        .await;
    let answer = alpha.reply("cy", &ask.ap_id.0, "Add a lifetime.").await;
    let (q, a, by) = (ask.id.clone(), answer.id.clone(), ask.author_id.clone());
    alpha
        .context
        .db
        .run(move |conn| {
            AcceptedAnswer::accept(conn, &q, &a, Some(&by), outloud::db::now())?;
            Ok(())
        })
        .await
        .unwrap();
    let list = experts(&alpha, "tag=rust").await;
    assert_eq!(accts(&list), ["cy", "ana", "bo"]);
    let cy = entry(&list, "cy");
    assert_eq!(cy["accepted_answers"], 1);
    assert_eq!(cy["evidence"][0]["id"], answer.id.as_str());
    assert_eq!(cy["evidence"][0]["kind"], "accepted_answer");
    assert_eq!(entry(&list, "ana")["learned"], 2);
    // `limit` cuts the list from the top.
    assert_eq!(accts(&experts(&alpha, "tag=rust&limit=1").await), ["cy"]);

    // Older than 12 months: no longer counted.
    let old = first.id.clone();
    alpha
        .context
        .db
        .run(move |conn| {
            use diesel::prelude::*;
            diesel::update(posts::table.find(old))
                .set(posts::published.eq(outloud::db::now() - chrono::Duration::days(400)))
                .execute(conn)?;
            Ok(())
        })
        .await
        .unwrap();
    let list = experts(&alpha, "tag=rust").await;
    assert_eq!(entry(&list, "ana")["learned"], 1);

    // Opting out takes her off the list again.
    ana_api
        .patch_form(
            "/api/v1/accounts/update_credentials",
            &[("discoverable", "false")],
        )
        .await
        .ok();
    assert_eq!(accts(&experts(&alpha, "tag=rust").await), ["cy", "bo"]);
}

/// beta's bob (discoverable) and carol (not) narrate what they learned;
/// alpha's alice follows both, so alpha has their posts and actors.
async fn remote_people_count_when_their_actor_is_discoverable(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    alpha.create_user("alice").await;
    beta.create_user("bob").await;
    beta.create_user("carol").await;
    beta.opt_in("bob").await;
    for name in ["bob", "carol"] {
        let handle = beta.handle_of(name);
        alpha.follow("alice", &handle).await;
        settled(&[&alpha, &beta], || async {
            (alpha.follow_state(&alpha.handle_of("alice"), &handle).await
                == Some(FollowState::Accepted))
            .then_some(())
        })
        .await;
    }
    let by_bob = beta
        .publish(
            "bob",
            note("Cargo features #rust #learned", Visibility::Public),
        )
        .await;
    let by_carol = beta
        .publish("carol", note("Macros #rust #learned", Visibility::Public))
        .await;
    settled(&[&alpha, &beta], || async {
        (alpha.stored_post(by_bob.ap_id.0.as_str()).await.is_some()
            && alpha.stored_post(by_carol.ap_id.0.as_str()).await.is_some())
        .then_some(())
    })
    .await;
    let list = experts(&alpha, "tag=rust").await;
    assert_eq!(accts(&list), [beta.handle_of("bob")]);
    let bob = entry(&list, &beta.handle_of("bob"));
    assert_eq!(bob["learned"], 1);
    assert_eq!(bob["evidence"][0]["kind"], "learned");
}

async fn refusals_and_communities(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let ana = alpha.create_user("ana").await;
    alpha.opt_in("ana").await;
    create_community(&alpha, "guild", &ana, false, false, Posting::Anyone).await;
    let guild = alpha.local("guild").await;
    alpha
        .publish(
            "ana",
            NewPost {
                community: Some(url::Url::parse(&alpha.url("/communities/guild")).unwrap()),
                ..note("Pairing works #learned", Visibility::Public)
            },
        )
        .await;
    let list = experts(&alpha, &format!("community={}", guild.id)).await;
    assert_eq!(accts(&list), ["ana"]);
    assert!(accts(&experts(&alpha, "tag=cobol").await).is_empty());

    let api = Api::anonymous(&alpha);
    for (query, status) in [
        ("", 422),
        ("tag=", 422),
        (&*format!("tag=rust&community={}", guild.id), 422),
        ("tag=not%20a%20tag", 422),
        ("community=nobody", 404),
        (&*format!("community={}", ana.id), 404),
        ("tag=rust&limit=many", 422),
    ] {
        let answer = api.get(&format!("/api/v1/outloud/experts?{query}")).await;
        assert_eq!(answer.status.as_u16(), status, "{query}: {}", answer.json);
        assert!(answer.json["error"].is_string(), "{query}");
    }
    // The page refuses the same way, as an HTML page.
    for (query, status) in [("", 422), ("community=nobody", 404)] {
        let res = alpha.get_html(&format!("/experts?{query}")).await;
        assert_eq!(res.status().as_u16(), status, "{query}");
        assert!(res.text().await.unwrap().contains("<html"));
    }
}

async fn people_who_know_in_the_browser(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    alpha.create_user("ana").await;
    alpha.opt_in("ana").await;
    let post = alpha
        .publish(
            "ana",
            note("Pattern matching #rust #learned", Visibility::Public),
        )
        .await;
    let label = format!("experts-{backend:?}").to_lowercase();
    let Some(b) = Browser::start(&label).await else {
        return;
    };
    b.visit(&alpha.url("/tags/rust"), "tag-page").await;
    assert!(b.exists("a[href='/experts?tag=rust']").await);
    b.click("a[href='/experts?tag=rust']").await;
    b.visit(&alpha.url("/experts?tag=rust"), "people-who-know")
        .await;
    assert_eq!(b.text("h1").await, "People who know #rust");
    let names = b.texts("ol.experts .actor-card .handle").await;
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].contains("ana"), "{names:?}");
    assert!(b.text("ol.experts").await.contains("1 learned narration"));
    let link = post.url.clone().unwrap_or(post.ap_id.0.to_string());
    assert!(
        b.exists(&format!("ul.evidence a[href='{link}']")).await,
        "{link} not on the page"
    );
    b.visit(&alpha.url("/experts?tag=cobol"), "nobody-knows")
        .await;
    assert!(b.text("p.empty").await.contains("Nobody is listed"));
    b.close().await;
}
