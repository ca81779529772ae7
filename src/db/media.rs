//! Media attachments: files people upload and the attachments of remote
//! posts. A local upload is a row with `file_key` (and `thumbnail_key`) in
//! the media store and no `post_id` until a status attaches it; a remote
//! attachment is a row with `remote_url`, attached to its post on arrival.

use super::schema::media_attachments;
use super::DbConn;
use diesel::prelude::*;

/// One row of `media_attachments`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = media_attachments)]
pub struct MediaAttachment {
    pub id: String,
    /// The uploader (local) or the remote post's author.
    pub owner_id: String,
    pub post_id: Option<String>,
    /// Order among the post's attachments, from 0.
    pub position: i64,
    /// Mastodon's attachment type: `image`, `gifv`, `video`, `audio`, `unknown`.
    pub kind: String,
    /// MIME type: detected from the content for uploads, as sent for remote files.
    pub media_type: String,
    pub file_key: Option<String>,
    pub thumbnail_key: Option<String>,
    pub remote_url: Option<String>,
    /// Alt text.
    pub description: Option<String>,
    pub focus_x: Option<f64>,
    pub focus_y: Option<f64>,
    pub width: Option<i64>,
    pub height: Option<i64>,
    pub thumbnail_width: Option<i64>,
    pub thumbnail_height: Option<i64>,
    pub blurhash: Option<String>,
    pub size_bytes: Option<i64>,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

impl MediaAttachment {
    pub fn insert(conn: &mut DbConn, row: &MediaAttachment) -> QueryResult<()> {
        diesel::insert_into(media_attachments::table)
            .values(row)
            .execute(conn)
            .map(|_| ())
    }

    pub fn by_id(conn: &mut DbConn, id: &str) -> QueryResult<Option<MediaAttachment>> {
        media_attachments::table.find(id).first(conn).optional()
    }

    /// The attachments of several posts at once, in each post's order (the
    /// conversions of a timeline page load them in one query).
    pub fn of_posts(conn: &mut DbConn, post_ids: &[String]) -> QueryResult<Vec<MediaAttachment>> {
        if post_ids.is_empty() {
            return Ok(Vec::new());
        }
        media_attachments::table
            .filter(media_attachments::post_id.eq_any(post_ids))
            .order((media_attachments::post_id, media_attachments::position))
            .load(conn)
    }

    /// Several rows by id (in no particular order).
    pub fn by_ids(conn: &mut DbConn, ids: &[String]) -> QueryResult<Vec<MediaAttachment>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        media_attachments::table
            .filter(media_attachments::id.eq_any(ids))
            .load(conn)
    }

    /// Puts an upload at `position` among `post_id`'s attachments.
    pub fn set_post(
        conn: &mut DbConn,
        id: &str,
        post_id: Option<&str>,
        position: i64,
        at: chrono::NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(media_attachments::table.find(id))
            .set((
                media_attachments::post_id.eq(post_id),
                media_attachments::position.eq(position),
                media_attachments::updated_at.eq(at),
            ))
            .execute(conn)
    }

    /// Detaches every attachment of `post_id` not in `keep` (an edit that
    /// dropped them); they become unattached uploads again.
    pub fn detach_others(
        conn: &mut DbConn,
        post_id: &str,
        keep: &[String],
        at: chrono::NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(
            media_attachments::table
                .filter(media_attachments::post_id.eq(post_id))
                .filter(media_attachments::id.ne_all(keep)),
        )
        .set((
            media_attachments::post_id.eq(None::<String>),
            media_attachments::position.eq(0),
            media_attachments::updated_at.eq(at),
        ))
        .execute(conn)
    }

    /// Changes alt text and focal point.
    pub fn set_description(
        conn: &mut DbConn,
        id: &str,
        description: Option<&str>,
        focus: Option<(f64, f64)>,
        at: chrono::NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(media_attachments::table.find(id))
            .set((
                media_attachments::description.eq(description),
                media_attachments::focus_x.eq(focus.map(|f| f.0)),
                media_attachments::focus_y.eq(focus.map(|f| f.1)),
                media_attachments::updated_at.eq(at),
            ))
            .execute(conn)
    }

