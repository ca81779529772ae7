//! Narrations: publishing, editing and deleting local posts, and who may
//! see what. Likes and boosts live in `reactions` (re-exported here).

use crate::{
    apub::{
        objects::post::{
            addressing, documents_of, note_of, recipients, visible_to, with_accepted_answer,
        },
        outbox,
        protocol::activity::{Create, Delete, ObjectRef, Update},
        Data,
    },
    config::FederationPolicy,
    context::Context,
    db::{
        actor::{Actor, ActorKind},
        follow::Follow,
        marks, new_id, now,
        post::{NarrationKind, Post, PostKind, PostTag, Visibility},
        DbConn, DbUrl,
    },
    error::{Error, ErrorKind, Result},
    text::{self, MentionText},
};
use activitypub_federation::{
    fetch::object_id::ObjectId,
    kinds::activity::{CreateType, DeleteType, UpdateType},
    protocol::tombstone::Tombstone,
};
use url::Url;

use super::{media::MediaLinks, narrations};

mod edit;
mod imported;

pub(crate) use edit::send_update;
pub use edit::{edit, edit_with_media, PostEdit};
pub use imported::{publish_imported, Imported};

pub use super::composer::{preview, publish_draft, Draft};
pub use super::reactions::{react, reaction_counts, unreact};
pub use super::threads::{context, replies, MAX_CONTEXT};

/// Longest Note source, in characters.
pub const MAX_NOTE_CHARS: usize = 5_000;
/// Longest Article source, in characters.
pub const MAX_ARTICLE_CHARS: usize = 100_000;

/// What an author writes.
#[derive(Debug, Clone)]
pub struct NewPost {
    pub kind: PostKind,
    /// Required for Articles.
    pub title: Option<String>,
    /// Markdown.
    pub source: String,
    pub visibility: Visibility,
    /// The post answered, by its ActivityPub id.
    pub in_reply_to: Option<Url>,
    /// Content warning.
    pub summary: Option<String>,
    pub sensitive: bool,
    pub language: Option<String>,
    /// The community to post into (its actor URL): it becomes the post's
    /// `audience` and is addressed in `to`.
    pub community: Option<Url>,
    /// The kind chosen explicitly (the web composer); it wins over a kind
    /// hashtag in the text, and its hashtag is appended when the text
    /// lacks it (see `service::narrations`).
    pub narration: Option<NarrationKind>,
}

impl NewPost {
    /// A public Note.
    pub fn note(source: &str) -> NewPost {
        NewPost {
            kind: PostKind::Note,
            title: None,
            source: source.to_string(),
            visibility: Visibility::Public,
            in_reply_to: None,
            summary: None,
            sensitive: false,
            language: None,
            community: None,
            narration: None,
        }
    }
}

/// `has_media`: a post with attachments may have no text (as Mastodon
/// allows).
fn validate(new: &NewPost, has_media: bool) -> Result<()> {
    let chars = new.source.chars().count();
    if new.source.trim().is_empty() && !(has_media && new.kind == PostKind::Note) {
        return Err(Error::unprocessable(
            "A narration needs some text: write something first.",
        ));
    }
    let max = match new.kind {
        PostKind::Article => MAX_ARTICLE_CHARS,
        _ => MAX_NOTE_CHARS,
    };
    if chars > max {
        return Err(Error::unprocessable(format!(
            "The text is too long: {chars} characters, at most {max}. Shorten it and try again."
        )));
    }
    match new.kind {
        PostKind::Article if new.title.as_deref().is_none_or(|t| t.trim().is_empty()) => {
            Err(Error::unprocessable("An article needs a title."))
        }
        PostKind::Page => Err(Error::unprocessable("local posts are Notes or Articles")),
        _ => Ok(()),
    }
}

/// Resolves the mentions written in a source; those that cannot be
/// resolved stay plain text.
async fn resolve_mentions(data: &Data<Context>, source: &str) -> Vec<(MentionText, Actor)> {
    let mut found = Vec::new();
    for mention in text::find_mentions(source) {
        let query = match &mention.host {
            Some(host) => format!("{}@{host}", mention.name),
            None => format!("{}@{}", mention.name, data.urls.domain()),
        };
        match crate::service::resolve::actor(data, &query).await {
            Ok(actor) => found.push((mention, actor)),
            Err(e) => tracing::debug!(mention = %query, error = %e, "mention not resolved"),
        }
    }
    found
}

/// Rendered content and tags of a source.
async fn render(
    data: &Data<Context>,
    post_id: &str,
    source: &str,
) -> (String, Vec<PostTag>, Vec<Actor>) {
    render_with(data, post_id, source, source).await
}

