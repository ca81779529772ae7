//! Follow edges between actors (people following people, members of
//! communities), pending until accepted.

use super::{
    actor::Actor,
    schema::{actors, follows},
    DbConn, DbUrl,
};
use diesel::prelude::*;

/// Where a follow stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowState {
    /// Waiting for the followee's approval (`manuallyApprovesFollowers`).
    Pending,
    Accepted,
}

impl FollowState {
    pub fn as_str(self) -> &'static str {
        match self {
            FollowState::Pending => "pending",
            FollowState::Accepted => "accepted",
        }
    }
}

/// One row of `follows`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = follows)]
pub struct Follow {
    pub id: String,
    /// The id of the Follow activity that created the edge.
    pub ap_id: DbUrl,
    pub follower_id: String,
    pub followee_id: String,
    pub state: String,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

impl Follow {
    pub fn state(&self) -> FollowState {
        if self.state == FollowState::Accepted.as_str() {
            FollowState::Accepted
        } else {
            FollowState::Pending
        }
    }

    /// Records a follow and notifies a local followee (`follow`, or
    /// `follow_request` while pending); a pending request to join a local
    /// community also notifies its local moderators (`join_request`).
    pub fn insert(conn: &mut DbConn, follow: &Follow) -> QueryResult<()> {
        diesel::insert_into(follows::table)
            .values(follow)
            .execute(conn)?;
        let kind = match follow.state() {
            FollowState::Accepted => {
                Follow::count_in_stats(conn, follow, 1)?;
                "follow"
            }
            FollowState::Pending => {
                super::notification::Notification::notify_moderators_of_join(
                    conn,
                    &follow.followee_id,
                    &follow.follower_id,
                )?;
                "follow_request"
            }
        };
        super::notification::Notification::notify(
            conn,
            &follow.followee_id,
            kind,
            &follow.follower_id,
            None,
        )
    }

    pub fn by_ap_id(conn: &mut DbConn, ap_id: &url::Url) -> QueryResult<Option<Follow>> {
        follows::table
            .filter(follows::ap_id.eq(ap_id.as_str()))
            .first(conn)
            .optional()
    }

    /// The edge from `follower_id` to `followee_id`, in any state.
    pub fn between(
        conn: &mut DbConn,
        follower_id: &str,
        followee_id: &str,
    ) -> QueryResult<Option<Follow>> {
        follows::table
            .filter(follows::follower_id.eq(follower_id))
            .filter(follows::followee_id.eq(followee_id))
            .first(conn)
            .optional()
    }

    /// Adds (`sign` 1) or removes (-1) an accepted edge from both actors'
    /// follower and following counts.
    fn count_in_stats(conn: &mut DbConn, follow: &Follow, sign: i64) -> QueryResult<()> {
        super::stats::adjust(
            conn,
            &follow.followee_id,
            super::stats::Delta {
                followers: sign,
                ..Default::default()
            },
        )?;
        super::stats::adjust(
            conn,
            &follow.follower_id,
            super::stats::Delta {
                following: sign,
                ..Default::default()
            },
        )
    }

    fn by_id(conn: &mut DbConn, id: &str) -> QueryResult<Option<Follow>> {
        follows::table.find(id).first(conn).optional()
    }

    /// Marks an edge accepted.
    pub fn accept(conn: &mut DbConn, id: &str) -> QueryResult<usize> {
        if let Some(edge) = Follow::by_id(conn, id)?.filter(|f| f.state() == FollowState::Pending) {
            Follow::count_in_stats(conn, &edge, 1)?;
        }
        diesel::update(follows::table.find(id))
            .set((
                follows::state.eq(FollowState::Accepted.as_str()),
                follows::updated_at.eq(super::now()),
            ))
            .execute(conn)
    }

    pub fn delete(conn: &mut DbConn, id: &str) -> QueryResult<usize> {
        if let Some(edge) = Follow::by_id(conn, id)?.filter(|f| f.state() == FollowState::Accepted)
        {
            Follow::count_in_stats(conn, &edge, -1)?;
        }
        diesel::delete(follows::table.find(id)).execute(conn)
    }

    /// Whether `follower_id` follows `followee_id` (accepted).
    pub fn is_following(
        conn: &mut DbConn,
        follower_id: &str,
        followee_id: &str,
    ) -> QueryResult<bool> {
        Ok(Follow::between(conn, follower_id, followee_id)?
            .is_some_and(|f| f.state() == FollowState::Accepted))
    }

