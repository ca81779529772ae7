//! Verifying inbound HTTP signatures: one verifier for signed GETs (signed
//! fetches) and inbox POSTs, for both schemes servers send.
//!
//! - RFC 9421 HTTP Message Signatures ([`rfc9421`]: `Signature-Input` and
//!   `Signature`, `Content-Digest`), sent by Mastodon 4.5+ and Fedify 1.6+.
//!   Preferred when a request carries both kinds.
//! - draft-cavage HTTP Signatures ([`cavage`]: `Signature`, `Digest`), what
//!   everyone else sends.
//!
//! Either way the signature must cover the method and target, the host, a
//! timestamp, and on a POST the body's digest (checked against the body).
//! The timestamp (`Date`, `(created)` or `created`) may be up to
//! [`MAX_AGE`] old and [`MAX_FUTURE`] ahead, Mastodon's
//! EXPIRATION_WINDOW_LIMIT and CLOCK_SKEW_MARGIN; an `expires` in the past
//! by more than [`MAX_FUTURE`] is refused. Every refusal is a 401 whose JSON
//! names the reason, so the sender can tell what to fix instead of retrying.
//!
//! The key is always the one the signing actor's own document publishes:
//! the keyId only says which actor that is (`…#main-key` as Mastodon, the
//! actor URL itself, or GoToSocial's `…/main-key` path, whose document names
//! the owner). When the stored key does not verify, the actor is fetched
//! again once, in case it rotated its key. The signature is checked with
//! openssl: ~10× faster than the pure-Rust `rsa` crate the federation crate
//! uses, and inbox throughput is bounded by it.

pub mod cavage;
pub mod rfc9421;

use crate::{
    apub::Data,
    context::Context,
    db::actor::Actor,
    error::{Error, ErrorKind, Result},
};
use activitypub_federation::fetch::{fetch_object_http, object_id::ObjectId};
use actix_web::{http::header::HeaderMap, HttpRequest};
use chrono::{DateTime, TimeDelta, Utc};
use openssl::{
    hash::MessageDigest,
    pkey::{Id, PKey},
    rsa::Padding,
    sign::{RsaPssSaltlen, Verifier},
};
use std::borrow::Cow;
use url::Url;

/// How old a signature's timestamp may be (Mastodon's
/// EXPIRATION_WINDOW_LIMIT): queued deliveries are retried for hours with
/// their original signature date by some servers.
pub const MAX_AGE: TimeDelta = TimeDelta::hours(12);

/// How far ahead of our clock a timestamp may be (Mastodon's
/// CLOCK_SKEW_MARGIN).
pub const MAX_FUTURE: TimeDelta = TimeDelta::hours(1);

/// Why a header could not be read; the text is safe to show the sender.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParseError(pub &'static str);

impl ParseError {
    fn unauthorized(self) -> Error {
        Error::unauthorized(self.0)
    }
}

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

/// What the verifier reads of a request.
pub struct RequestView<'a> {
    /// As received (`GET`, `POST`).
    pub method: &'a str,
    /// Path and query as received (the request target).
    pub target: &'a str,
    pub headers: &'a HeaderMap,
    /// Our scheme and `host[:port]`: RFC 9421's `@target-uri` and
    /// `@authority` are those the sender addressed, which must be us.
    pub scheme: &'a str,
    pub authority: &'a str,
}

impl<'a> RequestView<'a> {
    pub fn of(req: &'a HttpRequest, data: &'a Data<Context>) -> RequestView<'a> {
        RequestView {
            method: req.method().as_str(),
            target: req
                .uri()
                .path_and_query()
                .map_or_else(|| req.path(), |pq| pq.as_str()),
            headers: req.headers(),
            scheme: data.urls.base().scheme(),
            authority: data.urls.domain(),
        }
    }
}

