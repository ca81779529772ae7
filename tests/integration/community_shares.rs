//! A post shared by a community the reader joined shows in home, and in
//! the community account's statuses, as the community's reblog (as
//! Mastodon shows Lemmy and Friendica group shares), once, with ids that
//! page like any other.

use crate::{
    api_client::{link, Api},
    communities::create_community,
    harness::{both_backends, settle, TestInstance},
    schema::assert_valid,
};
use outloud::{config::Backend, db::community::Posting, service::posts::NewPost};
use serde_json::Value;

both_backends!(
    remote_community_shares_in_home,
    local_community_shares_in_home
);

/// The entries of `list` that show the post with ActivityPub id `uri`,
/// whether as itself or inside a reblog.
fn showing<'a>(list: &'a Value, uri: &str) -> Vec<&'a Value> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .filter(|s| s["uri"] == uri || s["reblog"]["uri"] == uri)
        .collect()
}

/// The one entry of `list` showing `uri`, which must be `community`'s
/// share of a post by `author`.
fn the_share<'a>(list: &'a Value, uri: &str, community: &str, author: &str) -> &'a Value {
    let found = showing(list, uri);
    assert_eq!(found.len(), 1, "shown once: {list}");
    let share = found[0];
    assert_valid("Status", share);
    assert_eq!(share["account"]["acct"], community, "{share}");
    assert_eq!(share["account"]["group"], true, "{share}");
    assert_eq!(share["reblog"]["uri"], uri, "{share}");
    assert_eq!(share["reblog"]["account"]["acct"], author, "{share}");
    assert_ne!(share["id"], share["reblog"]["id"]);
    share
}

fn id(status: &Value) -> &str {
    status["id"].as_str().unwrap()
}

async fn remote_community_shares_in_home(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    let all = [&alpha, &beta];
    alpha.create_user("alice").await;
    let bob = beta.create_user("bob").await;
    create_community(&beta, "rust", &bob, false, false, Posting::Anyone).await;
    let rust = format!("rust@{}", beta.domain);
    let bob_handle = format!("bob@{}", beta.domain);
    // alice joins the community and follows nobody else.
    alpha.follow("alice", &rust).await;
    settle(&all).await;
    let group = beta.local("rust").await;
    let into_rust = |text: &str| NewPost {
        community: Some(group.ap_id.0.clone()),
        ..NewPost::note(text)
    };
    let first = beta.publish("bob", into_rust("First shared post")).await;
    let second = beta.publish("bob", into_rust("Second shared post")).await;
    settle(&all).await;

    let api = Api::for_user(&alpha, "alice", "read").await;
    let home = api.get("/api/v1/timelines/home").await.ok();
    let share_1 = the_share(&home, first.ap_id.as_str(), &rust, &bob_handle).clone();
    let share_2 = the_share(&home, second.ap_id.as_str(), &rust, &bob_handle).clone();
    // Newest first, by when alpha received them (which may differ from
    // the order they were sent in).
    let (share_2, share_1) = match Api::ids(&home).as_slice() {
        [newer, older] if newer == id(&share_1) && older == id(&share_2) => (share_1, share_2),
        [newer, older] if newer == id(&share_2) && older == id(&share_1) => (share_2, share_1),
        other => panic!("two shares in home, got {other:?}"),
    };
    let first_uri = share_1["reblog"]["uri"].as_str().unwrap().to_string();

    // A share's id is a status of its own, and it pages like any other.
    let fetched = api
        .get(&format!("/api/v1/statuses/{}", id(&share_1)))
        .await
        .ok();
    assert_eq!(fetched["id"], share_1["id"]);
    assert_eq!(fetched["reblog"]["uri"], first_uri.as_str());
    let page = api.get("/api/v1/timelines/home?limit=1").await;
    let next = link(&page.header("link").unwrap(), "next").unwrap();
    assert_eq!(Api::ids(&page.ok()), [id(&share_2)]);
    assert_eq!(Api::ids(&api.get(&next).await.ok()), [id(&share_1)]);
    for bound in ["since_id", "min_id"] {
        let newer = api
            .get(&format!("/api/v1/timelines/home?{bound}={}", id(&share_1)))
            .await
            .ok();
        assert_eq!(Api::ids(&newer), [id(&share_2)], "{bound}");
    }
    let older = api
        .get(&format!("/api/v1/timelines/home?max_id={}", id(&share_2)))
        .await
        .ok();
    assert_eq!(Api::ids(&older), [id(&share_1)]);

    // The community account's statuses show the same shares.
    let group_here = alpha.resolve(&rust).await;
    let statuses = api
        .get(&format!("/api/v1/accounts/{}/statuses", group_here.id))
        .await
        .ok();
    let listed = the_share(&statuses, &first_uri, &rust, &bob_handle);
    assert_eq!(listed["id"], share_1["id"]);

    // Following the author too, alice still sees each post once: as the
    // community's share.
    alpha.follow("alice", &bob_handle).await;
    settle(&all).await;
    let home = api.get("/api/v1/timelines/home").await.ok();
    the_share(&home, first.ap_id.as_str(), &rust, &bob_handle);
    the_share(&home, second.ap_id.as_str(), &rust, &bob_handle);
}

async fn local_community_shares_in_home(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    alpha.create_user("alice").await;
    let carol = alpha.create_user("carol").await;
    create_community(&alpha, "club", &carol, false, false, Posting::Anyone).await;
    alpha.follow("alice", &alpha.handle_of("club")).await;
    settle(&[&alpha]).await;
    let group = alpha.local("club").await;
    let post = alpha
        .publish(
            "carol",
            NewPost {
                community: Some(group.ap_id.0.clone()),
                ..NewPost::note("Meeting on Thursday")
            },
        )
        .await;
    settle(&[&alpha]).await;

    let (club, carol_acct) = ("club", "carol");
    let api = Api::for_user(&alpha, "alice", "read").await;
    let home = api.get("/api/v1/timelines/home").await.ok();
    let share = the_share(&home, post.ap_id.as_str(), club, carol_acct).clone();
    let statuses = api
        .get(&format!("/api/v1/accounts/{}/statuses", group.id))
        .await
        .ok();
    let listed = the_share(&statuses, post.ap_id.as_str(), club, carol_acct);
    assert_eq!(listed["id"], share["id"]);
    // Anonymous readers see the community's public shares the same way.
    let statuses = Api::anonymous(&alpha)
        .get(&format!("/api/v1/accounts/{}/statuses", group.id))
        .await
        .ok();
    the_share(&statuses, post.ap_id.as_str(), club, carol_acct);

    // Following the author too: once, as the share.
    alpha.follow("alice", &alpha.handle_of("carol")).await;
    settle(&[&alpha]).await;
    let home = api.get("/api/v1/timelines/home").await.ok();
    the_share(&home, post.ap_id.as_str(), club, carol_acct);

    // alice's own post in the club stays her own in her home.
    let mine = alpha
        .publish(
            "alice",
            NewPost {
                community: Some(group.ap_id.0.clone()),
                ..NewPost::note("I will bring snacks")
            },
        )
        .await;
    settle(&[&alpha]).await;
    let home = api.get("/api/v1/timelines/home").await.ok();
    let own = showing(&home, mine.ap_id.as_str());
    assert_eq!(own.len(), 1, "{home}");
    assert_eq!(own[0]["id"], mine.id.as_str());
    assert!(own[0]["reblog"].is_null());
}