/// [`render`], finding mentions and hashtags in `written` only (a part of
/// `source`: an imported narration's link to its original is no mention).
async fn render_with(
    data: &Data<Context>,
    post_id: &str,
    source: &str,
    written: &str,
) -> (String, Vec<PostTag>, Vec<Actor>) {
    let mentions = resolve_mentions(data, written).await;
    let urls = data.urls.clone();
    let html = text::render_markdown(
        source,
        |m| {
            mentions
                .iter()
                .find(|(written, _)| written == m)
                .map(|(_, a)| a.url.clone().unwrap_or_else(|| a.ap_id.to_string()))
        },
        |tag| urls.tag(tag).to_string(),
    );
    let mut tags: Vec<PostTag> = text::find_hashtags(written)
        .into_iter()
        .map(|tag| PostTag {
            post_id: post_id.to_string(),
            kind: "hashtag".into(),
            href: data.urls.tag(&tag).to_string(),
            name: tag,
        })
        .collect();
    tags.extend(mentions.iter().map(|(_, actor)| PostTag {
        post_id: post_id.to_string(),
        kind: "mention".into(),
        name: format!("@{}@{}", actor.username, actor.domain),
        href: actor.ap_id.to_string(),
    }));
    (html, tags, mentions.into_iter().map(|(_, a)| a).collect())
}

/// The hashtag names among a post's tags, in the order written.
fn hashtags_of(tags: &[PostTag]) -> Vec<String> {
    tags.iter()
        .filter(|t| t.kind == "hashtag")
        .map(|t| t.name.clone())
        .collect()
}

/// Mastodon users post into a community by mentioning it (FEP-1b12): the
/// first mentioned community of this instance that takes posts from
/// `author` is the post's community, with the same rules as one chosen in
/// the composer (members-only addressing above all). A community that
/// would refuse the post is only mentioned.
async fn mentioned_community(
    data: &Data<Context>,
    author: &Actor,
    mentioned: &[Actor],
) -> Result<Option<Actor>> {
    for group in mentioned
        .iter()
        .filter(|m| m.local && m.kind() == ActorKind::Group)
    {
        if crate::service::communities::takes_posts_from(data, group, author).await? {
            return Ok(Some(group.clone()));
        }
    }
    Ok(None)
}

/// Finds a post by id, fetching a remote one when unknown.
///
/// Errors: `NotFound`.
pub async fn find(data: &Data<Context>, ap_id: &Url) -> Result<Post> {
    let id: ObjectId<Post> = ap_id.clone().into();
    id.dereference(data).await.map_err(|e| {
        if e.kind == ErrorKind::Internal {
            e.with_kind(ErrorKind::NotFound)
        } else {
            e
        }
    })
}

/// Publishes a narration by a local `author`: stores it and sends `Create`
/// to followers and mentioned people, as its visibility allows.
///
/// Errors: `Unprocessable` for invalid input, `NotFound` for an unknown
/// post replied to.
pub async fn publish(data: &Data<Context>, author: &Actor, new: NewPost) -> Result<Post> {
    publish_once(data, author, new, None).await
}

/// [`publish`], remembering the client's `Idempotency-Key` in the same
/// transaction as the post. A concurrent request with the same key then
/// fails on the key's primary key and stores nothing; the caller answers
/// it with the post that won ([`post_for_idempotency_key`]).
pub async fn publish_once(
    data: &Data<Context>,
    author: &Actor,
    new: NewPost,
    idempotency_key: Option<String>,
) -> Result<Post> {
    publish_with_media(data, author, new, idempotency_key, Vec::new()).await
}

/// [`publish_once`] with the author's uploads `media_ids` attached, in
/// order (`service::media::attach`, in the post's transaction).
///
/// Errors: also `Unprocessable` for media that is not the author's, is
/// attached elsewhere, or is more than `media::MAX_ATTACHMENTS`.
pub async fn publish_with_media(
    data: &Data<Context>,
    author: &Actor,
    new: NewPost,
    idempotency_key: Option<String>,
    media_ids: Vec<String>,
) -> Result<Post> {
    publish_inner(data, author, new, idempotency_key, media_ids, None).await
}

