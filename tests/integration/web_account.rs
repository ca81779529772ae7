//! The web app's account pages: settings (profile, password, sessions and
//! apps), registration in each mode, the admin pages, and the OAuth page
//! approved with the browser's session. HTTP-level, with a client that
//! keeps cookies like a browser.

use crate::harness::{both_backends, TestInstance};
use outloud::{
    config::{Backend, Registrations},
    db::{domain_policy::PolicyAction, local_user::Role, post::Visibility},
    service::{self, accounts},
};
use serde_json::json;
use std::collections::BTreeMap;

/// A browser without script: keeps cookies, follows no redirects, and
/// remembers the CSRF token of the last page it read.
pub struct WebClient {
    base: String,
    http: reqwest::Client,
    cookies: BTreeMap<String, String>,
    pub csrf: String,
}

/// One answer: status, `Location`, body.
pub struct Answer {
    pub status: u16,
    pub location: String,
    pub body: String,
}

impl WebClient {
    pub fn new(instance: &TestInstance) -> WebClient {
        WebClient {
            base: instance.url(""),
            http: crate::harness::http_client(),
            cookies: BTreeMap::new(),
            csrf: String::new(),
        }
    }

    fn keep(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all("set-cookie") {
            let Ok(value) = value.to_str() else { continue };
            let pair = value.split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                if value.is_empty() || value.contains("Max-Age=0") {
                    self.cookies.remove(name.trim());
                } else {
                    self.cookies
                        .insert(name.trim().to_string(), value.trim().to_string());
                }
            }
            if value.contains("Max-Age=0") {
                if let Some((name, _)) = pair.split_once('=') {
                    self.cookies.remove(name.trim());
                }
            }
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    async fn answer(&mut self, response: reqwest::Response) -> Answer {
        self.keep(&response);
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let body = response.text().await.unwrap();
        if let Some(token) = csrf_of(&body) {
            self.csrf = token;
        }
        Answer {
            status,
            location,
            body,
        }
    }

    pub async fn get(&mut self, path: &str) -> Answer {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("Cookie", self.cookie_header())
            .header("Accept", "text/html")
            .send()
            .await
            .unwrap();
        self.answer(response).await
    }

    /// Posts a form with the remembered CSRF token.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let csrf = self.csrf.clone();
        let mut all: Vec<(&str, &str)> = vec![("csrf", &csrf)];
        all.extend_from_slice(fields);
        self.post_raw(path, &all).await
    }

    /// Posts exactly these fields (no CSRF token unless given).
    pub async fn post_raw(&mut self, path: &str, fields: &[(&str, &str)]) -> Answer {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .header("Cookie", self.cookie_header())
            .form(fields)
            .send()
            .await
            .unwrap();
        self.answer(response).await
    }

    /// Signs in through `/login`.
    pub async fn sign_in(&mut self, name: &str, password: &str) -> Answer {
        let page = self.get("/login").await;
        assert_eq!(page.status, 200);
        self.post("/login", &[("username", name), ("password", password)])
            .await
    }
}

fn csrf_of(html: &str) -> Option<String> {
    let key = "name=\"csrf\" value=\"";
    let at = html.find(key)? + key.len();
    let rest = &html[at..];
    Some(rest[..rest.find('"')?].to_string())
}

const PASSWORD: &str = "password for tests";

async fn signed_in(instance: &TestInstance, name: &str) -> WebClient {
    let mut web = WebClient::new(instance);
    let answer = web.sign_in(name, PASSWORD).await;
    assert_eq!(answer.status, 303, "{}", answer.body);
    // A page of the session, for its CSRF token.
    assert_eq!(web.get("/settings").await.status, 200);
    web
}

async fn make_admin(instance: &TestInstance, name: &str) -> outloud::db::actor::Actor {
    accounts::create_user(
        &instance.context.db,
        &instance.context.urls,
        accounts::NewUser {
            name,
            password: PASSWORD,
            role: Role::Admin,
        },
    )
    .await
    .unwrap()
}

