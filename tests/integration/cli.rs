//! The `outloud` binary as an operator uses it: configuration errors, admin
//! commands, and `serve` answering then stopping on SIGTERM.

use crate::harness::{both_backends, database, http_client};
use outloud::config::Backend;
use serde_json::Value;
use std::{
    io::Write,
    process::{Command, Output, Stdio},
    time::Duration,
};

both_backends!(
    create_user_then_discover_over_http,
    admin_commands_refuse_bad_input,
    migrate_is_idempotent,
    federation_policy_commands,
    create_community_command,
);

/// `outloud ARGS` with a clean environment plus `env`, feeding `stdin`.
fn outloud(args: &[&str], env: &[(&str, &str)], stdin: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_outloud"));
    cmd.args(args)
        .env_remove("OUTLOUD_CONFIG")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("OUTLOUD_")) {
        cmd.env_remove(name);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    child.wait_with_output().unwrap()
}

fn stderr_of(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// The last line of stderr: the one-line reason the command gives.
fn reason(out: &Output) -> String {
    stderr_of(out)
        .lines()
        .last()
        .unwrap_or_default()
        .to_string()
}

fn assert_fails_with(out: &Output, needle: &str) {
    assert!(!out.status.success(), "should fail: {}", stderr_of(out));
    let reason = reason(out);
    assert!(reason.starts_with("error: "), "{reason}");
    assert!(reason.contains(needle), "expected `{needle}` in `{reason}`");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

async fn create_user_then_discover_over_http(backend: Backend) {
    let db = database(backend, "cli_serve");
    let port = free_port();
    let bind = format!("127.0.0.1:{port}");
    let domain = format!("localhost:{port}");
    let env = [
        ("OUTLOUD_DATABASE__URL", db.url.as_str()),
        ("OUTLOUD_HTTP__BIND", bind.as_str()),
        ("OUTLOUD_INSTANCE__DOMAIN", domain.as_str()),
    ];
    let out = outloud(
        &["admin", "create-user", "alice", "--password-stdin"],
        &env,
        Some("a long password\n"),
    );
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("@alice@"));

    // Without --password-stdin a password is generated and shown once.
    let out = outloud(&["admin", "create-user", "bob", "--admin"], &env, None);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("password: "));

    // A token for scripts; unknown users and scopes are refused.
    let out = outloud(
        &["admin", "create-token", "alice", "--scopes", "read"],
        &env,
        None,
    );
    assert!(out.status.success(), "{}", stderr_of(&out));
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert_eq!(token.len(), 64, "{token}");
    let out = outloud(&["admin", "create-token", "nobody"], &env, None);
    assert_fails_with(&out, "no local user named `nobody`");
    let out = outloud(
        &["admin", "create-token", "alice", "--scopes", "read sudo"],
        &env,
        None,
    );
    assert_fails_with(&out, "unknown scope `sudo`");

    let mut server = Command::new(env!("CARGO_BIN_EXE_outloud"))
        .arg("serve")
        .envs(env)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let client = http_client();
    let base = format!("http://{domain}");
    let mut ready = false;
    for _ in 0..200 {
        if let Ok(res) = client.get(format!("{base}/readyz")).send().await {
            if res.status() == 200 {
                ready = true;
                break;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(ready, "serve did not become ready");

    let res = client
        .get(format!("{base}/.well-known/webfinger"))
        .query(&[("resource", format!("acct:alice@{domain}"))])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let jrd: Value = res.json().await.unwrap();
    let href = jrd["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "self")
        .unwrap()["href"]
        .as_str()
        .unwrap()
        .to_string();
    let person: Value = client
        .get(&href)
        .header("Accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(person["type"], "Person");
    let pem = person["publicKey"]["publicKeyPem"].as_str().unwrap();
    assert!(openssl::pkey::PKey::public_key_from_pem(pem.as_bytes()).is_ok());

    let me: Value = client
        .get(format!("{base}/api/v1/accounts/verify_credentials"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["username"], "alice");
    // The script's token has an application, as Mastodon clients expect.
    let app = client
        .get(format!("{base}/api/v1/apps/verify_credentials"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(app.status(), 200);
    let app: Value = app.json().await.unwrap();
    assert_eq!(app["name"], "outloud admin");

    // SIGTERM stops it gracefully and promptly, with a zero exit status.
    let pid = server.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let mut exited = None;
    for _ in 0..300 {
        if let Some(status) = server.try_wait().unwrap() {
            exited = Some(status);
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status = exited.unwrap_or_else(|| {
        let _ = server.kill();
        panic!("serve did not stop on SIGTERM")
    });
    assert!(status.success(), "exit status {status}");
}

async fn admin_commands_refuse_bad_input(backend: Backend) {
    let db = database(backend, "cli_errors");
    let env = [("OUTLOUD_DATABASE__URL", db.url.as_str())];
    let create = |name: &str, password: &str| {
        outloud(
            &["admin", "create-user", name, "--password-stdin"],
            &env,
            Some(password),
        )
    };

    assert!(create("alice", "a long password").status.success());
    assert_fails_with(&create("alice", "a long password"), "already taken");
    assert_fails_with(&create("Alice", "a long password"), "already taken");
    assert_fails_with(&create("bad name", "a long password"), "invalid name");
    assert_fails_with(
        &create("x".repeat(31).as_str(), "a long password"),
        "invalid name",
    );
    assert_fails_with(&create("carol", "short"), "password too short");

    // Unknown configuration keys, in a file or the environment.
    let dir = std::env::temp_dir().join(format!("outloud-cli-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("config.toml");
    std::fs::write(&file, "[http]\nbnid = \"127.0.0.1:1\"\n").unwrap();
    let out = outloud(&["--config", file.to_str().unwrap(), "migrate"], &env, None);
    assert_fails_with(&out, "bnid");
    let out = outloud(&["migrate"], &[("OUTLOUD_HTTP__PORTT", "1")], None);
    assert_fails_with(&out, "portt");
    let out = outloud(
        &["--config", "/nonexistent/outloud.toml", "migrate"],
        &env,
        None,
    );
    assert_fails_with(&out, "cannot read config file");

    // Bad values.
    let out = outloud(&["migrate"], &[("OUTLOUD_DATABASE__POOL_SIZE", "0")], None);
    assert_fails_with(&out, "pool_size");
    let out = outloud(
        &["migrate"],
        &[("OUTLOUD_INSTANCE__DOMAIN", "127.0.0.1:8080")],
        None,
    );
    assert_fails_with(&out, "IP address");
    let out = outloud(
        &["migrate"],
        &[("OUTLOUD_DATABASE__URL", "mysql://x")],
        None,
    );
    assert_fails_with(&out, "database.url");

    // An unreachable database names itself, without its password.
    let out = outloud(
        &["admin", "create-user", "dave", "--password-stdin"],
        &[(
            "OUTLOUD_DATABASE__URL",
            "postgres://postgres:s3cret@127.0.0.1:1/outloud",
        )],
        Some("a long password"),
    );
    assert_fails_with(&out, "cannot connect to database");
    assert!(!stderr_of(&out).contains("s3cret"));

    // Unknown subcommands and missing arguments are usage errors.
    let out = outloud(&["admin", "create-user"], &env, None);
    assert!(!out.status.success());
    let out = outloud(&["frobnicate"], &env, None);
    assert!(!out.status.success());
    let _ = std::fs::remove_dir_all(dir);
}

async fn migrate_is_idempotent(backend: Backend) {
    let db = database(backend, "cli_migrate");
    let env = [("OUTLOUD_DATABASE__URL", db.url.as_str())];
    // Repeated: a command that exits while a pool thread still opens a
    // connection once crashed in OpenSSL's exit handler about one run in
    // twenty on PostgreSQL (see `db::establish_postgres`).
    for _ in 0..20 {
        let out = outloud(&["migrate"], &env, None);
        assert!(
            out.status.success(),
            "exit status {}: {}",
            out.status,
            stderr_of(&out)
        );
        assert!(String::from_utf8_lossy(&out.stdout).contains("up to date"));
    }
}

async fn federation_policy_commands(backend: Backend) {
    let db = database(backend, "cli_federation");
    let env = [("OUTLOUD_DATABASE__URL", db.url.as_str())];
    let run = |args: &[&str]| outloud(args, &env, None);
    let stdout = |out: &Output| String::from_utf8_lossy(&out.stdout).to_string();

    let out = run(&["admin", "federation", "block", "Spam.Example"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(stdout(&out).contains("blocked spam.example"));
    let out = run(&[
        "admin",
        "federation",
        "allow",
        "https://partner.example:443/",
    ]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(stdout(&out).contains("allowed partner.example"));

    let out = run(&["admin", "federation", "list"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    let listing = stdout(&out);
    assert!(listing.contains("block\tspam.example"), "{listing}");
    assert!(listing.contains("allow\tpartner.example"), "{listing}");

    let out = run(&["admin", "federation", "unblock", "spam.example"]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(!stdout(&run(&["admin", "federation", "list"])).contains("spam.example"));

    assert_fails_with(
        &run(&["admin", "federation", "unblock", "spam.example"]),
        "no policy",
    );
    assert_fails_with(
        &run(&["admin", "federation", "block", "not a domain"]),
        "not a domain",
    );
    let out = run(&["admin", "federation", "block"]);
    assert!(!out.status.success());
}

async fn create_community_command(backend: Backend) {
    let db = database(backend, "cli_community");
    let env = [("OUTLOUD_DATABASE__URL", db.url.as_str())];
    let run = |args: &[&str]| outloud(args, &env, None);
    assert!(outloud(
        &["admin", "create-user", "ana", "--password-stdin"],
        &env,
        Some("a long password")
    )
    .status
    .success());

    let out = run(&[
        "admin",
        "create-community",
        "rust",
        "--owner",
        "ana",
        "--approval",
        "--icon",
        "https://cdn.example/rust.png",
    ]);
    assert!(out.status.success(), "{}", stderr_of(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("@rust@"));

    assert_fails_with(
        &run(&["admin", "create-community", "rust", "--owner", "ana"]),
        "already taken",
    );
    assert_fails_with(
        &run(&["admin", "create-community", "ana", "--owner", "ana"]),
        "already taken",
    );
    assert_fails_with(
        &run(&["admin", "create-community", "go", "--owner", "nobody"]),
        "no local user",
    );
    assert_fails_with(
        &run(&[
            "admin",
            "create-community",
            "go",
            "--owner",
            "ana",
            "--posting",
            "everyone",
        ]),
        "--posting",
    );
    assert_fails_with(
        &run(&[
            "admin",
            "create-community",
            "go",
            "--owner",
            "ana",
            "--icon",
            "javascript:x",
        ]),
        "icon",
    );
    assert_fails_with(
        &run(&["admin", "create-community", "bad name", "--owner", "ana"]),
        "invalid name",
    );

    // The community exists with its settings.
    let pool = outloud::db::Db::connect(&db.url, 1).unwrap();
    let group = outloud::service::accounts::local_actor(&pool, "rust")
        .await
        .unwrap();
    assert_eq!(group.kind(), outloud::db::actor::ActorKind::Group);
    assert!(group.manually_approves_followers);
    assert_eq!(
        group.icon_url.as_deref(),
        Some("https://cdn.example/rust.png")
    );
}
