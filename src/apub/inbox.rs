//! `POST /inbox` and `POST /users/{name}/inbox`: how activities get in.
//!
//! In order: the body must be JSON naming an `id` and an `actor` (else 400);
//! the actor's host must be allowed by policy (else 403); the HTTP signature
//! (RFC 9421 or draft-cavage, see [`signatures`]) must cover the request,
//! its timestamp and its digest, the digest must match the body, and it
//! must verify with the actor's key (else 401 naming the reason; when the
//! stored key fails, the actor is fetched again once, in case it rotated
//! it); the body must be an activity we can read (400), whose id is on the
//! actor's host (400) and not ours. Only then: an id processed before is
//! acknowledged and ignored (so a forged duplicate still gets 401), and the
//! activity is verified and received ([`InboxActivity`]). When processing
//! loses a race to store a row (the same object arriving twice at once), it
//! runs again. A verified request also tells the delivery queue the
//! sender's server is alive.
//!
//! The federation crate's `receive_activity` is not used: it verifies with
//! the pure-Rust `rsa` crate, does not require `Date` to be signed, answers
//! 500 for a Date older than its fixed hour and knows no RFC 9421.

use crate::{
    apub::{activities::InboxActivity, objects::actor::with_signer, signatures, Data},
    context::Context,
    db::{actor::Actor, domain_policy, received_activity},
    error::{Error, ErrorKind, Result},
};
use activitypub_federation::traits::Activity;
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use tracing::Instrument;
use url::Url;

/// The part of an activity read before anything is verified (public for
/// the fuzz targets in `tests/fuzz`).
#[derive(Deserialize)]
pub struct Envelope {
    pub id: Url,
    pub actor: Url,
}

/// `POST /inbox` (and the instance actor's inbox).
pub async fn post_shared_inbox(
    req: HttpRequest,
    body: web::Bytes,
    data: Data<Context>,
) -> Result<HttpResponse> {
    receive(req, body, &data).await
}

/// `POST /users/{name}/inbox`
pub async fn post_person_inbox(
    req: HttpRequest,
    name: web::Path<String>,
    body: web::Bytes,
    data: Data<Context>,
) -> Result<HttpResponse> {
    crate::service::accounts::local_actor(&data.db, &name).await?;
    receive(req, body, &data).await
}

async fn receive(req: HttpRequest, body: web::Bytes, data: &Data<Context>) -> Result<HttpResponse> {
    let envelope: Envelope = serde_json::from_slice(&body)
        .map_err(|e| Error::bad_request(format!("not an activity: {e}")))?;
    let span = tracing::info_span!("inbox", activity = %envelope.id, actor = %envelope.actor);
    handle(req, body, data, envelope).instrument(span).await
}

async fn handle(
    req: HttpRequest,
    body: web::Bytes,
    data: &Data<Context>,
    envelope: Envelope,
) -> Result<HttpResponse> {
    let host = envelope
        .actor
        .host_str()
        .ok_or_else(|| Error::bad_request("actor has no host"))?
        .to_ascii_lowercase();
    let known = lookups(data, host, &envelope).await?;
    if !known.allowed {
        return Err(Error::forbidden(
            "this instance does not federate with your server",
        ));
    }
    with_signer(known.signer, async {
        let actor = signatures::verify_post(&req, &body, data, &envelope.actor).await?;
        let activity = parse(&body, &actor, data)?;
        let outcome = process(activity, data, Some(known.seen)).await;
        let outcome = retry_races(outcome, || async {
            process(parse(&body, &actor, data)?, data, None).await
        })
        .await;
        match outcome {
            Ok(()) => {
                // A verified request proves the sender's server is up:
                // deliveries parked for it resume.
                let id = envelope.id.clone();
                let host = crate::apub::objects::actor::domain_of(&envelope.actor);
                data.db
                    .transaction(move |conn| {
                        received_activity::record(conn, &id)?;
                        crate::delivery::host_seen_alive(conn, &host)?;
                        Ok(())
                    })
                    .await?;
                Ok(HttpResponse::Accepted().finish())
            }
            Err(e) if e.kind == ErrorKind::AlreadyProcessed => {
                Ok(HttpResponse::Accepted().finish())
            }
            Err(e) => Err(e),
        }
    })
    .await
}

