//! Inbound HTTP signatures (issue 11, items 4 and 5): what a signature must
//! cover, the time window, RFC 9421 beside draft-cavage, and GoToSocial's
//! key ids. Requests are signed here with openssl, component by component,
//! so each test controls exactly what is covered.

use crate::{
    fake_server::FakeServer,
    harness::{both_backends, http_client, TestInstance},
};
use chrono::{DateTime, TimeDelta, Utc};
use openssl::{
    hash::MessageDigest,
    pkey::{PKey, Private},
    sign::Signer,
};
use outloud::{
    config::Backend,
    db::{actor::Actor, follow::FollowState, received_activity},
    service::posts::NewPost,
};
use serde_json::{json, Value};

both_backends!(
    cavage_posts_must_sign_date_and_digest,
    signature_timestamps_must_be_inside_the_window,
    rfc9421_posts_and_gets_are_verified,
    gotosocial_key_ids_work_on_signed_gets,
);

const FEDIFY_COMPONENTS: &[&str] = &[
    "@method",
    "@target-uri",
    "@authority",
    "host",
    "date",
    "content-digest",
];

fn http_date(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

fn private_key(actor: &Actor) -> PKey<Private> {
    PKey::private_key_from_pem(actor.private_key_pem.as_ref().unwrap().as_bytes()).unwrap()
}

fn sign(key: &PKey<Private>, text: &str) -> String {
    let mut signer = Signer::new(MessageDigest::sha256(), key).unwrap();
    signer.update(text.as_bytes()).unwrap();
    openssl::base64::encode_block(&signer.sign_to_vec().unwrap())
}

fn authority_and_target(url: &str) -> (String, String) {
    let parsed = url::Url::parse(url).unwrap();
    let authority = format!("{}:{}", parsed.host_str().unwrap(), parsed.port().unwrap());
    let target = match parsed.query() {
        Some(q) => format!("{}?{q}", parsed.path()),
        None => parsed.path().to_string(),
    };
    (authority, target)
}

/// A draft-cavage signed request (POST when `body` is given, else GET)
/// whose signature covers exactly `covered`.
fn cavage(
    url: &str,
    key_id: &str,
    key: &PKey<Private>,
    body: Option<&str>,
    covered: &str,
    date: DateTime<Utc>,
) -> reqwest::RequestBuilder {
    let (authority, target) = authority_and_target(url);
    let date = http_date(date);
    let digest = body.map(|b| {
        format!(
            "SHA-256={}",
            openssl::base64::encode_block(&openssl::sha::sha256(b.as_bytes()))
        )
    });
    let method = if body.is_some() { "post" } else { "get" };
    let lines: Vec<String> = covered
        .split(' ')
        .map(|name| match name {
            "(request-target)" => format!("(request-target): {method} {target}"),
            "host" => format!("host: {authority}"),
            "date" => format!("date: {date}"),
            "digest" => format!("digest: {}", digest.as_deref().unwrap()),
            other => panic!("{other}"),
        })
        .collect();
    let signature = sign(key, &lines.join("\n"));
    let client = http_client();
    let mut builder = match body {
        Some(body) => client
            .post(url)
            .header("Content-Type", "application/activity+json")
            .header("Digest", digest.unwrap())
            .body(body.to_string()),
        None => client
            .get(url)
            .header("Accept", "application/activity+json"),
    };
    builder = builder.header("Host", authority).header("Date", date).header(
        "Signature",
        format!(
            r#"keyId="{key_id}",algorithm="rsa-sha256",headers="{covered}",signature="{signature}""#
        ),
    );
    builder
}

/// An RFC 9421 signed request covering `components`, as Fedify builds it.
fn rfc9421(
    url: &str,
    key_id: &str,
    key: &PKey<Private>,
    body: Option<&str>,
    components: &[&str],
    created: DateTime<Utc>,
) -> reqwest::RequestBuilder {
    let (authority, _) = authority_and_target(url);
    let date = http_date(created);
    let digest = body.map(|b| {
        format!(
            "sha-256=:{}:",
            openssl::base64::encode_block(&openssl::sha::sha256(b.as_bytes()))
        )
    });
    let method = if body.is_some() { "POST" } else { "GET" };
    let quoted: Vec<String> = components.iter().map(|c| format!("\"{c}\"")).collect();
    let params = format!(
        r#"({});alg="rsa-v1_5-sha256";keyid="{key_id}";created={}"#,
        quoted.join(" "),
        created.timestamp()
    );
    let mut base = String::new();
    for component in components {
        let value = match *component {
            "@method" => method.to_string(),
            "@target-uri" => url.to_string(),
            "@authority" | "host" => authority.clone(),
            "date" => date.clone(),
            "content-digest" => digest.clone().unwrap(),
            other => panic!("{other}"),
        };
        base.push_str(&format!("\"{component}\": {value}\n"));
    }
    base.push_str(&format!("\"@signature-params\": {params}"));
    let signature = sign(key, &base);
    let client = http_client();
    let mut builder = match body {
        Some(body) => client
            .post(url)
            .header("Content-Type", "application/activity+json")
            .body(body.to_string()),
        None => client
            .get(url)
            .header("Accept", "application/activity+json"),
    };
    if let Some(digest) = digest {
        builder = builder.header("Content-Digest", digest);
    }
    builder
        .header("Host", authority)
        .header("Date", date)
        .header("Signature-Input", format!("sig1={params}"))
        .header("Signature", format!("sig1=:{signature}:"))
}

/// A Follow of alice@alpha by bob@beta.
fn follow(alpha: &TestInstance, beta: &TestInstance, n: u32) -> Value {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": beta.url(&format!("/activities/sig-follow-{n}")),
        "type": "Follow",
        "actor": beta.actor_url("bob"),
        "object": alpha.actor_url("alice"),
    })
}

