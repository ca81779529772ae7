//! OpenID Connect sign-in (issue 15 §1) against a real provider this
//! project did not write: panva's `oidc-provider` (npm, pinned in
//! tests/oidc/package.json), run by tests/oidc/provider.mjs on 127.0.0.1.
//! A cookie-keeping HTTP client plays the browser: Outloud's button, the
//! provider's login form, the way back.
//!
//! The npm dependencies are installed once into `target/oidc` (under a file
//! lock, skipped while the lockfile is unchanged), as foreign_peer.rs does
//! for tests/peer. Node.js 20 or newer and npm must be installed.
//!
//! The Mastodon-app door and the refresh grant are in oidc_apps.rs.

use crate::{
    communities::create_community,
    foreign_peer::install_npm_project,
    harness::{both_backends, http_client, TestInstance},
};
use outloud::{
    config::{Backend, Config},
    db::{community::Posting, follow::Follow, local_user::Role},
    service::suspension::{self, Suspender},
};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::{
    collections::BTreeMap,
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::OnceLock,
};

both_backends!(
    sign_in_creates_links_and_maps_groups,
    refusals_are_clear_pages,
    only_mode_refuses_passwords,
    a_real_browser_signs_in_with_the_button,
);

// ---- the provider process ---------------------------------------------------

pub(crate) const CLIENT_ID: &str = "outloud-test";
pub(crate) const CLIENT_SECRET: &str = "a client secret for tests";

/// Installs tests/oidc into `target/oidc` (foreign_peer.rs's installer);
/// once per process.
fn installed() -> Result<&'static Path, &'static str> {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let hint = "the OpenID Connect tests (tests/integration/oidc.rs) need Node.js 20 or newer \
                and npm on PATH (Debian: `apt-get install -y nodejs npm`)";
    match DIR.get_or_init(|| install_npm_project("oidc", "provider.mjs", hint)) {
        Ok(dir) => Ok(dir),
        Err(e) => Err(e),
    }
}

/// A running provider, killed on drop. Its accounts and tamper mode live
/// in a JSON file it reads at every request ([`Provider::set`]).
pub(crate) struct Provider {
    child: Child,
    state_file: PathBuf,
    _dir: tempfile::TempDir,
    state: Value,
}

impl Drop for Provider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A free port on 127.0.0.1 (bound, then released for the provider).
pub(crate) fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

impl Provider {
    /// Starts the provider on `port` for Outloud instance `instance`.
    pub(crate) async fn start(port: u16, instance: &TestInstance, accounts: Value) -> Provider {
        let dir = tokio::task::spawn_blocking(installed)
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("{e}"));
        let tmp = tempfile::tempdir().unwrap();
        let state_file = tmp.path().join("state.json");
        let state = json!({ "accounts": accounts, "tamper": "none" });
        std::fs::write(&state_file, state.to_string()).unwrap();
        let mut child = Command::new("node")
            .arg(dir.join("provider.mjs"))
            .arg(port.to_string())
            .env("OIDC_CLIENT_ID", CLIENT_ID)
            .env("OIDC_CLIENT_SECRET", CLIENT_SECRET)
            .env("OIDC_REDIRECT_URIS", instance.url("/auth/oidc/callback"))
            .env("OIDC_STATE", &state_file)
            .current_dir(dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .unwrap_or_else(|e| panic!("starting the provider: {e}"));
        let stdout = child.stdout.take().unwrap();
        let (first, said) = tokio::sync::oneshot::channel();
        // Read to the end: a closed pipe would kill the provider at its
        // next log line.
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = first.send(lines.next().and_then(|l| l.ok()).unwrap_or_default());
            for line in lines.map_while(Result::ok) {
                eprintln!("provider: {line}");
            }
        });
        let line = said.await.unwrap();
        assert!(line.starts_with("listening "), "provider said {line:?}");
        Provider {
            child,
            state_file,
            _dir: tmp,
            state,
        }
    }

    /// Changes the provider's state: `path` is `accounts.<sub>.groups`,
    /// `tamper`, …; `Value::Null` removes the key.
    pub(crate) fn set(&mut self, path: &str, value: Value) {
        let mut at = &mut self.state;
        let keys: Vec<&str> = path.split('.').collect();
        for key in &keys[..keys.len() - 1] {
            at = &mut at[*key];
        }
        let last = keys[keys.len() - 1];
        match value {
            Value::Null => {
                at.as_object_mut().unwrap().remove(last);
            }
            value => at[last] = value,
        }
        std::fs::write(&self.state_file, self.state.to_string()).unwrap();
    }
}

