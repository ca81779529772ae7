//! The small endpoints apps call once a person has signed in (docs/api.md
//! "Suggestions", "Instance texts and activity", "Notification policy",
//! "oEmbed"): follow suggestions (friends of friends first, blocks and
//! dismissals out), the extended description an admin sets, weekly
//! activity, the notification policy (accept, filter, drop) with its
//! requests, and oEmbed with the embed page. Entities are checked against
//! Mastodon's schemas.

use crate::{
    api_client::Api,
    browser::Browser,
    harness::{both_backends, TestInstance},
    schema::{assert_all_valid, assert_valid},
    web_account::WebClient,
};
use outloud::{
    config::Backend,
    db::local_user::Role,
    service::{accounts, suspension},
};
use serde_json::{json, Value};

fn id(v: &Value) -> String {
    v["id"].as_str().unwrap().to_string()
}

/// The account ids of a v2 suggestions list, in order.
fn suggested(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|s| id(&s["account"]))
        .collect()
}

async fn suggestions_rank_friends_of_friends(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let mut ids = std::collections::BTreeMap::new();
    for name in ["alice", "bob", "carol", "dave", "erin", "frank", "gus"] {
        ids.insert(name, alpha.create_user(name).await.id);
    }
    let handle = |n: &str| alpha.handle_of(n);
    // Alice follows Bob and Carol; both follow Dave, Bob follows Erin.
    alpha.follow("alice", &handle("bob")).await;
    alpha.follow("alice", &handle("carol")).await;
    alpha.follow("bob", &handle("dave")).await;
    alpha.follow("carol", &handle("dave")).await;
    alpha.follow("bob", &handle("erin")).await;
    let alice = Api::for_user(&alpha, "alice", "read write follow").await;

    let list = alice.get("/api/v2/suggestions").await.ok();
    assert_all_valid("Suggestion", &list);
    let order = suggested(&list);
    // Friends of friends first, most shared first; then the instance's
    // people; never herself or whom she follows.
    assert_eq!(order[..2], [ids["dave"].clone(), ids["erin"].clone()]);
    assert_eq!(
        list[0]["sources"],
        json!(["friends_of_friends", "most_followed"])
    );
    assert_eq!(list[0]["source"], "past_interactions");
    for absent in ["alice", "bob", "carol"] {
        assert!(!order.contains(&ids[absent]), "{absent} in {order:?}");
    }
    for present in ["frank", "gus"] {
        assert!(order.contains(&ids[present]), "{present} missing");
    }
    let frank = list
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["account"]["id"] == ids["frank"].as_str())
        .unwrap();
    assert_eq!(frank["sources"], json!(["most_followed"]));
    assert_eq!(frank["source"], "global");

    // Blocked either way, or muted, or not discoverable: out.
    alice
        .post(
            &format!("/api/v1/accounts/{}/block", ids["erin"]),
            json!({}),
        )
        .await
        .ok();
    let frank_api = Api::for_user(&alpha, "frank", "read write follow").await;
    frank_api
        .post(
            &format!("/api/v1/accounts/{}/block", ids["alice"]),
            json!({}),
        )
        .await
        .ok();
    let gus = Api::for_user(&alpha, "gus", "read write follow").await;
    gus.patch_form(
        "/api/v1/accounts/update_credentials",
        &[("discoverable", "false")],
    )
    .await
    .ok();
    let order = suggested(&alice.get("/api/v2/suggestions").await.ok());
    assert_eq!(order, vec![ids["dave"].clone()]);

    // Suspended: out too.
    make_admin(&alpha, "root").await;
    let root = alpha.local("root").await;
    assert!(suggested(&alice.get("/api/v2/suggestions").await.ok()).contains(&root.id));
    suspension::set_suspended(
        &alpha.data(),
        suspension::Suspender::Admin(&root),
        &ids["dave"],
        true,
    )
    .await
    .unwrap();
    let order = suggested(&alice.get("/api/v2/suggestions").await.ok());
    assert_eq!(order, vec![root.id.clone()]);
    suspension::set_suspended(
        &alpha.data(),
        suspension::Suspender::Admin(&root),
        &ids["dave"],
        false,
    )
    .await
    .unwrap();
    alice
        .delete(&format!("/api/v1/suggestions/{}", root.id))
        .await
        .ok();

    // Dismissed: gone for good, from both versions.
    let v1 = alice.get("/api/v1/suggestions").await.ok();
    assert_all_valid("Account", &v1);
    assert_eq!(Api::ids(&v1), vec![ids["dave"].clone()]);
    alice
        .delete(&format!("/api/v1/suggestions/{}", ids["dave"]))
        .await
        .ok();
    assert_eq!(alice.get("/api/v2/suggestions").await.ok(), json!([]));
    assert_eq!(alice.get("/api/v1/suggestions").await.ok(), json!([]));
    alice.delete("/api/v1/suggestions/nobody").await.expect(404);

    // `limit`, and a token is needed.
    let bob = Api::for_user(&alpha, "bob", "read").await;
    let one = bob.get("/api/v2/suggestions?limit=1").await.ok();
    assert_eq!(one.as_array().unwrap().len(), 1);
    Api::anonymous(&alpha)
        .get("/api/v2/suggestions")
        .await
        .expect(401);
}

