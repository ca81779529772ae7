//! Requests to join a community that approves its members reach every
//! local moderator's notifications page (not the client API), where they
//! are approved or refused; and the moderation forms check the role before
//! they resolve a handle.

use crate::api_client::Api;
use crate::browser::Browser;
use crate::harness::{both_backends, settle, TestInstance};
use outloud::{
    config::Backend,
    db::{actor::Actor, community::Posting, follow::FollowState},
    service::{
        self,
        communities::{self, NewCommunity},
        moderation,
    },
};
use reqwest::StatusCode;

both_backends!(
    join_requests_reach_every_local_moderator,
    a_withdrawn_join_request_reads_answered,
    moderation_forms_check_the_role_before_resolving,
    browser_approves_a_join_request,
);

/// A person signed in to the web app: the session cookie and its CSRF
/// token (cookies by hand, as a browser sends them).
struct WebClient<'a> {
    inst: &'a TestInstance,
    cookie: String,
    csrf: String,
}

impl<'a> WebClient<'a> {
    async fn signed_in(inst: &'a TestInstance, name: &str) -> WebClient<'a> {
        let actor = inst.local(name).await;
        let (session, token) =
            service::sessions::open(&inst.context.db, &actor, "test browser", "127.0.0.1")
                .await
                .unwrap();
        WebClient {
            inst,
            cookie: format!("outloud_session={token}"),
            csrf: session.csrf_token,
        }
    }

    async fn page(&self, path: &str) -> (StatusCode, String) {
        let response = self
            .inst
            .client
            .get(self.inst.url(path))
            .header("Cookie", &self.cookie)
            .send()
            .await
            .unwrap();
        let status = response.status();
        (status, response.text().await.unwrap())
    }

    /// Posts a form, with the CSRF token when `csrf` is true.
    async fn post(&self, path: &str, fields: &[(&str, &str)], csrf: bool) -> reqwest::Response {
        let mut form: Vec<(&str, &str)> = fields.to_vec();
        if csrf {
            form.push(("csrf", self.csrf.as_str()));
        }
        self.inst
            .client
            .post(self.inst.url(path))
            .header("Cookie", &self.cookie)
            .form(&form)
            .send()
            .await
            .unwrap()
    }
}

/// The unread count in the header, 0 when there is none.
fn unread_in_header(html: &str) -> u32 {
    let Some(at) = html.find("<span class=\"count\">") else {
        return 0;
    };
    html[at + "<span class=\"count\">".len()..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect::<String>()
        .parse()
        .unwrap()
}

/// A locked community `guild` on `inst`, owned by `owner`.
async fn locked_guild(inst: &TestInstance, owner: &Actor) -> Actor {
    communities::create(
        &inst.context.db,
        &inst.context.urls,
        NewCommunity {
            name: "guild",
            owner,
            display_name: Some("Rust guild".into()),
            summary: None,
            approval: true,
            members_only: false,
            posting: Posting::Members,
            icon: None,
        },
    )
    .await
    .unwrap()
}

fn join_path(group: &Actor, applicant: &Actor, decision: &str) -> String {
    format!(
        "/notifications/joins/{}/{}/{decision}",
        group.id, applicant.id
    )
}

async fn join_requests_reach_every_local_moderator(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    let alice = alpha.create_user("alice").await;
    let bob = alpha.create_user("bob").await;
    let carol = alpha.create_user("carol").await;
    alpha.create_user("mallory").await;
    beta.create_user("dave").await;
    let data = alpha.data();
    let group = locked_guild(&alpha, &alice).await;
    moderation::set_moderator(&data, &alice, &group, &bob, true)
        .await
        .unwrap();
    let guild = format!("guild@{}", alpha.domain);

    // carol (here) and dave (on beta) ask to join.
    service::follows::follow(&data, &carol, &group)
        .await
        .unwrap();
    beta.follow("dave", &guild).await;
    settle(&[&alpha, &beta]).await;
    let dave = alpha.resolve(&beta.handle_of("dave")).await;
    assert_eq!(
        moderation::pending_members(&data, &group)
            .await
            .unwrap()
            .len(),
        2
    );

    // Both moderators see the two requests, counted in the header.
    for name in ["alice", "bob"] {
        let web = WebClient::signed_in(&alpha, name).await;
        let (_, home) = web.page("/search").await;
        assert_eq!(unread_in_header(&home), 2, "{name}'s header");
        let (status, html) = web.page("/notifications").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(html.matches("n-join").count(), 2, "{name}: {html}");
        assert_eq!(html.matches("asks to join").count(), 2);
        assert!(html.contains("Rust guild"));
        assert!(html.contains("/c/guild?tab=moderation"));
        for applicant in [&carol, &dave] {
            assert!(html.contains(&join_path(&group, applicant, "approve")));
            assert!(html.contains(&join_path(&group, applicant, "refuse")));
        }
    }

    // The client API shows none of them, nor counts them.
    for name in ["alice", "bob"] {
        let api = Api::for_user(&alpha, name, "read").await;
        let list = api.get("/api/v1/notifications").await.ok();
        assert_eq!(list.as_array().unwrap().len(), 0, "{list}");
        let list = api
            .get("/api/v1/notifications?types[]=join_request")
            .await
            .ok();
        assert_eq!(list.as_array().unwrap().len(), 0, "{list}");
        let grouped = api.get("/api/v2/notifications").await.ok();
        assert_eq!(
            grouped["notification_groups"].as_array().unwrap().len(),
            0,
            "{grouped}"
        );
        let count = api.get("/api/v1/notifications/unread_count").await.ok();
        assert_eq!(count["count"], 0);
    }

    // A non-moderator's forged answer: 403, nothing changes. Nor does an
    // answer without the CSRF token.
    let mallory = WebClient::signed_in(&alpha, "mallory").await;
    let response = mallory
        .post(&join_path(&group, &carol, "approve"), &[], true)
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let alice_web = WebClient::signed_in(&alpha, "alice").await;
    let response = alice_web
        .post(&join_path(&group, &carol, "approve"), &[], false)
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        alpha.follow_state(&alpha.handle_of("carol"), &guild).await,
        Some(FollowState::Pending)
    );
    // An unknown decision is no decision.
    let response = alice_web
        .post(&join_path(&group, &carol, "maybe"), &[], true)
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    // alice approves carol and refuses dave from her notifications page.
    let response = alice_web
        .post(&join_path(&group, &carol, "approve"), &[], true)
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/notifications");
    let response = alice_web
        .post(&join_path(&group, &dave, "refuse"), &[], true)
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    settle(&[&alpha, &beta]).await;
    assert_eq!(
        alpha.follow_state(&alpha.handle_of("carol"), &guild).await,
        Some(FollowState::Accepted)
    );
    assert_eq!(
        alpha.follow_state(&beta.handle_of("dave"), &guild).await,
        None
    );
    // dave's server heard the Reject: his request is gone there too.
    assert_eq!(
        beta.follow_state(&beta.handle_of("dave"), &guild).await,
        None
    );

    // bob's page shows both as answered, with no forms left.
    let bob_web = WebClient::signed_in(&alpha, "bob").await;
    let (_, html) = bob_web.page("/notifications").await;
    assert_eq!(html.matches("n-join").count(), 2, "{html}");
    assert_eq!(html.matches("(answered)").count(), 2, "{html}");
    assert!(!html.contains("/notifications/joins/"), "{html}");
    assert!(!html.contains("asks to join"));

    // Answering again: nothing is pending any more.
    let response = bob_web
        .post(&join_path(&group, &carol, "approve"), &[], true)
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
}

async fn a_withdrawn_join_request_reads_answered(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let alice = alpha.create_user("alice").await;
    let carol = alpha.create_user("carol").await;
    let data = alpha.data();
    let group = locked_guild(&alpha, &alice).await;
    service::follows::follow(&data, &carol, &group)
        .await
        .unwrap();
    let web = WebClient::signed_in(&alpha, "alice").await;
    let (_, html) = web.page("/notifications").await;
    assert!(html.contains(&join_path(&group, &carol, "approve")));

    // carol changes her mind: the request is answered, nothing to decide.
    service::follows::unfollow(&data, &carol, &group)
        .await
        .unwrap();
    let (_, html) = web.page("/notifications").await;
    assert_eq!(html.matches("(answered)").count(), 1, "{html}");
    assert!(!html.contains("/notifications/joins/"), "{html}");
    let response = web
        .post(&join_path(&group, &carol, "approve"), &[], true)
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        alpha
            .follow_state(
                &alpha.handle_of("carol"),
                &format!("guild@{}", alpha.domain)
            )
            .await,
        None
    );
}

