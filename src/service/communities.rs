//! Communities of practice (FEP-1b12 groups): creating them, accepting posts
//! into them, and sharing accepted posts with their members.
//!
//! A post reaches a community when the community is in its `to`/`cc`, its
//! `audience`, or mentioned in its tags. If the author may post there, the
//! community `Announce`s it to its members: group-aware servers (Outloud,
//! Lemmy, Mbin, Friendica…) get the original activity wrapped unchanged;
//! microblogs (Mastodon and the rest) get an `Announce` of the post itself,
//! for top-level posts only, so that their home timelines show one boost
//! per post rather than every reply.

use crate::{
    apub::{
        outbox,
        protocol::{
            activity::{Announce, ObjectRef, Reject},
            note::PUBLIC,
        },
        Data,
    },
    context::Context,
    crypto,
    db::{
        actor::{Actor, ActorKind},
        community::{Community, Posting},
        follow::Follow,
        new_id, now,
        post::Post,
        Db, DbUrl,
    },
    error::{Error, ErrorKind, Result},
    service::{accounts::normalize_name, software},
    text,
    urls::Urls,
};
use activitypub_federation::kinds::activity::{AnnounceType, RejectType};
use url::Url;

/// What [`create`] needs to know.
#[derive(Debug, Clone)]
pub struct NewCommunity<'a> {
    pub name: &'a str,
    /// A local person: the first moderator.
    pub owner: &'a Actor,
    pub display_name: Option<String>,
    /// Purpose and rules, in Markdown.
    pub summary: Option<String>,
    /// Joining needs a moderator's approval.
    pub approval: bool,
    /// Posts are shown to members only (implies approval).
    pub members_only: bool,
    pub posting: Posting,
    /// The community's icon, as an http(s) URL.
    pub icon: Option<String>,
}

/// Creates a community: a Group actor with its own key pair, owned and
/// moderated by `owner`.
///
/// Errors: `Unprocessable` for an invalid name or an owner who is not a
/// local person; `Conflict` when the name is taken by a person or community.
pub async fn create(db: &Db, urls: &Urls, new: NewCommunity<'_>) -> Result<Actor> {
    let name = normalize_name(new.name)?;
    if !new.owner.local || new.owner.kind() != ActorKind::Person {
        return Err(Error::unprocessable("the owner must be a local person"));
    }
    if let Some(icon) = &new.icon {
        let valid = Url::parse(icon).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
        if !valid {
            return Err(Error::unprocessable(format!(
                "icon: `{icon}` is not an http(s) URL"
            )));
        }
    }
    let keys = tokio::task::spawn_blocking(crypto::generate_keypair).await??;
    let summary_html = new
        .summary
        .as_deref()
        .map(|s| text::render_markdown(s, |_| None, |t| urls.tag(t).to_string()));
    let created = now();
    let actor = Actor {
        id: new_id(),
        ap_id: DbUrl(urls.community(&name)),
        kind: ActorKind::Group.as_str().into(),
        username: name.clone(),
        domain: urls.domain().to_string(),
        local: true,
        display_name: new.display_name.filter(|d| !d.trim().is_empty()),
        summary: summary_html,
        summary_source: new.summary,
        url: Some(urls.community_page(&name).into()),
        inbox_url: DbUrl(urls.community_inbox(&name)),
        shared_inbox_url: Some(urls.shared_inbox().into()),
        outbox_url: Some(urls.community_outbox(&name).into()),
        followers_url: Some(urls.community_followers(&name).into()),
        following_url: None,
        public_key_pem: keys.public_key_pem,
        private_key_pem: Some(keys.private_key_pem),
        manually_approves_followers: new.approval || new.members_only,
        discoverable: !new.members_only,
        published: created,
        updated: None,
        last_fetched_at: None,
        hide_network: new.members_only,
        icon_url: new.icon.clone(),
        fields_json: None,
        image_url: None,
    };
    let community = Community {
        actor_id: actor.id.clone(),
        owner_id: new.owner.id.clone(),
        posting: new.posting.as_str().into(),
        members_only: new.members_only,
        created_at: created,
    };
    db.transaction(move |conn| {
        if Actor::local_by_name(conn, &name)?.is_some() {
            return Err(Error::conflict(format!(
                "the name `{name}` is already taken"
            )));
        }
        Actor::insert(conn, &actor).map_err(|e| match Error::from(e) {
            e if e.kind == ErrorKind::Conflict => {
                Error::conflict(format!("the name `{name}` is already taken"))
            }
            e => e,
        })?;
        Community::insert(conn, &community)?;
        Community::add_moderator(conn, &community.actor_id, &community.owner_id)?;
        Ok(actor)
    })
    .await
}

