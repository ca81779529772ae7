//! "People who know" (issue 13 §3): who has narrated about a hashtag or a
//! community, with the evidence. Read-only; the rules of what counts live
//! here in SQL so that one code path serves SQLite and PostgreSQL, and the
//! ranking is done in Rust over the (small) rows of one topic's year.
//!
//! What counts, and why:
//! - only `public` posts, not deleted: unlisted ones are kept out of
//!   listings on purpose, and followers-only, direct, local and
//!   members-only ones were never said to everyone (docs/security.md);
//! - posts shared in a members-only community never count, whatever their
//!   visibility says (belt and braces: such posts are never public);
//! - authors who chose to be discoverable (local people opt in; remote
//!   people count only when their actor says `discoverable: true`), are
//!   people, are not suspended here, and whose domain the instance does
//!   not block; the viewer's own blocks, mutes and domain blocks hide
//!   authors from that viewer;
//! - an accepted answer is about the topic when the ask *or* the answer
//!   carries the tag (or is in the community): replies often leave the
//!   hashtag to the ask. The ask must itself be public and not deleted, so
//!   that a followers-only ask never leaks what it was about.

use super::{
    actor::{Actor, ActorKind},
    schema::{
        accepted_answers, account_marks, actors, communities, domain_policies, local_users,
        post_tags, posts,
    },
    DbConn,
};
use diesel::{dsl::not, prelude::*};
use std::collections::HashMap;

/// How many posts of each kind are shown as evidence per person.
pub const EVIDENCE_PER_KIND: usize = 3;

/// What people are asked to know about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topic {
    /// A hashtag's name, lowercase, without `#`.
    Tag(String),
    /// A community: its Group actor's id (`posts.community_id`).
    Community(String),
}

/// Why a post is evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvidenceKind {
    AcceptedAnswer,
    Learned,
}

impl EvidenceKind {
    /// The wire value (`kind` in the API).
    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceKind::AcceptedAnswer => "accepted_answer",
            EvidenceKind::Learned => "learned",
        }
    }
}

/// One post that shows a person knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evidence {
    pub post_id: String,
    /// Where people read it: the post's `url`, else its ActivityPub id.
    pub url: String,
    pub kind: EvidenceKind,
}

/// One person who knows, with their counts and newest evidence.
#[derive(Debug, Clone, PartialEq)]
pub struct Expert {
    pub actor: Actor,
    pub accepted_answers: i64,
    pub learned: i64,
    /// Newest first: up to [`EVIDENCE_PER_KIND`] accepted answers, then
    /// up to as many learned narrations.
    pub evidence: Vec<Evidence>,
}

// The subqueries below are macros, not functions returning boxed queries:
// a boxed query is built for the multi-backend connection and cannot be
// nested in a query that runs on one backend. Absent values (no tag, no
// community, no viewer) bind NULL, which matches no row, so each query has
// one shape whatever is asked.

/// The ids of the posts tagged `$tag` (an `Option<String>`).
macro_rules! tagged {
    ($tag:expr) => {
        post_tags::table
            .filter(post_tags::kind.eq("hashtag"))
            .filter(post_tags::name.nullable().eq($tag.clone()))
            .select(post_tags::post_id)
    };
}

// The asks, when the answers are `posts` in the same query.
diesel::alias!(posts as asks: Asks);

/// The ids of the asks shared in community `$community` (an
/// `Option<String>`).
macro_rules! in_community {
    ($community:expr) => {
        asks.filter(asks.field(posts::community_id).eq($community.clone()))
            .select(asks.field(posts::id))
    };
}

/// The actors whose posts may count (see the module comment), leaving out
/// whom `$viewer` (an `Option<String>`) blocked or muted, and the domains
/// they blocked.
macro_rules! eligible_authors {
    ($viewer:expr) => {
        actors::table
            .filter(actors::discoverable.eq(true))
            .filter(actors::kind.eq(ActorKind::Person.as_str()))
            .filter(not(actors::id.eq_any(
                local_users::table
                    .filter(local_users::suspended_at.is_not_null())
                    .select(local_users::actor_id),
            )))
            .filter(not(actors::domain.eq_any(
                domain_policies::table
                    .filter(domain_policies::action.eq("block"))
                    .select(domain_policies::domain),
            )))
            .filter(not(actors::id.eq_any(
                account_marks::table
                    .filter(account_marks::actor_id.nullable().eq($viewer.clone()))
                    .filter(account_marks::kind.eq_any(["block", "mute"]))
                    .select(account_marks::target_id),
            )))
            .filter(not(actors::domain.eq_any(
                account_marks::table
                    .filter(account_marks::actor_id.nullable().eq($viewer.clone()))
                    .filter(account_marks::kind.eq("domain_block"))
                    .select(account_marks::target_id),
            )))
            .select(actors::id)
    };
}

/// The communities whose posts never count.
macro_rules! members_only {
    () => {
        communities::table
            .filter(communities::members_only.eq(true))
            .select(communities::actor_id.nullable())
    };
}

/// The posts that may count as evidence at all: public, not deleted,
/// published since `$since`, by an eligible author (for `$viewer`), and
/// not shared in a members-only community. The one statement of it for
/// learned narrations and accepted answers alike.
macro_rules! countable {
    ($since:expr, $viewer:expr) => {
        posts::table
            .filter(posts::visibility.eq("public"))
            .filter(posts::deleted_at.is_null())
            .filter(posts::published.ge($since))
            .filter(posts::author_id.eq_any(eligible_authors!($viewer)))
            .filter(
                posts::community_id
                    .is_null()
                    .or(not(posts::community_id.eq_any(members_only!()))),
            )
    };
}

/// One counted post: (author, post id, ActivityPub id, url).
type Row = (String, String, String, Option<String>);

