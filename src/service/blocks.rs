//! Blocks between people, across servers, and per-person domain blocks.
//!
//! A block (as in Mastodon) ends follows both ways, keeps the blocked
//! account from following again, and hides its posts and notifications
//! from the blocker. Blocking a remote person sends them a `Block` (and
//! unblocking an `Undo(Block)`); a `Block` from a remote person is
//! honoured the same way, and also keeps the blocked local person's posts
//! out of the blocker's inbox (`apub::outbox` leaves blockers out).
//!
//! A domain block hides the posts and notifications of every account of a
//! domain from one person, removes that person's followers there, and
//! refuses follows to and from it. It is kept here only; nothing is sent.

use crate::{
    apub::{
        outbox,
        protocol::activity::{PersonBlock, Undo, UndoneRef},
        Data,
    },
    context::Context,
    db::{
        actor::Actor,
        follow::Follow,
        marks::{AccountMark, MarkKind},
        DbConn, Page,
    },
    error::{Error, ErrorKind, Result},
    service::follows,
};
use activitypub_federation::kinds::activity::{BlockType, UndoType};

/// Whether either of two actors blocks the other, or the domain of the
/// other: then neither may follow the other.
pub fn separated(conn: &mut DbConn, a: &Actor, b: &Actor) -> diesel::QueryResult<bool> {
    Ok(AccountMark::has(conn, &a.id, MarkKind::Block, &b.id)?
        || AccountMark::has(conn, &b.id, MarkKind::Block, &a.id)?
        || AccountMark::has(conn, &a.id, MarkKind::DomainBlock, &b.domain)?
        || AccountMark::has(conn, &b.id, MarkKind::DomainBlock, &a.domain)?)
}

/// Ends follows both ways between local `me` and `other`, telling a
/// remote `other` (`Undo(Follow)` for ours, `Reject(Follow)` for theirs).
async fn sever(data: &Data<Context>, me: &Actor, other: &Actor) -> Result<()> {
    match follows::unfollow(data, me, other).await {
        Ok(()) => {}
        Err(e) if e.kind == ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    follows::remove_follower(data, me, other).await
}

fn block_activity(data: &Data<Context>, me: &Actor, target: &Actor) -> PersonBlock {
    PersonBlock {
        id: data.urls.new_activity(),
        kind: BlockType::Block,
        actor: me.ap_id.0.clone().into(),
        object: target.ap_id.0.clone().into(),
    }
}

/// Local `me` blocks `target`: follows end both ways, and a remote target
/// gets a `Block`.
///
/// Errors: `Unprocessable` for blocking oneself.
pub async fn block(data: &Data<Context>, me: &Actor, target: &Actor) -> Result<()> {
    if me.id == target.id {
        return Err(Error::unprocessable("you cannot block yourself"));
    }
    let (m, t) = (me.id.clone(), target.id.clone());
    let added = data
        .db
        .run(move |conn| Ok(AccountMark::set(conn, &m, MarkKind::Block, &t)?))
        .await?;
    sever(data, me, target).await?;
    if added && !target.local {
        let block = block_activity(data, me, target);
        let id = block.id.clone();
        outbox::send(data, me, &id, block, vec![target.clone()]).await?;
    }
    Ok(())
}

/// Lifts a block of local `me`; a remote target gets `Undo(Block)`.
pub async fn unblock(data: &Data<Context>, me: &Actor, target: &Actor) -> Result<()> {
    let (m, t) = (me.id.clone(), target.id.clone());
    let removed = data
        .db
        .run(move |conn| Ok(AccountMark::unset(conn, &m, MarkKind::Block, &t)?))
        .await?;
    if removed > 0 && !target.local {
        let block = block_activity(data, me, target);
        let undo = Undo {
            id: data.urls.new_activity(),
            kind: UndoType::Undo,
            actor: me.ap_id.0.clone().into(),
            object: UndoneRef::Embedded {
                id: block.id.clone(),
                kind: "Block".into(),
                rest: serde_json::to_value(&block)?
                    .as_object()
                    .cloned()
                    .unwrap_or_default(),
            },
        };
        let id = undo.id.clone();
        outbox::send(data, me, &id, undo, vec![target.clone()]).await?;
    }
    Ok(())
}

/// A `Block` from remote `blocker` of local `blocked`: stored, and the
/// follows between them end (the blocker's server ended its side
/// already, so nothing is sent).
pub async fn receive_block(data: &Data<Context>, blocker: &Actor, blocked: &Actor) -> Result<()> {
    if blocker.local || !blocked.local {
        return Err(Error::bad_request(
            "a Block must come from another server's actor and name one of ours",
        ));
    }
    let (b, t) = (blocker.id.clone(), blocked.id.clone());
    data.db
        .transaction(move |conn| {
            AccountMark::set(conn, &b, MarkKind::Block, &t)?;
            for (f, g) in [(&b, &t), (&t, &b)] {
                if let Some(edge) = Follow::between(conn, f, g)? {
                    Follow::delete(conn, &edge.id)?;
                }
            }
            Ok(())
        })
        .await
}

/// `Undo(Block)` from remote `blocker`: the block is lifted.
pub async fn receive_unblock(data: &Data<Context>, blocker: &Actor, blocked: &Actor) -> Result<()> {
    let (b, t) = (blocker.id.clone(), blocked.id.clone());
    data.db
        .run(move |conn| Ok(AccountMark::unset(conn, &b, MarkKind::Block, &t)?))
        .await?;
    Ok(())
}

/// A domain as a person may block it: `host` or `host:port`, lower-case.
///
/// Errors: `Unprocessable` for an empty or malformed domain, or ours.
pub fn parse_domain(data: &Data<Context>, raw: &str) -> Result<String> {
    let domain = raw.trim().trim_end_matches('.').to_lowercase();
    let invalid = || Error::unprocessable(format!("Validation failed: {raw:?} is not a domain"));
    if domain.is_empty()
        || domain
            .chars()
            .any(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':')))
    {
        return Err(invalid());
    }
    let url = url::Url::parse(&format!("https://{domain}/")).map_err(|_| invalid())?;
    let host = url.host_str().ok_or_else(invalid)?;
    let parsed = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    };
    if parsed != domain || (!host.contains('.') && !host.ends_with("localhost")) {
        return Err(invalid());
    }
    if domain == data.urls.domain().to_lowercase() {
        return Err(Error::unprocessable(
            "Validation failed: you cannot block this server's own domain",
        ));
    }
    Ok(domain)
}

