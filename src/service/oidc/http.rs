//! The HTTP client the `openidconnect` crate talks to the provider with:
//! the federation's own client (its resolver refuses internal addresses
//! outside dev mode, it never follows redirects, every request has a
//! timeout), each URL checked with the SSRF rule of plain fetches first, and
//! bodies capped. The crate's own reqwest feature stays off: it would bring
//! a second reqwest and a client without these rules.

use openidconnect::{http, AsyncHttpClient, HttpRequest, HttpResponse};
use reqwest_middleware::ClientWithMiddleware;
use std::{future::Future, pin::Pin};

/// The largest provider answer read (discovery, keys, tokens).
const MAX_BODY: usize = 1024 * 1024;

/// Why a request to the provider failed.
#[derive(Debug, thiserror::Error)]
pub enum ProviderHttpError {
    #[error("refused to contact {0}: {1}")]
    Refused(String, String),
    #[error("the provider could not be reached: {0}")]
    Network(String),
    #[error("the provider's answer is larger than {MAX_BODY} bytes")]
    TooLarge,
}

/// [`AsyncHttpClient`] over the federation client.
#[derive(Clone)]
pub struct ProviderClient {
    client: ClientWithMiddleware,
    dev_mode: bool,
}

impl ProviderClient {
    pub fn new(client: ClientWithMiddleware, dev_mode: bool) -> ProviderClient {
        ProviderClient { client, dev_mode }
    }

    async fn send(&self, request: HttpRequest) -> Result<HttpResponse, ProviderHttpError> {
        let url = url::Url::parse(&request.uri().to_string())
            .map_err(|e| ProviderHttpError::Refused(request.uri().to_string(), e.to_string()))?;
        crate::apub::client::check_fetchable(&url, self.dev_mode)
            .map_err(|e| ProviderHttpError::Refused(url.to_string(), e.to_string()))?;
        let (parts, body) = request.into_parts();
        let mut builder = self.client.request(parts.method, url);
        for (name, value) in &parts.headers {
            builder = builder.header(name, value);
        }
        if !body.is_empty() {
            builder = builder.body(body);
        }
        let mut response = builder
            .send()
            .await
            .map_err(|e| ProviderHttpError::Network(e.to_string()))?;
        let mut answer = http::Response::builder().status(response.status());
        for (name, value) in response.headers() {
            answer = answer.header(name, value);
        }
        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|e| ProviderHttpError::Network(e.to_string()))?
        {
            if body.len() + chunk.len() > MAX_BODY {
                return Err(ProviderHttpError::TooLarge);
            }
            body.extend_from_slice(&chunk);
        }
        answer
            .body(body)
            .map_err(|e| ProviderHttpError::Network(e.to_string()))
    }
}

impl<'c> AsyncHttpClient<'c> for ProviderClient {
    type Error = ProviderHttpError;
    type Future =
        Pin<Box<dyn Future<Output = Result<HttpResponse, ProviderHttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(self.send(request))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Outside dev mode the provider may not be on loopback or a private
    /// address, nor anything but http(s): refused before any request.
    #[tokio::test]
    async fn internal_addresses_are_refused_outside_dev_mode() {
        let client = ProviderClient::new(reqwest::Client::new().into(), false);
        for url in [
            "http://127.0.0.1:8080/.well-known/openid-configuration",
            "http://10.0.0.7/jwks",
            "http://id.localhost/token",
            "ftp://files.example/key",
        ] {
            let request = http::Request::get(url).body(Vec::new()).unwrap();
            let refused = client.call(request).await;
            assert!(
                matches!(refused, Err(ProviderHttpError::Refused(..))),
                "{url}: {refused:?}"
            );
        }
    }
}
