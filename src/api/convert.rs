//! From Outloud's rows to Mastodon's entities. Each conversion runs its
//! queries in one blocking database task, however many rows it converts.

use super::entities::{self, Account, Mention, Status, StatusTag};
use crate::{
    apub::Data,
    context::Context,
    db::{
        actor::{Actor, ActorKind},
        facts::{self, PostFacts},
        follow::Follow,
        local_user::LocalUser,
        media::MediaAttachment,
        post::{Post, PostKind, Visibility},
        reaction::Reaction,
        stats::{self, ActorStats},
        DbConn,
    },
    error::Result,
    service::{media::MediaLinks, timelines::Item},
    text::is_http_url,
    urls::Urls,
};
use diesel::prelude::*;
use std::collections::HashMap;

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

/// An account from its row and counts (pure).
/// The page a client links to: the object's `url` when it is http(s),
/// else its id. Rows stored before remote URLs were checked on the way in
/// are checked again here.
fn web_url(url: Option<&str>, id: &crate::db::DbUrl) -> String {
    url.filter(|u| is_http_url(u))
        .map(String::from)
        .unwrap_or_else(|| id.to_string())
}

fn account_of(
    urls: &Urls,
    links: &MediaLinks,
    actor: &Actor,
    counts: Option<&ActorStats>,
) -> Account {
    let counts = counts.cloned().unwrap_or_default();
    let static_url = |path: &str| {
        urls.base()
            .join(path)
            .map(|u| u.to_string())
            .unwrap_or_default()
    };
    let avatar = links
        .avatar_of(actor)
        .unwrap_or_else(|| static_url("/static/avatar.svg"));
    let header = links
        .header_of(actor)
        .unwrap_or_else(|| static_url("/static/header.svg"));
    Account {
        id: actor.id.clone(),
        username: actor.username.clone(),
        acct: acct(actor),
        url: web_url(actor.url.as_deref(), &actor.ap_id),
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
        // Mastodon gives the creation day at midnight.
        created_at: timestamp(
            actor
                .published
                .date()
                .and_hms_opt(0, 0, 0)
                .unwrap_or(actor.published),
        ),
        last_status_at: counts
            .last_status_at
            .map(|t| t.date().format("%Y-%m-%d").to_string()),
        statuses_count: counts.statuses_count,
        followers_count: counts.followers_count,
        following_count: counts.following_count,
        roles: Vec::new(),
        suspended: None,
        moved: None,
    }
}

/// Accounts of `actors`, in order, with their counts in one query.
fn accounts_sync(
    conn: &mut DbConn,
    urls: &Urls,
    links: &MediaLinks,
    actors: &[Actor],
) -> QueryResult<Vec<Account>> {
    let ids: Vec<String> = actors.iter().map(|a| a.id.clone()).collect();
    let counts = stats::of(conn, &ids)?;
    // Only local accounts can be suspended here; a page of remote ones
    // costs no query.
    let local: Vec<String> = actors
        .iter()
        .filter(|a| a.local)
        .map(|a| a.id.clone())
        .collect();
    let suspended = if local.is_empty() {
        Default::default()
    } else {
        LocalUser::suspended_among(conn, &local)?
    };
    let moved = moved_targets(conn, &ids)?;
    Ok(actors
        .iter()
        .map(|a| Account {
            suspended: suspended.contains(&a.id).then_some(true),
            moved: moved
                .get(&a.id)
                .map(|(target, counts)| Box::new(account_of(urls, links, target, Some(counts)))),
            ..account_of(urls, links, a, counts.get(&a.id))
        })
        .collect())
}

