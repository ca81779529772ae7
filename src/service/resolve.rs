//! Finding actors by handle or URL, here or on other servers.

use crate::{
    apub::Data,
    context::Context,
    db::actor::Actor,
    error::{Error, ErrorKind, Result},
};
use activitypub_federation::fetch::{object_id::ObjectId, webfinger::webfinger_resolve_actor};

/// Resolves `name@host`, `@name@host`, `acct:name@host` or an actor URL to a
/// stored actor, fetching and storing a remote one (WebFinger, then a fetch
/// signed by the instance actor) when it is not known or is stale.
///
/// Errors: `BadRequest` for a malformed query, `NotFound` when nobody
/// answers to it, `Forbidden` when policy refuses the host, `Federation` when
/// the remote server fails.
pub async fn actor(data: &Data<Context>, query: &str) -> Result<Actor> {
    let query = query.trim();
    if query.starts_with("https://") || query.starts_with("http://") {
        let id: ObjectId<Actor> = ObjectId::parse(query)
            .map_err(|_| Error::bad_request(format!("`{query}` is not a valid URL")))?;
        return id.dereference(data).await.map_err(policy_or_not_found);
    }
    let handle = query.trim_start_matches("acct:").trim_start_matches('@');
    let Some((name, host)) = handle.split_once('@') else {
        return Err(Error::bad_request(format!(
            "`{query}` is neither name@host nor a URL"
        )));
    };
    if host.eq_ignore_ascii_case(data.urls.domain()) {
        return crate::service::accounts::local_actor(&data.db, name).await;
    }
    webfinger_resolve_actor(handle, data)
        .await
        .map_err(policy_or_not_found)
}

/// A failed fetch of a URL the policy refused is a 403; one of nobody a 404.
fn policy_or_not_found(e: Error) -> Error {
    let text = e.to_string();
    if text.contains("federation policy") {
        e.with_kind(ErrorKind::Forbidden)
    } else if e.kind == ErrorKind::Internal || e.kind == ErrorKind::NotFound {
        e.with_kind(ErrorKind::NotFound)
            .with_message("no such actor")
    } else {
        e
    }
}