/// A local community by name.
///
/// Errors: `NotFound`.
pub async fn local(db: &Db, name: &str) -> Result<(Actor, Community)> {
    let actor = crate::service::accounts::local_actor(db, name).await?;
    let id = actor.id.clone();
    let community = db
        .run(move |conn| Ok(Community::by_actor_id(conn, &id)?))
        .await?
        .ok_or_else(|| Error::not_found("no such community"))?;
    Ok((actor, community))
}

/// The local communities a post is addressed to: in `to`/`cc`, `audience`
/// or a mention.
pub async fn addressed(
    data: &Data<Context>,
    addressees: &[Url],
) -> Result<Vec<(Actor, Community)>> {
    let mut found: Vec<(Actor, Community)> = Vec::new();
    for url in addressees {
        let Some(name) = data.urls.parse_community(url) else {
            continue;
        };
        if found.iter().any(|(a, _)| a.username == name) {
            continue;
        }
        if let Ok(pair) = local(&data.db, &name).await {
            found.push(pair);
        }
    }
    Ok(found)
}

/// Whether the local community `group` takes posts from `author`.
pub async fn takes_posts_from(data: &Data<Context>, group: &Actor, author: &Actor) -> Result<bool> {
    let group_id = group.id.clone();
    let community = data
        .db
        .run(move |conn| Ok(Community::by_actor_id(conn, &group_id)?))
        .await?;
    match community {
        Some(community) => Ok(refusal(data, group, &community, author).await?.is_none()),
        None => Ok(false),
    }
}

/// Why a community refused a post, if it did.
async fn refusal(
    data: &Data<Context>,
    group: &Actor,
    community: &Community,
    author: &Actor,
) -> Result<Option<&'static str>> {
    let (group_id, author_id) = (group.id.clone(), author.id.clone());
    let (member, moderator, banned) = data
        .db
        .run(move |conn| {
            Ok((
                Follow::is_following(conn, &author_id, &group_id)?,
                Community::is_moderator(conn, &group_id, &author_id)?,
                Community::is_banned(conn, &group_id, &author_id)?,
            ))
        })
        .await?;
    if banned {
        return Ok(Some("you are banned from this community"));
    }
    Ok(match community.posting() {
        _ if moderator => None,
        Posting::Anyone if !community.members_only => None,
        Posting::Anyone | Posting::Members if member => None,
        Posting::Moderators => Some("only moderators may post in this community"),
        _ => Some("only members may post in this community"),
    })
}

/// A post arrived for `group` (or was published into it by a local
/// author). If its author may post there, it is linked to the community,
/// its leading mention of the community is dropped, and it is announced to
/// the members; otherwise the author gets a `Reject`.
///
/// `activity` is the activity that carried the post, as received: group-
/// aware members get it wrapped unchanged.
pub async fn receive_post(
    data: &Data<Context>,
    group: &Actor,
    community: &Community,
    post: &Post,
    activity: &serde_json::Value,
) -> Result<bool> {
    let author_id = post.author_id.clone();
    let author = data
        .db
        .run(move |conn| {
            Actor::by_id(conn, &author_id)?.ok_or_else(|| Error::not_found("no author"))
        })
        .await?;
    if let Some(reason) = refusal(data, group, community, &author).await? {
        tracing::info!(community = %group.ap_id, post = %post.ap_id, reason, "post refused");
        if !author.local {
            let reject = Reject {
                id: data.urls.new_activity(),
                kind: RejectType::Reject,
                actor: group.ap_id.0.clone().into(),
                object: crate::apub::protocol::activity::FollowRef::Id(
                    activity
                        .get("id")
                        .and_then(|i| i.as_str())
                        .and_then(|i| Url::parse(i).ok())
                        .unwrap_or_else(|| post.ap_id.0.clone()),
                ),
            };
            let id = reject.id.clone();
            outbox::send(data, group, &id, reject, vec![author]).await?;
        }
        return Ok(false);
    }
    let hrefs: Vec<String> = [Some(group.ap_id.to_string()), group.url.clone()]
        .into_iter()
        .flatten()
        .collect();
    let hrefs: Vec<&str> = hrefs.iter().map(String::as_str).collect();
    let content = text::strip_leading_mention(&post.content, &hrefs);
    let (post_id, group_id) = (post.id.clone(), group.id.clone());
    data.db
        .run(move |conn| {
            Ok(Post::link_to_community(
                conn, &post_id, &group_id, &content,
            )?)
        })
        .await?;
    announce(data, group, post, activity).await?;
    Ok(true)
}

