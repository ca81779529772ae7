//! The web app's discover pages: the tag page, search, notifications and
//! the Atom feeds, over HTTP as a browser sends it (cookies by hand), and
//! in headless Chromium.

use crate::browser::Browser;
use crate::harness::{both_backends, settle, TestInstance};
use outloud::{
    config::Backend,
    db::{community::Posting, follow::FollowState, post::Visibility, reaction::ReactionKind},
    service::{
        self,
        communities::{self, NewCommunity},
        posts::NewPost,
    },
};
use reqwest::StatusCode;

both_backends!(
    tag_page_shows_what_the_viewer_may_see,
    search_finds_people_communities_tags_and_remote_handles,
    notifications_answer_requests_and_count_unread,
    atom_feeds_hold_public_narrations_only,
    browser_discovers_tags_search_and_notifications,
);

/// A browser signed in as a local person: the session cookie and the
/// session's CSRF token.
struct WebClient<'a> {
    inst: &'a TestInstance,
    cookie: Option<String>,
    csrf: String,
}

impl<'a> WebClient<'a> {
    /// A visitor who is not signed in.
    fn anonymous(inst: &'a TestInstance) -> WebClient<'a> {
        WebClient {
            inst,
            cookie: None,
            csrf: String::new(),
        }
    }

    /// `name` signed in (a session opened as the sign-in page opens it).
    async fn signed_in(inst: &'a TestInstance, name: &str) -> WebClient<'a> {
        let actor = inst.local(name).await;
        let (session, token) =
            service::sessions::open(&inst.context.db, &actor, "test browser", "127.0.0.1")
                .await
                .unwrap();
        WebClient {
            inst,
            cookie: Some(format!("outloud_session={token}")),
            csrf: session.csrf_token,
        }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        let mut request = self.inst.client.get(self.inst.url(path));
        if let Some(cookie) = &self.cookie {
            request = request.header("Cookie", cookie);
        }
        request.send().await.unwrap()
    }

    /// A page: its status and HTML.
    async fn page(&self, path: &str) -> (StatusCode, String) {
        let response = self.get(path).await;
        let status = response.status();
        (status, response.text().await.unwrap())
    }

    /// Posts a form with the CSRF token (or without, when `csrf` is false).
    async fn post(&self, path: &str, csrf: bool) -> reqwest::Response {
        let mut request = self.inst.client.post(self.inst.url(path));
        if let Some(cookie) = &self.cookie {
            request = request.header("Cookie", cookie);
        }
        let form: Vec<(&str, &str)> = if csrf {
            vec![("csrf", self.csrf.as_str())]
        } else {
            vec![]
        };
        request.form(&form).send().await.unwrap()
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

fn note(text: &str, visibility: Visibility) -> NewPost {
    NewPost {
        visibility,
        ..NewPost::note(text)
    }
}

async fn tag_page_shows_what_the_viewer_may_see(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    alpha.create_user("alice").await;
    alpha.create_user("bob").await;
    alpha
        .publish(
            "alice",
            note("Public notes on #Rust lifetimes", Visibility::Public),
        )
        .await;
    alpha
        .publish(
            "alice",
            note("Followers hear about #rust traits", Visibility::Followers),
        )
        .await;
    alpha
        .publish(
            "alice",
            note("Inside the organisation: #rust at work", Visibility::Local),
        )
        .await;

    let visitor = WebClient::anonymous(&alpha);
    let (status, html) = visitor.page("/tags/Rust").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<h1>#rust</h1>"), "{html}");
    assert!(html.contains("Public notes on"));
    assert!(!html.contains("Followers hear about"));
    assert!(!html.contains("Inside the organisation"));
    assert!(
        html.contains(
            r#"<link rel="alternate" type="application/atom+xml" href="/tags/rust.atom""#
        ),
        "{html}"
    );

    // A person of this organisation sees its local narrations too, as the
    // API's tag timeline shows them; never someone's followers-only ones.
    let bob = WebClient::signed_in(&alpha, "bob").await;
    let (_, html) = bob.page("/tags/rust").await;
    assert!(html.contains("Public notes on"));
    assert!(html.contains("Inside the organisation"));
    assert!(!html.contains("Followers hear about"));
    // The cards' actions come back to the tag page.
    assert!(
        html.contains(r#"name="return_to" value="/tags/rust""#),
        "{html}"
    );

    // Not a hashtag: 404 page, not a 500.
    for bad in ["/tags/%3Cscript%3E", "/tags/2024", "/tags/two%20words"] {
        let (status, html) = visitor.page(bad).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{bad}");
        assert!(html.contains("<h1>Not found</h1>"));
    }
    // A hashtag nobody used: an empty page that says so.
    let (status, html) = visitor.page("/tags/nobodyusesthis").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("No narrations with #nobodyusesthis yet"));

    // Paging: 20 a page, « Newer / Older ».
    for i in 0..21 {
        alpha
            .publish(
                "bob",
                note(&format!("Paging entry {i:02} #paging"), Visibility::Public),
            )
            .await;
    }
    let (_, first) = visitor.page("/tags/paging").await;
    assert_eq!(first.matches("<article class=\"card").count(), 20);
    assert!(first.contains("Paging entry 20"));
    assert!(!first.contains("Paging entry 00"));
    assert!(!first.contains("« Newer"));
    let older = first
        .split("href=\"")
        .filter_map(|s| s.split('"').next())
        .find(|h| h.starts_with("/tags/paging?max_id="))
        .expect("an Older link")
        .to_string();
    let (_, second) = visitor.page(&older).await;
    assert_eq!(second.matches("<article class=\"card").count(), 1);
    assert!(second.contains("Paging entry 00"));
    assert!(second.contains("« Newer"));
    assert!(!second.contains("Older »"));
}

async fn search_finds_people_communities_tags_and_remote_handles(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    let alice = alpha.create_user("alice").await;
    alpha.create_user("bob").await;
    beta.create_user("carol").await;
    communities::create(
        &alpha.context.db,
        &alpha.context.urls,
        NewCommunity {
            name: "guild",
            owner: &alice,
            display_name: Some("Rust guild".into()),
            summary: Some("Rust practitioners".into()),
            approval: false,
            members_only: false,
            posting: Posting::Anyone,
            icon: None,
        },
    )
    .await
    .unwrap();
    alpha
        .publish(
            "alice",
            note("Borrow checker lessons #ferris", Visibility::Public),
        )
        .await;
    alpha
        .publish(
            "alice",
            note("Secret borrow checker musings", Visibility::Followers),
        )
        .await;

    let bob = WebClient::signed_in(&alpha, "bob").await;
    // An empty query shows the form and no results.
    let (status, html) = bob.page("/search").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("<h1>Search</h1>"));
    assert!(html.contains("name=\"q\""));
    assert!(!html.contains("Nothing found"));

    let (_, html) = bob.page("/search?q=alic").await;
    assert!(
        html.contains("<h2 id=\"found-people\">People</h2>"),
        "{html}"
    );
    assert!(html.contains("href=\"/@alice\""));

    let (_, html) = bob.page("/search?q=guild").await;
    assert!(html.contains("<h2 id=\"found-communities\">Communities</h2>"));
    assert!(html.contains("href=\"/c/guild\""));
    assert!(!html.contains("found-people"));

    let (_, html) = bob.page("/search?q=%23ferris").await;
    assert!(html.contains("<h2 id=\"found-tags\">Hashtags</h2>"));
    assert!(html.contains("href=\"/tags/ferris\""));

    let (_, html) = bob.page("/search?q=borrow").await;
    assert!(html.contains("<h2 id=\"found-narrations\">Narrations</h2>"));
    assert!(html.contains("Borrow checker lessons"));
    assert!(!html.contains("Secret borrow checker"));

    // A handle on the other instance is looked up there when signed in…
    let handle = beta.handle_of("carol");
    let (status, html) = bob.page(&format!("/search?q=%40{handle}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains(&format!("@{handle}")), "{html}");
    assert!(html.contains(&format!("href=\"/@{handle}\"")));
    // A link to an actor on the other server is looked up too.
    let erin = beta.create_user("erin").await;
    let (_, html) = bob
        .page(&format!("/search?q={}", beta.actor_url(&erin.username)))
        .await;
    assert!(
        html.contains(&format!("@{}", beta.handle_of("erin"))),
        "{html}"
    );
    // And a link to a narration there brings the narration here.
    let remote = beta
        .publish(
            "carol",
            note("Notes from the beta side", Visibility::Public),
        )
        .await;
    let (_, html) = bob.page(&format!("/search?q={}", remote.ap_id)).await;
    assert!(
        html.contains("<h2 id=\"found-narrations\">Narrations</h2>"),
        "{html}"
    );
    assert!(html.contains("Notes from the beta side"));
    // …and a visitor finds only what is known here: the page says what to try.
    let dave = beta.create_user("dave").await;
    let (_, html) = WebClient::anonymous(&alpha)
        .page(&format!("/search?q={}", beta.handle_of(&dave.username)))
        .await;
    assert!(html.contains("Nothing found for"), "{html}");
    assert!(html.contains("after signing in"));

    // Nothing at all: the page teaches what to try.
    let (_, html) = bob.page("/search?q=zzqqxx").await;
    assert!(html.contains("Nothing found for “zzqqxx”"));
    // A query string that does not parse: the 400 page.
    let (status, html) = bob.page("/search?q=a&q=b").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("<h1>That did not work</h1>"), "{html}");
    // Too long: said so, 422.
    let long = "a".repeat(300);
    let (status, html) = bob.page(&format!("/search?q={long}")).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html.contains("role=\"alert\""));
}

async fn notifications_answer_requests_and_count_unread(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let alice = alpha.create_user("alice").await;
    let bob = alpha.create_user("bob").await;
    let carol = alpha.create_user("carol").await;
    let data = alpha.data();
    let alice = service::follows::set_manual_approval(&data, &alice, true)
        .await
        .unwrap();

    // Visitors are sent to sign in first.
    let response = WebClient::anonymous(&alpha).get("/notifications").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        response.headers()["location"],
        "/login?next=%2Fnotifications"
    );

    service::follows::follow(&data, &bob, &alice).await.unwrap();
    service::follows::follow(&data, &carol, &alice)
        .await
        .unwrap();
    let post = alpha
        .publish(
            "alice",
            note("Pairing on the parser today", Visibility::Public),
        )
        .await;
    alpha
        .publish(
            "bob",
            note("Thanks @alice for the review!", Visibility::Public),
        )
        .await;
    service::reactions::react(&data, &bob, &post, ReactionKind::Like)
        .await
        .unwrap();

    let browser = WebClient::signed_in(&alpha, "alice").await;
    let (_, html) = browser.page("/search").await;
    assert_eq!(unread_in_header(&html), 4, "{html}");

    let (status, html) = browser.page("/notifications").await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("mentioned you"), "{html}");
    assert!(html.contains("for the review!"));
    assert!(html.contains("liked your narration"));
    assert!(html.contains("Pairing on the parser today"));
    assert_eq!(html.matches("asks to follow you").count(), 2);
    let accept = format!("/notifications/requests/{}/accept", bob.id);
    let reject = format!("/notifications/requests/{}/reject", carol.id);
    assert!(html.contains(&accept));
    assert!(html.contains(&reject));
    // Reading the page read them: the header counts nothing.
    assert_eq!(unread_in_header(&html), 0);
    let (_, html) = browser.page("/search").await;
    assert_eq!(unread_in_header(&html), 0);

    // A forged answer (no CSRF token) is refused and changes nothing.
    let response = browser.post(&accept, false).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        service::follows::state(&data, &bob, &alice).await.unwrap(),
        Some(FollowState::Pending)
    );
    // A signed-out visitor's answer too.
    let response = WebClient::anonymous(&alpha).post(&accept, false).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);

    let response = browser.post(&accept, true).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/notifications");
    assert_eq!(
        service::follows::state(&data, &bob, &alice).await.unwrap(),
        Some(FollowState::Accepted)
    );
    let response = browser.post(&reject, true).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        service::follows::state(&data, &carol, &alice)
            .await
            .unwrap(),
        None
    );
    // Answered: no forms any more, and answering again is 404.
    let (_, html) = browser.page("/notifications").await;
    assert!(!html.contains(&accept));
    assert!(html.contains("asked to follow you (answered)"));
    let response = browser.post(&accept, true).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let response = browser
        .post(&format!("/notifications/requests/{}/maybe", bob.id), true)
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);

    // Something new: counted again; reading an older page does not make
    // it read.
    service::reactions::react(&data, &carol, &post, ReactionKind::Like)
        .await
        .unwrap();
    let (_, html) = browser.page("/search").await;
    assert_eq!(unread_in_header(&html), 1);
    let (_, html) = browser
        .page("/notifications?max_id=00000000-0000-7000-8000-000000000000")
        .await;
    assert!(html.contains("No notifications on this page"));
    assert_eq!(unread_in_header(&html), 1);

    // Paging: 20 a page; reading an older page keeps the marker where the
    // newest page put it.
    for i in 0..21 {
        alpha
            .publish(
                "bob",
                note(&format!("Ping {i:02} for @alice"), Visibility::Public),
            )
            .await;
    }
    let (_, first) = browser.page("/notifications").await;
    assert_eq!(first.matches("<li class=\"notification").count(), 20);
    assert!(first.contains("Ping 20") && !first.contains("Ping 00"));
    let older = first
        .split("href=\"")
        .filter_map(|s| s.split('"').next())
        .find(|h| h.starts_with("/notifications?max_id="))
        .expect("an Older link")
        .to_string();
    let (_, second) = browser.page(&older).await;
    assert!(second.contains("Ping 00"));
    assert!(second.contains("« Newer"));
    assert_eq!(unread_in_header(&second), 0);
    let (_, html) = browser.page("/search").await;
    assert_eq!(unread_in_header(&html), 0);

    // Clear all: forged refused, then everything gone.
    let response = browser.post("/notifications/clear", false).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let (_, html) = browser.page("/notifications").await;
    assert!(html.contains("Ping 20"));
    let response = browser.post("/notifications/clear", true).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let (_, html) = browser.page("/notifications").await;
    assert!(html.contains("Nothing new."), "{html}");
    assert!(!html.contains("Clear all notifications"));
}

