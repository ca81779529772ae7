//! Likes and boosts (Announce) of posts.

use super::{
    actor::Actor,
    schema::{actors, reactions},
    DbConn, DbUrl,
};
use diesel::prelude::*;

/// Which reaction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReactionKind {
    Like,
    Announce,
}

impl ReactionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ReactionKind::Like => "like",
            ReactionKind::Announce => "announce",
        }
    }
}

/// One row of `reactions`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = reactions)]
pub struct Reaction {
    pub id: String,
    /// The Like or Announce activity's id.
    pub ap_id: DbUrl,
    pub kind: String,
    pub actor_id: String,
    pub post_id: String,
    pub created_at: chrono::NaiveDateTime,
}

impl Reaction {
    /// Records a reaction; `false` when the actor had already reacted so.
    pub fn insert(conn: &mut DbConn, reaction: &Reaction) -> QueryResult<bool> {
        // One statement, so two requests at once (a double tap, or the
        // same Like arriving twice) store one row and neither fails.
        let inserted = crate::per_backend!(conn, |c| diesel::insert_into(reactions::table)
            .values(reaction)
            .on_conflict_do_nothing()
            .execute(c))?;
        if inserted == 0 {
            return Ok(false);
        }
        if reaction.kind == ReactionKind::Announce.as_str() {
            let event = super::events::StreamEvent::Boosted {
                reaction: reaction.id.clone(),
            };
            super::events::emit(conn, event)?;
        }
        let author: Option<String> = super::schema::posts::table
            .find(&reaction.post_id)
            .select(super::schema::posts::author_id)
            .first(conn)
            .optional()?;
        if let Some(author) = author {
            let kind = if reaction.kind == ReactionKind::Like.as_str() {
                "favourite"
            } else {
                "reblog"
            };
            super::notification::Notification::notify(
                conn,
                &author,
                kind,
                &reaction.actor_id,
                Some(&reaction.post_id),
            )?;
        }
        Ok(true)
    }

    pub fn by_ap_id(conn: &mut DbConn, ap_id: &url::Url) -> QueryResult<Option<Reaction>> {
        reactions::table
            .filter(reactions::ap_id.eq(ap_id.as_str()))
            .first(conn)
            .optional()
    }

    pub fn by_id(conn: &mut DbConn, id: &str) -> QueryResult<Option<Reaction>> {
        reactions::table.find(id).first(conn).optional()
    }

    /// The reaction of one kind by an actor on a post.
    pub fn find(
        conn: &mut DbConn,
        kind: ReactionKind,
        actor_id: &str,
        post_id: &str,
    ) -> QueryResult<Option<Reaction>> {
        reactions::table
            .filter(reactions::kind.eq(kind.as_str()))
            .filter(reactions::actor_id.eq(actor_id))
            .filter(reactions::post_id.eq(post_id))
            .first(conn)
            .optional()
    }

    pub fn delete(conn: &mut DbConn, id: &str) -> QueryResult<usize> {
        diesel::delete(reactions::table.find(id)).execute(conn)
    }

    pub fn count(conn: &mut DbConn, kind: ReactionKind, post_id: &str) -> QueryResult<i64> {
        reactions::table
            .filter(reactions::kind.eq(kind.as_str()))
            .filter(reactions::post_id.eq(post_id))
            .count()
            .get_result(conn)
    }

    /// Who reacted so to a post, oldest first.
    pub fn actors(conn: &mut DbConn, kind: ReactionKind, post_id: &str) -> QueryResult<Vec<Actor>> {
        reactions::table
            .inner_join(actors::table.on(actors::id.eq(reactions::actor_id)))
            .filter(reactions::kind.eq(kind.as_str()))
            .filter(reactions::post_id.eq(post_id))
            .order(reactions::id.asc())
            .select(Actor::as_select())
            .load(conn)
    }
}
