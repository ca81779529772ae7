//! Media attachments: uploading, describing, deleting, attaching to posts
//! and the URLs files are served under. The one place these rules live:
//! the client API, the web composer and publishing all come here.
//!
//! An upload is processed (`media::process`: type from the content,
//! limits, metadata stripped, thumbnail, blurhash), its files are put in
//! the media store, then its row is inserted with no post. A status attaches
//! it ([`attach`], in the status's transaction); one never attached is
//! pruned after [`ORPHAN_HOURS`] by housekeeping ([`prune_orphans`]), files
//! included.

use crate::{
    context::Context,
    db::{actor::Actor, media::MediaAttachment, new_id, now, DbConn},
    error::{Error, ErrorKind, Result},
    media::process::{self, MediaLimits, Processed, Refusal},
};
use chrono::{NaiveDateTime, TimeDelta};
use tracing::Instrument;

/// Most attachments of one status (Mastodon's fixed 4).
pub const MAX_ATTACHMENTS: usize = 4;
/// Hours an upload may stay attached to nothing before housekeeping
/// deletes it.
pub const ORPHAN_HOURS: i64 = 24;

fn refused(r: Refusal) -> Error {
    Error::unprocessable(format!("Validation failed: {r}"))
}

/// Checks alt text and focal point as Mastodon does: focus `x,y` each in
/// -1..1.
fn check_meta(ctx: &Context, description: Option<&str>, focus: Option<(f64, f64)>) -> Result<()> {
    let limit = ctx.config.media.description_limit as usize;
    if let Some(d) = description {
        let chars = d.chars().count();
        if chars > limit {
            return Err(Error::unprocessable(format!(
                "Validation failed: Description is too long ({chars} characters, at most {limit})"
            )));
        }
    }
    if let Some((x, y)) = focus {
        if !(-1.0..=1.0).contains(&x) || !(-1.0..=1.0).contains(&y) {
            return Err(Error::unprocessable(
                "Validation failed: focus must be two numbers from -1.0 to 1.0, as \"x,y\"",
            ));
        }
    }
    Ok(())
}

/// Parses Mastodon's `focus` parameter, `"x,y"`.
pub fn parse_focus(raw: &str) -> Result<Option<(f64, f64)>> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let bad = || {
        Error::unprocessable(
            "Validation failed: focus must be two numbers from -1.0 to 1.0, as \"x,y\"",
        )
    };
    let (x, y) = raw.split_once(',').ok_or_else(bad)?;
    let x: f64 = x.trim().parse().map_err(|_| bad())?;
    let y: f64 = y.trim().parse().map_err(|_| bad())?;
    if !x.is_finite() || !y.is_finite() {
        return Err(bad());
    }
    Ok(Some((x, y)))
}

/// The limits uploads are checked against.
pub fn limits(ctx: &Context) -> MediaLimits {
    MediaLimits::of(&ctx.config.media)
}

/// Processes a file on a blocking thread (decoding is CPU work).
pub async fn process_file(ctx: &Context, bytes: Vec<u8>) -> Result<Processed> {
    let limits = limits(ctx);
    tokio::task::spawn_blocking(move || process::process(bytes, &limits))
        .await?
        .map_err(refused)
}

/// A new random key with this extension.
fn new_key(extension: &str) -> Result<String> {
    Ok(format!("{}.{extension}", crate::crypto::random_token(16)?))
}

/// Puts a processed file (and its thumbnail) in the store; returns their
/// keys. On failure nothing stays behind.
async fn store_files(ctx: &Context, processed: &Processed) -> Result<(String, Option<String>)> {
    let key = new_key(processed.extension)?;
    ctx.media
        .put(&key, processed.file.clone(), processed.media_type)
        .await
        .map_err(|e| Error::from_source(ErrorKind::Unavailable, e))?;
    let Some(thumb) = &processed.thumbnail else {
        return Ok((key, None));
    };
    let thumb_key = new_key(thumb.extension)?;
    let content_type = process::content_type_of(thumb.extension).unwrap_or("image/jpeg");
    if let Err(e) = ctx
        .media
        .put(&thumb_key, thumb.file.clone(), content_type)
        .await
    {
        let _ = ctx.media.delete(&key).await;
        return Err(Error::from_source(ErrorKind::Unavailable, e));
    }
    Ok((key, Some(thumb_key)))
}

