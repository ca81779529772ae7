//! Follow suggestions: the candidates' queries and the suggestions an
//! account dismissed (`suggestion_dismissals`). Ranking and merging the
//! sources is `service::suggestions`.

use super::{
    actor::Actor,
    schema::{account_marks, actors, follows, local_users, suggestion_dismissals},
    DbConn,
};
use diesel::dsl::count_star;
use diesel::prelude::*;

/// Dismisses `target` as a suggestion for `account`; dismissing twice is
/// no error.
pub fn dismiss(conn: &mut DbConn, account: &str, target: &str) -> QueryResult<()> {
    conn.transaction(|conn| {
        diesel::delete(
            suggestion_dismissals::table
                .filter(suggestion_dismissals::account_id.eq(account))
                .filter(suggestion_dismissals::target_id.eq(target)),
        )
        .execute(conn)?;
        diesel::insert_into(suggestion_dismissals::table)
            .values((
                suggestion_dismissals::account_id.eq(account),
                suggestion_dismissals::target_id.eq(target),
                suggestion_dismissals::created_at.eq(super::now()),
            ))
            .execute(conn)
            .map(|_| ())
    })
}

/// Ids never to suggest to `viewer`: itself, whom it follows or asked to
/// follow, whom it dismissed, blocked or muted, and who blocked it.
fn excluded(conn: &mut DbConn, viewer: &str) -> QueryResult<Vec<String>> {
    let mut ids: Vec<String> = follows::table
        .filter(follows::follower_id.eq(viewer))
        .select(follows::followee_id)
        .load(conn)?;
    ids.extend(
        suggestion_dismissals::table
            .filter(suggestion_dismissals::account_id.eq(viewer))
            .select(suggestion_dismissals::target_id)
            .load::<String>(conn)?,
    );
    ids.extend(
        account_marks::table
            .filter(account_marks::actor_id.eq(viewer))
            .filter(account_marks::kind.eq_any(["block", "mute"]))
            .select(account_marks::target_id)
            .load::<String>(conn)?,
    );
    ids.extend(
        account_marks::table
            .filter(account_marks::target_id.eq(viewer))
            .filter(account_marks::kind.eq("block"))
            .select(account_marks::actor_id)
            .load::<String>(conn)?,
    );
    ids.push(viewer.to_string());
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// Domains whose accounts `viewer` blocked.
fn blocked_domains(conn: &mut DbConn, viewer: &str) -> QueryResult<Vec<String>> {
    account_marks::table
        .filter(account_marks::actor_id.eq(viewer))
        .filter(account_marks::kind.eq("domain_block"))
        .select(account_marks::target_id)
        .load(conn)
}

/// The discoverable people and communities among `ids` that `viewer` may
/// be suggested, in no particular order; suspended local accounts never.
fn suggestible(conn: &mut DbConn, viewer: &str, ids: Vec<String>) -> QueryResult<Vec<Actor>> {
    let excluded = excluded(conn, viewer)?;
    let domains = blocked_domains(conn, viewer)?;
    let suspended = local_users::table
        .filter(local_users::suspended_at.is_not_null())
        .select(local_users::actor_id);
    actors::table
        .filter(actors::id.eq_any(ids))
        .filter(actors::id.ne_all(suspended))
        .filter(actors::id.ne_all(excluded))
        .filter(actors::domain.ne_all(domains))
        .filter(actors::discoverable.eq(true))
        .filter(actors::kind.eq_any(["Person", "Group"]))
        .select(Actor::as_select())
        .load(conn)
}

/// Friends of friends: accounts followed by the accounts `viewer` follows,
/// with how many of those follow each, most first (ties: newest account
/// first), without the ones never to suggest.
pub fn friends_of_friends(
    conn: &mut DbConn,
    viewer: &str,
    limit: i64,
) -> QueryResult<Vec<(Actor, i64)>> {
    let followed: Vec<String> = follows::table
        .filter(follows::follower_id.eq(viewer))
        .filter(follows::state.eq("accepted"))
        .select(follows::followee_id)
        .load(conn)?;
    if followed.is_empty() {
        return Ok(Vec::new());
    }
    let excluded = excluded(conn, viewer)?;
    let ranked: Vec<(String, i64)> = follows::table
        .filter(follows::follower_id.eq_any(followed))
        .filter(follows::state.eq("accepted"))
        .filter(follows::followee_id.ne_all(excluded))
        .group_by(follows::followee_id)
        .select((follows::followee_id, count_star()))
        .order((count_star().desc(), follows::followee_id.desc()))
        // Some are left out below (not discoverable): take more.
        .limit(limit * 4)
        .load(conn)?;
    let actors = suggestible(
        conn,
        viewer,
        ranked.iter().map(|(id, _)| id.clone()).collect(),
    )?;
    Ok(ranked
        .into_iter()
        .filter_map(|(id, n)| Some((actors.iter().find(|a| a.id == id)?.clone(), n)))
        .take(limit as usize)
        .collect())
}

/// Local people most followed (by anyone), most first (ties: newest first),
/// without the ones never to suggest: whom a newcomer who follows nobody
/// yet is shown. When fewer than `limit` local people have followers, the
/// newest others fill the list (with 0). Both queries are bounded by
/// `limit`, whatever the instance's size.
pub fn most_followed_local(
    conn: &mut DbConn,
    viewer: &str,
    limit: i64,
) -> QueryResult<Vec<(Actor, i64)>> {
    let excluded = excluded(conn, viewer)?;
    let mut ranked: Vec<(String, i64)> = follows::table
        .inner_join(actors::table.on(actors::id.eq(follows::followee_id)))
        .filter(follows::state.eq("accepted"))
        .filter(actors::local.eq(true))
        .filter(actors::kind.eq("Person"))
        .filter(actors::discoverable.eq(true))
        .filter(actors::id.ne_all(&excluded))
        .group_by(follows::followee_id)
        .select((follows::followee_id, count_star()))
        .order((count_star().desc(), follows::followee_id.desc()))
        .limit(limit)
        .load(conn)?;
    if (ranked.len() as i64) < limit {
        let known: Vec<String> = ranked.iter().map(|(id, _)| id.clone()).collect();
        let newest: Vec<String> = actors::table
            .filter(actors::local.eq(true))
            .filter(actors::kind.eq("Person"))
            .filter(actors::discoverable.eq(true))
            .filter(actors::id.ne_all(&excluded))
            .filter(actors::id.ne_all(known))
            .order(actors::id.desc())
            .limit(limit - ranked.len() as i64)
            .select(actors::id)
            .load(conn)?;
        ranked.extend(newest.into_iter().map(|id| (id, 0)));
    }
    let actors = suggestible(
        conn,
        viewer,
        ranked.iter().map(|(id, _)| id.clone()).collect(),
    )?;
    Ok(ranked
        .into_iter()
        .filter_map(|(id, n)| Some((actors.iter().find(|a| a.id == id)?.clone(), n)))
        .collect())
}
