//! Posts as ActivityPub objects: serving ours as Note/Article, storing
//! theirs (sanitized, threaded, with visibility read from the addressing).

use crate::{
    apub::protocol::{
        activity::{Announce, ObjectRef},
        actor::Source,
        media::{remote_media_of, Document, RemoteMedia},
        note::{is_public, Note, PUBLIC},
    },
    context::Context,
    db::{
        actor::Actor,
        answer::{refusal, AcceptedAnswer},
        media::MediaAttachment,
        new_id,
        notification::Notification,
        now,
        post::{NarrationKind, Post, PostKind, PostTag, Visibility},
        reaction::Reaction,
        DbUrl,
    },
    error::{Error, Result},
    service::media::MediaLinks,
    text,
};
use activitypub_federation::{
    config::Data, fetch::object_id::ObjectId, kinds::activity::AnnounceType,
    protocol::verification::verify_domains_match, traits::Object,
};
use serde_json::{json, Value};
use url::Url;

/// Reads a remote post's visibility from whom it is addressed to.
pub fn visibility_from_addressing(to: &[Url], cc: &[Url], followers: Option<&str>) -> Visibility {
    if to.iter().any(is_public) {
        Visibility::Public
    } else if cc.iter().any(is_public) {
        Visibility::Unlisted
    } else if followers.is_some_and(|f| to.iter().chain(cc).any(|u| u.as_str() == f)) {
        Visibility::Followers
    } else {
        Visibility::Direct
    }
}

fn urls_of(json: &str) -> Vec<Url> {
    serde_json::from_str::<Vec<String>>(json)
        .unwrap_or_default()
        .iter()
        .filter_map(|u| Url::parse(u).ok())
        .collect()
}

#[async_trait::async_trait]
impl Object for Post {
    type DataType = Context;
    type Kind = Note;
    type Error = Error;

    fn id(&self) -> &Url {
        &self.ap_id
    }

    fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    async fn read_from_id(id: Url, data: &Data<Context>) -> Result<Option<Post>> {
        data.db
            .run(move |conn| Ok(Post::by_ap_id(conn, &id)?))
            .await
    }

    async fn into_json(self, data: &Data<Context>) -> Result<Note> {
        let (author_id, post_id) = (self.author_id.clone(), self.id.clone());
        let community_id = self.community_id.clone();
        let (author, tags, community, media, answer) = data
            .db
            .run(move |conn| {
                let author = Actor::by_id(conn, &author_id)?
                    .ok_or_else(|| Error::internal(anyhow::anyhow!("post without author")))?;
                let community = match community_id {
                    Some(id) => Actor::by_id(conn, &id)?,
                    None => None,
                };
                let media = MediaAttachment::of_posts(conn, std::slice::from_ref(&post_id))?;
                let answer = accepted_answer_of(conn, &post_id)?;
                Ok((
                    author,
                    Post::tags(conn, &post_id)?,
                    community,
                    media,
                    answer,
                ))
            })
            .await?;
        let audience = community.as_ref().map(|c| &c.ap_id.0);
        let attachments = documents_of(&media, &MediaLinks::of(data));
        let mut note = note_of(&self, &author, &tags, &data.urls, audience, attachments);
        if self.local {
            with_accepted_answer(&mut note, answer.as_ref());
        }
        Ok(note)
    }

    /// A post must come from its author's server, where it was fetched.
    async fn verify(json: &Note, expected_domain: &Url, _data: &Data<Context>) -> Result<()> {
        verify_domains_match(&json.id, expected_domain)?;
        verify_domains_match(&json.id, json.attributed_to.inner())?;
        if PostKind::parse(&json.kind).is_none() {
            return Err(Error::bad_request(format!(
                "unsupported object type {}",
                json.kind
            )));
        }
        Ok(())
    }

