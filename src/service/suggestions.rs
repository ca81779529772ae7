//! Follow suggestions (Mastodon's `/api/v2/suggestions`): whom a person
//! might follow. Two sources, in this order: friends of friends (accounts
//! followed by those the person follows, ranked by how many of them do),
//! then the instance's most followed local people, so that a newcomer who
//! follows nobody yet still gets someone. Never the person itself, anyone
//! it follows or asked to follow, blocked, muted, blocked by, on a blocked
//! domain, not discoverable, suspended, or dismissed.

use crate::{
    db::{actor::Actor, suggestion, Db},
    error::{Error, Result},
};

/// Why an account is suggested: Mastodon's `sources` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    FriendsOfFriends,
    MostFollowed,
}

impl Source {
    /// The `sources` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::FriendsOfFriends => "friends_of_friends",
            Source::MostFollowed => "most_followed",
        }
    }

    /// The deprecated single `source` Mastodon still sends beside
    /// `sources` (its serializer maps them the same way).
    pub fn legacy(self) -> &'static str {
        match self {
            Source::FriendsOfFriends => "past_interactions",
            Source::MostFollowed => "global",
        }
    }
}

/// One suggested account and why.
#[derive(Debug, Clone)]
pub struct Suggestion {
    pub account: Actor,
    pub sources: Vec<Source>,
}

/// Default and largest `limit`, as Mastodon's.
pub const DEFAULT_LIMIT: i64 = 40;
pub const MAX_LIMIT: i64 = 80;

/// Up to `limit` suggestions for `viewer`, best first; an account found by
/// both sources is listed once, with both.
pub async fn suggestions(db: &Db, viewer: &Actor, limit: i64) -> Result<Vec<Suggestion>> {
    let limit = limit.clamp(1, MAX_LIMIT);
    let viewer_id = viewer.id.clone();
    let (friends, popular) = db
        .run(move |conn| {
            Ok((
                suggestion::friends_of_friends(conn, &viewer_id, limit)?,
                suggestion::most_followed_local(conn, &viewer_id, limit)?,
            ))
        })
        .await?;
    Ok(merge(friends, popular, limit))
}

fn merge(friends: Vec<(Actor, i64)>, popular: Vec<(Actor, i64)>, limit: i64) -> Vec<Suggestion> {
    let mut out: Vec<Suggestion> = friends
        .into_iter()
        .map(|(account, _)| Suggestion {
            account,
            sources: vec![Source::FriendsOfFriends],
        })
        .collect();
    for (account, _) in popular {
        match out.iter_mut().find(|s| s.account.id == account.id) {
            Some(known) => known.sources.push(Source::MostFollowed),
            None => out.push(Suggestion {
                account,
                sources: vec![Source::MostFollowed],
            }),
        }
    }
    out.truncate(limit as usize);
    out
}

/// `viewer` no longer wants `account_id` suggested.
///
/// Errors: `NotFound` when no such account exists.
pub async fn dismiss(db: &Db, viewer: &Actor, account_id: &str) -> Result<()> {
    let viewer_id = viewer.id.clone();
    let target = account_id.to_string();
    db.transaction(move |conn| {
        if Actor::by_id(conn, &target)?.is_none() {
            return Err(Error::not_found("Record not found"));
        }
        suggestion::dismiss(conn, &viewer_id, &target)?;
        Ok(())
    })
    .await
}