async fn publish_inner(
    data: &Data<Context>,
    author: &Actor,
    new: NewPost,
    idempotency_key: Option<String>,
    media_ids: Vec<String>,
    imported: Option<Imported>,
) -> Result<Post> {
    let mut new = new;
    new.source = narrations::with_kind_hashtag(&new.source, new.narration);
    let attachments = {
        let owner = author.id.clone();
        data.db
            .run(move |conn| crate::service::media::attachable(conn, &owner, None, &media_ids))
            .await?
    };
    let media_ids: Vec<String> = attachments.iter().map(|m| m.id.clone()).collect();
    validate(&new, !attachments.is_empty())?;
    let id = match &imported {
        Some(i) => imported::id_at(i.published),
        None => new_id(),
    };
    let ap_id = data.urls.object(&id);
    let parent = match &new.in_reply_to {
        Some(parent) => Some(find(data, parent).await?),
        None => None,
    };
    let written = new.source.clone();
    if let Some(footer) = imported.as_ref().and_then(|i| i.footer.as_deref()) {
        new.source = format!("{}\n\n{footer}", new.source.trim_end());
    }
    let (content, tags, mut mentioned) = render_with(data, &id, &new.source, &written).await;
    let narration_kind = narrations::kind_of(new.narration, &hashtags_of(&tags));
    // A reply reaches the author of what it answers.
    if let Some(parent) = &parent {
        let parent_author = parent.author_id.clone();
        if let Some(a) = data
            .db
            .run(move |c| Ok(Actor::by_id(c, &parent_author)?))
            .await?
        {
            if a.id != author.id && !mentioned.iter().any(|m| m.id == a.id) {
                mentioned.push(a);
            }
        }
    }
    // A reply stays in the community of what it answers.
    let community_url = match (&new.community, &parent) {
        (Some(url), _) => Some(url.clone()),
        (None, Some(parent)) => match parent.community_id.clone() {
            Some(id) => data
                .db
                .run(move |conn| Ok(Actor::by_id(conn, &id)?))
                .await?
                .map(|g| g.ap_id.0),
            None => None,
        },
        (None, None) => None,
    };
    let community = match &community_url {
        Some(url) => {
            let group = crate::service::resolve::actor(data, url.as_str()).await?;
            if group.kind() != ActorKind::Group {
                return Err(Error::unprocessable("you can only post into a community"));
            }
            if !mentioned.iter().any(|m| m.id == group.id) {
                mentioned.push(group.clone());
            }
            Some(group)
        }
        None => mentioned_community(data, author, &mentioned).await?,
    };
    // Posts in a members-only community are for its members only: never
    // public, never to the author's followers who are not members.
    let mut visibility = new.visibility;
    let mut members_only_followers = None;
    if let Some(group) = community.as_ref().filter(|g| g.local) {
        let group_id = group.id.clone();
        let closed = data
            .db
            .run(move |conn| {
                Ok(
                    crate::db::community::Community::by_actor_id(conn, &group_id)?
                        .is_some_and(|c| c.members_only),
                )
            })
            .await?;
        if closed && visibility.is_local_only() {
            // Local visibility would show it to every local person.
            return Err(Error::unprocessable(
                "posts in a members-only community are for its members: \
                 choose another visibility than local",
            ));
        }
        if closed {
            visibility = Visibility::Direct;
            members_only_followers = group
                .followers_url
                .as_deref()
                .and_then(|f| Url::parse(f).ok());
        }
    }
    let mentioned_ids: Vec<Url> = mentioned.iter().map(|a| a.ap_id.0.clone()).collect();
    let (mut to, cc) = addressing(visibility, author, &mentioned_ids);
    to.extend(members_only_followers);
    if let Some(group) = &community {
        if !visibility.is_local_only() && !to.contains(&group.ap_id.0) {
            to.push(group.ap_id.0.clone());
        }
    }
    let thread = parent
        .as_ref()
        .map(|p| p.thread.clone().unwrap_or_else(|| p.ap_id.to_string()))
        .unwrap_or_else(|| ap_id.to_string());
    let post = Post {
        id: id.clone(),
        ap_id: DbUrl(ap_id),
        author_id: author.id.clone(),
        kind: new.kind.as_str().into(),
        visibility: visibility.as_str().into(),
        title: new.title.map(|t| t.trim().to_string()),
        content,
        source: Some(new.source),
        summary: new.summary.filter(|s| !s.trim().is_empty()),
        sensitive: new.sensitive,
        language: new.language,
        in_reply_to: parent.as_ref().map(|p| p.ap_id.to_string()),
        thread: Some(thread),
        url: Some(data.urls.post_page(&author.username, &id).to_string()),
        to_json: serde_json::to_string(&to)?,
        cc_json: serde_json::to_string(&cc)?,
        local: true,
        published: imported.as_ref().map_or_else(now, |i| i.published),
        updated: None,
        deleted_at: None,
        community_id: community.as_ref().map(|g| g.id.clone()),
        search_text: None,
        narration_kind: narration_kind.map(|k| k.as_str().to_string()),
    };
    // The post and its Create commit together: nothing is stored that is
    // not also queued for delivery, and the reverse.
    let note = note_of(
        &post,
        author,
        &tags,
        &data.urls,
        community.as_ref().map(|g| &g.ap_id.0),
        documents_of(&attachments, &MediaLinks::of(data)),
    );
    let activity = Create {
        id: create_activity_id(&data.urls, &post),
        kind: CreateType::Create,
        actor: author.ap_id.0.clone().into(),
        to: note.to.clone(),
        cc: note.cc.clone(),
        object: note,
        raw: None,
    };
    let create_json = crate::apub::outbox::activity_json(&activity)?;
    let local_groups: Vec<Url> = mentioned
        .iter()
        .filter(|m| m.local && m.kind() == ActorKind::Group)
        .map(|m| m.ap_id.0.clone())
        .collect();
    let (stored, author_row, policy) =
        (post.clone(), author.clone(), data.config.federation.policy);
    let imported_row = imported.clone();
    data.db
        .transaction(move |conn| {
            Post::insert(conn, &stored, &tags)?;
            if !media_ids.is_empty() {
                crate::service::media::attach(conn, &author_row, &stored.id, &media_ids)?;
            }
            if let Some(key) = &idempotency_key {
                marks::remember_idempotency_key(conn, &author_row.id, key, &stored.id)?;
            }
            if let Some(imported) = &imported_row {
                crate::db::portability::remember(
                    conn,
                    &author_row.id,
                    &imported.original_id,
                    &stored.id,
                )?;
                return Ok(());
            }
            enqueue_for_post(
                conn,
                policy,
                &author_row,
                &stored,
                &mentioned,
                &activity.id,
                &activity,
            )
        })
        .await?;
    data.delivery.wake();
    // Communities on this instance receive the post directly (not an
    // imported one: like followers, their members saw it long ago).
    let local_groups = if imported.is_some() {
        Vec::new()
    } else {
        local_groups
    };
    for (group, community) in crate::service::communities::addressed(data, &local_groups).await? {
        crate::service::communities::receive_post(data, &group, &community, &post, &create_json)
            .await?;
    }
    let id = post.id.clone();
    data.db
        .run(move |conn| Post::by_id(conn, &id)?.ok_or_else(|| Error::not_found("no such post")))
        .await
}