    /// Stores (or updates) a remote post: content sanitized, tags kept,
    /// visibility from the addressing, placed in its thread, its media
    /// (at most four, http(s) only) replacing what an earlier version had.
    async fn from_json(json: Note, data: &Data<Context>) -> Result<Post> {
        let accepted = json.accepted_answer.clone();
        let json_accepted = accepted.clone();
        let author = json.attributed_to.dereference(data).await?;
        if author.local {
            return Err(Error::bad_request("refusing a remote copy of a local post"));
        }
        let visibility =
            visibility_from_addressing(&json.to, &json.cc, author.followers_url.as_deref());
        let in_reply_to = json.in_reply_to.as_ref().map(Url::to_string);
        let parent_thread = match &json.in_reply_to {
            Some(parent) => {
                let parent = parent.clone();
                data.db
                    .run(move |conn| Ok(Post::by_ap_id(conn, &parent)?))
                    .await?
                    .map(|p| p.thread.unwrap_or_else(|| p.ap_id.to_string()))
            }
            None => None,
        };
        let thread = parent_thread
            .or_else(|| json.context.clone())
            .or_else(|| in_reply_to.clone());
        let post = Post {
            id: new_id(),
            ap_id: DbUrl(json.id.clone()),
            author_id: author.id.clone(),
            kind: PostKind::parse(&json.kind)
                .unwrap_or(PostKind::Note)
                .as_str()
                .into(),
            visibility: visibility.as_str().into(),
            title: json.name.clone().map(|t| text::strip_html(&t)),
            content: text::sanitize_html(&json.content),
            source: None,
            summary: json
                .summary
                .clone()
                .map(|s| text::strip_html(&s))
                .filter(|s| !s.is_empty()),
            sensitive: json.sensitive.unwrap_or(false),
            language: json.language(),
            in_reply_to,
            thread,
            url: json.web_url().map(String::from),
            to_json: serde_json::to_string(&json.to)?,
            cc_json: serde_json::to_string(&json.cc)?,
            local: false,
            published: json.published.map(|t| t.naive_utc()).unwrap_or_else(now),
            updated: json.updated.map(|t| t.naive_utc()),
            deleted_at: None,
            community_id: None,
            search_text: None,
            narration_kind: narration_kind_of(&json).map(|k| k.as_str().to_string()),
        };
        let tags: Vec<PostTag> = json
            .tags()
            .into_iter()
            .map(|t| PostTag {
                post_id: post.id.clone(),
                kind: if t.kind == "Hashtag" {
                    "hashtag"
                } else {
                    "mention"
                }
                .into(),
                name: if t.kind == "Hashtag" {
                    t.name.trim_start_matches('#').to_lowercase()
                } else {
                    t.name
                },
                href: t.href.to_string(),
            })
            .collect();
        let media = remote_media_of(&json.attachment);
        let (stored, removed) = data
            .db
            .transaction(move |conn| {
                let (stored, new) = store_post(conn, post, tags)?;
                let rows = media_rows(&stored, media);
                // A new post has no media or accepted answer to replace.
                let removed = if new && rows.is_empty() {
                    Vec::new()
                } else {
                    MediaAttachment::replace_remote(conn, &stored.id, &rows)?
                };
                if !new && answer_claim(&stored, accepted.as_ref()).is_none() {
                    // No (believable) accepted answer: the ask is open, in
                    // the transaction that stores it.
                    AcceptedAnswer::reopen(conn, &stored.id)?;
                }
                Ok((stored, removed))
            })
            .await?;
        crate::service::media_proxy::forget_cached(data, &removed).await;
        if let Some(url) = answer_claim(&stored, json_accepted.as_ref()) {
            accept_answer(data, &stored, url.clone()).await?;
        }
        Ok(stored)
    }
}

/// The accepted answer of a post, if it is an answered ask whose answer
/// is still there.
pub fn accepted_answer_of(
    conn: &mut crate::db::DbConn,
    question_id: &str,
) -> diesel::QueryResult<Option<Post>> {
    let Some(row) = AcceptedAnswer::of_question(conn, question_id)? else {
        return Ok(None);
    };
    Ok(Post::by_id(conn, &row.answer_id)?.filter(|p| !p.is_deleted()))
}