    /// [`Self::set_description`] if the row is attached to no post; the
    /// number of rows changed.
    pub fn set_description_unattached(
        conn: &mut DbConn,
        id: &str,
        description: Option<&str>,
        focus: Option<(f64, f64)>,
        at: chrono::NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(
            media_attachments::table
                .find(id)
                .filter(media_attachments::post_id.is_null()),
        )
        .set((
            media_attachments::description.eq(description),
            media_attachments::focus_x.eq(focus.map(|f| f.0)),
            media_attachments::focus_y.eq(focus.map(|f| f.1)),
            media_attachments::updated_at.eq(at),
        ))
        .execute(conn)
    }

    /// Makes `rows` (in order) the attachments of the remote post
    /// `post_id`, in the caller's transaction: what a Create or an Update
    /// of it carried. A row whose `remote_url` is already there keeps its
    /// id and cached file and takes the new alt text, focus and position;
    /// rows the post no longer has are deleted and returned, so the caller
    /// can delete their cached files.
    pub fn replace_remote(
        conn: &mut DbConn,
        post_id: &str,
        rows: &[MediaAttachment],
    ) -> QueryResult<Vec<MediaAttachment>> {
        let existing = Self::of_posts(conn, &[post_id.to_string()])?;
        let mut removed = Vec::new();
        for old in &existing {
            if !rows.iter().any(|r| r.remote_url == old.remote_url) {
                Self::delete(conn, &old.id)?;
                removed.push(old.clone());
            }
        }
        for row in rows {
            match existing.iter().find(|o| o.remote_url == row.remote_url) {
                Some(old) => {
                    diesel::update(media_attachments::table.find(&old.id))
                        .set((
                            media_attachments::position.eq(row.position),
                            media_attachments::kind.eq(&row.kind),
                            media_attachments::description.eq(&row.description),
                            media_attachments::focus_x.eq(row.focus_x),
                            media_attachments::focus_y.eq(row.focus_y),
                            media_attachments::width.eq(row.width),
                            media_attachments::height.eq(row.height),
                            media_attachments::blurhash.eq(&row.blurhash),
                            media_attachments::updated_at.eq(row.updated_at),
                        ))
                        .execute(conn)?;
                }
                None => Self::insert(conn, row)?,
            }
        }
        Ok(removed)
    }

    /// Forgets a cached file the store no longer has.
    pub fn clear_cached_file(conn: &mut DbConn, id: &str, key: &str) -> QueryResult<usize> {
        diesel::update(
            media_attachments::table
                .find(id)
                .filter(media_attachments::file_key.eq(key)),
        )
        .set(media_attachments::file_key.eq(None::<String>))
        .execute(conn)
    }

    /// Records where the media proxy cached a remote file, unless another
    /// request did first; returns whether this key was recorded.
    pub fn set_cached_file(
        conn: &mut DbConn,
        id: &str,
        key: &str,
        media_type: &str,
        size: i64,
        at: chrono::NaiveDateTime,
    ) -> QueryResult<bool> {
        diesel::update(
            media_attachments::table
                .find(id)
                .filter(media_attachments::file_key.is_null()),
        )
        .set((
            media_attachments::file_key.eq(key),
            media_attachments::media_type.eq(media_type),
            media_attachments::size_bytes.eq(size),
            media_attachments::updated_at.eq(at),
        ))
        .execute(conn)
        .map(|n| n == 1)
    }

    pub fn delete(conn: &mut DbConn, id: &str) -> QueryResult<usize> {
        diesel::delete(media_attachments::table.find(id)).execute(conn)
    }

    /// Deletes the row if it is attached to no post.
    pub fn delete_unattached(conn: &mut DbConn, id: &str) -> QueryResult<usize> {
        diesel::delete(
            media_attachments::table
                .find(id)
                .filter(media_attachments::post_id.is_null()),
        )
        .execute(conn)
    }

    /// Uploads (rows with a stored file) attached to no post and last
    /// changed (created, detached, described) before `before`: what
    /// housekeeping prunes, oldest first.
    pub fn orphans(
        conn: &mut DbConn,
        before: chrono::NaiveDateTime,
        limit: i64,
    ) -> QueryResult<Vec<MediaAttachment>> {
        media_attachments::table
            .filter(media_attachments::post_id.is_null())
            .filter(media_attachments::file_key.is_not_null())
            .filter(media_attachments::updated_at.lt(before))
            .order(media_attachments::updated_at.asc())
            .limit(limit)
            .load(conn)
    }
}
