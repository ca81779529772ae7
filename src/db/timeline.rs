//! The queries behind timelines: which posts (and boosts) a viewer sees,
//! newest first, paged by time-ordered id. Visibility is decided in SQL
//! here so a page never comes back short because rows were filtered later.

use super::{
    actor::Actor,
    post::Post,
    reaction::Reaction,
    schema::{
        account_marks, actors, followed_tags, follows, list_members, lists, post_tags, posts,
        reactions,
    },
    DbConn, Page,
};
use diesel::prelude::*;

type Backend = <DbConn as diesel::Connection>::Backend;
type BoxedPosts = posts::BoxedQuery<'static, Backend>;

/// Keeps a boxed query over `posts` (alone or joined) to the posts of the
/// page's narration kind, when it names one: the one filter every
/// timeline and its boosts share.
macro_rules! of_kind {
    ($query:expr, $page:expr) => {{
        let page: &Page = $page;
        let mut q = $query;
        if let Some(kind) = page.narration_kind {
            q = q.filter(posts::narration_kind.eq(kind.as_str()));
        }
        q
    }};
}

/// Runs a posts query as one page (see [`crate::load_page`]), of the
/// page's narration kind only when it names one.
fn page_of_posts(conn: &mut DbConn, q: BoxedPosts, page: &Page) -> QueryResult<Vec<Post>> {
    let q = of_kind!(q, page);
    crate::load_page!(conn, q, posts::id, page)
}

/// Actors a viewer has blocked or muted: their posts stay out of view.
/// (Macros, not functions: a boxed subquery cannot sit inside a boxed
/// query over `MultiConnection`.)
macro_rules! hidden_by {
    ($viewer_id:expr) => {
        account_marks::table
            .filter(account_marks::actor_id.eq($viewer_id.to_string()))
            .filter(account_marks::kind.eq_any(["block", "mute"]))
            .select(account_marks::target_id)
    };
}

/// Actors of the domains a viewer blocked: their posts stay out of view.
macro_rules! domain_hidden_by {
    ($viewer_id:expr) => {
        actors::table
            .filter(
                actors::domain.eq_any(
                    account_marks::table
                        .filter(account_marks::actor_id.eq($viewer_id.to_string()))
                        .filter(account_marks::kind.eq("domain_block"))
                        .select(account_marks::target_id),
                ),
            )
            .select(actors::id)
    };
}

/// Actors a viewer follows (accepted).
macro_rules! followed_by {
    ($viewer_id:expr) => {
        follows::table
            .filter(follows::follower_id.eq($viewer_id.to_string()))
            .filter(follows::state.eq("accepted"))
            .select(follows::followee_id)
    };
}

/// Reactions of one kind on posts not deleted, with their posts, boxed
/// for further filters and paged by the reaction's id.
macro_rules! reactions_with_posts {
    ($kind:expr) => {
        reactions::table
            .inner_join(posts::table)
            .filter(reactions::kind.eq($kind))
            .filter(posts::deleted_at.is_null())
            .select((Reaction::as_select(), Post::as_select()))
            .into_boxed()
    };
}

/// Members of the viewer's exclusive lists: Mastodon keeps their posts
/// and boosts out of home (they are read in the list instead).
macro_rules! exclusive_members_of {
    ($viewer_id:expr) => {
        list_members::table
            .filter(
                list_members::list_id.eq_any(
                    lists::table
                        .filter(lists::account_id.eq($viewer_id.to_string()))
                        .filter(lists::exclusive.eq(true))
                        .select(lists::id),
                ),
            )
            .filter(list_members::account_id.ne($viewer_id.to_string()))
            .select(list_members::account_id)
    };
}

/// The boosts home shows (see [`home_boosts`]).
macro_rules! home_boosts_rule {
    ($viewer:expr) => {{
        let viewer: &Actor = $viewer;
        let groups = actors::table
            .filter(actors::kind.eq("Group"))
            .select(actors::id);
        reactions_with_posts!("announce")
            .filter(posts::visibility.eq_any(BOOSTABLE))
            .filter(
                reactions::actor_id
                    .eq(viewer.id.clone())
                    .or(reactions::actor_id.eq_any(followed_by!(viewer.id))),
            )
            .filter(diesel::dsl::not(reactions::actor_id.eq_any(groups)))
            .filter(diesel::dsl::not(
                reactions::actor_id.eq_any(exclusive_members_of!(viewer.id)),
            ))
            .filter(diesel::dsl::not(
                posts::author_id.eq_any(hidden_by!(viewer.id)),
            ))
            .filter(diesel::dsl::not(
                posts::author_id.eq_any(domain_hidden_by!(viewer.id)),
            ))
    }};
}

