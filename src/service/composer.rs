//! The web composer's use cases: a preview of the Markdown, and
//! publishing what the form sent after checking the reply and the
//! community it names.

use super::posts::{publish, NewPost};
use crate::{
    apub::Data,
    context::Context,
    db::{
        actor::Actor,
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
}

/// Publishes what the composer sent: the reply must answer a post the
/// author may see, the community must be one they joined.
///
/// Errors: `Unprocessable`, with a message for the person, for all of
/// these and what [`publish`] refuses.
pub async fn publish_draft(data: &Data<Context>, author: &Actor, draft: Draft) -> Result<Post> {
    if draft.source.trim().is_empty() {
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
    };
    publish(data, author, new).await
}