/// The `[oidc]` configuration of the tests: staff may sign in, ops are
/// admins, mods moderators, `rust-guild` is the community `rust`.
pub(crate) fn configure(config: &mut Config, issuer: &str) {
    let oidc = &mut config.oidc;
    oidc.issuer = issuer.to_string();
    oidc.client_id = CLIENT_ID.into();
    oidc.client_secret = CLIENT_SECRET.into();
    oidc.display_name = "Corp ID".into();
    oidc.link_verified_email = true;
    oidc.allowed_groups = vec!["staff".into()];
    oidc.admin_groups = vec!["ops".into()];
    oidc.moderator_groups = vec!["mods".into()];
    oidc.communities = BTreeMap::from([("rust-guild".into(), "rust".into())]);
}

/// An instance with `[oidc]` and its provider with `accounts`.
pub(crate) async fn instance_and_provider(
    backend: Backend,
    accounts: Value,
    adjust: impl FnOnce(&mut Config),
) -> (TestInstance, Provider) {
    let port = free_port();
    let issuer = format!("http://127.0.0.1:{port}");
    let instance = TestInstance::spawn_with("alpha", backend, |config| {
        configure(config, &issuer);
        adjust(config);
    })
    .await;
    let provider = Provider::start(port, &instance, accounts).await;
    (instance, provider)
}

// ---- a browser --------------------------------------------------------------

/// What a browser needs here: cookies per host (paths and expiry ignored:
/// every cookie name in play is distinct) and redirects followed by hand,
/// so each hop can be looked at.
#[derive(Default)]
pub(crate) struct Browser {
    client: Option<reqwest::Client>,
    cookies: BTreeMap<String, BTreeMap<String, String>>,
}

/// A response read whole.
#[derive(Debug)]
pub(crate) struct Page {
    pub status: StatusCode,
    pub url: String,
    pub location: Option<String>,
    pub body: String,
}

impl Browser {
    fn client(&mut self) -> reqwest::Client {
        self.client.get_or_insert_with(http_client).clone()
    }

    fn host_of(url: &reqwest::Url) -> String {
        format!(
            "{}:{}",
            url.host_str().unwrap_or(""),
            url.port().unwrap_or(0)
        )
    }

    pub(crate) fn cookie(&self, url: &str, name: &str) -> Option<String> {
        let url = reqwest::Url::parse(url).unwrap();
        self.cookies.get(&Self::host_of(&url))?.get(name).cloned()
    }

    /// One request, no redirect followed.
    pub(crate) async fn send(&mut self, url: &str, form: Option<&[(&str, &str)]>) -> Page {
        let parsed = reqwest::Url::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        let host = Self::host_of(&parsed);
        let client = self.client();
        let mut request = match form {
            Some(pairs) => client.post(parsed.clone()).form(pairs),
            None => client.get(parsed.clone()),
        };
        if let Some(jar) = self.cookies.get(&host) {
            let header: Vec<String> = jar.iter().map(|(k, v)| format!("{k}={v}")).collect();
            request = request.header("Cookie", header.join("; "));
        }
        let response = request.send().await.unwrap();
        let jar = self.cookies.entry(host).or_default();
        for set in response.headers().get_all("set-cookie") {
            let set = set.to_str().unwrap();
            let pair = set.split(';').next().unwrap();
            let (name, value) = pair.split_once('=').unwrap();
            let removed = set.to_ascii_lowercase().contains("max-age=0") || value.is_empty();
            if removed {
                jar.remove(name.trim());
            } else {
                jar.insert(name.trim().to_string(), value.trim().to_string());
            }
        }
        let status = response.status();
        let location = response
            .headers()
            .get("location")
            .map(|l| parsed.join(l.to_str().unwrap()).unwrap().to_string());
        Page {
            status,
            url: url.to_string(),
            location,
            body: response.text().await.unwrap(),
        }
    }

