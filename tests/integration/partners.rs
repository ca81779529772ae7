//! Partner organisations (issue 13 §5, docs/api.md "Partners"): the CLI
//! (`outloud admin partners add|remove|list`, bad hosts), and the Partners
//! timeline across three instances: alpha names beta a partner, gamma is
//! none; only beta's public narrations, and posts shared in a community
//! on beta, appear, through the canonical path, the reserved list
//! `partners` Mastodon apps open, and that list's stream.

use crate::{
    api_client::Api,
    browser::Browser,
    communities::create_community,
    harness::{both_backends, database, settle, settled, TestInstance},
    streaming_client::{collect_until, Client, Sse},
};
use outloud::{
    config::Backend,
    db::{community::Posting, follow::FollowState, post::Visibility},
    service::posts::NewPost,
};
use serde_json::{json, Value};
use std::process::{Command, Output, Stdio};

both_backends!(
    partner_commands,
    partners_timeline_and_list_alias,
    partners_in_the_browser,
);

fn outloud(args: &[&str], database_url: &str) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_outloud"));
    cmd.args(args)
        .env_remove("OUTLOUD_CONFIG")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null());
    for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("OUTLOUD_")) {
        cmd.env_remove(name);
    }
    cmd.env("OUTLOUD_DATABASE__URL", database_url)
        .output()
        .unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).to_string()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

