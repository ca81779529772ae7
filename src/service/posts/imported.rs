//! Narrations imported from an archive (`service::portability`): published
//! like any other, with their original date, and not delivered.

use super::{publish_inner, NewPost};
use crate::{
    apub::Data,
    context::Context,
    db::{actor::Actor, post::Post},
    error::Result,
};

/// A narration re-published from an archive (`service::portability`).
#[derive(Debug, Clone)]
pub struct Imported {
    /// Its id in the archive, remembered in `imported_posts`.
    pub original_id: String,
    /// Its original date, kept as the new post's `published`.
    pub published: chrono::NaiveDateTime,
    /// Markdown appended to the source (the link to the original); no
    /// mention or hashtag is looked for in it.
    pub footer: Option<String>,
}

/// [`super::publish`] for a narration imported from an archive: the post keeps
/// its original date (and an id of that time, so it sorts among the
/// author's narrations where it was written), the import is remembered in
/// the same transaction (a second import of it fails on the key), and
/// nothing is delivered: followers already saw it where it was first
/// published, and a flood of years-old `Create`s would bury their home
/// timelines (Mastodon does not re-deliver imports either). It is on the
/// profile and in the outbox for whoever looks.
///
/// Errors: as [`super::publish`]; a unique violation when it was imported
/// concurrently.
pub async fn publish_imported(
    data: &Data<Context>,
    author: &Actor,
    new: NewPost,
    imported: Imported,
) -> Result<Post> {
    publish_inner(data, author, new, None, Vec::new(), Some(imported)).await
}

/// A time-ordered id of the moment `at` (UUIDv7, as `db::new_id`).
pub(super) fn id_at(at: chrono::NaiveDateTime) -> String {
    let utc = at.and_utc();
    let ts = uuid::Timestamp::from_unix(
        uuid::NoContext,
        utc.timestamp().max(0) as u64,
        utc.timestamp_subsec_nanos(),
    );
    uuid::Uuid::new_v7(ts).to_string()
}
