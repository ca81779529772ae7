//! From Outloud's rows to Mastodon's entities. Each conversion runs its
//! queries in one blocking database task, however many rows it converts.

use super::entities::{self, Account, Mention, Status, StatusTag};
use crate::{
    apub::Data,
    context::Context,
    db::{
        actor::{Actor, ActorKind},
        follow::Follow,
        local_user::LocalUser,
        marks::{AccountMark, MarkKind},
        post::{Post, PostKind, Visibility},
        reaction::{Reaction, ReactionKind},
        schema::posts,
        DbConn,
    },
    error::Result,
    service::timelines::Item,
    urls::Urls,
};
use diesel::prelude::*;

/// Mastodon's timestamp format: ISO 8601 with milliseconds, in UTC.
pub fn timestamp(t: chrono::NaiveDateTime) -> String {
    t.and_utc().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// `name` for local accounts, `name@host` for remote ones.
pub fn acct(actor: &Actor) -> String {
    if actor.local {
        actor.username.clone()
    } else {
        format!("{}@{}", actor.username, actor.domain)
    }
}

fn fields_of(actor: &Actor) -> Vec<entities::Field> {
    #[derive(serde::Deserialize)]
    struct Raw {
        name: String,
        value: String,
    }
    actor
        .fields_json
        .as_deref()
        .and_then(|j| serde_json::from_str::<Vec<Raw>>(j).ok())
        .unwrap_or_default()
        .into_iter()
        .map(|f| entities::Field {
            name: f.name,
            value: f.value,
            verified_at: None,
        })
        .collect()
}

/// The visibilities of an account's posts that count in `statuses_count`.
const COUNTED: [&str; 2] = ["public", "unlisted"];

fn account_sync(conn: &mut DbConn, urls: &Urls, actor: &Actor) -> QueryResult<Account> {
    let statuses_count: i64 = posts::table
        .filter(posts::author_id.eq(&actor.id))
        .filter(posts::deleted_at.is_null())
        .filter(posts::visibility.eq_any(COUNTED))
        .count()
        .get_result(conn)?;
    let last_status: Option<chrono::NaiveDateTime> = posts::table
        .filter(posts::author_id.eq(&actor.id))
        .filter(posts::deleted_at.is_null())
        .select(posts::published)
        .order(posts::id.desc())
        .first(conn)
        .optional()?;
    let followers_count = Follow::count_followers(conn, &actor.id)?;
    let following_count = Follow::count_following(conn, &actor.id)?;
    let avatar = actor.icon_url.clone().unwrap_or_else(|| {
        urls.base()
            .join("/static/avatar.svg")
            .map(|u| u.to_string())
            .unwrap_or_default()
    });
    let header = urls
        .base()
        .join("/static/header.svg")
        .map(|u| u.to_string())
        .unwrap_or_default();
    let url = actor.url.clone().unwrap_or_else(|| actor.ap_id.to_string());
    Ok(Account {
        id: actor.id.clone(),
        username: actor.username.clone(),
        acct: acct(actor),
        url,
        uri: actor.ap_id.to_string(),
        display_name: actor.display_name.clone().unwrap_or_default(),
        note: actor.summary.clone().unwrap_or_default(),
        avatar_static: avatar.clone(),
        avatar,
        header_static: header.clone(),
        header,
        locked: actor.manually_approves_followers,
        fields: fields_of(actor),
        emojis: Vec::new(),
        bot: matches!(actor.kind(), ActorKind::Application | ActorKind::Service),
        group: actor.kind() == ActorKind::Group,
        discoverable: Some(actor.discoverable),
        indexable: actor.discoverable,
        hide_collections: Some(actor.hide_network),
        noindex: Some(!actor.discoverable),
        created_at: timestamp(
            actor
                .published
                .date()
                .and_hms_opt(0, 0, 0)
                .unwrap_or(actor.published),
        ),
        last_status_at: last_status.map(|t| t.date().format("%Y-%m-%d").to_string()),
        statuses_count,
        followers_count,
        following_count,
        roles: Vec::new(),
    })
}

pub async fn account(data: &Data<Context>, actor: &Actor) -> Result<Account> {
    let (actor, urls) = (actor.clone(), data.urls.clone());
    data.db
        .run(move |conn| Ok(account_sync(conn, &urls, &actor)?))
        .await
}

pub async fn accounts(data: &Data<Context>, actors: &[Actor]) -> Result<Vec<Account>> {
    let (actors, urls) = (actors.to_vec(), data.urls.clone());
    data.db
        .run(move |conn| {
            let mut out = Vec::with_capacity(actors.len());
            for actor in &actors {
                out.push(account_sync(conn, &urls, actor)?);
            }
            Ok(out)
        })
        .await
}

/// The signed-in account with its settings (`verify_credentials`).
pub async fn credential_account(
    data: &Data<Context>,
    actor: &Actor,
) -> Result<entities::CredentialAccount> {
    let (actor, urls) = (actor.clone(), data.urls.clone());
    data.db
        .run(move |conn| {
            let account = account_sync(conn, &urls, &actor)?;
            let pending = crate::db::schema::follows::table
                .filter(crate::db::schema::follows::followee_id.eq(&actor.id))
                .filter(crate::db::schema::follows::state.eq("pending"))
                .count()
                .get_result::<i64>(conn)?;
            let role = LocalUser::by_actor_id(conn, &actor.id)?
                .map(|u| u.role)
                .unwrap_or_else(|| "user".into());
            Ok(entities::CredentialAccount {
                source: entities::Source {
                    privacy: "public".into(),
                    sensitive: false,
                    language: None,
                    note: actor.summary_source.clone().unwrap_or_default(),
                    fields: fields_of(&actor),
                    follow_requests_count: pending,
                    hide_collections: actor.hide_network,
                    discoverable: actor.discoverable,
                    indexable: actor.discoverable,
                },
                role: entities::Role {
                    id: if role == "admin" { "3" } else { "-99" }.into(),
                    name: if role == "admin" {
                        "Admin".into()
                    } else {
                        String::new()
                    },
                    permissions: if role == "admin" { "1" } else { "0" }.into(),
                    color: String::new(),
                    highlighted: role == "admin",
                },
                account,
            })
        })
        .await
}

/// Mastodon's name for a visibility, and whether it is local-only.
pub fn visibility_name(v: Visibility) -> (&'static str, bool) {
    match v {
        Visibility::Public => ("public", false),
        Visibility::Unlisted => ("unlisted", false),
        Visibility::Followers => ("private", false),
        Visibility::Direct => ("direct", false),
        Visibility::Local => ("public", true),
    }
}

/// An Article's content as a status: its title, linked to the full page,
/// then its text.
fn content_of(post: &Post) -> String {
    if post.kind() == PostKind::Article {
        if let Some(title) = &post.title {
            let link = post.url.clone().unwrap_or_else(|| post.ap_id.to_string());
            return format!(
                "<p><strong><a href=\"{}\">{}</a></strong></p>{}",
                crate::text::html_escape(&link),
                crate::text::html_escape(title),
                post.content
            );
        }
    }
    post.content.clone()
}

fn status_sync(
    conn: &mut DbConn,
    urls: &Urls,
    viewer: Option<&Actor>,
    post: &Post,
    cache: &mut std::collections::HashMap<String, Account>,
) -> QueryResult<Option<Status>> {
    let Some(author) = Actor::by_id(conn, &post.author_id)? else {
        return Ok(None);
    };
    let account = match cache.get(&author.id) {
        Some(a) => a.clone(),
        None => {
            let a = account_sync(conn, urls, &author)?;
            cache.insert(author.id.clone(), a.clone());
            a
        }
    };
    let tags = Post::tags(conn, &post.id)?;
    let mut mentions = Vec::new();
    let mut hashtags = Vec::new();
    for tag in &tags {
        if tag.kind == "mention" {
            if let Ok(href) = url::Url::parse(&tag.href) {
                if let Some(m) = Actor::by_ap_id(conn, &href)? {
                    mentions.push(Mention {
                        id: m.id.clone(),
                        username: m.username.clone(),
                        url: m.url.clone().unwrap_or_else(|| m.ap_id.to_string()),
                        acct: acct(&m),
                    });
                }
            }
        } else if tag.kind == "hashtag" {
            hashtags.push(StatusTag {
                name: tag.name.clone(),
                url: urls.tag(&tag.name).to_string(),
            });
        }
    }
    let parent = match post
        .in_reply_to
        .as_deref()
        .and_then(|u| url::Url::parse(u).ok())
    {
        Some(u) => Post::by_ap_id(conn, &u)?,
        None => None,
    };
    let replies_count: i64 = posts::table
        .filter(posts::in_reply_to.eq(post.ap_id.to_string()))
        .filter(posts::deleted_at.is_null())
        .count()
        .get_result(conn)?;
    let (mut favourited, mut reblogged, mut bookmarked, mut pinned) = (false, false, false, false);
    if let Some(v) = viewer {
        favourited = Reaction::find(conn, ReactionKind::Like, &v.id, &post.id)?.is_some();
        reblogged = Reaction::find(conn, ReactionKind::Announce, &v.id, &post.id)?.is_some();
        bookmarked = AccountMark::has(conn, &v.id, MarkKind::Bookmark, &post.id)?;
        pinned = AccountMark::has(conn, &v.id, MarkKind::Pin, &post.id)?;
    }
    let (visibility, local_only) = visibility_name(post.visibility());
    Ok(Some(Status {
        id: post.id.clone(),
        uri: post.ap_id.to_string(),
        url: Some(post.url.clone().unwrap_or_else(|| post.ap_id.to_string())),
        created_at: timestamp(post.published),
        edited_at: post.updated.map(timestamp),
        account,
        content: content_of(post),
        text: None,
        visibility: visibility.into(),
        local_only,
        sensitive: post.sensitive || post.summary.is_some(),
        spoiler_text: post.summary.clone().unwrap_or_default(),
        media_attachments: Vec::new(),
        mentions,
        tags: hashtags,
        emojis: Vec::new(),
        reblogs_count: Reaction::count(conn, ReactionKind::Announce, &post.id)?,
        favourites_count: Reaction::count(conn, ReactionKind::Like, &post.id)?,
        replies_count,
        quotes_count: 0,
        in_reply_to_id: parent.as_ref().map(|p| p.id.clone()),
        in_reply_to_account_id: parent.as_ref().map(|p| p.author_id.clone()),
        reblog: None,
        poll: None,
        card: None,
        language: post.language.clone(),
        favourited,
        reblogged,
        muted: false,
        bookmarked,
        pinned,
        filtered: Vec::new(),
    }))
}

fn item_sync(
    conn: &mut DbConn,
    urls: &Urls,
    viewer: Option<&Actor>,
    item: &Item,
    cache: &mut std::collections::HashMap<String, Account>,
) -> QueryResult<Option<Status>> {
    match item {
        Item::Post(post) => status_sync(conn, urls, viewer, post, cache),
        Item::Boost { reaction, post } => {
            let Some(inner) = status_sync(conn, urls, viewer, post, cache)? else {
                return Ok(None);
            };
            let Some(booster) = Actor::by_id(conn, &reaction.actor_id)? else {
                return Ok(None);
            };
            let account = account_sync(conn, urls, &booster)?;
            Ok(Some(Status {
                id: reaction.id.clone(),
                uri: reaction.ap_id.to_string(),
                url: None,
                created_at: timestamp(reaction.created_at),
                edited_at: None,
                account,
                content: String::new(),
                text: None,
                visibility: inner.visibility.clone(),
                local_only: false,
                sensitive: false,
                spoiler_text: String::new(),
                media_attachments: Vec::new(),
                mentions: Vec::new(),
                tags: Vec::new(),
                emojis: Vec::new(),
                reblogs_count: 0,
                favourites_count: 0,
                replies_count: 0,
                quotes_count: 0,
                in_reply_to_id: None,
                in_reply_to_account_id: None,
                poll: None,
                card: None,
                language: None,
                favourited: inner.favourited,
                reblogged: inner.reblogged,
                muted: false,
                bookmarked: inner.bookmarked,
                pinned: false,
                filtered: Vec::new(),
                reblog: Some(Box::new(inner)),
            }))
        }
    }
}

/// Statuses of timeline items, in order; items whose author vanished are
/// left out.
pub async fn statuses(
    data: &Data<Context>,
    viewer: Option<&Actor>,
    items: Vec<Item>,
) -> Result<Vec<Status>> {
    let (viewer, urls) = (viewer.cloned(), data.urls.clone());
    data.db
        .run(move |conn| {
            let mut cache = std::collections::HashMap::new();
            let mut out = Vec::with_capacity(items.len());
            for item in &items {
                out.extend(item_sync(conn, &urls, viewer.as_ref(), item, &mut cache)?);
            }
            Ok(out)
        })
        .await
}

pub async fn posts(
    data: &Data<Context>,
    viewer: Option<&Actor>,
    posts: Vec<Post>,
) -> Result<Vec<Status>> {
    statuses(data, viewer, posts.into_iter().map(Item::Post).collect()).await
}

/// One status.
///
/// Errors: `NotFound` when its author is unknown.
pub async fn status(data: &Data<Context>, viewer: Option<&Actor>, item: Item) -> Result<Status> {
    statuses(data, viewer, vec![item])
        .await?
        .pop()
        .ok_or_else(|| crate::error::Error::not_found("Record not found"))
}

pub fn tag(urls: &Urls, name: &str) -> entities::Tag {
    entities::Tag {
        id: name.to_string(),
        name: name.to_string(),
        url: urls.tag(name).to_string(),
        history: Vec::new(),
        following: None,
    }
}
