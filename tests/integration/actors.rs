//! Actor documents: their shape, content negotiation, and discovery of one
//! instance's people by another.

use crate::harness::{both_backends, TestInstance};
use activitypub_federation::fetch::webfinger::webfinger_resolve_actor;
use outloud::{config::Backend, db::actor::Actor};
use serde_json::Value;

both_backends!(
    person_document_has_the_expected_shape,
    browsers_get_html_and_servers_get_json,
    instance_actor_is_served,
    another_instance_discovers_a_person,
);

async fn person_document_has_the_expected_shape(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    alpha.create_user("alice").await;

    let res = alpha.get_ap("/users/alice").await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"].to_str().unwrap(),
        "application/activity+json"
    );
    assert_eq!(res.headers()["vary"].to_str().unwrap(), "Accept");
    let person: Value = res.json().await.unwrap();

    let context = person["@context"].as_array().unwrap();
    assert_eq!(context[0], "https://www.w3.org/ns/activitystreams");
    assert!(context.contains(&Value::from("https://w3id.org/security/v1")));

    let id = alpha.actor_url("alice");
    assert_eq!(person["id"], id);
    assert_eq!(person["type"], "Person");
    assert_eq!(person["preferredUsername"], "alice");
    assert!(person["name"].is_string());
    assert!(person["summary"].is_string());
    assert_eq!(person["url"], alpha.url("/@alice"));
    assert_eq!(person["inbox"], format!("{id}/inbox"));
    assert_eq!(person["outbox"], format!("{id}/outbox"));
    assert_eq!(person["followers"], format!("{id}/followers"));
    assert_eq!(person["following"], format!("{id}/following"));
    assert_eq!(person["endpoints"]["sharedInbox"], alpha.url("/inbox"));
    assert_eq!(person["manuallyApprovesFollowers"], false);
    // Strictly opt-in: nobody is discoverable before choosing it.
    assert_eq!(person["discoverable"], false);
    assert!(chrono::DateTime::parse_from_rfc3339(person["published"].as_str().unwrap()).is_ok());

    let key = &person["publicKey"];
    assert_eq!(key["id"], format!("{id}#main-key"));
    assert_eq!(key["owner"], id);
    let pem = key["publicKeyPem"].as_str().unwrap();
    let parsed = openssl::pkey::PKey::public_key_from_pem(pem.as_bytes()).unwrap();
    assert_eq!(parsed.bits(), 2048);

    // The other ActivityStreams media type gets the same document.
    let res = alpha
        .get_accepting(
            "/users/alice",
            "application/ld+json; profile=\"https://www.w3.org/ns/activitystreams\"",
        )
        .await;
    assert_eq!(res.status(), 200);
    let again: Value = res.json().await.unwrap();
    assert_eq!(again["id"], id);

    // An unknown person is a 404 with a JSON error.
    let res = alpha.get_ap("/users/nobody").await;
    assert_eq!(res.status(), 404);
    let body: Value = res.json().await.unwrap();
    assert!(body["error"].is_string());
}

async fn browsers_get_html_and_servers_get_json(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    alpha.create_user("alice").await;

    let res = alpha.get_html("/users/alice").await;
    assert_eq!(res.status(), 303);
    assert_eq!(res.headers()["location"], alpha.url("/@alice").as_str());
    assert_eq!(res.headers()["vary"].to_str().unwrap(), "Accept");

    let res = alpha.get_html("/@alice").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let page = res.text().await.unwrap();
    assert!(page.contains(&format!("@alice@{}", alpha.domain)), "{page}");
    assert!(page.contains(&alpha.actor_url("alice")));

    let res = alpha.get_html("/@nobody").await;
    assert_eq!(res.status(), 404);
    assert!(res.text().await.unwrap().contains("<html"));

    let res = alpha.get_html("/").await;
    assert_eq!(res.status(), 200);
}

async fn instance_actor_is_served(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let res = alpha.get_ap("/actor").await;
    assert_eq!(res.status(), 200);
    let actor: Value = res.json().await.unwrap();
    assert_eq!(actor["id"], alpha.url("/actor"));
    assert_eq!(actor["type"], "Application");
    assert_eq!(actor["inbox"], alpha.url("/actor/inbox"));
    assert!(actor["publicKey"]["publicKeyPem"]
        .as_str()
        .unwrap()
        .starts_with("-----BEGIN PUBLIC KEY-----"));
    // One instance actor, one key: stable across requests.
    let again: Value = alpha.get_ap("/actor").await.json().await.unwrap();
    assert_eq!(again["publicKey"], actor["publicKey"]);
}

async fn another_instance_discovers_a_person(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let beta = TestInstance::spawn("beta", backend).await;
    let alice = alpha.create_user("alice").await;

    // beta resolves alice@alpha the way it will before following her:
    // WebFinger, then a signed fetch of the actor, then storage.
    let data = beta.data();
    let found: Actor = webfinger_resolve_actor(&alpha.handle_of("alice"), &data)
        .await
        .unwrap();
    assert_eq!(found.ap_id, alice.ap_id);
    assert!(!found.local);
    assert_eq!(found.domain, alpha.domain);
    assert_eq!(found.public_key_pem, alice.public_key_pem);
    assert_eq!(
        found.shared_inbox_url.as_deref(),
        Some(alpha.url("/inbox").as_str())
    );

    // Stored once, refreshed in place on a second resolution.
    let again: Actor = webfinger_resolve_actor(&alpha.handle_of("alice"), &data)
        .await
        .unwrap();
    assert_eq!(again.id, found.id);

    // A copy older than a day is fetched again on use.
    let mut aged = again.clone();
    aged.last_fetched_at = Some(outloud::db::now() - chrono::TimeDelta::days(2));
    aged.display_name = Some("stale copy".into());
    let row = aged.clone();
    beta.context
        .db
        .run(move |conn| Ok(Actor::update(conn, &row)?))
        .await
        .unwrap();
    let refreshed = outloud::service::resolve::actor(&data, &alpha.actor_url("alice"))
        .await
        .unwrap();
    assert_eq!(refreshed.id, found.id);
    assert_ne!(refreshed.display_name.as_deref(), Some("stale copy"));
    assert!(refreshed.last_fetched_at > aged.last_fetched_at);

    // An unknown handle is an error, not a stored actor.
    let missing = webfinger_resolve_actor::<_, Actor>(&alpha.handle_of("nobody"), &data).await;
    assert!(missing.is_err());
}
