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
//! This file is the support (the provider process, the browser); the web
//! scenarios are in oidc_web.rs, the Mastodon-app door and the refresh
//! grant in oidc_apps.rs.

use crate::{
    foreign_peer::install_npm_project,
    harness::{http_client, TestInstance},
};
use outloud::config::{Backend, Config};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::{
    collections::BTreeMap,
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::OnceLock,
};

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
