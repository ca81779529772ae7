//! "Who narrates about X" (issue 13 §3): the people, here and at federated
//! organisations, whose public `learned` narrations and accepted answers
//! are about a hashtag or a community over the last 12 months, ranked by
//! accepted answers, then learned narrations. The API
//! (`GET /api/v1/outloud/experts`) and the web page (`/experts`) both ask
//! here; what counts is decided in `db::experts`.
//!
//! Only discoverable people are listed (strictly opt-in for local people),
//! and only public posts count, so the answer is the same for everyone —
//! except that a signed-in viewer never sees the people they blocked or
//! muted, nor those of the domains they blocked.

use crate::{
    db::{
        actor::{Actor, ActorKind},
        experts::{self, Expert, Topic},
        Db,
    },
    error::{Error, Result},
    service::feeds,
};

/// How many people a list holds unless asked otherwise, and at most.
pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 40;

/// How far back narrations and answers count.
pub const WINDOW_DAYS: i64 = 365;

/// What a caller asks about, before it is checked.
#[derive(Debug, Clone, Copy)]
pub enum Asked<'a> {
    /// A hashtag as typed (`#Rust`, `rust`).
    Tag(&'a str),
    /// A community's account id.
    Community(&'a str),
}

/// Exactly one of a tag and a community, as the API and the page take
/// them (`?tag=` or `?community=`).
///
/// Errors: `Unprocessable` for none or both, or a tag no post could carry.
pub fn asked<'a>(tag: Option<&'a str>, community: Option<&'a str>) -> Result<Asked<'a>> {
    let tag = tag.filter(|t| !t.trim().is_empty());
    let community = community.filter(|c| !c.trim().is_empty());
    match (tag, community) {
        (Some(tag), None) => Ok(Asked::Tag(tag)),
        (None, Some(community)) => Ok(Asked::Community(community)),
        _ => Err(Error::unprocessable(
            "give exactly one of tag and community",
        )),
    }
}

/// The checked topic: a normalized hashtag, or a community that exists
/// (with its Group actor, for the page's heading).
///
/// Errors: `Unprocessable` for an invalid hashtag, `NotFound` for an
/// unknown community.
pub async fn topic(db: &Db, asked: Asked<'_>) -> Result<(Topic, Option<Actor>)> {
    match asked {
        Asked::Tag(raw) => {
            let name =
                feeds::hashtag(raw).map_err(|_| Error::unprocessable("that is not a hashtag"))?;
            Ok((Topic::Tag(name), None))
        }
        Asked::Community(id) => {
            let id = id.to_string();
            let group = db
                .run(move |conn| Ok(Actor::by_id(conn, &id)?))
                .await?
                .filter(|a| a.kind() == ActorKind::Group)
                .ok_or_else(|| Error::not_found("no such community"))?;
            Ok((Topic::Community(group.id.clone()), Some(group)))
        }
    }
}

/// The people who know about `topic`, best first, at most `limit`
/// (clamped to 1..=[`MAX_LIMIT`]). `viewer` only hides whom they blocked
/// or muted.
pub async fn who_knows(
    db: &Db,
    topic: &Topic,
    viewer: Option<&Actor>,
    limit: usize,
) -> Result<Vec<Expert>> {
    let topic = topic.clone();
    let viewer = viewer.map(|v| v.id.clone());
    let since = crate::db::now() - chrono::Duration::days(WINDOW_DAYS);
    let limit = limit.clamp(1, MAX_LIMIT);
    db.run(move |conn| {
        Ok(experts::who_knows(
            conn,
            &topic,
            since,
            viewer.as_deref(),
            limit,
        )?)
    })
    .await
}