/// A header's value as signers see it: several fields of one name joined
/// with `, ` (RFC 9110 §5.3), trimmed. `None` if absent or not text.
fn header_value<'h>(headers: &'h HeaderMap, name: &str) -> Option<Cow<'h, str>> {
    let mut values = headers.get_all(name);
    let first = values.next()?.to_str().ok()?.trim();
    let Some(second) = values.next() else {
        return Some(Cow::Borrowed(first));
    };
    let mut joined = String::from(first);
    for value in std::iter::once(second).chain(values) {
        joined.push_str(", ");
        joined.push_str(value.to_str().ok()?.trim());
    }
    Some(Cow::Owned(joined))
}

/// The signature algorithms accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// No algorithm named (RFC 9421 without `alg`, cavage `hs2019`): RSA
    /// keys mean RSASSA-PKCS1-v1_5 with SHA-256, Ed25519 keys Ed25519.
    FromKey,
    RsaSha256,
    RsaSha512,
    RsaPssSha512,
    Ed25519,
}

/// Which scheme a request was signed with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Cavage,
    Rfc9421,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Cavage => "draft-cavage",
            Scheme::Rfc9421 => "rfc9421",
        }
    }
}

/// A signature whose form, coverage, timestamps and digest were checked:
/// what remains is the key.
#[derive(Debug)]
pub struct Prepared {
    pub key_id: String,
    pub algorithm: Algorithm,
    pub signature: Vec<u8>,
    /// The signing string (cavage) or signature base (RFC 9421).
    pub base: String,
    pub scheme: Scheme,
}

/// Everything about a request's signature that needs no key: picks the
/// scheme (RFC 9421 when `Signature-Input` is present), checks what it
/// covers, its timestamps against `now` and, when `body` is given (any
/// request but GET and HEAD), its digest; rebuilds the string that was
/// signed.
pub fn prepare(
    view: &RequestView<'_>,
    body: Option<&[u8]>,
    now: DateTime<Utc>,
) -> Result<Prepared> {
    let text = |name: &str| view.headers.get(name).and_then(|v| v.to_str().ok());
    match (text("signature-input"), text("signature")) {
        (Some(input), Some(signature)) => rfc9421::prepare(view, input, signature, body, now),
        (Some(_), None) => Err(Error::unauthorized(
            "Signature-Input without a Signature header",
        )),
        (None, Some(signature)) => cavage::prepare(view, signature, body, now),
        (None, None) => Err(Error::unauthorized("missing Signature header")),
    }
}

/// `at` must be at most [`MAX_AGE`] old and [`MAX_FUTURE`] ahead of `now`,
/// and `expires`, if given, not past (by more than [`MAX_FUTURE`]).
fn check_window(
    what: &str,
    at: DateTime<Utc>,
    expires: Option<DateTime<Utc>>,
    now: DateTime<Utc>,
) -> Result<()> {
    if at < now - MAX_AGE {
        return Err(Error::unauthorized(format!(
            "{what} is more than 12 hours old: the signature has expired"
        )));
    }
    if at > now + MAX_FUTURE {
        return Err(Error::unauthorized(format!(
            "{what} is more than 1 hour in the future: check the sender's clock"
        )));
    }
    match expires {
        Some(expires) => check_expires(expires, now),
        None => Ok(()),
    }
}

/// A signature's `expires` parameter (seconds since the epoch) as a time;
/// 401 when it is out of range.
fn expires_at(secs: Option<i64>) -> Result<Option<DateTime<Utc>>> {
    secs.map(|secs| {
        DateTime::from_timestamp(secs, 0)
            .ok_or_else(|| Error::unauthorized("expires is out of range"))
    })
    .transpose()
}

fn check_expires(expires: DateTime<Utc>, now: DateTime<Utc>) -> Result<()> {
    if expires + MAX_FUTURE < now {
        return Err(Error::unauthorized("the signature has expired"));
    }
    Ok(())
}

/// The actor whose valid signature a GET carries.
///
/// Errors: `Unauthorized` for a missing, malformed, stale or wrong
/// signature, or a key that cannot be found; `Unavailable` when our
/// database is down.
pub async fn verify_request(req: &HttpRequest, data: &Data<Context>) -> Result<Actor> {
    let prepared = prepare(&RequestView::of(req, data), None, Utc::now())?;
    let actor = key_owner(data, &prepared.key_id).await?;
    verify_with(data, actor, &prepared).await
}