    /// GETs `url`, following redirects until a page answers.
    pub(crate) async fn get(&mut self, url: &str) -> Page {
        let mut page = self.send(url, None).await;
        for _ in 0..10 {
            match (&page.location, page.status.is_redirection()) {
                (Some(next), true) => {
                    let next = next.clone();
                    page = self.send(&next, None).await;
                }
                _ => return page,
            }
        }
        panic!("too many redirects from {url}");
    }

    /// Follows Outloud's button at `start` (`/auth/oidc?…`) through the
    /// provider's login as `login`, up to Outloud's callback; returns the
    /// callback's answer (not followed further).
    pub(crate) async fn sign_in_at_provider(&mut self, start: &str, login: &str) -> Page {
        let interaction = self.get(start).await;
        assert_eq!(interaction.status, StatusCode::OK, "{interaction:?}");
        assert!(
            interaction.url.contains("/interaction/"),
            "not the provider's login: {interaction:?}"
        );
        let mut page = self
            .send(
                &format!("{}/login", interaction.url),
                Some(&[("login", login)]),
            )
            .await;
        for _ in 0..10 {
            let next = page.location.clone().expect("a redirect back");
            if next.contains("/auth/oidc/callback") {
                return self.send(&next, None).await;
            }
            page = self.send(&next, None).await;
        }
        panic!("the provider never sent the browser back");
    }
}

/// A client app with the out-of-band redirect and `read`: its JSON.
pub(crate) async fn register_app(instance: &TestInstance) -> Value {
    let form = [
        ("client_name", "app"),
        ("redirect_uris", "urn:ietf:wg:oauth:2.0:oob"),
        ("scopes", "read"),
    ];
    let response = instance
        .client
        .post(instance.url("/api/v1/apps"))
        .form(&form);
    response.send().await.unwrap().json().await.unwrap()
}

/// A person at the provider.
pub(crate) fn account(username: &str, email: &str, groups: &[&str]) -> Value {
    json!({
        "preferred_username": username,
        "email": email,
        "email_verified": true,
        "groups": groups,
    })
}

/// Whose live session the browser holds on `instance`, if any.
async fn signed_in_as(instance: &TestInstance, browser: &mut Browser) -> Option<String> {
    let token = browser.cookie(&instance.url("/"), "outloud_session")?;
    outloud::service::sessions::find(&instance.context.db, &token)
        .await
        .unwrap()
        .map(|(_, actor, _)| actor.username)
}

async fn role_of(instance: &TestInstance, name: &str) -> Role {
    let actor = instance.local(name).await;
    outloud::service::accounts::user_of(&instance.context.db, &actor)
        .await
        .unwrap()
        .role()
}

async fn member_of(instance: &TestInstance, person: &str, community: &str) -> bool {
    let (person, group) = (
        instance.local(person).await,
        instance.local(community).await,
    );
    instance
        .context
        .db
        .run(move |conn| Ok(Follow::between(conn, &person.id, &group.id)?))
        .await
        .unwrap()
        .is_some()
}

// ---- scenarios ----------------------------------------------------------------

