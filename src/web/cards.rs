//! The view models of the shared partials: the narration card
//! (`_card.html`) and the actor card (`_actor.html`). Built from timeline
//! [`Item`]s with a fixed number of queries per page (the same batch
//! lookups the client API's statuses use, `db::facts`), so a page of 40
//! cards costs what one does.

use super::layout::{actor_path, display_name, handle, WebError};
use crate::{
    apub::Data,
    context::Context,
    db::{
        actor::Actor,
        facts,
        media::MediaAttachment,
        post::{NarrationKind, Post, PostKind, Visibility},
    },
    service::{media::MediaLinks, timelines::Item},
};
use std::collections::HashMap;

/// One narration as a card.
#[derive(Debug, Clone)]
pub struct Card {
    /// The post's local id (actions post to `/narrations/{id}/…`).
    pub id: String,
    /// Its page here: `/@author/{id}` for local narrations, `/narrations/{id}`
    /// for remote ones.
    pub path: String,
    /// The ActivityPub id (copy link, remote origin).
    pub ap_id: String,
    pub author: ActorCard,
    /// The community it was shared in.
    pub community: Option<ActorCard>,
    /// Who boosted it, when the card is a boost in a timeline.
    pub boosted_by: Option<ActorCard>,
    pub published_iso: String,
    /// "2 h", "3 d", "12 Mar 2026".
    pub published_ago: String,
    /// The absolute time, for the `title` attribute.
    pub published_full: String,
    pub edited: bool,
    /// `public`, `unlisted`, `followers`, `direct`, `local`, `local_unlisted`.
    pub visibility: &'static str,
    /// What the visibility means, in words ("Followers only").
    pub visibility_label: &'static str,
    pub title: Option<String>,
    /// Content warning: the content is collapsed behind it.
    pub warning: Option<String>,
    /// Sanitised HTML.
    pub content_html: String,
    pub is_article: bool,
    /// The page of the post it answers, when known here.
    pub in_reply_to: Option<String>,
    pub replies: i64,
    pub likes: i64,
    pub boosts: i64,
    pub liked: bool,
    pub boosted: bool,
    /// The viewer wrote it: edit and delete are offered.
    pub own: bool,
    /// Public or unlisted: can be boosted.
    pub boostable: bool,
    /// Attachments, in order.
    pub media: Vec<MediaView>,
    /// The narration's kind (`doing`, `learned`, `stuck`, `ask`), shown
    /// as a badge.
    pub narration_kind: Option<&'static str>,
    /// An ask's state wherever its card shows (`open`, `answered`), so a
    /// timeline tells which questions still need an answer; `None` for
    /// other narrations.
    pub ask_state: Option<&'static str>,
}

impl Card {
    fn answered(&self) -> bool {
        self.ask_state == Some("answered")
    }

    /// What an ask's state link says.
    pub fn ask_label(&self) -> &'static str {
        if self.answered() {
            "Answered"
        } else {
            "Open question"
        }
    }

    /// Where an ask's state link goes: its thread, at the accepted answer
    /// when there is one.
    pub fn ask_href(&self) -> String {
        if self.answered() {
            format!("{}#accepted-answer", self.path)
        } else {
            self.path.clone()
        }
    }
}

/// One attachment on a card: the preview shown (with its size, so the
/// page does not move when it loads) linking to the full file.
#[derive(Debug, Clone)]
pub struct MediaView {
    /// The attachment's id (the edit form names kept ones by it).
    pub id: String,
    /// `image`, `gifv`, `video`, `audio` or `unknown`.
    pub kind: String,
    /// The full file.
    pub url: String,
    /// What the card shows: the thumbnail, or the file.
    pub preview: String,
    /// Alt text, empty when the author wrote none.
    pub alt: String,
    pub width: Option<i64>,
    pub height: Option<i64>,
    /// Decoded by outloud.js into the box the image loads over.
    pub blurhash: String,
}

impl MediaView {
    /// The view of a row, its URLs through [`MediaLinks::of_row`] (the one
    /// place that decides where files are loaded from); `None` for a row
    /// with no URL at all.
    pub fn of(links: &MediaLinks, m: &MediaAttachment) -> Option<MediaView> {
        let (url, preview) = links.of_row(m);
        let url = url?;
        // The preview is the thumbnail when there is one: its size then.
        let (width, height) = match (&m.thumbnail_key, m.thumbnail_width, m.thumbnail_height) {
            (Some(_), Some(w), Some(h)) => (Some(w), Some(h)),
            _ => (m.width, m.height),
        };
        Some(MediaView {
            id: m.id.clone(),
            kind: m.kind.clone(),
            preview: preview.unwrap_or_else(|| url.clone()),
            url,
            alt: m.description.clone().unwrap_or_default(),
            width: width.filter(|w| *w > 0),
            height: height.filter(|h| *h > 0),
            blurhash: m.blurhash.clone().unwrap_or_default(),
        })
    }

