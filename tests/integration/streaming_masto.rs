//! masto.js's streaming client (`createStreamingAPIClient`, tests/streaming)
//! against Outloud: `update`, `notification` and `delete` arrive on the
//! user, public and hashtag streams they belong to, and nowhere else —
//! on SQLite (one process), and on PostgreSQL with the client connected to
//! a second `outloud serve` process while people post through the first.
//!
//! The npm dependencies are installed once into `target/streaming` (under
//! a file lock, skipped while the lockfile is unchanged), as
//! tests/integration/foreign_peer.rs does for tests/peer. Node.js 20 or
//! newer and npm must be installed.

use crate::{
    api_client::Api,
    harness::{both_backends, TestInstance},
    streaming_processes::{rest, two_processes},
};
use outloud::config::Backend;
use reqwest::Method;
use serde_json::{json, Value};
use std::{
    collections::BTreeMap,
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::OnceLock,
    time::Duration,
};

fn install_hint() -> &'static str {
    "the masto.js streaming tests (tests/integration/streaming_masto.rs) need Node.js 20 or \
     newer and npm on PATH (Debian: `apt-get install -y nodejs npm`)"
}

/// `target/` of this build: the test binary is `target/debug/deps/…`.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
}

/// Installs tests/streaming into `target/streaming` unless the same
/// lockfile (for the same node) was installed there already. Once per
/// process; a file lock keeps concurrent test processes apart.
fn installed() -> Result<&'static Path, &'static str> {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match DIR.get_or_init(install) {
        Ok(dir) => Ok(dir),
        Err(e) => Err(e),
    }
}