/// First sign-in creates the account (under `alice2`: `alice` is an
/// unlinked local account, and the page says so), with the moderator role
/// and the community of `rust-guild`; the next sign-in finds the same
/// account, makes it an admin and leaves `rust`; a verified e-mail links
/// an existing account; out of `staff`, the next sign-in is refused and
/// every session of the account ends.
async fn sign_in_creates_links_and_maps_groups(backend: Backend) {
    let accounts = json!({
        "sub-alice": account("Alice", "alice@corp.example", &["staff", "rust-guild", "mods"]),
        "sub-bob": account("bob.builder", "bob@corp.example", &["staff"]),
    });
    let (alpha, mut provider) = instance_and_provider(backend, accounts, |_| {}).await;
    let owner = alpha.create_user("alice").await;
    create_community(&alpha, "rust", &owner, false, false, Posting::Anyone).await;
    let bob = alpha.create_user("bobby").await;
    outloud::service::digests::save_email(&alpha.context.db, &bob.id, "bob@corp.example", false)
        .await
        .unwrap();

    // The sign-in page has the button.
    let mut browser = Browser::default();
    let login = browser.get(&alpha.url("/login")).await;
    assert!(
        login.body.contains("Sign in with Corp ID"),
        "{}",
        login.body
    );
    assert!(login.body.contains("id=\"password\""));

    let back = browser
        .sign_in_at_provider(&alpha.url("/auth/oidc?return=/notifications"), "sub-alice")
        .await;
    assert_eq!(back.status, StatusCode::OK, "{back:?}");
    assert!(
        back.body.contains("so your account is `alice2`"),
        "{}",
        back.body
    );
    assert!(
        back.body.contains("href=\"/notifications\""),
        "{}",
        back.body
    );
    let me = signed_in_as(&alpha, &mut browser).await.expect("signed in");
    assert!(me.contains("alice2"), "{me}");
    assert_eq!(role_of(&alpha, "alice2").await, Role::Moderator);
    assert!(member_of(&alpha, "alice2", "rust").await);
    // A moderator may suspend and reinstate (here the other alice).
    let moderator = alpha.local("alice2").await;
    for on in [true, false] {
        let by = Suspender::Admin(&moderator);
        assert!(suspension::set_suspended(&alpha.data(), by, &owner.id, on)
            .await
            .unwrap());
    }
    // And on the people page, which is all of the administration they see.
    let people = browser.get(&alpha.url("/admin")).await;
    assert_eq!(people.status, StatusCode::OK, "{}", people.body);
    assert!(people.body.contains("Moderator"));
    assert!(!people.body.contains("href=\"/admin/instance\""));
    assert!(!people.body.contains("new-user-heading"));
    let csrf = people.body.split("name=\"csrf\" value=\"").nth(1).unwrap();
    let csrf = csrf[..csrf.find('"').unwrap()].to_string();
    for action in ["suspend", "unsuspend"] {
        let url = alpha.url(&format!("/admin/users/{}/{action}", owner.id));
        let done = browser.send(&url, Some(&[("csrf", csrf.as_str())])).await;
        assert_eq!(
            done.status,
            StatusCode::SEE_OTHER,
            "{action}: {}",
            done.body
        );
    }
    let instance_page = browser.send(&alpha.url("/admin/instance"), None).await;
    assert_eq!(instance_page.status, StatusCode::FORBIDDEN);
    // No password signs in to an account the provider made.
    let user = outloud::service::accounts::user_of(&alpha.context.db, &alpha.local("alice2").await)
        .await
        .unwrap();
    assert_eq!(
        user.password_hash,
        outloud::service::oidc::provision::NO_PASSWORD
    );

    // Again, in another browser, after the provider moved alice to ops.
    provider.set("accounts.sub-alice.groups", json!(["staff", "ops"]));
    let mut second = Browser::default();
    let back = second
        .sign_in_at_provider(&alpha.url("/auth/oidc"), "sub-alice")
        .await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{back:?}");
    assert!(back.location.as_deref().unwrap().ends_with("/home"));
    assert!(signed_in_as(&alpha, &mut second)
        .await
        .unwrap()
        .contains("alice2"));
    assert_eq!(role_of(&alpha, "alice2").await, Role::Admin);
    assert!(!member_of(&alpha, "alice2", "rust").await);
    assert!(alpha
        .context
        .db
        .run(|conn| Ok(outloud::db::actor::Actor::local_by_name(conn, "alice3")?))
        .await
        .unwrap()
        .is_none());

    // bob's verified e-mail is bobby's: linked, not created.
    let mut third = Browser::default();
    let back = third
        .sign_in_at_provider(&alpha.url("/auth/oidc"), "sub-bob")
        .await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{back:?}");
    assert!(signed_in_as(&alpha, &mut third)
        .await
        .unwrap()
        .contains("bobby"));
    assert!(alpha
        .context
        .db
        .run(|conn| Ok(outloud::db::actor::Actor::local_by_name(
            conn,
            "bob_builder"
        )?))
        .await
        .unwrap()
        .is_none());

    // A suspended account cannot sign in through the provider either.
    let bobby = alpha.local("bobby").await;
    suspension::set_suspended(&alpha.data(), Suspender::Operator, &bobby.id, true)
        .await
        .unwrap();
    let refused = Browser::default()
        .sign_in_at_provider(&alpha.url("/auth/oidc"), "sub-bob")
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{refused:?}");
    assert!(refused.body.contains("suspended"), "{}", refused.body);
    assert!(signed_in_as(&alpha, &mut third).await.is_none());

    // Out of staff: refused, and both of alice's browsers are signed out.
    provider.set("accounts.sub-alice.groups", json!(["ops"]));
    let mut fourth = Browser::default();
    let refused = fourth
        .sign_in_at_provider(&alpha.url("/auth/oidc"), "sub-alice")
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN, "{refused:?}");
    assert!(
        refused.body.contains("not in a group allowed"),
        "{}",
        refused.body
    );
    assert!(fourth.cookie(&alpha.url("/"), "outloud_session").is_none());
    assert!(signed_in_as(&alpha, &mut browser).await.is_none());
    assert!(signed_in_as(&alpha, &mut second).await.is_none());
}

