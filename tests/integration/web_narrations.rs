//! The narrations pages over HTTP, as a browser without script uses them:
//! home, compose (preview, validation), permalinks with their thread and
//! "where it went", the card's actions and editing, across two instances.

use crate::browser::Browser;
use crate::harness::{both_backends, settle, settled, TestInstance};
use outloud::{
    config::Backend,
    db::{
        community::Posting,
        follow::FollowState,
        post::{Post, Visibility},
        Page,
    },
    service::{self, posts::NewPost, timelines::AccountStatuses},
};
use reqwest::{header, StatusCode};
use std::{collections::HashMap, sync::Mutex};

both_backends!(
    each_visibility_shows_where_it_belongs,
    compose_refuses_bad_input_and_stores_nothing,
    card_actions_like_boost_edit_delete,
    replies_cross_instances_into_the_thread,
    posting_in_a_joined_community,
    home_pages_by_twenty,
    in_the_browser_narrate_preview_reply_and_like,
    in_the_browser_each_visibility_lands_where_it_belongs,
);

/// A browser without script: keeps cookies by hand, follows no redirects.
pub struct WebClient {
    base: String,
    client: reqwest::Client,
    cookies: Mutex<HashMap<String, String>>,
}

impl WebClient {
    pub fn new(instance: &TestInstance) -> WebClient {
        WebClient {
            base: instance.url(""),
            client: crate::harness::http_client(),
            cookies: Mutex::new(HashMap::new()),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .lock()
            .unwrap()
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&self, response: &reqwest::Response) {
        let mut jar = self.cookies.lock().unwrap();
        for value in response.headers().get_all(header::SET_COOKIE) {
            let raw = value.to_str().unwrap();
            let pair = raw.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || raw.contains("Max-Age=0") {
                jar.remove(name);
            } else {
                jar.insert(name.to_string(), value.to_string());
            }
        }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header(header::COOKIE, self.cookie_header())
            .header(header::ACCEPT, "text/html")
            .send()
            .await
            .unwrap();
        self.keep_cookies(&response);
        response
    }

    /// GETs a page that must answer 200; its HTML.
    pub async fn page(&self, path: &str) -> String {
        let response = self.get(path).await;
        let status = response.status();
        let body = response.text().await.unwrap();
        assert_eq!(status, StatusCode::OK, "GET {path}: {body}");
        body
    }

    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header(header::COOKIE, self.cookie_header())
            .form(form)
            .send()
            .await
            .unwrap();
        self.keep_cookies(&response);
        response
    }

    /// POSTs a `multipart/form-data` body (web_media.rs builds it).
    pub async fn post_multipart(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> reqwest::Response {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header(header::COOKIE, self.cookie_header())
            .header(header::CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .unwrap();
        self.keep_cookies(&response);
        response
    }

    /// POSTs a form with the CSRF token of the page at `from`.
    pub async fn submit(
        &self,
        from: &str,
        action: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        let csrf = csrf_of(&self.page(from).await);
        let mut fields = vec![("csrf", csrf.as_str())];
        fields.extend_from_slice(form);
        self.post(action, &fields).await
    }

    /// Signs in as `name` (made by `TestInstance::create_user`).
    pub async fn sign_in(instance: &TestInstance, name: &str) -> WebClient {
        let web = WebClient::new(instance);
        let response = web
            .submit(
                "/login",
                "/login",
                &[("username", name), ("password", "password for tests")],
            )
            .await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER);
        assert!(web.cookies.lock().unwrap().contains_key("outloud_session"));
        web
    }
}

/// The first CSRF token in a page.
pub fn csrf_of(html: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = html.find(marker).expect("a form with a CSRF token") + marker.len();
    html[start..start + html[start..].find('"').unwrap()].to_string()
}

fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(header::LOCATION)
        .expect("a redirect")
        .to_str()
        .unwrap()
        .to_string()
}

/// Narrates through the composer; the new narration's path.
async fn compose(web: &WebClient, fields: &[(&str, &str)]) -> String {
    let response = web.submit("/compose", "/compose", fields).await;
    assert_eq!(
        response.status(),
        StatusCode::SEE_OTHER,
        "compose {fields:?}"
    );
    location(&response)
}

