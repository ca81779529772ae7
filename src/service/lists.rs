//! Lists (`/api/v1/lists…`, `/api/v1/timelines/list/:id`, the `list`
//! stream): named subsets of the accounts a person follows, each read as
//! its own timeline. Another person's list is answered as an unknown one
//! (404), as Mastodon does. What a list's timeline shows is
//! `db::timeline::list_rule`; members of an `exclusive` list are kept out
//! of home by `db::timeline::home_rule`.

use crate::{
    apub::Data,
    context::Context,
    db::{
        actor::Actor,
        follow::Follow,
        list::{List, ListMember},
        timeline::RepliesPolicy,
        Page,
    },
    error::{Error, Result},
    service::partners,
};

/// Longest title kept.
const MAX_TITLE: usize = 256;

/// A list's fields as a create or update gives them; `None` keeps
/// (update) or defaults (create).
#[derive(Debug, Clone, Default)]
pub struct ListEdit {
    pub title: Option<String>,
    pub replies_policy: Option<String>,
    pub exclusive: Option<bool>,
}

fn not_found() -> Error {
    Error::not_found("Record not found")
}

fn check_title(title: &str) -> Result<String> {
    let title = title.trim();
    if title.is_empty() {
        return Err(Error::unprocessable(
            "Validation failed: Title can't be blank",
        ));
    }
    if title.chars().count() > MAX_TITLE {
        return Err(Error::unprocessable("Validation failed: Title is too long"));
    }
    Ok(title.to_string())
}

fn check_policy(policy: &str) -> Result<RepliesPolicy> {
    RepliesPolicy::parse(policy.trim()).ok_or_else(|| {
        Error::unprocessable(format!(
            "Validation failed: Replies policy `{policy}` is not one of followed, list, none"
        ))
    })
}

/// The stored replies policy of a list (`list` for anything unknown,
/// Mastodon's default).
pub fn policy_of(list: &List) -> RepliesPolicy {
    RepliesPolicy::parse(&list.replies_policy).unwrap_or(RepliesPolicy::List)
}

/// All of `me`'s lists, oldest first.
pub async fn all(data: &Data<Context>, me: &Actor) -> Result<Vec<List>> {
    // The Partners alias comes last (issue 13 §5, `service::partners`).
    let partners = partners::as_list(data, me).await?;
    let id = me.id.clone();
    data.db
        .run(move |conn| Ok(List::of_account(conn, &id)?))
        .await
        .map(|mut lists| {
            lists.extend(partners);
            lists
        })
}

/// One of `me`'s lists.
///
/// Errors: `NotFound` for an unknown list or another person's.
pub async fn get(data: &Data<Context>, me: &Actor, list_id: &str) -> Result<List> {
    if list_id == partners::LIST_ID {
        return partners::as_list(data, me).await?.ok_or_else(not_found);
    }
    let (me, id) = (me.id.clone(), list_id.to_string());
    data.db
        .run(move |conn| Ok(List::owned(conn, &me, &id)?))
        .await?
        .ok_or_else(not_found)
}

/// Creates a list (`replies_policy` defaults to `list`, `exclusive` to
/// false, as in Mastodon).
///
/// Errors: `Unprocessable` for a blank title or an unknown policy.
pub async fn create(data: &Data<Context>, me: &Actor, edit: ListEdit) -> Result<List> {
    let title = check_title(edit.title.as_deref().unwrap_or(""))?;
    let policy = match edit.replies_policy.as_deref() {
        Some(p) => check_policy(p)?,
        None => RepliesPolicy::List,
    };
    let now = crate::db::now();
    let list = List {
        id: crate::db::new_id(),
        account_id: me.id.clone(),
        title,
        replies_policy: policy.as_str().to_string(),
        exclusive: edit.exclusive.unwrap_or(false),
        created_at: now,
        updated_at: now,
    };
    let row = list.clone();
    data.db
        .run(move |conn| Ok(List::insert(conn, &row)?))
        .await?;
    Ok(list)
}

