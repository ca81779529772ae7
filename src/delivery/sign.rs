//! Signing outbound POSTs with openssl through
//! `http-signature-normalization-reqwest` (draft-cavage HTTP Signatures as
//! Mastodon sends and checks them), plus an independent openssl verifier
//! that tests use as a second opinion beside the federation crate's own.
//!
//! Why not the federation crate's signer: it uses the pure-Rust `rsa` crate,
//! ~620 RSA-2048 signatures/s per core against ~4,000/s for openssl, and
//! `rsa` 0.9 carries RUSTSEC-2023-0071 (research/stack.md §2).

use activitypub_federation::FEDERATION_CONTENT_TYPE;
use http_signature_normalization_reqwest::{
    prelude::{Config, DigestCreate, Sign},
    Canceled, SignError, Spawn,
};
use openssl::{
    hash::MessageDigest,
    pkey::{PKey, Private, Public},
    sign::{Signer, Verifier},
};
use reqwest_middleware::ClientWithMiddleware;
use std::{
    collections::BTreeMap,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, LazyLock,
    },
    time::{Duration, Instant},
};
use url::Url;

/// How long a signature stays valid for receivers that check `Date`
/// (Mastodon allows 12 h of skew; the federation crate signs for 1 h).
pub const SIGNATURE_VALIDITY: Duration = Duration::from_secs(60 * 60);

/// Mastodon-compatible signing: no `(created)`/`(expires)`, `Host` and
/// `Date` set and signed. With the `Content-Type` and `Digest` headers this
/// module adds, the signed headers are exactly `(request-target)`,
/// `content-type`, `date`, `digest` and `host` (the library lists them in
/// alphabetical order; receivers follow the `headers` parameter).
static CONFIG: LazyLock<Config<Inline>> = LazyLock::new(|| {
    Config::new()
        .mastodon_compat()
        .require_digest()
        .set_expiration(SIGNATURE_VALIDITY)
        .set_spawner(Inline)
});

/// Runs the library's "blocking" steps (the body digest, the RSA signature)
/// right where they are called. With openssl both take a fraction of a
/// millisecond, less than handing them to another thread and back twice
/// per delivery costs; the workers are already many small tasks.
#[derive(Debug, Clone, Copy)]
pub struct Inline;

impl Spawn for Inline {
    type Future<T>
        = std::future::Ready<Result<T, Canceled>>
    where
        T: Send;

    fn spawn_blocking<Func, Out>(&self, func: Func) -> Self::Future<Out>
    where
        Func: FnOnce() -> Out + Send + 'static,
        Out: Send + 'static,
    {
        std::future::ready(Ok(func()))
    }
}

/// Why a request could not be built or sent.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("signing failed: {0}")]
    Sign(String),
    #[error("{0}")]
    Http(#[from] reqwest::Error),
    #[error("{0}")]
    Middleware(#[from] reqwest_middleware::Error),
}

impl From<SignError> for SendError {
    fn from(e: SignError) -> Self {
        SendError::Sign(e.to_string())
    }
}

impl From<openssl::error::ErrorStack> for SendError {
    fn from(e: openssl::error::ErrorStack) -> Self {
        SendError::Sign(e.to_string())
    }
}

/// SHA-256 for the `Digest` header, computed with openssl.
pub struct OpensslSha256;

impl DigestCreate for OpensslSha256 {
    const NAME: &'static str = "SHA-256";

    fn compute(&mut self, input: &[u8]) -> String {
        openssl::base64::encode_block(&openssl::sha::sha256(input))
    }
}

/// RSASSA-PKCS1-v1_5 with SHA-256 over `signing_string`, base64.
pub fn sign_string(key: &PKey<Private>, signing_string: &str) -> Result<String, SendError> {
    let mut signer = Signer::new(MessageDigest::sha256(), key)?;
    signer.update(signing_string.as_bytes())?;
    Ok(openssl::base64::encode_block(&signer.sign_to_vec()?))
}

/// An activity's body with its `Digest` header value. The body is the same
/// for every inbox an activity goes to, so this is computed once per
/// activity and shared by all its deliveries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    body: String,
    /// `SHA-256=…`, as the signature library's `signature_with_digest`
    /// writes it.
    digest: String,
}

impl Payload {
    pub fn new(body: String) -> Payload {
        let digest = format!(
            "{}={}",
            OpensslSha256::NAME,
            OpensslSha256.compute(body.as_bytes())
        );
        Payload { body, digest }
    }

    pub fn body(&self) -> &str {
        &self.body
    }
}

