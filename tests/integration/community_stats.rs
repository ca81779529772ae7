//! Community figures for stewards (issue 13 §5, docs/api.md "Community
//! figures"): members per instance, posts per kind per week, open and
//! answered asks and the median time to a first answer on seeded data;
//! 403 for a member who does not moderate, 404 for an unknown community.

use crate::{
    api_client::Api,
    browser::Browser,
    communities::create_community,
    harness::{both_backends, settle, TestInstance},
};
use outloud::{
    config::Backend,
    db::{
        answer::AcceptedAnswer,
        community::Posting,
        new_id, now,
        post::{Post, PostKind, Visibility},
        DbUrl,
    },
};
use serde_json::json;

both_backends!(figures_for_moderators_only);

/// A post by `author` in `group`, `hours_ago` hours ago.
fn post(
    instance: &TestInstance,
    author: &str,
    group: &str,
    kind: Option<&str>,
    hours_ago: i64,
    in_reply_to: Option<&Post>,
) -> Post {
    let id = new_id();
    Post {
        ap_id: DbUrl(url::Url::parse(&instance.url(&format!("/objects/{id}"))).unwrap()),
        id,
        author_id: author.to_string(),
        kind: PostKind::Note.as_str().into(),
        visibility: Visibility::Public.as_str().into(),
        title: None,
        content: "<p>seeded</p>".into(),
        source: None,
        summary: None,
        sensitive: false,
        language: None,
        in_reply_to: in_reply_to.map(|p| p.ap_id.to_string()),
        thread: None,
        url: None,
        to_json: "[]".into(),
        cc_json: "[]".into(),
        local: true,
        published: now() - chrono::TimeDelta::hours(hours_ago),
        updated: None,
        deleted_at: None,
        community_id: Some(group.to_string()),
        search_text: None,
        narration_kind: kind.map(str::to_string),
    }
}

async fn figures_for_moderators_only(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let steward = alpha.create_user("steward").await;
    create_community(&alpha, "guild", &steward, false, false, Posting::Members).await;
    let group = alpha.local("guild").await;
    let mut members = Vec::new();
    for name in ["m1", "m2", "m3"] {
        members.push(alpha.create_user(name).await);
        alpha.follow(name, &alpha.handle_of("guild")).await;
    }
    settle(&[&alpha]).await;
    let expected_members = alpha.follower_ids("guild").await.len();
    assert!(expected_members >= 3);

    // Two asks this week (answered after 2 h and 4 h: median 3 h), one
    // accepted; a plain post and a `doing` one.
    let (m1, m2, m3) = (&members[0].id, &members[1].id, &members[2].id);
    let ask1 = post(&alpha, m1, &group.id, Some("ask"), 10, None);
    let ask2 = post(&alpha, m2, &group.id, Some("ask"), 10, None);
    let own_reply = post(&alpha, m1, &group.id, None, 9, Some(&ask1));
    let answer1 = post(&alpha, m3, &group.id, None, 8, Some(&ask1));
    let later1 = post(&alpha, m2, &group.id, None, 7, Some(&ask1));
    let answer2 = post(&alpha, m3, &group.id, None, 6, Some(&ask2));
    let doing = post(&alpha, m3, &group.id, Some("doing"), 1, None);
    let seeded = [
        &ask1, &ask2, &own_reply, &answer1, &later1, &answer2, &doing,
    ];
    let (q, a) = (ask1.id.clone(), answer1.id.clone());
    let rows: Vec<Post> = seeded.iter().map(|p| (*p).clone()).collect();
    alpha
        .context
        .db
        .run(move |conn| {
            for p in &rows {
                Post::insert(conn, p, &[])?;
            }
            AcceptedAnswer::accept(conn, &q, &a, None, now())?;
            Ok(())
        })
        .await
        .unwrap();

    let path = format!("/api/v1/outloud/communities/{}/stats", group.id);
    let api = Api::for_user(&alpha, "steward", "read").await;
    let stats = api.get(&path).await.ok();
    assert_eq!(
        stats["members_per_instance"],
        json!([{ "host": alpha.domain, "members": expected_members }])
    );
    let weeks = stats["weeks"].as_array().unwrap();
    assert_eq!(weeks.len(), 12);
    let total = |field: &str| -> u64 { weeks.iter().map(|w| w[field].as_u64().unwrap()).sum() };
    assert_eq!(
        (
            total("ask"),
            total("doing"),
            total("none"),
            total("learned")
        ),
        (2, 1, 4, 0)
    );
    assert_eq!(stats["open_asks"], json!(1));
    assert_eq!(stats["answered_asks"], json!(1));
    assert_eq!(stats["median_first_answer_seconds"], json!(3 * 3600));
    assert_eq!(stats["asks_with_replies"], json!(2));
    // Aggregates only: no one's id or name in the figures.
    let text = stats.to_string();
    for m in &members {
        assert!(
            !text.contains(&m.id) && !text.contains(&m.username),
            "{text}"
        );
    }

    // A member who does not moderate: 403; an unknown community: 404.
    let member = Api::for_user(&alpha, "m1", "read").await;
    let refused = member.get(&path).await;
    assert_eq!(refused.status.as_u16(), 403);
    assert!(refused.json["error"]
        .as_str()
        .unwrap()
        .contains("moderators"));
    assert_eq!(
        api.get("/api/v1/outloud/communities/nope/stats")
            .await
            .status
            .as_u16(),
        404
    );
    // A person is no community.
    assert_eq!(
        api.get(&format!("/api/v1/outloud/communities/{m1}/stats"))
            .await
            .status
            .as_u16(),
        404
    );

    // The web page: figures for the steward, the 403 page for a member.
    let label = format!("community-stats-{backend:?}").to_lowercase();
    let Some(b) = Browser::start(&label).await else {
        return;
    };
    for (name, allowed) in [("steward", true), ("m1", false)] {
        b.goto(&alpha.url("/login")).await;
        b.fill("#username", name).await;
        b.fill("#password", "password for tests").await;
        b.click("main button[type=submit]").await;
        assert!(b.current_url().await.ends_with("/home"));
        let shot = format!("community-stats-{name}");
        if allowed {
            b.visit(&alpha.url("/c/guild/stats"), &shot).await;
            assert!(b.text("#members").await.contains(&alpha.domain));
            assert!(b.text("#asks").await.contains("3 h 0 min"));
            assert_eq!(b.texts("#weeks tbody tr").await.len(), 12);
        } else {
            // An error page: the browser logs its 403 status, so no
            // console check here.
            b.goto(&alpha.url("/c/guild/stats")).await;
            b.screenshot(&shot).await;
            assert!(!b.exists("#members").await);
            assert!(b.text("main").await.contains("moderators"));
        }
        b.driver().delete_all_cookies().await.unwrap();
    }
    b.close().await;
}
