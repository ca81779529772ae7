//! Changing a local post after it was published: an edit of its text,
//! kind or media, or a change beside the text (an ask's accepted answer),
//! each sent to everyone the post reached as one `Update`.

use super::*;

/// What an edit may change.
#[derive(Debug, Clone)]
pub struct PostEdit {
    pub title: Option<String>,
    pub source: String,
    pub summary: Option<String>,
    pub sensitive: bool,
    pub language: Option<String>,
    /// A kind chosen explicitly (the web edit form): as [`NewPost`]'s.
    /// `None`: the new text decides (see `narrations::kind_after_edit`).
    pub narration: Option<NarrationKind>,
}

/// Edits a local post and sends `Update` to everyone it reached (and anyone
/// newly mentioned). Visibility and addressing stay as published.
///
/// Errors: `NotFound`, `Forbidden` (not the author), `Unprocessable`.
pub async fn edit(
    data: &Data<Context>,
    author: &Actor,
    post_id: &str,
    edit: PostEdit,
) -> Result<Post> {
    edit_with_media(data, author, post_id, edit, None).await
}

/// [`edit`], and with `Some(media_ids)` the post's attachments become
/// those uploads, in order (dropped ones are detached); `None` keeps them.
///
/// Errors: also as [`publish_with_media`].
pub async fn edit_with_media(
    data: &Data<Context>,
    author: &Actor,
    post_id: &str,
    edit: PostEdit,
    media_ids: Option<Vec<String>>,
) -> Result<Post> {
    let post = own_post(data, author, post_id).await?;
    // The attachments the edited post will have: the named uploads, or
    // the ones it has.
    let (media_ids, media_rows) = match media_ids {
        Some(ids) => {
            let (owner, post_id) = (author.id.clone(), post.id.clone());
            let rows = data
                .db
                .run(move |conn| {
                    crate::service::media::attachable(conn, &owner, Some(&post_id), &ids)
                })
                .await?;
            (
                Some(rows.iter().map(|m| m.id.clone()).collect::<Vec<_>>()),
                rows,
            )
        }
        None => {
            let id = post.id.clone();
            let rows = data
                .db
                .run(move |conn| Ok(crate::db::media::MediaAttachment::of_posts(conn, &[id])?))
                .await?;
            (None, rows)
        }
    };
    let has_media = !media_rows.is_empty();
    let mut edit = edit;
    edit.source = narrations::with_kind_hashtag(&edit.source, edit.narration);
    validate(
        &NewPost {
            kind: post.kind(),
            title: edit.title.clone(),
            source: edit.source.clone(),
            visibility: post.visibility(),
            in_reply_to: None,
            summary: None,
            sensitive: false,
            language: None,
            community: None,
            narration: None,
        },
        has_media,
    )?;
    let before = addressed_actors(data, &post).await?;
    let (content, tags, mut mentioned) = render(data, &post.id, &edit.source).await;
    for actor in before {
        if !mentioned.iter().any(|m| m.id == actor.id) {
            mentioned.push(actor);
        }
    }
    let narration_kind = match edit.narration {
        Some(chosen) => Some(chosen),
        None => narrations::kind_after_edit(post.narration_kind(), &hashtags_of(&tags)),
    };
    let updated = Post {
        narration_kind: narration_kind.map(|k| k.as_str().to_string()),
        title: edit.title.map(|t| t.trim().to_string()),
        content,
        source: Some(edit.source),
        summary: edit.summary.filter(|s| !s.trim().is_empty()),
        sensitive: edit.sensitive,
        language: edit.language.or(post.language.clone()),
        updated: Some(now()),
        ..post
    };
    let community_id = updated.community_id.clone();
    let community = data
        .db
        .run(move |conn| match community_id {
            Some(id) => Ok(Actor::by_id(conn, &id)?),
            None => Ok(None),
        })
        .await?;
    let (activity, update_json) = update_of(
        data,
        &updated,
        author,
        &tags,
        &media_rows,
        community.as_ref(),
    )
    .await?;
    let (stored, author_row, policy) = (
        updated.clone(),
        author.clone(),
        data.config.federation.policy,
    );
    data.db
        .transaction(move |conn| {
            Post::update(conn, &stored, &tags)?;
            if let Some(ids) = &media_ids {
                crate::service::media::attach(conn, &author_row, &stored.id, ids)?;
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
    crate::service::communities::share_change(data, &updated, &update_json).await?;
    Ok(updated)
}

/// The `Update` of a local post as it stands in `post`, and its JSON with
/// the context: one builder for edits and for changes beside the text. An
/// answered ask's Note always says its answer (absent, peers would re-open
/// it).
async fn update_of(
    data: &Data<Context>,
    post: &Post,
    author: &Actor,
    tags: &[PostTag],
    media: &[crate::db::media::MediaAttachment],
    community: Option<&Actor>,
) -> Result<(Update, serde_json::Value)> {
    let mut note = note_of(
        post,
        author,
        tags,
        &data.urls,
        community.map(|g| &g.ap_id.0),
        documents_of(media, &MediaLinks::of(data)),
    );
    let answer = crate::service::answers::accepted_answer(data, post).await?;
    with_accepted_answer(&mut note, answer.as_ref());
    let activity = Update {
        id: data.urls.new_activity(),
        kind: UpdateType::Update,
        actor: author.ap_id.0.clone().into(),
        to: note.to.clone(),
        cc: note.cc.clone(),
        object: serde_json::to_value(&note)?,
    };
    let json = crate::apub::outbox::activity_json(&activity)?;
    Ok((activity, json))
}

/// Sends an `Update` of a local post as it is stored now, to everyone it
/// reached and to `also` (the author of an accepted answer, who may not
/// follow the asker), and lets its community pass it on. Used when
/// something beside the text changed: an ask's accepted answer.
pub(crate) async fn send_update(data: &Data<Context>, post: &Post, also: Vec<Actor>) -> Result<()> {
    let author = author_of(data, post).await?;
    let mut named = addressed_actors(data, post).await?;
    for actor in also {
        if !actor.local && !named.iter().any(|n| n.id == actor.id) {
            named.push(actor);
        }
    }
    let (post_id, community_id) = (post.id.clone(), post.community_id.clone());
    let (tags, media, community) = data
        .db
        .run(move |conn| {
            let community = match community_id {
                Some(id) => Actor::by_id(conn, &id)?,
                None => None,
            };
            let media =
                crate::db::media::MediaAttachment::of_posts(conn, std::slice::from_ref(&post_id))?;
            Ok((Post::tags(conn, &post_id)?, media, community))
        })
        .await?;
    let (activity, update_json) =
        update_of(data, post, &author, &tags, &media, community.as_ref()).await?;
    let (stored, policy) = (post.clone(), data.config.federation.policy);
    data.db
        .transaction(move |conn| {
            enqueue_for_post(
                conn,
                policy,
                &author,
                &stored,
                &named,
                &activity.id,
                &activity,
            )
        })
        .await?;
    data.delivery.wake();
    crate::service::communities::share_change(data, post, &update_json).await
}
