//! Suspending an account from the command line (`outloud admin
//! suspend|unsuspend`): sessions and tokens end, the actor document and the
//! API say `suspended`, and a follower's server (a fake Mastodon) receives
//! an `Update` of the actor with `suspended: true`, then one without it on
//! reinstatement. No `Delete`: that is for deleted accounts.

use crate::{
    api_client::Api,
    fake_server::FakeServer,
    harness::{both_backends, settle, TestInstance},
    streaming_client::Sse,
};
use outloud::{config::Backend, service};
use serde_json::{json, Value};
use std::{
    process::{Command, Output, Stdio},
    time::Duration,
};

both_backends!(
    cli_suspension_revokes_and_federates_an_update,
    cli_suspension_refuses_unknown_users,
    cli_suspension_ends_open_streams,
);

/// `outloud ARGS` against `instance`'s database and domain, with no other
/// OUTLOUD_* variables.
pub(crate) fn outloud(instance: &TestInstance, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_outloud"));
    cmd.args(args)
        .env_remove("OUTLOUD_CONFIG")
        .env("RUST_LOG", "warn")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (name, _) in std::env::vars().filter(|(n, _)| n.starts_with("OUTLOUD_")) {
        cmd.env_remove(name);
    }
    cmd.env(
        "OUTLOUD_DATABASE__URL",
        &instance.context.config.database.url,
    )
    .env("OUTLOUD_INSTANCE__DOMAIN", &instance.domain)
    .env("OUTLOUD_FEDERATION__DEV_MODE", "true");
    cmd.output().unwrap()
}

