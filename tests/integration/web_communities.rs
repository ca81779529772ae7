//! The profile and community pages, the directories and remote
//! interaction: first over plain HTTP (statuses, forms, what is stored),
//! then in a real browser across two instances.

use crate::{
    browser::Browser,
    harness::{both_backends, settle, TestInstance},
};
use outloud::{
    config::Backend,
    db::{community::Posting, follow::FollowState, local_user::Role},
    service::{
        self,
        accounts::{self, NewUser},
        communities::{self, NewCommunity},
        posts::NewPost,
    },
};
use std::{collections::BTreeMap, sync::Mutex};

both_backends!(
    profiles_over_http,
    communities_over_http,
    directories_over_http,
    remote_interaction_over_http,
    pages_in_the_browser,
);

/// A browser-like client: keeps cookies by hand, never follows redirects.
struct Web {
    client: reqwest::Client,
    base: String,
    cookies: Mutex<BTreeMap<String, String>>,
}

struct Answer {
    status: u16,
    location: String,
    body: String,
}

impl Web {
    fn new(instance: &TestInstance) -> Web {
        Web {
            client: crate::harness::http_client(),
            base: instance.url(""),
            cookies: Mutex::new(BTreeMap::new()),
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

    async fn answer(&self, res: reqwest::Response) -> Answer {
        for value in res.headers().get_all("set-cookie") {
            let text = value.to_str().unwrap();
            let pair = text.split(';').next().unwrap();
            let (k, v) = pair.split_once('=').unwrap();
            let mut jar = self.cookies.lock().unwrap();
            if v.is_empty() {
                jar.remove(k);
            } else {
                jar.insert(k.to_string(), v.to_string());
            }
        }
        let status = res.status().as_u16();
        let location = res
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_string())
            .unwrap_or_default();
        Answer {
            status,
            location,
            body: res.text().await.unwrap(),
        }
    }

    fn url(&self, path: &str) -> String {
        if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{path}", self.base)
        }
    }

    async fn get(&self, path: &str) -> Answer {
        let res = self
            .client
            .get(self.url(path))
            .header("Accept", "text/html")
            .header("Cookie", self.cookie_header())
            .send()
            .await
            .unwrap();
        self.answer(res).await
    }

    async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let res = self
            .client
            .post(self.url(path))
            .header("Cookie", self.cookie_header())
            .form(fields)
            .send()
            .await
            .unwrap();
        self.answer(res).await
    }

    /// Posts a form with the page's CSRF token, as the page's form would.
    async fn submit(&self, page: &str, path: &str, fields: &[(&str, &str)]) -> Answer {
        let html = self.get(page).await.body;
        let token = csrf_of(&html);
        let mut all: Vec<(&str, &str)> = vec![("csrf", token.as_str())];
        all.extend_from_slice(fields);
        self.post(path, &all).await
    }

    async fn sign_in(&self, name: &str) {
        let html = self.get("/login").await.body;
        let token = csrf_of(&html);
        let res = self
            .post(
                "/login",
                &[
                    ("csrf", &token),
                    ("username", name),
                    ("password", "password for tests"),
                    ("next", "/communities"),
                ],
            )
            .await;
        assert_eq!(res.status, 303, "sign-in of {name}: {}", res.body);
    }
}

fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .unwrap_or_else(|| panic!("no CSRF field in {html}"));
    let rest = &html[at + "name=\"csrf\" value=\"".len()..];
    rest[..rest.find('"').unwrap()].to_string()
}

async fn create_admin(instance: &TestInstance, name: &str) {
    accounts::create_user(
        &instance.context.db,
        &instance.context.urls,
        NewUser {
            name,
            password: "password for tests",
            role: Role::Admin,
        },
    )
    .await
    .unwrap();
}

/// `rust` on `instance`, moderated by `owner`.
async fn create_rust(instance: &TestInstance, owner: &str) {
    let owner = instance.local(owner).await;
    communities::create(
        &instance.context.db,
        &instance.context.urls,
        NewCommunity {
            name: "rust",
            owner: &owner,
            display_name: Some("Rust practitioners".into()),
            summary: Some("Learning Rust together.\n\nBe kind; share what you tried.".into()),
            approval: false,
            members_only: false,
            posting: Posting::Members,
            icon: None,
        },
    )
    .await
    .unwrap();
}