/// Deletes a row's files from the store (missing files are fine).
async fn delete_files(ctx: &Context, row: &MediaAttachment) -> Result<()> {
    for key in [&row.file_key, &row.thumbnail_key].into_iter().flatten() {
        ctx.media
            .delete(key)
            .await
            .map_err(|e| Error::from_source(ErrorKind::Unavailable, e))?;
    }
    Ok(())
}

/// `POST /api/v1/media`: processes and stores an upload of a local person.
/// `filename` is only logged: the type comes from the content.
///
/// Errors: `Unprocessable` for an unsupported, oversized, undecodable or
/// too large (in pixels) file, or bad alt text or focus; `Forbidden` for a
/// remote actor.
pub async fn upload(
    ctx: &Context,
    owner: &Actor,
    bytes: Vec<u8>,
    filename: Option<&str>,
    description: Option<String>,
    focus: Option<(f64, f64)>,
) -> Result<MediaAttachment> {
    let span = tracing::info_span!("media_upload", owner = %owner.id, size = bytes.len(), filename);
    async move {
        if !owner.local {
            return Err(Error::forbidden("only local accounts upload media"));
        }
        let description = description.filter(|d| !d.trim().is_empty());
        check_meta(ctx, description.as_deref(), focus)?;
        if bytes.is_empty() {
            return Err(Error::unprocessable("Validation failed: File is empty"));
        }
        let size = bytes.len() as i64;
        let processed = process_file(ctx, bytes).await?;
        let (file_key, thumbnail_key) = store_files(ctx, &processed).await?;
        let at = now();
        let row = MediaAttachment {
            id: new_id(),
            owner_id: owner.id.clone(),
            post_id: None,
            position: 0,
            kind: processed.kind.into(),
            media_type: processed.media_type.into(),
            file_key: Some(file_key),
            thumbnail_key,
            remote_url: None,
            description,
            focus_x: focus.map(|f| f.0),
            focus_y: focus.map(|f| f.1),
            width: processed.width.map(i64::from),
            height: processed.height.map(i64::from),
            thumbnail_width: processed.thumbnail.as_ref().map(|t| i64::from(t.width)),
            thumbnail_height: processed.thumbnail.as_ref().map(|t| i64::from(t.height)),
            blurhash: processed.blurhash.clone(),
            size_bytes: Some(size),
            created_at: at,
            updated_at: at,
        };
        let stored = row.clone();
        if let Err(e) = ctx
            .db
            .run(move |conn| Ok(MediaAttachment::insert(conn, &stored)?))
            .await
        {
            let _ = delete_files(ctx, &row).await;
            return Err(e);
        }
        tracing::info!(id = %row.id, kind = %row.kind, media_type = %row.media_type, "media stored");
        Ok(row)
    }
    .instrument(span)
    .await
}

/// Stores an avatar or header image for a local person and returns its
/// URL: the same pipeline as an upload (type from the content, limits,
/// metadata stripped), images only, no attachment row (the URL lives in
/// the actor's `icon_url` or `image_url`).
///
/// Errors: `Unprocessable` for anything but a readable image within the
/// limits; `Forbidden` for a remote actor.
pub async fn profile_image(ctx: &Context, owner: &Actor, bytes: Vec<u8>) -> Result<String> {
    if !owner.local {
        return Err(Error::forbidden("only local accounts upload media"));
    }
    let processed = process_file(ctx, bytes).await?;
    if processed.kind != "image" {
        return Err(Error::unprocessable(
            "Validation failed: avatar and header must be JPEG, PNG, WebP or GIF images",
        ));
    }
    let key = new_key(processed.extension)?;
    ctx.media
        .put(&key, processed.file, processed.media_type)
        .await
        .map_err(|e| Error::from_source(ErrorKind::Unavailable, e))?;
    tracing::info!(owner = %owner.id, %key, "profile image stored");
    Ok(MediaLinks::of(ctx).file(&key))
}

/// `actor` with a new avatar and/or header stored (`None` keeps the
/// current one), ready for `relations::update_profile`, which stores the
/// whole row and sends `Update(Person)` with `icon` and `image`.
///
/// Errors: as [`profile_image`].
pub async fn with_profile_images(
    ctx: &Context,
    actor: &Actor,
    avatar: Option<Vec<u8>>,
    header: Option<Vec<u8>>,
) -> Result<Actor> {
    let mut actor = actor.clone();
    if let Some(bytes) = avatar {
        actor.icon_url = Some(profile_image(ctx, &actor, bytes).await?);
    }
    if let Some(bytes) = header {
        actor.image_url = Some(profile_image(ctx, &actor, bytes).await?);
    }
    Ok(actor)
}