/// Local `me` blocks `domain`: its accounts' posts and notifications are
/// hidden from `me`, and `me`'s followers there are removed
/// (`Reject(Follow)`, as Mastodon does).
///
/// Errors: see [`parse_domain`].
pub async fn block_domain(data: &Data<Context>, me: &Actor, domain: &str) -> Result<()> {
    let domain = parse_domain(data, domain)?;
    let (m, d) = (me.id.clone(), domain.clone());
    let followers = data
        .db
        .run(move |conn| {
            AccountMark::set(conn, &m, MarkKind::DomainBlock, &d)?;
            Ok(Follow::all_followers(conn, &m)?)
        })
        .await?;
    for follower in followers.iter().filter(|f| f.domain == domain) {
        follows::remove_follower(data, me, follower).await?;
    }
    Ok(())
}

/// Lifts a domain block; not blocking it is not an error.
///
/// Errors: see [`parse_domain`].
pub async fn unblock_domain(data: &Data<Context>, me: &Actor, domain: &str) -> Result<()> {
    let domain = parse_domain(data, domain)?;
    let m = me.id.clone();
    data.db
        .run(move |conn| {
            Ok(AccountMark::unset(
                conn,
                &m,
                MarkKind::DomainBlock,
                &domain,
            )?)
        })
        .await?;
    Ok(())
}

/// The domains `me` blocked, newest first, with the marks' ids for paging.
pub async fn blocked_domains(
    data: &Data<Context>,
    me: &Actor,
    page: Page,
) -> Result<(Vec<String>, Option<(String, String)>)> {
    let m = me.id.clone();
    data.db
        .run(move |conn| {
            let marks = AccountMark::list(conn, &m, MarkKind::DomainBlock, &page)?;
            let bounds = match (marks.first(), marks.last()) {
                (Some(a), Some(b)) => Some((a.id.clone(), b.id.clone())),
                _ => None,
            };
            Ok((marks.into_iter().map(|m| m.target_id).collect(), bounds))
        })
        .await
}

/// `posts` without those whose authors `viewer` blocked or muted, or whose
/// domain it blocked (search results, a thread's context).
pub async fn without_hidden(
    data: &Data<Context>,
    viewer: Option<&Actor>,
    posts: Vec<crate::db::post::Post>,
) -> Result<Vec<crate::db::post::Post>> {
    let Some(viewer) = viewer else {
        return Ok(posts);
    };
    let viewer_id = viewer.id.clone();
    let authors: Vec<String> = posts.iter().map(|p| p.author_id.clone()).collect();
    let hidden = data
        .db
        .run(move |conn| {
            Ok(crate::db::marks::hidden_authors(
                conn, &viewer_id, &authors,
            )?)
        })
        .await?;
    Ok(posts
        .into_iter()
        .filter(|p| !hidden.contains(&p.author_id))
        .collect())
}