    pub fn is_image(&self) -> bool {
        matches!(self.kind.as_str(), "image" | "gifv")
    }
}

/// The views of attachment rows, grouped by post in their order.
pub fn media_by_post(
    links: &MediaLinks,
    rows: &[MediaAttachment],
) -> HashMap<String, Vec<MediaView>> {
    let mut out: HashMap<String, Vec<MediaView>> = HashMap::new();
    for row in rows {
        let (Some(post), Some(view)) = (&row.post_id, MediaView::of(links, row)) else {
            continue;
        };
        out.entry(post.clone()).or_default().push(view);
    }
    out
}

/// An actor as a small card or a link.
#[derive(Debug, Clone)]
pub struct ActorCard {
    pub id: String,
    pub display_name: String,
    /// `@name@host`.
    pub handle: String,
    /// Its page here.
    pub path: String,
    /// For the avatar placeholder: the display name's first letter.
    pub initial: String,
    pub is_group: bool,
    pub local: bool,
    /// Sanitised HTML bio.
    pub summary_html: String,
}

impl ActorCard {
    pub fn of(actor: &Actor) -> ActorCard {
        let name = display_name(actor).to_string();
        ActorCard {
            id: actor.id.clone(),
            initial: name
                .chars()
                .find(|c| c.is_alphanumeric())
                .map(|c| c.to_uppercase().to_string())
                .unwrap_or_else(|| "?".into()),
            display_name: name,
            handle: handle(actor),
            path: actor_path(actor),
            is_group: actor.kind() == crate::db::actor::ActorKind::Group,
            local: actor.local,
            summary_html: actor.summary.clone().unwrap_or_default(),
        }
    }
}

/// What a visibility is called on a card.
pub fn visibility_label(v: &str) -> (&'static str, &'static str) {
    match Visibility::parse(v) {
        Some(Visibility::Public) => ("public", "Public"),
        Some(Visibility::Unlisted) => ("unlisted", "Unlisted"),
        Some(Visibility::Followers) => ("followers", "Followers only"),
        Some(Visibility::Direct) => ("direct", "Mentioned people only"),
        Some(Visibility::Local) => ("local", "This organisation only"),
        Some(Visibility::LocalUnlisted) => ("local_unlisted", "This organisation, unlisted"),
        None => ("direct", "Restricted"),
    }
}

/// "now", "5 min", "2 h", "3 d", then the date.
pub fn ago(at: chrono::NaiveDateTime, now: chrono::NaiveDateTime) -> String {
    let secs = (now - at).num_seconds();
    match secs {
        s if s < 60 => "now".into(),
        s if s < 3_600 => format!("{} min", s / 60),
        s if s < 86_400 => format!("{} h", s / 3_600),
        s if s < 7 * 86_400 => format!("{} d", s / 86_400),
        _ => at.format("%-d %b %Y").to_string(),
    }
}

/// The page of a post on this instance.
pub fn post_path(post: &Post, author: &Actor) -> String {
    if post.local {
        format!("/@{}/{}", author.username, post.id)
    } else {
        format!("/narrations/{}", post.id)
    }
}

