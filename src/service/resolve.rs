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

/// An actor for a page about it: the stored one when known, else looked
/// up on its server (as [`actor`]). Any failure to find it is `NotFound`,
/// so a page for a handle nobody answers to is a 404, never a 500.
///
/// Errors: `NotFound`, `Forbidden` when the policy refuses the host.
pub async fn page_actor(data: &Data<Context>, handle: &str) -> Result<Actor> {
    if let Ok(known) = crate::service::search::known_actor(data, handle).await {
        return Ok(known);
    }
    match actor(data, handle).await {
        Ok(found) => Ok(found),
        Err(e) if e.kind == ErrorKind::Forbidden => Err(e),
        Err(_) => Err(Error::not_found("no such account")),
    }
}

/// The WebFinger answer, as far as remote interaction needs it.
#[derive(Debug, serde::Deserialize)]
struct Jrd {
    #[serde(default)]
    links: Vec<JrdLink>,
}

#[derive(Debug, serde::Deserialize)]
struct JrdLink {
    #[serde(default)]
    rel: String,
    template: Option<String>,
}

/// The OStatus subscribe relation: where a server lets its people follow
/// or answer something from elsewhere (`{uri}` is replaced by its id).
pub const SUBSCRIBE_REL: &str = "http://ostatus.org/schema/1.0/subscribe";

/// Where to send someone whose account is `handle` (`name@their.server`)
/// to interact with `uri` from their own server: their server's WebFinger
/// subscribe template with `uri` filled in.
///
/// Errors: `Unprocessable` for something that is not `name@host`, or a
/// server that offers no remote interaction; `NotFound` when the server
/// does not answer for the handle.
pub async fn interaction_url(data: &Data<Context>, handle: &str, uri: &url::Url) -> Result<String> {
    let handle = handle
        .trim()
        .trim_start_matches("acct:")
        .trim_start_matches('@');
    let valid = handle.split_once('@').is_some_and(|(name, host)| {
        !name.is_empty()
            && !host.is_empty()
            && !handle.contains(char::is_whitespace)
            && !host.contains(['/', '?', '#', '@'])
    });
    if !valid {
        return Err(Error::unprocessable(
            "Enter your full handle, like name@your.server",
        ));
    }
    let host = handle.split_once('@').map(|(_, h)| h).unwrap_or_default();
    if host.eq_ignore_ascii_case(data.urls.domain()) {
        return Err(Error::unprocessable(
            "That account is on this server: sign in here instead",
        ));
    }
    let resource: String =
        url::form_urlencoded::byte_serialize(format!("acct:{handle}").as_bytes()).collect();
    let lookup = format!(
        "{}://{host}/.well-known/webfinger?resource={resource}",
        data.config.scheme()
    );
    let jrd: Jrd = async {
        data.http
            .get(&lookup)
            .header("Accept", "application/jrd+json, application/json")
            .send()
            .await?
            .error_for_status()?
            .json()
            .await
            .map_err(anyhow::Error::from)
    }
    .await
    .map_err(|e: anyhow::Error| {
        tracing::debug!(%handle, error = %e, "no WebFinger answer for remote interaction");
        Error::not_found(format!("{host} did not answer for {handle}"))
    })?;
    let template = jrd
        .links
        .iter()
        .find(|l| l.rel == SUBSCRIBE_REL)
        .and_then(|l| l.template.clone())
        .filter(|t| t.contains("{uri}"))
        .ok_or_else(|| {
            Error::unprocessable(format!(
                "{host} does not offer following from other servers: search for this page's address there instead"
            ))
        })?;
    let encoded: String = url::form_urlencoded::byte_serialize(uri.as_str().as_bytes()).collect();
    let target = template.replace("{uri}", &encoded);
    match url::Url::parse(&target) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(u.to_string()),
        _ => Err(Error::unprocessable(format!(
            "{host} gave an address that is not a web page"
        ))),
    }
}