async fn moderation_forms_check_the_role_before_resolving(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    let alice = alpha.create_user("alice").await;
    alpha.create_user("mallory").await;
    beta.create_user("erin").await;
    locked_guild(&alpha, &alice).await;
    let erin_url = url::Url::parse(&beta.actor_url("erin")).unwrap();
    let stored = |url: url::Url| async {
        alpha
            .context
            .db
            .run(move |conn| Ok(Actor::by_ap_id(conn, &url)?))
            .await
            .unwrap()
    };

    let mallory = WebClient::signed_in(&alpha, "mallory").await;
    let handle = beta.handle_of("erin");
    for action in ["ban", "add_moderator"] {
        let response = mallory
            .post(
                "/c/guild/moderation",
                &[("action", action), ("handle", handle.as_str())],
                true,
            )
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{action}");
        assert_eq!(
            stored(erin_url.clone()).await,
            None,
            "{action}: erin was fetched"
        );
    }

    // A moderator's form does resolve the handle.
    let alice_web = WebClient::signed_in(&alpha, "alice").await;
    let response = alice_web
        .post(
            "/c/guild/moderation",
            &[("action", "ban"), ("handle", handle.as_str())],
            true,
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(stored(erin_url).await.is_some());
}

async fn browser_approves_a_join_request(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let alice = alpha.create_user("alice").await;
    let carol = alpha.create_user("carol").await;
    let data = alpha.data();
    let group = locked_guild(&alpha, &alice).await;
    service::follows::follow(&data, &carol, &group)
        .await
        .unwrap();

    let label = format!("joins-{backend:?}").to_lowercase();
    let Some(b) = Browser::start(&label).await else {
        return;
    };
    b.goto(&alpha.url("/login?next=%2Fnotifications")).await;
    b.fill("#username", "alice").await;
    b.fill("#password", "password for tests").await;
    b.click("form[action='/login'] button[type=submit]").await;

    b.visit(&alpha.url("/notifications"), "join-request").await;
    let line = b.text("li.n-join .line").await;
    assert!(line.contains("asks to join"), "{line}");
    assert!(line.contains("Rust guild"), "{line}");
    b.click("li.n-join form[action$='/approve'] button[type=submit]")
        .await;
    b.assert_console_clean().await;
    assert!(b.current_url().await.ends_with("/notifications"));
    b.visit(&alpha.url("/notifications"), "join-request-answered")
        .await;
    let line = b.text("li.n-join .line").await;
    assert!(line.contains("(answered)"), "{line}");
    assert!(!b.exists("li.n-join form").await);
    b.visit(&alpha.url("/c/guild?tab=moderation"), "join-moderation-tab")
        .await;
    b.close().await;
    assert_eq!(
        alpha
            .follow_state(
                &alpha.handle_of("carol"),
                &format!("guild@{}", alpha.domain)
            )
            .await,
        Some(FollowState::Accepted)
    );
}