async fn seen(instance: &TestInstance, activity: &Value) -> bool {
    let id = url::Url::parse(activity["id"].as_str().unwrap()).unwrap();
    instance
        .context
        .db
        .run(move |conn| Ok(received_activity::seen(conn, &id)?))
        .await
        .unwrap()
}

/// Asserts a 401 whose JSON error mentions `reason`.
async fn assert_refused(res: reqwest::Response, reason: &str) {
    assert_eq!(res.status(), 401, "expected 401 for {reason}");
    let body: Value = res.json().await.unwrap();
    let error = body["error"].as_str().unwrap_or_default();
    assert!(
        error.contains(reason),
        "{error:?} should mention {reason:?}"
    );
}

async fn two_instances(backend: Backend) -> (TestInstance, TestInstance, Actor) {
    let (alpha, beta) = tokio::join!(
        TestInstance::spawn_with("alpha", backend, |c| c.federation.signed_fetch = true),
        TestInstance::spawn("beta", backend)
    );
    alpha.create_user("alice").await;
    let bob = beta.create_user("bob").await;
    (alpha, beta, bob)
}

/// Item 4: a POST whose signature leaves out the date or the digest could
/// be replayed, or carry another body; it is refused and nothing is stored.
async fn cavage_posts_must_sign_date_and_digest(backend: Backend) {
    let (alpha, beta, bob) = two_instances(backend).await;
    let inbox = alpha.url("/inbox");
    let key_id = format!("{}#main-key", bob.ap_id);
    let key = private_key(&bob);
    for (n, covered, missing) in [
        (1, "(request-target) host digest", "date or (created)"),
        (2, "(request-target) host date", "digest"),
    ] {
        let activity = follow(&alpha, &beta, n);
        let body = activity.to_string();
        let res = cavage(&inbox, &key_id, &key, Some(&body), covered, Utc::now())
            .send()
            .await
            .unwrap();
        assert_refused(res, &format!("must cover {missing}")).await;
        assert!(!seen(&alpha, &activity).await);
    }
    assert_eq!(
        alpha
            .follow_state(&beta.handle_of("bob"), &alpha.handle_of("alice"))
            .await,
        None
    );

    let activity = follow(&alpha, &beta, 3);
    let body = activity.to_string();
    let full = "(request-target) host date digest";
    let res = cavage(&inbox, &key_id, &key, Some(&body), full, Utc::now())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    assert_eq!(
        alpha
            .follow_state(&beta.handle_of("bob"), &alpha.handle_of("alice"))
            .await,
        Some(FollowState::Accepted)
    );
}

