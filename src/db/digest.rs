//! The queries of weekly digests (issue 13 §4): what a week brought to a
//! person or a community, the people's digest settings, and the claims
//! (`digests_sent`) that make each weekly e-mail go out once.
//!
//! Visibility is never decided here: a person's digest filters their home
//! timeline's query (`timeline::home_query`), a community's filters the
//! community timeline's (`timeline::community_query`) with the
//! visibilities the caller passes.

use super::{
    actor::Actor,
    post::{NarrationKind, Post},
    schema::{
        accepted_answers, actors, digest_settings, digests_sent, follows, local_users, posts,
    },
    timeline, DbConn,
};
use chrono::NaiveDateTime;
use diesel::prelude::*;

type Backend = <DbConn as diesel::Connection>::Backend;
type BoxedPosts = posts::BoxedQuery<'static, Backend>;

/// Whose digest.
#[derive(Debug, Clone, Copy)]
pub enum Scope<'a> {
    /// A person's: posts by the people they follow and in the communities
    /// they joined, as far as their home timeline shows them.
    Person(&'a Actor),
    /// A community's (a group's id): posts shared in it of `visibilities`.
    Community {
        group_id: &'a str,
        visibilities: &'a [&'a str],
    },
}

/// What a week `[start, end)` brought, newest first in each part.
#[derive(Debug, Clone, Default)]
pub struct WeekRows {
    pub learned: Vec<Post>,
    /// Asks whose answer was accepted in the week.
    pub answered: Vec<Post>,
    /// Asks published before the week's end with no accepted answer.
    pub open: Vec<Post>,
    pub stuck: Vec<Post>,
    /// (new member, community) pairs: follows of a community accepted in
    /// the week.
    pub new_members: Vec<(String, String)>,
}

/// The scope's posts, visibility already decided.
fn scoped(scope: Scope<'_>) -> BoxedPosts {
    match scope {
        Scope::Person(viewer) => {
            let followed = follows::table
                .filter(follows::follower_id.eq(viewer.id.clone()))
                .filter(follows::state.eq("accepted"))
                .select(follows::followee_id);
            let joined = follows::table
                .filter(follows::follower_id.eq(viewer.id.clone()))
                .filter(follows::state.eq("accepted"))
                .select(follows::followee_id);
            timeline::home_query(viewer)
                .filter(posts::author_id.ne(viewer.id.clone()))
                .filter(
                    posts::author_id
                        .eq_any(followed)
                        .or(posts::community_id.assume_not_null().eq_any(joined)),
                )
        }
        Scope::Community {
            group_id,
            visibilities,
        } => timeline::community_query(group_id, visibilities),
    }
}

/// The communities (groups) a person has joined.
fn joined_groups(conn: &mut DbConn, person_id: &str) -> QueryResult<Vec<String>> {
    follows::table
        .inner_join(actors::table.on(actors::id.eq(follows::followee_id)))
        .filter(follows::follower_id.eq(person_id))
        .filter(follows::state.eq("accepted"))
        .filter(actors::kind.eq("Group"))
        .select(follows::followee_id)
        .load(conn)
}

/// Everything a digest of the week `[start, end)` shows, at most `limit`
/// of each part.
pub fn week(
    conn: &mut DbConn,
    scope: Scope<'_>,
    start: NaiveDateTime,
    end: NaiveDateTime,
    limit: i64,
) -> QueryResult<WeekRows> {
    let of_kind = |kind: NarrationKind| {
        scoped(scope)
            .filter(posts::narration_kind.eq(kind.as_str()))
            .order(posts::id.desc())
            .limit(limit)
    };
    let in_week = |q: BoxedPosts| {
        q.filter(posts::published.ge(start))
            .filter(posts::published.lt(end))
    };
    let learned = in_week(of_kind(NarrationKind::Learned)).load(conn)?;
    let stuck = in_week(of_kind(NarrationKind::Stuck)).load(conn)?;
    let answered_in_week = accepted_answers::table
        .filter(accepted_answers::accepted_at.ge(start))
        .filter(accepted_answers::accepted_at.lt(end))
        .select(accepted_answers::question_id);
    let answered = of_kind(NarrationKind::Ask)
        .filter(posts::id.eq_any(answered_in_week))
        .load(conn)?;
    let open = of_kind(NarrationKind::Ask)
        .filter(posts::published.lt(end))
        .filter(diesel::dsl::not(posts::id.eq_any(
            accepted_answers::table.select(accepted_answers::question_id),
        )))
        .load(conn)?;
    let (groups, me) = match scope {
        Scope::Person(viewer) => (joined_groups(conn, &viewer.id)?, Some(viewer.id.clone())),
        Scope::Community { group_id, .. } => (vec![group_id.to_string()], None),
    };
    let mut members = follows::table
        .filter(follows::followee_id.eq_any(groups))
        .filter(follows::state.eq("accepted"))
        .filter(follows::updated_at.ge(start))
        .filter(follows::updated_at.lt(end))
        .into_boxed();
    if let Some(me) = me {
        members = members.filter(follows::follower_id.ne(me));
    }
    let new_members = members
        .order(follows::updated_at.desc())
        .limit(limit)
        .select((follows::follower_id, follows::followee_id))
        .load(conn)?;
    Ok(WeekRows {
        learned,
        answered,
        open,
        stuck,
        new_members,
    })
}

