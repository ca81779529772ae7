//! Signed fetches: `federation.signed_fetch` (secure mode), Mastodon-style
//! GET signatures, key rotation, and policy on outbound delivery.

use crate::harness::{both_backends, settle, TestInstance};
use outloud::{
    config::Backend,
    db::{actor::Actor, domain_policy::PolicyAction, post::Visibility},
    service::{self, posts::NewPost},
};
use serde_json::json;

both_backends!(
    secure_mode_requires_signed_gets,
    mastodon_style_get_signatures_are_accepted,
    rotated_keys_are_fetched_again,
    policy_stops_outbound_delivery,
);

async fn secure_mode_requires_signed_gets(backend: Backend) {
    let alpha =
        TestInstance::spawn_with("alpha", backend, |c| c.federation.signed_fetch = true).await;
    let beta = TestInstance::spawn("beta", backend).await;
    alpha.create_user("alice").await;
    let bob = beta.create_user("bob").await;
    let post = alpha
        .publish("alice", NewPost::note("Secure narration"))
        .await;
    let object = format!("/objects/{}", post.id);

    // Discovery stays open: actors and WebFinger are needed to verify
    // signatures at all.
    assert_eq!(alpha.get_ap("/users/alice").await.status(), 200);
    assert_eq!(
        alpha
            .webfinger(&format!("acct:{}", alpha.handle_of("alice")))
            .await
            .status(),
        200
    );
    // Everything else needs a signature.
    for path in [
        object.as_str(),
        "/users/alice/outbox",
        "/users/alice/followers",
        "/users/alice/following",
    ] {
        assert_eq!(alpha.get_ap(path).await.status(), 401, "{path}");
        assert_eq!(
            beta.signed_get(&bob, &alpha.url(path)).await.status(),
            200,
            "{path}"
        );
    }
    // beta's own fetches are signed (by its instance actor), so it can
    // resolve alice's post.
    let fetched = service::posts::find(&beta.data(), &post.ap_id.0)
        .await
        .unwrap();
    assert_eq!(fetched.ap_id, post.ap_id);
}

/// Signs a GET the way Mastodon does: `(request-target) host date`, no
/// Digest, with openssl.
fn mastodon_signed_get(
    client: &reqwest::Client,
    url: &str,
    signer: &Actor,
) -> reqwest::RequestBuilder {
    let parsed = url::Url::parse(url).unwrap();
    let host = format!("{}:{}", parsed.host_str().unwrap(), parsed.port().unwrap());
    let date = chrono::Utc::now()
        .format("%a, %d %b %Y %H:%M:%S GMT")
        .to_string();
    let signing = format!(
        "(request-target): get {}\nhost: {host}\ndate: {date}",
        parsed.path()
    );
    let key = openssl::pkey::PKey::private_key_from_pem(
        signer.private_key_pem.as_ref().unwrap().as_bytes(),
    )
    .unwrap();
    let mut signer_ctx =
        openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), &key).unwrap();
    signer_ctx.update(signing.as_bytes()).unwrap();
    let signature = openssl::base64::encode_block(&signer_ctx.sign_to_vec().unwrap());
    client
        .get(url)
        .header("Accept", "application/activity+json")
        .header("Host", host)
        .header("Date", date)
        .header(
            "Signature",
            format!(
                "keyId=\"{}#main-key\",algorithm=\"rsa-sha256\",headers=\"(request-target) host date\",signature=\"{signature}\"",
                signer.ap_id
            ),
        )
}