/// Item 5: a Date up to 12 hours old is accepted (it used to get a 500
/// after one hour); older, or more than an hour ahead, is a 401 that says
/// why — never a 5xx, which senders retry forever.
async fn signature_timestamps_must_be_inside_the_window(backend: Backend) {
    let (alpha, beta, bob) = two_instances(backend).await;
    let inbox = alpha.url("/users/alice/inbox");
    let key_id = format!("{}#main-key", bob.ap_id);
    let key = private_key(&bob);
    let full = "(request-target) host date digest";
    let now = Utc::now();

    for (n, date, reason) in [
        (1, now - TimeDelta::hours(13), "more than 12 hours old"),
        (2, now + TimeDelta::hours(2), "in the future"),
    ] {
        let activity = follow(&alpha, &beta, n);
        let body = activity.to_string();
        let res = cavage(&inbox, &key_id, &key, Some(&body), full, date)
            .send()
            .await
            .unwrap();
        assert_refused(res, reason).await;
        assert!(!seen(&alpha, &activity).await);
    }

    let activity = follow(&alpha, &beta, 3);
    let body = activity.to_string();
    let res = cavage(
        &inbox,
        &key_id,
        &key,
        Some(&body),
        full,
        now - TimeDelta::hours(2),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), 202);
    assert!(seen(&alpha, &activity).await);

    // The same window for RFC 9421's `created`.
    let activity = follow(&alpha, &beta, 4);
    let body = activity.to_string();
    let res = rfc9421(
        &inbox,
        &key_id,
        &key,
        Some(&body),
        FEDIFY_COMPONENTS,
        now + TimeDelta::hours(2),
    )
    .send()
    .await
    .unwrap();
    assert_refused(res, "in the future").await;
}

async fn rfc9421_posts_and_gets_are_verified(backend: Backend) {
    let (alpha, beta, bob) = two_instances(backend).await;
    let inbox = alpha.url("/inbox");
    let key_id = format!("{}#main-key", bob.ap_id);
    let key = private_key(&bob);
    let now = Utc::now();

    // A tampered body no longer matches the signed Content-Digest.
    let activity = follow(&alpha, &beta, 1);
    let body = activity.to_string();
    let mut tampered = rfc9421(&inbox, &key_id, &key, Some(&body), FEDIFY_COMPONENTS, now)
        .build()
        .unwrap();
    let mut evil = activity.clone();
    evil["object"] = json!(alpha.actor_url("somebody_else"));
    *tampered.body_mut() = Some(evil.to_string().into());
    let res = http_client().execute(tampered).await.unwrap();
    assert_refused(res, "Content-Digest").await;

    // Content-Digest not covered, or a stale `created`.
    let res = rfc9421(
        &inbox,
        &key_id,
        &key,
        Some(&body),
        &FEDIFY_COMPONENTS[..5],
        now,
    )
    .send()
    .await
    .unwrap();
    assert_refused(res, "must cover content-digest").await;
    let res = rfc9421(
        &inbox,
        &key_id,
        &key,
        Some(&body),
        FEDIFY_COMPONENTS,
        now - TimeDelta::hours(13),
    )
    .send()
    .await
    .unwrap();
    assert_refused(res, "12 hours").await;
    assert!(!seen(&alpha, &activity).await);

    // Signed as Fedify signs: accepted.
    let res = rfc9421(&inbox, &key_id, &key, Some(&body), FEDIFY_COMPONENTS, now)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 202);
    assert_eq!(
        alpha
            .follow_state(&beta.handle_of("bob"), &alpha.handle_of("alice"))
            .await,
        Some(FollowState::Accepted)
    );

    // A signed GET in secure mode (alpha requires signatures).
    alpha
        .publish("alice", NewPost::note("signed reading"))
        .await;
    let outbox = alpha.url("/users/alice/outbox");
    assert_eq!(alpha.get_ap("/users/alice/outbox").await.status(), 401);
    let res = rfc9421(
        &outbox,
        &key_id,
        &key,
        None,
        &["@method", "@target-uri"],
        now,
    )
    .send()
    .await
    .unwrap();
    assert_eq!(res.status(), 200);
    // Signed for another path: refused.
    let mut moved = rfc9421(
        &outbox,
        &key_id,
        &key,
        None,
        &["@method", "@target-uri"],
        now,
    )
    .build()
    .unwrap();
    *moved.url_mut() = url::Url::parse(&alpha.url("/users/alice/followers")).unwrap();
    assert_eq!(http_client().execute(moved).await.unwrap().status(), 401);
}