/// Cards for timeline items, in order; items whose author (or booster, or
/// community) is unknown are left out.
pub async fn cards(
    data: &Data<Context>,
    viewer: Option<&Actor>,
    items: Vec<Item>,
) -> Result<Vec<Card>, WebError> {
    let viewer_id = viewer.map(|v| v.id.clone());
    let links = MediaLinks::of(data);
    let cards = data
        .db
        .run(move |conn| {
            let posts: Vec<&Post> = items.iter().map(Item::post).collect();
            let facts = facts::post_facts(conn, &posts, viewer_id.as_deref())?;
            let post_ids: Vec<String> = posts.iter().map(|p| p.id.clone()).collect();
            let media = media_by_post(&links, &MediaAttachment::of_posts(conn, &post_ids)?);
            let mut ids: Vec<String> = Vec::new();
            for item in &items {
                let post = item.post();
                ids.push(post.author_id.clone());
                ids.extend(post.community_id.clone());
                match item {
                    Item::Boost { reaction, .. } => ids.push(reaction.actor_id.clone()),
                    Item::Share { group_id, .. } => ids.push(group_id.clone()),
                    Item::Post(_) => {}
                }
            }
            ids.extend(facts.parents.values().map(|(_, author)| author.clone()));
            ids.sort();
            ids.dedup();
            let actors = facts::actors_by_ids(conn, &ids)?;
            let parents: HashMap<&str, String> = facts
                .parents
                .iter()
                .filter_map(|(ap_id, (id, author_id))| {
                    let author = actors.get(author_id)?;
                    let path = if author.local {
                        format!("/@{}/{}", author.username, id)
                    } else {
                        format!("/narrations/{id}")
                    };
                    Some((ap_id.as_str(), path))
                })
                .collect();
            let now = crate::db::now();
            let mut out = Vec::with_capacity(items.len());
            for item in &items {
                let post = item.post();
                let Some(author) = actors.get(&post.author_id) else {
                    continue;
                };
                let boosted_by = match item {
                    Item::Boost { reaction, .. } => match actors.get(&reaction.actor_id) {
                        Some(a) => Some(ActorCard::of(a)),
                        None => continue,
                    },
                    _ => None,
                };
                let (visibility, visibility_label) = visibility_label(&post.visibility);
                let shown_time = post.published;
                out.push(Card {
                    id: post.id.clone(),
                    path: post_path(post, author),
                    ap_id: post.ap_id.to_string(),
                    author: ActorCard::of(author),
                    community: post
                        .community_id
                        .as_ref()
                        .and_then(|c| actors.get(c))
                        .map(ActorCard::of),
                    boosted_by,
                    published_iso: shown_time.and_utc().to_rfc3339(),
                    published_ago: ago(shown_time, now),
                    published_full: shown_time.format("%-d %B %Y, %H:%M UTC").to_string(),
                    edited: post.updated.is_some(),
                    visibility,
                    visibility_label,
                    title: post.title.clone(),
                    warning: post.summary.clone().filter(|s| !s.trim().is_empty()),
                    content_html: post.content.clone(),
                    is_article: post.kind() == PostKind::Article,
                    in_reply_to: post
                        .in_reply_to
                        .as_ref()
                        .and_then(|p| parents.get(p.as_str()).cloned()),
                    replies: facts.replies.get(&post.id).copied().unwrap_or(0),
                    likes: facts.likes.get(&post.id).copied().unwrap_or(0),
                    boosts: facts.boosts.get(&post.id).copied().unwrap_or(0),
                    liked: facts.liked.contains(&post.id),
                    boosted: facts.boosted.contains(&post.id),
                    own: viewer_id.as_deref() == Some(post.author_id.as_str()),
                    boostable: matches!(visibility, "public" | "unlisted"),
                    media: media.get(&post.id).cloned().unwrap_or_default(),
                    narration_kind: post.narration_kind().map(|k| k.as_str()),
                    ask_state: (post.narration_kind() == Some(NarrationKind::Ask)).then(|| {
                        if facts.answers.contains_key(&post.id) {
                            "answered"
                        } else {
                            "open"
                        }
                    }),
                });
            }
            Ok(out)
        })
        .await?;
    Ok(cards)
}

/// The attachments of one post, in order (the edit form).
pub async fn media_of(data: &Data<Context>, post_id: &str) -> Result<Vec<MediaView>, WebError> {
    let links = MediaLinks::of(data);
    let ids = vec![post_id.to_string()];
    let rows = data
        .db
        .run(move |conn| Ok(MediaAttachment::of_posts(conn, &ids)?))
        .await?;
    Ok(rows
        .iter()
        .filter_map(|m| MediaView::of(&links, m))
        .collect())
}

/// Actor cards in order.
pub fn actor_cards(actors: &[Actor]) -> Vec<ActorCard> {
    actors.iter().map(ActorCard::of).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ago_reads_like_a_person_would_say_it() {
        let now = chrono::DateTime::from_timestamp(1_800_000_000, 0)
            .unwrap()
            .naive_utc();
        assert_eq!(ago(now, now), "now");
        assert_eq!(ago(now - chrono::Duration::minutes(5), now), "5 min");
        assert_eq!(ago(now - chrono::Duration::hours(2), now), "2 h");
        assert_eq!(ago(now - chrono::Duration::days(3), now), "3 d");
        assert_eq!(ago(now - chrono::Duration::days(30), now), "16 Dec 2026");
    }
}
