//! Federation with a foreign implementation: `tests/peer/peer.mjs`, a small
//! peer built on Fedify (an ActivityPub framework not written by this
//! project), run as a child process. Two Outloud instances can agree with
//! each other on something wrong; Fedify's WebFinger client, HTTP-signature
//! signer and verifier and JSON-LD parser give a second opinion.
//!
//! The peer's npm dependencies are installed once into `target/peer` (under
//! a file lock, skipped while the lockfile is unchanged), so only the first
//! run needs the registry. Node.js 20 or newer and npm must be installed.

use crate::harness::{both_backends, eventually, http_client, settled, TestInstance};
use outloud::{
    config::Backend,
    db::{
        follow::FollowState,
        post::{PostKind, Visibility},
    },
    service::posts::{self, NewPost},
};
use serde_json::{json, Value};
use std::{
    io::{BufRead, BufReader, Read},
    path::{Path, PathBuf},
    process::{Child, ChildStdout, Command, Stdio},
    sync::OnceLock,
    time::Duration,
};

both_backends!(
    discovery_and_follows_both_ways,
    narrations_between_outloud_and_the_peer,
    the_peers_rfc9421_signatures_are_accepted,
    reports_and_blocks_with_the_peer,
);

const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

// ---- the peer process ----------------------------------------------------

/// Node.js major version the peer needs (Fedify 1.10 declares 22; on 20 the
/// peer polyfills the one method it lacks).
const MIN_NODE_MAJOR: u32 = 20;

fn install_hint() -> String {
    format!(
        "the foreign-peer tests (tests/integration/foreign_peer.rs) need Node.js \
         {MIN_NODE_MAJOR} or newer and npm on PATH: install them (Debian: \
         `apt-get install -y nodejs npm`, from a repository with Node.js \
         {MIN_NODE_MAJOR}+)"
    )
}

/// `target/` of this build: the test binary is `target/debug/deps/…`.
fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    exe.ancestors()
        .nth(3)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"))
}

/// Checks node and npm, then installs the peer into `target/peer` unless the
/// same lockfile was installed there already. Once per process; a file lock
/// keeps concurrent test processes (nextest) from installing at once.
fn installed_peer() -> Result<&'static Path, &'static str> {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    match DIR.get_or_init(install) {
        Ok(dir) => Ok(dir),
        Err(e) => Err(e),
    }
}

fn install() -> Result<PathBuf, String> {
    let dir = install_npm_project("peer", "peer.mjs", &install_hint())?;
    std::fs::create_dir_all(dir.join("logs")).map_err(|e| e.to_string())?;
    Ok(dir)
}