async fn partner_commands(backend: Backend) {
    let db = database(backend, "cli_partners");
    let run = |args: &[&str]| outloud(args, &db.url);

    let out = run(&["admin", "partners", "add", "Beta.Example"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("beta.example is a partner"));
    // Twice is no error; a port is kept, a scheme's default port dropped.
    assert!(
        run(&["admin", "partners", "add", "https://beta.example:443/x"])
            .status
            .success()
    );
    assert!(run(&["admin", "partners", "add", "gamma.localhost:4000"])
        .status
        .success());
    let listing = stdout(&run(&["admin", "partners", "list"]));
    assert_eq!(listing, "beta.example\ngamma.localhost:4000\n");

    let out = run(&["admin", "partners", "remove", "BETA.example"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("beta.example is no longer a partner"));
    assert_eq!(
        stdout(&run(&["admin", "partners", "list"])),
        "gamma.localhost:4000\n"
    );

    for (args, reason) in [
        (
            &["admin", "partners", "remove", "beta.example"][..],
            "beta.example is not a partner",
        ),
        (
            &["admin", "partners", "add", "not a host"][..],
            "is not a host name",
        ),
        (
            &["admin", "partners", "add", "bob@beta.example"][..],
            "is not a host name",
        ),
    ] {
        let out = run(args);
        assert!(!out.status.success(), "{args:?} should fail");
        let last = stderr(&out).lines().last().unwrap_or_default().to_string();
        assert!(last.starts_with("error: "), "{last}");
        assert!(last.contains(reason), "{args:?}: {last}");
    }
}

fn uris(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|s| s["uri"].as_str().unwrap().to_string())
        .collect()
}

async fn partners_timeline_and_list_alias(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    let gamma = TestInstance::spawn("gamma", backend).await;
    alpha.create_user("alice").await;
    beta.create_user("bob").await;
    gamma.create_user("carol").await;
    let (bob, carol) = (beta.handle_of("bob"), gamma.handle_of("carol"));
    alpha.follow("alice", &bob).await;
    alpha.follow("alice", &carol).await;
    let alice = alpha.handle_of("alice");
    settled(&[&alpha, &beta, &gamma], || async {
        (alpha.follow_state(&alice, &bob).await == Some(FollowState::Accepted)
            && alpha.follow_state(&alice, &carol).await == Some(FollowState::Accepted))
        .then_some(())
    })
    .await;

    let api = Api::for_user(&alpha, "alice", "read write follow").await;
    // Without partners there is no alias.
    let lists = api.get("/api/v1/lists").await.ok();
    assert!(lists.as_array().unwrap().is_empty(), "{lists}");
    assert_eq!(api.get("/api/v1/lists/partners").await.status.as_u16(), 404);

    let public = beta
        .publish("bob", NewPost::note("Shipped the partner view #learned"))
        .await;
    let unlisted = beta
        .publish(
            "bob",
            NewPost {
                visibility: Visibility::Unlisted,
                ..NewPost::note("Unlisted from beta")
            },
        )
        .await;
    let followers = beta
        .publish(
            "bob",
            NewPost {
                visibility: Visibility::Followers,
                ..NewPost::note("For followers on beta")
            },
        )
        .await;
    let gamma_public = gamma
        .publish("carol", NewPost::note("Public, but gamma is no partner"))
        .await;
    let _own = alpha
        .publish("alice", NewPost::note("Alpha's own public post"))
        .await;
    let all = [&public, &unlisted, &followers, &gamma_public];
    settled(&[&alpha, &beta, &gamma], || async {
        for post in all {
            alpha.stored_post(post.ap_id.as_str()).await?;
        }
        Some(())
    })
    .await;

    let host = outloud::service::partners::add(&alpha.context.db, &beta.domain, None)
        .await
        .unwrap();
    assert_eq!(host, beta.domain);

    let want = vec![public.ap_id.to_string()];
    for path in [
        "/api/v1/outloud/timelines/partners",
        "/api/v1/timelines/list/partners",
        "/api/v1/timelines/list/partners?kind=learned",
    ] {
        assert_eq!(uris(&api.get(path).await.ok()), want, "{path}");
    }
    assert!(uris(
        &api.get("/api/v1/timelines/list/partners?kind=stuck")
            .await
            .ok()
    )
    .is_empty());
    assert_eq!(
        api.get("/api/v1/outloud/timelines/partners?kind=bogus")
            .await
            .status
            .as_u16(),
        422
    );
    let hosts = api.get("/api/v1/outloud/partners").await.ok();
    assert_eq!(hosts[0]["host"], json!(beta.domain));
    assert_eq!(hosts.as_array().unwrap().len(), 1);

    // The alias, as Mastodon apps see lists.
    let lists = api.get("/api/v1/lists").await.ok();
    assert_eq!(lists[0]["id"], json!("partners"));
    assert_eq!(lists[0]["title"], json!("Partners"));
    crate::schema::assert_valid("List", &lists[0]);
    let list = api.get("/api/v1/lists/partners").await.ok();
    assert_eq!(list["title"], json!("Partners"));
    let accounts = api.get("/api/v1/lists/partners/accounts").await.ok();
    assert!(accounts.as_array().unwrap().is_empty());
    let bob_here = alpha.resolve(&bob).await;
    for answer in [
        api.put("/api/v1/lists/partners", json!({"title": "Mine"}))
            .await,
        api.delete("/api/v1/lists/partners").await,
        api.post(
            "/api/v1/lists/partners/accounts",
            json!({"account_ids": [bob_here.id.clone()]}),
        )
        .await,
    ] {
        assert_eq!(answer.status.as_u16(), 422);
        assert!(answer.json["error"]
            .as_str()
            .unwrap()
            .contains("cannot be edited"));
    }

    // The alias's `list` stream carries what the timeline would show: a
    // partner's new post, not gamma's.
    let token = api.token.clone().unwrap();
    let mut stream = Sse::open(
        &alpha.url("/api/v1/streaming/list?list=partners"),
        Some(&token),
    )
    .await;
    let gamma_live = gamma
        .publish("carol", NewPost::note("Live from gamma, no partner"))
        .await;
    let beta_live = beta
        .publish("bob", NewPost::note("Live from a partner"))
        .await;
    let (gamma_live, beta_live) = settled(&[&alpha, &beta, &gamma], || async {
        Some((
            alpha.stored_post(gamma_live.ap_id.as_str()).await?,
            alpha.stored_post(beta_live.ap_id.as_str()).await?,
        ))
    })
    .await;
    let events = collect_until(Client::Sse(&mut stream), &beta_live.id).await;
    let live: Vec<String> = events
        .iter()
        .filter(|e| e.event == "update")
        .filter_map(|e| e.status_id())
        .collect();
    assert_eq!(live, std::slice::from_ref(&beta_live.id), "{events:#?}");
    assert!(!live.contains(&gamma_live.id));
    crate::schema::assert_valid("Status", &events.last().unwrap().json());

    // A post from gamma shared in a community on beta (a partner host) is
    // on the Partners timeline though its author's host is no partner.
    let bob_actor = beta.local("bob").await;
    create_community(&beta, "guild", &bob_actor, false, false, Posting::Anyone).await;
    let guild = beta.handle_of("guild");
    alpha.follow("alice", &guild).await;
    gamma.follow("carol", &guild).await;
    settle(&[&alpha, &beta, &gamma]).await;
    let group = beta.local("guild").await;
    let shared = gamma
        .publish(
            "carol",
            NewPost {
                community: Some(group.ap_id.0.clone()),
                ..NewPost::note("Asked in the guild, from gamma")
            },
        )
        .await;
    let at_alpha = settled(&[&alpha, &beta, &gamma], || async {
        let post = alpha.stored_post(shared.ap_id.as_str()).await?;
        post.community_id.is_some().then_some(post)
    })
    .await;
    assert_eq!(at_alpha.author_id, carol_on_alpha(&alpha, &gamma).await);
    let timeline = uris(&api.get("/api/v1/outloud/timelines/partners").await.ok());
    assert_eq!(
        timeline,
        [
            shared.ap_id.to_string(),
            beta_live.ap_id.to_string(),
            public.ap_id.to_string()
        ],
        "newest first; gamma's own posts are not there"
    );

    // The viewer's mutes apply, as on the public timeline.
    api.post(&format!("/api/v1/accounts/{}/mute", bob_here.id), json!({}))
        .await
        .ok();
    assert_eq!(
        uris(&api.get("/api/v1/timelines/list/partners").await.ok()),
        [shared.ap_id.to_string()]
    );

    // Signed-out callers get no partners timeline.
    let anonymous = Api::anonymous(&alpha);
    assert_eq!(
        anonymous
            .get("/api/v1/outloud/timelines/partners")
            .await
            .status
            .as_u16(),
        401
    );
}

/// carol's account id on alpha.
async fn carol_on_alpha(alpha: &TestInstance, gamma: &TestInstance) -> String {
    alpha.resolve(&gamma.handle_of("carol")).await.id
}

/// Signs `name` in on `instance` through the sign-in page.
pub(crate) async fn sign_in(b: &Browser, instance: &TestInstance, name: &str) {
    b.goto(&instance.url("/login")).await;
    b.fill("#username", name).await;
    b.fill("#password", "password for tests").await;
    b.click("main button[type=submit]").await;
    assert!(b.current_url().await.ends_with("/home"));
}

/// The admin page names a partner (a bad host comes back with the
/// reason), and `/partners` shows the partner's public narration with
/// kind filter links.
async fn partners_in_the_browser(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    outloud::service::accounts::create_user(
        &alpha.context.db,
        &alpha.context.urls,
        outloud::service::accounts::NewUser {
            name: "root",
            password: "password for tests",
            role: outloud::db::local_user::Role::Admin,
        },
    )
    .await
    .unwrap();
    beta.create_user("bob").await;
    let bob = beta.handle_of("bob");
    alpha.follow("root", &bob).await;
    let root = alpha.handle_of("root");
    settled(&[&alpha, &beta], || async {
        (alpha.follow_state(&root, &bob).await == Some(FollowState::Accepted)).then_some(())
    })
    .await;
    let post = beta
        .publish("bob", NewPost::note("Partner narration from beta #doing"))
        .await;
    settled(&[&alpha, &beta], || async {
        alpha.stored_post(post.ap_id.as_str()).await
    })
    .await;

    let label = format!("partners-{backend:?}").to_lowercase();
    let Some(b) = Browser::start(&label).await else {
        return;
    };
    sign_in(&b, &alpha, "root").await;
    b.visit(&alpha.url("/partners"), "partners-empty").await;
    assert!(b
        .text("main")
        .await
        .contains("no partner organisations yet"));

    b.visit(&alpha.url("/admin/partners"), "partners-admin")
        .await;
    b.fill("#f-host", "not a host").await;
    b.click("main form[action='/admin/partners'] button[type=submit]")
        .await;
    assert!(b.text("#error").await.contains("is not a host name"));
    // The refused form came back as a 422 page, which the console logs:
    // exactly that one entry, drained here.
    let logged = b.console_errors().await;
    assert!(logged.len() == 1 && logged[0].contains("422"), "{logged:?}");
    b.fill("#f-host", &beta.domain).await;
    b.click("main form[action='/admin/partners'] button[type=submit]")
        .await;
    assert!(b.text("#notice").await.contains("partner is saved"));
    assert!(b.text("#partners").await.contains(&beta.domain));
    b.assert_console_clean().await;

    b.visit(&alpha.url("/partners"), "partners-timeline").await;
    assert!(b
        .text("main .card")
        .await
        .contains("Partner narration from beta"));
    assert!(b.exists("a[href='/partners?kind=doing']").await);
    assert!(b.exists("nav a[href='/partners']").await);
    b.visit(&alpha.url("/partners?kind=stuck"), "partners-stuck")
        .await;
    assert!(!b.exists("main .card").await);

    // Removing it from the admin page empties the timeline.
    b.goto(&alpha.url("/admin/partners")).await;
    b.click("#partners button[type=submit]").await;
    assert!(b.text("#notice").await.contains("partner is removed"));
    b.goto(&alpha.url("/partners")).await;
    assert!(!b.exists("main .card").await);
    b.close().await;
}
