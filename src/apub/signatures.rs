//! Verifying HTTP signatures on GET requests (signed fetches).
//!
//! The federation crate's verifier insists on a `Digest` header, which
//! Mastodon does not send on GETs; this one follows draft-cavage as Mastodon
//! signs fetches: the signature must cover `(request-target)`, `host` and
//! `date`, the `Date` must be within 12 hours, and the key is the one its
//! owner publishes (fetched, and re-fetched once if it no longer verifies,
//! in case the owner rotated it).

use crate::{
    apub::Data,
    context::Context,
    db::actor::Actor,
    delivery::sign::{parse_signature_header, SignatureHeader},
    error::{Error, Result},
};
use activitypub_federation::fetch::object_id::ObjectId;
use actix_web::HttpRequest;
use chrono::{DateTime, Utc};
use openssl::{hash::MessageDigest, pkey::PKey, sign::Verifier};
use url::Url;

/// How far a request's `Date` may be from our clock.
pub const MAX_CLOCK_SKEW: chrono::TimeDelta = chrono::TimeDelta::hours(12);

/// The actor whose valid signature a request carries.
///
/// Errors: `Unauthorized` for a missing, malformed, stale or wrong
/// signature; `Forbidden` when policy refuses the signer's host.
pub async fn verify_request(req: &HttpRequest, data: &Data<Context>) -> Result<Actor> {
    let header = req
        .headers()
        .get("signature")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| Error::unauthorized("missing Signature header"))?;
    let parsed = parse_signature_header(header)
        .ok_or_else(|| Error::unauthorized("malformed Signature header"))?;
    for required in ["(request-target)", "host", "date"] {
        if !parsed.headers.iter().any(|h| h == required) {
            return Err(Error::unauthorized(format!(
                "the signature must cover {required}"
            )));
        }
    }
    check_date(req)?;
    let signing_string = signing_string(req, &parsed)?;
    let mut owner_url =
        Url::parse(&parsed.key_id).map_err(|_| Error::unauthorized("keyId is not a URL"))?;
    owner_url.set_fragment(None);
    let owner: ObjectId<Actor> = owner_url.into();
    let actor = owner
        .dereference(data)
        .await
        .map_err(|e| e.with_kind(crate::error::ErrorKind::Unauthorized))?;
    if verifies(&actor.public_key_pem, &signing_string, &parsed.signature) {
        return Ok(actor);
    }
    // The owner may have rotated its key since we stored it.
    if let Some(fresh) = refetch_if_key_may_have_rotated(data, &actor).await {
        if verifies(&fresh.public_key_pem, &signing_string, &parsed.signature) {
            return Ok(fresh);
        }
    }
    Err(Error::unauthorized("signature does not verify"))
}

/// The `Date` header must be present and within [`MAX_CLOCK_SKEW`] of our
/// clock: a replayed old request is refused even with a valid signature.
pub fn check_date(req: &HttpRequest) -> Result<()> {
    let value = req
        .headers()
        .get("date")
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| Error::unauthorized("missing Date header"))?;
    let date = DateTime::parse_from_rfc2822(value)
        .map_err(|_| Error::unauthorized("unreadable Date header"))?
        .with_timezone(&Utc);
    if (Utc::now() - date).abs() > MAX_CLOCK_SKEW {
        return Err(Error::unauthorized("Date header too far from now"));
    }
    Ok(())
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

/// The string the signer signed, rebuilt from the request.
fn signing_string(req: &HttpRequest, parsed: &SignatureHeader) -> Result<String> {
    let mut lines = Vec::with_capacity(parsed.headers.len());
    for name in &parsed.headers {
        if name == "(request-target)" {
            let target = req
                .uri()
                .path_and_query()
                .map_or_else(|| req.path().to_string(), |pq| pq.as_str().to_string());
            lines.push(format!(
                "(request-target): {} {target}",
                req.method().as_str().to_ascii_lowercase()
            ));
        } else {
            let value = req
                .headers()
                .get(name.as_str())
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| Error::unauthorized(format!("signed header {name} is missing")))?;
            lines.push(format!("{name}: {value}"));
        }
    }
    Ok(lines.join("\n"))
}

/// RSASSA-PKCS1-v1_5 / SHA-256 check with openssl.
fn verifies(public_key_pem: &str, signing_string: &str, signature_b64: &str) -> bool {
    let check = || -> std::result::Result<bool, openssl::error::ErrorStack> {
        let signature = openssl::base64::decode_block(signature_b64)?;
        let key = PKey::public_key_from_pem(public_key_pem.as_bytes())?;
        let mut verifier = Verifier::new(MessageDigest::sha256(), &key)?;
        verifier.update(signing_string.as_bytes())?;
        verifier.verify(&signature)
    };
    check().unwrap_or(false)
}
