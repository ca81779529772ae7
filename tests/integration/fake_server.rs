//! A scriptable stand-in for another fediverse server: it reports a chosen
//! software in NodeInfo, serves whatever documents a test puts on it,
//! records every POST, and signs and sends activities as its actors. Tests
//! use it to play a Mastodon server (a microblog member of a community) or
//! a Lemmy server (a community host) — software not available here.

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use outloud::{crypto, delivery::sign};
use serde_json::{json, Value};
use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};
use url::Url;

#[derive(Default)]
struct State {
    documents: Mutex<HashMap<String, Value>>,
    received: Mutex<Vec<Value>>,
}

pub struct FakeServer {
    /// `name.localhost:PORT`
    pub domain: String,
    state: Arc<State>,
    handle: actix_web::dev::ServerHandle,
}

/// An actor living on a [`FakeServer`], with its private key.
pub struct FakeActor {
    pub id: String,
    private_key_pem: String,
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

impl FakeServer {
    /// Starts `{name}.localhost:PORT` on 127.0.0.1, reporting `software`.
    pub async fn start(name: &str, software: &str) -> FakeServer {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let domain = format!("{name}.localhost:{}", listener.local_addr().unwrap().port());
        let state = Arc::new(State::default());
        let base = format!("http://{domain}");
        state.documents.lock().unwrap().extend([
            (
                "/.well-known/nodeinfo".to_string(),
                json!({"links": [{
                    "rel": "http://nodeinfo.diaspora.software/ns/schema/2.0",
                    "href": format!("{base}/nodeinfo/2.0"),
                }]}),
            ),
            (
                "/nodeinfo/2.0".to_string(),
                json!({
                    "version": "2.0",
                    "software": {"name": software, "version": "1.0.0"},
                    "protocols": ["activitypub"],
                }),
            ),
        ]);
        let shared = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::from(shared.clone()))
                .default_service(web::to(serve))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        FakeServer {
            domain,
            state,
            handle,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.domain)
    }

    /// Serves `document` at `path` from now on.
    pub fn put(&self, path: &str, document: Value) {
        self.state
            .documents
            .lock()
            .unwrap()
            .insert(path.to_string(), document);
    }

    /// Creates an actor of `kind` at `path` (with `{path}/inbox`), serving
    /// its document with a fresh RSA key. `extra` fields are merged in.
    pub fn actor(&self, path: &str, kind: &str, username: &str, extra: Value) -> FakeActor {
        let keys = crypto::generate_keypair().unwrap();
        let id = self.url(path);
        let inbox = format!("{id}/inbox");
        let mut document = json!({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "id": id,
            "type": kind,
            "preferredUsername": username,
            "inbox": inbox,
            "followers": format!("{id}/followers"),
            "publicKey": {
                "id": format!("{id}#main-key"),
                "owner": id,
                "publicKeyPem": keys.public_key_pem,
            },
        });
        if let (Some(doc), Some(more)) = (document.as_object_mut(), extra.as_object()) {
            doc.extend(more.clone());
        }
        self.put(path, document);
        FakeActor {
            id,
            private_key_pem: keys.private_key_pem,
        }
    }

    /// Everything POSTed to this server, of one type.
    pub fn received(&self, kind: &str) -> Vec<Value> {
        self.state
            .received
            .lock()
            .unwrap()
            .iter()
            .filter(|a| a["type"] == kind)
            .cloned()
            .collect()
    }

    /// `from` signs `activity` (as Mastodon does) and POSTs it to `inbox`;
    /// returns the HTTP status.
    pub async fn send(&self, from: &FakeActor, inbox: &str, activity: &Value) -> u16 {
        let key =
            openssl::pkey::PKey::private_key_from_pem(from.private_key_pem.as_bytes()).unwrap();
        let client = reqwest_middleware::ClientWithMiddleware::from(crate::harness::http_client());
        let request = sign::signed_post(
            &client,
            &Url::parse(inbox).unwrap(),
            format!("{}#main-key", from.id),
            key,
            activity.to_string(),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
        client.execute(request).await.unwrap().status().as_u16()
    }
}

/// GET: a document put there, else 404. POST: recorded, 202.
async fn serve(req: HttpRequest, body: web::Bytes, state: web::Data<State>) -> HttpResponse {
    if req.method() == actix_web::http::Method::POST {
        if let Ok(value) = serde_json::from_slice::<Value>(&body) {
            state.received.lock().unwrap().push(value);
        }
        return HttpResponse::Accepted().finish();
    }
    match state.documents.lock().unwrap().get(req.path()) {
        Some(document) => HttpResponse::Ok()
            .content_type("application/activity+json")
            .body(document.to_string()),
        None => HttpResponse::NotFound().finish(),
    }
}