/// How many narrations `name` has stored (deleted ones left out).
async fn narration_count(instance: &TestInstance, name: &str) -> usize {
    let actor = instance.local(name).await;
    service::timelines::account(
        &instance.data(),
        Some(&actor),
        &actor,
        AccountStatuses::default(),
        Page {
            limit: 40,
            narration_kind: None,
            ..Page::default()
        },
    )
    .await
    .unwrap()
    .len()
}

/// alpha: ann; beta: bob, who follows ann.
async fn ann_and_her_follower(backend: Backend) -> (TestInstance, TestInstance) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    alpha.create_user("ann").await;
    beta.create_user("bob").await;
    let ann = alpha.handle_of("ann");
    beta.follow("bob", &ann).await;
    settled(&[&alpha, &beta], || async {
        (beta.follow_state(&beta.handle_of("bob"), &ann).await == Some(FollowState::Accepted))
            .then_some(())
    })
    .await;
    (alpha, beta)
}

fn post_id(path: &str) -> &str {
    path.rsplit('/').next().unwrap()
}

async fn stored(instance: &TestInstance, author: &TestInstance, path: &str) -> Option<Post> {
    instance
        .stored_post(&author.url(&format!("/objects/{}", post_id(path))))
        .await
}

async fn each_visibility_shows_where_it_belongs(backend: Backend) {
    let (alpha, beta) = ann_and_her_follower(backend).await;
    let ann = WebClient::sign_in(&alpha, "ann").await;
    let public = compose(
        &ann,
        &[
            ("text", "Public **news** for all"),
            ("visibility", "public"),
        ],
    )
    .await;
    let followers = compose(
        &ann,
        &[
            ("text", "Followers hear this first"),
            ("visibility", "followers"),
        ],
    )
    .await;
    let local = compose(
        &ann,
        &[
            ("text", "Only for our organisation"),
            ("visibility", "local"),
        ],
    )
    .await;
    assert!(public.starts_with("/@ann/"), "{public}");
    settle(&[&alpha, &beta]).await;

    // Ann's own home shows all three, newest first, under the composer.
    let home = ann.page("/home").await;
    assert!(home.contains("id=\"compose\""));
    let (a, b, c) = (
        home.find("Only for our organisation").unwrap(),
        home.find("Followers hear this first").unwrap(),
        home.find("Public <strong>news</strong> for all").unwrap(),
    );
    assert!(a < b && b < c, "newest first");

    // Bob on beta follows ann: public and followers-only, never local.
    let bob = WebClient::sign_in(&beta, "bob").await;
    let bob_home = bob.page("/home").await;
    assert!(bob_home.contains("Public <strong>news</strong> for all"));
    assert!(bob_home.contains("Followers hear this first"));
    assert!(!bob_home.contains("Only for our organisation"));
    assert!(
        stored(&beta, &alpha, &local).await.is_none(),
        "local left alpha"
    );

    // Anonymous visitors: the public one, not the others (404 as the API).
    let visitor = WebClient::new(&alpha);
    let page = visitor.page(&public).await;
    assert!(page.contains("Public <strong>news</strong> for all"));
    assert!(
        !page.contains("Where it went"),
        "only the author sees deliveries"
    );
    let back = format!(
        "/login?next={}\">Sign in</a> to reply",
        public.replace('@', "%40")
    );
    assert!(page.contains(&back), "{page}");
    for hidden in [&followers, &local] {
        let response = visitor.get(hidden).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{hidden}");
        let api = alpha
            .get(&format!("/api/v1/statuses/{}", post_id(hidden)))
            .await;
        assert_eq!(api.status(), StatusCode::NOT_FOUND);
    }
    // Another person on alpha sees the local one, not the followers-only one.
    alpha.create_user("cyd").await;
    let cyd = WebClient::sign_in(&alpha, "cyd").await;
    assert!(cyd.page(&local).await.contains("Only for our organisation"));
    assert_eq!(cyd.get(&followers).await.status(), StatusCode::NOT_FOUND);

    // Where it went: the author sees beta's server took it.
    let mine = ann.page(&public).await;
    assert!(mine.contains("Where it went"), "{mine}");
    assert!(mine.contains(&beta.domain));
    assert!(mine.contains("Delivered"));
    let stays = ann.page(&local).await;
    assert!(stays.contains("stays on this server"));

    // The remote copy on beta has its page there, with a link to reply.
    let copy = stored(&beta, &alpha, &public).await.unwrap();
    let remote = bob.page(&format!("/narrations/{}", copy.id)).await;
    assert!(remote.contains("Public <strong>news</strong> for all"));
    assert!(remote.contains("id=\"reply\""));
    // A local narration's /narrations/ address goes to its permalink.
    let response = ann.get(&format!("/narrations/{}", post_id(&public))).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), public);
    // Unknown ones are 404 pages.
    assert_eq!(
        visitor.get("/@ann/nope").await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        visitor.get("/narrations/nope").await.status(),
        StatusCode::NOT_FOUND
    );
    // Right id, wrong author: 404.
    let wrong = format!("/@cyd/{}", post_id(&public));
    assert_eq!(visitor.get(&wrong).await.status(), StatusCode::NOT_FOUND);
}