async fn make_admin(instance: &TestInstance, name: &str) {
    accounts::create_user(
        &instance.context.db,
        &instance.context.urls,
        accounts::NewUser {
            name,
            password: "password for tests",
            role: Role::Admin,
        },
    )
    .await
    .unwrap();
}

async fn extended_description_and_activity(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let anonymous = Api::anonymous(&alpha);
    let empty = anonymous
        .get("/api/v1/instance/extended_description")
        .await
        .ok();
    assert_valid("ExtendedDescription", &empty);
    assert_eq!(empty["content"], "");

    // The admin writes it on the admin page, in Markdown.
    make_admin(&alpha, "root").await;
    alpha.create_user("alice").await;
    alpha.create_user("bob").await;
    let mut boss = WebClient::new(&alpha);
    let signed = boss.sign_in("root", "password for tests").await;
    assert_eq!(signed.status, 303, "{}", signed.body);
    let page = boss.get("/admin/instance").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("name=\"about\""), "{}", page.body);
    let saved = boss
        .post(
            "/admin/instance/about",
            &[(
                "about",
                "## Who we are\n\nA **guild** of builders. <script>alert(1)</script>\n\n[Write](mailto:hi@example.org) to us.",
            )],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(saved.location, "/admin/instance?done=about");
    let about = anonymous
        .get("/api/v1/instance/extended_description")
        .await
        .ok();
    assert_valid("ExtendedDescription", &about);
    let html = about["content"].as_str().unwrap();
    assert!(html.contains("<h2>Who we are</h2>"), "{html}");
    assert!(html.contains("<strong>guild</strong>"), "{html}");
    assert!(html.contains("href=\"mailto:hi@example.org\""), "{html}");
    assert!(!html.contains("<script"), "{html}");
    assert!(html.contains("&lt;script&gt;"), "{html}");
    // The page shows the Markdown back; someone else cannot save.
    assert!(boss
        .get("/admin/instance")
        .await
        .body
        .contains("## Who we are"));
    let too_long = "x".repeat(outloud::service::instance::MAX_EXTENDED_DESCRIPTION + 1);
    let refused = boss
        .post("/admin/instance/about", &[("about", too_long.as_str())])
        .await;
    assert_eq!(refused.status, 422);
    let alice_actor = alpha.local("alice").await;
    let err =
        outloud::service::instance::set_extended_description(&alpha.context.db, &alice_actor, "x")
            .await
            .unwrap_err();
    assert_eq!(err.kind, outloud::error::ErrorKind::Forbidden);

    // Activity: this week's posts, registrations and sign-ins (Alice's
    // token and Root's web session).
    let alice = Api::for_user(&alpha, "alice", "read write").await;
    alice.status(json!({"status": "one"})).await;
    alice
        .status(json!({"status": "two", "visibility": "private"}))
        .await;
    let weeks = anonymous.get("/api/v1/instance/activity").await.ok();
    let weeks = weeks.as_array().unwrap();
    assert_eq!(weeks.len(), 12);
    let this = &weeks[0];
    assert_eq!(this["statuses"], "2");
    assert_eq!(this["registrations"], "3");
    assert_eq!(this["logins"], "2");
    let start: i64 = this["week"].as_str().unwrap().parse().unwrap();
    let now = chrono::Utc::now().timestamp();
    assert!(start <= now && now - start < 7 * 86_400);
    // Monday 00:00 UTC (1970-01-01 was a Thursday).
    assert_eq!((start / 86_400 + 3) % 7, 0);
    for (i, week) in weeks.iter().enumerate().skip(1) {
        let w: i64 = week["week"].as_str().unwrap().parse().unwrap();
        assert_eq!(w, start - i as i64 * 7 * 86_400);
        assert_eq!(week["statuses"], "0");
        assert_eq!(week["logins"], "0");
        assert_eq!(week["registrations"], "0");
    }
}

