//! Account migration: the aliases an actor lists (`alsoKnownAs`) and where
//! an actor moved to (`movedTo`), in two tables beside `actors`.

use super::{
    schema::{actor_aliases, actor_moves},
    DbConn,
};
use diesel::prelude::*;
use std::collections::HashMap;

/// One row of `actor_moves`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = actor_moves)]
pub struct ActorMove {
    pub actor_id: String,
    /// The ActivityPub id of the account the actor moved to.
    pub target_ap_id: String,
    pub moved_at: chrono::NaiveDateTime,
}

/// The `alsoKnownAs` of an actor, oldest first.
pub fn aliases_of(conn: &mut DbConn, actor_id: &str) -> QueryResult<Vec<String>> {
    actor_aliases::table
        .filter(actor_aliases::actor_id.eq(actor_id))
        .order((
            actor_aliases::created_at.asc(),
            actor_aliases::alias_ap_id.asc(),
        ))
        .select(actor_aliases::alias_ap_id)
        .load(conn)
}

/// Whether `actor_id` lists `alias` in its `alsoKnownAs`.
pub fn has_alias(conn: &mut DbConn, actor_id: &str, alias: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        actor_aliases::table
            .filter(actor_aliases::actor_id.eq(actor_id))
            .filter(actor_aliases::alias_ap_id.eq(alias)),
    ))
    .get_result(conn)
}

/// Adds one alias; adding it again changes nothing. Whether it was new.
/// One statement: two fetches of the same actor at once both succeed.
pub fn add_alias(conn: &mut DbConn, actor_id: &str, alias: &str) -> QueryResult<bool> {
    let row = (
        actor_aliases::actor_id.eq(actor_id),
        actor_aliases::alias_ap_id.eq(alias),
        actor_aliases::created_at.eq(super::now()),
    );
    let inserted = crate::per_backend!(conn, |c| diesel::insert_into(actor_aliases::table)
        .values(row)
        .on_conflict_do_nothing()
        .execute(c))?;
    Ok(inserted == 1)
}

/// Removes one alias; the number of rows removed (0 or 1).
pub fn remove_alias(conn: &mut DbConn, actor_id: &str, alias: &str) -> QueryResult<usize> {
    diesel::delete(
        actor_aliases::table
            .filter(actor_aliases::actor_id.eq(actor_id))
            .filter(actor_aliases::alias_ap_id.eq(alias)),
    )
    .execute(conn)
}

/// Replaces every alias of an actor (a remote actor's, as its document
/// lists them when fetched).
pub fn set_aliases(conn: &mut DbConn, actor_id: &str, aliases: &[String]) -> QueryResult<()> {
    let current = aliases_of(conn, actor_id)?;
    if current.len() == aliases.len() && current.iter().all(|a| aliases.contains(a)) {
        return Ok(());
    }
    diesel::delete(actor_aliases::table.filter(actor_aliases::actor_id.eq(actor_id)))
        .execute(conn)?;
    for alias in aliases {
        add_alias(conn, actor_id, alias)?;
    }
    Ok(())
}

impl ActorMove {
    /// Where `actor_id` moved to, if it did.
    pub fn of(conn: &mut DbConn, actor_id: &str) -> QueryResult<Option<ActorMove>> {
        actor_moves::table.find(actor_id).first(conn).optional()
    }

    /// The moves of several actors at once (for pages of accounts).
    pub fn among(conn: &mut DbConn, ids: &[String]) -> QueryResult<HashMap<String, ActorMove>> {
        if ids.is_empty() {
            return Ok(HashMap::new());
        }
        let rows: Vec<ActorMove> = actor_moves::table
            .filter(actor_moves::actor_id.eq_any(ids))
            .load(conn)?;
        Ok(rows.into_iter().map(|m| (m.actor_id.clone(), m)).collect())
    }

    /// Records (or changes) where `actor_id` moved to. Whether anything
    /// changed: setting the same target again does not.
    pub fn set(conn: &mut DbConn, actor_id: &str, target_ap_id: &str) -> QueryResult<bool> {
        match ActorMove::of(conn, actor_id)? {
            Some(existing) if existing.target_ap_id == target_ap_id => Ok(false),
            Some(_) => {
                diesel::update(actor_moves::table.find(actor_id))
                    .set((
                        actor_moves::target_ap_id.eq(target_ap_id),
                        actor_moves::moved_at.eq(super::now()),
                    ))
                    .execute(conn)?;
                Ok(true)
            }
            None => {
                let row = ActorMove {
                    actor_id: actor_id.to_string(),
                    target_ap_id: target_ap_id.to_string(),
                    moved_at: super::now(),
                };
                // Two fetches of the same moved actor at once: the one
                // that loses leaves the other's row (the same document).
                let inserted =
                    crate::per_backend!(conn, |c| diesel::insert_into(actor_moves::table)
                        .values(&row)
                        .on_conflict_do_nothing()
                        .execute(c))?;
                Ok(inserted == 1)
            }
        }
    }

    /// Forgets a move (a remote actor whose document no longer says
    /// `movedTo`).
    pub fn clear(conn: &mut DbConn, actor_id: &str) -> QueryResult<usize> {
        diesel::delete(actor_moves::table.find(actor_id)).execute(conn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::for_each_backend;

    #[test]
    fn aliases_and_moves_round_trip() {
        for_each_backend("moves", |db| {
            let ana = crate::testing::migrated_with_person(db, "ana");
            let conn = &mut db.get().unwrap();
            let actor = ana.id.clone();
            let (b, c) = ("https://b.example/users/ana", "https://c.example/u/ana");
            assert!(add_alias(conn, &actor, b).unwrap());
            assert!(!add_alias(conn, &actor, b).unwrap());
            assert!(has_alias(conn, &actor, b).unwrap());
            set_aliases(conn, &actor, &[c.into()]).unwrap();
            assert_eq!(aliases_of(conn, &actor).unwrap(), vec![c.to_string()]);
            assert!(!has_alias(conn, &actor, b).unwrap());
            assert_eq!(remove_alias(conn, &actor, c).unwrap(), 1);
            assert!(ActorMove::set(conn, &actor, b).unwrap());
            assert!(!ActorMove::set(conn, &actor, b).unwrap());
            assert!(ActorMove::set(conn, &actor, c).unwrap());
            assert_eq!(
                ActorMove::of(conn, &actor).unwrap().unwrap().target_ap_id,
                c
            );
            assert_eq!(
                ActorMove::among(conn, std::slice::from_ref(&actor))
                    .unwrap()
                    .len(),
                1
            );
            assert_eq!(ActorMove::clear(conn, &actor).unwrap(), 1);
            assert!(ActorMove::of(conn, &actor).unwrap().is_none());
        });
    }
}