async fn mastodon_style_get_signatures_are_accepted(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    alpha.create_user("alice").await;
    let bob = beta.create_user("bob").await;
    beta.follow("bob", &alpha.handle_of("alice")).await;
    settle(&[&alpha, &beta]).await;
    let post = alpha
        .publish(
            "alice",
            NewPost {
                visibility: Visibility::Followers,
                ..NewPost::note("for followers")
            },
        )
        .await;
    let url = alpha.url(&format!("/objects/{}", post.id));
    let res = mastodon_signed_get(&alpha.client, &url, &bob)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // A signature by someone else, or over a different path, is refused.
    let eve = beta.create_user("eve").await;
    let res = mastodon_signed_get(&alpha.client, &url, &eve)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let res = mastodon_signed_get(&alpha.client, &alpha.url("/objects/elsewhere"), &bob)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 404);
    let forged = mastodon_signed_get(&alpha.client, &alpha.url("/users/alice/outbox"), &bob)
        .build()
        .unwrap();
    let mut forged = forged;
    *forged.url_mut() = url::Url::parse(&url).unwrap();
    assert_eq!(alpha.client.execute(forged).await.unwrap().status(), 404);
}

async fn rotated_keys_are_fetched_again(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    alpha.create_user("alice").await;
    let bob = beta.create_user("bob").await;
    // alpha knows bob's current key, fetched "a while ago".
    let known = alpha.resolve(&beta.handle_of("bob")).await;
    let mut aged = known.clone();
    aged.last_fetched_at = Some(outloud::db::now() - chrono::TimeDelta::minutes(10));
    alpha
        .context
        .db
        .run(move |conn| Ok(Actor::update(conn, &aged)?))
        .await
        .unwrap();

    // bob rotates his key on beta.
    let keys = outloud::crypto::generate_keypair().unwrap();
    let mut rotated = bob.clone();
    rotated.public_key_pem = keys.public_key_pem.clone();
    rotated.private_key_pem = Some(keys.private_key_pem);
    let row = rotated.clone();
    beta.context
        .db
        .run(move |conn| Ok(Actor::update(conn, &row)?))
        .await
        .unwrap();

    // A Follow signed with the new key: alpha's stored key fails, alpha
    // fetches bob again, and accepts.
    let follow = json!({
        "id": beta.url("/activities/rotated-follow"),
        "type": "Follow",
        "actor": beta.actor_url("bob"),
        "object": alpha.actor_url("alice"),
    });
    let res = beta
        .signed_post(&rotated, &alpha.url("/inbox"), &follow)
        .await;
    assert_eq!(res.status(), 202);
    let refreshed = alpha.resolve(&beta.actor_url("bob")).await;
    assert_eq!(refreshed.public_key_pem, keys.public_key_pem);

    // The old key no longer works.
    let stale = json!({
        "id": beta.url("/activities/stale-follow"),
        "type": "Follow",
        "actor": beta.actor_url("bob"),
        "object": alpha.actor_url("alice"),
    });
    let res = beta.signed_post(&bob, &alpha.url("/inbox"), &stale).await;
    assert_eq!(res.status(), 401);
}

async fn policy_stops_outbound_delivery(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    let gamma = TestInstance::spawn("gamma", backend).await;
    alpha.create_user("alice").await;
    beta.create_user("bob").await;
    gamma.create_user("dave").await;
    beta.follow("bob", &alpha.handle_of("alice")).await;
    gamma.follow("dave", &alpha.handle_of("alice")).await;
    settle(&[&alpha, &beta, &gamma]).await;
    assert_eq!(alpha.follower_ids("alice").await.len(), 2);

    service::policy::set(&alpha.context.db, &gamma.domain, PolicyAction::Block)
        .await
        .unwrap();
    let post = alpha.publish("alice", NewPost::note("not for gamma")).await;
    let status = service::deliveries::activity_status(
        &alpha.context.db,
        &alpha.context.urls.activity(&post.id),
    )
    .await
    .unwrap();
    let hosts: Vec<&str> = status.iter().map(|s| s.host.as_str()).collect();
    assert_eq!(hosts, vec![beta.domain.as_str()]);
    settle(&[&alpha, &beta, &gamma]).await;
    assert!(beta.stored_post(post.ap_id.as_str()).await.is_some());
    assert!(gamma.stored_post(post.ap_id.as_str()).await.is_none());
}
