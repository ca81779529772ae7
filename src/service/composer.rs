//! The web composer's use cases: a preview of the Markdown, and
//! publishing (or editing) what the form sent after checking the reply
//! and the community it names, with the files it carried uploaded and
//! attached: all of them or, when anything fails, none.

use super::{
    media::{self, MAX_ATTACHMENTS},
    posts::{publish_with_media, NewPost, PostEdit},
};
use crate::{
    apub::Data,
    context::Context,
    db::{
        actor::Actor,
        media::MediaAttachment,
        post::{Post, PostKind, Visibility},
    },
    error::{Error, ErrorKind, Result},
    text,
};

/// Markdown as a narration would show it, for the composer's preview:
/// the same renderer, with hashtags linked; mentions are not looked up
/// (that may ask other servers) and stay as written.
pub fn preview(data: &Data<Context>, source: &str) -> String {
    let urls = data.urls.clone();
    text::render_markdown(source, |_| None, |tag| urls.tag(tag).to_string())
}

/// What the web composer sends, naming posts and communities by their
/// local ids.
#[derive(Debug, Clone)]
pub struct Draft {
    /// A title makes the narration an Article.
    pub title: Option<String>,
    pub source: String,
    pub visibility: Visibility,
    pub summary: Option<String>,
    /// The post answered (its local id, or a boost's status id).
    pub in_reply_to: Option<String>,
    /// A community the author joined (its actor's local id).
    pub community: Option<String>,
    /// Files to upload and attach, in order.
    pub files: Vec<DraftFile>,
    /// The kind chosen in the composer, if any (see `service::narrations`).
    pub narration: Option<crate::db::post::NarrationKind>,
}

/// A file sent with the composer, and its alt text.
#[derive(Debug, Clone)]
pub struct DraftFile {
    /// The name the browser gave, for messages only.
    pub filename: String,
    pub bytes: Vec<u8>,
    pub description: Option<String>,
}

/// Refuses more files than a narration may carry, before any is stored.
fn check_count(count: usize) -> Result<()> {
    if count > MAX_ATTACHMENTS {
        return Err(Error::unprocessable(format!(
            "A narration can carry at most {MAX_ATTACHMENTS} images; you chose {count}. Remove some and try again."
        )));
    }
    Ok(())
}

/// Uploads `files` in order through `service::media::upload`; when one is
/// refused, the ones already stored are deleted again, so a refused form
/// leaves nothing behind. The message names the file.
///
/// Errors: `Unprocessable` (the file's problem), or the store's error.
pub async fn upload_all(
    ctx: &Context,
    author: &Actor,
    files: Vec<DraftFile>,
) -> Result<Vec<MediaAttachment>> {
    let mut stored: Vec<MediaAttachment> = Vec::with_capacity(files.len());
    for file in files {
        match media::upload(
            ctx,
            author,
            file.bytes,
            Some(&file.filename),
            file.description,
            None,
        )
        .await
        {
            Ok(row) => stored.push(row),
            Err(e) => {
                discard(ctx, author, &stored).await;
                let message = e
                    .safe_message()
                    .trim_start_matches("Validation failed: ")
                    .to_string();
                return Err(match e.kind {
                    ErrorKind::Unprocessable => Error::unprocessable(format!(
                        "\"{}\" could not be attached: {message}. Nothing was shared: choose your images again.",
                        file.filename
                    )),
                    _ => e,
                });
            }
        }
    }
    Ok(stored)
}

/// Deletes uploads of a form that was refused after they were stored.
/// Best effort: one that cannot be deleted now is an orphan housekeeping
/// removes within a day.
async fn discard(ctx: &Context, author: &Actor, rows: &[MediaAttachment]) {
    for row in rows {
        if let Err(e) = media::delete(ctx, author, &row.id).await {
            tracing::warn!(id = %row.id, error = %e, "could not delete a refused upload");
        }
    }
}