    /// Followers of an actor in a given state, oldest first, paged by
    /// offset (collections are small pages of a stable order).
    pub fn list_followers(
        conn: &mut DbConn,
        followee_id: &str,
        state: FollowState,
        offset: i64,
        limit: i64,
    ) -> QueryResult<Vec<Actor>> {
        follows::table
            .inner_join(actors::table.on(actors::id.eq(follows::follower_id)))
            .filter(follows::followee_id.eq(followee_id))
            .filter(follows::state.eq(state.as_str()))
            .order(follows::id.asc())
            .offset(offset)
            .limit(limit)
            .select(Actor::as_select())
            .load(conn)
    }

    /// Actors an actor follows (accepted), oldest first.
    pub fn list_following(
        conn: &mut DbConn,
        follower_id: &str,
        offset: i64,
        limit: i64,
    ) -> QueryResult<Vec<Actor>> {
        follows::table
            .inner_join(actors::table.on(actors::id.eq(follows::followee_id)))
            .filter(follows::follower_id.eq(follower_id))
            .filter(follows::state.eq(FollowState::Accepted.as_str()))
            .order(follows::id.asc())
            .offset(offset)
            .limit(limit)
            .select(Actor::as_select())
            .load(conn)
    }

    pub fn count_followers(conn: &mut DbConn, followee_id: &str) -> QueryResult<i64> {
        follows::table
            .filter(follows::followee_id.eq(followee_id))
            .filter(follows::state.eq(FollowState::Accepted.as_str()))
            .count()
            .get_result(conn)
    }

    /// How many servers (organisations) `followee_id`'s followers come from.
    pub fn count_follower_domains(conn: &mut DbConn, followee_id: &str) -> QueryResult<i64> {
        follows::table
            .inner_join(actors::table.on(actors::id.eq(follows::follower_id)))
            .filter(follows::followee_id.eq(followee_id))
            .filter(follows::state.eq(FollowState::Accepted.as_str()))
            .select(actors::domain)
            .distinct()
            .load::<String>(conn)
            .map(|domains| domains.len() as i64)
    }

    /// Follow requests waiting for `followee_id`'s decision.
    pub fn count_requests(conn: &mut DbConn, followee_id: &str) -> QueryResult<i64> {
        follows::table
            .filter(follows::followee_id.eq(followee_id))
            .filter(follows::state.eq(FollowState::Pending.as_str()))
            .count()
            .get_result(conn)
    }

    pub fn count_following(conn: &mut DbConn, follower_id: &str) -> QueryResult<i64> {
        follows::table
            .filter(follows::follower_id.eq(follower_id))
            .filter(follows::state.eq(FollowState::Accepted.as_str()))
            .count()
            .get_result(conn)
    }

    /// Every accepted follower of an actor (for delivery fan-out).
    pub fn all_followers(conn: &mut DbConn, followee_id: &str) -> QueryResult<Vec<Actor>> {
        Follow::list_followers(conn, followee_id, FollowState::Accepted, 0, i64::MAX)
    }
}

impl Follow {
    /// Replaces the Follow activity id of an edge (a repeated Follow).
    pub fn set_ap_id(conn: &mut DbConn, id: &str, ap_id: &DbUrl) -> QueryResult<usize> {
        diesel::update(follows::table.find(id))
            .set((
                follows::ap_id.eq(ap_id),
                follows::updated_at.eq(super::now()),
            ))
            .execute(conn)
    }

    /// One page of accepted followers (or followings) with the edges' ids,
    /// newest edge first (the client API pages by them).
    pub fn page_of_network(
        conn: &mut DbConn,
        account_id: &str,
        followers: bool,
        page: &super::Page,
    ) -> QueryResult<Vec<(String, Actor)>> {
        let mut q = follows::table
            .filter(follows::state.eq(FollowState::Accepted.as_str()))
            .into_boxed();
        q = if followers {
            q.filter(follows::followee_id.eq(account_id.to_string()))
        } else {
            q.filter(follows::follower_id.eq(account_id.to_string()))
        };
        let edges: Vec<Follow> = crate::load_page!(conn, q, follows::id, page)?;
        let mut out = Vec::with_capacity(edges.len());
        for edge in edges {
            let other = if followers {
                &edge.follower_id
            } else {
                &edge.followee_id
            };
            if let Some(actor) = Actor::by_id(conn, other)? {
                out.push((edge.id.clone(), actor));
            }
        }
        Ok(out)
    }
}