/// Shares an accepted activity about `post` with the community's members.
pub async fn announce(
    data: &Data<Context>,
    group: &Actor,
    post: &Post,
    activity: &serde_json::Value,
) -> Result<()> {
    let group_id = group.id.clone();
    let members = data
        .db
        .run(move |conn| Ok(Follow::all_followers(conn, &group_id)?))
        .await?;
    let mut aware = Vec::new();
    let mut microblog = Vec::new();
    for member in members.into_iter().filter(|m| !m.local) {
        let software = software::of_host(data, &member.domain).await?;
        if software::is_group_aware(&software) {
            aware.push(member);
        } else {
            microblog.push(member);
        }
    }
    let followers = group
        .followers_url
        .as_deref()
        .and_then(|f| Url::parse(f).ok());
    let group_id = group.id.clone();
    let members_only = data
        .db
        .run(move |conn| {
            Ok(Community::by_actor_id(conn, &group_id)?.is_some_and(|c| c.members_only))
        })
        .await?;
    // Members-only communities address their members, never Public.
    let (to, cc): (Vec<Url>, Vec<Url>) = if members_only {
        (followers.clone().into_iter().collect(), Vec::new())
    } else {
        (
            Url::parse(PUBLIC).into_iter().collect(),
            followers.clone().into_iter().collect(),
        )
    };
    let addressed = |object: ObjectRef| Announce {
        id: data.urls.new_activity(),
        kind: AnnounceType::Announce,
        actor: group.ap_id.0.clone().into(),
        object,
        to: to.clone(),
        cc: cc.clone(),
        published: Some(chrono::Utc::now()),
    };
    if !aware.is_empty() {
        let wrapped = match (
            activity.get("id").and_then(|i| i.as_str()),
            activity.as_object(),
        ) {
            (Some(id), Some(map)) => ObjectRef::Object {
                id: Url::parse(id).map_err(|_| Error::bad_request("activity id is not a URL"))?,
                rest: map
                    .iter()
                    .filter(|(k, _)| *k != "id")
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            },
            _ => return Err(Error::bad_request("activity without id")),
        };
        let announce = addressed(wrapped);
        let id = announce.id.clone();
        outbox::send(data, group, &id, announce, aware).await?;
    }
    let top_level = post.in_reply_to.is_none();
    if microblog.is_empty() || !top_level || members_only {
        return Ok(());
    }
    match activity.get("type").and_then(|t| t.as_str()) {
        Some("Create") => {
            let announce = addressed(ObjectRef::Id(post.ap_id.0.clone()));
            let id = announce.id.clone();
            outbox::send(data, group, &id, announce, microblog).await?;
        }
        Some("Update" | "Delete") => forward_from_author(data, post, activity, microblog).await?,
        _ => {}
    }
    Ok(())
}

/// A microblog member saw a top-level post as the community's boost of
/// its id, and drops an `Announce` of an activity: so the `Update` of a
/// local post (an edit, an ask's accepted answer) and its `Delete` reach
/// it as its author's own activity, which Mastodon applies to the status
/// it holds. Members that had it already (the author's followers) are not
/// sent it twice (one delivery per inbox and activity).
async fn forward_from_author(
    data: &Data<Context>,
    post: &Post,
    activity: &serde_json::Value,
    members: Vec<Actor>,
) -> Result<()> {
    if !post.local {
        // Another server's post: its Update or Delete is its author's to
        // send.
        return Ok(());
    }
    let author = crate::service::posts::author_of(data, post).await?;
    let id = activity
        .get("id")
        .and_then(|i| i.as_str())
        .and_then(|i| Url::parse(i).ok())
        .ok_or_else(|| Error::bad_request("activity without id"))?;
    let mut bare = activity.clone();
    if let Some(map) = bare.as_object_mut() {
        // `outbox::send` adds the context again.
        map.remove("@context");
    }
    outbox::send(data, &author, &id, bare, members).await
}

