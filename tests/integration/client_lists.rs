//! Lists (docs/api.md "Lists"): CRUD with its 422s, another person's
//! lists answered 404, members (followed accounts only; an unfollow
//! removes them), the list timeline (members' posts and boosts only,
//! replies by the list's policy), exclusive lists kept out of home, and
//! the `list` stream.

use crate::{
    api_client::{link, Api},
    harness::{both_backends, TestInstance},
    schema::assert_valid,
    streaming_client::{collect_until, Client, Sse},
};
use outloud::config::Backend;
use serde_json::{json, Value};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// The API id of a local account.
async fn account_id(api: &Api, name: &str) -> String {
    id(&api
        .get(&format!("/api/v1/accounts/lookup?acct={name}"))
        .await
        .ok())
}

async fn crud_and_validation(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    alpha.create_user("alice").await;
    alpha.create_user("bob").await;
    let alice = Api::for_user(&alpha, "alice", "read write follow").await;
    let bob = Api::for_user(&alpha, "bob", "read write follow").await;

    assert_eq!(alice.get("/api/v1/lists").await.ok(), json!([]));
    let created = alice
        .post("/api/v1/lists", json!({"title": "Colleagues"}))
        .await
        .ok();
    assert_valid("List", &created);
    assert_eq!(created["title"], "Colleagues");
    assert_eq!(created["replies_policy"], "list");
    assert_eq!(created["exclusive"], false);
    let lid = id(&created);
    // Form-encoded, with the other fields.
    let form = alice
        .post_form(
            "/api/v1/lists",
            &[
                ("title", "Rustaceans"),
                ("replies_policy", "followed"),
                ("exclusive", "true"),
            ],
        )
        .await
        .ok();
    assert_eq!(form["replies_policy"], "followed");
    assert_eq!(form["exclusive"], true);
    let all = alice.get("/api/v1/lists").await.ok();
    assert_eq!(Api::ids(&all), vec![lid.clone(), id(&form)]);
    assert_eq!(
        alice.get(&format!("/api/v1/lists/{lid}")).await.ok(),
        created
    );

    let updated = alice
        .put(
            &format!("/api/v1/lists/{lid}"),
            json!({"title": "Team", "replies_policy": "none", "exclusive": true}),
        )
        .await
        .ok();
    assert_valid("List", &updated);
    assert_eq!(updated["title"], "Team");
    assert_eq!(updated["replies_policy"], "none");
    assert_eq!(updated["exclusive"], true);
    // An update without a field keeps it.
    let kept = alice
        .put(&format!("/api/v1/lists/{lid}"), json!({"title": "Team 2"}))
        .await
        .ok();
    assert_eq!(kept["replies_policy"], "none");
    assert_eq!(kept["exclusive"], true);

    // 422s: blank title, unknown policy.
    let blank = alice
        .post("/api/v1/lists", json!({"title": "  "}))
        .await
        .expect(422);
    assert!(
        blank["error"].as_str().unwrap().contains("Title"),
        "{blank}"
    );
    alice.post("/api/v1/lists", json!({})).await.expect(422);
    let policy = alice
        .post(
            "/api/v1/lists",
            json!({"title": "x", "replies_policy": "everyone"}),
        )
        .await
        .expect(422);
    assert!(policy["error"].is_string());
    alice
        .put(&format!("/api/v1/lists/{lid}"), json!({"title": ""}))
        .await
        .expect(422);
    alice
        .put(
            &format!("/api/v1/lists/{lid}"),
            json!({"replies_policy": "all"}),
        )
        .await
        .expect(422);
    assert_eq!(
        alice
            .get("/api/v1/lists")
            .await
            .ok()
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // Another person's list is unknown to them.
    assert_eq!(bob.get("/api/v1/lists").await.ok(), json!([]));
    let path = format!("/api/v1/lists/{lid}");
    bob.get(&path).await.expect(404);
    bob.put(&path, json!({"title": "mine"})).await.expect(404);
    bob.delete(&path).await.expect(404);
    bob.get(&format!("{path}/accounts")).await.expect(404);
    bob.post(&format!("{path}/accounts"), json!({"account_ids": []}))
        .await
        .expect(404);
    bob.get(&format!("/api/v1/timelines/list/{lid}"))
        .await
        .expect(404);
    alice.get("/api/v1/lists/nonexistent").await.expect(404);
    // The scope is checked: a read-only token cannot create.
    let reader = Api::for_user(&alpha, "alice", "read").await;
    assert!(reader
        .post("/api/v1/lists", json!({"title": "x"}))
        .await
        .status
        .is_client_error());

    assert_eq!(alice.delete(&path).await.ok(), json!({}));
    alice.get(&path).await.expect(404);
    assert_eq!(
        Api::ids(&alice.get("/api/v1/lists").await.ok()),
        vec![id(&form)]
    );
}

async fn members(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    for name in ["alice", "bob", "carol", "dave"] {
        alpha.create_user(name).await;
    }
    alpha.follow("alice", &alpha.handle_of("bob")).await;
    alpha.follow("alice", &alpha.handle_of("dave")).await;
    let alice = Api::for_user(&alpha, "alice", "read write follow").await;
    let (bob, carol, dave) = (
        account_id(&alice, "bob").await,
        account_id(&alice, "carol").await,
        account_id(&alice, "dave").await,
    );
    let me = account_id(&alice, "alice").await;
    let lid = id(&alice
        .post("/api/v1/lists", json!({"title": "Friends"}))
        .await
        .ok());
    let accounts = format!("/api/v1/lists/{lid}/accounts");

    assert_eq!(alice.get(&accounts).await.ok(), json!([]));
    assert_eq!(
        alice
            .post(&accounts, json!({"account_ids": [bob.clone()]}))
            .await
            .ok(),
        json!({})
    );
    // Form-encoded with brackets; adding again is no error; oneself is allowed.
    alice
        .post_form(
            &accounts,
            &[("account_ids[]", &dave), ("account_ids[]", &bob)],
        )
        .await
        .ok();
    alice
        .post(&accounts, json!({"account_ids": [me.clone()]}))
        .await
        .ok();
    let listed = alice.get(&accounts).await.ok();
    assert_valid("Account", &listed[0]);
    let mut ids = Api::ids(&listed);
    ids.sort();
    let mut want = vec![bob.clone(), dave.clone(), me.clone()];
    want.sort();
    assert_eq!(ids, want);
    // Paged with a Link header; limit=0 is all.
    let first = alice.get(&format!("{accounts}?limit=2")).await;
    let next = link(&first.header("link").unwrap(), "next").unwrap();
    assert_eq!(first.ok().as_array().unwrap().len(), 2);
    let path = next.trim_start_matches(&alpha.url(""));
    let rest = alice
        .get(&format!("/{}", path.trim_start_matches('/')))
        .await
        .ok();
    assert_eq!(rest.as_array().unwrap().len(), 1);
    assert_eq!(
        alice
            .get(&format!("{accounts}?limit=0"))
            .await
            .ok()
            .as_array()
            .unwrap()
            .len(),
        3
    );

    // Not followed: 422, and nothing of the request is added.
    let refused = alice
        .post(&accounts, json!({"account_ids": [carol.clone()]}))
        .await
        .expect(422);
    assert!(refused["error"].is_string());
    alice
        .post(&accounts, json!({"account_ids": []}))
        .await
        .expect(422);
    alice
        .post(&accounts, json!({"account_ids": ["no-such-account"]}))
        .await
        .expect(404);
    assert_eq!(Api::ids(&alice.get(&accounts).await.ok()).len(), 3);

    // The lists an account is on.
    let second = id(&alice
        .post("/api/v1/lists", json!({"title": "Close"}))
        .await
        .ok());
    alice
        .post(
            &format!("/api/v1/lists/{second}/accounts"),
            json!({"account_ids": [bob.clone()]}),
        )
        .await
        .ok();
    let of_bob = alice
        .get(&format!("/api/v1/accounts/{bob}/lists"))
        .await
        .ok();
    assert_valid("List", &of_bob[0]);
    assert_eq!(Api::ids(&of_bob), vec![lid.clone(), second.clone()]);
    assert_eq!(
        Api::ids(
            &alice
                .get(&format!("/api/v1/accounts/{dave}/lists"))
                .await
                .ok()
        ),
        vec![lid.clone()]
    );
    assert_eq!(
        alice
            .get(&format!("/api/v1/accounts/{carol}/lists"))
            .await
            .ok(),
        json!([])
    );

    // Removing: as JSON, and as a query string (Mastodon.py sends DELETE
    // parameters so).
    alice
        .send(
            reqwest::Method::DELETE,
            &accounts,
            Some(crate::api_client::Body::Json(
                json!({"account_ids": [dave.clone()]}),
            )),
        )
        .await
        .ok();
    alice
        .delete(&format!("{accounts}?account_ids[]={me}"))
        .await
        .ok();
    assert_eq!(
        Api::ids(&alice.get(&accounts).await.ok()),
        vec![bob.clone()]
    );

    // Unfollowing removes the member from every list.
    alice
        .post(&format!("/api/v1/accounts/{bob}/unfollow"), json!({}))
        .await
        .ok();
    assert_eq!(alice.get(&accounts).await.ok(), json!([]));
    assert_eq!(
        alice
            .get(&format!("/api/v1/lists/{second}/accounts"))
            .await
            .ok(),
        json!([])
    );
    assert_eq!(
        alice
            .get(&format!("/api/v1/accounts/{bob}/lists"))
            .await
            .ok(),
        json!([])
    );
}

/// The ids of a timeline page.
async fn timeline(api: &Api, path: &str) -> Vec<String> {
    Api::ids(&api.get(path).await.ok())
}

async fn list_timeline(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    for name in ["alice", "bob", "carol", "dave"] {
        alpha.create_user(name).await;
    }
    alpha.follow("alice", &alpha.handle_of("bob")).await;
    alpha.follow("alice", &alpha.handle_of("carol")).await;
    let alice = Api::for_user(&alpha, "alice", "read write follow").await;
    let bob = Api::for_user(&alpha, "bob", "read write follow").await;
    let carol = Api::for_user(&alpha, "carol", "read write follow").await;
    let dave = Api::for_user(&alpha, "dave", "read write follow").await;
    let bob_id = account_id(&alice, "bob").await;
    let lid = id(&alice
        .post("/api/v1/lists", json!({"title": "Bob"}))
        .await
        .ok());
    alice
        .post(
            &format!("/api/v1/lists/{lid}/accounts"),
            json!({"account_ids": [bob_id]}),
        )
        .await
        .ok();
    let path = format!("/api/v1/timelines/list/{lid}");

    let by_bob = id(&bob.status(json!({"status": "from bob"})).await);
    let by_carol = id(&carol.status(json!({"status": "from carol"})).await);
    let private = id(&bob
        .status(json!({"status": "for followers", "visibility": "private"}))
        .await);
    let direct = id(&bob
        .status(json!({"status": "@alice just us", "visibility": "direct"}))
        .await);
    let dave_post = id(&dave.status(json!({"status": "from dave"})).await);
    let boost = id(&bob
        .post(&format!("/api/v1/statuses/{dave_post}/reblog"), json!({}))
        .await
        .ok());

    let shown = timeline(&alice, &path).await;
    assert_eq!(shown, vec![boost.clone(), private.clone(), by_bob.clone()]);
    for absent in [&by_carol, &direct, &dave_post] {
        assert!(!shown.contains(absent), "{absent} in {shown:?}");
    }
    // Paged like home, with a Link header.
    let page = alice.get(&format!("{path}?limit=1")).await;
    assert!(page.header("link").unwrap().contains("max_id="));
    assert_eq!(Api::ids(&page.ok()), vec![boost.clone()]);
    assert_eq!(
        timeline(&alice, &format!("{path}?max_id={private}")).await,
        vec![by_bob.clone()]
    );

    // Replies by policy: to oneself always; to a followed non-member with
    // `followed`; to members only with `list`; none with `none`.
    let own = id(&bob
        .status(json!({"status": "more", "in_reply_to_id": by_bob}))
        .await);
    let to_carol = id(&bob
        .status(json!({"status": "@carol yes", "in_reply_to_id": by_carol}))
        .await);
    let to_dave = id(&bob
        .status(json!({"status": "@dave no", "in_reply_to_id": dave_post}))
        .await);
    let replies = |policy: &'static str| {
        let (alice, path, lid) = (alice.clone(), path.clone(), lid.clone());
        async move {
            alice
                .put(
                    &format!("/api/v1/lists/{lid}"),
                    json!({"replies_policy": policy}),
                )
                .await
                .ok();
            timeline(&alice, &path).await
        }
    };
    let list = replies("list").await;
    assert!(list.contains(&own) && !list.contains(&to_carol) && !list.contains(&to_dave));
    let followed = replies("followed").await;
    assert!(followed.contains(&own) && followed.contains(&to_carol));
    assert!(!followed.contains(&to_dave));
    let none = replies("none").await;
    assert!(none.contains(&own) && !none.contains(&to_carol) && !none.contains(&to_dave));
    assert!(none.contains(&by_bob));

    // Exclusive: the members' posts leave home (the list keeps them).
    let home = timeline(&alice, "/api/v1/timelines/home").await;
    assert!(home.contains(&by_bob) && home.contains(&by_carol));
    assert!(home.contains(&boost), "{home:?}");
    alice
        .put(&format!("/api/v1/lists/{lid}"), json!({"exclusive": true}))
        .await
        .ok();
    let home = timeline(&alice, "/api/v1/timelines/home").await;
    assert!(!home.contains(&by_bob), "{home:?}");
    // Their boosts too, as in Mastodon.
    assert!(!home.contains(&boost), "{home:?}");
    assert!(home.contains(&by_carol));
    assert!(timeline(&alice, &path).await.contains(&by_bob));
    // Bob's own home is his.
    assert!(timeline(&bob, "/api/v1/timelines/home")
        .await
        .contains(&by_bob));
}