/// Builds a signed `POST inbox` carrying `body`, signed by `key` under
/// `key_id` (`{actor}#main-key`). The request is returned unsent so the
/// caller times only the network part.
pub async fn signed_post(
    client: &ClientWithMiddleware,
    inbox: &Url,
    key_id: String,
    key: PKey<Private>,
    body: String,
    timeout: Duration,
) -> Result<reqwest::Request, SendError> {
    signed_post_timed(client, inbox, key_id, key, &Payload::new(body), timeout)
        .await
        .map(|(request, _)| request)
}

/// [`signed_post`] of a prepared [`Payload`], also returning how long the
/// RSA signature itself took.
pub async fn signed_post_timed(
    client: &ClientWithMiddleware,
    inbox: &Url,
    key_id: String,
    key: PKey<Private>,
    payload: &Payload,
    timeout: Duration,
) -> Result<(reqwest::Request, Duration), SendError> {
    let signing_micros = Arc::new(AtomicU64::new(0));
    let recorder = signing_micros.clone();
    let mut request = client
        .post(inbox.as_str())
        .timeout(timeout)
        .header(reqwest::header::CONTENT_TYPE, FEDERATION_CONTENT_TYPE)
        .header("Digest", payload.digest.as_str())
        .body(payload.body.clone())
        .signature(&CONFIG, key_id, move |signing_string| {
            let started = Instant::now();
            let signature = sign_string(&key, signing_string);
            let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
            recorder.store(micros, Ordering::Relaxed);
            signature
        })
        .await?;
    // The library always writes `algorithm="hs2019"`. The signature is
    // rsa-sha256, and that is the name Mastodon sends; receivers accept
    // either, and the parameter is not part of the signed string.
    if let Some(value) = request.headers().get("signature") {
        let rewritten = value
            .to_str()
            .map(|v| v.replace("algorithm=\"hs2019\"", "algorithm=\"rsa-sha256\""))
            .ok()
            .and_then(|v| reqwest::header::HeaderValue::from_str(&v).ok());
        if let Some(rewritten) = rewritten {
            request.headers_mut().insert("signature", rewritten);
        }
    }
    let signing = Duration::from_micros(signing_micros.load(Ordering::Relaxed));
    Ok((request, signing))
}

/// The parameters of a `Signature` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader {
    pub key_id: String,
    pub algorithm: Option<String>,
    pub headers: Vec<String>,
    pub signature: String,
}

/// Parses `keyId="…",algorithm="…",headers="…",signature="…"`.
pub fn parse_signature_header(value: &str) -> Option<SignatureHeader> {
    let mut params = BTreeMap::new();
    for part in value.split(',') {
        let (name, quoted) = part.trim().split_once('=')?;
        let unquoted = quoted.trim().strip_prefix('"')?.strip_suffix('"')?;
        params.insert(name.trim().to_string(), unquoted.to_string());
    }
    Some(SignatureHeader {
        key_id: params.get("keyId")?.clone(),
        algorithm: params.get("algorithm").cloned(),
        headers: params
            .get("headers")
            .map_or("date", String::as_str)
            .split_whitespace()
            .map(str::to_ascii_lowercase)
            .collect(),
        signature: params.get("signature")?.clone(),
    })
}