/// `name` posts `text` into `rust` on the same instance.
async fn post_in_rust(instance: &TestInstance, name: &str, text: &str) -> outloud::db::post::Post {
    let group = instance.local("rust").await;
    instance
        .publish(
            name,
            NewPost {
                community: Some(group.ap_id.0.clone()),
                ..NewPost::note(text)
            },
        )
        .await
}

async fn profiles_over_http(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    alpha.create_user("alice").await;
    beta.create_user("bob").await;
    beta.publish("bob", NewPost::note("Bob learned about lifetimes"))
        .await;
    alpha
        .publish("alice", NewPost::note("Alice is pairing on the parser"))
        .await;
    let visitor = Web::new(&alpha);

    // A local profile, as a visitor sees it.
    let page = visitor.get("/@alice").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<h1>alice</h1>"), "{}", page.body);
    assert!(page.body.contains("Alice is pairing on the parser"));
    assert!(page.body.contains(&format!(
        "<link rel=\"alternate\" type=\"application/activity+json\" href=\"{}\">",
        alpha.actor_url("alice")
    )));
    assert!(page.body.contains("Follow from your own server"));
    assert!(!page.body.contains("/@alice/follow"));

    // Unknown people, here and elsewhere, are 404 pages.
    let missing = visitor.get("/@nobody").await;
    assert_eq!(missing.status, 404);
    assert!(missing.body.contains("<h1>Not found</h1>"));
    let missing = visitor.get(&format!("/@nobody@{}", beta.domain)).await;
    assert_eq!(missing.status, 404, "{}", missing.body);
    let missing = visitor.get("/@nobody@unreachable.localhost:1").await;
    assert_eq!(missing.status, 404, "{}", missing.body);

    // Content negotiation still sends browsers to the profile.
    let res = alpha.get_html("/users/alice").await;
    assert_eq!(res.status(), 303);
    assert!(res.headers()["location"]
        .to_str()
        .unwrap()
        .ends_with("/@alice"));

    // Alice follows Bob from his remote profile.
    let web = Web::new(&alpha);
    web.sign_in("alice").await;
    let bob_path = format!("/@bob@{}", beta.domain);
    let page = web.get(&bob_path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(&format!("@bob@{}", beta.domain)));
    assert!(page.body.contains(">Follow</button>"), "{}", page.body);
    assert!(!page.body.contains("from your own server"));

    // A forged form (no token, or another's) is refused and stores nothing.
    let forged = web.post(&format!("{bob_path}/follow"), &[]).await;
    assert_eq!(forged.status, 403);
    let forged = web
        .post(
            &format!("{bob_path}/follow"),
            &[("csrf", "x".repeat(32).as_str())],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(
        alpha
            .follow_state(&alpha.handle_of("alice"), &beta.actor_url("bob"))
            .await,
        None
    );

    let done = web
        .submit(&bob_path, &format!("{bob_path}/follow"), &[])
        .await;
    assert_eq!(done.status, 303);
    assert_eq!(done.location, bob_path);
    settle(&[&alpha, &beta]).await;
    assert_eq!(
        alpha
            .follow_state(&alpha.handle_of("alice"), &beta.actor_url("bob"))
            .await,
        Some(FollowState::Accepted)
    );
    let page = web.get(&bob_path).await;
    assert!(page.body.contains(">Unfollow</button>"), "{}", page.body);
    assert!(page.body.contains("Following"));

    let done = web
        .submit(&bob_path, &format!("{bob_path}/unfollow"), &[])
        .await;
    assert_eq!(done.status, 303);
    settle(&[&alpha, &beta]).await;
    assert_eq!(
        alpha
            .follow_state(&alpha.handle_of("alice"), &beta.actor_url("bob"))
            .await,
        None
    );

    // A locked account asks for a request.
    let carol = alpha.create_user("carol").await;
    service::follows::set_manual_approval(&alpha.data(), &carol, true)
        .await
        .unwrap();
    let page = web.get("/@carol").await;
    assert!(
        page.body.contains(">Request to follow</button>"),
        "{}",
        page.body
    );
    web.submit("/@carol", "/@carol/follow", &[]).await;
    let page = web.get("/@carol").await;
    assert!(
        page.body.contains(">Cancel request</button>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("Requested"));

    // Following a stranger's name needs a session.
    let anon = visitor.submit("/@alice", "/@carol/follow", &[]).await;
    assert_eq!(anon.status, 401);
}

async fn communities_over_http(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    alpha.create_user("alice").await;
    beta.create_user("bob").await;
    beta.create_user("carol").await;
    create_rust(&beta, "bob").await;
    let carol_member = beta.local("carol").await;
    let group = beta.local("rust").await;
    service::relations::follow(&beta.data(), &carol_member, &group)
        .await
        .unwrap();
    let first = post_in_rust(&beta, "carol", "How do you structure error types?").await;
    beta.reply("bob", &first.ap_id.0, "One enum per layer")
        .await;

    // The posts tab: threads only, with their reply counts.
    let visitor = Web::new(&beta);
    let page = visitor.get("/c/rust").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("<h1>Rust practitioners</h1>"));
    assert!(page.body.contains("Learning Rust together."));
    assert!(
        page.body
            .contains("<strong>1</strong> member from <strong>1</strong> organisation"),
        "{}",
        page.body
    );
    assert!(page.body.contains("How do you structure error types?"));
    assert!(!page.body.contains("One enum per layer"));
    assert!(page.body.contains("Join from your own server"));
    assert!(!page.body.contains("?tab=moderation"));
    let about = visitor.get("/c/rust?tab=about").await;
    assert_eq!(about.status, 200);
    assert!(about.body.contains("Be kind; share what you tried."));
    assert!(about.body.contains(&format!("from {}", beta.domain)));
    assert_eq!(visitor.get("/c/rust?tab=moderation").await.status, 403);
    assert_eq!(visitor.get("/c/rust?tab=nonsense").await.status, 404);
    assert_eq!(visitor.get("/c/nothing").await.status, 404);
    // A person's name is not a community.
    assert_eq!(visitor.get("/c/bob").await.status, 404);

    // Alice joins from her server; the community's posts reach her home.
    let alice = Web::new(&alpha);
    alice.sign_in("alice").await;
    let remote = format!("/c/rust@{}", beta.domain);
    let page = alice.get(&remote).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains(">Join</button>"), "{}", page.body);
    let joined = alice.submit(&remote, &format!("{remote}/join"), &[]).await;
    assert_eq!(joined.status, 303);
    settle(&[&alpha, &beta]).await;
    assert_eq!(
        alpha
            .follow_state(&alpha.handle_of("alice"), &beta.url("/communities/rust"))
            .await,
        Some(FollowState::Accepted)
    );
    let page = alice.get(&remote).await;
    assert!(page.body.contains(">Leave</button>"), "{}", page.body);
    // Another server's community: the members this server knows of.
    assert!(
        page.body.contains("<strong>1</strong> member known here"),
        "{}",
        page.body
    );
    let home_page = visitor.get("/c/rust").await;
    assert!(home_page
        .body
        .contains("<strong>2</strong> members from <strong>2</strong> organisations"));
    post_in_rust(&beta, "carol", "Anyone tried miette?").await;
    settle(&[&alpha, &beta]).await;
    let page = alice.get(&remote).await;
    assert!(page.body.contains("Anyone tried miette?"), "{}", page.body);
    let alice_actor = alpha.local("alice").await;
    let home = service::timelines::home(&alpha.data(), &alice_actor, Default::default())
        .await
        .unwrap();
    assert!(home
        .iter()
        .any(|i| i.post().content.contains("Anyone tried miette?")));

    // Carol is no moderator: no tab, 403 on the forms, nothing changes.
    let carol = Web::new(&beta);
    carol.sign_in("carol").await;
    assert_eq!(carol.get("/c/rust?tab=moderation").await.status, 403);
    let refused = carol
        .submit(
            "/c/rust",
            "/c/rust/moderation",
            &[("action", "remove"), ("post", first.id.as_str())],
        )
        .await;
    assert_eq!(refused.status, 403);
    assert!(beta
        .stored_post(first.ap_id.as_str())
        .await
        .unwrap()
        .deleted_at
        .is_none());

    // Bob moderates: a forged form does nothing, a real one removes.
    let bob = Web::new(&beta);
    bob.sign_in("bob").await;
    let page = bob.get("/c/rust").await;
    assert!(page.body.contains("?tab=moderation"));
    assert!(page.body.contains("Remove post"));
    let forged = bob
        .post(
            "/c/rust/moderation",
            &[("action", "remove"), ("post", first.id.as_str())],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert!(beta
        .stored_post(first.ap_id.as_str())
        .await
        .unwrap()
        .deleted_at
        .is_none());
    let unknown = bob
        .submit("/c/rust", "/c/rust/moderation", &[("action", "explode")])
        .await;
    assert_eq!(unknown.status, 400);
    let long = "x".repeat(501);
    let too_long = bob
        .submit(
            "/c/rust",
            "/c/rust/moderation",
            &[
                ("action", "remove"),
                ("post", first.id.as_str()),
                ("reason", long.as_str()),
            ],
        )
        .await;
    assert_eq!(too_long.status, 422);
    assert!(beta
        .stored_post(first.ap_id.as_str())
        .await
        .unwrap()
        .deleted_at
        .is_none());

    let removed = bob
        .submit(
            "/c/rust",
            "/c/rust/moderation",
            &[
                ("action", "remove"),
                ("post", first.id.as_str()),
                ("reason", "off topic"),
                ("back", "posts"),
            ],
        )
        .await;
    assert_eq!(removed.status, 303, "{}", removed.body);
    assert_eq!(removed.location, "/c/rust");
    let page = bob.get("/c/rust").await;
    assert!(!page.body.contains("How do you structure error types?"));

    // Ban by handle; Carol may no longer post; the desk shows it all.
    let banned = bob
        .submit(
            "/c/rust?tab=moderation",
            "/c/rust/moderation",
            &[("action", "ban"), ("handle", "carol"), ("reason", "spam")],
        )
        .await;
    assert_eq!(banned.status, 303, "{}", banned.body);
    assert!(
        !communities::takes_posts_from(&beta.data(), &group, &carol_member)
            .await
            .unwrap()
    );
    let rejoin = carol.submit("/c/rust", "/c/rust/join", &[]).await;
    assert_eq!(rejoin.status, 403);
    assert_eq!(
        beta.follow_state(&beta.handle_of("carol"), &beta.url("/communities/rust"))
            .await,
        None
    );
    let unknown = bob
        .submit(
            "/c/rust?tab=moderation",
            "/c/rust/moderation",
            &[("action", "ban"), ("handle", "nobody")],
        )
        .await;
    assert_eq!(unknown.status, 422);
    let desk = bob.get("/c/rust?tab=moderation").await;
    assert_eq!(desk.status, 200);
    assert!(desk.body.contains("Lift the ban on carol"), "{}", desk.body);
    assert!(desk.body.contains("removed a post"));
    assert!(desk.body.contains("off topic"));
    assert!(desk.body.contains("banned"));

    // Pins show first.
    let second = post_in_rust(&beta, "bob", "Welcome! Read the rules first.").await;
    let pinned = bob
        .submit(
            "/c/rust",
            "/c/rust/moderation",
            &[
                ("action", "pin"),
                ("post", second.id.as_str()),
                ("back", "posts"),
            ],
        )
        .await;
    assert_eq!(pinned.status, 303);
    let page = visitor.get("/c/rust").await;
    assert!(page.body.contains("<h3>Pinned</h3>"), "{}", page.body);

    // A second moderator from another organisation, then removed again.
    let added = bob
        .submit(
            "/c/rust?tab=moderation",
            "/c/rust/moderation",
            &[
                ("action", "add_moderator"),
                ("handle", &alpha.handle_of("alice")),
            ],
        )
        .await;
    assert_eq!(added.status, 303, "{}", added.body);
    let about = visitor.get("/c/rust?tab=about").await;
    assert!(
        about.body.contains(&format!("from {}", alpha.domain)),
        "{}",
        about.body
    );

    // Leaving.
    let left = alice.submit(&remote, &format!("{remote}/leave"), &[]).await;
    assert_eq!(left.status, 303);
    settle(&[&alpha, &beta]).await;
    assert_eq!(
        alpha
            .follow_state(&alpha.handle_of("alice"), &beta.url("/communities/rust"))
            .await,
        None
    );

    // Banned from elsewhere: her server's Follow is refused.
    let banned = bob
        .submit(
            "/c/rust?tab=moderation",
            "/c/rust/moderation",
            &[("action", "ban"), ("handle", &alpha.handle_of("alice"))],
        )
        .await;
    assert_eq!(banned.status, 303, "{}", banned.body);
    let rejoin = alice.submit(&remote, &format!("{remote}/join"), &[]).await;
    assert_eq!(rejoin.status, 303);
    settle(&[&alpha, &beta]).await;
    assert_eq!(
        beta.follow_state(&alpha.handle_of("alice"), &beta.url("/communities/rust"))
            .await,
        None
    );
}

async fn directories_over_http(backend: Backend) {
    let beta = TestInstance::spawn("beta", backend).await;
    beta.create_user("bob").await;
    create_admin(&beta, "root").await;
    create_rust(&beta, "bob").await;

    let visitor = Web::new(&beta);
    let page = visitor.get("/communities").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Rust practitioners"));
    assert!(page.body.contains("Learning Rust together."));
    assert!(!page.body.contains("Create a community"));
    let page = visitor.get("/communities?q=cobol").await;
    assert!(!page.body.contains("Rust practitioners"));
    assert!(page.body.contains("No community matches"));
    let page = visitor.get("/communities?q=rust").await;
    assert!(page.body.contains("Rust practitioners"));

    // People: only the discoverable ones (they opt in).
    beta.opt_in("bob").await;
    beta.opt_in("root").await;
    let page = visitor.get("/people").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("@bob@"));
    let bob = beta.local("bob").await;
    service::relations::update_profile(
        &beta.data(),
        &bob,
        service::relations::ProfileEdit {
            discoverable: Some(false),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let page = visitor.get("/people?page=nonsense").await;
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("@bob@"), "{}", page.body);
    assert!(page.body.contains("@root@"));

    // People who are no administrators see no create form and may not post it.
    let bob_web = Web::new(&beta);
    bob_web.sign_in("bob").await;
    assert!(!bob_web
        .get("/communities")
        .await
        .body
        .contains("Create a community"));
    let refused = bob_web
        .submit(
            "/communities",
            "/communities",
            &[("name", "go"), ("posting", "members")],
        )
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(visitor.get("/c/go").await.status, 404);

    // An administrator creates one; bad input comes back with a message.
    let root = Web::new(&beta);
    root.sign_in("root").await;
    assert!(root
        .get("/communities")
        .await
        .body
        .contains("Create a community"));
    let bad = root
        .submit(
            "/communities",
            "/communities",
            &[
                ("name", "no spaces please"),
                ("posting", "members"),
                ("display_name", "Kept"),
            ],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("role=\"alert\""));
    assert!(bad.body.contains("value=\"Kept\""));
    let taken = root
        .submit(
            "/communities",
            "/communities",
            &[("name", "rust"), ("posting", "members")],
        )
        .await;
    assert_eq!(taken.status, 422);
    assert!(taken.body.contains("is taken"));
    let no_posting = root
        .submit(
            "/communities",
            "/communities",
            &[("name", "go"), ("posting", "everyone")],
        )
        .await;
    assert_eq!(no_posting.status, 422);
    assert_eq!(visitor.get("/c/go").await.status, 404);
    let made = root
        .submit(
            "/communities",
            "/communities",
            &[
                ("name", "go"),
                ("display_name", "Gophers"),
                ("summary", "All things Go."),
                ("posting", "anyone"),
                ("approval", "on"),
            ],
        )
        .await;
    assert_eq!(made.status, 303, "{}", made.body);
    assert_eq!(made.location, "/c/go");
    let page = visitor.get("/c/go").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Gophers"));
    assert!(page.body.contains("Approval needed"));
    // Joining it is a request the moderator decides.
    bob_web.submit("/c/go", "/c/go/join", &[]).await;
    let page = bob_web.get("/c/go").await;
    assert!(page.body.contains("Pending"), "{}", page.body);
    let desk = root.get("/c/go?tab=moderation").await;
    assert!(desk.body.contains("Approve bob"), "{}", desk.body);
    let bob_id = bob.id.clone();
    let approved = root
        .submit(
            "/c/go?tab=moderation",
            "/c/go/moderation",
            &[("action", "approve"), ("actor", bob_id.as_str())],
        )
        .await;
    assert_eq!(approved.status, 303);
    assert!(bob_web.get("/c/go").await.body.contains(">Leave</button>"));
}

async fn remote_interaction_over_http(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    alpha.create_user("alice").await;
    beta.create_user("bob").await;

    // Our WebFinger advertises where to interact from elsewhere.
    let jrd: serde_json::Value = beta
        .webfinger(&format!("acct:{}", beta.handle_of("bob")))
        .await
        .json()
        .await
        .unwrap();
    let template = jrd["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "http://ostatus.org/schema/1.0/subscribe")
        .unwrap()["template"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(template, beta.url("/authorize_interaction?uri={uri}"));

    // A visitor on Alice's profile, whose account is Bob on beta, is sent
    // to beta with Alice's id filled in.
    let visitor = Web::new(&alpha);
    let alice_id = alpha.actor_url("alice");
    let sent = visitor
        .submit(
            "/@alice",
            "/interact",
            &[
                ("handle", &format!("@{}", beta.handle_of("bob"))),
                ("uri", &alice_id),
            ],
        )
        .await;
    assert_eq!(sent.status, 303, "{}", sent.body);
    let expected = template.replace(
        "{uri}",
        &url::form_urlencoded::byte_serialize(alice_id.as_bytes()).collect::<String>(),
    );
    assert_eq!(sent.location, expected);

    // Bad handles come back with a message.
    for (handle, status) in [
        ("not a handle", 422),
        ("", 422),
        (&format!("alice@{}", alpha.domain) as &str, 422),
        (&format!("nobody@{}", beta.domain) as &str, 404),
    ] {
        let back = visitor
            .submit(
                "/@alice",
                "/interact",
                &[("handle", handle), ("uri", &alice_id)],
            )
            .await;
        assert_eq!(back.status, status, "{handle}: {}", back.body);
        assert!(back.body.contains("role=\"alert\""), "{}", back.body);
    }
    let forged = visitor
        .post(
            "/interact",
            &[("handle", "bob@beta.localhost"), ("uri", &alice_id)],
        )
        .await;
    assert_eq!(forged.status, 403);
    let page = visitor.get(&format!("/interact?uri={}", &alice_id)).await;
    assert_eq!(page.status, 200);
    assert_eq!(visitor.get("/interact").await.status, 400);

    // On beta: not signed in, sign in first; then a Follow to confirm.
    let bob = Web::new(&beta);
    let path = sent.location.trim_start_matches(&beta.url("")).to_string();
    let first = bob.get(&path).await;
    assert_eq!(first.status, 303);
    assert!(
        first
            .location
            .starts_with("/login?next=%2Fauthorize_interaction"),
        "{}",
        first.location
    );
    bob.sign_in("bob").await;
    let page = bob.get(&path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Follow alice?"), "{}", page.body);
    let form_path = format!("/@alice@{}/follow", alpha.domain);
    assert!(page.body.contains(&form_path), "{}", page.body);
    let followed = bob.submit(&path, &form_path, &[]).await;
    assert_eq!(followed.status, 303);
    settle(&[&alpha, &beta]).await;
    assert_eq!(
        beta.follow_state(&beta.handle_of("bob"), &alice_id).await,
        Some(FollowState::Accepted)
    );

    // A narration's uri: shown with the way to answer it.
    let post = alpha
        .publish("alice", NewPost::note("Which linter do you use?"))
        .await;
    let enc: String =
        url::form_urlencoded::byte_serialize(post.ap_id.as_str().as_bytes()).collect();
    // A visitor on the narration's page can answer it from home.
    let page = visitor.get(&format!("/@alice/{}", post.id)).await;
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("Reply from your own server"),
        "{}",
        page.body
    );
    let sent = visitor
        .submit(
            &format!("/@alice/{}", post.id),
            "/interact",
            &[
                ("handle", &beta.handle_of("bob")),
                ("uri", post.ap_id.as_str()),
            ],
        )
        .await;
    assert_eq!(sent.status, 303);
    assert!(sent.location.ends_with(&enc), "{}", sent.location);
    let page = bob.get(&format!("/authorize_interaction?uri={enc}")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(page.body.contains("Which linter do you use?"));
    assert!(page.body.contains("#reply"));
    let missing = bob
        .get(&format!(
            "/authorize_interaction?uri={}",
            alpha.url("/objects/00000000-0000-7000-8000-000000000000")
        ))
        .await;
    assert_eq!(missing.status, 404);
    assert_eq!(bob.get("/authorize_interaction").await.status, 400);
}

/// Signs `name` in on `instance` in the browser; lands on the directory
/// (the home page belongs to another page group).
async fn sign_in(b: &Browser, instance: &TestInstance, name: &str) {
    b.goto(&instance.url("/login?next=/communities")).await;
    b.fill("#username", name).await;
    b.fill("#password", "password for tests").await;
    b.click("main button[type=submit]").await;
    assert!(
        b.current_url().await.ends_with("/communities"),
        "sign-in of {name} went to {}",
        b.current_url().await
    );
}

async fn pages_in_the_browser(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    alpha.create_user("alice").await;
    beta.create_user("bob").await;
    beta.create_user("carol").await;
    create_admin(&beta, "root").await;
    create_rust(&beta, "bob").await;
    alpha
        .publish("alice", NewPost::note("Alice narrates her week"))
        .await;
    beta.publish("bob", NewPost::note("Bob shares a tip")).await;
    let carol = beta.local("carol").await;
    let group = beta.local("rust").await;
    service::relations::follow(&beta.data(), &carol, &group)
        .await
        .unwrap();
    let spam = post_in_rust(&beta, "carol", "Buy cheap watches").await;

    let label = format!("web_communities-{backend:?}").to_lowercase();
    let Some(b) = Browser::start(&label).await else {
        return;
    };

    // A visitor sees a profile with the remote follow form.
    b.visit(&alpha.url("/@alice"), "profile-visitor").await;
    assert!(b.exists("details.remote").await);

    // Alice signs in and follows Bob from his remote profile.
    sign_in(&b, &alpha, "alice").await;
    b.visit(&alpha.url("/@alice"), "profile-local").await;
    assert_eq!(b.text("h1").await, "alice");
    let bob_page = alpha.url(&format!("/@bob@{}", beta.domain));
    b.visit(&bob_page, "profile-remote").await;
    assert!(b.source().await.contains("Bob shares a tip") || b.exists("h1").await);
    b.click("form.follow button[type=submit]").await;
    settle(&[&alpha, &beta]).await;
    b.visit(&bob_page, "profile-remote-following").await;
    assert_eq!(b.text("form.follow button").await, "Unfollow");
    assert_eq!(
        alpha
            .follow_state(&alpha.handle_of("alice"), &beta.actor_url("bob"))
            .await,
        Some(FollowState::Accepted)
    );
    b.click("form.follow button[type=submit]").await;
    settle(&[&alpha, &beta]).await;
    assert_eq!(
        alpha
            .follow_state(&alpha.handle_of("alice"), &beta.actor_url("bob"))
            .await,
        None
    );
    b.visit(&bob_page, "profile-remote-unfollowed").await;
    assert_eq!(b.text("form.follow button").await, "Follow");

    // She joins the community on beta from its page there.
    let rust_page = alpha.url(&format!("/c/rust@{}", beta.domain));
    b.visit(&rust_page, "community-remote").await;
    b.click("form.follow button[type=submit]").await;
    settle(&[&alpha, &beta]).await;
    assert_eq!(
        alpha
            .follow_state(&alpha.handle_of("alice"), &beta.url("/communities/rust"))
            .await,
        Some(FollowState::Accepted)
    );
    post_in_rust(&beta, "bob", "Weekly thread: what are you building?").await;
    settle(&[&alpha, &beta]).await;
    b.visit(&rust_page, "community-remote-joined").await;
    assert_eq!(b.text("form.follow button").await, "Leave");
    assert!(b
        .texts("article.card .content")
        .await
        .iter()
        .any(|t| t.contains("Weekly thread")));
    let alice = alpha.local("alice").await;
    let home = service::timelines::home(&alpha.data(), &alice, Default::default())
        .await
        .unwrap();
    assert!(home
        .iter()
        .any(|i| i.post().content.contains("Weekly thread")));
    b.visit(&alpha.url("/communities"), "directory").await;
    assert!(b.source().await.contains("Rust practitioners"));
    b.visit(&alpha.url("/people"), "people").await;

    // Bob moderates on beta (another host: its own cookies).
    sign_in(&b, &beta, "bob").await;
    b.visit(&beta.url("/c/rust"), "community-posts").await;
    let card = format!("article#n-{}", spam.id);
    assert!(b.exists(&card).await);
    b.click(&format!("{card} + details.mod-actions summary"))
        .await;
    b.fill(&format!("#reason-{}", spam.id), "spam").await;
    b.click(&format!(
        "{card} + details.mod-actions button[value=remove]"
    ))
    .await;
    assert!(!b.exists(&card).await, "the removed post is still shown");
    b.visit(&beta.url("/c/rust?tab=moderation"), "community-moderation")
        .await;
    b.fill("#ban-handle", "carol").await;
    b.fill("#ban-reason", "spam").await;
    b.click("form:has(#ban-handle) button[type=submit]").await;
    assert!(b.source().await.contains("Lift the ban on carol"));
    assert!(!communities::takes_posts_from(&beta.data(), &group, &carol)
        .await
        .unwrap());
    b.visit(&beta.url("/c/rust?tab=about"), "community-about")
        .await;
    assert!(b.source().await.contains("Be kind"));
    b.visit(
        &beta.url("/c/rust?tab=moderation"),
        "community-moderation-log",
    )
    .await;

    // The administrator's directory has the create form.
    b.close().await;
    let Some(b) = Browser::start(&format!("{label}-admin")).await else {
        return;
    };
    sign_in(&b, &beta, "root").await;
    b.visit(&beta.url("/communities"), "directory-admin").await;
    b.fill("#c-name", "go").await;
    b.fill("#c-display", "Gophers").await;
    b.click("form[method=post][action='/communities'] button[type=submit]")
        .await;
    assert!(
        b.current_url().await.ends_with("/c/go"),
        "{}",
        b.current_url().await
    );
    b.visit(&beta.url("/c/go"), "community-created").await;
    b.close().await;

    // Remote interaction in the browser: a visitor on alpha, whose
    // account is on beta, lands on beta's confirmation page.
    let Some(b) = Browser::start(&format!("{label}-remote")).await else {
        return;
    };
    sign_in(&b, &beta, "carol").await;
    b.visit(&alpha.url("/@alice"), "profile-remote-form").await;
    b.click("details.remote summary").await;
    b.fill("#remote-handle", &beta.handle_of("carol")).await;
    b.click("details.remote button[type=submit]").await;
    assert!(
        b.current_url().await.contains("/authorize_interaction"),
        "{}",
        b.current_url().await
    );
    b.screenshot("authorize-interaction").await;
    b.assert_console_clean().await;
    assert!(b.source().await.contains("Follow alice?"));
    b.click("form.follow button[type=submit]").await;
    settle(&[&alpha, &beta]).await;
    assert_eq!(
        beta.follow_state(&beta.handle_of("carol"), &alpha.actor_url("alice"))
            .await,
        Some(FollowState::Accepted)
    );
    b.close().await;
}