async fn list_stream(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    for name in ["alice", "bob", "carol"] {
        alpha.create_user(name).await;
    }
    alpha.follow("alice", &alpha.handle_of("bob")).await;
    alpha.follow("alice", &alpha.handle_of("carol")).await;
    let alice = Api::for_user(&alpha, "alice", "read write follow").await;
    let bob = Api::for_user(&alpha, "bob", "read write follow").await;
    let carol = Api::for_user(&alpha, "carol", "read write follow").await;
    let bob_id = account_id(&alice, "bob").await;
    // Exclusive: Bob's posts come on the list's stream, not on `user`.
    let lid = id(&alice
        .post("/api/v1/lists", json!({"title": "Bob", "exclusive": true}))
        .await
        .ok());
    alice
        .post(
            &format!("/api/v1/lists/{lid}/accounts"),
            json!({"account_ids": [bob_id]}),
        )
        .await
        .ok();
    let token = alice.token.clone().unwrap();
    let mut user = Sse::open(&alpha.url("/api/v1/streaming/user"), Some(&token)).await;
    // Someone else's list is no stream of theirs.
    let carols_token = carol.token.clone().unwrap();
    let refused = Sse::request(
        &alpha.url(&format!("/api/v1/streaming/list?list={lid}")),
        Some(&carols_token),
    )
    .await;
    assert_eq!(refused.status().as_u16(), 404);

    let mut stream = Sse::open(
        &alpha.url(&format!("/api/v1/streaming/list?list={lid}")),
        Some(&token),
    )
    .await;
    let first = id(&bob.status(json!({"status": "one"})).await);
    let not_member = id(&carol.status(json!({"status": "two"})).await);
    let marker = id(&bob.status(json!({"status": "marker"})).await);
    let events = collect_until(Client::Sse(&mut stream), &marker).await;
    let updates: Vec<String> = events
        .iter()
        .filter(|e| e.event == "update")
        .filter_map(|e| e.status_id())
        .collect();
    assert_eq!(updates, vec![first.clone(), marker.clone()], "{events:#?}");
    assert!(!updates.contains(&not_member));
    let status = events[0].json();
    assert_valid("Status", &status);
    let carol_marker = id(&carol.status(json!({"status": "carol's marker"})).await);
    let events = collect_until(Client::Sse(&mut user), &carol_marker).await;
    let on_user: Vec<String> = events
        .iter()
        .filter(|e| e.event == "update")
        .filter_map(|e| e.status_id())
        .collect();
    assert_eq!(
        on_user,
        vec![not_member.clone(), carol_marker],
        "{events:#?}"
    );
    // A member's deleted post is deleted from the stream too.
    bob.delete(&format!("/api/v1/statuses/{first}")).await.ok();
    let marker2 = id(&bob.status(json!({"status": "marker two"})).await);
    let events = collect_until(Client::Sse(&mut stream), &marker2).await;
    assert!(
        events
            .iter()
            .any(|e| e.event == "delete" && e.payload == first),
        "{events:#?}"
    );
}

both_backends!(crud_and_validation, members, list_timeline, list_stream);