/// Whether `viewer` may see `post` because of the members-only community
/// it was shared in: members and moderators may, and so may the instance
/// actor of a server where a member lives (it fetches on its members'
/// behalf, as FEP-1b12 receivers re-fetch shared posts).
pub async fn grants_access(data: &Data<Context>, post: &Post, viewer: &Actor) -> Result<bool> {
    let Some(group_id) = post.community_id.clone() else {
        return Ok(false);
    };
    let viewer = viewer.clone();
    let addressees = post.addressees();
    data.db
        .run(move |conn| {
            match Community::by_actor_id(conn, &group_id)? {
                // Ours: members-only communities let members in.
                Some(community) => {
                    Ok(community.members_only && is_member_or_server(conn, &group_id, &viewer)?)
                }
                // Another server's community: a post addressed to its
                // members is visible to those of them who are ours.
                None => {
                    let Some(group) = Actor::by_id(conn, &group_id)? else {
                        return Ok(false);
                    };
                    let to_members = group
                        .followers_url
                        .as_ref()
                        .is_some_and(|f| addressees.contains(f));
                    Ok(to_members && Follow::is_following(conn, &viewer.id, &group_id)?)
                }
            }
        })
        .await
}

/// Members, moderators, and instance actors of servers with a member.
fn is_member_or_server(
    conn: &mut crate::db::DbConn,
    group_id: &str,
    viewer: &Actor,
) -> Result<bool> {
    if Follow::is_following(conn, &viewer.id, group_id)?
        || Community::is_moderator(conn, group_id, &viewer.id)?
    {
        return Ok(true);
    }
    if viewer.kind() == ActorKind::Application {
        let members = Follow::all_followers(conn, group_id)?;
        return Ok(members.iter().any(|m| m.domain == viewer.domain));
    }
    Ok(false)
}

/// Whether `viewer` may read a members-only community's collections.
pub async fn is_member(data: &Data<Context>, group: &Actor, viewer: &Actor) -> Result<bool> {
    let (group_id, viewer) = (group.id.clone(), viewer.clone());
    data.db
        .run(move |conn| is_member_or_server(conn, &group_id, &viewer))
        .await
}

/// A community as the directory lists it.
#[derive(Debug, Clone)]
pub struct DirectoryEntry {
    pub actor: Actor,
    /// Members: all of them for local communities; for other servers'
    /// communities, those on this instance.
    pub members: i64,
    /// When its latest post known here was published.
    pub last_post: Option<chrono::NaiveDateTime>,
}

/// Communities known to this instance — its own and others' it has seen —
/// whose name, display name or summary contains every word of `query`
/// (case-insensitive; all of them without a query). Members-only
/// communities are left out.
pub async fn directory(db: &Db, query: Option<&str>) -> Result<Vec<DirectoryEntry>> {
    let words: Vec<String> = query
        .unwrap_or("")
        .split_whitespace()
        .map(str::to_lowercase)
        .collect();
    db.run(move |conn| {
        let mut entries = Vec::new();
        for actor in Actor::all_groups(conn)? {
            if actor.local
                && Community::by_actor_id(conn, &actor.id)?.is_none_or(|c| c.members_only)
            {
                continue;
            }
            let haystack = format!(
                "{} {} {}",
                actor.username,
                actor.display_name.as_deref().unwrap_or(""),
                text::strip_html(actor.summary.as_deref().unwrap_or(""))
            )
            .to_lowercase();
            if !words.iter().all(|w| haystack.contains(w)) {
                continue;
            }
            let members = Follow::count_followers(conn, &actor.id)?;
            let last_post = Post::last_in_community(conn, &actor.id)?;
            entries.push(DirectoryEntry {
                actor,
                members,
                last_post,
            });
        }
        entries.sort_by(|a, b| {
            b.members
                .cmp(&a.members)
                .then(a.actor.username.cmp(&b.actor.username))
        });
        Ok(entries)
    })
    .await
}