/// The first child element of `node` named `name`.
fn child<'a, 'i>(node: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    node.children()
        .find(|c| c.is_element() && c.tag_name().name() == name)
}

/// The `<entry><id>`s of an Atom document, checking its structure on
/// the way.
fn atom_entry_ids(body: &str) -> Vec<String> {
    const ATOM: &str = "http://www.w3.org/2005/Atom";
    let doc = roxmltree::Document::parse(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    let feed = doc.root_element();
    assert_eq!(feed.tag_name().name(), "feed");
    assert_eq!(feed.tag_name().namespace(), Some(ATOM));
    for required in ["id", "title", "updated", "author"] {
        assert!(child(feed, required).is_some(), "feed without {required}");
    }
    let rels: Vec<&str> = feed
        .children()
        .filter(|c| c.tag_name().name() == "link")
        .filter_map(|c| c.attribute("rel"))
        .collect();
    assert!(
        rels.contains(&"self") && rels.contains(&"alternate"),
        "{rels:?}"
    );
    feed.children()
        .filter(|c| c.is_element() && c.tag_name().name() == "entry")
        .map(|entry| {
            for required in ["id", "title", "updated", "published", "link", "author"] {
                assert!(child(entry, required).is_some(), "entry without {required}");
            }
            let content = child(entry, "content").expect("content");
            assert_eq!(content.attribute("type"), Some("html"));
            child(entry, "id").unwrap().text().unwrap().to_string()
        })
        .collect()
}

async fn feed(inst: &TestInstance, path: &str) -> String {
    let response = inst.get(path).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    assert_eq!(
        response.headers()["content-type"],
        "application/atom+xml; charset=utf-8"
    );
    response.text().await.unwrap()
}

async fn atom_feeds_hold_public_narrations_only(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let alice = alpha.create_user("alice").await;
    let group = communities::create(
        &alpha.context.db,
        &alpha.context.urls,
        NewCommunity {
            name: "guild",
            owner: &alice,
            display_name: Some("Rust <guild> & friends".into()),
            summary: None,
            approval: false,
            members_only: false,
            posting: Posting::Anyone,
            icon: None,
        },
    )
    .await
    .unwrap();
    let public = alpha
        .publish(
            "alice",
            note(
                "Shipping **today** #news <script>x</script> & more",
                Visibility::Public,
            ),
        )
        .await;
    let mut hidden = Vec::new();
    for visibility in [
        Visibility::Unlisted,
        Visibility::Followers,
        Visibility::Direct,
        Visibility::Local,
        Visibility::LocalUnlisted,
    ] {
        hidden.push(
            alpha
                .publish("alice", note("Not for feeds #news", visibility))
                .await,
        );
    }
    let shared = alpha
        .publish(
            "alice",
            NewPost {
                community: Some(group.ap_id.0.clone()),
                ..note("In the guild #news", Visibility::Public)
            },
        )
        .await;
    settle(&[&alpha]).await;

    let body = feed(&alpha, "/@alice.atom").await;
    let ids = atom_entry_ids(&body);
    assert!(ids.contains(&public.ap_id.to_string()), "{body}");
    assert!(ids.contains(&shared.ap_id.to_string()));
    for post in &hidden {
        assert!(!ids.contains(&post.ap_id.to_string()), "{body}");
    }
    // The content is HTML as text, escaped once; the permalink links.
    let public_id = public.ap_id.to_string();
    let doc = roxmltree::Document::parse(&body).unwrap();
    let entry = doc
        .root_element()
        .children()
        .find(|e| child(*e, "id").and_then(|i| i.text()) == Some(public_id.as_str()))
        .unwrap();
    let content = child(entry, "content").unwrap().text().unwrap();
    assert!(content.contains("<strong>today</strong>"), "{content}");
    assert!(!content.contains("<script>"), "{content}");
    assert_eq!(
        child(entry, "title").unwrap().text(),
        Some("Shipping today #news <script>x</script> & more")
    );
    assert!(body.contains(&alpha.url(&format!("/@alice/{}", public.id))));
    assert!(body.contains(&format!(
        r#"<link rel="self" type="application/atom+xml" href="{}"/>"#,
        alpha.url("/@alice.atom")
    )));

    let body = feed(&alpha, "/c/guild.atom").await;
    let ids = atom_entry_ids(&body);
    assert_eq!(ids, vec![shared.ap_id.to_string()], "{body}");
    let doc = roxmltree::Document::parse(&body).unwrap();
    let title = child(doc.root_element(), "title").unwrap().text().unwrap();
    assert!(title.starts_with("Rust <guild> & friends ("), "{title}");

    let body = feed(&alpha, "/tags/NEWS.atom").await;
    let ids = atom_entry_ids(&body);
    assert_eq!(ids.len(), 2, "{body}");
    assert!(ids.contains(&public.ap_id.to_string()));
    assert!(ids.contains(&shared.ap_id.to_string()));
    // A tag nobody used: a valid, empty feed.
    assert!(atom_entry_ids(&feed(&alpha, "/tags/quiet.atom").await).is_empty());

    // A members-only community's feed is empty, whatever is posted in it.
    let secret = communities::create(
        &alpha.context.db,
        &alpha.context.urls,
        NewCommunity {
            name: "secret",
            owner: &alice,
            display_name: None,
            summary: None,
            approval: true,
            members_only: true,
            posting: Posting::Members,
            icon: None,
        },
    )
    .await
    .unwrap();
    alpha
        .publish(
            "alice",
            NewPost {
                community: Some(secret.ap_id.0.clone()),
                ..note("Members only #news", Visibility::Followers)
            },
        )
        .await;
    assert!(atom_entry_ids(&feed(&alpha, "/c/secret.atom").await).is_empty());
    assert_eq!(
        atom_entry_ids(&feed(&alpha, "/tags/news.atom").await).len(),
        2
    );

    // The profile page is still the profile page.
    let response = alpha.get_html("/@alice").await;
    assert_eq!(response.status(), StatusCode::OK);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    // Unknown names and non-tags are 404, never 500; a community is no
    // person and a person no community.
    for path in [
        "/@nobody.atom",
        "/c/nobody.atom",
        "/@guild.atom",
        "/c/alice.atom",
        "/tags/2024.atom",
    ] {
        let response = alpha.get(path).await;
        assert_eq!(response.status(), StatusCode::NOT_FOUND, "{path}");
    }
}

async fn browser_discovers_tags_search_and_notifications(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    let alice = alpha.create_user("alice").await;
    let bob = alpha.create_user("bob").await;
    beta.create_user("carol").await;
    let data = alpha.data();
    let alice = service::follows::set_manual_approval(&data, &alice, true)
        .await
        .unwrap();
    service::follows::follow(&data, &bob, &alice).await.unwrap();
    alpha
        .publish(
            "alice",
            note(
                "Today I learned how **#craft** pages page",
                Visibility::Public,
            ),
        )
        .await;
    alpha
        .publish(
            "bob",
            note(
                "@alice could you review my #craft notes?",
                Visibility::Public,
            ),
        )
        .await;

    let label = format!("discover-{backend:?}").to_lowercase();
    let Some(b) = Browser::start(&label).await else {
        return;
    };
    // Signing in comes back to the page asked for (home is another page
    // group's).
    b.goto(&alpha.url("/login?next=%2Ftags%2Fcraft")).await;
    b.fill("#username", "alice").await;
    b.fill("#password", "password for tests").await;
    b.click("form[action='/login'] button[type=submit]").await;

    // The tag page, with the header counting two unread notifications.
    b.visit(&alpha.url("/tags/craft"), "tag").await;
    assert_eq!(b.text("h1").await, "#craft");
    let cards = b.texts("article.card .content").await;
    assert_eq!(cards.len(), 2, "{cards:?}");
    assert!(b.text("header .count").await.starts_with('2'));

    // Search from the page's form; then a handle on the other instance.
    b.visit(&alpha.url("/search"), "search-empty").await;
    b.fill("#q", "craft").await;
    b.click("form.search-page button[type=submit]").await;
    b.assert_console_clean().await;
    assert!(b
        .texts("#found-tags + ul a")
        .await
        .contains(&"#craft".to_string()));
    let handle = beta.handle_of("carol");
    b.visit(&alpha.url(&format!("/search?q={handle}")), "search-results")
        .await;
    let people = b
        .texts("section[aria-labelledby=found-people] .handle")
        .await;
    assert_eq!(people, [format!("@{handle}")]);

    // Notifications: the mention and the request; Accept works.
    b.visit(&alpha.url("/notifications"), "notifications").await;
    let lines = b.texts("li.notification p.line").await;
    assert!(
        lines.iter().any(|l| l.contains("mentioned you")),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("asks to follow you")),
        "{lines:?}"
    );
    assert!(!b.exists("header .count").await);
    b.click("form[action$='/accept'] button").await;
    b.assert_console_clean().await;
    assert!(b.current_url().await.ends_with("/notifications"));
    assert!(!b.exists("form[action$='/accept']").await);
    assert_eq!(
        service::follows::state(&data, &bob, &alice).await.unwrap(),
        Some(FollowState::Accepted)
    );
    b.screenshot("notifications-answered").await;

    // The tag's feed opens in the browser without an error (Chromium asks
    // an XML document's server for /favicon.ico, which is the icon).
    b.visit(&alpha.url("/tags/craft.atom"), "tag-feed").await;
    assert!(b.source().await.contains("Today I learned how"));

    // Clear all empties the page.
    b.goto(&alpha.url("/notifications")).await;
    b.click("form[action='/notifications/clear'] button").await;
    b.assert_console_clean().await;
    assert!(b.text("main .empty").await.contains("Nothing new."));
    b.screenshot("notifications-cleared").await;
    b.close().await;
}