/// The verified signer of an inbox POST claiming to come from `actor`: the
/// signature must verify with that actor's key (a server may sign only for
/// its own actors), and the keyId must be on the actor's host.
pub async fn verify_post(
    req: &HttpRequest,
    body: &[u8],
    data: &Data<Context>,
    actor: &Url,
) -> Result<Actor> {
    let prepared = prepare(&RequestView::of(req, data), Some(body), Utc::now())?;
    let key =
        Url::parse(&prepared.key_id).map_err(|_| Error::unauthorized("the keyId is not a URL"))?;
    let same_host = key.host_str().map(str::to_ascii_lowercase)
        == actor.host_str().map(str::to_ascii_lowercase)
        && key.port_or_known_default() == actor.port_or_known_default();
    if !same_host {
        return Err(Error::unauthorized(
            "the signing key is not on the activity's actor's host",
        ));
    }
    let owner: ObjectId<Actor> = actor.clone().into();
    let actor = owner.dereference(data).await.map_err(key_unavailable)?;
    verify_with(data, actor, &prepared).await
}

/// Checks `prepared` with `actor`'s key, and once more with a fresh copy
/// of the actor if that fails and it may have rotated its key.
async fn verify_with(data: &Data<Context>, actor: Actor, prepared: &Prepared) -> Result<Actor> {
    if verifies(&actor.public_key_pem, prepared) {
        tracing::debug!(scheme = prepared.scheme.as_str(), signer = %actor.ap_id, "signature verified");
        return Ok(actor);
    }
    if let Some(fresh) = refetch_if_key_may_have_rotated(data, &actor).await {
        if verifies(&fresh.public_key_pem, prepared) {
            tracing::debug!(scheme = prepared.scheme.as_str(), signer = %fresh.ap_id, "signature verified with a rotated key");
            return Ok(fresh);
        }
    }
    Err(Error::unauthorized("the signature does not verify"))
}

/// Failing to find a key is the sender's problem (401), unless our own
/// database is down (503) or policy refuses the host (403).
fn key_unavailable(e: Error) -> Error {
    match e.kind {
        ErrorKind::Unavailable | ErrorKind::Forbidden => e,
        _ => {
            let message = format!("could not load the signing key: {}", e.safe_message());
            e.with_kind(ErrorKind::Unauthorized).with_message(message)
        }
    }
}

/// The actor a keyId belongs to (for GETs, where nothing else names it).
async fn key_owner(data: &Data<Context>, key_id: &str) -> Result<Actor> {
    let key = Url::parse(key_id).map_err(|_| Error::unauthorized("the keyId is not a URL"))?;
    let dereference = |url: Url| async move {
        let id: ObjectId<Actor> = url.into();
        id.dereference(data).await.map_err(key_unavailable)
    };
    // `{actor}#main-key` (Mastodon, Lemmy, Outloud, Fedify).
    if key.fragment().is_some() {
        let mut owner = key;
        owner.set_fragment(None);
        return dereference(owner).await;
    }
    // The actor URL itself, or GoToSocial's `{actor}/main-key` of an actor
    // we know: no fetch (the key used is still the actor's own).
    let candidates = [
        Some(key.clone()),
        key.as_str()
            .strip_suffix("/main-key")
            .and_then(|u| Url::parse(u).ok()),
    ];
    for candidate in candidates.into_iter().flatten() {
        let id = candidate.clone();
        let known = data
            .db
            .run(move |conn| Ok(Actor::by_ap_id(conn, &id)?))
            .await?;
        if let Some(actor) = known {
            return Ok(actor);
        }
    }
    // A key document: GoToSocial serves a stub of the actor there (its
    // `publicKey.id` is the keyId), others a key with an `owner`.
    let document = fetch_object_http::<Context, serde_json::Value>(&key, data)
        .await
        .map_err(|e| key_unavailable(e.into()))?
        .object;
    let owner = owner_in_key_document(&document, key_id)
        .ok_or_else(|| Error::unauthorized("the key document names no owner"))?;
    if owner.host_str() != key.host_str()
        || owner.port_or_known_default() != key.port_or_known_default()
    {
        return Err(Error::unauthorized(
            "the key's owner is not on the key's host",
        ));
    }
    dereference(owner).await
}

