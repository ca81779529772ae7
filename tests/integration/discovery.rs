//! WebFinger, NodeInfo, host-meta and health checks, as remote servers and
//! operators use them.

use crate::harness::{both_backends, TestInstance};
use outloud::config::Backend;
use serde_json::Value;

both_backends!(
    webfinger_finds_local_people,
    webfinger_refuses_unknown_and_malformed,
    nodeinfo_describes_the_instance,
    host_meta_points_to_webfinger,
    health_checks_answer,
);

async fn webfinger_finds_local_people(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    alpha.create_user("alice").await;

    let res = alpha
        .webfinger(&format!("acct:{}", alpha.handle_of("alice")))
        .await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["access-control-allow-origin"]
            .to_str()
            .unwrap(),
        "*"
    );
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/jrd+json"));
    let jrd: Value = res.json().await.unwrap();
    assert_eq!(jrd["subject"], format!("acct:{}", alpha.handle_of("alice")));
    let links = jrd["links"].as_array().unwrap();
    let link = |rel: &str| {
        links
            .iter()
            .find(|l| l["rel"] == rel)
            .unwrap_or_else(|| panic!("no {rel} link in {jrd}"))
    };
    assert_eq!(link("self")["type"], "application/activity+json");
    assert_eq!(link("self")["href"], alpha.actor_url("alice"));
    assert_eq!(
        link("http://webfinger.net/rel/profile-page")["href"],
        alpha.url("/@alice")
    );

    // The same account by actor URL, by profile URL, and case-insensitively.
    for resource in [
        alpha.actor_url("alice"),
        alpha.url("/@alice"),
        format!("acct:ALICE@{}", alpha.domain),
    ] {
        let res = alpha.webfinger(&resource).await;
        assert_eq!(res.status(), 200, "{resource}");
        let jrd: Value = res.json().await.unwrap();
        assert_eq!(jrd["subject"], format!("acct:{}", alpha.handle_of("alice")));
    }

    // The instance actor is found by its URL.
    let res = alpha.webfinger(&alpha.url("/actor")).await;
    assert_eq!(res.status(), 200);
}

async fn webfinger_refuses_unknown_and_malformed(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    alpha.create_user("alice").await;

    for (resource, status) in [
        (format!("acct:{}", alpha.handle_of("bob")), 404),
        ("acct:alice@elsewhere.example".to_string(), 404),
        (alpha.actor_url("bob"), 404),
        ("http://elsewhere.example/users/alice".to_string(), 404),
        (format!("acct:bad name@{}", alpha.domain), 404),
        ("alice".to_string(), 400),
        ("acct:alice".to_string(), 400),
        ("mailto:alice@example.org".to_string(), 400),
        (String::new(), 400),
    ] {
        let res = alpha.webfinger(&resource).await;
        assert_eq!(res.status(), status, "resource {resource:?}");
        let body: Value = res.json().await.unwrap();
        assert!(body["error"].is_string(), "{resource}: {body}");
    }
    let res = alpha.get("/.well-known/webfinger").await;
    assert_eq!(res.status(), 400);
}

async fn nodeinfo_describes_the_instance(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    alpha.create_user("alice").await;
    alpha.create_user("bob").await;

    let links: Value = alpha
        .get("/.well-known/nodeinfo")
        .await
        .json()
        .await
        .unwrap();
    let href = links["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "http://nodeinfo.diaspora.software/ns/schema/2.1")
        .unwrap()["href"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(href, alpha.url("/nodeinfo/2.1"));
    let app = links["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "https://www.w3.org/ns/activitystreams#Application")
        .unwrap();
    assert_eq!(app["href"], alpha.url("/actor"));

    let res = alpha.client.get(&href).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .contains("nodeinfo.diaspora.software/ns/schema/2.1"));
    let info: Value = res.json().await.unwrap();
    assert_eq!(info["version"], "2.1");
    assert_eq!(info["software"]["name"], "outloud");
    assert_eq!(info["software"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(info["protocols"], serde_json::json!(["activitypub"]));
    assert_eq!(info["openRegistrations"], false);
    assert_eq!(info["usage"]["users"]["total"], 2);
    assert_eq!(info["metadata"]["nodeName"], "Outloud");
}

async fn host_meta_points_to_webfinger(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    let res = alpha.get("/.well-known/host-meta").await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/xrd+xml"));
    let body = res.text().await.unwrap();
    let template = format!(
        "template=\"{}\"",
        alpha.url("/.well-known/webfinger?resource={uri}")
    );
    assert!(body.contains(&template), "{body}");
}

async fn health_checks_answer(backend: Backend) {
    let alpha = TestInstance::spawn("alpha", backend).await;
    assert_eq!(alpha.get("/healthz").await.status(), 200);
    let ready = alpha.get("/readyz").await;
    assert_eq!(ready.status(), 200);
    let body: Value = ready.json().await.unwrap();
    assert_eq!(body["database"], "ok");
}