/// Boosts are shown of public and unlisted posts only.
const BOOSTABLE: [&str; 2] = ["public", "unlisted"];

/// Home: the viewer's own posts, posts of people followed (all but direct
/// ones), posts shared in communities joined, and posts that mention the
/// viewer.
pub fn home_posts(conn: &mut DbConn, viewer: &Actor, page: &Page) -> QueryResult<Vec<Post>> {
    let q = home_rule(viewer).filter(posts::deleted_at.is_null());
    page_of_posts(conn, q, page)
}

/// Home's rule without deleted posts, for queries that add their own
/// filters and order (`db::digest`): a person's digest shows exactly what
/// their home timeline would.
pub fn home_query(viewer: &Actor) -> BoxedPosts {
    home_rule(viewer).filter(posts::deleted_at.is_null())
}

/// Whether one post is on the viewer's home timeline (see [`home_posts`]);
/// `deleted_too` asks whether it was, for a post deleted since.
pub fn home_contains(
    conn: &mut DbConn,
    viewer: &Actor,
    post_id: &str,
    deleted_too: bool,
) -> QueryResult<bool> {
    contains(conn, home_rule(viewer), post_id, deleted_too)
}

/// Whether the post `post_id` is among those `q` selects: the streaming
/// API asks the timelines' own queries, so a stream shows exactly what the
/// timeline does.
fn contains(
    conn: &mut DbConn,
    q: BoxedPosts,
    post_id: &str,
    deleted_too: bool,
) -> QueryResult<bool> {
    let mut q = q.filter(posts::id.eq(post_id.to_string()));
    if !deleted_too {
        q = q.filter(posts::deleted_at.is_null());
    }
    Ok(q.first::<Post>(conn).optional()?.is_some())
}

/// Home's rule, deleted posts included (see [`home_posts`]).
fn home_rule(viewer: &Actor) -> BoxedPosts {
    let mentions = post_tags::table
        .filter(post_tags::kind.eq("mention"))
        .filter(post_tags::href.eq(viewer.ap_id.to_string()))
        .select(post_tags::post_id);
    // Posts with a hashtag the viewer follows (names are stored lowercase
    // in both tables, for local and received posts alike).
    let followed_tagged = post_tags::table
        .filter(post_tags::kind.eq("hashtag"))
        .filter(
            post_tags::name.eq_any(
                followed_tags::table
                    .filter(followed_tags::account_id.eq(viewer.id.clone()))
                    .select(followed_tags::name),
            ),
        )
        .select(post_tags::post_id);
    posts::table
        .filter(diesel::dsl::not(
            posts::author_id.eq_any(hidden_by!(viewer.id)),
        ))
        .filter(diesel::dsl::not(
            posts::author_id.eq_any(domain_hidden_by!(viewer.id)),
        ))
        .filter(diesel::dsl::not(
            posts::author_id.eq_any(exclusive_members_of!(viewer.id)),
        ))
        // `|| ''` keeps the planner off the per-column indexes: with them
        // SQLite answers the OR by collecting every matching post (half the
        // table for a reader who follows many) and sorting it, instead of
        // walking the newest posts until the page is full.
        .filter(
            posts::author_id
                .concat("")
                .eq(viewer.id.clone())
                .or(posts::author_id
                    .concat("")
                    .eq_any(followed_by!(viewer.id))
                    .and(posts::visibility.ne("direct")))
                .or(posts::community_id
                    .assume_not_null()
                    .concat("")
                    .eq_any(followed_by!(viewer.id)))
                .or(posts::id.concat("").eq_any(mentions))
                // Mastodon shows public posts only through a followed tag.
                .or(posts::id
                    .concat("")
                    .eq_any(followed_tagged)
                    .and(posts::visibility.eq("public"))),
        )
        .into_boxed()
}

/// Home: boosts by people followed (and the viewer's own) of public posts.
/// Communities' shares are not boosts here: their posts come in through
/// `home_posts`.
pub fn home_boosts(
    conn: &mut DbConn,
    viewer: &Actor,
    page: &Page,
) -> QueryResult<Vec<(Reaction, Post)>> {
    let q = of_kind!(home_boosts_rule!(viewer), page);
    crate::load_page!(conn, q, reactions::id, page)
}

/// One boost, if it is on the viewer's home timeline (see [`home_boosts`]).
pub fn home_boost(
    conn: &mut DbConn,
    viewer: &Actor,
    reaction_id: &str,
) -> QueryResult<Option<(Reaction, Post)>> {
    home_boosts_rule!(viewer)
        .filter(reactions::id.eq(reaction_id.to_string()))
        .first(conn)
        .optional()
}