/// The line Mastodon users see at the end of an answered ask (they know
/// nothing of `acceptedAnswer`): a link to the answer, with its opening
/// words.
pub fn answered_line(answer: &Post) -> String {
    let words = text::strip_html(&answer.content);
    let mut excerpt: String = words.chars().take(80).collect();
    if words.chars().count() > 80 {
        excerpt.push('…');
    }
    let link = answer
        .url
        .clone()
        .unwrap_or_else(|| answer.ap_id.to_string());
    format!(
        "<p>Answered: <a href=\"{}\">{}</a></p>",
        text::html_escape(&link),
        text::html_escape(excerpt.trim())
    )
}

/// A local ask's Note with its accepted answer: `acceptedAnswer` for
/// peers that read it, the "Answered:" line in the content (and its
/// language map) for those that do not. Derived on the way out, so the
/// stored text stays as written and re-opening simply leaves it off.
pub fn with_accepted_answer(note: &mut Note, answer: Option<&Post>) {
    let Some(answer) = answer else {
        return;
    };
    note.accepted_answer = Some(answer.ap_id.0.clone());
    let line = answered_line(answer);
    note.content.push_str(&line);
    if let Some(map) = &mut note.content_map {
        for value in map.values_mut() {
            if let Value::String(content) = value {
                content.push_str(&line);
            }
        }
    }
}

/// The `acceptedAnswer` a received post claims, if it is an ask (any
/// other post's claim means nothing).
fn answer_claim<'a>(post: &Post, accepted: Option<&'a Url>) -> Option<&'a Url> {
    accepted.filter(|_| post.narration_kind() == Some(NarrationKind::Ask))
}

/// A received ask's `acceptedAnswer`, believed because the Note comes
/// from the ask's own server (`verify`, and the Update's authorship check
/// before it): it sets the answer (an ask without one was re-opened when
/// stored). A claim that breaks the rule (`db::answer::refusal`) or names
/// a reply that cannot be fetched changes nothing and is logged. The
/// answer's local author hears of it (`update`, as Mastodon names an edit
/// of a post one took part in).
async fn accept_answer(data: &Data<Context>, ask: &Post, url: Url) -> Result<()> {
    let known = {
        let url = url.clone();
        data.db
            .run(move |conn| Ok(Post::by_ap_id(conn, &url)?))
            .await?
    };
    let answer = match known {
        Some(answer) => answer,
        None => {
            let id: ObjectId<Post> = url.clone().into();
            match id.dereference(data).await {
                Ok(answer) => answer,
                Err(e) => {
                    tracing::warn!(ask = %ask.ap_id, answer = %url, error = %e, "accepted answer not fetched; ignored");
                    return Ok(());
                }
            }
        }
    };
    if let Some(reason) = refusal(ask, &answer) {
        tracing::warn!(ask = %ask.ap_id, answer = %url, reason, "accepted answer refused");
        return Ok(());
    }
    let ask = ask.clone();
    data.db
        .transaction(move |conn| {
            let before = AcceptedAnswer::of_question(conn, &ask.id)?;
            if before.is_some_and(|b| b.answer_id == answer.id) {
                return Ok(());
            }
            AcceptedAnswer::accept(conn, &ask.id, &answer.id, Some(&ask.author_id), now())?;
            Notification::notify(
                conn,
                &answer.author_id,
                "update",
                &ask.author_id,
                Some(&ask.id),
            )?;
            Ok(())
        })
        .await
}

/// A received narration's kind: Outloud's `narrationKind` when it names a
/// kind, else the first kind hashtag in `tag` (what Mastodon and any other
/// server send). Unknown values are ignored.
pub fn narration_kind_of(json: &Note) -> Option<NarrationKind> {
    let hashtags: Vec<String> = json
        .tags()
        .into_iter()
        .filter(|t| t.kind == "Hashtag")
        .map(|t| t.name)
        .collect();
    let explicit = json
        .narration_kind
        .as_deref()
        .and_then(NarrationKind::parse);
    NarrationKind::of(explicit, &hashtags)
}