async fn settings_change_the_profile(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    alpha.create_user("alice").await;
    beta.create_user("bob").await;
    beta.follow("bob", &alpha.handle_of("alice")).await;
    crate::harness::settle(&[&alpha, &beta]).await;

    // Not signed in: sent to sign in first.
    let mut anonymous = WebClient::new(&alpha);
    let page = anonymous.get("/settings").await;
    assert_eq!(page.status, 303);
    assert_eq!(page.location, "/login?next=%2Fsettings");

    let mut web = signed_in(&alpha, "alice").await;
    let page = web.get("/settings").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<h1>Settings</h1>"), "{}", page.body);
    let saved = web
        .post(
            "/settings",
            &[
                ("display_name", "Alice Andersen"),
                ("note", "I *build* bridges"),
                ("default_visibility", "followers"),
                ("discoverable", "on"),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    assert_eq!(saved.location, "/settings?saved=1");
    let alice = alpha.local("alice").await;
    assert_eq!(alice.display_name.as_deref(), Some("Alice Andersen"));
    assert!(alice.summary.as_deref().unwrap().contains("<em>build</em>"));
    assert!(alice.discoverable);
    assert!(!alice.manually_approves_followers);
    assert_eq!(
        accounts::default_visibility(&alpha.context.db, &alice)
            .await
            .unwrap(),
        Visibility::Followers
    );
    let page = web.get("/settings?saved=1").await;
    assert!(page.body.contains("Your profile is saved"));
    assert!(page.body.contains("value=\"Alice Andersen\""));
    assert!(page.body.contains("<option value=\"followers\" selected>"));

    // The default starts the composer, and an app's status without a
    // visibility, which verify_credentials reports as source.privacy.
    let compose = web.get("/compose").await;
    let chosen = compose
        .body
        .split("<option ")
        .find(|o| o.contains(" selected") && o.contains("data-explain"))
        .unwrap_or_default()
        .to_string();
    assert!(chosen.starts_with("value=\"followers\""), "{chosen}");
    let api = crate::api_client::Api::for_user(&alpha, "alice", "read write").await;
    let status = api.status(json!({ "status": "Default audience" })).await;
    assert_eq!(status["visibility"], "private");
    let explicit = api
        .status(json!({ "status": "Asked for", "visibility": "public" }))
        .await;
    assert_eq!(explicit["visibility"], "public");
    let me = api.get("/api/v1/accounts/verify_credentials").await.ok();
    assert_eq!(me["source"]["privacy"], "private");

    // The change federates: bob's server learns the new name.
    alpha.drain_deliveries().await;
    let ap_id = alice.ap_id.0.clone();
    let seen = beta
        .context
        .db
        .run(move |conn| {
            Ok(outloud::db::actor::Actor::by_ap_id(conn, &ap_id)?.and_then(|a| a.display_name))
        })
        .await
        .unwrap();
    assert_eq!(seen.as_deref(), Some("Alice Andersen"));

    // Too long, a direct default, a forged form: the page again, nothing saved.
    let long = "x".repeat(31);
    let refused = web
        .post(
            "/settings",
            &[
                ("display_name", long.as_str()),
                ("note", "changed"),
                ("default_visibility", "public"),
            ],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("role=\"alert\""), "{}", refused.body);
    assert!(refused.body.contains(&long), "the entered value is kept");
    let refused = web
        .post(
            "/settings",
            &[("display_name", "A"), ("default_visibility", "direct")],
        )
        .await;
    assert_eq!(refused.status, 422);
    let refused = web
        .post(
            "/settings",
            &[("display_name", "A"), ("default_visibility", "nonsense")],
        )
        .await;
    assert_eq!(refused.status, 422);
    let forged = web
        .post_raw(
            "/settings",
            &[("display_name", "Forged"), ("default_visibility", "public")],
        )
        .await;
    assert_eq!(forged.status, 403);
    let forged = web
        .post_raw(
            "/settings",
            &[
                ("csrf", "not the token at all, but long enough to try"),
                ("display_name", "Forged"),
                ("default_visibility", "public"),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);
    let alice = alpha.local("alice").await;
    assert_eq!(alice.display_name.as_deref(), Some("Alice Andersen"));
    assert_eq!(
        accounts::default_visibility(&alpha.context.db, &alice)
            .await
            .unwrap(),
        Visibility::Followers
    );
}

/// The id of the first listed session that is not this browser's.
fn other_session_id(html: &str) -> String {
    html.split("<li class=\"panel session\">")
        .skip(1)
        .find(|chunk| !chunk.contains("This browser"))
        .and_then(|chunk| {
            let at = chunk.find("/settings/sessions/")? + "/settings/sessions/".len();
            let rest = &chunk[at..];
            Some(rest[..rest.find('/')?].to_string())
        })
        .expect("another session")
}

async fn password_and_sessions(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let alice = alpha.create_user("alice").await;
    let mut laptop = signed_in(&alpha, "alice").await;
    let mut phone = signed_in(&alpha, "alice").await;
    let mut tablet = signed_in(&alpha, "alice").await;

    // The list shows three sessions; the laptop signs the tablet out.
    let page = laptop.get("/settings/sessions").await;
    assert_eq!(page.status, 200);
    assert_eq!(page.body.matches("<li class=\"panel session\">").count(), 3);
    assert_eq!(page.body.matches("This browser").count(), 1);
    let listed = service::sessions::list(&alpha.context.db, &alice)
        .await
        .unwrap();
    assert_eq!(listed.len(), 3);
    // Forged: nothing ends.
    let id = other_session_id(&page.body);
    let forged = laptop
        .post_raw(&format!("/settings/sessions/{id}/close"), &[])
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(
        service::sessions::list(&alpha.context.db, &alice)
            .await
            .unwrap()
            .len(),
        3
    );
    // Find the tablet's session: the one the tablet still sees as its own.
    let tablet_page = tablet.get("/settings/sessions").await;
    let tablet_id = tablet_page
        .body
        .split("<li class=\"panel session\">")
        .skip(1)
        .find(|chunk| chunk.contains("This browser"))
        .and_then(|chunk| {
            let at = chunk.find("/settings/sessions/")? + "/settings/sessions/".len();
            let rest = &chunk[at..];
            Some(rest[..rest.find('/')?].to_string())
        })
        .unwrap();
    let closed = laptop
        .post(&format!("/settings/sessions/{tablet_id}/close"), &[])
        .await;
    assert_eq!(closed.status, 303);
    assert_eq!(tablet.get("/settings").await.status, 303);
    assert_eq!(laptop.get("/settings").await.status, 200);
    // Someone else's or an unknown session: 404.
    let unknown = laptop
        .post("/settings/sessions/no-such-session/close", &[])
        .await;
    assert_eq!(unknown.status, 404);

    // Password: wrong current, differing twice, too short: 422, unchanged.
    laptop.get("/settings/password").await;
    let wrong = laptop
        .post(
            "/settings/password",
            &[
                ("current", "not my password"),
                ("new", "a new long password"),
                ("confirm", "a new long password"),
            ],
        )
        .await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.body.contains("current password is not right"));
    let differ = laptop
        .post(
            "/settings/password",
            &[
                ("current", PASSWORD),
                ("new", "a new long password"),
                ("confirm", "another long password"),
            ],
        )
        .await;
    assert_eq!(differ.status, 422);
    let short = laptop
        .post(
            "/settings/password",
            &[
                ("current", PASSWORD),
                ("new", "short"),
                ("confirm", "short"),
            ],
        )
        .await;
    assert_eq!(short.status, 422);
    assert!(accounts::authenticate(&alpha.context.db, "alice", PASSWORD)
        .await
        .is_ok());

    let changed = laptop
        .post(
            "/settings/password",
            &[
                ("current", PASSWORD),
                ("new", "a new long password"),
                ("confirm", "a new long password"),
            ],
        )
        .await;
    assert_eq!(changed.status, 303, "{}", changed.body);
    // Every other session ended; this one lives on.
    assert_eq!(phone.get("/settings").await.status, 303);
    assert_eq!(laptop.get("/settings/password?saved=1").await.status, 200);
    assert_eq!(
        service::sessions::list(&alpha.context.db, &alice)
            .await
            .unwrap()
            .len(),
        1
    );
    let mut again = WebClient::new(&alpha);
    assert_eq!(again.sign_in("alice", PASSWORD).await.status, 401);
    assert_eq!(
        again.sign_in("alice", "a new long password").await.status,
        303
    );

    // Authorised apps: a token shows its app, and revoking ends it.
    let token = service::oauth::token_for_user(&alpha.context.db, &alice, "read write")
        .await
        .unwrap();
    let page = laptop.get("/settings/sessions").await;
    assert!(
        page.body.contains("<li class=\"panel app\">"),
        "{}",
        page.body
    );
    let revoke = format!("/settings/apps/{}/revoke", service::oauth::ADMIN_APP_ID);
    assert_eq!(laptop.post_raw(&revoke, &[]).await.status, 403);
    let revoked = laptop.post(&revoke, &[]).await;
    assert_eq!(revoked.status, 303);
    let found = service::oauth::authenticate(&alpha.context.db, &token.access_token)
        .await
        .unwrap();
    assert!(found.is_err(), "the token is revoked");
    let page = laptop.get("/settings/sessions").await;
    assert!(!page.body.contains("<li class=\"panel app\">"));
    assert_eq!(laptop.post(&revoke, &[]).await.status, 404);
}

async fn register_as(web: &mut WebClient, name: &str, invite: &str) -> Answer {
    let page = web.get(&format!("/register?invite={invite}")).await;
    assert_eq!(page.status, 200);
    web.post(
        "/register",
        &[
            ("username", name),
            ("password", "a long password"),
            ("confirm", "a long password"),
            ("invite", invite),
        ],
    )
    .await
}

async fn user_count(instance: &TestInstance) -> i64 {
    instance
        .context
        .db
        .run(|conn| Ok(outloud::db::local_user::LocalUser::count(conn)?))
        .await
        .unwrap()
}

/// An app's client-credentials token on `instance` (what Mastodon apps
/// use to sign people up).
async fn app_token(instance: &TestInstance) -> String {
    let app: serde_json::Value = instance
        .client
        .post(instance.url("/api/v1/apps"))
        .form(&[
            ("client_name", "Sign-up app"),
            ("redirect_uris", "urn:ietf:wg:oauth:2.0:oob"),
            ("scopes", "read write"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token: serde_json::Value = instance
        .client
        .post(instance.url("/oauth/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", app["client_id"].as_str().unwrap()),
            ("client_secret", app["client_secret"].as_str().unwrap()),
            ("scope", "read write"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    token["access_token"].as_str().unwrap().to_string()
}

/// `POST /api/v1/accounts` with an app token.
async fn api_sign_up(
    instance: &TestInstance,
    token: &str,
    fields: &[(&str, &str)],
) -> (u16, serde_json::Value) {
    api_sign_up_from(instance, token, fields, None).await
}

/// A sign-up through the API, optionally claiming to come from
/// `forwarded_for` (as a reverse proxy says, or an attacker forges).
async fn api_sign_up_from(
    instance: &TestInstance,
    token: &str,
    fields: &[(&str, &str)],
    forwarded_for: Option<&str>,
) -> (u16, serde_json::Value) {
    let mut request = instance
        .client
        .post(instance.url("/api/v1/accounts"))
        .bearer_auth(token)
        .form(fields);
    if let Some(address) = forwarded_for {
        request = request.header("X-Forwarded-For", address);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

async fn registration_closed_and_open(backend: Backend) {
    // Closed (the default): the page says so, a POST is 403.
    let closed = TestInstance::spawn("alpha", backend).await;
    let mut web = WebClient::new(&closed);
    let page = web.get("/register").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("id=\"closed\""), "{}", page.body);
    let refused = web
        .post(
            "/register",
            &[
                ("username", "eve"),
                ("password", "a long password"),
                ("confirm", "a long password"),
            ],
        )
        .await;
    assert_eq!(refused.status, 403);
    let token = app_token(&closed).await;
    let (status, _) = api_sign_up(
        &closed,
        &token,
        &[
            ("username", "eve"),
            ("password", "a long password"),
            ("agreement", "true"),
        ],
    )
    .await;
    assert_eq!(status, 403);
    assert_eq!(user_count(&closed).await, 0);

    // Open: an account at once, which can sign in.
    let open = TestInstance::spawn_with("beta", backend, |c| {
        c.instance.registrations = Registrations::Open;
    })
    .await;
    let mut web = WebClient::new(&open);
    let done = register_as(&mut web, "Dana", "").await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("is ready"), "{}", done.body);
    assert_eq!(web.sign_in("dana", "a long password").await.status, 303);
    // The name is taken; bad names, differing passwords, a forged form.
    let mut other = WebClient::new(&open);
    let taken = register_as(&mut other, "dana", "").await;
    assert_eq!(taken.status, 422);
    assert!(taken.body.contains("That name is taken — try another."));
    let bad = register_as(&mut other, "not a name", "").await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("value=\"not a name\""), "kept");
    let differ = other
        .post(
            "/register",
            &[
                ("username", "erin"),
                ("password", "a long password"),
                ("confirm", "a different one"),
            ],
        )
        .await;
    assert_eq!(differ.status, 422);
    let short = other
        .post(
            "/register",
            &[
                ("username", "erin"),
                ("password", "short"),
                ("confirm", "short"),
            ],
        )
        .await;
    assert_eq!(short.status, 422);
    let forged = other
        .post_raw(
            "/register",
            &[
                ("username", "erin"),
                ("password", "a long password"),
                ("confirm", "a long password"),
            ],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert_eq!(user_count(&open).await, 1);

    // Mastodon apps sign people up with POST /api/v1/accounts.
    let token = app_token(&open).await;
    let fields = [
        ("username", "apps_person"),
        ("email", "ignored@example.org"),
        ("password", "a long password"),
        ("agreement", "true"),
        ("locale", "en"),
    ];
    let (status, _) = api_sign_up(&open, &token, &fields[..3]).await;
    assert_eq!(status, 422, "the agreement is needed");
    let (status, body) = api_sign_up(&open, &token, &fields).await;
    assert_eq!(status, 200, "{body}");
    let me: serde_json::Value = open
        .client
        .get(open.url("/api/v1/accounts/verify_credentials"))
        .bearer_auth(body["access_token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "apps_person");
    let (status, body) = api_sign_up(&open, &token, &fields).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(user_count(&open).await, 2);
}

async fn registration_by_invite(backend: Backend) {
    let alpha = TestInstance::spawn_with("alpha", backend, |c| {
        c.instance.registrations = Registrations::Invite;
        c.instance.approve_registrations = true;
    })
    .await;
    let admin = make_admin(&alpha, "root").await;
    let mut boss = signed_in(&alpha, "root").await;
    boss.get("/admin/invites").await;
    let made = boss
        .post("/admin/invites", &[("max_uses", "1"), ("days", "7")])
        .await;
    assert_eq!(made.status, 303, "{}", made.body);
    let invites = service::invites::list(&alpha.context.db, &admin)
        .await
        .unwrap();
    assert_eq!(invites.len(), 1);
    let code = invites[0].code.clone();
    let page = boss.get("/admin/invites").await;
    assert!(page.body.contains(&format!("/register?invite={code}")));
    // Bad limits: the page again.
    assert_eq!(
        boss.post("/admin/invites", &[("max_uses", "many"), ("days", "")])
            .await
            .status,
        422
    );
    assert_eq!(
        boss.post("/admin/invites", &[("max_uses", "0"), ("days", "")])
            .await
            .status,
        422
    );

    // No code, a wrong code: refused.
    let mut web = WebClient::new(&alpha);
    let none = register_as(&mut web, "fay", "").await;
    assert_eq!(none.status, 422);
    let wrong = register_as(&mut web, "fay", "not-a-code").await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.body.contains("invite code is not valid"));
    // The link fills the code in; the invite approves the account.
    let page = web.get(&format!("/register?invite={code}")).await;
    assert!(page.body.contains(&format!("value=\"{code}\"")));
    let done = register_as(&mut web, "fay", &code).await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(done.body.contains("is ready"));
    assert_eq!(web.sign_in("fay", "a long password").await.status, 303);
    let invites = service::invites::list(&alpha.context.db, &admin)
        .await
        .unwrap();
    assert_eq!(invites[0].uses, 1);
    // Used up.
    let mut late = WebClient::new(&alpha);
    let used_up = register_as(&mut late, "gus", &code).await;
    assert_eq!(used_up.status, 422);

    // An expired invite and a revoked one are refused too.
    let expired = outloud::db::invite::Invite {
        id: outloud::db::new_id(),
        code: "expired-code".into(),
        created_by: admin.id.clone(),
        max_uses: None,
        uses: 0,
        expires_at: Some(outloud::db::now() - chrono::Duration::hours(1)),
        revoked_at: None,
        created_at: outloud::db::now() - chrono::Duration::days(2),
        community_id: None,
    };
    alpha
        .context
        .db
        .run(move |conn| Ok(outloud::db::invite::Invite::insert(conn, &expired)?))
        .await
        .unwrap();
    assert_eq!(
        register_as(&mut late, "gus", "expired-code").await.status,
        422
    );
    boss.get("/admin/invites").await;
    boss.post("/admin/invites", &[("max_uses", ""), ("days", "")])
        .await;
    let live = service::invites::list(&alpha.context.db, &admin)
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.max_uses.is_none() && i.expires_at.is_none())
        .unwrap();
    let revoked = boss
        .post(&format!("/admin/invites/{}/revoke", live.id), &[])
        .await;
    assert_eq!(revoked.status, 303);
    assert_eq!(register_as(&mut late, "gus", &live.code).await.status, 422);
    assert_eq!(user_count(&alpha).await, 2);
}

/// The code of the invite that names the local community `name`.
async fn invite_code_for(
    alpha: &TestInstance,
    admin: &outloud::db::actor::Actor,
    name: &str,
) -> String {
    let group = alpha.local(name).await;
    service::invites::list(&alpha.context.db, admin)
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.community_id.as_deref() == Some(group.id.as_str()))
        .unwrap()
        .code
}

/// An invite that names a community (issue 15 §2): whoever signs up with
/// it, on the web or through `POST /api/v1/accounts`, joins it, or asks to
/// when the community approves its members.
async fn invites_join_a_community(backend: Backend) {
    use crate::communities::create_community;
    use outloud::db::{community::Posting, follow::FollowState};
    let alpha = TestInstance::spawn_with("alpha", backend, |c| {
        c.instance.registrations = Registrations::Invite;
    })
    .await;
    let admin = make_admin(&alpha, "root").await;
    create_community(&alpha, "rust", &admin, false, false, Posting::Anyone).await;
    create_community(&alpha, "guild", &admin, true, false, Posting::Anyone).await;
    let mut boss = signed_in(&alpha, "root").await;
    let page = boss.get("/admin/invites").await;
    assert!(page.body.contains("<option value=\"rust\">@rust</option>"));
    // A community that is not this instance's is refused with the reason.
    let refused = boss
        .post(
            "/admin/invites",
            &[("max_uses", ""), ("days", ""), ("community", "nope")],
        )
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("no community named `nope`"));
    for community in ["rust", "guild"] {
        let made = boss
            .post(
                "/admin/invites",
                &[("max_uses", ""), ("days", "7"), ("community", community)],
            )
            .await;
        assert_eq!(made.status, 303, "{}", made.body);
    }
    let page = boss.get("/admin/invites").await;
    assert!(page.body.contains("<td>@rust</td>") && page.body.contains("<td>@guild</td>"));

    // On the web: fay joins rust at once.
    let mut web = WebClient::new(&alpha);
    let done = register_as(
        &mut web,
        "fay",
        &invite_code_for(&alpha, &admin, "rust").await,
    )
    .await;
    assert_eq!(done.status, 200, "{}", done.body);
    let (fay, rust) = (alpha.handle_of("fay"), alpha.handle_of("rust"));
    assert_eq!(
        alpha.follow_state(&fay, &rust).await,
        Some(FollowState::Accepted)
    );
    // Through the client API: gus asks to join guild, which approves.
    let token = app_token(&alpha).await;
    let code = invite_code_for(&alpha, &admin, "guild").await;
    let (status, body) = api_sign_up(
        &alpha,
        &token,
        &[
            ("username", "gus"),
            ("email", "gus@example.org"),
            ("password", "a long password"),
            ("agreement", "true"),
            ("locale", "en"),
            ("invite_code", &code),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (gus, guild) = (alpha.handle_of("gus"), alpha.handle_of("guild"));
    assert_eq!(
        alpha.follow_state(&gus, &guild).await,
        Some(FollowState::Pending)
    );
    assert_eq!(alpha.follow_state(&gus, &rust).await, None);
}

/// One address gets a limited number of sign-up attempts (issue 15 §2),
/// web and API counted together; refusals are 429 with the reason.
async fn sign_ups_are_rate_limited(backend: Backend) {
    let open = TestInstance::spawn_with("alpha", backend, |c| {
        c.instance.registrations = Registrations::Open;
    })
    .await;
    let token = app_token(&open).await;
    let attempt = |name: String| {
        let (open, token) = (&open, &token);
        async move {
            let fields = [
                ("username", name.as_str()),
                ("password", "short"),
                ("agreement", "true"),
            ];
            api_sign_up(open, token, &fields).await
        }
    };
    for n in 0..outloud::ratelimit::SIGN_UPS_PER_5_MINUTES {
        let (status, body) = attempt(format!("user{n}")).await;
        assert_eq!(status, 422, "attempt {n}: {body}");
    }
    let good = [
        ("username", "late"),
        ("password", "a long password"),
        ("agreement", "true"),
    ];
    let (status, body) = api_sign_up(&open, &token, &good).await;
    assert_eq!(status, 429, "{body}");
    assert!(body["error"]
        .as_str()
        .unwrap()
        .contains("Too many sign-ups"));
    let mut web = WebClient::new(&open);
    let page = register_as(&mut web, "late", "").await;
    assert_eq!(page.status, 429);
    assert!(page.body.contains("Too many sign-ups from your address"));
    // Without trusted proxies a forged X-Forwarded-For changes nothing.
    let (status, body) = api_sign_up_from(&open, &token, &good, Some("198.51.100.7")).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(user_count(&open).await, 0);
}

/// Behind a trusted reverse proxy (here 127.0.0.1) the limits count per
/// client address the proxy names, so one visitor's attempts do not lock
/// out the others; the entries left of the proxy's own are not believed.
async fn sign_up_limits_see_through_trusted_proxies(backend: Backend) {
    let open = TestInstance::spawn_with("alpha", backend, |c| {
        c.instance.registrations = Registrations::Open;
        c.http.trusted_proxies = vec!["127.0.0.0/8".into()];
    })
    .await;
    let token = app_token(&open).await;
    let noisy = Some("203.0.113.5, 198.51.100.1");
    for n in 0..outloud::ratelimit::SIGN_UPS_PER_5_MINUTES {
        let fields = [
            ("username", format!("user{n}")),
            ("password", "short".to_string()),
            ("agreement", "true".to_string()),
        ];
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let (status, body) = api_sign_up_from(&open, &token, &fields, noisy).await;
        assert_eq!(status, 422, "attempt {n}: {body}");
    }
    let good = [
        ("username", "late"),
        ("password", "a long password"),
        ("agreement", "true"),
    ];
    // The proxy named 198.51.100.1: that address is spent, whatever the
    // client wrote before it.
    let (status, body) =
        api_sign_up_from(&open, &token, &good, Some("192.0.2.99, 198.51.100.1")).await;
    assert_eq!(status, 429, "{body}");
    // Another visitor behind the same proxy signs up.
    let (status, body) = api_sign_up_from(&open, &token, &good, Some("198.51.100.2")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(user_count(&open).await, 1);
}

async fn registration_waits_for_approval(backend: Backend) {
    let alpha = TestInstance::spawn_with("alpha", backend, |c| {
        c.instance.registrations = Registrations::Open;
        c.instance.approve_registrations = true;
    })
    .await;
    make_admin(&alpha, "root").await;
    let mut web = WebClient::new(&alpha);
    // The form asks why; too long a reason comes back with the text kept.
    let page = web.get("/register").await;
    assert!(page.body.contains("id=\"f-reason\""), "{}", page.body);
    let too_long = "x".repeat(service::registrations::MAX_REASON_CHARS + 1);
    let sign_up_with = |reason: &str| {
        [
            ("username", "hal".to_string()),
            ("password", "a long password".to_string()),
            ("confirm", "a long password".to_string()),
            ("reason", reason.to_string()),
        ]
    };
    let fields = sign_up_with(&too_long);
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let refused = web.post("/register", &fields).await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("at most 420 characters"));
    assert!(refused.body.contains(&too_long), "the reason is kept");
    let fields = sign_up_with("I lead the platform guild.");
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let done = web.post("/register", &fields).await;
    assert_eq!(done.status, 200);
    assert!(done.body.contains("waiting for approval"), "{}", done.body);
    let refused = web.sign_in("hal", "a long password").await;
    assert_eq!(refused.status, 403);
    assert!(refused
        .body
        .contains("Your account is waiting for approval"));
    // A wrong password says nothing about the account.
    let wrong = web.sign_in("hal", "not the password").await;
    assert_eq!(wrong.status, 401);
    // OAuth's password path is refused too.
    assert!(
        accounts::authenticate(&alpha.context.db, "hal", "a long password")
            .await
            .is_err()
    );

    // Through the client API, the account is made but gets no token.
    let token = app_token(&alpha).await;
    let (status, body) = api_sign_up(
        &alpha,
        &token,
        &[
            ("username", "ida"),
            ("password", "a long password"),
            ("agreement", "1"),
            ("reason", "Our team narrates every sprint."),
        ],
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(body.to_string().contains("waiting for approval"), "{body}");

    let hal = alpha.local("hal").await;
    let mut boss = signed_in(&alpha, "root").await;
    let page = boss.get("/admin").await;
    assert!(page.body.contains("id=\"pending\""), "{}", page.body);
    // The queue shows why each wants to join.
    assert!(
        page.body.contains("I lead the platform guild."),
        "{}",
        page.body
    );
    assert!(page.body.contains("Our team narrates every sprint."));
    let approved = boss
        .post(&format!("/admin/users/{}/approve", hal.id), &[])
        .await;
    assert_eq!(approved.status, 303);
    assert_eq!(web.sign_in("hal", "a long password").await.status, 303);
    let user = accounts::user_of(&alpha.context.db, &hal).await.unwrap();
    assert_eq!(user.registration_reason, None, "kept only for the decision");

    // ida, waiting, is rejected: her account is gone and the name free.
    let ida = alpha.local("ida").await;
    let page = boss.get("/admin").await;
    assert!(page
        .body
        .contains(&format!("action=\"/admin/users/{}/reject\"", ida.id)));
    let rejected = boss
        .post(&format!("/admin/users/{}/reject", ida.id), &[])
        .await;
    assert_eq!(rejected.status, 303);
    assert!(boss
        .get("/admin?done=reject")
        .await
        .body
        .contains("its name is free"));
    assert!(
        accounts::local_actor(&alpha.context.db, "ida")
            .await
            .is_err(),
        "ida's account is deleted"
    );
    let mut again = WebClient::new(&alpha);
    assert_eq!(register_as(&mut again, "ida", "").await.status, 200);
    // An approved account is not rejected (422); an unknown one is 404.
    boss.get("/admin").await;
    let refused = boss
        .post(&format!("/admin/users/{}/reject", hal.id), &[])
        .await;
    assert_eq!(refused.status, 422);
    assert!(refused.body.contains("suspend this one instead"));
    assert!(accounts::local_actor(&alpha.context.db, "hal")
        .await
        .is_ok());
    boss.get("/admin").await;
    assert_eq!(
        boss.post("/admin/users/nobody/reject", &[]).await.status,
        404
    );
}

async fn admin_pages_are_for_admins(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    make_admin(&alpha, "root").await;
    let alice = alpha.create_user("alice").await;
    let bob = beta.create_user("bob").await;

    // Not an admin: 403 on every page and every action.
    let mut web = signed_in(&alpha, "alice").await;
    for page in [
        "/admin",
        "/admin/invites",
        "/admin/communities",
        "/admin/federation",
        "/admin/deliveries",
        "/admin/instance",
    ] {
        assert_eq!(web.get(page).await.status, 403, "{page}");
    }
    web.get("/settings").await;
    let root = alpha.local("root").await;
    for action in [
        "/admin/users".to_string(),
        format!("/admin/users/{}/suspend", root.id),
        format!("/admin/users/{}/approve", root.id),
        format!("/admin/users/{}/reject", root.id),
        "/admin/invites".to_string(),
        "/admin/invites/x/revoke".to_string(),
        "/admin/communities".to_string(),
        "/admin/federation".to_string(),
        "/admin/federation/remove".to_string(),
        "/admin/federation/mode".to_string(),
        "/admin/deliveries/revive".to_string(),
        "/admin/instance".to_string(),
    ] {
        let answer = web
            .post(
                &action,
                &[
                    ("username", "mallory"),
                    ("password", "a long password"),
                    ("name", "club"),
                    ("domain", "evil.example"),
                    ("action", "allow"),
                    ("host", "evil.example"),
                    ("description", "taken over"),
                ],
            )
            .await;
        assert_eq!(answer.status, 403, "{action}");
    }
    assert!(service::policy::list(&alpha.context.db)
        .await
        .unwrap()
        .is_empty());

    assert_eq!(user_count(&alpha).await, 2);

    // The admin sees every tab.
    let mut boss = signed_in(&alpha, "root").await;
    for page in [
        "/admin",
        "/admin/invites",
        "/admin/communities",
        "/admin/federation",
        "/admin/deliveries",
        "/admin/instance",
    ] {
        let answer = boss.get(page).await;
        assert_eq!(answer.status, 200, "{page}: {}", answer.body);
        assert_eq!(answer.body.matches("<h1").count(), 1, "{page}");
    }

    // A forged admin form is refused.
    let forged = boss
        .post_raw(
            "/admin/federation",
            &[("domain", "beta.localhost"), ("action", "block")],
        )
        .await;
    assert_eq!(forged.status, 403);
    assert!(service::policy::list(&alpha.context.db)
        .await
        .unwrap()
        .is_empty());

    // Create an account; a taken name comes back with the message.
    boss.get("/admin").await;
    let made = boss
        .post(
            "/admin/users",
            &[("username", "ivy"), ("password", "a long password")],
        )
        .await;
    assert_eq!(made.status, 303, "{}", made.body);
    let taken = boss
        .post(
            "/admin/users",
            &[("username", "ivy"), ("password", "a long password")],
        )
        .await;
    assert_eq!(taken.status, 422);
    assert!(taken.body.contains("That name is taken"));

    // A community.
    let made = boss
        .post(
            "/admin/communities",
            &[
                ("name", "rustaceans"),
                ("display_name", "Rustaceans"),
                ("summary", "We write Rust."),
            ],
        )
        .await;
    assert_eq!(made.status, 303, "{}", made.body);
    let page = boss.get("/admin/communities").await;
    assert!(page.body.contains("/c/rustaceans"));
    assert_eq!(
        boss.post("/admin/communities", &[("name", "bad name")])
            .await
            .status,
        422
    );

    // Suspend alice: her session ends, she cannot sign in, her tokens end.
    let token = service::oauth::token_for_user(&alpha.context.db, &alice, "read")
        .await
        .unwrap();
    let suspended = boss
        .post(&format!("/admin/users/{}/suspend", alice.id), &[])
        .await;
    assert_eq!(suspended.status, 303);
    assert_eq!(web.get("/settings").await.status, 303);
    let refused = WebClient::new(&alpha).sign_in("alice", PASSWORD).await;
    assert_eq!(refused.status, 403);
    assert!(refused.body.contains("suspended"));
    assert!(
        service::oauth::authenticate(&alpha.context.db, &token.access_token)
            .await
            .unwrap()
            .is_err()
    );
    // Admins cannot suspend themselves.
    assert_eq!(
        boss.post(&format!("/admin/users/{}/suspend", root.id), &[])
            .await
            .status,
        403
    );
    let back = boss
        .post(&format!("/admin/users/{}/unsuspend", alice.id), &[])
        .await;
    assert_eq!(back.status, 303);
    assert_eq!(
        WebClient::new(&alpha)
            .sign_in("alice", PASSWORD)
            .await
            .status,
        303
    );

    // Block beta: listed, and its activities are refused.
    let bad = boss
        .post(
            "/admin/federation",
            &[("domain", "not a host"), ("action", "block")],
        )
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("value=\"not a host\""));
    let blocked = boss
        .post(
            "/admin/federation",
            &[("domain", beta.domain.as_str()), ("action", "block")],
        )
        .await;
    assert_eq!(blocked.status, 303, "{}", blocked.body);
    let list = service::policy::list(&alpha.context.db).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].domain, "beta.localhost");
    assert_eq!(list[0].action(), Some(PolicyAction::Block));
    let follow = json!({
        "id": beta.url("/activities/web-admin-follow"),
        "type": "Follow",
        "actor": beta.actor_url("bob"),
        "object": alpha.actor_url("alice"),
    });
    let res = beta.signed_post(&bob, &alpha.url("/inbox"), &follow).await;
    assert_eq!(res.status(), 403);
    let page = boss.get("/admin/federation").await;
    assert!(page
        .body
        .contains("Unblock<span class=\"visually-hidden\"> beta.localhost"));
    let removed = boss
        .post("/admin/federation/remove", &[("domain", "beta.localhost")])
        .await;
    assert_eq!(removed.status, 303);
    assert!(service::policy::list(&alpha.context.db)
        .await
        .unwrap()
        .is_empty());
    // Allowlist mode from the page: beta, not allowed, is refused; allowed,
    // it is heard again; back to open.
    let odd = boss
        .post("/admin/federation/mode", &[("mode", "closed")])
        .await;
    assert_eq!(odd.status, 422);
    let mode = boss
        .post("/admin/federation/mode", &[("mode", "allowlist")])
        .await;
    assert_eq!(mode.status, 303, "{}", mode.body);
    assert!(boss
        .get("/admin/federation")
        .await
        .body
        .contains("only with allowed hosts"));
    let follow = json!({
        "id": beta.url("/activities/web-admin-follow-2"),
        "type": "Follow",
        "actor": beta.actor_url("bob"),
        "object": alpha.actor_url("alice"),
    });
    let res = beta.signed_post(&bob, &alpha.url("/inbox"), &follow).await;
    assert_eq!(res.status(), 403, "not allowed in allowlist mode");
    boss.post(
        "/admin/federation",
        &[("domain", beta.domain.as_str()), ("action", "allow")],
    )
    .await;
    let res = beta.signed_post(&bob, &alpha.url("/inbox"), &follow).await;
    assert!(res.status().is_success(), "allowed: {}", res.status());
    boss.post("/admin/federation/mode", &[("mode", "open")])
        .await;
    boss.post("/admin/federation/remove", &[("domain", "beta.localhost")])
        .await;
    assert!(boss
        .get("/admin/federation")
        .await
        .body
        .contains("with every host except blocked ones"));

    // The instance's name and description, over the configuration's.
    let page = boss.get("/admin/instance").await;
    assert!(page.body.contains("value=\"Outloud\""), "{}", page.body);
    let empty = boss
        .post("/admin/instance", &[("name", "  "), ("description", "x")])
        .await;
    assert_eq!(empty.status, 422);
    let saved = boss
        .post(
            "/admin/instance",
            &[
                ("name", "Guild of Builders"),
                ("description", "Bridges, mostly."),
            ],
        )
        .await;
    assert_eq!(saved.status, 303, "{}", saved.body);
    let instance: serde_json::Value = alpha.get("/api/v1/instance").await.json().await.unwrap();
    assert_eq!(instance["title"], "Guild of Builders");
    assert_eq!(instance["description"], "Bridges, mostly.");
    let page = boss.get("/admin").await;
    assert!(page
        .body
        .contains("<title>Administration: people · Guild of Builders</title>"));

    // Reviving a healthy host says so.
    let revived = boss
        .post("/admin/deliveries/revive", &[("host", "beta.localhost")])
        .await;
    assert_eq!(revived.status, 303);
    assert_eq!(revived.location, "/admin/deliveries?done=healthy");
}

async fn oauth_approval_with_the_session(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    alpha.create_user("alice").await;
    let redirect = "https://app.example/callback";
    let app: serde_json::Value = alpha
        .client
        .post(alpha.url("/api/v1/apps"))
        .form(&[
            ("client_name", "Session app"),
            ("redirect_uris", redirect),
            ("scopes", "read write"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let client_id = app["client_id"].as_str().unwrap();
    let client_secret = app["client_secret"].as_str().unwrap();
    let mut web = signed_in(&alpha, "alice").await;
    let query = format!(
        "response_type=code&client_id={client_id}&redirect_uri={}&scope=read&state=s1",
        url::form_urlencoded::byte_serialize(redirect.as_bytes()).collect::<String>()
    );
    let page = web.get(&format!("/oauth/authorize?{query}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("You are signed in as"), "{}", page.body);
    assert!(!page.body.contains("name=\"password\""));
    let fields = [
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", redirect),
        ("scope", "read"),
        ("state", "s1"),
        ("decision", "approve"),
    ];
    // Without the session's token: refused, no code.
    let forged = web.post_raw("/oauth/authorize", &fields).await;
    assert_eq!(forged.status, 403);
    let approved = web.post("/oauth/authorize", &fields).await;
    assert_eq!(approved.status, 302, "{}", approved.body);
    let location = url::Url::parse(&approved.location).unwrap();
    let params: BTreeMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(params["state"], "s1");
    let token: serde_json::Value = alpha
        .client
        .post(alpha.url("/oauth/token"))
        .form(&[
            ("grant_type", "authorization_code"),
            ("client_id", client_id),
            ("client_secret", client_secret),
            ("redirect_uri", redirect),
            ("code", params["code"].as_str()),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = token["access_token"].as_str().unwrap();
    let me: serde_json::Value = alpha
        .client
        .get(alpha.url("/api/v1/accounts/verify_credentials"))
        .bearer_auth(access)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "alice");
    // The app now shows in settings.
    let page = web.get("/settings/sessions").await;
    assert!(page.body.contains("Session app"));
}

both_backends!(
    settings_change_the_profile,
    password_and_sessions,
    registration_closed_and_open,
    registration_by_invite,
    invites_join_a_community,
    sign_ups_are_rate_limited,
    sign_up_limits_see_through_trusted_proxies,
    registration_waits_for_approval,
    admin_pages_are_for_admins,
    oauth_approval_with_the_session,
);

// ---- in a real browser ------------------------------------------------------

use crate::browser::Browser;

async fn browser_sign_in(b: &Browser, instance: &TestInstance, name: &str, password: &str) {
    // `next`: home belongs to another page group, not merged here.
    b.goto(&instance.url("/login?next=%2Fsettings")).await;
    b.fill("#username", name).await;
    b.fill("#password", password).await;
    b.click("main button[type=submit]").await;
}

async fn browser_account_pages(backend: Backend) {
    let alpha = TestInstance::spawn_with("alpha", backend, |c| {
        c.instance.registrations = Registrations::Open;
    })
    .await;
    let beta = TestInstance::spawn("beta", backend).await;
    make_admin(&alpha, "root").await;
    alpha.create_user("alice").await;
    let bob = beta.create_user("bob").await;
    let label = format!("web_account-{backend:?}").to_lowercase();
    let Some(b) = Browser::start(&label).await else {
        return;
    };

    // Registration.
    b.visit(&alpha.url("/register"), "register").await;
    b.fill("#f-username", "dana").await;
    b.fill("#f-password", "a long password").await;
    b.fill("#f-confirm", "a long password").await;
    b.click("main form button[type=submit]").await;
    assert!(b.text("#registered").await.contains("is ready"));
    b.screenshot("registered").await;
    b.assert_console_clean().await;

    // Settings: the profile.
    browser_sign_in(&b, &alpha, "alice", PASSWORD).await;
    b.visit(&alpha.url("/settings"), "settings").await;
    b.fill("#f-display_name", "Alice in the browser").await;
    b.fill("#f-note", "Writes *Rust* at work.").await;
    b.select("#f-default_visibility", "local").await;
    b.click("main form[action='/settings'] button[type=submit]")
        .await;
    assert!(b.exists("#saved").await, "{}", b.source().await);
    b.screenshot("settings-saved").await;
    b.assert_console_clean().await;
    let alice = alpha.local("alice").await;
    assert_eq!(alice.display_name.as_deref(), Some("Alice in the browser"));
    assert_eq!(
        accounts::default_visibility(&alpha.context.db, &alice)
            .await
            .unwrap(),
        Visibility::Local
    );
    b.visit(&alpha.url("/settings/password"), "settings-password")
        .await;
    b.visit(&alpha.url("/settings/sessions"), "settings-sessions")
        .await;
    assert_eq!(b.texts("#sessions > li").await.len(), 1);

    // OAuth: a signed-in browser approves without its password.
    let app: serde_json::Value = alpha
        .client
        .post(alpha.url("/api/v1/apps"))
        .form(&[
            ("client_name", "Browser app"),
            ("redirect_uris", "urn:ietf:wg:oauth:2.0:oob"),
            ("scopes", "read"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let client_id = app["client_id"].as_str().unwrap();
    b.visit(
        &alpha.url(&format!(
            "/oauth/authorize?response_type=code&client_id={client_id}&redirect_uri=urn:ietf:wg:oauth:2.0:oob&scope=read"
        )),
        "authorize",
    )
    .await;
    assert!(b.exists("#signed-in-as").await);
    assert!(!b.exists("input[name=password]").await);
    b.click("#approve").await;
    assert!(!b.text("#authorization-code").await.is_empty());
    b.screenshot("authorized").await;
    b.assert_console_clean().await;

    // The admin blocks beta.
    b.driver().delete_all_cookies().await.unwrap();
    browser_sign_in(&b, &alpha, "root", PASSWORD).await;
    b.visit(&alpha.url("/admin"), "admin-people").await;
    b.visit(&alpha.url("/admin/invites"), "admin-invites").await;
    b.click("main form[action='/admin/invites'] button[type=submit]")
        .await;
    assert!(b.exists("#invites .invite-link").await);
    b.screenshot("admin-invite-made").await;
    b.assert_console_clean().await;
    b.visit(&alpha.url("/admin/communities"), "admin-communities")
        .await;
    b.visit(&alpha.url("/admin/deliveries"), "admin-deliveries")
        .await;
    b.visit(&alpha.url("/admin/instance"), "admin-instance")
        .await;
    b.visit(&alpha.url("/admin/federation"), "admin-federation")
        .await;
    b.fill("#f-domain", &beta.domain).await;
    b.select("#f-action", "block").await;
    b.click("main form[action='/admin/federation'] button[type=submit]")
        .await;
    assert!(b.exists("#notice").await, "{}", b.source().await);
    assert!(b.text("#policies").await.contains("beta.localhost"));
    b.screenshot("admin-federation-blocked").await;
    b.assert_console_clean().await;
    let list = service::policy::list(&alpha.context.db).await.unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].action(), Some(PolicyAction::Block));
    let follow = json!({
        "id": beta.url("/activities/browser-admin-follow"),
        "type": "Follow",
        "actor": beta.actor_url("bob"),
        "object": alpha.actor_url("alice"),
    });
    let res = beta.signed_post(&bob, &alpha.url("/inbox"), &follow).await;
    assert_eq!(res.status(), 403);
    b.close().await;
}

both_backends!(browser_account_pages);
