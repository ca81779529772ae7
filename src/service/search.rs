//! Search (`/api/v2/search`): accounts, statuses and hashtags, with
//! `resolve` fetching a remote handle or URL from its server, which is how
//! someone on another server finds and joins a community.

use crate::{
    apub::Data,
    context::Context,
    db::{actor::Actor, post::Post, search},
    error::{ErrorKind, Result},
};

/// What to search for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Accounts,
    Statuses,
    Hashtags,
}

#[derive(Debug, Clone)]
pub struct SearchQuery {
    pub q: String,
    /// `None` searches all kinds.
    pub kind: Option<Kind>,
    /// Look the query up on other servers when it is a handle or a URL
    /// (needs a signed-in viewer, as in Mastodon).
    pub resolve: bool,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Debug, Clone, Default)]
pub struct Results {
    pub accounts: Vec<Actor>,
    pub statuses: Vec<Post>,
    pub hashtags: Vec<String>,
}

fn looks_like_handle(q: &str) -> bool {
    let q = q.trim().trim_start_matches('@');
    q.split_once('@')
        .is_some_and(|(name, host)| !name.is_empty() && host.contains('.') && !q.contains(' '))
}

fn looks_like_url(q: &str) -> bool {
    let q = q.trim();
    (q.starts_with("https://") || q.starts_with("http://")) && url::Url::parse(q).is_ok()
}

/// Searches what `viewer` may see.
pub async fn search(
    data: &Data<Context>,
    viewer: Option<&Actor>,
    query: SearchQuery,
) -> Result<Results> {
    let mut results = Results::default();
    let q = query.q.trim().to_string();
    if q.is_empty() {
        return Ok(results);
    }
    let wants = |k: Kind| query.kind.is_none() || query.kind == Some(k);
    let may_resolve = query.resolve && viewer.is_some() && query.offset == 0;

    if wants(Kind::Accounts) {
        if looks_like_handle(&q) || (looks_like_url(&q) && query.kind == Some(Kind::Accounts)) {
            let found = if may_resolve {
                crate::service::resolve::actor(data, &q).await
            } else {
                known_actor(data, &q).await
            };
            match found {
                Ok(actor) => results.accounts.push(actor),
                Err(e)
                    if matches!(
                        e.kind,
                        ErrorKind::NotFound
                            | ErrorKind::BadRequest
                            | ErrorKind::Federation
                            | ErrorKind::Forbidden
                    ) =>
                {
                    tracing::debug!(query = %q, error = %e, "account not resolved");
                }
                Err(e) => return Err(e),
            }
        } else if looks_like_url(&q) && may_resolve {
            // A URL may be an actor or a post: try the actor first.
            if let Ok(actor) = crate::service::resolve::actor(data, &q).await {
                results.accounts.push(actor);
            }
        } else if !looks_like_url(&q) {
            let (text, limit, offset) = (q.clone(), query.limit, query.offset);
            results.accounts = data
                .db
                .run(move |conn| Ok(search::actors_matching(conn, &text, limit, offset)?))
                .await?;
        }
    }

    if wants(Kind::Statuses) {
        if looks_like_url(&q) {
            if results.accounts.is_empty() {
                if let Some(post) = post_by_url(data, viewer, &q, may_resolve).await? {
                    results.statuses.push(post);
                }
            }
        } else if !looks_like_handle(&q) {
            results.statuses = statuses(data, viewer, &q, query.limit, query.offset).await?;
        }
    }

    if wants(Kind::Hashtags) && !looks_like_url(&q) && !looks_like_handle(&q) {
        let (text, limit) = (q.clone(), query.limit);
        results.hashtags = data
            .db
            .run(move |conn| Ok(search::hashtags_matching(conn, &text, limit)?))
            .await?;
    }
    Ok(results)
}

/// An actor already stored here, by handle (`name@host`) or URL.
///
/// Errors: `NotFound`.
pub async fn known_actor(data: &Data<Context>, q: &str) -> Result<Actor> {
    let q = q.trim().trim_start_matches('@').to_string();
    let local_domain = data.urls.domain().to_string();
    data.db
        .run(move |conn| {
            use crate::db::schema::actors;
            use diesel::prelude::*;
            let found = if let Ok(url) = url::Url::parse(&q) {
                Actor::by_ap_id(conn, &url)?
            } else if let Some((name, host)) = q.split_once('@') {
                if host.eq_ignore_ascii_case(&local_domain) {
                    Actor::local_by_name(conn, &name.to_lowercase())?
                } else {
                    actors::table
                        .filter(actors::username.eq(name))
                        .filter(actors::domain.eq(host.to_lowercase()))
                        .first(conn)
                        .optional()?
                }
            } else {
                None
            };
            found.ok_or_else(|| crate::error::Error::not_found("no such account"))
        })
        .await
}

async fn post_by_url(
    data: &Data<Context>,
    viewer: Option<&Actor>,
    q: &str,
    resolve: bool,
) -> Result<Option<Post>> {
    let Ok(url) = url::Url::parse(q) else {
        return Ok(None);
    };
    let post = if resolve {
        match crate::service::posts::find(data, &url).await {
            Ok(p) => Some(p),
            Err(e) => {
                tracing::debug!(url = %url, error = %e, "post not resolved");
                None
            }
        }
    } else {
        let id = url.clone();
        data.db
            .run(move |conn| Ok(Post::by_ap_id(conn, &id)?))
            .await?
    };
    match post {
        Some(p) if !p.is_deleted() && crate::service::posts::can_see(data, viewer, &p).await? => {
            Ok(Some(p))
        }
        _ => Ok(None),
    }
}

/// Full-text search over the posts `viewer` may see.
pub async fn statuses(
    data: &Data<Context>,
    viewer: Option<&Actor>,
    q: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<Post>> {
    let mut visibilities = vec!["public", "unlisted"];
    if viewer.is_some() {
        visibilities.extend(["followers", "direct"]);
    }
    if viewer.is_some_and(|v| v.local) {
        visibilities.extend(["local", "local_unlisted"]);
    }
    let text = q.to_string();
    // Over-fetch, then drop what the viewer may not see.
    let candidates = data
        .db
        .run(move |conn| {
            Ok(search::posts_matching(
                conn,
                &text,
                &visibilities,
                (limit + offset) * 4 + 20,
                0,
            )?)
        })
        .await?;
    // Before: search showed the posts of blocked and muted accounts.
    let candidates = crate::service::blocks::without_hidden(data, viewer, candidates).await?;
    let mut visible = Vec::new();
    for post in candidates {
        if crate::service::posts::can_see(data, viewer, &post).await? {
            visible.push(post);
        }
    }
    Ok(visible
        .into_iter()
        .skip(offset.max(0) as usize)
        .take(limit.max(0) as usize)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_handles_and_urls() {
        assert!(looks_like_handle("@ana@acme.example"));
        assert!(looks_like_handle("ana@beta.localhost:8080"));
        assert!(!looks_like_handle("ana"));
        assert!(!looks_like_handle("working out loud"));
        assert!(looks_like_url("https://acme.example/users/ana"));
        assert!(!looks_like_url("acme.example/users/ana"));
    }
}