/// The media rows of a remote post, in the order it listed them.
fn media_rows(post: &Post, media: Vec<RemoteMedia>) -> Vec<MediaAttachment> {
    let at = now();
    media
        .into_iter()
        .enumerate()
        .map(|(position, m)| MediaAttachment {
            id: new_id(),
            owner_id: post.author_id.clone(),
            post_id: Some(post.id.clone()),
            position: position as i64,
            kind: m.kind.into(),
            media_type: m.media_type,
            file_key: None,
            thumbnail_key: None,
            remote_url: Some(m.url),
            description: m.description,
            focus_x: m.focus.map(|f| f.0),
            focus_y: m.focus.map(|f| f.1),
            width: m.width,
            height: m.height,
            thumbnail_width: None,
            thumbnail_height: None,
            blurhash: m.blurhash,
            size_bytes: None,
            created_at: at,
            updated_at: at,
        })
        .collect()
}

/// Inserts a remote post, or replaces the stored version of it (only its
/// author may), in the caller's transaction; `true` when it was new.
fn store_post(
    conn: &mut crate::db::DbConn,
    post: Post,
    tags: Vec<PostTag>,
) -> Result<(Post, bool)> {
    match Post::by_ap_id(conn, &post.ap_id)? {
        Some(existing) if existing.local => {
            Err(Error::bad_request("refusing to overwrite a local post"))
        }
        Some(existing) if existing.author_id != post.author_id => {
            Err(Error::forbidden("only the author may change a post"))
        }
        Some(existing) => {
            let updated = Post {
                id: existing.id.clone(),
                deleted_at: existing.deleted_at,
                community_id: existing.community_id.clone(),
                ..post
            };
            let tags: Vec<PostTag> = tags
                .into_iter()
                .map(|t| PostTag {
                    post_id: existing.id.clone(),
                    ..t
                })
                .collect();
            Post::update(conn, &updated, &tags)?;
            Ok((updated, false))
        }
        None => {
            Post::insert(conn, &post, &tags)?;
            Ok((post, true))
        }
    }
}

/// The `attachment` entries of a post's media, as Mastodon sends them:
/// a local upload by its stored file, a remote one by its original URL.
pub fn documents_of(media: &[MediaAttachment], links: &MediaLinks) -> Vec<Value> {
    media
        .iter()
        .filter_map(|m| {
            let url = links.original_of(m)?;
            let document = Document {
                kind: "Document",
                media_type: m.media_type.clone(),
                url,
                name: m.description.clone(),
                blurhash: m.blurhash.clone(),
                focal_point: m.focus_x.zip(m.focus_y).map(|(x, y)| [x, y]),
                width: m.width,
                height: m.height,
            };
            serde_json::to_value(document).ok()
        })
        .collect()
}

/// Addressing of a new local post, by visibility: `(to, cc)`.
pub fn addressing(
    visibility: Visibility,
    author: &Actor,
    mentioned: &[Url],
) -> (Vec<Url>, Vec<Url>) {
    let public = || Url::parse(PUBLIC).ok();
    let followers = author
        .followers_url
        .as_deref()
        .and_then(|f| Url::parse(f).ok());
    match visibility {
        Visibility::Public => (
            public().into_iter().collect(),
            followers
                .into_iter()
                .chain(mentioned.iter().cloned())
                .collect(),
        ),
        Visibility::Unlisted => (
            followers.into_iter().collect(),
            public()
                .into_iter()
                .chain(mentioned.iter().cloned())
                .collect(),
        ),
        Visibility::Followers => (followers.into_iter().collect(), mentioned.to_vec()),
        Visibility::Direct => (mentioned.to_vec(), Vec::new()),
        Visibility::Local | Visibility::LocalUnlisted => (Vec::new(), Vec::new()),
    }
}