/// The post `author` published earlier with this `Idempotency-Key`, if any.
pub async fn post_for_idempotency_key(
    data: &Data<Context>,
    author: &Actor,
    key: &str,
) -> Result<Option<Post>> {
    let (author_id, key) = (author.id.clone(), key.to_string());
    let earlier = data
        .db
        .run(move |conn| Ok(marks::idempotent_post(conn, &author_id, &key)?))
        .await?;
    match earlier {
        Some(post_id) => Ok(Some(get(data, Some(author), &post_id).await?)),
        None => Ok(None),
    }
}

/// Queues an activity about `post` for everyone the post reaches: the
/// author's followers (unless direct) and the actors it names. Local-only
/// posts reach nobody outside. Runs in the caller's transaction.
fn enqueue_for_post<A: serde::Serialize>(
    conn: &mut DbConn,
    policy: FederationPolicy,
    author: &Actor,
    post: &Post,
    named: &[Actor],
    activity_id: &Url,
    activity: &A,
) -> Result<()> {
    let visibility = post.visibility();
    if visibility.is_local_only() {
        return Ok(());
    }
    let followers = Follow::all_followers(conn, &author.id)?;
    let targets = recipients(visibility, followers, named.to_vec());
    outbox::enqueue(conn, policy, author, activity_id, activity, &targets)
}

/// The actors a stored post is addressed to by name (mentions, the author
/// of the post it answers): with its author's followers, everyone who
/// received it, and so who must receive its Update or Delete.
async fn addressed_actors(data: &Data<Context>, post: &Post) -> Result<Vec<Actor>> {
    let addressees = post.addressees();
    data.db
        .run(move |conn| {
            let mut actors = Vec::new();
            for url in addressees.iter().filter_map(|a| Url::parse(a).ok()) {
                actors.extend(Actor::by_ap_id(conn, &url)?);
            }
            Ok(actors)
        })
        .await
}