/// The accounts some of `ids` moved to (when known here), with their
/// counts; one query when none moved.
fn moved_targets(
    conn: &mut DbConn,
    ids: &[String],
) -> QueryResult<HashMap<String, (Actor, ActorStats)>> {
    let moves = crate::db::moves::ActorMove::among(conn, ids)?;
    let mut targets = HashMap::new();
    for (id, row) in moves {
        let Ok(url) = url::Url::parse(&row.target_ap_id) else {
            continue;
        };
        if let Some(target) = Actor::by_ap_id(conn, &url)? {
            let counts = stats::of(conn, std::slice::from_ref(&target.id))?
                .remove(&target.id)
                .unwrap_or_default();
            targets.insert(id, (target, counts));
        }
    }
    Ok(targets)
}

fn account_sync(
    conn: &mut DbConn,
    urls: &Urls,
    links: &MediaLinks,
    actor: &Actor,
) -> QueryResult<Account> {
    let mut list = accounts_sync(conn, urls, links, std::slice::from_ref(actor))?;
    Ok(list.remove(0))
}

pub async fn account(data: &Data<Context>, actor: &Actor) -> Result<Account> {
    let (actor, urls, links) = (actor.clone(), data.urls.clone(), MediaLinks::of(data));
    data.db
        .run(move |conn| Ok(account_sync(conn, &urls, &links, &actor)?))
        .await
}

pub async fn accounts(data: &Data<Context>, actors: &[Actor]) -> Result<Vec<Account>> {
    let (actors, urls, links) = (actors.to_vec(), data.urls.clone(), MediaLinks::of(data));
    data.db
        .run(move |conn| Ok(accounts_sync(conn, &urls, &links, &actors)?))
        .await
}

/// A local account's role as Mastodon's Role entity: admins are
/// Mastodon's built-in "Admin" (id 3, all permissions), everyone else the
/// everyone-role (id -99).
pub fn role_entity(role: &str) -> entities::Role {
    let admin = role == "admin";
    entities::Role {
        id: if admin { "3" } else { "-99" }.into(),
        name: if admin { "Admin".into() } else { String::new() },
        permissions: if admin { "1" } else { "0" }.into(),
        color: String::new(),
        highlighted: admin,
    }
}