/// The owner's attachment `id`, attached or not.
///
/// Errors: `NotFound` (also for someone else's: Mastodon does not tell).
pub async fn get(ctx: &Context, owner: &Actor, id: &str) -> Result<MediaAttachment> {
    let (id, owner_id) = (id.to_string(), owner.id.clone());
    ctx.db
        .run(move |conn| {
            MediaAttachment::by_id(conn, &id)?
                .filter(|m| m.owner_id == owner_id)
                .ok_or_else(|| Error::not_found("Record not found"))
        })
        .await
}

/// The owner's upload `id` that no status uses yet: what `GET` and `PUT
/// /api/v1/media/:id` see. As in Mastodon, an attachment a status uses is
/// not found there; it changes with the status (an edit).
///
/// Errors: `NotFound`.
pub async fn unattached(ctx: &Context, owner: &Actor, id: &str) -> Result<MediaAttachment> {
    let row = get(ctx, owner, id).await?;
    if row.post_id.is_some() {
        return Err(Error::not_found("Record not found"));
    }
    Ok(row)
}

/// Changes alt text and focal point of the owner's upload, only while no
/// status uses it (Mastodon: the file a status was published with does not
/// change under it, and followers have already received its description).
/// `None` leaves a value as it is.
///
/// Errors: `NotFound` (also for an attached upload), `Unprocessable`.
pub async fn update(
    ctx: &Context,
    owner: &Actor,
    id: &str,
    description: Option<String>,
    focus: Option<(f64, f64)>,
) -> Result<MediaAttachment> {
    let current = unattached(ctx, owner, id).await?;
    let description = match description {
        Some(d) if d.trim().is_empty() => None,
        Some(d) => Some(d),
        None => current.description.clone(),
    };
    let focus = focus.or(current.focus_x.zip(current.focus_y));
    check_meta(ctx, description.as_deref(), focus)?;
    let id = current.id.clone();
    ctx.db
        .run(move |conn| {
            // Only while still unattached: a status may have taken it since.
            if MediaAttachment::set_description_unattached(
                conn,
                &id,
                description.as_deref(),
                focus,
                now(),
            )? == 0
            {
                return Err(Error::not_found("Record not found"));
            }
            MediaAttachment::by_id(conn, &id)?.ok_or_else(|| Error::not_found("Record not found"))
        })
        .await
}

/// New alt text and focal point for one attachment of a status being
/// edited (`media_attributes[]`).
#[derive(Debug, Clone)]
pub struct AttachedMeta {
    pub id: String,
    pub description: Option<String>,
    pub focus: Option<(f64, f64)>,
}

/// Applies `media_attributes[]` of a status edit before the edit itself
/// (so the `Update` sent carries them): only to attachments the edit keeps
/// (`media_ids`) that are the owner's and attached to `post_id` or to
/// nothing; others are ignored, as Mastodon does. `None` keeps a value.
///
/// Errors: `Unprocessable` for a too-long description or bad focus.
pub async fn describe(
    ctx: &Context,
    owner: &Actor,
    post_id: &str,
    media_ids: &[String],
    attributes: Vec<AttachedMeta>,
) -> Result<()> {
    let wanted: Vec<AttachedMeta> = attributes
        .into_iter()
        .filter(|a| media_ids.iter().any(|id| id.trim() == a.id))
        .collect();
    for a in &wanted {
        check_meta(ctx, a.description.as_deref(), a.focus)?;
    }
    let (owner_id, post_id) = (owner.id.clone(), post_id.to_string());
    ctx.db
        .run(move |conn| {
            let ids: Vec<String> = wanted.iter().map(|a| a.id.clone()).collect();
            let rows = MediaAttachment::by_ids(conn, &ids)?;
            for a in wanted {
                let Some(row) = rows.iter().find(|r| {
                    r.id == a.id
                        && r.owner_id == owner_id
                        && r.post_id.as_deref().is_none_or(|p| p == post_id)
                }) else {
                    continue;
                };
                let description = match a.description {
                    Some(d) if d.trim().is_empty() => None,
                    Some(d) => Some(d),
                    None => row.description.clone(),
                };
                let focus = a.focus.or(row.focus_x.zip(row.focus_y));
                MediaAttachment::set_description(
                    conn,
                    &row.id,
                    description.as_deref(),
                    focus,
                    now(),
                )?;
            }
            Ok(())
        })
        .await
}