async fn compose_refuses_bad_input_and_stores_nothing(backend: Backend) {
    let (alpha, beta) = ann_and_her_follower(backend).await;
    // Home and compose need a session.
    let visitor = WebClient::new(&alpha);
    let response = visitor.get("/home").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/login?next=%2Fhome");
    assert_eq!(
        visitor.get("/compose").await.status(),
        StatusCode::SEE_OTHER
    );

    let ann = WebClient::sign_in(&alpha, "ann").await;
    // The empty home teaches where to find people and communities.
    let home = ann.page("/home").await;
    assert!(home.contains("href=\"/communities\"") && home.contains("href=\"/search\""));
    let form = ann.page("/compose").await;
    for choice in [
        "value=\"public\"",
        "value=\"unlisted\"",
        "value=\"followers\"",
        "value=\"direct\"",
        "value=\"local\"",
        "This organisation only",
        "maxlength=\"5000\"",
        "Share publicly",
    ] {
        assert!(form.contains(choice), "compose form lacks {choice}");
    }

    let refused = |fields: Vec<(&'static str, String)>| {
        let ann = &ann;
        async move {
            let borrowed: Vec<(&str, &str)> =
                fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
            let response = ann.submit("/compose", "/compose", &borrowed).await;
            assert_eq!(
                response.status(),
                StatusCode::UNPROCESSABLE_ENTITY,
                "{borrowed:?}"
            );
            response.text().await.unwrap()
        }
    };
    let empty = refused(vec![("text", "   ".into()), ("title", "Kept title".into())]).await;
    assert!(empty.contains("role=\"alert\""));
    assert!(empty.contains("needs some text"));
    assert!(empty.contains("value=\"Kept title\""));
    let long = "word ".repeat(1001);
    let too_long = refused(vec![("text", long.clone())]).await;
    assert!(too_long.contains("too long"));
    assert!(too_long.contains(long.trim_end()), "the text is kept");
    let odd = refused(vec![
        ("text", "Who sees this?".into()),
        ("visibility", "everyone".into()),
    ])
    .await;
    assert!(odd.contains("Choose who can see it"));
    assert!(odd.contains("Who sees this?"));
    // A community not joined (another server's community id or nonsense).
    let group = refused(vec![
        ("text", "In a community".into()),
        ("community", "not-a-joined-community".into()),
    ])
    .await;
    assert!(group.contains("community you joined"));
    // A reply to what ann may not see: bob's followers-only narration.
    let secret = beta
        .publish(
            "bob",
            NewPost {
                visibility: Visibility::Followers,
                ..NewPost::note("For my followers")
            },
        )
        .await;
    settle(&[&alpha, &beta]).await;
    let reply = refused(vec![
        ("text", "Let me answer".into()),
        ("in_reply_to", secret.id.clone()),
    ])
    .await;
    assert!(reply.contains("you may not see it"));
    assert!(reply.contains("Let me answer"));
    assert_eq!(narration_count(&alpha, "ann").await, 0);

    // Preview renders the Markdown and keeps the form; stores nothing.
    let preview = ann
        .submit(
            "/compose",
            "/compose",
            &[
                ("text", "Learned **borrowing** today #rust"),
                ("visibility", "followers"),
                ("preview", "1"),
            ],
        )
        .await;
    assert_eq!(preview.status(), StatusCode::OK);
    let preview = preview.text().await.unwrap();
    assert!(preview.contains("<strong>borrowing</strong>"));
    assert!(preview.contains("Learned **borrowing** today #rust</textarea>"));
    assert!(preview.contains("value=\"followers\" data-submit=\"Share with followers\""));
    assert!(preview.contains(">Share with followers</button>"));
    assert_eq!(narration_count(&alpha, "ann").await, 0);

    // Forged forms: no token, a wrong one, another session's: 403.
    let forged = ann
        .post("/compose", &[("text", "Forged"), ("visibility", "public")])
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let forged = ann
        .post(
            "/compose",
            &[
                ("csrf", "0123456789abcdef0123456789abcdef"),
                ("text", "Forged"),
            ],
        )
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let other = WebClient::sign_in(&alpha, "ann").await;
    let their_token = csrf_of(&other.page("/home").await);
    let forged = ann
        .post("/compose", &[("csrf", &their_token), ("text", "Forged")])
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(forged.text().await.unwrap().contains("expired"));
    assert_eq!(narration_count(&alpha, "ann").await, 0);

    // A title makes an article.
    let article = compose(
        &ann,
        &[
            ("text", "Long form"),
            ("title", "On lifetimes"),
            ("visibility", "public"),
        ],
    )
    .await;
    let page = ann.page(&article).await;
    assert!(page.contains("On lifetimes"));
    assert!(
        stored(&alpha, &alpha, &article)
            .await
            .unwrap()
            .title
            .as_deref()
            == Some("On lifetimes")
    );
}