async fn policy_read_and_change(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    alpha.create_user("alice").await;
    let alice = Api::for_user(&alpha, "alice", "read write").await;
    let policy = alice.get("/api/v2/notifications/policy").await.ok();
    assert_valid("NotificationPolicy", &policy);
    for key in [
        "for_not_following",
        "for_not_followers",
        "for_new_accounts",
        "for_private_mentions",
        "for_limited_accounts",
    ] {
        assert_eq!(policy[key], "accept", "{key}");
    }
    assert_eq!(
        policy["summary"],
        json!({"pending_requests_count": 0, "pending_notifications_count": 0})
    );

    let changed = alice
        .patch_form(
            "/api/v2/notifications/policy",
            &[
                ("for_not_following", "filter"),
                ("for_private_mentions", "drop"),
            ],
        )
        .await
        .ok();
    assert_valid("NotificationPolicy", &changed);
    assert_eq!(changed["for_not_following"], "filter");
    assert_eq!(changed["for_private_mentions"], "drop");
    assert_eq!(changed["for_not_followers"], "accept");

    let v1 = alice.get("/api/v1/notifications/policy").await.ok();
    assert_valid("V1NotificationPolicy", &v1);
    assert_eq!(v1["filter_not_following"], true);
    assert_eq!(v1["filter_not_followers"], false);
    assert_eq!(v1["filter_private_mentions"], true);
    let v1 = alice
        .patch_form(
            "/api/v1/notifications/policy",
            &[
                ("filter_not_followers", "true"),
                ("filter_not_following", "false"),
            ],
        )
        .await
        .ok();
    assert_eq!(v1["filter_not_followers"], true);
    assert_eq!(v1["filter_not_following"], false);
    let policy = alice.get("/api/v2/notifications/policy").await.ok();
    assert_eq!(policy["for_not_followers"], "filter");
    assert_eq!(policy["for_not_following"], "accept");
    assert_eq!(policy["for_private_mentions"], "drop");

    // Bad values: 422, nothing saved.
    let bad = alice
        .patch_form(
            "/api/v2/notifications/policy",
            &[
                ("for_not_followers", "accept"),
                ("for_new_accounts", "maybe"),
            ],
        )
        .await
        .expect(422);
    assert!(bad["error"].as_str().unwrap().contains("for_new_accounts"));
    alice
        .patch_form(
            "/api/v1/notifications/policy",
            &[("filter_new_accounts", "perhaps")],
        )
        .await
        .expect(422);
    let policy = alice.get("/api/v2/notifications/policy").await.ok();
    assert_eq!(policy["for_not_followers"], "filter");
    assert_eq!(policy["for_new_accounts"], "accept");

    // Scopes.
    let reader = Api::for_user(&alpha, "alice", "read").await;
    reader
        .patch_form(
            "/api/v2/notifications/policy",
            &[("for_not_following", "drop")],
        )
        .await
        .expect(403);
    Api::anonymous(&alpha)
        .get("/api/v2/notifications/policy")
        .await
        .expect(401);
}