// Lists' timelines, with their replies policy.
mod list_timeline;
pub use list_timeline::{list_boosts, list_contains, list_posts, RepliesPolicy};

// The partners timeline (issue 13 §5): public posts from partner instances.
mod partners_timeline;
pub use partners_timeline::{partners_contains, partners_posts};

/// Which of `ids` the viewer follows (accepted): the communities joined
/// among those a page's posts were shared in.
pub fn followed_among(
    conn: &mut DbConn,
    viewer_id: &str,
    ids: &[String],
) -> QueryResult<Vec<String>> {
    follows::table
        .filter(follows::follower_id.eq(viewer_id))
        .filter(follows::state.eq("accepted"))
        .filter(follows::followee_id.eq_any(ids))
        .select(follows::followee_id)
        .load(conn)
}

/// Which public posts: all, this instance's, or other instances'.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    All,
    Local,
    Remote,
}

impl Origin {
    /// The value `posts.local` must have, if any.
    fn local(self) -> Option<bool> {
        match self {
            Origin::All => None,
            Origin::Local => Some(true),
            Origin::Remote => Some(false),
        }
    }
}

/// Owned copies, for the `'static` boxed queries [`page_of_posts`] takes.
fn owned(values: &[&str]) -> Vec<String> {
    values.iter().map(|v| v.to_string()).collect()
}

/// What public timelines show `viewer`: public posts, and local-only ones
/// to this instance's people.
fn public_visibilities(viewer: Option<&Actor>) -> Vec<&'static str> {
    let mut visible = vec!["public"];
    if viewer.is_some_and(|v| v.local) {
        visible.push("local");
    }
    visible
}

/// The public timeline; local viewers also see their organisation's
/// local-only posts.
pub fn public_posts(
    conn: &mut DbConn,
    viewer: Option<&Actor>,
    origin: Origin,
    page: &Page,
) -> QueryResult<Vec<Post>> {
    let q = public_rule(viewer, origin).filter(posts::deleted_at.is_null());
    page_of_posts(conn, q, page)
}

/// Whether one post is on the public timeline (see [`public_posts`]).
pub fn public_contains(
    conn: &mut DbConn,
    viewer: Option<&Actor>,
    origin: Origin,
    post_id: &str,
    deleted_too: bool,
) -> QueryResult<bool> {
    contains(conn, public_rule(viewer, origin), post_id, deleted_too)
}

/// The public timeline's rule, deleted posts included.
fn public_rule(viewer: Option<&Actor>, origin: Origin) -> BoxedPosts {
    let mut q = posts::table
        .filter(posts::visibility.eq_any(public_visibilities(viewer)))
        .into_boxed();
    if let Some(local) = origin.local() {
        q = q.filter(posts::local.eq(local));
    }
    if let Some(viewer) = viewer {
        q = hide_for(q, viewer);
    }
    q
}

/// Leaves out the posts of accounts (and domains) `viewer` blocked or muted.
fn hide_for(q: BoxedPosts, viewer: &Actor) -> BoxedPosts {
    q.filter(diesel::dsl::not(
        posts::author_id.eq_any(hidden_by!(viewer.id)),
    ))
    .filter(diesel::dsl::not(
        posts::author_id.eq_any(domain_hidden_by!(viewer.id)),
    ))
}

/// Public posts with a hashtag.
pub fn tag_posts(
    conn: &mut DbConn,
    viewer: Option<&Actor>,
    tag: &str,
    origin: Origin,
    page: &Page,
) -> QueryResult<Vec<Post>> {
    let q = tag_rule(viewer, tag, origin).filter(posts::deleted_at.is_null());
    page_of_posts(conn, q, page)
}

/// Whether one post is on a hashtag's timeline (see [`tag_posts`]).
pub fn tag_contains(
    conn: &mut DbConn,
    viewer: Option<&Actor>,
    tag: &str,
    origin: Origin,
    post_id: &str,
    deleted_too: bool,
) -> QueryResult<bool> {
    contains(conn, tag_rule(viewer, tag, origin), post_id, deleted_too)
}

/// A hashtag timeline's rule, deleted posts included.
fn tag_rule(viewer: Option<&Actor>, tag: &str, origin: Origin) -> BoxedPosts {
    let tagged = post_tags::table
        .filter(post_tags::kind.eq("hashtag"))
        .filter(post_tags::name.eq(tag.to_lowercase()))
        .select(post_tags::post_id);
    let mut q = posts::table
        .filter(posts::visibility.eq_any(public_visibilities(viewer)))
        .filter(posts::id.eq_any(tagged))
        .into_boxed();
    if let Some(local) = origin.local() {
        q = q.filter(posts::local.eq(local));
    }
    // Before: the tag timeline showed the posts of blocked accounts.
    if let Some(viewer) = viewer {
        q = hide_for(q, viewer);
    }
    q
}