/// Publishes what the composer sent: the reply must answer a post the
/// author may see, the community must be one they joined.
///
/// Errors: `Unprocessable`, with a message for the person, for all of
/// these and what [`publish`] refuses.
pub async fn publish_draft(data: &Data<Context>, author: &Actor, draft: Draft) -> Result<Post> {
    check_count(draft.files.len())?;
    if draft.source.trim().is_empty() && draft.files.is_empty() {
        return Err(Error::unprocessable(
            "A narration needs some text: write something first.",
        ));
    }
    let in_reply_to = match draft.in_reply_to.filter(|id| !id.is_empty()) {
        Some(id) => {
            let parent = crate::service::timelines::item_by_id(data, Some(author), &id)
                .await
                .map_err(|e| match e.kind {
                    ErrorKind::NotFound | ErrorKind::Gone => Error::unprocessable(
                        "The narration you are answering was deleted, or you may not see it.",
                    ),
                    _ => e,
                })?
                .into_post();
            Some(parent.ap_id.0.clone())
        }
        None => None,
    };
    let community = match draft.community.filter(|c| !c.is_empty()) {
        Some(id) => {
            let joined = crate::service::communities::subscriptions(&data.db, author).await?;
            let group = joined.into_iter().find(|g| g.id == id).ok_or_else(|| {
                Error::unprocessable(
                    "You can only post in a community you joined: join it first, or choose another.",
                )
            })?;
            Some(group.ap_id.0)
        }
        None => None,
    };
    let title = draft
        .title
        .map(|t| t.trim().to_string())
        .filter(|t| !t.is_empty());
    let new = NewPost {
        kind: if title.is_some() {
            PostKind::Article
        } else {
            PostKind::Note
        },
        title,
        source: draft.source,
        visibility: draft.visibility,
        in_reply_to,
        summary: draft.summary.filter(|s| !s.trim().is_empty()),
        sensitive: false,
        language: None,
        community,
        narration: draft.narration,
    };
    let uploads = upload_all(data, author, draft.files).await?;
    let ids = uploads.iter().map(|m| m.id.clone()).collect();
    match publish_with_media(data, author, new, None, ids).await {
        Ok(post) => Ok(post),
        Err(e) => {
            discard(data, author, &uploads).await;
            Err(e)
        }
    }
}

/// What the edit form sends about attachments: those the narration keeps
/// (by id, with their alt text as now written) and new files.
#[derive(Debug, Clone, Default)]
pub struct DraftMedia {
    pub keep: Vec<(String, Option<String>)>,
    pub files: Vec<DraftFile>,
}

/// Edits a narration from the edit form: alt text of the kept
/// attachments is updated, new files are uploaded, and the narration's
/// attachments become the kept ones then the new ones. A refused edit
/// deletes the new uploads again.
///
/// Errors: as `service::posts::edit_with_media`, and `Unprocessable` for
/// more than [`MAX_ATTACHMENTS`] or a refused file.
pub async fn edit_draft(
    data: &Data<Context>,
    author: &Actor,
    post_id: &str,
    edit: PostEdit,
    media: DraftMedia,
) -> Result<Post> {
    check_count(media.keep.len() + media.files.len())?;
    let mut ids = Vec::with_capacity(media.keep.len() + media.files.len());
    let mut alt_texts = Vec::new();
    for (id, description) in media.keep {
        let current = media::get(data, author, &id).await.map_err(|_| {
            Error::unprocessable("An image of this narration is gone: reload the page.")
        })?;
        if current.post_id.as_deref() != Some(post_id) {
            return Err(Error::unprocessable(
                "An image you kept is not part of this narration: reload the page.",
            ));
        }
        let description = description.unwrap_or_default();
        if current.description.as_deref().unwrap_or("") != description.trim() {
            alt_texts.push(media::AttachedMeta {
                id: id.clone(),
                description: Some(description.trim().to_string()),
                focus: None,
            });
        }
        ids.push(id);
    }
    // The same rule as the client API's `media_attributes[]`: new alt text
    // of kept images goes in before the edit, so its `Update` carries it.
    media::describe(data, author, post_id, &ids, alt_texts).await?;
    let uploads = upload_all(data, author, media.files).await?;
    ids.extend(uploads.iter().map(|m| m.id.clone()));
    match super::posts::edit_with_media(data, author, post_id, edit, Some(ids)).await {
        Ok(post) => Ok(post),
        Err(e) => {
            discard(data, author, &uploads).await;
            Err(e)
        }
    }
}