/// A local person's digest choices (one row per person).
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = digest_settings)]
pub struct DigestSettings {
    pub actor_id: String,
    /// Where the weekly e-mail goes (checked by `service::digests`).
    pub email: Option<String>,
    /// Whether the person asked for the weekly e-mail.
    pub digest_email: bool,
    /// The secret of `/digest/{token}.atom`.
    pub feed_token: String,
    pub updated_at: NaiveDateTime,
}

impl DigestSettings {
    pub fn of(conn: &mut DbConn, actor_id: &str) -> QueryResult<Option<DigestSettings>> {
        digest_settings::table
            .find(actor_id)
            .select(DigestSettings::as_select())
            .first(conn)
            .optional()
    }

    /// The person's row, made with `new_token` (and no e-mail) if they had
    /// none; two requests racing both get the one row.
    pub fn ensure(
        conn: &mut DbConn,
        actor_id: &str,
        new_token: &str,
        now: NaiveDateTime,
    ) -> QueryResult<DigestSettings> {
        let row = DigestSettings {
            actor_id: actor_id.to_string(),
            email: None,
            digest_email: false,
            feed_token: new_token.to_string(),
            updated_at: now,
        };
        crate::per_backend!(conn, |c| diesel::insert_into(digest_settings::table)
            .values(&row)
            .on_conflict_do_nothing()
            .execute(c))?;
        digest_settings::table
            .find(actor_id)
            .select(DigestSettings::as_select())
            .first(conn)
    }

    /// Saves the e-mail choices of a person who has a row.
    pub fn set_email(
        conn: &mut DbConn,
        actor_id: &str,
        email: Option<&str>,
        digest_email: bool,
        now: NaiveDateTime,
    ) -> QueryResult<usize> {
        diesel::update(digest_settings::table.find(actor_id))
            .set((
                digest_settings::email.eq(email),
                digest_settings::digest_email.eq(digest_email),
                digest_settings::updated_at.eq(now),
            ))
            .execute(conn)
    }

    /// The person whose feed token this is.
    pub fn by_token(conn: &mut DbConn, token: &str) -> QueryResult<Option<Actor>> {
        digest_settings::table
            .inner_join(actors::table)
            .filter(digest_settings::feed_token.eq(token))
            .select(Actor::as_select())
            .first(conn)
            .optional()
    }

    /// People who asked for the e-mail and have an address, with accounts
    /// approved and not suspended.
    pub fn recipients(conn: &mut DbConn) -> QueryResult<Vec<(DigestSettings, Actor)>> {
        digest_settings::table
            .inner_join(actors::table)
            .inner_join(local_users::table.on(local_users::actor_id.eq(digest_settings::actor_id)))
            .filter(digest_settings::digest_email.eq(true))
            .filter(digest_settings::email.is_not_null())
            .filter(local_users::approved.eq(true))
            .filter(local_users::suspended_at.is_null())
            .order(digest_settings::actor_id.asc())
            .select((DigestSettings::as_select(), Actor::as_select()))
            .load(conn)
    }
}

/// How often a failed e-mail is tried in all.
pub const MAX_ATTEMPTS: i32 = 5;

/// Claims the e-mail of `person_id` for `week`: true when this caller now
/// owns the sending. A new claim is an INSERT that does nothing on
/// conflict, so of several processes exactly one wins; a `failed` claim
/// (below [`MAX_ATTEMPTS`]) is taken over by one UPDATE, which again only
/// one process can win. A `sending` or `sent` claim is never taken: a
/// process that died mid-send leaves the week unsent rather than risk a
/// second message.
pub fn claim(
    conn: &mut DbConn,
    person_id: &str,
    week: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let inserted = crate::per_backend!(conn, |c| diesel::insert_into(digests_sent::table)
        .values((
            digests_sent::person_id.eq(person_id),
            digests_sent::week.eq(week),
            digests_sent::status.eq("sending"),
            digests_sent::attempts.eq(1),
            digests_sent::claimed_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(c))?;
    if inserted == 1 {
        return Ok(true);
    }
    let retaken = diesel::update(
        digests_sent::table
            .find((person_id, week))
            .filter(digests_sent::status.eq("failed"))
            .filter(digests_sent::attempts.lt(MAX_ATTEMPTS)),
    )
    .set((
        digests_sent::status.eq("sending"),
        digests_sent::attempts.eq(digests_sent::attempts + 1),
        digests_sent::claimed_at.eq(now),
    ))
    .execute(conn)?;
    Ok(retaken == 1)
}

/// Records how a claimed sending ended: `Ok` sent, `Err(message)` failed.
pub fn finish(
    conn: &mut DbConn,
    person_id: &str,
    week: &str,
    outcome: Result<(), String>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let row = digests_sent::table.find((person_id, week));
    match outcome {
        Ok(()) => diesel::update(row)
            .set((
                digests_sent::status.eq("sent"),
                digests_sent::sent_at.eq(Some(now)),
                digests_sent::last_error.eq(None::<String>),
            ))
            .execute(conn),
        Err(message) => diesel::update(row)
            .set((
                digests_sent::status.eq("failed"),
                digests_sent::last_error.eq(Some(message)),
            ))
            .execute(conn),
    }
}

/// The status of a person's e-mail for a week, if claimed.
pub fn status(conn: &mut DbConn, person_id: &str, week: &str) -> QueryResult<Option<String>> {
    digests_sent::table
        .find((person_id, week))
        .select(digests_sent::status)
        .first(conn)
        .optional()
}