/// A wrong, replayed or other browser's `state`, the provider's `error`,
/// an ID token forged, expired, for another client or with another nonce: each a 4xx HTML page saying what
/// happened, and nobody signed in. `return` to another site is ignored.
async fn refusals_are_clear_pages(backend: Backend) {
    let accounts = json!({ "sub-carol": account("carol", "carol@corp.example", &["staff"]) });
    let (alpha, mut provider) = instance_and_provider(backend, accounts, |_| {}).await;
    let mut browser = Browser::default();

    // Without [oidc]: no button, no route.
    let beta = TestInstance::spawn("beta", backend).await;
    let login = browser.get(&beta.url("/login")).await;
    assert!(!login.body.contains("oidc-sign-in"));
    let none = browser.send(&beta.url("/auth/oidc"), None).await;
    assert_eq!(none.status, StatusCode::NOT_FOUND);

    let bogus = browser
        .send(&alpha.url("/auth/oidc/callback?state=made-up&code=x"), None)
        .await;
    assert_eq!(bogus.status, StatusCode::BAD_REQUEST);
    assert!(
        bogus.body.contains("unknown or was already used"),
        "{}",
        bogus.body
    );

    let denied = browser
        .send(
            &alpha.url(
                "/auth/oidc/callback?error=access_denied&error_description=%3Cb%3Eno%3C%2Fb%3E",
            ),
            None,
        )
        .await;
    assert_eq!(denied.status, StatusCode::BAD_REQUEST);
    assert!(
        denied.body.contains("did not sign you in: &#60;b&#62;no"),
        "{}",
        denied.body
    );

    // Another site as `return`: home instead.
    let back = browser
        .sign_in_at_provider(
            &alpha.url("/auth/oidc?return=https://evil.example/x"),
            "sub-carol",
        )
        .await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{back:?}");
    assert_eq!(back.location.as_deref(), Some(alpha.url("/home").as_str()));
    // The same callback again: the state was used.
    let replay = browser.send(&back.url, None).await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST, "{replay:?}");

    // A callback pushed into a browser that did not start the sign-in.
    let mut starter = Browser::default();
    let start = starter.send(&alpha.url("/auth/oidc"), None).await;
    let authorize = start.location.unwrap();
    let state = reqwest::Url::parse(&authorize)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "state")
        .map(|(_, v)| v.to_string())
        .unwrap();
    let mut victim = Browser::default();
    let pushed = victim
        .send(
            &alpha.url(&format!("/auth/oidc/callback?state={state}&code=x")),
            None,
        )
        .await;
    assert_eq!(pushed.status, StatusCode::BAD_REQUEST);
    assert!(
        pushed.body.contains("started in another browser"),
        "{}",
        pushed.body
    );

    for mode in ["forged", "expired", "audience", "nonce"] {
        provider.set("tamper", json!(mode));
        let mut browser = Browser::default();
        let refused = browser
            .sign_in_at_provider(&alpha.url("/auth/oidc"), "sub-carol")
            .await;
        assert_eq!(
            refused.status,
            StatusCode::UNAUTHORIZED,
            "{mode}: {refused:?}"
        );
        assert!(
            refused.body.contains("could not be verified"),
            "{}",
            refused.body
        );
        assert!(browser.cookie(&alpha.url("/"), "outloud_session").is_none());
    }
    provider.set("tamper", json!("none"));
    let mut browser = Browser::default();
    let fine = browser
        .sign_in_at_provider(&alpha.url("/auth/oidc"), "sub-carol")
        .await;
    assert_eq!(fine.status, StatusCode::SEE_OTHER, "untampered: {fine:?}");
}

