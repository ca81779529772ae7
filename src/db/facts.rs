//! Facts about many posts and actors at once, for pages of the client API:
//! counts, tags, the viewer's own reactions and marks. One query per kind
//! of fact, whatever the page size, instead of several per post.

use super::{
    actor::Actor,
    post::{Post, PostTag},
    schema::{account_marks, actors, post_tags, posts, reactions},
    DbConn,
};
use diesel::{dsl::count_star, prelude::*};
use std::collections::{HashMap, HashSet};

pub fn actors_by_ids(conn: &mut DbConn, ids: &[String]) -> QueryResult<HashMap<String, Actor>> {
    Ok(actors::table
        .filter(actors::id.eq_any(ids))
        .load::<Actor>(conn)?
        .into_iter()
        .map(|a| (a.id.clone(), a))
        .collect())
}

pub fn actors_by_ap_ids(
    conn: &mut DbConn,
    ap_ids: &[String],
) -> QueryResult<HashMap<String, Actor>> {
    Ok(actors::table
        .filter(actors::ap_id.eq_any(ap_ids))
        .load::<Actor>(conn)?
        .into_iter()
        .map(|a| (a.ap_id.to_string(), a))
        .collect())
}

/// What a page shows of each post besides the post itself.
#[derive(Debug, Clone, Default)]
pub struct PostFacts {
    pub tags: HashMap<String, Vec<PostTag>>,
    /// Parent post (by ActivityPub id) → (local id, author id).
    pub parents: HashMap<String, (String, String)>,
    pub replies: HashMap<String, i64>,
    pub likes: HashMap<String, i64>,
    pub boosts: HashMap<String, i64>,
    /// Posts the viewer liked, boosted, bookmarked, pinned.
    pub liked: HashSet<String>,
    pub boosted: HashSet<String>,
    pub bookmarked: HashSet<String>,
    pub pinned: HashSet<String>,
    /// Answered asks → their accepted answer (issue 13 §2).
    pub answers: HashMap<String, String>,
}

pub fn post_facts(
    conn: &mut DbConn,
    posts_in: &[&Post],
    viewer_id: Option<&str>,
) -> QueryResult<PostFacts> {
    let mut facts = PostFacts::default();
    if posts_in.is_empty() {
        return Ok(facts);
    }
    let ids: Vec<String> = posts_in.iter().map(|p| p.id.clone()).collect();
    let ap_ids: Vec<String> = posts_in.iter().map(|p| p.ap_id.to_string()).collect();
    for tag in post_tags::table
        .filter(post_tags::post_id.eq_any(&ids))
        .order((post_tags::kind.asc(), post_tags::name.asc()))
        .load::<PostTag>(conn)?
    {
        facts.tags.entry(tag.post_id.clone()).or_default().push(tag);
    }
    let parent_ids: Vec<String> = posts_in
        .iter()
        .filter_map(|p| p.in_reply_to.clone())
        .collect();
    if !parent_ids.is_empty() {
        let parents: Vec<(String, String, String)> = posts::table
            .filter(posts::ap_id.eq_any(&parent_ids))
            .select((posts::ap_id, posts::id, posts::author_id))
            .load(conn)?;
        facts.parents = parents
            .into_iter()
            .map(|(ap, id, author)| (ap, (id, author)))
            .collect();
    }
    // As Mastodon counts them: public and unlisted replies only, so the
    // count never reveals a reply its reader may not see.
    let replies: Vec<(Option<String>, i64)> = posts::table
        .filter(posts::in_reply_to.eq_any(&ap_ids))
        .filter(posts::deleted_at.is_null())
        .filter(posts::visibility.eq_any(["public", "unlisted"]))
        .group_by(posts::in_reply_to)
        .select((posts::in_reply_to, count_star()))
        .load(conn)?;
    let by_ap: HashMap<&str, &str> = posts_in
        .iter()
        .map(|p| (p.ap_id.as_str(), p.id.as_str()))
        .collect();
    for (parent, n) in replies {
        if let Some(id) = parent.as_deref().and_then(|p| by_ap.get(p)) {
            facts.replies.insert(id.to_string(), n);
        }
    }
    facts.answers = super::answer::AcceptedAnswer::of_questions(conn, &ids)?
        .into_iter()
        .map(|a| (a.question_id, a.answer_id))
        .collect();
    let counts: Vec<(String, String, i64)> = reactions::table
        .filter(reactions::post_id.eq_any(&ids))
        .group_by((reactions::post_id, reactions::kind))
        .select((reactions::post_id, reactions::kind, count_star()))
        .load(conn)?;
    for (post, kind, n) in counts {
        match kind.as_str() {
            "like" => facts.likes.insert(post, n),
            _ => facts.boosts.insert(post, n),
        };
    }
    if let Some(viewer) = viewer_id {
        let mine: Vec<(String, String)> = reactions::table
            .filter(reactions::actor_id.eq(viewer))
            .filter(reactions::post_id.eq_any(&ids))
            .select((reactions::post_id, reactions::kind))
            .load(conn)?;
        for (post, kind) in mine {
            match kind.as_str() {
                "like" => facts.liked.insert(post),
                _ => facts.boosted.insert(post),
            };
        }
        let marks: Vec<(String, String)> = account_marks::table
            .filter(account_marks::actor_id.eq(viewer))
            .filter(account_marks::target_id.eq_any(&ids))
            .filter(account_marks::kind.eq_any(["bookmark", "pin"]))
            .select((account_marks::target_id, account_marks::kind))
            .load(conn)?;
        for (post, kind) in marks {
            match kind.as_str() {
                "bookmark" => facts.bookmarked.insert(post),
                _ => facts.pinned.insert(post),
            };
        }
    }
    Ok(facts)
}