/// Installs `tests/{name}` (its package.json and package-lock.json, with
/// `npm ci`) into `target/{name}` unless the same lockfile was installed
/// there for the same node already, and copies `program` beside it on
/// every call (its imports resolve from the node_modules there). A file
/// lock keeps concurrent test processes (nextest) from installing at once.
/// `hint` says what to install when node or npm is missing. Shared with
/// the other tests that run an npm package (oidc.rs).
pub(crate) fn install_npm_project(
    name: &str,
    program: &str,
    hint: &str,
) -> Result<PathBuf, String> {
    let node = Command::new("node")
        .arg("--version")
        .output()
        .map_err(|e| format!("{hint} (running `node --version`: {e})"))?;
    let version = String::from_utf8_lossy(&node.stdout).trim().to_string();
    let major: u32 = version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse().ok())
        .unwrap_or(0);
    if !node.status.success() || major < MIN_NODE_MAJOR {
        return Err(format!("{hint} (found node {version:?})"));
    }
    Command::new("npm")
        .arg("--version")
        .output()
        .map_err(|e| format!("{hint} (running `npm --version`: {e})"))?;

    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(name);
    let dir = target_dir().join(name);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let lock = std::fs::File::create(target_dir().join(format!("{name}.lock")))
        .map_err(|e| e.to_string())?;
    lock.lock()
        .map_err(|e| format!("locking target/{name}.lock: {e}"))?;

    let read = |file: &str| {
        std::fs::read(source.join(file)).map_err(|e| format!("reading tests/{name}/{file}: {e}"))
    };
    let (manifest, lockfile, code) = (
        read("package.json")?,
        read("package-lock.json")?,
        read(program)?,
    );
    // What is installed: the lockfile and the node version it was built for.
    let mut stamp = lockfile.clone();
    stamp.extend_from_slice(version.as_bytes());
    let marker = dir.join(".installed");
    if std::fs::read(&marker).ok().as_deref() != Some(stamp.as_slice()) {
        let _ = std::fs::remove_file(&marker);
        std::fs::write(dir.join("package.json"), &manifest).map_err(|e| e.to_string())?;
        std::fs::write(dir.join("package-lock.json"), &lockfile).map_err(|e| e.to_string())?;
        eprintln!("installing the npm dependencies of tests/{name} into {dir:?}");
        let out = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--prefer-offline"])
            .current_dir(&dir)
            .output()
            .map_err(|e| format!("running `npm ci`: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "`npm ci` in {dir:?} failed (the first run needs the npm registry):\n{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        std::fs::write(&marker, &stamp).map_err(|e| e.to_string())?;
    }
    if std::fs::read(dir.join(program)).ok().as_deref() != Some(code.as_slice()) {
        std::fs::write(dir.join(program), &code).map_err(|e| e.to_string())?;
    }
    drop(lock);
    Ok(dir)
}

/// A running peer, killed on drop. Its one actor is `carol`. Other test
/// modules (media_federation) drive it too.
pub(crate) struct Peer {
    child: Child,
    _stdout: BufReader<ChildStdout>,
    /// `peer.localhost:PORT`
    domain: String,
    log: PathBuf,
    client: reqwest::Client,
}

impl Peer {
    pub(crate) async fn start(label: &str) -> Peer {
        let dir = tokio::task::spawn_blocking(installed_peer)
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("{e}"));
        tokio::task::spawn_blocking({
            let dir = dir.to_path_buf();
            let label = label.to_string();
            move || Peer::spawn(&dir, &label)
        })
        .await
        .unwrap()
    }

    fn spawn(dir: &Path, label: &str) -> Peer {
        let log = dir.join("logs").join(format!(
            "{label}-{}-{}.log",
            std::process::id(),
            uuid::Uuid::new_v4().simple()
        ));
        let stderr = std::fs::File::create(&log).unwrap();
        let mut child = Command::new("node")
            .arg("peer.mjs")
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|e| panic!("{} (starting the peer: {e})", install_hint()));
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        // The peer prints `PEER_READY port=N` once it listens.
        let (tx, rx) = std::sync::mpsc::channel();
        let reader = std::thread::spawn(move || {
            let mut line = String::new();
            let _ = stdout.read_line(&mut line);
            let _ = tx.send(line);
            stdout
        });
        let line = rx.recv_timeout(Duration::from_secs(90)).unwrap_or_default();
        let port = line
            .trim()
            .strip_prefix("PEER_READY port=")
            .and_then(|p| p.parse::<u16>().ok());
        let Some(port) = port else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the peer did not start (stdout: {line:?}); its log:\n{}",
                read_log(&log)
            );
        };
        let stdout = reader.join().unwrap();
        Peer {
            child,
            _stdout: stdout,
            domain: format!("peer.localhost:{port}"),
            log,
            client: http_client(),
        }
    }

    pub(crate) fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.domain)
    }

    /// carol's actor id.
    pub(crate) fn carol(&self) -> String {
        self.url("/users/carol")
    }

    /// `carol@peer.localhost:PORT`
    pub(crate) fn carol_handle(&self) -> String {
        format!("carol@{}", self.domain)
    }

    /// Makes carol do something (`POST /control/{action}`); its answer.
    pub(crate) async fn control(&self, action: &str, body: Value) -> Value {
        let res = self
            .client
            .post(self.url(&format!("/control/{action}")))
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = res.status();
        let answer: Value = res.json().await.unwrap_or(Value::Null);
        assert!(
            status.is_success(),
            "peer control {action} answered {status}: {answer:#}\npeer log:\n{}",
            read_log(&self.log)
        );
        answer
    }

    /// Everything carol's inboxes accepted, as Fedify parsed it.
    pub(crate) async fn received(&self) -> Vec<Value> {
        let all: Value = self
            .client
            .get(self.url("/received"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            all["errors"],
            json!([]),
            "the peer's inbox listeners failed; log:\n{}",
            read_log(&self.log)
        );
        all["received"].as_array().cloned().unwrap_or_default()
    }

    /// The first received activity of `kind` that `matches`, waiting a little
    /// (delivery is drained by the test, but the peer answers before its log
    /// is read).
    pub(crate) async fn received_one(&self, kind: &str, matches: impl Fn(&Value) -> bool) -> Value {
        let found = tokio::time::timeout(Duration::from_secs(60), async {
            loop {
                let all = self.received().await;
                if let Some(hit) = all.iter().find(|a| a["type"] == kind && matches(a)) {
                    return hit.clone();
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        })
        .await;
        match found {
            Ok(hit) => hit,
            Err(_) => panic!(
                "the peer received no matching {kind}; it received:\n{:#}\npeer log:\n{}",
                Value::Array(self.received().await),
                read_log(&self.log)
            ),
        }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn read_log(path: &Path) -> String {
    let mut text = String::new();
    if let Ok(mut f) = std::fs::File::open(path) {
        let _ = f.read_to_string(&mut text);
    }
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(60)..].join("\n")
}

// ---- scenarios -----------------------------------------------------------

/// alpha (Outloud) with alice, and the peer with carol.
pub(crate) async fn alpha_and_peer(backend: Backend, label: &str) -> (TestInstance, Peer) {
    let (alpha, peer) = tokio::join!(TestInstance::spawn("alpha", backend), Peer::start(label));
    alpha.create_user("alice").await;
    (alpha, peer)
}

/// carol follows alice; Outloud accepts and the peer gets the Accept.
pub(crate) async fn carol_follows_alice(alpha: &TestInstance, peer: &Peer) -> Value {
    let follow = peer
        .control("follow", json!({ "target": alpha.handle_of("alice") }))
        .await;
    alpha.drain_deliveries().await;
    let follow_id = follow["id"].as_str().unwrap().to_string();
    let accept = peer
        .received_one("Accept", |a| a["follow"]["id"] == follow_id.as_str())
        .await;
    assert_eq!(
        alpha
            .follow_state(&peer.carol_handle(), &alpha.handle_of("alice"))
            .await,
        Some(FollowState::Accepted)
    );
    accept
}

async fn discovery_and_follows_both_ways(backend: Backend) {
    let (alpha, peer) = alpha_and_peer(backend, "discovery").await;
    let alice_url = alpha.actor_url("alice");

    // Outloud finds carol through WebFinger and reads her Fedify actor.
    let carol = alpha.resolve(&peer.carol_handle()).await;
    assert_eq!(carol.ap_id.as_str(), peer.carol());
    assert_eq!(carol.username, "carol");
    assert!(!carol.local);
    assert_eq!(carol.inbox_url.as_str(), peer.url("/users/carol/inbox"));
    assert_eq!(
        carol.shared_inbox_url.as_deref(),
        Some(peer.url("/inbox").as_str())
    );
    assert!(carol.public_key_pem.contains("BEGIN PUBLIC KEY"));

    // Fedify finds alice the same way, and reads her actor and key.
    let found = peer
        .control("resolve", json!({ "handle": alpha.handle_of("alice") }))
        .await;
    assert_eq!(
        found["webfinger"]["subject"],
        format!("acct:{}", alpha.handle_of("alice"))
    );
    let actor = &found["actor"];
    assert_eq!(actor["type"], "Person", "{found:#}");
    assert_eq!(actor["id"], alice_url);
    assert_eq!(actor["preferredUsername"], "alice");
    assert_eq!(actor["inbox"], alpha.url("/users/alice/inbox"));
    assert_eq!(actor["sharedInbox"], alpha.url("/inbox"));
    assert_eq!(actor["followers"], alpha.url("/users/alice/followers"));
    assert_eq!(actor["publicKeyId"], format!("{alice_url}#main-key"));
    assert_eq!(actor["publicKeyOwner"], alice_url);

    // Fedify's inbox refuses an unsigned activity: what the peer accepts
    // below was signature-checked by the library.
    let res = peer
        .client
        .post(peer.url("/inbox"))
        .header("Content-Type", "application/activity+json")
        .body(
            json!({
                "@context": "https://www.w3.org/ns/activitystreams",
                "id": alpha.url("/activities/forged"),
                "type": "Like",
                "actor": alice_url,
                "object": peer.carol(),
            })
            .to_string(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);

    // carol follows alice: Outloud accepts, with an Accept Fedify verifies
    // (signed by alice's key) and understands (its object is carol's Follow).
    let accept = carol_follows_alice(&alpha, &peer).await;
    assert_eq!(accept["actor"], alice_url);
    assert_eq!(accept["signedBy"], format!("{alice_url}#main-key"));
    assert_eq!(accept["follow"]["actor"], peer.carol());
    assert_eq!(accept["follow"]["object"], alice_url);
    assert_eq!(alpha.follower_ids("alice").await, vec![peer.carol()]);
    let followers: Value = alpha
        .get_ap("/users/alice/followers")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(followers["totalItems"], 1);

    // alice follows carol: Fedify receives the Follow (signature verified)
    // and answers Accept, which Outloud verifies and records.
    alpha.follow("alice", &peer.carol_handle()).await;
    alpha.drain_deliveries().await;
    let follow = peer
        .received_one("Follow", |a| a["actor"] == alice_url.as_str())
        .await;
    assert_eq!(follow["objectId"], peer.carol());
    assert_eq!(follow["signedBy"], format!("{alice_url}#main-key"));
    settled(&[&alpha], || async {
        (alpha
            .follow_state(&alpha.handle_of("alice"), &peer.carol_handle())
            .await
            == Some(FollowState::Accepted))
        .then_some(())
    })
    .await;

    // alice unfollows: the peer gets an Undo of that Follow.
    alpha.unfollow("alice", &peer.carol_handle()).await;
    alpha.drain_deliveries().await;
    let follow_id = follow["id"].as_str().unwrap().to_string();
    let undo = peer
        .received_one("Undo", |a| a["objectId"] == follow_id.as_str())
        .await;
    assert_eq!(undo["signedBy"], format!("{alice_url}#main-key"));
}

async fn narrations_between_outloud_and_the_peer(backend: Backend) {
    let (alpha, peer) = alpha_and_peer(backend, "narrations").await;
    let alice_url = alpha.actor_url("alice");
    let alice_followers = alpha.url("/users/alice/followers");
    carol_follows_alice(&alpha, &peer).await;

    // A public Note with a hashtag and a mention of carol.
    let note = alpha
        .publish(
            "alice",
            NewPost::note(&format!(
                "Shipping the #rust migration today, thanks @{}!",
                peer.carol_handle()
            )),
        )
        .await;
    alpha.drain_deliveries().await;
    let create = peer
        .received_one("Create", |a| a["object"]["id"] == note.ap_id.as_str())
        .await;
    assert_eq!(create["actor"], alice_url);
    assert_eq!(create["signedBy"], format!("{alice_url}#main-key"));
    let object = &create["object"];
    assert_eq!(object["type"], "Note");
    assert_eq!(object["attributedTo"], alice_url);
    assert_eq!(object["to"], json!([PUBLIC]), "{object:#}");
    assert!(
        object["cc"]
            .as_array()
            .unwrap()
            .contains(&json!(alice_followers)),
        "{object:#}"
    );
    let content = object["content"].as_str().unwrap();
    assert!(content.contains("Shipping the"), "{content}");
    assert!(object["published"].is_string(), "{object:#}");
    let tags = object["tags"].as_array().unwrap();
    assert!(
        tags.iter()
            .any(|t| t["type"] == "Hashtag" && t["name"] == "#rust"),
        "{tags:#?}"
    );
    assert!(
        tags.iter()
            .any(|t| t["type"] == "Mention" && t["href"] == peer.carol()),
        "{tags:#?}"
    );

    // An Article: Fedify reads its title.
    let article = alpha
        .publish(
            "alice",
            NewPost {
                kind: PostKind::Article,
                title: Some("Our migration, part 1".into()),
                ..NewPost::note("# Why\n\nBecause **types**.")
            },
        )
        .await;
    alpha.drain_deliveries().await;
    let create = peer
        .received_one("Create", |a| a["object"]["id"] == article.ap_id.as_str())
        .await;
    assert_eq!(create["object"]["type"], "Article");
    assert_eq!(create["object"]["name"], "Our migration, part 1");
    assert_eq!(create["object"]["attributedTo"], alice_url);
    assert!(create["object"]["content"]
        .as_str()
        .unwrap()
        .contains("<strong>types</strong>"));

    // A followers-only post reaches carol because she follows alice; Fedify
    // may fetch it signed as carol, not unsigned.
    let private = alpha
        .publish(
            "alice",
            NewPost {
                visibility: Visibility::Followers,
                ..NewPost::note("Only for the people who follow me")
            },
        )
        .await;
    alpha.drain_deliveries().await;
    let create = peer
        .received_one("Create", |a| a["object"]["id"] == private.ap_id.as_str())
        .await;
    assert_eq!(create["object"]["to"], json!([alice_followers]));
    assert!(!create["object"]["cc"]
        .as_array()
        .unwrap()
        .contains(&json!(PUBLIC)));
    let signed = peer
        .control(
            "fetch",
            json!({ "url": private.ap_id.as_str(), "signed": true }),
        )
        .await;
    assert_eq!(signed["ok"], true, "{signed:#}");
    assert_eq!(
        signed["object"]["content"], create["object"]["content"],
        "{signed:#}"
    );
    let unsigned = peer
        .control(
            "fetch",
            json!({ "url": private.ap_id.as_str(), "signed": false }),
        )
        .await;
    assert_eq!(unsigned["ok"], false, "{unsigned:#}");
    assert!(
        unsigned["error"].as_str().unwrap().contains("404"),
        "{unsigned:#}"
    );
    // The public note, unsigned, is fine.
    let public = peer
        .control(
            "fetch",
            json!({ "url": note.ap_id.as_str(), "signed": false }),
        )
        .await;
    assert_eq!(public["ok"], true, "{public:#}");

    // carol writes to alice: a public Note mentioning her, and a reply to
    // alice's note. Outloud verifies Fedify's signature and stores both.
    let mention = peer
        .control(
            "post",
            json!({
                "content": format!(
                    "<p>Hello <a href=\"{alice_url}\" class=\"mention\">@alice</a>, from Fedify</p>"
                ),
                "cc": [alice_url],
                "mentions": [{ "href": alice_url, "name": format!("@{}", alpha.handle_of("alice")) }],
                "recipients": [alice_url],
            }),
        )
        .await;
    let mention_id = mention["id"].as_str().unwrap().to_string();
    let stored = eventually(Duration::from_secs(60), || async {
        alpha.stored_post(&mention_id).await
    })
    .await;
    assert!(stored.content.contains("from Fedify"), "{}", stored.content);
    assert_eq!(stored.visibility(), Visibility::Public);
    assert_eq!(stored.in_reply_to, None);

    let reply = peer
        .control(
            "post",
            json!({
                "content": "<p>Congratulations on the migration!</p>",
                "inReplyTo": note.ap_id.as_str(),
                "cc": [alice_url],
                "mentions": [{ "href": alice_url, "name": format!("@{}", alpha.handle_of("alice")) }],
                "recipients": [alice_url],
            }),
        )
        .await;
    let reply_id = reply["id"].as_str().unwrap().to_string();
    let stored = eventually(Duration::from_secs(60), || async {
        alpha.stored_post(&reply_id).await
    })
    .await;
    assert_eq!(stored.in_reply_to.as_deref(), Some(note.ap_id.as_str()));
    assert_eq!(stored.thread.as_deref(), Some(note.ap_id.as_str()));
    assert_eq!(stored.kind(), PostKind::Note);
    let thread = posts::replies(&alpha.data(), None, &note).await.unwrap();
    assert_eq!(thread.len(), 1);

    // carol likes alice's note, then takes it back.
    let like = peer
        .control(
            "like",
            json!({ "object": note.ap_id.as_str(), "recipient": alice_url }),
        )
        .await;
    let likes = || async {
        posts::reaction_counts(&alpha.data(), &note)
            .await
            .unwrap()
            .0
    };
    eventually(Duration::from_secs(60), || async {
        (likes().await == 1).then_some(())
    })
    .await;
    peer.control(
        "undo",
        json!({ "activity": like["id"], "recipient": alice_url }),
    )
    .await;
    eventually(Duration::from_secs(60), || async {
        (likes().await == 0).then_some(())
    })
    .await;
}

/// Fedify signs RFC 9421 first and falls back to draft-cavage only when
/// that gets a 4xx ("double knocking"): every signed request it sent to
/// Outloud must have been accepted at the first, RFC 9421, knock, for an
/// inbox POST and a signed GET alike. Outloud's own (draft-cavage) signed
/// fetches of the peer keep working.
async fn the_peers_rfc9421_signatures_are_accepted(backend: Backend) {
    let (alpha, peer) = tokio::join!(
        TestInstance::spawn_with("alpha", backend, |c| c.federation.signed_fetch = true),
        Peer::start("rfc9421")
    );
    alpha.create_user("alice").await;
    let carol = alpha.resolve(&peer.carol_handle()).await;
    assert_eq!(carol.ap_id.as_str(), peer.carol());
    carol_follows_alice(&alpha, &peer).await;
    let post = alpha
        .publish("alice", NewPost::note("read with a signature"))
        .await;
    let fetched = peer
        .control(
            "fetch",
            json!({ "url": post.ap_id.as_str(), "signed": true }),
        )
        .await;
    assert_eq!(fetched["ok"], true, "{fetched:#}");

    let knocks: Vec<Value> = peer
        .client
        .get(peer.url("/knocks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let to_alpha: Vec<&Value> = knocks
        .iter()
        .filter(|k| {
            k["url"]
                .as_str()
                .is_some_and(|u| u.starts_with(&alpha.url("/")))
        })
        .collect();
    for method in ["POST", "GET"] {
        assert!(
            to_alpha.iter().any(|k| k["method"] == method),
            "the peer sent no signed {method} to alpha: {knocks:#?}"
        );
    }
    for knock in &to_alpha {
        assert_eq!(knock["scheme"], "rfc9421", "{knocks:#?}");
        assert!(
            knock["status"].as_u64().is_some_and(|s| s < 300),
            "refused at the first knock: {knocks:#?}"
        );
    }
}

/// Reports and blocks both ways with Fedify: carol's `Flag` is stored and
/// alpha's admin told; a forwarded report reaches carol's server as `Flag`;
/// alice's block reaches it as `Block`; carol's `Block` (and its `Undo`)
/// is honoured.
async fn reports_and_blocks_with_the_peer(backend: Backend) {
    use crate::{api_client::Api, reports::create_admin};
    let (alpha, peer) = alpha_and_peer(backend, "reports").await;
    create_admin(&alpha, "ana").await;
    alpha.create_user("amy").await;
    let alice_url = alpha.actor_url("alice");
    let amy_url = alpha.actor_url("amy");
    let alice = Api::for_user(&alpha, "alice", "read write follow").await;
    let amy = Api::for_user(&alpha, "amy", "read write follow").await;
    let ana = Api::for_user(&alpha, "ana", "read admin:read admin:write").await;

    // carol reports alice: stored, and alpha's admin is told.
    let flag = peer
        .control(
            "flag",
            json!({ "object": [alice_url], "recipient": alice_url, "content": "rude" }),
        )
        .await;
    assert!(flag["id"].is_string());
    let reports = eventually(Duration::from_secs(60), || async {
        let list = ana.get("/api/v1/admin/reports").await.ok();
        (!list.as_array().unwrap().is_empty()).then_some(list)
    })
    .await;
    assert_eq!(reports[0]["target_account"]["username"], "alice");
    assert!(reports[0]["account"]["account"]["url"].is_string());
    assert_eq!(reports[0]["comment"], "rude");
    let notes = ana
        .get("/api/v1/notifications?types[]=admin.report")
        .await
        .ok();
    assert_eq!(notes[0]["report"]["id"], reports[0]["id"], "{notes}");

    // alice reports a note of carol's and forwards it: the peer gets a Flag.
    let note = peer
        .control(
            "post",
            json!({ "content": "<p>spam spam</p>", "recipients": [alice_url], "cc": [alice_url] }),
        )
        .await;
    let note_id = note["id"].as_str().unwrap().to_string();
    let stored = eventually(Duration::from_secs(60), || async {
        alpha.stored_post(&note_id).await
    })
    .await;
    let carol = alpha.resolve(&peer.carol_handle()).await;
    alice
        .post(
            "/api/v1/reports",
            json!({ "account_id": carol.id, "status_ids": [stored.id], "comment": "spam", "forward": true }),
        )
        .await
        .ok();
    alpha.drain_deliveries().await;
    let received = peer
        .received_one("Flag", |a| a["objectId"] == peer.carol().as_str())
        .await;
    assert_eq!(
        received["actor"],
        alpha.context.instance_actor.ap_id.as_str()
    );

    // alice blocks carol: the peer gets a Block.
    alice
        .post(&format!("/api/v1/accounts/{}/block", carol.id), json!({}))
        .await
        .ok();
    alpha.drain_deliveries().await;
    let block = peer
        .received_one("Block", |a| a["objectId"] == peer.carol().as_str())
        .await;
    assert_eq!(block["actor"], alice_url);

    // carol follows amy, then blocks her: honoured.
    let follow = peer
        .control("follow", json!({ "target": alpha.handle_of("amy") }))
        .await;
    alpha.drain_deliveries().await;
    let follow_id = follow["id"].as_str().unwrap().to_string();
    peer.received_one("Accept", |a| a["follow"]["id"] == follow_id.as_str())
        .await;
    let block = peer.control("block", json!({ "target": amy_url })).await;
    let rel = eventually(Duration::from_secs(60), || async {
        let list = amy
            .get(&format!("/api/v1/accounts/relationships?id[]={}", carol.id))
            .await
            .ok();
        (list[0]["blocked_by"] == true).then_some(list[0].clone())
    })
    .await;
    assert_eq!(rel["followed_by"], false, "{rel}");
    assert!(alpha.follower_ids("amy").await.is_empty());
    // amy may not follow carol, and her mention no longer reaches her.
    amy.post(&format!("/api/v1/accounts/{}/follow", carol.id), json!({}))
        .await
        .expect(403);
    let mention = amy
        .status(json!({ "status": format!("@{} hello?", peer.carol_handle()) }))
        .await;
    alpha.drain_deliveries().await;
    let mention_uri = mention["uri"].as_str().unwrap().to_string();
    assert!(
        !peer
            .received()
            .await
            .iter()
            .any(|a| a["objectId"] == mention_uri.as_str()),
        "the blocker received the blocked person's post"
    );
    // carol undoes the block.
    peer.control(
        "undo",
        json!({ "activity": block["id"], "recipient": amy_url }),
    )
    .await;
    eventually(Duration::from_secs(60), || async {
        let list = amy
            .get(&format!("/api/v1/accounts/relationships?id[]={}", carol.id))
            .await
            .ok();
        (list[0]["blocked_by"] == false).then_some(())
    })
    .await;
}