/// `oidc.only`: no password form, and every password door is 403.
async fn only_mode_refuses_passwords(backend: Backend) {
    let accounts = json!({ "sub-dan": account("dan", "dan@corp.example", &["staff"]) });
    let (alpha, _provider) =
        instance_and_provider(backend, accounts, |config| config.oidc.only = true).await;
    alpha.create_user("erin").await;
    let mut browser = Browser::default();
    let login = browser.get(&alpha.url("/login")).await;
    assert!(login.body.contains("Sign in with Corp ID"));
    assert!(!login.body.contains("id=\"password\""), "{}", login.body);
    let csrf = browser.cookie(&alpha.url("/"), "outloud_csrf").unwrap();
    let refused = browser
        .send(
            &alpha.url("/login"),
            Some(&[
                ("csrf", csrf.as_str()),
                ("username", "erin"),
                ("password", "password for tests"),
            ]),
        )
        .await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert!(
        refused.body.contains("Password sign-in is off"),
        "{}",
        refused.body
    );

    let app = register_app(&alpha).await;
    let grant = alpha
        .client
        .post(alpha.url("/oauth/token"))
        .form(&[
            ("grant_type", "password"),
            ("client_id", app["client_id"].as_str().unwrap()),
            ("client_secret", app["client_secret"].as_str().unwrap()),
            ("username", "erin"),
            ("password", "password for tests"),
            ("scope", "read"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(grant.status(), StatusCode::FORBIDDEN);
    let body: Value = grant.json().await.unwrap();
    assert!(body["error_description"]
        .as_str()
        .unwrap()
        .contains("Password sign-in is off"));

    // The provider still signs people in.
    let back = browser
        .sign_in_at_provider(&alpha.url("/auth/oidc"), "sub-dan")
        .await;
    assert_eq!(back.status, StatusCode::SEE_OTHER, "{back:?}");
}

/// Headless Chromium clicks "Sign in with Corp ID" on the sign-in page,
/// signs in at the provider and lands at home, signed in (the sign-in
/// page's screenshot is docs/screenshots/sign-in-oidc.png).
async fn a_real_browser_signs_in_with_the_button(backend: Backend) {
    let accounts = json!({ "sub-hana": account("hana", "hana@corp.example", &["staff"]) });
    let (alpha, _provider) = instance_and_provider(backend, accounts, |_| {}).await;
    let label = format!("oidc-{backend:?}").to_lowercase();
    let Some(b) = crate::browser::Browser::start(&label).await else {
        return;
    };
    b.visit(&alpha.url("/login"), "sign-in").await;
    assert_eq!(b.text("#oidc-sign-in").await, "Sign in with Corp ID");
    b.click("#oidc-sign-in").await;
    // The provider's own page (not Outloud's: no console check).
    b.fill("input[name=login]", "sub-hana").await;
    b.click("form button").await;
    let url = b.current_url().await;
    assert!(url.ends_with("/home"), "landed at {url}");
    assert!(b.source().await.contains("hana"));
    b.assert_console_clean().await;
    b.close().await;
}
