//! Lists (`lists`) and their members (`list_members`). A leaf: queries
//! only; the rules (who may be a member, what a list's timeline shows) are
//! in `service::lists` and `timeline::list_rule`.

use super::{
    actor::Actor,
    schema::{actors, list_members, lists},
    DbConn, Page,
};
use diesel::prelude::*;

/// One row of `lists`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = lists)]
pub struct List {
    pub id: String,
    pub account_id: String,
    pub title: String,
    /// `followed`, `list` or `none`.
    pub replies_policy: String,
    pub exclusive: bool,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

/// One row of `list_members`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = list_members)]
pub struct ListMember {
    pub id: String,
    pub list_id: String,
    /// The owner's follow of the member; `None` only for the owner.
    pub follow_id: Option<String>,
    pub account_id: String,
    pub created_at: chrono::NaiveDateTime,
}

impl List {
    pub fn insert(conn: &mut DbConn, list: &List) -> QueryResult<()> {
        diesel::insert_into(lists::table)
            .values(list)
            .execute(conn)
            .map(|_| ())
    }

    pub fn update(conn: &mut DbConn, list: &List) -> QueryResult<()> {
        diesel::update(lists::table.find(&list.id))
            .set(list)
            .execute(conn)
            .map(|_| ())
    }

    /// Deletes the list with its members.
    pub fn delete(conn: &mut DbConn, id: &str) -> QueryResult<()> {
        diesel::delete(list_members::table.filter(list_members::list_id.eq(id))).execute(conn)?;
        diesel::delete(lists::table.find(id)).execute(conn)?;
        Ok(())
    }

    /// The account's list with this id.
    pub fn owned(conn: &mut DbConn, account_id: &str, id: &str) -> QueryResult<Option<List>> {
        lists::table
            .find(id)
            .filter(lists::account_id.eq(account_id))
            .first(conn)
            .optional()
    }

    /// All the account's lists, oldest first.
    pub fn of_account(conn: &mut DbConn, account_id: &str) -> QueryResult<Vec<List>> {
        lists::table
            .filter(lists::account_id.eq(account_id))
            .order(lists::id.asc())
            .load(conn)
    }

    /// The account's lists that have `member_id` as a member, oldest first.
    pub fn of_account_with_member(
        conn: &mut DbConn,
        account_id: &str,
        member_id: &str,
    ) -> QueryResult<Vec<List>> {
        let with_member = list_members::table
            .filter(list_members::account_id.eq(member_id.to_string()))
            .select(list_members::list_id);
        lists::table
            .filter(lists::account_id.eq(account_id))
            .filter(lists::id.eq_any(with_member))
            .order(lists::id.asc())
            .load(conn)
    }
}

impl ListMember {
    /// Adds a member unless the list has them already.
    pub fn insert(conn: &mut DbConn, member: &ListMember) -> QueryResult<()> {
        let existing: i64 = list_members::table
            .filter(list_members::list_id.eq(&member.list_id))
            .filter(list_members::account_id.eq(&member.account_id))
            .count()
            .get_result(conn)?;
        if existing > 0 {
            return Ok(());
        }
        diesel::insert_into(list_members::table)
            .values(member)
            .execute(conn)
            .map(|_| ())
    }

    pub fn remove(conn: &mut DbConn, list_id: &str, account_ids: &[String]) -> QueryResult<usize> {
        diesel::delete(
            list_members::table
                .filter(list_members::list_id.eq(list_id))
                .filter(list_members::account_id.eq_any(account_ids)),
        )
        .execute(conn)
    }

    /// Whether `account_id` is a member of the list.
    pub fn is_member(conn: &mut DbConn, list_id: &str, account_id: &str) -> QueryResult<bool> {
        let n: i64 = list_members::table
            .filter(list_members::list_id.eq(list_id))
            .filter(list_members::account_id.eq(account_id))
            .count()
            .get_result(conn)?;
        Ok(n > 0)
    }

    /// One page of a list's members with the membership rows' ids, newest
    /// first (the client API pages by them). A `limit` of 0 is all.
    pub fn page(
        conn: &mut DbConn,
        list_id: &str,
        page: &Page,
    ) -> QueryResult<Vec<(String, Actor)>> {
        let q = list_members::table
            .inner_join(actors::table.on(actors::id.eq(list_members::account_id)))
            .filter(list_members::list_id.eq(list_id.to_string()))
            .select((list_members::id, Actor::as_select()))
            .into_boxed();
        crate::load_page!(conn, q, list_members::id, page)
    }
}
