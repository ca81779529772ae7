//! Re-publishing an archive on this instance: its public narrations as the
//! importing person's own (through `posts::publish_imported`, so mentions,
//! hashtags, kinds and communities work as for any post), with their
//! original date and a line linking to where they were first published;
//! then its follows and community memberships, requested again.
//!
//! Importing is idempotent: each narration is remembered by its original
//! id (`imported_posts`), and a second import of the same archive finds
//! them all and creates nothing. One narration, follow or community that
//! fails is reported in the [`Summary`] and the rest goes on; only an
//! archive refused by [`super::archive::read`] stops everything, before
//! anything is stored.

use super::archive::{self, Archive, Limits, Origin};
use crate::{
    apub::{objects::post::visibility_from_addressing, protocol::note::Note, Data},
    context::Context,
    db::{
        actor::Actor,
        post::{NarrationKind, Post, PostKind, Visibility},
    },
    error::{Error, Result},
    service::{
        follows, posts,
        posts::{Imported, NewPost},
        resolve,
    },
    text,
};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use url::Url;

/// What an import did, shown to the person afterwards.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Summary {
    /// Narrations re-published now.
    pub imported: usize,
    /// Narrations found already imported (an earlier import).
    pub already_imported: usize,
    /// Items not re-published on purpose: boosts, direct messages,
    /// followers-only posts of a Mastodon archive.
    pub skipped: usize,
    /// Follows requested again (people).
    pub follows_requested: usize,
    /// Communities asked to join again.
    pub communities_joined: usize,
    /// What failed, one sentence each.
    pub errors: Vec<String>,
}

/// A narration of the archive, ready to be published.
struct Candidate {
    original_id: String,
    footer: Option<String>,
    published: chrono::NaiveDateTime,
    parent: Option<String>,
    new: NewPost,
}

/// Imports the archive in `file` for local `person`; see the module
/// documentation.
///
/// Errors: `Unprocessable` when the archive is refused (nothing is stored
/// then); failures of single items are in the summary instead.
pub async fn import(data: &Data<Context>, person: &Actor, file: std::fs::File) -> Result<Summary> {
    let limits = Limits::of(&data.config.archives);
    let archive = tokio::task::spawn_blocking(move || archive::read(file, &limits))
        .await
        .map_err(Error::internal)??;
    let mut summary = Summary::default();
    let candidates = candidates(&archive, &mut summary);
    // Original id → the new post's id, so that replies keep their thread.
    let mut new_ids: HashMap<String, Url> = HashMap::new();
    for candidate in candidates {
        publish_one(data, person, candidate, &mut new_ids, &mut summary).await?;
    }
    for url in &archive.following {
        if request(data, person, url, &mut summary).await {
            summary.follows_requested += 1;
        }
    }
    for url in &archive.communities {
        if request(data, person, url, &mut summary).await {
            summary.communities_joined += 1;
        }
    }
    tracing::info!(person = %person.username, ?summary, "archive imported");
    Ok(summary)
}

/// The narrations of an archive to re-publish, oldest first (so a reply's
/// parent comes before it); what is left out is counted in `summary`.
fn candidates(archive: &Archive, summary: &mut Summary) -> Vec<Candidate> {
    let followers = archive
        .actor
        .as_ref()
        .and_then(|a| a.get("followers"))
        .and_then(Value::as_str);
    let mut found = Vec::new();
    for activity in &archive.activities {
        let object = activity.get("object").filter(|o| o.is_object());
        let is_create = activity.get("type").and_then(Value::as_str) == Some("Create");
        let Some(object) = object.filter(|_| is_create) else {
            summary.skipped += 1;
            continue;
        };
        let note: Note = match serde_json::from_value(object.clone()) {
            Ok(note) => note,
            Err(e) => {
                summary.errors.push(format!(
                    "An item of outbox.json is not a readable post: {e}."
                ));
                continue;
            }
        };
        let visibility = match (
            archive.origin,
            activity.get("visibility").and_then(Value::as_str),
        ) {
            (Origin::Outloud, Some(v)) => Visibility::parse(v),
            _ => Some(visibility_from_addressing(&note.to, &note.cc, followers)),
        };
        let keep = match (archive.origin, visibility) {
            (_, None | Some(Visibility::Direct)) => None,
            // Only what the world could already see leaves Mastodon.
            (Origin::Mastodon, Some(v)) if !v.is_public() => None,
            (_, Some(v)) => Some(v),
        };
        let Some(visibility) = keep else {
            summary.skipped += 1;
            continue;
        };
        let Some(published) = note.published else {
            summary
                .errors
                .push(format!("{}: no `published` date, not imported.", note.id));
            continue;
        };
        found.push(candidate_of(note, visibility, published.naive_utc()));
    }
    found.sort_by_key(|c| c.published);
    found
}