/// Every community of this instance, members-only ones included, with its
/// member count (the admin page), by name. Admins only.
///
/// Errors: `Forbidden`.
pub async fn local_communities(db: &Db, admin: &Actor) -> Result<Vec<DirectoryEntry>> {
    crate::service::accounts::require_admin(db, admin).await?;
    db.run(move |conn| {
        let mut entries = Vec::new();
        for actor in Actor::all_groups(conn)?.into_iter().filter(|a| a.local) {
            let members = Follow::count_followers(conn, &actor.id)?;
            let last_post = Post::last_in_community(conn, &actor.id)?;
            entries.push(DirectoryEntry {
                actor,
                members,
                last_post,
            });
        }
        entries.sort_by(|a, b| a.actor.username.cmp(&b.actor.username));
        Ok(entries)
    })
    .await
}

/// The communities (here or elsewhere) `person` has joined.
pub async fn subscriptions(db: &Db, person: &Actor) -> Result<Vec<Actor>> {
    let id = person.id.clone();
    db.run(move |conn| {
        Ok(Follow::list_following(conn, &id, 0, i64::MAX)?
            .into_iter()
            .filter(|a| a.kind() == ActorKind::Group)
            .collect())
    })
    .await
}

/// An edit or deletion of a post shared in one of our communities: the
/// community passes it on to its group-aware members, as it did the post.
pub async fn share_change(
    data: &Data<Context>,
    post: &Post,
    activity: &serde_json::Value,
) -> Result<()> {
    let Some(group_id) = post.community_id.clone() else {
        return Ok(());
    };
    let found = data
        .db
        .run(move |conn| {
            let Some(community) = Community::by_actor_id(conn, &group_id)? else {
                return Ok(None);
            };
            Ok(Actor::by_id(conn, &group_id)?.map(|g| (g, community)))
        })
        .await?;
    match found {
        Some((group, _)) => announce(data, &group, post, activity).await,
        None => Ok(()),
    }
}

/// What a community's page shows about it.
#[derive(Debug, Clone)]
pub struct Overview {
    /// Members this instance knows of: all of them for a local community.
    pub members: i64,
    /// The servers (organisations) those members come from.
    pub organisations: i64,
    /// Moderators of a local community, longest-serving first (empty for
    /// another server's community: they are not known here).
    pub moderators: Vec<Actor>,
    /// The settings of a local community; `None` for another server's.
    pub community: Option<Community>,
}

/// Members, organisations and moderators of `group` (a Group actor).
///
/// Errors: `NotFound` when `group` is not a community.
pub async fn overview(db: &Db, group: &Actor) -> Result<Overview> {
    if group.kind() != ActorKind::Group {
        return Err(Error::not_found("no such community"));
    }
    let id = group.id.clone();
    db.run(move |conn| {
        let members = Follow::count_followers(conn, &id)?;
        let organisations = Follow::count_follower_domains(conn, &id)?;
        let community = Community::by_actor_id(conn, &id)?;
        let moderators = match community {
            Some(_) => Community::moderators(conn, &id)?,
            None => Vec::new(),
        };
        Ok(Overview {
            members,
            organisations,
            moderators,
            community,
        })
    })
    .await
}

/// Whether `user` may create communities on this instance: for now its
/// administrators (others ask them; `outloud admin create-community`).
pub fn may_create(user: &crate::db::local_user::LocalUser) -> bool {
    user.role() == crate::db::local_user::Role::Admin
}

/// [`create`], by a signed-in person whose account is `user`.
///
/// Errors: `Forbidden` when they may not create communities, and those of
/// [`create`].
pub async fn create_as(
    db: &Db,
    urls: &Urls,
    user: &crate::db::local_user::LocalUser,
    new: NewCommunity<'_>,
) -> Result<Actor> {
    if !may_create(user) {
        return Err(Error::forbidden(
            "only administrators may create communities here",
        ));
    }
    if new
        .display_name
        .as_deref()
        .is_some_and(|d| d.chars().count() > 100)
    {
        return Err(Error::unprocessable(
            "the display name is longer than 100 characters",
        ));
    }
    if new
        .summary
        .as_deref()
        .is_some_and(|s| s.chars().count() > 5000)
    {
        return Err(Error::unprocessable(
            "the description is longer than 5000 characters",
        ));
    }
    create(db, urls, new).await
}