/// What the database knows about a request before anything is verified.
struct Lookups {
    /// The federation policy allows the actor's host.
    allowed: bool,
    /// The claimed actor's stored row, if any.
    signer: Option<Actor>,
    /// The activity id was processed before.
    seen: bool,
}

/// The policy, the claimed actor and the dedupe row in one database round
/// trip (each was one of its own). Reading the actor and the dedupe row
/// before the checks changes nothing they decide: neither is believed
/// until the signature verifies, and the dedupe answer is as fresh as it
/// was when read right before processing (concurrent duplicates are
/// caught by `received_activity::record` and the races retry).
async fn lookups(data: &Data<Context>, host: String, envelope: &Envelope) -> Result<Lookups> {
    let mode = data.config.federation.policy;
    let (actor, id) = (envelope.actor.clone(), envelope.id.clone());
    data.db
        .run(move |conn| {
            if !domain_policy::allows(conn, mode, &host)? {
                return Ok(Lookups {
                    allowed: false,
                    signer: None,
                    seen: false,
                });
            }
            Ok(Lookups {
                allowed: true,
                signer: Actor::by_ap_id(conn, &actor)?,
                seen: received_activity::seen(conn, &id)?,
            })
        })
        .await
}

/// The body as an activity by the verified `actor`, with an id on the
/// actor's host (what the federation crate's `verify_url_and_domain` did;
/// the host already passed the federation policy as the actor's).
fn parse(body: &[u8], actor: &Actor, data: &Data<Context>) -> Result<InboxActivity> {
    let activity: InboxActivity = serde_json::from_slice(body)
        .map_err(|e| Error::bad_request(format!("unreadable activity: {e}")))?;
    if activity.actor() != &actor.ap_id.0 {
        return Err(Error::unauthorized(
            "the activity's actor is not the signer",
        ));
    }
    let id = activity.id();
    let on_actor_host = id.host_str().map(str::to_ascii_lowercase)
        == actor.ap_id.0.host_str().map(str::to_ascii_lowercase);
    if !on_actor_host {
        return Err(Error::bad_request(
            "the activity id is not on the actor's host",
        ));
    }
    match id.scheme() {
        "https" => {}
        "http" if data.config.dev_mode() => {}
        _ => return Err(Error::bad_request("the activity id must be an https URL")),
    }
    if crate::apub::objects::actor::domain_of(id) == data.urls.domain() {
        return Err(Error::bad_request(
            "the activity claims to come from this instance",
        ));
    }
    Ok(activity)
}

/// Dedupe, then the activity's own checks and effects. `seen` is the
/// dedupe answer when it was just read ([`lookups`]); `None` reads it.
async fn process(activity: InboxActivity, data: &Data<Context>, seen: Option<bool>) -> Result<()> {
    let seen = match seen {
        Some(seen) => seen,
        None => {
            let id = activity.id().clone();
            data.db
                .run(move |conn| Ok(received_activity::seen(conn, &id)?))
                .await?
        }
    };
    if seen {
        return Err(Error::new(ErrorKind::AlreadyProcessed, "already processed"));
    }
    tracing::debug!("receiving activity");
    activity.verify(data).await?;
    activity.receive(data).await
}

/// Processes an activity again when it lost a race to store a row: the
/// same object (or actor) arriving in two requests at once, say from its
/// author and boosted by a community. Each try is its own transaction, so
/// the next one reads the row the other request stored. Answering 409
/// instead would make the sender give the delivery up.
async fn retry_races<F, Fut>(mut outcome: Result<()>, mut again: F) -> Result<()>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<()>>,
{
    for _ in 0..3 {
        match &outcome {
            Err(e) if e.is_unique_violation() => {
                tracing::debug!("lost a race to store a row; processing again");
                outcome = again().await;
            }
            _ => break,
        }
    }
    outcome
}