/// Alice's notifications, as ids of their accounts and kinds.
async fn notified(api: &Api, query: &str) -> Vec<(String, String)> {
    let list = api.get(&format!("/api/v1/notifications{query}")).await.ok();
    list.as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["account"]["username"].as_str().unwrap().to_string(),
                n["type"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn policy_drops_and_filters_into_requests(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    for name in ["alice", "bob", "carol", "dave", "erin", "fay"] {
        alpha.create_user(name).await;
    }
    let api = |n: &'static str| Api::for_user(&alpha, n, "read write follow");
    let (alice, bob, carol, dave, erin, fay) = (
        api("alice").await,
        api("bob").await,
        api("carol").await,
        api("dave").await,
        api("erin").await,
        api("fay").await,
    );
    alpha.follow("alice", &alpha.handle_of("fay")).await;
    let mine = id(&alice.status(json!({"status": "hello"})).await);

    // Drop: nothing is stored.
    alice
        .patch_form(
            "/api/v2/notifications/policy",
            &[("for_not_following", "drop")],
        )
        .await
        .ok();
    bob.post(&format!("/api/v1/statuses/{mine}/favourite"), json!({}))
        .await
        .ok();
    assert_eq!(notified(&alice, "?include_filtered=true").await, vec![]);

    // Filter: kept out of the list, in a request per sender.
    alice
        .patch_form(
            "/api/v2/notifications/policy",
            &[("for_not_following", "filter")],
        )
        .await
        .ok();
    bob.status(json!({"status": "@alice hi there"})).await;
    bob.post(&format!("/api/v1/statuses/{mine}/reblog"), json!({}))
        .await
        .ok();
    // Fay, whom Alice follows, is accepted.
    fay.status(json!({"status": "@alice from a friend"})).await;
    assert_eq!(
        notified(&alice, "").await,
        vec![("fay".to_string(), "mention".to_string())]
    );
    assert_eq!(
        notified(&alice, "?include_filtered=true").await.len(),
        3,
        "filtered ones are listed on request"
    );
    let unread = alice.get("/api/v1/notifications/unread_count").await.ok();
    assert_eq!(unread["count"], 1);
    let grouped = alice.get("/api/v2/notifications").await.ok();
    assert_eq!(grouped["notification_groups"].as_array().unwrap().len(), 1);
    let policy = alice.get("/api/v2/notifications/policy").await.ok();
    assert_eq!(
        policy["summary"],
        json!({"pending_requests_count": 1, "pending_notifications_count": 2})
    );
    let requests = alice.get("/api/v1/notifications/requests").await.ok();
    assert_all_valid("NotificationRequest", &requests);
    assert_eq!(requests.as_array().unwrap().len(), 1);
    let request = &requests[0];
    assert_eq!(request["account"]["username"], "bob");
    assert_eq!(request["notifications_count"], "2");
    // The newest filtered notification's status: the boost's, Alice's own.
    assert_eq!(request["last_status"]["id"], mine.as_str());
    let rid = id(request);
    let one = alice
        .get(&format!("/api/v1/notifications/requests/{rid}"))
        .await
        .ok();
    assert_eq!(one["id"], rid.as_str());
    // Another's request is not found.
    bob.get(&format!("/api/v1/notifications/requests/{rid}"))
        .await
        .expect(404);
    bob.post(
        &format!("/api/v1/notifications/requests/{rid}/accept"),
        json!({}),
    )
    .await
    .expect(404);

    // Accept: Bob's notifications join the list, and later ones arrive
    // unfiltered.
    alice
        .post(
            &format!("/api/v1/notifications/requests/{rid}/accept"),
            json!({}),
        )
        .await
        .ok();
    let kinds: Vec<String> = notified(&alice, "")
        .await
        .into_iter()
        .map(|(who, kind)| format!("{who} {kind}"))
        .collect();
    assert_eq!(kinds, vec!["fay mention", "bob reblog", "bob mention"]);
    assert_eq!(
        alice.get("/api/v1/notifications/requests").await.ok(),
        json!([])
    );
    alice
        .get(&format!("/api/v1/notifications/requests/{rid}"))
        .await
        .expect(404);
    bob.status(json!({"status": "@alice again"})).await;
    assert_eq!(notified(&alice, "").await.len(), 4);

    // Dismiss: Carol's notifications are gone.
    carol.status(json!({"status": "@alice buy my stuff"})).await;
    let requests = alice.get("/api/v1/notifications/requests").await.ok();
    assert_eq!(requests[0]["account"]["username"], "carol");
    let carol_request = id(&requests[0]);
    alice
        .post(
            &format!("/api/v1/notifications/requests/{carol_request}/dismiss"),
            json!({}),
        )
        .await
        .ok();
    assert_eq!(
        alice.get("/api/v1/notifications/requests").await.ok(),
        json!([])
    );
    assert_eq!(notified(&alice, "?include_filtered=true").await.len(), 4);

    // The bulk forms, with `id[]`.
    dave.status(json!({"status": "@alice one"})).await;
    erin.status(json!({"status": "@alice two"})).await;
    carol.status(json!({"status": "@alice three"})).await;
    let requests = alice.get("/api/v1/notifications/requests").await.ok();
    let by = |name: &str| {
        id(requests
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["account"]["username"] == name)
            .unwrap())
    };
    let (dave_r, erin_r, carol_r) = (by("dave"), by("erin"), by("carol"));
    alice
        .post_form(
            "/api/v1/notifications/requests/accept",
            &[("id[]", dave_r.as_str()), ("id[]", erin_r.as_str())],
        )
        .await
        .ok();
    let left = alice.get("/api/v1/notifications/requests").await.ok();
    assert_eq!(Api::ids(&left), vec![carol_r.clone()]);
    // As Mastodon.py sends it (`id[][]`), with an unknown id skipped.
    alice
        .post_form(
            "/api/v1/notifications/requests/dismiss",
            &[("id[][]", carol_r.as_str()), ("id[][]", "unknown")],
        )
        .await
        .ok();
    assert_eq!(
        alice.get("/api/v1/notifications/requests").await.ok(),
        json!([])
    );
    let who: Vec<String> = notified(&alice, "")
        .await
        .into_iter()
        .map(|(who, _)| who)
        .collect();
    assert_eq!(who[..2], ["erin".to_string(), "dave".to_string()]);
    assert!(!who.contains(&"carol".to_string()));
    assert_eq!(
        alice
            .get("/api/v1/notifications/requests/merged")
            .await
            .ok(),
        json!({"merged": true})
    );
    alice
        .post("/api/v1/notifications/requests/nope/dismiss", json!({}))
        .await
        .expect(404);
}

/// Each condition of the policy on its own: private mentions (replies to
/// one's own post excepted), non-followers, new accounts, and staff, who
/// are never filtered.
async fn policy_conditions(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    for name in ["alice", "bob", "carol"] {
        alpha.create_user(name).await;
    }
    make_admin(&alpha, "root").await;
    let api = |n: &'static str| Api::for_user(&alpha, n, "read write follow");
    let (alice, bob, carol, root) = (
        api("alice").await,
        api("bob").await,
        api("carol").await,
        api("root").await,
    );
    alpha.follow("bob", &alpha.handle_of("alice")).await;
    let set = |pairs: &'static [(&'static str, &'static str)]| {
        let alice = alice.clone();
        async move {
            alice
                .patch_form("/api/v2/notifications/policy", pairs)
                .await
                .ok();
        }
    };
    let visible = || async { notified(&alice, "").await };
    let filtered = || async {
        alice.get("/api/v2/notifications/policy").await.ok()["summary"]
            ["pending_notifications_count"]
            .as_i64()
            .unwrap()
    };

    // Private mentions from strangers are filtered; public ones and a
    // direct reply to Alice's own post are not.
    set(&[("for_private_mentions", "filter")]).await;
    carol
        .status(json!({"status": "@alice psst", "visibility": "direct"}))
        .await;
    assert_eq!(filtered().await, 1);
    carol.status(json!({"status": "@alice in the open"})).await;
    let own = id(&alice
        .status(json!({"status": "@carol a question", "visibility": "direct"}))
        .await);
    carol
        .status(
            json!({"status": "@alice an answer", "visibility": "direct", "in_reply_to_id": own}),
        )
        .await;
    assert_eq!(filtered().await, 1);
    let mentions = visible()
        .await
        .into_iter()
        .filter(|(who, kind)| who == "carol" && kind == "mention")
        .count();
    assert_eq!(mentions, 2);

    // Not followers: Bob follows Alice, Carol does not.
    set(&[
        ("for_private_mentions", "accept"),
        ("for_not_followers", "drop"),
    ])
    .await;
    let post = id(&alice.status(json!({"status": "like me"})).await);
    bob.post(&format!("/api/v1/statuses/{post}/favourite"), json!({}))
        .await
        .ok();
    carol
        .post(&format!("/api/v1/statuses/{post}/favourite"), json!({}))
        .await
        .ok();
    let favourites: Vec<String> = visible()
        .await
        .into_iter()
        .filter(|(_, kind)| kind == "favourite")
        .map(|(who, _)| who)
        .collect();
    assert_eq!(favourites, vec!["bob".to_string()]);

    // New accounts (all of these are): filtered unless followed, never an
    // admin.
    set(&[
        ("for_not_followers", "accept"),
        ("for_new_accounts", "filter"),
    ])
    .await;
    bob.status(json!({"status": "@alice from a new account"}))
        .await;
    assert_eq!(filtered().await, 2);
    alpha.follow("alice", &alpha.handle_of("bob")).await;
    bob.status(json!({"status": "@alice followed now"})).await;
    assert_eq!(filtered().await, 2);
    set(&[
        ("for_new_accounts", "accept"),
        ("for_not_following", "drop"),
    ])
    .await;
    root.status(json!({"status": "@alice from the admin"}))
        .await;
    assert!(visible()
        .await
        .contains(&("root".to_string(), "mention".to_string())));
}