/// A local post of `author`, checked to be theirs and not deleted.
async fn own_post(data: &Data<Context>, author: &Actor, post_id: &str) -> Result<Post> {
    let id = post_id.to_string();
    let post = data
        .db
        .run(move |conn| Ok(Post::by_id(conn, &id)?))
        .await?
        .filter(|p| !p.is_deleted())
        .ok_or_else(|| Error::not_found("no such post"))?;
    if post.author_id != author.id {
        return Err(Error::forbidden("only the author may change a post"));
    }
    Ok(post)
}

/// Deletes a local post (it becomes a tombstone answering 410) and sends
/// `Delete` to everyone it reached.
///
/// Errors: `NotFound`, `Forbidden` (not the author).
pub async fn delete(data: &Data<Context>, author: &Actor, post_id: &str) -> Result<()> {
    let post = own_post(data, author, post_id).await?;
    let mentioned = addressed_actors(data, &post).await?;
    let to: Vec<Url> = post
        .addressees()
        .iter()
        .filter_map(|u| Url::parse(u).ok())
        .collect();
    let activity = Delete {
        id: data.urls.new_activity(),
        kind: DeleteType::Delete,
        actor: author.ap_id.0.clone().into(),
        object: ObjectRef::Object {
            id: post.ap_id.0.clone(),
            rest: serde_json::to_value(Tombstone::new(post.ap_id.0.clone()))?
                .as_object()
                .cloned()
                .unwrap_or_default(),
        },
        to,
        cc: Vec::new(),
    };
    let delete_json = crate::apub::outbox::activity_json(&activity)?;
    let shared = post.clone();
    let (author_row, policy) = (author.clone(), data.config.federation.policy);
    data.db
        .transaction(move |conn| {
            Post::mark_deleted(conn, &post.id)?;
            enqueue_for_post(
                conn,
                policy,
                &author_row,
                &post,
                &mentioned,
                &activity.id,
                &activity,
            )
        })
        .await?;
    data.delivery.wake();
    crate::service::communities::share_change(data, &shared, &delete_json).await
}

/// The author of a post.
pub(crate) async fn author_of(data: &Data<Context>, post: &Post) -> Result<Actor> {
    let id = post.author_id.clone();
    data.db
        .run(move |conn| Actor::by_id(conn, &id)?.ok_or_else(|| Error::not_found("no such author")))
        .await
}

/// Whether `viewer` may see `post` (DESIGN §4 Visibility).
pub async fn can_see(data: &Data<Context>, viewer: Option<&Actor>, post: &Post) -> Result<bool> {
    let author = author_of(data, post).await?;
    let follows = match viewer {
        Some(v) => {
            let (v, a) = (v.id.clone(), author.id.clone());
            data.db
                .run(move |conn| Ok(Follow::is_following(conn, &v, &a)?))
                .await?
        }
        None => false,
    };
    if visible_to(post, &author, viewer, follows) {
        return Ok(true);
    }
    match viewer {
        Some(viewer) => crate::service::communities::grants_access(data, post, viewer).await,
        None => Ok(false),
    }
}

/// A post by its local id, if `viewer` may see it.
///
/// Errors: `NotFound` (also for posts the viewer may not see, so their
/// existence does not leak), `Gone` for deleted posts.
pub async fn get(data: &Data<Context>, viewer: Option<&Actor>, post_id: &str) -> Result<Post> {
    let id = post_id.to_string();
    let post = data
        .db
        .run(move |conn| Ok(Post::by_id(conn, &id)?))
        .await?
        .ok_or_else(|| Error::not_found("no such post"))?;
    if !can_see(data, viewer, &post).await? {
        return Err(Error::not_found("no such post"));
    }
    if post.is_deleted() {
        return Err(Error::new(ErrorKind::Gone, "this post was deleted"));
    }
    Ok(post)
}

/// A post by ActivityPub id as stored here, if `viewer` may see it.
///
/// Errors: `NotFound`.
pub async fn get_by_ap_id(
    data: &Data<Context>,
    viewer: Option<&Actor>,
    ap_id: &Url,
) -> Result<Post> {
    let id = ap_id.clone();
    let post = data
        .db
        .run(move |conn| Ok(Post::by_ap_id(conn, &id)?))
        .await?
        .filter(|p| !p.is_deleted())
        .ok_or_else(|| Error::not_found("no such post"))?;
    if !can_see(data, viewer, &post).await? {
        return Err(Error::not_found("no such post"));
    }
    Ok(post)
}

/// The ActivityPub id of the `Create` that published a local post: what
/// its deliveries are queued under.
pub fn create_activity_id(urls: &crate::urls::Urls, post: &Post) -> Url {
    urls.activity(&post.id)
}
