//! The partners timeline (issue 13 §5): public posts written by people on
//! partner instances, or shared in a community that lives on one. A child
//! of `timeline` for its private helpers: the viewer's blocks, mutes and
//! domain blocks apply through the public timeline's `hide_for`.

use super::{contains, hide_for, page_of_posts, Actor, BoxedPosts, DbConn, Page, Post};
use crate::db::schema::{actors, partner_instances, posts};
use diesel::prelude::*;

/// Actors (people and communities) on partner hosts.
macro_rules! on_partner_hosts {
    () => {
        actors::table
            .filter(actors::domain.eq_any(partner_instances::table.select(partner_instances::host)))
            .select(actors::id)
    };
}

/// The partners timeline's posts, newest first (see [`partners_rule`]).
pub fn partners_posts(conn: &mut DbConn, viewer: &Actor, page: &Page) -> QueryResult<Vec<Post>> {
    let q = partners_rule(viewer).filter(posts::deleted_at.is_null());
    page_of_posts(conn, q, page)
}

/// Whether one post is on the partners timeline (see [`partners_posts`]).
pub fn partners_contains(
    conn: &mut DbConn,
    viewer: &Actor,
    post_id: &str,
    deleted_too: bool,
) -> QueryResult<bool> {
    contains(conn, partners_rule(viewer), post_id, deleted_too)
}

/// The rule, deleted posts included: `public` posts only (not unlisted,
/// whose authors asked to stay off public timelines, nor local-only ones,
/// which are this instance's own) whose author is on a partner host or
/// that were shared in a community on one.
fn partners_rule(viewer: &Actor) -> BoxedPosts {
    let q = posts::table
        .filter(posts::visibility.eq("public"))
        .filter(
            posts::author_id
                .eq_any(on_partner_hosts!())
                .or(posts::community_id
                    .assume_not_null()
                    .eq_any(on_partner_hosts!())),
        )
        .into_boxed();
    hide_for(q, viewer)
}