/// The remote actors a post must reach: followers (unless direct) and
/// everyone mentioned. Local-only posts reach nobody outside.
pub fn recipients(
    visibility: Visibility,
    followers: Vec<Actor>,
    mentioned: Vec<Actor>,
) -> Vec<Actor> {
    let mut all = match visibility {
        Visibility::Local | Visibility::LocalUnlisted => return Vec::new(),
        Visibility::Direct => Vec::new(),
        _ => followers,
    };
    all.extend(mentioned);
    all.retain(|a| !a.local);
    all.sort_by(|a, b| a.id.cmp(&b.id));
    all.dedup_by(|a, b| a.id == b.id);
    all
}

/// Whether `viewer` (a local or remote actor, or nobody) may see `post` by
/// `author`. `follows` says whether the viewer follows the author.
pub fn visible_to(post: &Post, author: &Actor, viewer: Option<&Actor>, follows: bool) -> bool {
    let is_author = viewer.is_some_and(|v| v.id == author.id);
    let addressed = viewer.is_some_and(|v| post.addressees().iter().any(|a| a == v.ap_id.as_str()));
    match post.visibility() {
        Visibility::Public | Visibility::Unlisted => true,
        Visibility::Local | Visibility::LocalUnlisted => viewer.is_some_and(|v| v.local),
        Visibility::Followers => is_author || follows || addressed,
        Visibility::Direct => is_author || addressed,
    }
}

/// The Note (or Article) of a post, from its row, author, tags and
/// attachments ([`documents_of`]): what
/// `into_json` serves and what a `Create` or `Update` carries. Pure, so it
/// can be built inside the transaction that stores the post.
pub fn note_of(
    post: &Post,
    author: &Actor,
    tags: &[PostTag],
    urls: &crate::urls::Urls,
    audience: Option<&Url>,
    attachment: Vec<Value>,
) -> Note {
    let tag: Vec<Value> = tags
        .iter()
        .map(|t| match t.kind.as_str() {
            "hashtag" => {
                json!({ "type": "Hashtag", "href": t.href, "name": format!("#{}", t.name) })
            }
            _ => json!({ "type": "Mention", "href": t.href, "name": t.name }),
        })
        .collect();
    let url = if post.local {
        Some(Value::String(
            urls.post_page(&author.username, &post.id).to_string(),
        ))
    } else {
        post.url.clone().map(Value::String)
    };
    Note {
        kind: post.kind().as_str().to_string(),
        id: post.ap_id.0.clone(),
        attributed_to: author.ap_id.0.clone().into(),
        to: urls_of(&post.to_json),
        cc: urls_of(&post.cc_json),
        content: post.content.clone(),
        media_type: Some("text/html".into()),
        source: post.source.clone().map(|content| Source {
            content,
            media_type: "text/markdown".into(),
        }),
        name: post.title.clone(),
        summary: post.summary.clone(),
        sensitive: Some(post.sensitive),
        in_reply_to: post.in_reply_to.as_deref().and_then(|u| Url::parse(u).ok()),
        context: post.thread.clone(),
        url,
        published: Some(post.published.and_utc()),
        updated: post.updated.map(|t| t.and_utc()),
        tag,
        content_map: post
            .language
            .clone()
            .map(|lang| serde_json::Map::from_iter([(lang, Value::String(post.content.clone()))])),
        audience: audience.cloned(),
        attachment,
        narration_kind: post.narration_kind().map(|k| k.as_str().to_string()),
        accepted_answer: None,
    }
}

/// The `Announce` of a boost: what its delivery carries and what
/// `GET /activities/{id}` serves.
pub fn announce_of(actor: &Actor, post: &Post, reaction: &Reaction) -> Announce {
    Announce {
        id: reaction.ap_id.0.clone(),
        kind: AnnounceType::Announce,
        actor: actor.ap_id.0.clone().into(),
        object: ObjectRef::Id(post.ap_id.0.clone()),
        to: Url::parse(PUBLIC).into_iter().collect(),
        cc: actor
            .followers_url
            .as_deref()
            .and_then(|f| Url::parse(f).ok())
            .into_iter()
            .collect(),
        published: Some(reaction.created_at.and_utc()),
    }
}
