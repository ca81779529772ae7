//! Filters v2 (`filters`), their keywords (`filter_keywords`) and
//! statuses (`filter_statuses`). A leaf: queries only; the rules are in
//! `service::filters`.

use super::{
    schema::{filter_keywords, filter_statuses, filters},
    DbConn,
};
use diesel::prelude::*;

/// One row of `filters`. `context` is comma-separated.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = filters)]
#[diesel(treat_none_as_null = true)]
pub struct Filter {
    pub id: String,
    pub account_id: String,
    pub title: String,
    pub context: String,
    pub filter_action: String,
    pub expires_at: Option<chrono::NaiveDateTime>,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

/// One row of `filter_keywords`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = filter_keywords)]
pub struct FilterKeyword {
    pub id: String,
    pub filter_id: String,
    pub keyword: String,
    pub whole_word: bool,
    pub created_at: chrono::NaiveDateTime,
}

/// One row of `filter_statuses`.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = filter_statuses)]
pub struct FilterStatus {
    pub id: String,
    pub filter_id: String,
    pub post_id: String,
    pub created_at: chrono::NaiveDateTime,
}

impl Filter {
    pub fn insert(conn: &mut DbConn, filter: &Filter) -> QueryResult<()> {
        diesel::insert_into(filters::table)
            .values(filter)
            .execute(conn)
            .map(|_| ())
    }

    pub fn update(conn: &mut DbConn, filter: &Filter) -> QueryResult<()> {
        diesel::update(filters::table.find(&filter.id))
            .set(filter)
            .execute(conn)
            .map(|_| ())
    }

    /// Deletes the filter with its keywords and statuses.
    pub fn delete(conn: &mut DbConn, id: &str) -> QueryResult<()> {
        diesel::delete(filter_keywords::table.filter(filter_keywords::filter_id.eq(id)))
            .execute(conn)?;
        diesel::delete(filter_statuses::table.filter(filter_statuses::filter_id.eq(id)))
            .execute(conn)?;
        diesel::delete(filters::table.find(id)).execute(conn)?;
        Ok(())
    }

    /// The account's filter with this id.
    pub fn owned(conn: &mut DbConn, account_id: &str, id: &str) -> QueryResult<Option<Filter>> {
        filters::table
            .find(id)
            .filter(filters::account_id.eq(account_id))
            .first(conn)
            .optional()
    }

    /// All the account's filters, oldest first.
    pub fn of_account(conn: &mut DbConn, account_id: &str) -> QueryResult<Vec<Filter>> {
        filters::table
            .filter(filters::account_id.eq(account_id))
            .order(filters::id.asc())
            .load(conn)
    }

    /// The account's filters not expired at `now`.
    pub fn active(
        conn: &mut DbConn,
        account_id: &str,
        now: chrono::NaiveDateTime,
    ) -> QueryResult<Vec<Filter>> {
        filters::table
            .filter(filters::account_id.eq(account_id))
            .filter(
                filters::expires_at
                    .is_null()
                    .or(filters::expires_at.gt(now)),
            )
            .order(filters::id.asc())
            .load(conn)
    }

    /// Which of these accounts have a filter in force at `now` (one
    /// query for any number of readers).
    pub fn accounts_with_active(
        conn: &mut DbConn,
        account_ids: &[String],
        now: chrono::NaiveDateTime,
    ) -> QueryResult<Vec<String>> {
        if account_ids.is_empty() {
            return Ok(Vec::new());
        }
        let active = filters::table
            .filter(
                filters::expires_at
                    .is_null()
                    .or(filters::expires_at.gt(now)),
            )
            .select(filters::account_id)
            .distinct()
            .into_boxed();
        // Many accounts (a post's event for every connected reader):
        // everyone with a filter, a far shorter list in practice, kept if
        // asked for, rather than a query binding ten thousand ids.
        if account_ids.len() > 1_000 {
            let asked: std::collections::HashSet<&str> =
                account_ids.iter().map(String::as_str).collect();
            let mut all: Vec<String> = active.load(conn)?;
            all.retain(|id| asked.contains(id.as_str()));
            return Ok(all);
        }
        active
            .filter(filters::account_id.eq_any(account_ids))
            .load(conn)
    }
}

impl FilterKeyword {
    pub fn insert(conn: &mut DbConn, keyword: &FilterKeyword) -> QueryResult<()> {
        diesel::insert_into(filter_keywords::table)
            .values(keyword)
            .execute(conn)
            .map(|_| ())
    }

    pub fn update(conn: &mut DbConn, id: &str, keyword: &str, whole_word: bool) -> QueryResult<()> {
        diesel::update(filter_keywords::table.find(id))
            .set((
                filter_keywords::keyword.eq(keyword),
                filter_keywords::whole_word.eq(whole_word),
            ))
            .execute(conn)
            .map(|_| ())
    }

    pub fn delete(conn: &mut DbConn, id: &str) -> QueryResult<()> {
        diesel::delete(filter_keywords::table.find(id))
            .execute(conn)
            .map(|_| ())
    }

    pub fn by_id(conn: &mut DbConn, id: &str) -> QueryResult<Option<FilterKeyword>> {
        filter_keywords::table.find(id).first(conn).optional()
    }

    /// Keywords of these filters, oldest first.
    pub fn of_filters(conn: &mut DbConn, filter_ids: &[String]) -> QueryResult<Vec<FilterKeyword>> {
        if filter_ids.is_empty() {
            return Ok(Vec::new());
        }
        filter_keywords::table
            .filter(filter_keywords::filter_id.eq_any(filter_ids))
            .order(filter_keywords::id.asc())
            .load(conn)
    }
}

impl FilterStatus {
    /// Stores the status unless the filter has it already; the stored row.
    pub fn insert(conn: &mut DbConn, status: &FilterStatus) -> QueryResult<FilterStatus> {
        let existing: Option<FilterStatus> = filter_statuses::table
            .filter(filter_statuses::filter_id.eq(&status.filter_id))
            .filter(filter_statuses::post_id.eq(&status.post_id))
            .first(conn)
            .optional()?;
        if let Some(existing) = existing {
            return Ok(existing);
        }
        diesel::insert_into(filter_statuses::table)
            .values(status)
            .execute(conn)?;
        Ok(status.clone())
    }

    pub fn delete(conn: &mut DbConn, id: &str) -> QueryResult<()> {
        diesel::delete(filter_statuses::table.find(id))
            .execute(conn)
            .map(|_| ())
    }

    pub fn by_id(conn: &mut DbConn, id: &str) -> QueryResult<Option<FilterStatus>> {
        filter_statuses::table.find(id).first(conn).optional()
    }

    /// Statuses of these filters, oldest first.
    pub fn of_filters(conn: &mut DbConn, filter_ids: &[String]) -> QueryResult<Vec<FilterStatus>> {
        if filter_ids.is_empty() {
            return Ok(Vec::new());
        }
        filter_statuses::table
            .filter(filter_statuses::filter_id.eq_any(filter_ids))
            .order(filter_statuses::id.asc())
            .load(conn)
    }
}