async fn oembed_and_the_embed_page(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    alpha.create_user("alice").await;
    let alice = Api::for_user(&alpha, "alice", "read write").await;
    let public = alice
        .status(json!({"status": "Bridges **hold**", "visibility": "public"}))
        .await;
    let unlisted = alice
        .status(json!({"status": "quiet", "visibility": "unlisted"}))
        .await;
    let private = alice
        .status(json!({"status": "for friends", "visibility": "private"}))
        .await;
    let anonymous = Api::anonymous(&alpha);
    let oembed = |url: &str| {
        let q: String = url::form_urlencoded::byte_serialize(url.as_bytes()).collect();
        format!("/api/oembed?url={q}")
    };

    let page_url = public["url"].as_str().unwrap();
    let answer = anonymous.get(&oembed(page_url)).await.ok();
    assert_valid("OEmbedResponse", &answer);
    assert_eq!(answer["type"], "rich");
    assert_eq!(answer["version"], "1.0");
    assert_eq!(answer["author_name"], "alice");
    assert_eq!(answer["author_url"], alpha.url("/@alice"));
    assert_eq!(answer["provider_name"], alpha.domain.as_str());
    assert_eq!(answer["provider_url"], alpha.url("/"));
    assert_eq!(answer["cache_age"], 86_400);
    assert_eq!(answer["width"], 400);
    assert_eq!(answer["height"], Value::Null);
    let embed = format!("{page_url}/embed");
    let html = answer["html"].as_str().unwrap();
    assert!(
        html.starts_with(&format!("<iframe src=\"{embed}\"")),
        "{html}"
    );
    // The object id names it too; maxwidth and maxheight size the frame.
    let sized = anonymous
        .get(&format!(
            "{}&maxwidth=300&maxheight=200",
            oembed(public["uri"].as_str().unwrap())
        ))
        .await
        .ok();
    assert_eq!(sized["width"], 300);
    assert_eq!(sized["height"], 200);
    assert!(sized["html"].as_str().unwrap().contains("height=\"200\""));
    anonymous
        .get(&oembed(unlisted["url"].as_str().unwrap()))
        .await
        .ok();

    // Private, unknown, another host's: 404. No or no usable url: 400.
    anonymous
        .get(&oembed(private["url"].as_str().unwrap()))
        .await
        .expect(404);
    anonymous
        .get(&oembed(
            &alpha.url("/@alice/0190aaaa-0000-7000-8000-000000000000"),
        ))
        .await
        .expect(404);
    anonymous
        .get(&oembed(&format!(
            "http://elsewhere.example/@alice/{}",
            id(&public)
        )))
        .await
        .expect(404);
    anonymous
        .get(&oembed(&alpha.url("/@alice")))
        .await
        .expect(404);
    anonymous.get("/api/oembed").await.expect(400);
    anonymous.get(&oembed("not a url")).await.expect(400);

    // The embed page: framable by anyone, the card, no forms.
    let res = alpha
        .get_html(&format!("/@alice/{}/embed", id(&public)))
        .await;
    assert_eq!(res.status(), 200);
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(csp.contains("frame-ancestors *"), "{csp}");
    assert!(!csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(res.headers().get("x-frame-options").is_none());
    let body = res.text().await.unwrap();
    assert!(body.contains("Bridges <strong>hold</strong>"), "{body}");
    assert!(body.contains("/static/outloud.css"));
    assert!(!body.contains("<form"), "{body}");
    assert!(body.contains(&format!("href=\"{page_url}\"")));
    let res = alpha
        .get_html(&format!("/@alice/{}/embed", id(&private)))
        .await;
    assert_eq!(res.status(), 404);

    // The narration page names its oEmbed, and is not framable itself.
    let res = alpha.get_html(&format!("/@alice/{}", id(&public))).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-frame-options"], "DENY");
    let body = res.text().await.unwrap();
    let discovery = format!(
        "<link rel=\"alternate\" type=\"application/json+oembed\" href=\"{}\">",
        alpha.url(&oembed(page_url)).replace('&', "&amp;")
    );
    assert!(body.contains(&discovery), "{discovery} not in {body}");
}

async fn embed_page_in_the_browser(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    alpha.create_user("alice").await;
    let alice = Api::for_user(&alpha, "alice", "read write").await;
    let public = alice
        .status(json!({"status": "Seen from *elsewhere*", "spoiler_text": ""}))
        .await;
    let label = format!("extras-{backend:?}").to_lowercase();
    let Some(b) = Browser::start(&label).await else {
        return;
    };
    b.visit(
        &alpha.url(&format!("/@alice/{}/embed", id(&public))),
        "embed",
    )
    .await;
    assert!(b
        .text(".card .content")
        .await
        .contains("Seen from elsewhere"));
    assert!(b.exists("footer.actions a[target=_blank]").await);
    b.close().await;
}

both_backends!(
    suggestions_rank_friends_of_friends,
    extended_description_and_activity,
    policy_read_and_change,
    policy_drops_and_filters_into_requests,
    policy_conditions,
    oembed_and_the_embed_page,
    embed_page_in_the_browser
);