/// Changes a list's title, policy or exclusivity (what `edit` gives).
///
/// Errors: `NotFound` (see [`get`]); `Unprocessable` as [`create`].
pub async fn update(
    data: &Data<Context>,
    me: &Actor,
    list_id: &str,
    edit: ListEdit,
) -> Result<List> {
    partners::refuse_edit(list_id)?;
    let mut list = get(data, me, list_id).await?;
    if let Some(title) = edit.title.as_deref() {
        list.title = check_title(title)?;
    }
    if let Some(policy) = edit.replies_policy.as_deref() {
        list.replies_policy = check_policy(policy)?.as_str().to_string();
    }
    if let Some(exclusive) = edit.exclusive {
        list.exclusive = exclusive;
    }
    list.updated_at = crate::db::now();
    let row = list.clone();
    data.db
        .run(move |conn| Ok(List::update(conn, &row)?))
        .await?;
    Ok(list)
}

/// Deletes one of `me`'s lists with its members.
///
/// Errors: `NotFound` (see [`get`]).
pub async fn delete(data: &Data<Context>, me: &Actor, list_id: &str) -> Result<()> {
    partners::refuse_edit(list_id)?;
    let list = get(data, me, list_id).await?;
    data.db
        .run(move |conn| Ok(List::delete(conn, &list.id)?))
        .await
}

/// One page of a list's members, with the membership rows' ids (the
/// page's `Link` bounds).
///
/// Errors: `NotFound` (see [`get`]).
pub async fn members(
    data: &Data<Context>,
    me: &Actor,
    list_id: &str,
    page: Page,
) -> Result<Vec<(String, Actor)>> {
    let list = get(data, me, list_id).await?;
    if list.id == partners::LIST_ID {
        // Partners are hosts, not members.
        return Ok(Vec::new());
    }
    data.db
        .run(move |conn| Ok(ListMember::page(conn, &list.id, &page)?))
        .await
}

/// Adds accounts to a list, all or none. Each must be one `me` follows
/// (a pending request counts, as in Mastodon) or `me`; the membership is
/// tied to that follow, so unfollowing removes it.
///
/// Errors: `NotFound` for the list (see [`get`]) or an unknown account;
/// `Unprocessable` for no accounts or one not followed.
pub async fn add_members(
    data: &Data<Context>,
    me: &Actor,
    list_id: &str,
    account_ids: Vec<String>,
) -> Result<()> {
    partners::refuse_edit(list_id)?;
    let list = get(data, me, list_id).await?;
    if account_ids.is_empty() {
        return Err(Error::unprocessable(
            "Validation failed: Account can't be blank",
        ));
    }
    let me = me.id.clone();
    data.db
        .transaction(move |conn| {
            for account_id in &account_ids {
                if Actor::by_id(conn, account_id)?.is_none() {
                    return Err(not_found());
                }
                let follow_id =
                    if *account_id == me {
                        None
                    } else {
                        match Follow::between(conn, &me, account_id)? {
                            Some(follow) => Some(follow.id),
                            None => return Err(Error::unprocessable(
                                "Validation failed: Account must be followed to be added to a list",
                            )),
                        }
                    };
                ListMember::insert(
                    conn,
                    &ListMember {
                        id: crate::db::new_id(),
                        list_id: list.id.clone(),
                        follow_id,
                        account_id: account_id.clone(),
                        created_at: crate::db::now(),
                    },
                )?;
            }
            Ok(())
        })
        .await
}

/// Removes accounts from a list (ones not on it are ignored).
///
/// Errors: `NotFound` (see [`get`]).
pub async fn remove_members(
    data: &Data<Context>,
    me: &Actor,
    list_id: &str,
    account_ids: Vec<String>,
) -> Result<()> {
    partners::refuse_edit(list_id)?;
    let list = get(data, me, list_id).await?;
    data.db
        .run(move |conn| Ok(ListMember::remove(conn, &list.id, &account_ids).map(|_| ())?))
        .await
}

/// `me`'s lists that have `account_id` as a member.
///
/// Errors: `NotFound` for an unknown account.
pub async fn lists_with(data: &Data<Context>, me: &Actor, account_id: &str) -> Result<Vec<List>> {
    let (me, account) = (me.id.clone(), account_id.to_string());
    data.db
        .run(move |conn| {
            if Actor::by_id(conn, &account)?.is_none() {
                return Err(not_found());
            }
            Ok(List::of_account_with_member(conn, &me, &account)?)
        })
        .await
}
