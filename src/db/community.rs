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

/// One entry of a community's moderation log.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = super::schema::moderation_log)]
pub struct LogEntry {
    pub id: String,
    pub community_id: String,
    pub moderator_id: String,
    /// `remove`, `ban`, `unban`, `approve`, `reject`, `pin`, `unpin`,
    /// `add_moderator`, `remove_moderator`.
    pub action: String,
    /// The ActivityPub id of the post or actor acted on.
    pub target: String,
    pub reason: Option<String>,
    pub created_at: chrono::NaiveDateTime,
}

impl Community {
    pub fn is_banned(conn: &mut DbConn, community_id: &str, actor_id: &str) -> QueryResult<bool> {
        use super::schema::community_bans as b;
        let n: i64 = b::table
            .filter(b::community_id.eq(community_id))
            .filter(b::actor_id.eq(actor_id))
            .count()
            .get_result(conn)?;
        Ok(n > 0)
    }

    pub fn ban(
        conn: &mut DbConn,
        community_id: &str,
        actor_id: &str,
        reason: Option<&str>,
    ) -> QueryResult<()> {
        use super::schema::community_bans as b;
        if Community::is_banned(conn, community_id, actor_id)? {
            return Ok(());
        }
        diesel::insert_into(b::table)
            .values((
                b::community_id.eq(community_id),
                b::actor_id.eq(actor_id),
                b::reason.eq(reason),
                b::created_at.eq(super::now()),
            ))
            .execute(conn)
            .map(|_| ())
    }

    /// The banned actors, most recently banned first.
    pub fn banned(conn: &mut DbConn, community_id: &str) -> QueryResult<Vec<Actor>> {
        use super::schema::community_bans as b;
        b::table
            .inner_join(actors::table.on(actors::id.eq(b::actor_id)))
            .filter(b::community_id.eq(community_id))
            .order(b::created_at.desc())
            .select(Actor::as_select())
            .load(conn)
    }

    /// `false` when the actor was not banned.
    pub fn unban(conn: &mut DbConn, community_id: &str, actor_id: &str) -> QueryResult<bool> {
        use super::schema::community_bans as b;
        Ok(diesel::delete(
            b::table
                .filter(b::community_id.eq(community_id))
                .filter(b::actor_id.eq(actor_id)),
        )
        .execute(conn)?
            > 0)
    }

    pub fn remove_moderator(
        conn: &mut DbConn,
        community_id: &str,
        actor_id: &str,
    ) -> QueryResult<bool> {
        Ok(diesel::delete(
            community_moderators::table
                .filter(community_moderators::community_id.eq(community_id))
                .filter(community_moderators::actor_id.eq(actor_id)),
        )
        .execute(conn)?
            > 0)
    }

    pub fn pin(conn: &mut DbConn, community_id: &str, post_id: &str) -> QueryResult<()> {
        use super::schema::community_pins as p;
        let n: i64 = p::table
            .filter(p::community_id.eq(community_id))
            .filter(p::post_id.eq(post_id))
            .count()
            .get_result(conn)?;
        if n > 0 {
            return Ok(());
        }
        diesel::insert_into(p::table)
            .values((
                p::community_id.eq(community_id),
                p::post_id.eq(post_id),
                p::pinned_at.eq(super::now()),
            ))
            .execute(conn)
            .map(|_| ())
    }

    pub fn unpin(conn: &mut DbConn, community_id: &str, post_id: &str) -> QueryResult<bool> {
        use super::schema::community_pins as p;
        Ok(diesel::delete(
            p::table
                .filter(p::community_id.eq(community_id))
                .filter(p::post_id.eq(post_id)),
        )
        .execute(conn)?
            > 0)
    }

    /// Pinned posts, most recently pinned first.
    pub fn pinned(conn: &mut DbConn, community_id: &str) -> QueryResult<Vec<super::post::Post>> {
        use super::schema::{community_pins as p, posts};
        p::table
            .inner_join(posts::table.on(posts::id.eq(p::post_id)))
            .filter(p::community_id.eq(community_id))
            .filter(posts::deleted_at.is_null())
            .order(p::pinned_at.desc())
            .select(super::post::Post::as_select())
            .load(conn)
    }

    pub fn log(conn: &mut DbConn, entry: &LogEntry) -> QueryResult<()> {
        diesel::insert_into(super::schema::moderation_log::table)
            .values(entry)
            .execute(conn)
            .map(|_| ())
    }

    /// The moderation log, newest first.
    pub fn log_entries(
        conn: &mut DbConn,
        community_id: &str,
        limit: i64,
    ) -> QueryResult<Vec<LogEntry>> {
        use super::schema::moderation_log as l;
        l::table
            .filter(l::community_id.eq(community_id))
            .order(l::id.desc())
            .limit(limit)
            .load(conn)
    }
}
