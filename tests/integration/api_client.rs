//! A Mastodon-API client for tests: bearer token, JSON or form bodies, and
//! the status, headers and JSON of each answer.

use crate::harness::TestInstance;
use reqwest::{header::HeaderMap, Method, StatusCode};
use serde_json::Value;

/// An answer: status, headers, body as JSON (`Null` if it is not JSON).
pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub json: Value,
    pub text: String,
}

impl Answer {
    pub fn ok(self) -> Value {
        assert!(
            self.status.is_success(),
            "expected success, got {}: {}",
            self.status,
            self.text
        );
        self.json
    }

    pub fn expect(self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.text
        );
        self.json
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(String::from)
    }
}

/// A signed-in app (or an anonymous one without a token).
#[derive(Clone)]
pub struct Api {
    pub base: String,
    pub token: Option<String>,
    http: reqwest::Client,
}

impl Api {
    pub fn anonymous(instance: &TestInstance) -> Api {
        Api {
            base: instance.url(""),
            token: None,
            http: crate::harness::http_client(),
        }
    }

    /// Anonymous, connecting from another loopback address (127.0.0.2…),
    /// as a second client machine would.
    pub fn anonymous_from(instance: &TestInstance, local: std::net::IpAddr) -> Api {
        Api {
            base: instance.url(""),
            token: None,
            http: reqwest::Client::builder()
                .dns_resolver(std::sync::Arc::new(
                    outloud::apub::client::LocalhostResolver,
                ))
                .redirect(reqwest::redirect::Policy::none())
                .local_address(local)
                .timeout(std::time::Duration::from_secs(20))
                .build()
                .unwrap(),
        }
    }

    pub fn with_token(instance: &TestInstance, token: &str) -> Api {
        Api {
            token: Some(token.to_string()),
            ..Api::anonymous(instance)
        }
    }

    /// A token for a local user with the given scopes, as
    /// `outloud admin create-token` makes one.
    pub async fn for_user(instance: &TestInstance, name: &str, scopes: &str) -> Api {
        let actor = instance.local(name).await;
        let token = outloud::service::oauth::token_for_user(&instance.context.db, &actor, scopes)
            .await
            .unwrap();
        Api::with_token(instance, &token.access_token)
    }

    pub async fn send(&self, method: Method, path: &str, body: Option<Body>) -> Answer {
        let url = if path.starts_with("http") {
            path.to_string()
        } else {
            format!("{}{}", self.base, path)
        };
        let mut request = self.http.request(method, &url);
        if let Some(token) = &self.token {
            request = request.bearer_auth(token);
        }
        request = match body {
            Some(Body::Json(v)) => request.json(&v),
            Some(Body::Form(pairs)) => request.form(&pairs),
            None => request,
        };
        let response = request.send().await.unwrap();
        let status = response.status();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Answer {
            status,
            headers,
            json,
            text,
        }
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.send(Method::POST, path, Some(Body::Json(body))).await
    }

    pub async fn post_form(&self, path: &str, pairs: &[(&str, &str)]) -> Answer {
        let pairs = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.send(Method::POST, path, Some(Body::Form(pairs))).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Answer {
        self.send(Method::PUT, path, Some(Body::Json(body))).await
    }

    pub async fn patch_form(&self, path: &str, pairs: &[(&str, &str)]) -> Answer {
        let pairs = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.send(Method::PATCH, path, Some(Body::Form(pairs)))
            .await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.send(Method::DELETE, path, None).await
    }

    /// Posts a status; its JSON.
    pub async fn status(&self, body: Value) -> Value {
        self.post("/api/v1/statuses", body).await.ok()
    }

    /// The ids of a list of entities.
    pub fn ids(list: &Value) -> Vec<String> {
        list.as_array()
            .unwrap_or_else(|| panic!("expected an array, got {list}"))
            .iter()
            .map(|v| v["id"].as_str().unwrap().to_string())
            .collect()
    }
}

pub enum Body {
    Json(Value),
    Form(Vec<(String, String)>),
}

/// The URL of `rel` in a `Link` header.
pub fn link(header: &str, rel: &str) -> Option<String> {
    header.split(',').find_map(|part| {
        let (url, params) = part.split_once(';')?;
        params.contains(&format!("rel=\"{rel}\"")).then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_string()
        })
    })
}
