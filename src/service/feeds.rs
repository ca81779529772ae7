//! Atom feeds of a local person, a local community and a hashtag: their
//! newest public narrations, for feed readers, which read anonymously.
//!
//! Only `public` narrations are ever in a feed: never unlisted (they are
//! kept out of listings on purpose), followers-only, direct, this
//! organisation only (`local`, `local_unlisted`), nor anything of a
//! members-only community. A tag's feed holds this instance's narrations
//! with the tag, as its page lists them for visitors, but without what
//! arrived from other servers (theirs are theirs to syndicate).

use crate::{
    apub::Data,
    context::Context,
    db::{
        actor::Actor,
        facts,
        post::Post,
        timeline::{self, AccountFilter, Origin},
        Page,
    },
    error::{Error, Result},
};

/// How many narrations a feed holds.
pub const FEED_LENGTH: i64 = 20;

/// The only visibility a feed shows.
const FEED_VISIBILITIES: &[&str] = &["public"];

/// A feed's narrations, newest first, each with its author.
#[derive(Debug, Clone, Default)]
pub struct Entries {
    pub posts: Vec<(Post, Actor)>,
}

fn newest() -> Page {
    Page {
        limit: FEED_LENGTH,
        narration_kind: None,
        ..Page::default()
    }
}

/// Pairs posts with their authors (posts whose author is unknown are left
/// out).
fn with_authors(conn: &mut crate::db::DbConn, posts: Vec<Post>) -> Result<Entries> {
    let mut ids: Vec<String> = posts.iter().map(|p| p.author_id.clone()).collect();
    ids.sort();
    ids.dedup();
    let authors = facts::actors_by_ids(conn, &ids)?;
    Ok(Entries {
        posts: posts
            .into_iter()
            .filter_map(|p| {
                let author = authors.get(&p.author_id)?.clone();
                Some((p, author))
            })
            .collect(),
    })
}

/// The hashtag named by `raw` (with or without `#`), lower-cased, if it is
/// one a narration could carry (letters, digits, `_`; not all digits).
///
/// Errors: `NotFound` for anything else.
pub fn hashtag(raw: &str) -> Result<String> {
    let raw = raw.strip_prefix('#').unwrap_or(raw);
    let found = crate::text::find_hashtags(&format!("#{raw}"));
    match found.as_slice() {
        [tag] if tag.chars().count() == raw.chars().count() && tag.len() <= 100 => Ok(tag.clone()),
        _ => Err(Error::not_found("no such hashtag")),
    }
}

/// A local person and their newest public narrations.
///
/// Errors: `NotFound` when `name` is no local person.
pub async fn person(data: &Data<Context>, name: &str) -> Result<(Actor, Entries)> {
    let person = crate::service::accounts::local_person(&data.db, name).await?;
    let id = person.id.clone();
    let entries = data
        .db
        .run(move |conn| {
            let posts = timeline::account_posts(
                conn,
                &id,
                FEED_VISIBILITIES,
                &AccountFilter::default(),
                &newest(),
            )?;
            with_authors(conn, posts)
        })
        .await?;
    Ok((person, entries))
}

/// A local community and the newest public narrations shared in it
/// (none for a members-only community).
///
/// Errors: `NotFound` when `name` is no local community.
pub async fn community(data: &Data<Context>, name: &str) -> Result<(Actor, Entries)> {
    let (group, community) = crate::service::communities::local(&data.db, name).await?;
    if community.members_only {
        return Ok((group, Entries::default()));
    }
    let id = group.id.clone();
    let entries = data
        .db
        .run(move |conn| {
            let posts = timeline::community_posts(conn, &id, FEED_VISIBILITIES, false, &newest())?;
            with_authors(conn, posts)
        })
        .await?;
    Ok((group, entries))
}

/// This instance's newest public narrations with a hashtag; returns the
/// tag as stored (lower-case).
///
/// Errors: `NotFound` when `raw` is not a hashtag.
pub async fn tag(data: &Data<Context>, raw: &str) -> Result<(String, Entries)> {
    let tag = hashtag(raw)?;
    let name = tag.clone();
    let entries = data
        .db
        .run(move |conn| {
            // No viewer: exactly what anyone may read, and only `public`.
            let posts = timeline::tag_posts(conn, None, &name, Origin::Local, &newest())?;
            let posts = posts
                .into_iter()
                .filter(|p| FEED_VISIBILITIES.contains(&p.visibility.as_str()))
                .collect();
            with_authors(conn, posts)
        })
        .await?;
    Ok((tag, entries))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashtags_are_checked_and_lower_cased() {
        assert_eq!(hashtag("Rust").unwrap(), "rust");
        assert_eq!(hashtag("#ops_life").unwrap(), "ops_life");
        assert!(hashtag("").is_err());
        assert!(hashtag("2024").is_err());
        assert!(hashtag("two words").is_err());
        assert!(hashtag("a.b").is_err());
        assert!(hashtag("<script>").is_err());
        assert!(hashtag(&"a".repeat(101)).is_err());
    }
}