/// The signed-in account with its settings (`verify_credentials`).
pub async fn credential_account(
    data: &Data<Context>,
    actor: &Actor,
) -> Result<entities::CredentialAccount> {
    let (actor, urls, links) = (actor.clone(), data.urls.clone(), MediaLinks::of(data));
    data.db
        .run(move |conn| {
            let account = account_sync(conn, &urls, &links, &actor)?;
            let pending = Follow::count_requests(conn, &actor.id)?;
            let user = LocalUser::by_actor_id(conn, &actor.id)?;
            let role = user
                .as_ref()
                .map(|u| u.role.clone())
                .unwrap_or_else(|| "user".into());
            let privacy = user
                .as_ref()
                .and_then(|u| Visibility::parse(&u.default_visibility))
                .map(|v| visibility_name(v).0)
                .unwrap_or("public");
            Ok(entities::CredentialAccount {
                source: entities::Source {
                    privacy: privacy.into(),
                    sensitive: false,
                    language: None,
                    note: actor.summary_source.clone().unwrap_or_default(),
                    fields: fields_of(&actor),
                    follow_requests_count: pending,
                    hide_collections: actor.hide_network,
                    discoverable: actor.discoverable,
                    indexable: actor.discoverable,
                },
                role: role_entity(&role),
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
        Visibility::LocalUnlisted => ("unlisted", true),
    }
}

/// An Article's content as a status: its title, linked to the full page,
/// then its text.
fn content_of(post: &Post) -> String {
    if post.kind() == PostKind::Article {
        if let Some(title) = &post.title {
            let link = web_url(post.url.as_deref(), &post.ap_id);
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

/// The status of one post, from what the page's batch queries found.
fn status_of(
    urls: &Urls,
    post: &Post,
    account: Account,
    facts: &PostFacts,
    mentioned: &HashMap<String, Actor>,
    media_attachments: Vec<super::media::Attachment>,
) -> Status {
    let tags = facts.tags.get(&post.id).map(Vec::as_slice).unwrap_or(&[]);
    let mentions = tags
        .iter()
        .filter(|t| t.kind == "mention")
        .filter_map(|t| mentioned.get(&t.href))
        .map(|m| Mention {
            id: m.id.clone(),
            username: m.username.clone(),
            url: web_url(m.url.as_deref(), &m.ap_id),
            acct: acct(m),
        })
        .collect();
    let hashtags = tags
        .iter()
        .filter(|t| t.kind == "hashtag")
        .map(|t| StatusTag {
            name: t.name.clone(),
            url: urls.tag(&t.name).to_string(),
        })
        .collect();
    let parent = post.in_reply_to.as_ref().and_then(|p| facts.parents.get(p));
    let count = |map: &HashMap<String, i64>| map.get(&post.id).copied().unwrap_or(0);
    let (visibility, local_only) = visibility_name(post.visibility());
    Status {
        id: post.id.clone(),
        uri: post.ap_id.to_string(),
        url: Some(web_url(post.url.as_deref(), &post.ap_id)),
        created_at: timestamp(post.published),
        edited_at: post.updated.map(timestamp),
        account,
        content: content_of(post),
        text: None,
        visibility: visibility.into(),
        local_only,
        sensitive: post.sensitive || post.summary.is_some(),
        spoiler_text: post.summary.clone().unwrap_or_default(),
        media_attachments,
        mentions,
        tags: hashtags,
        emojis: Vec::new(),
        reblogs_count: count(&facts.boosts),
        favourites_count: count(&facts.likes),
        replies_count: count(&facts.replies),
        quotes_count: 0,
        in_reply_to_id: parent.map(|(id, _)| id.clone()),
        in_reply_to_account_id: parent.map(|(_, author)| author.clone()),
        reblog: None,
        poll: None,
        card: None,
        language: post.language.clone(),
        favourited: facts.liked.contains(&post.id),
        reblogged: facts.boosted.contains(&post.id),
        muted: false,
        bookmarked: facts.bookmarked.contains(&post.id),
        pinned: facts.pinned.contains(&post.id),
        filtered: Vec::new(),
        outloud: post
            .narration_kind()
            .map(|k| super::entities::OutloudStatus {
                kind: k.as_str(),
                accepted_answer_id: (k == crate::db::post::NarrationKind::Ask)
                    .then(|| facts.answers.get(&post.id).cloned()),
            }),
    }
}

/// A boost as Mastodon shows it: a status of its own whose `reblog` is
/// the boosted one.
fn boost_of(reaction: &Reaction, booster: Account, inner: Status) -> Status {
    reblog_of(
        reaction.id.clone(),
        reaction.ap_id.to_string(),
        reaction.created_at,
        booster,
        inner,
    )
}

/// A community's share of a post, as Mastodon shows a group's share: the
/// community's reblog of it. The share has no activity of its own to name
/// (a local community's has no `Announce` at all), so its `uri` is the URN
/// of its id.
fn share_of(id: &str, post: &Post, community: Account, inner: Status) -> Status {
    reblog_of(
        id.to_string(),
        format!("urn:uuid:{id}"),
        post.published,
        community,
        inner,
    )
}

/// A reblog status: `account` shared `inner`.
fn reblog_of(
    id: String,
    uri: String,
    created_at: chrono::NaiveDateTime,
    booster: Account,
    inner: Status,
) -> Status {
    Status {
        id,
        uri,
        url: None,
        created_at: timestamp(created_at),
        edited_at: None,
        account: booster,
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
        outloud: None,
        reblog: Some(Box::new(inner)),
    }
}

/// The attachments of a page's posts, in each post's order, in one query.
fn media_of(
    conn: &mut DbConn,
    links: &MediaLinks,
    posts: &[&Post],
) -> QueryResult<HashMap<String, Vec<super::media::Attachment>>> {
    let ids: Vec<String> = posts.iter().map(|p| p.id.clone()).collect();
    let mut out: HashMap<String, Vec<super::media::Attachment>> = HashMap::new();
    for row in MediaAttachment::of_posts(conn, &ids)? {
        if let Some(post_id) = &row.post_id {
            out.entry(post_id.clone())
                .or_default()
                .push(super::media::attachment(links, &row));
        }
    }
    Ok(out)
}

/// The attachments of one post, for its edit history.
pub async fn post_media(
    data: &Data<Context>,
    post_id: &str,
) -> Result<Vec<super::media::Attachment>> {
    let (ids, links) = (vec![post_id.to_string()], MediaLinks::of(data));
    data.db
        .run(move |conn| {
            Ok(MediaAttachment::of_posts(conn, &ids)?
                .iter()
                .map(|m| super::media::attachment(&links, m))
                .collect())
        })
        .await
}

/// Statuses of a page of items, with a fixed number of queries.
fn statuses_sync(
    conn: &mut DbConn,
    urls: &Urls,
    links: &MediaLinks,
    viewer: Option<&Actor>,
    items: &[Item],
) -> QueryResult<Vec<Status>> {
    let posts: Vec<&Post> = items.iter().map(Item::post).collect();
    let facts = facts::post_facts(conn, &posts, viewer.map(|v| v.id.as_str()))?;
    let mut actor_ids: Vec<String> = posts.iter().map(|p| p.author_id.clone()).collect();
    actor_ids.extend(items.iter().filter_map(|i| match i {
        Item::Boost { reaction, .. } => Some(reaction.actor_id.clone()),
        Item::Share { group_id, .. } => Some(group_id.clone()),
        Item::Post(_) => None,
    }));
    actor_ids.sort();
    actor_ids.dedup();
    let actors: Vec<Actor> = facts::actors_by_ids(conn, &actor_ids)?
        .into_values()
        .collect();
    let accounts: HashMap<String, Account> = accounts_sync(conn, urls, links, &actors)?
        .into_iter()
        .map(|a| (a.id.clone(), a))
        .collect();
    let hrefs: Vec<String> = facts
        .tags
        .values()
        .flatten()
        .filter(|t| t.kind == "mention")
        .map(|t| t.href.clone())
        .collect();
    let mentioned = facts::actors_by_ap_ids(conn, &hrefs)?;
    let media = media_of(conn, links, &posts)?;
    // The viewer's filters in force, once for the page: one query when
    // there are none.
    let active = crate::service::filters::Active::of_viewer(conn, viewer)?;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let post = item.post();
        // An item whose author (or booster, or community) vanished is left
        // out.
        let Some(author) = accounts.get(&post.author_id) else {
            continue;
        };
        let attachments = media.get(&post.id).cloned().unwrap_or_default();
        let mut status = status_of(urls, post, author.clone(), &facts, &mentioned, attachments);
        if !active.is_empty() {
            let descriptions: Vec<&str> = status
                .media_attachments
                .iter()
                .filter_map(|m| m.description.as_deref())
                .collect();
            status.filtered = active
                .matches(post, &descriptions)
                .iter()
                .map(super::filters::result_value)
                .collect();
        }
        match item {
            Item::Post(_) => out.push(status),
            Item::Boost { reaction, .. } => {
                if let Some(account) = accounts.get(&reaction.actor_id) {
                    out.push(boost_of(reaction, account.clone(), status));
                }
            }
            Item::Share { id, group_id, post } => {
                if let Some(account) = accounts.get(group_id) {
                    out.push(share_of(id, post, account.clone(), status));
                }
            }
        }
    }
    Ok(out)
}

/// Statuses of timeline items, in order; items whose author vanished are
/// left out.
pub async fn statuses(
    data: &Data<Context>,
    viewer: Option<&Actor>,
    items: Vec<Item>,
) -> Result<Vec<Status>> {
    let (viewer, urls, links) = (viewer.cloned(), data.urls.clone(), MediaLinks::of(data));
    data.db
        .run(move |conn| Ok(statuses_sync(conn, &urls, &links, viewer.as_ref(), &items)?))
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