/// Filters on an account's posts (`GET /api/v1/accounts/:id/statuses`).
#[derive(Debug, Clone, Default)]
pub struct AccountFilter {
    pub exclude_replies: bool,
    pub pinned: bool,
    pub tagged: Option<String>,
}

/// An account's posts of the given visibilities.
pub fn account_posts(
    conn: &mut DbConn,
    author_id: &str,
    visibilities: &[&str],
    filter: &AccountFilter,
    page: &Page,
) -> QueryResult<Vec<Post>> {
    let mut q = posts::table
        .filter(posts::deleted_at.is_null())
        .filter(posts::author_id.eq(author_id.to_string()))
        .filter(posts::visibility.eq_any(owned(visibilities)))
        .into_boxed();
    if filter.exclude_replies {
        q = q.filter(posts::in_reply_to.is_null());
    }
    if filter.pinned {
        let pins = account_marks::table
            .filter(account_marks::actor_id.eq(author_id.to_string()))
            .filter(account_marks::kind.eq("pin"))
            .select(account_marks::target_id);
        q = q.filter(posts::id.eq_any(pins));
    }
    if let Some(tag) = &filter.tagged {
        let tagged = post_tags::table
            .filter(post_tags::kind.eq("hashtag"))
            .filter(post_tags::name.eq(tag.to_lowercase()))
            .select(post_tags::post_id);
        q = q.filter(posts::id.eq_any(tagged));
    }
    page_of_posts(conn, q, page)
}

/// Posts shared in a community, of the given visibilities.
pub fn community_posts(
    conn: &mut DbConn,
    group_id: &str,
    visibilities: &[&str],
    exclude_replies: bool,
    page: &Page,
) -> QueryResult<Vec<Post>> {
    let mut q = community_query(group_id, visibilities);
    if exclude_replies {
        q = q.filter(posts::in_reply_to.is_null());
    }
    page_of_posts(conn, q, page)
}

/// The posts shared in a community, of the given visibilities, not
/// deleted: [`community_posts`]'s rule, also the community digest's.
pub fn community_query(group_id: &str, visibilities: &[&str]) -> BoxedPosts {
    posts::table
        .filter(posts::deleted_at.is_null())
        .filter(posts::community_id.eq(group_id.to_string()))
        .filter(posts::visibility.eq_any(owned(visibilities)))
        .into_boxed()
}

/// An account's boosts of public posts.
pub fn account_boosts(
    conn: &mut DbConn,
    actor_id: &str,
    page: &Page,
) -> QueryResult<Vec<(Reaction, Post)>> {
    let q = reactions_with_posts!("announce")
        .filter(reactions::actor_id.eq(actor_id.to_string()))
        .filter(posts::visibility.eq_any(BOOSTABLE));
    let q = of_kind!(q, page);
    crate::load_page!(conn, q, reactions::id, page)
}

/// Posts an account liked, newest like first, paged by the like's id.
pub fn liked_by(
    conn: &mut DbConn,
    actor_id: &str,
    page: &Page,
) -> QueryResult<Vec<(Reaction, Post)>> {
    let q = reactions_with_posts!("like").filter(reactions::actor_id.eq(actor_id.to_string()));
    crate::load_page!(conn, q, reactions::id, page)
}

/// Direct posts the viewer wrote or was addressed in, newest first.
pub fn direct_posts(conn: &mut DbConn, viewer: &Actor, limit: i64) -> QueryResult<Vec<Post>> {
    direct_rule(viewer)
        .filter(posts::deleted_at.is_null())
        .order(posts::id.desc())
        .limit(limit)
        .load(conn)
}

/// Whether one post is among the viewer's direct conversations (see
/// [`direct_posts`]).
pub fn direct_contains(
    conn: &mut DbConn,
    viewer: &Actor,
    post_id: &str,
    deleted_too: bool,
) -> QueryResult<bool> {
    contains(conn, direct_rule(viewer), post_id, deleted_too)
}

/// The direct conversations' rule, deleted posts included.
fn direct_rule(viewer: &Actor) -> BoxedPosts {
    let mentions = post_tags::table
        .filter(post_tags::kind.eq("mention"))
        .filter(post_tags::href.eq(viewer.ap_id.to_string()))
        .select(post_tags::post_id);
    posts::table
        .filter(posts::visibility.eq("direct"))
        .filter(posts::community_id.is_null())
        .filter(
            posts::author_id
                .eq(viewer.id.clone())
                .or(posts::id.eq_any(mentions)),
        )
        .into_boxed()
}
