//! The small endpoints apps call once a person has signed in (docs/api.md
//! "Suggestions", "Instance texts and activity", "oEmbed"): follow
//! suggestions (friends of friends first, blocks and dismissals out), the
//! extended description an admin sets, weekly activity, and oEmbed with the
//! embed page. The notification policy is in `notification_policy.rs`.
//! Entities are checked against Mastodon's schemas.

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
        alpha.opt_in(name).await;
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
    alpha.opt_in("root").await;
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

/// Creates `name` as an admin of `instance`.
pub(crate) async fn make_admin(instance: &TestInstance, name: &str) {
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
    oembed_and_the_embed_page,
    embed_page_in_the_browser
);
