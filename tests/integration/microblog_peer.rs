//! A minimal microblog-style peer for tests: one person, `mo`, on a server
//! whose NodeInfo says it runs Mastodon. It records what its inboxes
//! receive and can sign and send a Follow — enough to join a community the
//! way a Mastodon user does and to count what the community sends back.

use actix_web::{web, App, HttpResponse, HttpServer};
use outloud::{crypto, delivery::sign};
use serde_json::{json, Value};
use std::{
    sync::{Arc, Mutex},
    time::Duration,
};
use url::Url;

pub struct MicroblogPeer {
    pub domain: String,
    received: Arc<Mutex<Vec<Value>>>,
    private_key_pem: String,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for MicroblogPeer {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

impl MicroblogPeer {
    /// Starts the peer as `{name}.localhost:PORT` on 127.0.0.1.
    pub async fn start(name: &str) -> MicroblogPeer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let domain = format!("{name}.localhost:{}", listener.local_addr().unwrap().port());
        let keys = crypto::generate_keypair().unwrap();
        let received: Arc<Mutex<Vec<Value>>> = Arc::default();
        let base = format!("http://{domain}");
        let actor = json!({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": format!("{base}/users/mo"),
            "type": "Person",
            "preferredUsername": "mo",
            "inbox": format!("{base}/users/mo/inbox"),
            "followers": format!("{base}/users/mo/followers"),
            "publicKey": {
                "id": format!("{base}/users/mo#main-key"),
                "owner": format!("{base}/users/mo"),
                "publicKeyPem": keys.public_key_pem,
            },
        });
        let nodeinfo_links = json!({"links": [{
            "rel": "http://nodeinfo.diaspora.software/ns/schema/2.0",
            "href": format!("{base}/nodeinfo/2.0"),
        }]});
        let inbox_log = received.clone();
        let server = HttpServer::new(move || {
            let (actor, links, log) = (actor.clone(), nodeinfo_links.clone(), inbox_log.clone());
            App::new()
                .route(
                    "/users/mo",
                    web::get().to(move || {
                        let actor = actor.clone();
                        async move {
                            HttpResponse::Ok()
                                .content_type("application/activity+json")
                                .body(actor.to_string())
                        }
                    }),
                )
                .route(
                    "/.well-known/nodeinfo",
                    web::get().to(move || {
                        let links = links.clone();
                        async move { HttpResponse::Ok().json(links) }
                    }),
                )
                .route(
                    "/nodeinfo/2.0",
                    web::get().to(|| async {
                        HttpResponse::Ok().json(json!({
                            "version": "2.0",
                            "software": {"name": "mastodon", "version": "4.3.0"},
                            "protocols": ["activitypub"],
                        }))
                    }),
                )
                .route(
                    "/users/mo/inbox",
                    web::post().to(move |body: web::Bytes| {
                        let log = log.clone();
                        async move {
                            if let Ok(value) = serde_json::from_slice::<Value>(&body) {
                                log.lock().unwrap().push(value);
                            }
                            HttpResponse::Accepted().finish()
                        }
                    }),
                )
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        MicroblogPeer {
            domain,
            received,
            private_key_pem: keys.private_key_pem,
            handle,
        }
    }

    pub fn actor_url(&self) -> String {
        format!("http://{}/users/mo", self.domain)
    }

    /// Everything the inbox received, of one type.
    pub fn received(&self, kind: &str) -> Vec<Value> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .filter(|a| a["type"] == kind)
            .cloned()
            .collect()
    }

    /// mo follows (joins) `target`, whose inbox is `inbox`: a signed POST,
    /// as Mastodon sends it.
    pub async fn follow(&self, target: &str, inbox: &str) {
        let follow = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("http://{}/follows/1", self.domain),
            "type": "Follow",
            "actor": self.actor_url(),
            "object": target,
        });
        let key =
            openssl::pkey::PKey::private_key_from_pem(self.private_key_pem.as_bytes()).unwrap();
        let client = reqwest_middleware::ClientWithMiddleware::from(crate::harness::http_client());
        let request = sign::signed_post(
            &client,
            &Url::parse(inbox).unwrap(),
            format!("{}#main-key", self.actor_url()),
            key,
            follow.to_string(),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
        let res = client.execute(request).await.unwrap();
        assert_eq!(
            res.status(),
            202,
            "{}",
            res.text().await.unwrap_or_default()
        );
    }
}
