//! The push tests' loopback push service and subscriber: a recording
//! HTTP server on 127.0.0.1, and an app's key pair that checks a push's
//! VAPID signature and decrypts it (either encoding) with `ece`.

use crate::api_client::Api;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD, Engine};
use ece::{legacy::AesGcmEncryptedBlock, EcKeyComponents};
use outloud::push::crypto::verify_jwt;
use serde_json::{json, Value};
use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU16, Ordering},
        Arc, Mutex,
    },
};

// ---- a loopback push service ---------------------------------------------

/// One request the push service received.
#[derive(Debug, Clone)]
pub struct Hit {
    pub path: String,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

#[derive(Default)]
struct ReceiverState {
    hits: Mutex<Vec<Hit>>,
    status: AtomicU16,
}

/// A push service on 127.0.0.1 that records every POST and answers with
/// a chosen status (201 by default, as push services do).
pub struct Receiver {
    pub port: u16,
    state: Arc<ReceiverState>,
    handle: actix_web::dev::ServerHandle,
}

impl Drop for Receiver {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

async fn receive(
    req: HttpRequest,
    body: web::Bytes,
    state: web::Data<ReceiverState>,
) -> HttpResponse {
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                v.to_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    state.hits.lock().unwrap().push(Hit {
        path: req.path().to_string(),
        headers,
        body: body.to_vec(),
    });
    let status = state.status.load(Ordering::SeqCst);
    HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap()).finish()
}

impl Receiver {
    /// Listens on `port` (0: any free one).
    pub fn start(port: u16) -> Receiver {
        let listener = std::net::TcpListener::bind(("127.0.0.1", port)).unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(ReceiverState {
            hits: Mutex::new(Vec::new()),
            status: AtomicU16::new(201),
        });
        let shared = state.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(web::Data::from(shared.clone()))
                .default_service(web::to(receive))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Receiver {
            port,
            state,
            handle,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn answer(&self, status: u16) {
        self.state.status.store(status, Ordering::SeqCst);
    }

    pub fn hits(&self) -> Vec<Hit> {
        self.state.hits.lock().unwrap().clone()
    }
}

// ---- a subscriber ------------------------------------------------------------

/// An app's side of a subscription: its P-256 key pair and auth secret.
pub struct Subscriber {
    keys: EcKeyComponents,
    auth: [u8; 16],
    pub p256dh: String,
    pub auth_b64: String,
}

impl Subscriber {
    pub fn new() -> Subscriber {
        let (pair, auth) = ece::generate_keypair_and_auth_secret().unwrap();
        let keys = pair.raw_components().unwrap();
        Subscriber {
            p256dh: URL_SAFE_NO_PAD.encode(keys.public_key()),
            auth_b64: URL_SAFE_NO_PAD.encode(auth),
            keys,
            auth,
        }
    }

    /// `POST /api/v1/push/subscription` as JSON.
    pub fn body(&self, endpoint: &str, standard: bool, alerts: Value, policy: &str) -> Value {
        json!({
            "subscription": {
                "endpoint": endpoint,
                "keys": { "p256dh": self.p256dh, "auth": self.auth_b64 },
                "standard": standard,
            },
            "data": { "alerts": alerts, "policy": policy },
        })
    }

    /// Decrypts a received push (either encoding) into its JSON, after
    /// checking its VAPID signature against `server_key`.
    pub fn open(&self, hit: &Hit, server_key: &str) -> Value {
        let header = |name: &str| {
            hit.headers
                .get(name)
                .unwrap_or_else(|| panic!("no {name} header in {:?}", hit.headers))
                .clone()
        };
        assert_eq!(header("ttl"), "172800");
        assert_eq!(header("urgency"), "normal");
        let server_raw = URL_SAFE_NO_PAD.decode(server_key).unwrap();
        let plain = match header("content-encoding").as_str() {
            "aes128gcm" => {
                let auth = header("authorization");
                let rest = auth.strip_prefix("vapid ").unwrap();
                let mut t = None;
                let mut k = None;
                for part in rest.split(',') {
                    let (name, value) = part.trim().split_once('=').unwrap();
                    match name {
                        "t" => t = Some(value.to_string()),
                        "k" => k = Some(value.to_string()),
                        _ => {}
                    }
                }
                assert_eq!(k.as_deref(), Some(server_key));
                self.check_jwt(&t.unwrap(), &server_raw);
                ece::decrypt(&self.keys, &self.auth, &hit.body).unwrap()
            }
            "aesgcm" => {
                let auth = header("authorization");
                self.check_jwt(auth.strip_prefix("WebPush ").unwrap(), &server_raw);
                let crypto_key = header("crypto-key");
                let field = |text: &str, name: &str| -> Vec<u8> {
                    let value = text
                        .split(';')
                        .find_map(|p| p.trim().strip_prefix(&format!("{name}=")).map(String::from))
                        .unwrap_or_else(|| panic!("no {name} in {text}"));
                    URL_SAFE_NO_PAD.decode(value).unwrap()
                };
                assert_eq!(field(&crypto_key, "p256ecdsa"), server_raw);
                let encryption = header("encryption");
                let block = AesGcmEncryptedBlock::new(
                    &field(&crypto_key, "dh"),
                    &field(&encryption, "salt"),
                    4096,
                    hit.body.clone(),
                )
                .unwrap();
                ece::legacy::decrypt_aesgcm(&self.keys, &self.auth, &block).unwrap()
            }
            other => panic!("unexpected Content-Encoding {other}"),
        };
        serde_json::from_slice(&plain).unwrap()
    }

    fn check_jwt(&self, jwt: &str, server_raw: &[u8]) {
        let claims = verify_jwt(jwt, server_raw).expect("the VAPID JWT verifies");
        let aud = claims["aud"].as_str().unwrap();
        assert!(aud.starts_with("http://127.0.0.1:"), "aud {aud}");
        let exp = claims["exp"].as_i64().unwrap();
        let now = chrono::Utc::now().timestamp();
        assert!(exp > now && exp <= now + 24 * 3600, "exp {exp}");
        let sub = claims["sub"].as_str().unwrap();
        assert!(
            sub.starts_with("mailto:") || sub.starts_with("http"),
            "sub {sub}"
        );
    }
}

pub async fn server_key(api: &Api) -> String {
    let instance = api.get("/api/v2/instance").await.ok();
    let key = instance["configuration"]["vapid"]["public_key"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(URL_SAFE_NO_PAD.decode(&key).unwrap().len(), 65);
    key
}

pub const SUB: &str = "/api/v1/push/subscription";
