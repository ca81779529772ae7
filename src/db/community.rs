//! Communities of practice: settings and moderators of local Group actors.

use super::{
    actor::Actor,
    schema::{actors, communities, community_moderators},
    DbConn,
};
use diesel::prelude::*;

/// Who may post into a community.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Posting {
    /// Members (followers) and moderators.
    Members,
    /// Anyone not banned.
    Anyone,
    /// Moderators only (announcement channels).
    Moderators,
}

impl Posting {
    pub fn as_str(self) -> &'static str {
        match self {
            Posting::Members => "members",
            Posting::Anyone => "anyone",
            Posting::Moderators => "moderators",
        }
    }

    pub fn parse(s: &str) -> Option<Posting> {
        Some(match s {
            "members" => Posting::Members,
            "anyone" => Posting::Anyone,
            "moderators" => Posting::Moderators,
            _ => return None,
        })
    }
}

/// One row of `communities`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = communities)]
pub struct Community {
    /// The Group actor.
    pub actor_id: String,
    pub owner_id: String,
    pub posting: String,
    pub members_only: bool,
    pub created_at: chrono::NaiveDateTime,
}

impl Community {
    pub fn posting(&self) -> Posting {
        Posting::parse(&self.posting).unwrap_or(Posting::Members)
    }

    pub fn insert(conn: &mut DbConn, community: &Community) -> QueryResult<()> {
        diesel::insert_into(communities::table)
            .values(community)
            .execute(conn)
            .map(|_| ())
    }

    pub fn by_actor_id(conn: &mut DbConn, actor_id: &str) -> QueryResult<Option<Community>> {
        communities::table.find(actor_id).first(conn).optional()
    }

    pub fn add_moderator(conn: &mut DbConn, community_id: &str, actor_id: &str) -> QueryResult<()> {
        if Community::is_moderator(conn, community_id, actor_id)? {
            return Ok(());
        }
        diesel::insert_into(community_moderators::table)
            .values((
                community_moderators::community_id.eq(community_id),
                community_moderators::actor_id.eq(actor_id),
                community_moderators::added_at.eq(super::now()),
            ))
            .execute(conn)
            .map(|_| ())
    }

    pub fn is_moderator(
        conn: &mut DbConn,
        community_id: &str,
        actor_id: &str,
    ) -> QueryResult<bool> {
        let n: i64 = community_moderators::table
            .filter(community_moderators::community_id.eq(community_id))
            .filter(community_moderators::actor_id.eq(actor_id))
            .count()
            .get_result(conn)?;
        Ok(n > 0)
    }

    /// The moderators, longest-serving first.
    pub fn moderators(conn: &mut DbConn, community_id: &str) -> QueryResult<Vec<Actor>> {
        community_moderators::table
            .inner_join(actors::table.on(actors::id.eq(community_moderators::actor_id)))
            .filter(community_moderators::community_id.eq(community_id))
            .order(community_moderators::added_at.asc())
            .select(Actor::as_select())
            .load(conn)
    }
}