async fn card_actions_like_boost_edit_delete(backend: Backend) {
    let (alpha, beta) = ann_and_her_follower(backend).await;
    alpha.create_user("cyd").await;
    let ann = WebClient::sign_in(&alpha, "ann").await;
    let cyd = WebClient::sign_in(&alpha, "cyd").await;
    let path = compose(&ann, &[("text", "Like me"), ("visibility", "public")]).await;
    let id = post_id(&path).to_string();
    // Delivered before it is edited: the queue does not promise to send a
    // Create before the Update that follows it.
    settle(&[&alpha, &beta]).await;
    let act = |who: &'static str, action: &'static str, return_to: &'static str| {
        let (ann, cyd, path, id) = (&ann, &cyd, path.clone(), id.clone());
        async move {
            let web = if who == "ann" { ann } else { cyd };
            let mut fields = vec![];
            if !return_to.is_empty() {
                fields.push(("return_to", return_to));
            }
            web.submit(&path, &format!("/narrations/{id}/{action}"), &fields)
                .await
        }
    };
    // The card's forms come back to the page they are on.
    let page = cyd.page(&path).await;
    assert!(page.contains(&format!("name=\"return_to\" value=\"{path}\"")));
    let response = act("cyd", "like", "/home").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/home");
    let response = act("cyd", "boost", "").await;
    assert_eq!(
        location(&response),
        path,
        "no return_to: the narration's page"
    );
    // Elsewhere than this site is not a place to come back to.
    let response = act("cyd", "like", "https://evil.example/").await;
    assert_eq!(location(&response), path);
    let page = cyd.page(&path).await;
    assert!(page.contains("Liked <span class=\"n\">1</span>"), "{page}");
    assert!(page.contains("Boosted <span class=\"n\">1</span>"));
    assert!(page.contains(&format!("/narrations/{id}/unlike")));
    let response = act("cyd", "unlike", "").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    act("cyd", "unboost", "").await;
    act("cyd", "unboost", "").await; // undoing twice is fine
    let page = cyd.page(&path).await;
    assert!(page.contains("Like <span class=\"n\">0</span>"));
    assert!(page.contains("Boost <span class=\"n\">0</span>"));
    // A forged like stores nothing.
    let forged = cyd.post(&format!("/narrations/{id}/like"), &[]).await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    assert!(cyd
        .page(&path)
        .await
        .contains("Like <span class=\"n\">0</span>"));
    // Unknown actions and narrations.
    assert_eq!(
        act("cyd", "explode", "").await.status(),
        StatusCode::NOT_FOUND
    );

    // Only the author edits or deletes.
    assert!(!cyd
        .page(&path)
        .await
        .contains(&format!("/narrations/{id}/edit")));
    let response = cyd.get(&format!("/narrations/{id}/edit")).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = cyd
        .submit(
            &path,
            &format!("/narrations/{id}/edit"),
            &[("text", "Hijacked")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let response = act("cyd", "delete", "").await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert!(cyd.page(&path).await.contains("Like me"));

    // The author edits: prefilled, empty refused, then saved and sent on.
    let edit_path = format!("/narrations/{id}/edit");
    let form = ann.page(&edit_path).await;
    assert!(form.contains(">Like me</textarea>"));
    let response = ann.submit(&edit_path, &edit_path, &[("text", "  ")]).await;
    assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(response.text().await.unwrap().contains("role=\"alert\""));
    let response = ann
        .submit(
            &edit_path,
            &edit_path,
            &[("text", "Like me, *edited*"), ("warning", "Spoilers")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), path);
    let page = ann.page(&path).await;
    assert!(page.contains("Like me, <em>edited</em>"));
    assert!(page.contains("Spoilers"));
    assert!(page.contains("edited"));
    settled(&[&alpha, &beta], || async {
        let copy = stored(&beta, &alpha, &path).await.unwrap();
        copy.content.contains("<em>edited</em>").then_some(())
    })
    .await;

    // The author deletes: back home, the page is gone (410).
    let response = ann
        .submit(
            &path,
            &format!("/narrations/{id}/delete"),
            &[("return_to", &path)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&response), "/home");
    assert_eq!(cyd.get(&path).await.status(), StatusCode::GONE);
    assert_eq!(narration_count(&alpha, "ann").await, 0);
    settle(&[&alpha, &beta]).await;
    assert!(stored(&beta, &alpha, &path)
        .await
        .unwrap()
        .deleted_at
        .is_some());
}

async fn replies_cross_instances_into_the_thread(backend: Backend) {
    let (alpha, beta) = ann_and_her_follower(backend).await;
    let ann = WebClient::sign_in(&alpha, "ann").await;
    let path = compose(
        &ann,
        &[
            ("text", "Ask: how do you test federation?"),
            ("visibility", "public"),
        ],
    )
    .await;
    settle(&[&alpha, &beta]).await;
    let copy = stored(&beta, &alpha, &path).await.unwrap();

    // Bob answers from beta, through the reply box of beta's page.
    let bob = WebClient::sign_in(&beta, "bob").await;
    let remote = format!("/narrations/{}", copy.id);
    let form = bob.page(&format!("/compose?in_reply_to={}", copy.id)).await;
    assert!(
        form.contains("Ask: how do you test federation?"),
        "the parent is shown"
    );
    let response = bob
        .submit(
            &remote,
            "/compose",
            &[
                ("text", "Two instances in one process"),
                ("visibility", "public"),
                ("in_reply_to", &copy.id),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let reply_path = location(&response);
    assert!(reply_path.starts_with("/@bob/"));
    // On beta: the reply's page shows the question above it.
    let thread = bob.page(&reply_path).await;
    let (q, a) = (
        thread.find("Ask: how do you test federation?").unwrap(),
        thread.find("Two instances in one process").unwrap(),
    );
    assert!(q < a, "ancestors first");
    // On alpha, after delivery: the reply is in ann's thread, for anyone.
    settle(&[&alpha, &beta]).await;
    let visitor = WebClient::new(&alpha);
    let thread = visitor.page(&path).await;
    let (q, a) = (
        thread.find("Ask: how do you test federation?").unwrap(),
        thread.find("Two instances in one process").unwrap(),
    );
    assert!(q < a, "the reply below");
    assert!(thread.contains("Reply <span class=\"n\">1</span>"));
    // The reply's own page on alpha is the remote one.
    let reply = alpha
        .stored_post(&beta.url(&format!("/objects/{}", post_id(&reply_path))))
        .await
        .unwrap();
    assert!(thread.contains(&format!("/narrations/{}", reply.id)));
    let page = visitor.page(&format!("/narrations/{}", reply.id)).await;
    assert!(page.contains("Two instances in one process"));
}

async fn posting_in_a_joined_community(backend: Backend) {
    let (alpha, beta) = ann_and_her_follower(backend).await;
    let bob = beta.local("bob").await;
    service::communities::create(
        &beta.context.db,
        &beta.context.urls,
        service::communities::NewCommunity {
            name: "rust",
            owner: &bob,
            display_name: Some("Rust guild".into()),
            summary: None,
            approval: false,
            members_only: false,
            posting: Posting::Members,
            icon: None,
        },
    )
    .await
    .unwrap();
    let group = beta.url("/communities/rust");
    alpha.follow("ann", &group).await;
    settled(&[&alpha, &beta], || async {
        (alpha.follow_state(&alpha.handle_of("ann"), &group).await == Some(FollowState::Accepted))
            .then_some(())
    })
    .await;
    let joined = alpha.resolve(&group).await;

    let ann = WebClient::sign_in(&alpha, "ann").await;
    // ?community= picks it, and the button says where it goes.
    let form = ann
        .page(&format!("/compose?community=rust@{}", beta.domain))
        .await;
    assert!(form.contains(&format!(
        "<option value=\"{}\" selected>Rust guild</option>",
        joined.id
    )));
    assert!(form.contains(">Post in Rust guild</button>"));
    let path = compose(
        &ann,
        &[
            ("text", "Learned: `cargo tree -d` finds duplicate crates"),
            ("visibility", "public"),
            ("community", &joined.id),
        ],
    )
    .await;
    let page = ann.page(&path).await;
    assert!(page.contains(&format!(
        "in <a href=\"/c/rust@{}\">Rust guild</a>",
        beta.domain
    )));
    settle(&[&alpha, &beta]).await;
    let copy = stored(&beta, &alpha, &path).await.unwrap();
    assert_eq!(
        copy.community_id.as_deref(),
        Some(beta.local("rust").await.id.as_str())
    );
}

/// Signs `name` in on `instance` through the sign-in page.
async fn browser_sign_in(b: &Browser, instance: &TestInstance, name: &str) {
    b.goto(&instance.url("/login")).await;
    b.fill("#username", name).await;
    b.fill("#password", "password for tests").await;
    b.click("main button[type=submit]").await;
    assert!(
        b.current_url().await.ends_with("/home"),
        "signed in: {}",
        b.current_url().await
    );
}

async fn in_the_browser_narrate_preview_reply_and_like(backend: Backend) {
    let (alpha, beta) = ann_and_her_follower(backend).await;
    let label = format!("narrations-{backend:?}").to_lowercase();
    let Some(b) = Browser::start(&label).await else {
        return;
    };
    browser_sign_in(&b, &alpha, "ann").await;
    b.visit(&alpha.url("/home"), "home-empty").await;
    assert!(b.text("main").await.contains("Your home is quiet"));

    // Compose: the button follows the chosen visibility (script on).
    b.visit(&alpha.url("/compose"), "compose").await;
    assert_eq!(b.text("#compose-submit").await, "Share publicly");
    b.select("#compose-visibility", "followers").await;
    assert_eq!(b.text("#compose-submit").await, "Share with followers");
    assert!(b
        .text("#compose-visibility-hint")
        .await
        .contains("followers"));
    b.select("#compose-visibility", "public").await;

    // Validation keeps what was written.
    b.click("#compose .compose-more summary").await;
    b.fill("#compose-title", "A title without text").await;
    b.click("#compose-submit").await;
    assert!(b.text("[role=alert]").await.contains("needs some text"));
    assert!(b.source().await.contains("value=\"A title without text\""));
    b.screenshot("compose-error").await;
    // The form comes back with 422, which Chromium logs; nothing else.
    let errors = b.console_errors().await;
    assert!(
        errors.iter().all(|e| e.contains("422")) && errors.len() <= 1,
        "{errors:?}"
    );
    b.fill("#compose-title", "").await;

    // Preview renders the Markdown on the server and keeps the form.
    b.fill(
        "#compose-text",
        "Learned **how to test federation**: two instances, one process.",
    )
    .await;
    b.click("#compose button[name=preview]").await;
    assert_eq!(
        b.text("#compose-preview .content strong").await,
        "how to test federation"
    );
    b.screenshot("compose-preview").await;
    b.assert_console_clean().await;
    b.click("#compose-submit").await;
    let permalink = b.current_url().await;
    assert!(permalink.contains("/@ann/"), "{permalink}");
    assert_eq!(
        b.text(".focus .content strong").await,
        "how to test federation"
    );

    // After delivery, the author sees where it went.
    settle(&[&alpha, &beta]).await;
    b.visit(&permalink, "permalink-where-it-went").await;
    let went = b.text("#where-it-went").await;
    assert!(
        went.contains(&beta.domain) && went.contains("Delivered"),
        "{went}"
    );
    b.visit(&alpha.url("/home"), "home").await;
    assert!(b.text("main").await.contains("two instances, one process"));

    // The author edits it from the card.
    b.goto(&permalink).await;
    b.click(".focus a[href$=\"/edit\"]").await;
    b.screenshot("edit").await;
    b.assert_console_clean().await;
    assert!(b
        .source()
        .await
        .contains("two instances, one process.</textarea>"));
    b.fill(
        "#edit-text",
        "Learned **how to test federation**: two instances, one process, no network.",
    )
    .await;
    b.click("#edit button[type=submit]").await;
    assert_eq!(b.current_url().await, permalink);
    assert!(b.text(".focus").await.contains("no network"));
    settle(&[&alpha, &beta]).await;

    // Bob, on beta, reads it at home, likes it and replies from there.
    browser_sign_in(&b, &beta, "bob").await;
    b.visit(&beta.url("/home"), "beta-home").await;
    assert!(b.text("main").await.contains("two instances, one process"));
    b.click("main form[action$=\"/like\"] button").await;
    assert!(
        b.current_url().await.ends_with("/home"),
        "back home after a like"
    );
    assert_eq!(
        b.text("main form[action$=\"/unlike\"] button").await,
        "Liked 1"
    );
    b.click("main a.action[href$=\"#reply\"]").await;
    assert!(b.current_url().await.contains("/narrations/"));
    b.screenshot("beta-remote-narration").await;
    b.assert_console_clean().await;
    b.fill("#reply-text", "We do the same, with *drain_deliveries*.")
        .await;
    b.click("#reply-submit").await;
    let reply = b.current_url().await;
    assert!(reply.contains("/@bob/"), "{reply}");
    b.visit(&reply, "beta-reply-thread").await;
    assert_eq!(
        b.texts(".card .content").await.len(),
        2,
        "the question above the reply"
    );

    // Back on alpha: the thread has bob's reply, and the like counts.
    settle(&[&alpha, &beta]).await;
    b.visit(&permalink, "permalink-thread").await;
    let replies = b.text(".thread.replies").await;
    assert!(replies.contains("with drain_deliveries"), "{replies}");
    assert!(b.text(".focus").await.contains("Like 1"));
    b.close().await;
}

async fn home_pages_by_twenty(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    alpha.create_user("ann").await;
    for n in 1..=25 {
        alpha
            .publish("ann", NewPost::note(&format!("Narration number {n}.")))
            .await;
    }
    let ann = WebClient::sign_in(&alpha, "ann").await;
    let count = |html: &str| html.matches("<article class=\"card").count();
    let first = ann.page("/home").await;
    assert_eq!(count(&first), 20);
    assert!(first.contains("Narration number 25.") && first.contains("Narration number 6."));
    assert!(!first.contains("Narration number 5."));
    assert!(
        !first.contains("rel=\"prev\""),
        "nothing newer than the newest"
    );
    let marker = "href=\"/home?max_id=";
    let at = first.find(marker).expect("an Older link") + "href=\"".len();
    let older = &first[at..at + first[at..].find('"').unwrap()];
    let second = ann.page(older).await;
    assert_eq!(count(&second), 5);
    assert!(second.contains("Narration number 5.") && second.contains("Narration number 1."));
    assert!(
        !second.contains("rel=\"next\""),
        "nothing older than the oldest"
    );
    let marker = "href=\"/home?min_id=";
    let at = second.find(marker).expect("a Newer link") + "href=\"".len();
    let newer = &second[at..at + second[at..].find('"').unwrap()];
    let back = ann.page(newer).await;
    assert_eq!(count(&back), 20);
    assert!(back.contains("Narration number 6.") && back.contains("Narration number 25."));
    // Card actions on a later page come back to it.
    assert!(second.contains(&format!("name=\"return_to\" value=\"{older}\"")));
}

/// Signs out through the header's sign-out form (submitted by script: on a
/// narrow window it sits in a closed menu).
async fn browser_sign_out(b: &Browser, instance: &TestInstance) {
    b.goto(&instance.url("/home")).await;
    b.driver()
        .execute(
            r#"document.querySelector("form[action='/logout']").submit();"#,
            Vec::new(),
        )
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    b.goto(&instance.url("/home")).await;
    assert!(b.current_url().await.contains("/login"), "signed out");
}

/// Composes a narration in the browser with the given visibility; its
/// permalink.
async fn browser_compose(
    b: &Browser,
    instance: &TestInstance,
    text: &str,
    visibility: &str,
) -> String {
    b.goto(&instance.url("/compose")).await;
    b.fill("#compose-text", text).await;
    b.select("#compose-visibility", visibility).await;
    b.click("#compose-submit").await;
    let permalink = b.current_url().await;
    assert!(permalink.contains("/@"), "{visibility}: {permalink}");
    b.assert_console_clean().await;
    permalink
}

/// Public, followers-only and local narrations written in the browser, read
/// in the browser by a remote follower, a local non-follower and a visitor;
/// and a forged form refused.
async fn in_the_browser_each_visibility_lands_where_it_belongs(backend: Backend) {
    let (alpha, beta) = ann_and_her_follower(backend).await;
    alpha.create_user("cleo").await;
    let label = format!("visibility-{backend:?}").to_lowercase();
    let Some(b) = Browser::start(&label).await else {
        return;
    };
    browser_sign_in(&b, &alpha, "ann").await;
    let public = browser_compose(&b, &alpha, "Public: what I am doing today.", "public").await;
    let followers = browser_compose(&b, &alpha, "Followers: where I am stuck.", "followers").await;
    let local = browser_compose(&b, &alpha, "Local: our internal tooling.", "local").await;

    // A forged form (its token replaced) is refused, and stores nothing.
    let before = narration_count(&alpha, "ann").await;
    b.goto(&alpha.url("/compose")).await;
    b.fill("#compose-text", "Forged: never stored.").await;
    b.driver()
        .execute(
            r##"document.querySelector("#compose input[name=csrf]").value = "forged";"##,
            Vec::new(),
        )
        .await
        .unwrap();
    b.click("#compose-submit").await;
    assert_eq!(b.text("h1").await, "Not allowed");
    b.screenshot("forged-refused").await;
    let errors = b.console_errors().await;
    assert!(errors.iter().all(|e| e.contains("403")), "{errors:?}");
    assert_eq!(narration_count(&alpha, "ann").await, before);

    // Bob, following ann from beta, reads public and followers-only at home;
    // the local narration never left alpha.
    settle(&[&alpha, &beta]).await;
    browser_sign_in(&b, &beta, "bob").await;
    b.visit(&beta.url("/home"), "follower-home").await;
    let home = b.text("main").await;
    assert!(home.contains("what I am doing today"), "{home}");
    assert!(home.contains("where I am stuck"), "{home}");
    assert!(!home.contains("internal tooling"), "{home}");
    assert!(stored(&beta, &alpha, &local).await.is_none());

    // Cleo, on alpha but not a follower: the public and the local one, not
    // the followers-only one (404, as in the API).
    browser_sign_out(&b, &alpha).await;
    browser_sign_in(&b, &alpha, "cleo").await;
    b.visit(&local, "colleague-local").await;
    assert!(b.text("main").await.contains("internal tooling"));
    b.goto(&followers).await;
    assert_eq!(b.text("h1").await, "Not found");
    b.console_errors().await;
    b.visit(&alpha.url("/@ann"), "colleague-profile").await;
    let profile = b.text("main").await;
    assert!(profile.contains("what I am doing today"), "{profile}");
    assert!(profile.contains("internal tooling"), "{profile}");
    assert!(!profile.contains("where I am stuck"), "{profile}");

    // A visitor: only the public one.
    browser_sign_out(&b, &alpha).await;
    b.visit(&alpha.url("/@ann"), "visitor-profile").await;
    let profile = b.text("main").await;
    assert!(profile.contains("what I am doing today"), "{profile}");
    assert!(!profile.contains("internal tooling"), "{profile}");
    assert!(!profile.contains("where I am stuck"), "{profile}");
    for hidden in [&followers, &local] {
        b.goto(hidden).await;
        assert_eq!(b.text("h1").await, "Not found", "{hidden}");
    }
    b.console_errors().await;
    b.visit(&public, "visitor-public").await;
    b.close().await;
}