/// Verifies a received request independently of the federation crate:
/// rebuilds the signing string from the `headers` parameter, checks it with
/// openssl against `public_key_pem`, and checks `Digest` against `body`.
/// `headers` are (lower-case name, value) pairs as received. Requires the
/// signature to cover `(request-target)`, `host`, `date` and `digest`.
pub fn verify_with_openssl(
    method: &str,
    path_and_query: &str,
    headers: &BTreeMap<String, String>,
    body: &[u8],
    public_key_pem: &str,
) -> Result<SignatureHeader, String> {
    let header = headers.get("signature").ok_or("no Signature header")?;
    let parsed = parse_signature_header(header).ok_or("malformed Signature header")?;
    for required in ["(request-target)", "host", "date", "digest"] {
        if !parsed.headers.iter().any(|h| h == required) {
            return Err(format!("signature does not cover {required}"));
        }
    }
    let digest = headers.get("digest").ok_or("no Digest header")?;
    let expected = format!(
        "SHA-256={}",
        openssl::base64::encode_block(&openssl::sha::sha256(body))
    );
    if digest != &expected {
        return Err(format!("Digest mismatch: {digest} != {expected}"));
    }
    let mut lines = Vec::with_capacity(parsed.headers.len());
    for name in &parsed.headers {
        if name == "(request-target)" {
            lines.push(format!(
                "(request-target): {} {}",
                method.to_ascii_lowercase(),
                path_and_query
            ));
        } else {
            let value = headers
                .get(name)
                .ok_or_else(|| format!("signed header {name} missing"))?;
            lines.push(format!("{name}: {value}"));
        }
    }
    let signing_string = lines.join("\n");
    let signature = openssl::base64::decode_block(&parsed.signature)
        .map_err(|e| format!("signature is not base64: {e}"))?;
    let key: PKey<Public> = PKey::public_key_from_pem(public_key_pem.as_bytes())
        .map_err(|e| format!("bad public key: {e}"))?;
    let mut verifier =
        Verifier::new(MessageDigest::sha256(), &key).map_err(|e| format!("verifier: {e}"))?;
    verifier
        .update(signing_string.as_bytes())
        .map_err(|e| format!("verifier: {e}"))?;
    match verifier.verify(&signature) {
        Ok(true) => Ok(parsed),
        Ok(false) => Err("signature does not verify".into()),
        Err(e) => Err(format!("signature does not verify: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request_headers(request: &reqwest::Request) -> BTreeMap<String, String> {
        let mut map: BTreeMap<String, String> = request
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap().to_string()))
            .collect();
        // reqwest adds Host when sending; the signer signed the URL's host.
        let url = request.url();
        let host = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap()),
            None => url.host_str().unwrap().to_string(),
        };
        map.entry("host".into()).or_insert(host);
        map
    }

    async fn signed_example() -> (reqwest::Request, String, String) {
        let keys = crate::crypto::generate_keypair().unwrap();
        let key = PKey::private_key_from_pem(keys.private_key_pem.as_bytes()).unwrap();
        let client: ClientWithMiddleware = reqwest::Client::new().into();
        let inbox = Url::parse("http://beta.localhost:4321/users/bob/inbox?x=1").unwrap();
        let body = r#"{"type":"Create","id":"http://alpha.localhost/activities/1"}"#.to_string();
        let request = signed_post(
            &client,
            &inbox,
            "http://alpha.localhost/users/alice#main-key".into(),
            key,
            body.clone(),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
        (request, keys.public_key_pem, body)
    }

    #[tokio::test]
    async fn signs_mastodon_compatible_headers() {
        let (request, public_key, body) = signed_example().await;
        let headers = request_headers(&request);
        let parsed = parse_signature_header(&headers["signature"]).unwrap();
        assert_eq!(parsed.key_id, "http://alpha.localhost/users/alice#main-key");
        assert_eq!(parsed.algorithm.as_deref(), Some("rsa-sha256"));
        let mut signed = parsed.headers.clone();
        signed.sort();
        assert_eq!(
            signed,
            ["(request-target)", "content-type", "date", "digest", "host"]
        );
        assert_eq!(headers["content-type"], FEDERATION_CONTENT_TYPE);
        assert!(headers["digest"].starts_with("SHA-256="));
        assert_eq!(
            request.body().and_then(|b| b.as_bytes()),
            Some(body.as_bytes())
        );
        verify_with_openssl(
            "POST",
            "/users/bob/inbox?x=1",
            &headers,
            body.as_bytes(),
            &public_key,
        )
        .unwrap();
    }

    #[tokio::test]
    async fn tampering_is_detected() {
        let (request, public_key, body) = signed_example().await;
        let headers = request_headers(&request);
        // Another path, another body, another date, another key.
        assert!(
            verify_with_openssl("POST", "/inbox", &headers, body.as_bytes(), &public_key).is_err()
        );
        assert!(
            verify_with_openssl("POST", "/users/bob/inbox?x=1", &headers, b"{}", &public_key)
                .is_err()
        );
        let mut changed = headers.clone();
        changed.insert("date".into(), "Thu, 01 Jan 1970 00:00:00 GMT".into());
        assert!(verify_with_openssl(
            "POST",
            "/users/bob/inbox?x=1",
            &changed,
            body.as_bytes(),
            &public_key
        )
        .is_err());
        let other = crate::crypto::generate_keypair().unwrap();
        assert!(verify_with_openssl(
            "POST",
            "/users/bob/inbox?x=1",
            &headers,
            body.as_bytes(),
            &other.public_key_pem
        )
        .is_err());
    }

    /// The signature library's own verifier (the one the federation crate
    /// builds on) accepts what we sign, as a third opinion.
    #[tokio::test]
    async fn library_verifier_accepts() {
        let (request, public_key, _) = signed_example().await;
        let headers = request_headers(&request);
        let config = http_signature_normalization::Config::new()
            .mastodon_compat()
            .require_digest();
        let key = PKey::public_key_from_pem(public_key.as_bytes()).unwrap();
        let ok = config
            .begin_verify("POST", "/users/bob/inbox?x=1", headers)
            .unwrap()
            .verify(|signature, signing_string| {
                let signature = openssl::base64::decode_block(signature).unwrap();
                let mut v = Verifier::new(MessageDigest::sha256(), &key).unwrap();
                v.update(signing_string.as_bytes()).unwrap();
                v.verify(&signature).unwrap()
            });
        assert!(ok);
    }
}