fn candidate_of(note: Note, visibility: Visibility, published: chrono::NaiveDateTime) -> Candidate {
    let markdown = note
        .source
        .as_ref()
        .filter(|s| s.media_type == "text/markdown")
        .map(|s| s.content.clone())
        .unwrap_or_else(|| markdown_of_html(&note.content));
    let link = match &note.url {
        Some(Value::String(url)) => url.clone(),
        _ => note.id.to_string(),
    };
    let footer = Url::parse(&link)
        .ok()
        .filter(|_| text::is_http_url(&link))
        .map(|url| {
            let host = url.host_str().unwrap_or("the original");
            // The host as the link's text: the URL itself may hold an
            // `@name` that reads as a mention.
            format!("*Originally published at [{host}](<{url}>)*")
        });
    let kind = match note.kind.as_str() {
        "Article" => PostKind::Article,
        _ => PostKind::Note,
    };
    let title = note.name.clone().filter(|t| !t.trim().is_empty());
    let title = match kind {
        PostKind::Article => Some(title.unwrap_or_else(|| "Untitled".into())),
        _ => None,
    };
    Candidate {
        original_id: note.id.to_string(),
        footer,
        published,
        parent: note.in_reply_to.as_ref().map(Url::to_string),
        new: NewPost {
            kind,
            title,
            source: markdown,
            visibility,
            in_reply_to: None,
            summary: note.summary.clone().filter(|s| !s.trim().is_empty()),
            sensitive: note.sensitive.unwrap_or(false),
            language: note
                .content_map
                .as_ref()
                .and_then(|m| m.keys().next().cloned()),
            community: note.audience.clone(),
            narration: note
                .narration_kind
                .as_deref()
                .and_then(NarrationKind::parse),
        },
    }
}

/// Markdown of a post's HTML (a Mastodon archive has no source): the
/// paragraphs and line breaks, and the text; links keep their text, which
/// Mastodon makes the URL. What comes out is rendered and sanitized like
/// anything typed, so HTML in it is shown as text.
pub fn markdown_of_html(html: &str) -> String {
    let broken = html
        .replace("</p>", "\n\n")
        .replace("<br>", "\n")
        .replace("<br/>", "\n")
        .replace("<br />", "\n");
    text::strip_html(&broken).trim().to_string()
}

/// The local post an original narration became for `person`, if any: in
/// this import, an earlier one, or the narration itself when the archive
/// is of this very account.
async fn imported_before(
    data: &Data<Context>,
    person: &Actor,
    original_id: &str,
    new_ids: &HashMap<String, Url>,
) -> Result<Option<Url>> {
    if let Some(url) = new_ids.get(original_id) {
        return Ok(Some(url.clone()));
    }
    let (actor_id, original) = (person.id.clone(), original_id.to_string());
    data.db
        .run(move |conn| {
            let post = match crate::db::portability::imported_as(conn, &actor_id, &original)? {
                Some(post_id) => Post::by_id(conn, &post_id)?,
                None => match Url::parse(&original) {
                    Ok(url) => Post::by_ap_id(conn, &url)?.filter(|p| p.author_id == actor_id),
                    Err(_) => None,
                },
            };
            Ok(post.map(|p| p.ap_id.0))
        })
        .await
}

async fn publish_one(
    data: &Data<Context>,
    person: &Actor,
    candidate: Candidate,
    new_ids: &mut HashMap<String, Url>,
    summary: &mut Summary,
) -> Result<()> {
    let original = candidate.original_id.clone();
    if let Some(url) = imported_before(data, person, &original, new_ids).await? {
        new_ids.insert(original, url);
        summary.already_imported += 1;
        return Ok(());
    }
    let mut new = candidate.new;
    new.in_reply_to = match &candidate.parent {
        Some(parent) => match imported_before(data, person, parent, new_ids).await? {
            Some(url) => Some(url),
            None => Url::parse(parent).ok(),
        },
        None => None,
    };
    let imported = Imported {
        original_id: original.clone(),
        published: candidate.published,
        footer: candidate.footer,
    };
    let mut outcome = posts::publish_imported(data, person, new.clone(), imported.clone()).await;
    // The thread or community may be gone (or unreachable) where it came
    // from: the narration itself is still worth keeping.
    if let Err(e) = &outcome {
        if !e.is_unique_violation() && (new.in_reply_to.is_some() || new.community.is_some()) {
            summary.errors.push(format!(
                "{original}: imported without its thread or community ({}).",
                e.safe_message()
            ));
            new.in_reply_to = None;
            new.community = None;
            outcome = posts::publish_imported(data, person, new, imported).await;
        }
    }
    match outcome {
        Ok(post) => {
            new_ids.insert(original, post.ap_id.0);
            summary.imported += 1;
        }
        // Another import of the same archive stored it a moment ago.
        Err(e) if e.is_unique_violation() => summary.already_imported += 1,
        Err(e) => summary
            .errors
            .push(format!("{original}: not imported ({}).", e.safe_message())),
    }
    Ok(())
}

/// Follows (or joins) the actor at `url` again; false, with the reason in
/// the summary, when that fails.
async fn request(data: &Data<Context>, person: &Actor, url: &str, summary: &mut Summary) -> bool {
    let outcome = match resolve::actor(data, url).await {
        Ok(target) => follows::follow(data, person, &target).await.map(|_| ()),
        Err(e) => Err(e),
    };
    match outcome {
        Ok(()) => true,
        Err(e) => {
            summary
                .errors
                .push(format!("{url}: not followed again ({}).", e.safe_message()));
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_becomes_text_paragraphs() {
        let html =
            "<p>Hello <a href=\"https://x.example/\"><span>https://x.example/</span></a></p>\
                    <p>second<br>line <script>alert(1)</script></p>";
        let md = markdown_of_html(html);
        assert!(
            md.starts_with("Hello https://x.example/\n\nsecond\nline"),
            "{md}"
        );
        assert!(!md.contains('<'), "{md}");
    }
}