/// `owner` of a key document, or `id` of an actor document whose
/// `publicKey.id` is `key_id`.
fn owner_in_key_document(document: &serde_json::Value, key_id: &str) -> Option<Url> {
    if let Some(owner) = document.get("owner").and_then(|o| o.as_str()) {
        if document.get("id").and_then(|i| i.as_str()) == Some(key_id) {
            return Url::parse(owner).ok();
        }
    }
    let keys = document.get("publicKey")?;
    // The keyId is the actor URL itself.
    if document.get("id").and_then(|i| i.as_str()) == Some(key_id) {
        return Url::parse(key_id).ok();
    }
    let names_key = |k: &serde_json::Value| k.get("id").and_then(|i| i.as_str()) == Some(key_id);
    let owns = match keys {
        serde_json::Value::Array(keys) => keys.iter().any(names_key),
        key => names_key(key),
    };
    if owns {
        document
            .get("id")?
            .as_str()
            .and_then(|id| Url::parse(id).ok())
    } else {
        None
    }
}

/// When a signature fails against a remote actor's stored key, the actor
/// may have rotated it: fetches the actor again and returns the fresh copy
/// if its key changed. At most once a minute per actor, so bad signatures
/// cannot make us fetch on every request.
pub async fn refetch_if_key_may_have_rotated(data: &Data<Context>, known: &Actor) -> Option<Actor> {
    let stale = known
        .last_fetched_at
        .is_none_or(|t| Utc::now().naive_utc() - t > chrono::TimeDelta::minutes(1));
    if known.local || !stale {
        return None;
    }
    let id: ObjectId<Actor> = known.ap_id.0.clone().into();
    match id.dereference_forced(data).await {
        Ok(fresh) if fresh.public_key_pem != known.public_key_pem => Some(fresh),
        Ok(_) => None,
        Err(e) => {
            tracing::debug!(error = %e, "could not refresh an actor after a failed signature");
            None
        }
    }
}

/// Checks the signature with openssl against `public_key_pem`. A key of
/// the wrong type for the algorithm, or any openssl error, is a failure.
pub fn verifies(public_key_pem: &str, prepared: &Prepared) -> bool {
    let check = || -> std::result::Result<bool, openssl::error::ErrorStack> {
        let key = PKey::public_key_from_pem(public_key_pem.as_bytes())?;
        let algorithm = match (prepared.algorithm, key.id()) {
            (Algorithm::FromKey, Id::RSA) => Algorithm::RsaSha256,
            (Algorithm::FromKey, Id::ED25519) => Algorithm::Ed25519,
            (Algorithm::FromKey, _) => return Ok(false),
            (algorithm, _) => algorithm,
        };
        let message = prepared.base.as_bytes();
        let digest = match algorithm {
            Algorithm::Ed25519 => {
                if key.id() != Id::ED25519 {
                    return Ok(false);
                }
                let mut verifier = Verifier::new_without_digest(&key)?;
                return verifier.verify_oneshot(&prepared.signature, message);
            }
            _ if key.id() != Id::RSA => return Ok(false),
            Algorithm::RsaSha256 | Algorithm::FromKey => MessageDigest::sha256(),
            Algorithm::RsaSha512 | Algorithm::RsaPssSha512 => MessageDigest::sha512(),
        };
        let mut verifier = Verifier::new(digest, &key)?;
        if algorithm == Algorithm::RsaPssSha512 {
            // RFC 9421 §3.3.1: MGF1 with SHA-512, 64-byte salt.
            verifier.set_rsa_padding(Padding::PKCS1_PSS)?;
            verifier.set_rsa_mgf1_md(MessageDigest::sha512())?;
            verifier.set_rsa_pss_saltlen(RsaPssSaltlen::custom(64))?;
        }
        verifier.update(message)?;
        verifier.verify(&prepared.signature)
    };
    check().unwrap_or(false)
}

#[cfg(test)]
mod tests;