/// Deletes the owner's upload and its files. Only unattached uploads:
/// an attachment goes with its status.
///
/// Errors: `NotFound`; `Unprocessable` when a status uses it.
pub async fn delete(ctx: &Context, owner: &Actor, id: &str) -> Result<MediaAttachment> {
    let row = get(ctx, owner, id).await?;
    if row.post_id.is_some() {
        return Err(Error::unprocessable(
            "Media attachment is currently used by a status",
        ));
    }
    let id = row.id.clone();
    ctx.db
        .run(move |conn| Ok(MediaAttachment::delete(conn, &id)?))
        .await?;
    delete_files(ctx, &row).await?;
    Ok(row)
}

/// Checks that `media_ids` may become the attachments of `post_id` (`None`
/// for a post not yet stored): at most [`MAX_ATTACHMENTS`], each existing,
/// uploaded by `owner_id`, and attached to no other post. Returns the rows
/// in the given order (duplicates dropped). Publishing calls it before
/// building the activity, and [`attach`] again inside the transaction.
///
/// Errors: `Unprocessable`, as Mastodon answers all of these.
pub fn attachable(
    conn: &mut DbConn,
    owner_id: &str,
    post_id: Option<&str>,
    media_ids: &[String],
) -> Result<Vec<MediaAttachment>> {
    let mut ids: Vec<String> = Vec::with_capacity(media_ids.len());
    for id in media_ids.iter().map(|i| i.trim()).filter(|i| !i.is_empty()) {
        if !ids.iter().any(|i| i == id) {
            ids.push(id.to_string());
        }
    }
    if ids.len() > MAX_ATTACHMENTS {
        return Err(Error::unprocessable(format!(
            "Validation failed: a status may have at most {MAX_ATTACHMENTS} media attachments"
        )));
    }
    let rows = MediaAttachment::by_ids(conn, &ids)?;
    ids.iter()
        .map(|id| {
            let row = rows
                .iter()
                .find(|r| &r.id == id && r.owner_id == owner_id && r.file_key.is_some())
                .ok_or_else(|| {
                    Error::unprocessable(format!(
                        "Validation failed: media attachment {id} was not found among your uploads"
                    ))
                })?;
            if row.post_id.is_some() && row.post_id.as_deref() != post_id {
                return Err(Error::unprocessable(format!(
                    "Validation failed: media attachment {id} belongs to another status"
                )));
            }
            Ok(row.clone())
        })
        .collect()
}

/// Makes `media_ids`, in this order, the attachments of `post_id`, in the
/// caller's transaction (publish and edit). Attachments the post had and
/// the list no longer names are detached (they become unattached uploads,
/// pruned later).
///
/// Errors: as [`attachable`].
pub fn attach(conn: &mut DbConn, owner: &Actor, post_id: &str, media_ids: &[String]) -> Result<()> {
    let rows = attachable(conn, &owner.id, Some(post_id), media_ids)?;
    let at = now();
    let keep: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    MediaAttachment::detach_others(conn, post_id, &keep, at)?;
    for (position, row) in rows.iter().enumerate() {
        MediaAttachment::set_post(conn, &row.id, Some(post_id), position as i64, at)?;
    }
    Ok(())
}

/// Where files are reachable: `[media] public_url` when set, else this
/// server's `/media/{key}`; remote files through this server's media proxy
/// (`/media/proxy/…`, `service::media_proxy`), so readers' browsers never
/// contact other servers. Cheap to clone into a blocking conversion.
#[derive(Debug, Clone)]
pub struct MediaLinks {
    base: url::Url,
    /// `{this server}/media/proxy/`: never the CDN, the proxy runs here.
    proxy: url::Url,
}

impl MediaLinks {
    pub fn of(ctx: &Context) -> MediaLinks {
        let configured = ctx.config.media.public_url.trim_end_matches('/');
        let local = ctx.urls.media_base();
        let base = url::Url::parse(&format!("{configured}/"))
            .ok()
            .filter(|_| !configured.is_empty())
            .unwrap_or_else(|| local.clone());
        let proxy = local.join("proxy/").unwrap_or(local);
        MediaLinks { base, proxy }
    }

    /// The URL of a stored file.
    pub fn file(&self, key: &str) -> String {
        self.base
            .join(key)
            .map(|u| u.to_string())
            .unwrap_or_default()
    }

    fn proxied(&self, path: &str) -> String {
        self.proxy
            .join(path)
            .map(|u| u.to_string())
            .unwrap_or_default()
    }

    /// The media proxy's URL of a remote attachment.
    pub fn proxy_of(&self, attachment_id: &str) -> String {
        self.proxied(attachment_id)
    }

