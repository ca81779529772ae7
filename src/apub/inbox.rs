//! `POST /inbox` and `POST /users/{name}/inbox`: how activities get in.
//!
//! In order: the body must be JSON naming an `id` and an `actor` (else 400),
//! the actor's host must be allowed by policy (else 403), the `Date` header
//! must be within 12 hours (else 401); then the federation crate checks the
//! Digest and the HTTP signature against the actor's key (401), that the
//! activity id is on the actor's host (400), and hands the activity to
//! [`InboxActivity`]. An id processed before is acknowledged and ignored.
//! When a signature fails against a key we had stored, the actor is fetched
//! again once, in case it rotated its key; when processing loses a race to
//! store a row (the same object arriving twice at once), it runs again.

use crate::{
    apub::{activities::InboxActivity, signatures, Data},
    context::Context,
    db::{actor::Actor, domain_policy, received_activity},
    error::{Error, ErrorKind, Result},
};
use activitypub_federation::actix_web::inbox::{receive_activity_with_hook, ReceiveActivityHook};
use actix_web::{web, HttpRequest, HttpResponse};
use serde::Deserialize;
use tracing::Instrument;
use url::Url;

/// The part of an activity read before anything is verified.
#[derive(Deserialize)]
struct Envelope {
    id: Url,
    actor: Url,
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
    let mode = data.config.federation.policy;
    let allowed = data
        .db
        .run(move |conn| Ok(domain_policy::allows(conn, mode, &host)?))
        .await?;
    if !allowed {
        return Err(Error::forbidden(
            "this instance does not federate with your server",
        ));
    }
    signatures::check_date(&req)?;

    let outcome = verify_and_handle(&req, &body, data).await;
    let outcome = match outcome {
        Err(e)
            if e.kind == ErrorKind::Unauthorized
                && refresh_stale_key(data, &envelope.actor).await =>
        {
            verify_and_handle(&req, &body, data).await
        }
        other => other,
    };
    let outcome = retry_races(outcome, || verify_and_handle(&req, &body, data)).await;
    match outcome {
        Ok(()) => {
            // A verified request proves the sender's server is up: deliveries
            // parked for it resume.
            let id = envelope.id.clone();
            let host = crate::apub::objects::actor::domain_of(&envelope.actor);
            data.db
                .run(move |conn| {
                    received_activity::record(conn, &id)?;
                    crate::delivery::host_seen_alive(conn, &host)?;
                    Ok(())
                })
                .await?;
            Ok(HttpResponse::Accepted().finish())
        }
        Err(e) if e.kind == ErrorKind::AlreadyProcessed => Ok(HttpResponse::Accepted().finish()),
        Err(e) => Err(e),
    }
}

async fn verify_and_handle(
    req: &HttpRequest,
    body: &web::Bytes,
    data: &Data<Context>,
) -> Result<()> {
    receive_activity_with_hook::<InboxActivity, Actor, Context>(
        req.clone(),
        body.clone(),
        Dedupe,
        data,
    )
    .await
    .map(|_| ())
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

/// Stops processing of an activity id seen before (after its signature was
/// verified, so a forged duplicate still gets 401).
struct Dedupe;

impl ReceiveActivityHook<InboxActivity, Actor, Context> for Dedupe {
    async fn hook(
        self,
        activity: &InboxActivity,
        _actor: &Actor,
        data: &Data<Context>,
    ) -> Result<()> {
        use activitypub_federation::traits::Activity;
        let id = activity.id().clone();
        let seen = data
            .db
            .run(move |conn| Ok(received_activity::seen(conn, &id)?))
            .await?;
        if seen {
            Err(Error::new(ErrorKind::AlreadyProcessed, "already processed"))
        } else {
            Ok(())
        }
    }
}

/// `true` when the actor's stored key was outdated and a fresh copy is now
/// stored, so the request is worth verifying again.
async fn refresh_stale_key(data: &Data<Context>, actor: &Url) -> bool {
    let id = actor.clone();
    let known = data
        .db
        .run(move |conn| Ok(Actor::by_ap_id(conn, &id)?))
        .await
        .ok()
        .flatten();
    match known {
        Some(known) => signatures::refetch_if_key_may_have_rotated(data, &known)
            .await
            .is_some(),
        None => false,
    }
}