/// The people who know about `topic` from their posts published since
/// `since`, ranked by accepted answers, then learned narrations, then
/// the newest evidence; at most `limit` of them. Three queries whatever
/// the number of people: learned narrations, accepted answers, the people.
pub fn who_knows(
    conn: &mut DbConn,
    topic: &Topic,
    since: chrono::NaiveDateTime,
    viewer: Option<&str>,
    limit: usize,
) -> QueryResult<Vec<Expert>> {
    let (tag, community) = match topic {
        Topic::Tag(name) => (Some(name.to_lowercase()), None),
        Topic::Community(id) => (None, Some(id.clone())),
    };
    let viewer = viewer.map(str::to_string);
    let columns = (posts::author_id, posts::id, posts::ap_id, posts::url);

    let learned: Vec<Row> = countable!(since, viewer)
        .filter(posts::narration_kind.eq("learned"))
        .filter(
            posts::id
                .eq_any(tagged!(tag))
                .or(posts::community_id.eq(community.clone())),
        )
        .order((posts::published.desc(), posts::id.desc()))
        .select(columns)
        .load(conn)?;

    // Accepted answers to public asks that are still there...
    let answered_in_public = accepted_answers::table
        .filter(
            accepted_answers::question_id.eq_any(
                asks.filter(asks.field(posts::visibility).eq("public"))
                    .filter(asks.field(posts::deleted_at).is_null())
                    .select(asks.field(posts::id)),
            ),
        )
        .select(accepted_answers::answer_id);
    // ...and among them those whose ask is about the topic.
    let asked_about = accepted_answers::table
        .filter(
            accepted_answers::question_id
                .eq_any(tagged!(tag))
                .or(accepted_answers::question_id.eq_any(in_community!(community))),
        )
        .select(accepted_answers::answer_id);
    let answers: Vec<Row> = countable!(since, viewer)
        .filter(posts::id.eq_any(answered_in_public))
        .filter(
            posts::id
                .eq_any(asked_about)
                .or(posts::id.eq_any(tagged!(tag)))
                .or(posts::community_id.eq(community.clone())),
        )
        .order((posts::published.desc(), posts::id.desc()))
        .select(columns)
        .load(conn)?;

    let mut ranked = rank(answers, learned);
    ranked.truncate(limit);
    let ids: Vec<String> = ranked.iter().map(|t| t.author_id.clone()).collect();
    let mut actors: HashMap<String, Actor> = actors::table
        .filter(actors::id.eq_any(&ids))
        .select(Actor::as_select())
        .load(conn)?
        .into_iter()
        .map(|a| (a.id.clone(), a))
        .collect();
    Ok(ranked
        .into_iter()
        .filter_map(|t| {
            Some(Expert {
                actor: actors.remove(&t.author_id)?,
                accepted_answers: t.accepted_answers,
                learned: t.learned,
                evidence: t.evidence,
            })
        })
        .collect())
}

/// A person's tally before their actor row is loaded.
#[derive(Debug, Default)]
struct Tally {
    author_id: String,
    accepted_answers: i64,
    learned: i64,
    /// The newest counted post's id (ids are time-ordered): the tie-break.
    newest: String,
    evidence: Vec<Evidence>,
}

/// Counts per author and orders them; rows come newest first, so the
/// first posts of each kind are the evidence.
fn rank(answers: Vec<Row>, learned: Vec<Row>) -> Vec<Tally> {
    let mut by_author: HashMap<String, Tally> = HashMap::new();
    for (kind, rows) in [
        (EvidenceKind::AcceptedAnswer, answers),
        (EvidenceKind::Learned, learned),
    ] {
        for (author_id, post_id, ap_id, url) in rows {
            let tally = by_author.entry(author_id.clone()).or_insert_with(|| Tally {
                author_id,
                ..Tally::default()
            });
            let shown = match kind {
                EvidenceKind::AcceptedAnswer => {
                    tally.accepted_answers += 1;
                    tally.accepted_answers
                }
                EvidenceKind::Learned => {
                    tally.learned += 1;
                    tally.learned
                }
            };
            if shown as usize <= EVIDENCE_PER_KIND {
                tally.evidence.push(Evidence {
                    post_id: post_id.clone(),
                    url: url.unwrap_or(ap_id),
                    kind,
                });
            }
            if post_id > tally.newest {
                tally.newest = post_id;
            }
        }
    }
    let mut ranked: Vec<Tally> = by_author.into_values().collect();
    ranked.sort_by(|a, b| {
        (b.accepted_answers, b.learned, &b.newest, &a.author_id).cmp(&(
            a.accepted_answers,
            a.learned,
            &a.newest,
            &b.author_id,
        ))
    });
    ranked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(author: &str, id: &str) -> Row {
        (
            author.into(),
            id.into(),
            format!("http://a.localhost/objects/{id}"),
            None,
        )
    }

    /// Accepted answers rank before learned narrations, evidence is capped
    /// per kind and falls back to the ActivityPub id.
    #[test]
    fn answers_rank_first_and_evidence_is_capped() {
        let answers = vec![row("ana", "09")];
        let learned = (1..=5).map(|n| row("bo", &format!("0{n}"))).collect();
        let ranked = rank(answers, learned);
        assert_eq!(ranked[0].author_id, "ana");
        assert_eq!(ranked[0].accepted_answers, 1);
        assert_eq!(ranked[1].author_id, "bo");
        assert_eq!(ranked[1].learned, 5);
        assert_eq!(ranked[1].evidence.len(), EVIDENCE_PER_KIND);
        assert_eq!(ranked[1].evidence[0].url, "http://a.localhost/objects/01");
        assert_eq!(ranked[1].newest, "05");
    }
}
