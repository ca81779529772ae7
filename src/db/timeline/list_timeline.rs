//! A list's timeline (`GET /api/v1/timelines/list/:id`, the `list`
//! stream): home's rule restricted to the list's members, with the list's
//! replies policy. A child of `timeline` for its private helpers and
//! macros (`followed_by!`, `hidden_by!`, `reactions_with_posts!`).

use super::{
    contains, hide_for, page_of_posts, Actor, BoxedPosts, DbConn, Page, Post, Reaction, BOOSTABLE,
};
use crate::db::schema::{account_marks, actors, follows, list_members, posts, reactions};
use diesel::prelude::*;

/// Which replies a list's timeline shows (Mastodon's `replies_policy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepliesPolicy {
    /// Replies to people the viewer follows (or to members).
    Followed,
    /// Replies to members only.
    List,
    /// No replies.
    None,
}

impl RepliesPolicy {
    pub fn parse(s: &str) -> Option<RepliesPolicy> {
        match s {
            "followed" => Some(RepliesPolicy::Followed),
            "list" => Some(RepliesPolicy::List),
            "none" => Some(RepliesPolicy::None),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            RepliesPolicy::Followed => "followed",
            RepliesPolicy::List => "list",
            RepliesPolicy::None => "none",
        }
    }
}

/// The members of a list (as actor ids).
macro_rules! members_of {
    ($list_id:expr) => {
        list_members::table
            .filter(list_members::list_id.eq($list_id.to_string()))
            .select(list_members::account_id)
    };
}

/// The posts of one list of the viewer's (see [`list_rule`]).
pub fn list_posts(
    conn: &mut DbConn,
    viewer: &Actor,
    list_id: &str,
    policy: RepliesPolicy,
    page: &Page,
) -> QueryResult<Vec<Post>> {
    let q = list_rule(viewer, list_id, policy).filter(posts::deleted_at.is_null());
    page_of_posts(conn, q, page)
}

/// Whether one post is on a list's timeline (see [`list_posts`]).
pub fn list_contains(
    conn: &mut DbConn,
    viewer: &Actor,
    list_id: &str,
    policy: RepliesPolicy,
    post_id: &str,
    deleted_too: bool,
) -> QueryResult<bool> {
    contains(
        conn,
        list_rule(viewer, list_id, policy),
        post_id,
        deleted_too,
    )
}

/// A list's rule, deleted posts included: home's posts of followed people
/// (and the viewer's own), restricted to the list's members, never direct
/// (Mastodon does not put direct posts in lists), with replies as the
/// list's policy says. A reply is always shown when it answers its own
/// author or the viewer; with `followed` also when it answers someone the
/// viewer follows, with `list` a member. A reply whose parent is not
/// stored here is not shown (its addressee is unknown).
fn list_rule(viewer: &Actor, list_id: &str, policy: RepliesPolicy) -> BoxedPosts {
    let mut q = posts::table
        .filter(posts::author_id.eq_any(members_of!(list_id)))
        .filter(posts::visibility.ne("direct"))
        .filter(
            posts::author_id
                .eq(viewer.id.clone())
                .or(posts::author_id.eq_any(followed_by!(viewer.id))),
        )
        .into_boxed();
    q = hide_for(q, viewer);
    // The parent's author is another row of `posts`: a correlated
    // subquery diesel cannot build on one table, so it is written in SQL
    // (plain SQL both backends read alike; values are bound).
    let (also, second, close) = match policy {
        RepliesPolicy::Followed => (
            " OR parent.author_id IN (SELECT f.followee_id FROM follows f \
             WHERE f.state = 'accepted' AND f.follower_id = ",
            viewer.id.clone(),
            ")",
        ),
        RepliesPolicy::List => (
            " OR parent.author_id IN (SELECT m.account_id FROM list_members m \
             WHERE m.list_id = ",
            list_id.to_string(),
            ")",
        ),
        RepliesPolicy::None => (" OR parent.author_id = ", viewer.id.clone(), ""),
    };
    let replies = diesel::dsl::sql::<diesel::sql_types::Bool>(
        "(posts.in_reply_to IS NULL OR EXISTS (SELECT 1 FROM posts parent \
         WHERE parent.ap_id = posts.in_reply_to \
         AND (parent.author_id = posts.author_id OR parent.author_id = ",
    )
    .bind::<diesel::sql_types::Text, _>(viewer.id.clone())
    .sql(also)
    .bind::<diesel::sql_types::Text, _>(second)
    .sql(&format!("{close})))"));
    q.filter(replies)
}

/// Boosts by a list's members of public and unlisted posts, as home shows
/// them (see [`home_boosts`]).
pub fn list_boosts(
    conn: &mut DbConn,
    viewer: &Actor,
    list_id: &str,
    page: &Page,
) -> QueryResult<Vec<(Reaction, Post)>> {
    let q = reactions_with_posts!("announce")
        .filter(posts::visibility.eq_any(BOOSTABLE))
        .filter(reactions::actor_id.eq_any(members_of!(list_id)))
        .filter(reactions::actor_id.eq_any(followed_by!(viewer.id)))
        .filter(diesel::dsl::not(
            posts::author_id.eq_any(hidden_by!(viewer.id)),
        ))
        .filter(diesel::dsl::not(
            posts::author_id.eq_any(domain_hidden_by!(viewer.id)),
        ));
    let q = of_kind!(q, page);
    crate::load_page!(conn, q, reactions::id, page)
}