/// Standard output of a command that must succeed.
pub(crate) fn success(out: Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// The one-line reason of a command that must fail.
pub(crate) fn failure(out: Output) -> String {
    assert!(
        !out.status.success(),
        "should fail: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let reason = stderr.lines().last().unwrap_or_default().to_string();
    assert!(reason.starts_with("error: "), "{stderr}");
    reason
}

/// The `Update`s of `actor` the fake server received, in order.
fn updates_of(peer: &FakeServer, actor: &str) -> Vec<Value> {
    peer.received("Update")
        .into_iter()
        .filter(|u| u["actor"] == actor && u["object"]["id"] == actor)
        .collect()
}

async fn cli_suspension_revokes_and_federates_an_update(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let alice = alpha.create_user("alice").await;
    let alice_url = alpha.actor_url("alice");
    let db = &alpha.context.db;
    let api = Api::for_user(&alpha, "alice", "read write").await;
    api.get("/api/v1/accounts/verify_credentials").await.ok();
    let (_, cookie) = service::sessions::open(db, &alice, "test", "127.0.0.1")
        .await
        .unwrap();
    assert!(service::sessions::find(db, &cookie)
        .await
        .unwrap()
        .is_some());

    // mo, on a Mastodon server, follows alice.
    let peer = FakeServer::start("delta", "mastodon").await;
    let mo = peer.actor("/users/mo", "Person", "mo", json!({}));
    let follow = json!({
        "id": peer.url("/follows/1"),
        "type": "Follow",
        "actor": mo.id,
        "object": alice_url,
    });
    assert_eq!(
        peer.send(&mo, &alpha.url("/users/alice/inbox"), &follow)
            .await,
        202
    );
    settle(&[&alpha]).await;
    assert_eq!(peer.received("Accept").len(), 1);

    let out = success(outloud(&alpha, &["admin", "suspend", "alice"]));
    assert!(
        out.contains(&format!("suspended @alice@{}", alpha.domain)),
        "{out}"
    );
    // Again: nothing changes, and it says so.
    let out = success(outloud(&alpha, &["admin", "suspend", "ALICE"]));
    assert!(out.contains("was already suspended"), "{out}");

    // Nothing the account held still works.
    let refused = api.get("/api/v1/accounts/verify_credentials").await;
    assert_eq!(refused.status.as_u16(), 401, "{}", refused.text);
    let reason = failure(outloud(&alpha, &["admin", "create-token", "alice"]));
    assert!(reason.contains("suspended"), "{reason}");

    // The follower's server hears of it once: an Update, not a Delete.
    settle(&[&alpha]).await;
    let updates = updates_of(&peer, &alice_url);
    assert_eq!(updates.len(), 1, "{updates:?}");
    assert!(peer.received("Delete").is_empty());
    let object = &updates[0]["object"];
    assert_eq!(object["suspended"], true, "{object}");
    assert_eq!(object["name"], "alice");
    assert!(
        updates[0]["@context"]
            .to_string()
            .contains("toot:suspended"),
        "{}",
        updates[0]["@context"]
    );
    assert_eq!(updates[0]["cc"][0], format!("{alice_url}/followers"));

    // The actor document and the API say so too.
    let doc: Value = alpha.get_ap("/users/alice").await.json().await.unwrap();
    assert_eq!(doc["suspended"], true, "{doc}");
    let anonymous = Api::anonymous(&alpha);
    let account = anonymous
        .get(&format!("/api/v1/accounts/{}", alice.id))
        .await
        .ok();
    assert_eq!(account["suspended"], true, "{account}");
    crate::schema::assert_valid("Account", &account);
    let page = alpha.get_html("/@alice").await.text().await.unwrap();
    assert!(page.contains("This account is suspended"), "{page}");

    // Reinstated: an Update without the flag, the profile as before.
    let out = success(outloud(&alpha, &["admin", "unsuspend", "alice"]));
    assert!(out.contains("reinstated @alice@"), "{out}");
    let out = success(outloud(&alpha, &["admin", "unsuspend", "alice"]));
    assert!(out.contains("was not suspended"), "{out}");
    settle(&[&alpha]).await;
    let updates = updates_of(&peer, &alice_url);
    assert_eq!(updates.len(), 2, "{updates:?}");
    assert!(
        updates[1]["object"].get("suspended").is_none(),
        "{}",
        updates[1]
    );
    let doc: Value = alpha.get_ap("/users/alice").await.json().await.unwrap();
    assert!(doc.get("suspended").is_none(), "{doc}");
    let account = anonymous
        .get(&format!("/api/v1/accounts/{}", alice.id))
        .await
        .ok();
    assert!(account.get("suspended").is_none(), "{account}");
    let page = alpha.get_html("/@alice").await.text().await.unwrap();
    assert!(!page.contains("This account is suspended"));

    // What the suspension ended stays ended.
    let refused = api.get("/api/v1/accounts/verify_credentials").await;
    assert_eq!(refused.status.as_u16(), 401);
    assert!(service::sessions::find(db, &cookie)
        .await
        .unwrap()
        .is_none());
    success(outloud(&alpha, &["admin", "create-token", "alice"]));
}

async fn cli_suspension_refuses_unknown_users(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    for command in ["suspend", "unsuspend"] {
        let reason = failure(outloud(&alpha, &["admin", command, "nobody"]));
        assert!(reason.contains("no local user named `nobody`"), "{reason}");
        let reason = failure(outloud(&alpha, &["admin", command, "no body"]));
        assert!(reason.contains("no local user named `no body`"), "{reason}");
    }
}

/// A stream opened before the suspension ends at the next heartbeat,
/// though the command line revoked its token from another process.
async fn cli_suspension_ends_open_streams(backend: Backend) {
    let alpha =
        TestInstance::spawn_with("alpha", backend, |c| c.streaming.heartbeat_secs = 1).await;
    alpha.create_user("alice").await;
    alpha.create_user("bob").await;
    let token_of = |api: Api| api.token.unwrap();
    let alice = token_of(Api::for_user(&alpha, "alice", "read").await);
    let bob = token_of(Api::for_user(&alpha, "bob", "read").await);
    let url = alpha.url("/api/v1/streaming/user");
    let mut alices = Sse::open(&url, Some(&alice)).await;
    let mut bobs = Sse::open(&url, Some(&bob)).await;
    success(outloud(&alpha, &["admin", "suspend", "alice"]));
    // Generous: only a failure waits this long.
    assert!(alices.ended(Duration::from_secs(20)).await);
    // Bob's stream, past a heartbeat too, is still open.
    assert!(!bobs.ended(Duration::from_secs(2)).await);
}