/// GoToSocial's keyId is `{actor}/main-key`, a URL serving a stub of the
/// actor; other servers serve a key document naming its `owner`.
async fn gotosocial_key_ids_work_on_signed_gets(backend: Backend) {
    let alpha =
        TestInstance::spawn_with("alpha", backend, |c| c.federation.signed_fetch = true).await;
    alpha.create_user("alice").await;
    let gts = FakeServer::start("gts", "gotosocial").await;
    let outbox = alpha.url("/users/alice/outbox");

    let keys = outloud::crypto::generate_keypair().unwrap();
    let key = PKey::private_key_from_pem(keys.private_key_pem.as_bytes()).unwrap();
    let actor = gts.url("/users/gina");
    let key_id = format!("{actor}/main-key");
    let public_key = json!({"id": key_id, "owner": actor, "publicKeyPem": keys.public_key_pem});
    gts.put(
        "/users/gina",
        json!({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": actor,
            "type": "Person",
            "preferredUsername": "gina",
            "inbox": format!("{actor}/inbox"),
            "publicKey": public_key,
        }),
    );
    // GoToSocial's minimal actor at the key URL.
    gts.put(
        "/users/gina/main-key",
        json!({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": actor,
            "type": "Person",
            "preferredUsername": "gina",
            "publicKey": public_key,
        }),
    );
    let get = "(request-target) host date";
    for _ in 0..2 {
        // The second time gina is known and her key is not fetched again.
        let res = cavage(&outbox, &key_id, &key, None, get, Utc::now())
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200);
    }

    // A key document of its own, naming its owner.
    let keys = outloud::crypto::generate_keypair().unwrap();
    let kim_key = PKey::private_key_from_pem(keys.private_key_pem.as_bytes()).unwrap();
    let kim = gts.url("/users/kim");
    let kim_key_id = gts.url("/keys/kim");
    gts.put(
        "/users/kim",
        json!({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": kim,
            "type": "Person",
            "preferredUsername": "kim",
            "inbox": format!("{kim}/inbox"),
            "publicKey": {"id": kim_key_id, "owner": kim, "publicKeyPem": keys.public_key_pem},
        }),
    );
    gts.put(
        "/keys/kim",
        json!({"id": kim_key_id, "type": "Key", "owner": kim, "publicKeyPem": keys.public_key_pem}),
    );
    let res = cavage(&outbox, &kim_key_id, &kim_key, None, get, Utc::now())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // gina's key id with kim's signature: the key used is gina's, so no.
    let res = cavage(&outbox, &key_id, &kim_key, None, get, Utc::now())
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}