    /// (url, preview_url) of an attachment: a local upload's stored files;
    /// a remote attachment's proxy URL (whether or not the proxy has
    /// cached it yet), also as the preview of images.
    pub fn of_row(&self, m: &MediaAttachment) -> (Option<String>, Option<String>) {
        if m.remote_url.is_some() {
            let url = self.proxy_of(&m.id);
            let preview = (m.kind == "image").then(|| url.clone());
            return (Some(url), preview);
        }
        let url = m.file_key.as_deref().map(|k| self.file(k));
        let preview = m
            .thumbnail_key
            .as_deref()
            .map(|k| self.file(k))
            .or_else(|| url.clone().filter(|_| m.kind == "image"));
        (url, preview)
    }

    /// The URL other servers should fetch an attachment from (what a
    /// Note's `attachment` carries): a local upload's stored file, a remote
    /// one's original URL (never our proxy).
    pub fn original_of(&self, m: &MediaAttachment) -> Option<String> {
        match (&m.file_key, &m.remote_url) {
            (_, Some(remote)) => Some(remote.clone()),
            (Some(key), None) => Some(self.file(key)),
            (None, None) => None,
        }
    }

    /// The avatar clients should load for `actor`, if it has one (the
    /// caller falls back to the default image). Every reader of avatars
    /// (client API, web pages) comes here: a remote actor's goes through
    /// the media proxy. The `v` query names the remote URL, so a changed
    /// avatar is a new URL to browsers' caches.
    pub fn avatar_of(&self, actor: &Actor) -> Option<String> {
        self.actor_image(actor, "avatar", actor.icon_url.as_deref())
    }

    /// The header image clients should load for `actor`, as [`Self::avatar_of`].
    pub fn header_of(&self, actor: &Actor) -> Option<String> {
        self.actor_image(actor, "header", actor.image_url.as_deref())
    }

    /// A local actor's image as stored; a remote one's through the proxy
    /// at `/media/proxy/{which}/{actor id}`.
    fn actor_image(&self, actor: &Actor, which: &str, url: Option<&str>) -> Option<String> {
        let url = url.filter(|u| crate::text::is_http_url(u))?;
        if actor.local {
            return Some(url.to_string());
        }
        let v = crate::service::media_proxy::url_digest(url);
        let v = v.get(..12).unwrap_or(&v);
        Some(self.proxied(&format!("{which}/{}?v={v}", actor.id)))
    }
}

/// (url, preview_url) of an attachment.
pub fn url_of(ctx: &Context, m: &MediaAttachment) -> (Option<String>, Option<String>) {
    MediaLinks::of(ctx).of_row(m)
}

/// A stored file and its Content-Type, for the file handler.
///
/// Errors: `NotFound` for a malformed key or a missing file.
pub async fn file(ctx: &Context, key: &str) -> Result<(Vec<u8>, &'static str)> {
    let not_found = || Error::not_found("Record not found");
    if !crate::media::key_is_valid(key) {
        return Err(not_found());
    }
    let content_type = key
        .rsplit_once('.')
        .and_then(|(_, ext)| process::content_type_of(ext))
        .ok_or_else(not_found)?;
    let bytes = ctx
        .media
        .get(key)
        .await
        .map_err(|e| Error::from_source(ErrorKind::Unavailable, e))?
        .ok_or_else(not_found)?;
    Ok((bytes, content_type))
}

/// Deletes uploads attached to nothing that have not changed for
/// [`ORPHAN_HOURS`] before `now`; returns how many. "Changed" is
/// `updated_at`, which creation, attaching, detaching (an edit that dropped
/// the attachment) and describing all set: an attachment an edit removed
/// stays a day, time enough to attach it again, and one attached is never
/// pruned (the delete re-checks that it is still unattached).
pub async fn prune_orphans(ctx: &Context, now: NaiveDateTime) -> Result<usize> {
    let before = now - TimeDelta::hours(ORPHAN_HOURS);
    let mut total = 0;
    loop {
        let rows = ctx
            .db
            .run(move |conn| Ok(MediaAttachment::orphans(conn, before, 100)?))
            .await?;
        let done = rows.len() < 100;
        for row in rows {
            // The row goes first, and only if still unattached: a status
            // that attached it meanwhile keeps it, files and all.
            let id = row.id.clone();
            let deleted = ctx
                .db
                .run(move |conn| Ok(MediaAttachment::delete_unattached(conn, &id)?))
                .await?;
            if deleted == 1 {
                delete_files(ctx, &row).await?;
                total += 1;
            }
        }
        if done {
            return Ok(total);
        }
    }
}