fn install() -> Result<PathBuf, String> {
    let node = Command::new("node")
        .arg("--version")
        .output()
        .map_err(|e| format!("{} (running `node --version`: {e})", install_hint()))?;
    let version = String::from_utf8_lossy(&node.stdout).trim().to_string();
    let major: u32 = version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if !node.status.success() || major < 20 {
        return Err(format!("{} (found node {version:?})", install_hint()));
    }
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/streaming");
    let dir = target_dir().join("streaming");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let lock =
        std::fs::File::create(target_dir().join("streaming.lock")).map_err(|e| e.to_string())?;
    lock.lock()
        .map_err(|e| format!("locking target/streaming.lock: {e}"))?;
    let read = |name: &str| {
        std::fs::read(source.join(name)).map_err(|e| format!("reading tests/streaming/{name}: {e}"))
    };
    let (manifest, lockfile, program) = (
        read("package.json")?,
        read("package-lock.json")?,
        read("stream.mjs")?,
    );
    let mut stamp = lockfile.clone();
    stamp.extend_from_slice(version.as_bytes());
    let marker = dir.join(".installed");
    if std::fs::read(&marker).ok().as_deref() != Some(stamp.as_slice()) {
        let _ = std::fs::remove_file(&marker);
        std::fs::write(dir.join("package.json"), &manifest).map_err(|e| e.to_string())?;
        std::fs::write(dir.join("package-lock.json"), &lockfile).map_err(|e| e.to_string())?;
        eprintln!("streaming_masto: installing masto.js into {dir:?}");
        let out = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--prefer-offline"])
            .current_dir(&dir)
            .output()
            .map_err(|e| format!("{} (running `npm ci`: {e})", install_hint()))?;
        if !out.status.success() {
            return Err(format!(
                "`npm ci` in {dir:?} failed (the first run needs the npm registry):\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        std::fs::write(&marker, &stamp).map_err(|e| e.to_string())?;
    }
    if std::fs::read(dir.join("stream.mjs")).ok().as_deref() != Some(program.as_slice()) {
        std::fs::write(dir.join("stream.mjs"), &program).map_err(|e| e.to_string())?;
    }
    drop(lock);
    Ok(dir)
}

/// The running script: its JSON lines arrive on `lines`; killed on drop.
struct Masto {
    child: Child,
    lines: tokio::sync::mpsc::UnboundedReceiver<Value>,
    /// Events by subscription, in arrival order.
    seen: BTreeMap<String, Vec<Value>>,
    stderr: PathBuf,
}

impl Drop for Masto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Masto {
    async fn start(streaming_url: &str, token: &str, tag: &str) -> Masto {
        let dir = tokio::task::spawn_blocking(installed)
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("{e}"));
        let stderr = dir.join(format!(
            "stream-{}-{}.log",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        let mut child = Command::new("node")
            .arg("stream.mjs")
            .current_dir(dir)
            .env("STREAMING_URL", streaming_url)
            .env("TOKEN", token)
            .env("TAG", tag)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("{} (starting node: {e})", install_hint()));
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let (tx, lines) = tokio::sync::mpsc::unbounded_channel();
        std::thread::spawn(move || {
            for line in stdout.lines() {
                let Ok(line) = line else { break };
                let value = serde_json::from_str(&line)
                    .unwrap_or_else(|_| json!({ "error": format!("not JSON: {line}") }));
                if tx.send(value).is_err() {
                    break;
                }
            }
        });
        Masto {
            child,
            lines,
            seen: BTreeMap::new(),
            stderr,
        }
    }

    /// Reads lines until every subscription has an event for `status_id`
    /// (an `update`); fails on an error line or after a timeout.
    async fn wait_for(&mut self, status_id: &str, within: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let done = ["user", "public", "hashtag"].iter().all(|s| {
                self.seen.get(*s).is_some_and(|events| {
                    events
                        .iter()
                        .any(|e| e["event"] == "update" && e["payload"]["id"] == status_id)
                })
            });
            if done {
                return true;
            }
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match tokio::time::timeout(left, self.lines.recv()).await {
                Err(_) => return false,
                Ok(None) => panic!(
                    "the masto.js script ended: {}",
                    std::fs::read_to_string(&self.stderr).unwrap_or_default()
                ),
                Ok(Some(line)) => {
                    if let Some(error) = line.get("error") {
                        panic!(
                            "masto.js failed: {error}\n{}",
                            std::fs::read_to_string(&self.stderr).unwrap_or_default()
                        );
                    }
                    if let Some(name) = line["subscription"].as_str() {
                        self.seen.entry(name.to_string()).or_default().push(line);
                    }
                }
            }
        }
    }

    /// `(event, status id)` of a subscription's events since `from`.
    fn summary(&self, subscription: &str, from: usize) -> Vec<(String, String)> {
        self.seen
            .get(subscription)
            .map(|events| {
                events[from.min(events.len())..]
                    .iter()
                    .map(|e| {
                        let id = match e["event"].as_str() {
                            Some("delete") => e["payload"].as_str(),
                            Some("notification") => e["payload"]["status"]["id"].as_str(),
                            _ => e["payload"]["id"].as_str(),
                        };
                        (
                            e["event"].as_str().unwrap_or_default().to_string(),
                            id.unwrap_or_default().to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    fn counts(&self) -> BTreeMap<String, usize> {
        self.seen
            .iter()
            .map(|(k, v)| (k.clone(), v.len()))
            .collect()
    }
}

/// Posts a status through the process on `port`; its id.
async fn post(port: u16, token: &str, text: &str) -> String {
    rest(
        port,
        token,
        Method::POST,
        "/api/v1/statuses",
        json!({ "status": text }),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_string()
}

/// alice, bob (who follows alice) and carol on `alpha`: their tokens, for
/// [`scenario`].
pub async fn people(alpha: &TestInstance) -> Vec<String> {
    let mut tokens = Vec::new();
    for name in ["alice", "bob", "carol"] {
        alpha.create_user(name).await;
    }
    alpha.follow("bob", &alpha.handle_of("alice")).await;
    for name in ["alice", "bob", "carol"] {
        let api = Api::for_user(alpha, name, "read write").await;
        tokens.push(api.token.unwrap());
    }
    tokens
}

/// The scenario, for people posting through `post_port` while masto.js
/// (as bob, who follows alice) reads from `streaming_url`. carol is
/// followed by nobody.
pub async fn scenario(post_port: u16, streaming_url: &str, tokens: [&str; 3]) {
    let [alice, bob, carol] = tokens;
    let mut masto = Masto::start(streaming_url, bob, "Learning").await;
    // masto.js subscribes once its socket is open; bob posts until his
    // post has come back on all three subscriptions.
    let mut ready = false;
    for _ in 0..30 {
        let warm_up = post(post_port, bob, "warming up #learning").await;
        if masto.wait_for(&warm_up, Duration::from_secs(1)).await {
            ready = true;
            break;
        }
    }
    assert!(ready, "masto.js never got bob's post: {:?}", masto.seen);
    let from = masto.counts();
    let at = |name: &str| from.get(name).copied().unwrap_or(0);

    let mention = post(post_port, alice, "@bob have a look at #learning").await;
    let unrelated = post(post_port, carol, "carol, followed by nobody").await;
    rest(
        post_port,
        alice,
        Method::DELETE,
        &format!("/api/v1/statuses/{mention}"),
        json!({}),
    )
    .await;
    let end = post(post_port, bob, "the end #learning").await;
    assert!(
        masto.wait_for(&end, Duration::from_secs(20)).await,
        "the end marker never came: {:?}",
        masto.seen
    );

    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(e, s)| (e.to_string(), s.to_string()))
            .collect()
    };
    let mut user = masto.summary("user", at("user"));
    // The mention's post and its notification: either may come first.
    if user.len() > 1 && user[0].0 == "notification" {
        user.swap(0, 1);
    }
    assert_eq!(
        user,
        pairs(&[
            ("update", &mention),
            ("notification", &mention),
            ("delete", &mention),
            ("update", &end),
        ]),
        "user stream: {:?}",
        masto.seen["user"]
    );
    let notification = masto.seen["user"]
        .iter()
        .find(|e| e["event"] == "notification")
        .unwrap();
    assert_eq!(notification["payload"]["type"], "mention");
    assert_eq!(notification["stream"], json!(["user"]));
    assert_eq!(
        masto.summary("public", at("public")),
        pairs(&[
            ("update", &mention),
            ("update", &unrelated),
            ("delete", &mention),
            ("update", &end),
        ]),
        "public stream"
    );
    assert_eq!(
        masto.summary("hashtag", at("hashtag")),
        pairs(&[("update", &mention), ("delete", &mention), ("update", &end)]),
        "hashtag stream"
    );
    let tagged = masto.seen["hashtag"].last().unwrap();
    assert_eq!(tagged["stream"], json!(["hashtag", "Learning"]));
}

/// One process (SQLite, and PostgreSQL in-process), reached at the URL
/// `/api/v1/instance` advertises.
async fn masto_streaming_client(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let tokens = people(&alpha).await;
    let instance = Api::anonymous(&alpha).get("/api/v1/instance").await.ok();
    let advertised = instance["urls"]["streaming_api"].as_str().unwrap();
    assert_eq!(advertised, format!("ws://{}", alpha.domain));
    // Node cannot resolve `*.localhost`: the same server by address.
    let port = alpha
        .domain
        .rsplit_once(':')
        .unwrap()
        .1
        .parse::<u16>()
        .unwrap();
    let url = advertised.replace(&alpha.domain, &format!("127.0.0.1:{port}"));
    scenario(port, &url, [&tokens[0], &tokens[1], &tokens[2]]).await;
}

both_backends!(masto_streaming_client);

/// Two `outloud serve` processes on one PostgreSQL: masto.js reads from
/// the second while everyone posts through the first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn masto_streaming_across_processes() {
    let Some((two, people)) = two_processes("masto_processes", &["alice", "bob", "carol"]).await
    else {
        return;
    };
    let (one, other) = two.ports;
    rest(
        one,
        &people[1].token,
        Method::POST,
        &format!("/api/v1/accounts/{}/follow", people[0].actor.id),
        json!({}),
    )
    .await;
    scenario(
        one,
        &format!("ws://127.0.0.1:{other}"),
        [&people[0].token, &people[1].token, &people[2].token],
    )
    .await;
}
