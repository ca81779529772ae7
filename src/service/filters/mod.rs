//! Filters (Mastodon's filters v2): keeping them, and the one matching
//! function every timeline, notification list, stream and status
//! conversion uses ([`Active`]).
//!
//! Rules: a filter needs a title, at least one known context and a known
//! action (`warn`, `hide`, `blur`). A keyword may never be empty; a
//! create that names `keywords_attributes` with nothing but empty
//! keywords is refused (a filter with no keywords and no statuses at
//! all is allowed, as in Mastodon, and matches nothing). Expired filters
//! are kept but do not apply.

use crate::{
    apub::Data,
    context::Context,
    db::{
        self,
        actor::Actor,
        filter::{Filter, FilterKeyword, FilterStatus},
        DbConn,
    },
    error::{Error, Result},
};
use diesel::QueryResult;
use std::collections::HashMap;

mod matching;
pub use matching::*;

/// Where a filter applies, as Mastodon names the contexts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterContext {
    Home,
    Notifications,
    Public,
    Thread,
    Account,
}

impl FilterContext {
    pub const ALL: [FilterContext; 5] = [
        FilterContext::Home,
        FilterContext::Notifications,
        FilterContext::Public,
        FilterContext::Thread,
        FilterContext::Account,
    ];

    pub fn name(self) -> &'static str {
        match self {
            FilterContext::Home => "home",
            FilterContext::Notifications => "notifications",
            FilterContext::Public => "public",
            FilterContext::Thread => "thread",
            FilterContext::Account => "account",
        }
    }

    pub fn parse(s: &str) -> Option<FilterContext> {
        Self::ALL.into_iter().find(|c| c.name() == s)
    }
}

/// The actions a filter may take.
pub const ACTIONS: [&str; 3] = ["warn", "hide", "blur"];

/// Longest title or keyword kept.
const MAX_TEXT: usize = 256;

/// A filter with its keywords and statuses.
#[derive(Debug, Clone)]
pub struct FullFilter {
    pub filter: Filter,
    pub keywords: Vec<FilterKeyword>,
    pub statuses: Vec<FilterStatus>,
}

impl FullFilter {
    pub fn contexts(&self) -> Vec<&str> {
        contexts_of(&self.filter)
    }

    pub fn applies_in(&self, context: FilterContext) -> bool {
        self.contexts().contains(&context.name())
    }

    pub fn hides(&self) -> bool {
        self.filter.filter_action == "hide"
    }
}

/// The contexts of a stored filter.
pub fn contexts_of(filter: &Filter) -> Vec<&str> {
    filter
        .context
        .split(',')
        .filter(|c| !c.is_empty())
        .collect()
}
/// Loads filters with their keywords and statuses (two more queries,
/// only when there are filters).
fn with_rules(conn: &mut DbConn, filters: Vec<Filter>) -> QueryResult<Vec<FullFilter>> {
    if filters.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = filters.iter().map(|f| f.id.clone()).collect();
    let mut keywords: HashMap<String, Vec<FilterKeyword>> = HashMap::new();
    for k in FilterKeyword::of_filters(conn, &ids)? {
        keywords.entry(k.filter_id.clone()).or_default().push(k);
    }
    let mut statuses: HashMap<String, Vec<FilterStatus>> = HashMap::new();
    for s in FilterStatus::of_filters(conn, &ids)? {
        statuses.entry(s.filter_id.clone()).or_default().push(s);
    }
    Ok(filters
        .into_iter()
        .map(|filter| FullFilter {
            keywords: keywords.remove(&filter.id).unwrap_or_default(),
            statuses: statuses.remove(&filter.id).unwrap_or_default(),
            filter,
        })
        .collect())
}

/// A keyword as an edit names it (`keywords_attributes[]`).
#[derive(Debug, Clone, Default)]
pub struct KeywordEdit {
    /// An existing keyword of the filter (update or destroy it).
    pub id: Option<String>,
    pub keyword: Option<String>,
    pub whole_word: Option<bool>,
    pub destroy: bool,
}

/// A filter's fields as a create or update gives them; `None` keeps
/// (update) or defaults (create).
#[derive(Debug, Clone, Default)]
pub struct FilterEdit {
    pub title: Option<String>,
    pub context: Option<Vec<String>>,
    pub filter_action: Option<String>,
    /// `Some(None)`: never expires; `Some(Some(s))`: in `s` seconds.
    pub expires_in: Option<Option<i64>>,
    /// `None` when the request named no `keywords_attributes`.
    pub keywords: Option<Vec<KeywordEdit>>,
}

fn check_title(title: &str) -> Result<String> {
    let title = title.trim();
    if title.is_empty() {
        return Err(Error::unprocessable(
            "Validation failed: Title can't be blank",
        ));
    }
    if title.chars().count() > MAX_TEXT {
        return Err(Error::unprocessable("Validation failed: Title is too long"));
    }
    Ok(title.to_string())
}

fn check_context(context: &[String]) -> Result<String> {
    let mut names: Vec<&str> = Vec::new();
    for c in context {
        let Some(known) = FilterContext::parse(c.trim()) else {
            return Err(Error::unprocessable(format!(
                "Validation failed: Context `{c}` is not one of home, notifications, public, thread, account"
            )));
        };
        if !names.contains(&known.name()) {
            names.push(known.name());
        }
    }
    if names.is_empty() {
        return Err(Error::unprocessable(
            "Validation failed: Context can't be blank",
        ));
    }
    Ok(names.join(","))
}

fn check_action(action: &str) -> Result<String> {
    if ACTIONS.contains(&action) {
        Ok(action.to_string())
    } else {
        Err(Error::unprocessable(format!(
            "Validation failed: Filter action `{action}` is not one of warn, hide, blur"
        )))
    }
}

/// A keyword as stored: trimmed, never empty.
pub fn check_keyword(keyword: &str) -> Result<String> {
    let keyword = keyword.trim();
    if keyword.is_empty() {
        return Err(Error::unprocessable(
            "Validation failed: Keyword can't be blank",
        ));
    }
    if keyword.chars().count() > MAX_TEXT {
        return Err(Error::unprocessable(
            "Validation failed: Keyword is too long",
        ));
    }
    Ok(keyword.to_string())
}

/// The expiry `expires_in` seconds from now (`None`: never). A
/// non-positive or absurd number is refused.
fn expiry(expires_in: Option<i64>) -> Result<Option<chrono::NaiveDateTime>> {
    match expires_in {
        None => Ok(None),
        Some(s) if s > 0 && s <= 100 * 365 * 86_400 => {
            Ok(Some(db::now() + chrono::TimeDelta::seconds(s)))
        }
        Some(_) => Err(Error::unprocessable(
            "Validation failed: Expires in must be a positive number of seconds",
        )),
    }
}

async fn changed(data: &Data<Context>, account_id: &str) -> Result<()> {
    crate::streaming::filters_changed(&data.db, account_id).await
}

fn not_found() -> Error {
    Error::not_found("Record not found")
}

/// The account's filters, oldest first (expired ones too, as Mastodon
/// lists them).
pub async fn list(data: &Data<Context>, me: &Actor) -> Result<Vec<FullFilter>> {
    let me = me.id.clone();
    data.db
        .run(move |conn| {
            let filters = Filter::of_account(conn, &me)?;
            Ok(with_rules(conn, filters)?)
        })
        .await
}

fn owned_sync(conn: &mut DbConn, me: &str, id: &str) -> Result<FullFilter> {
    let filter = Filter::owned(conn, me, id)?.ok_or_else(not_found)?;
    with_rules(conn, vec![filter])?.pop().ok_or_else(not_found)
}

/// One of the account's filters; another account's answers `NotFound`.
pub async fn get(data: &Data<Context>, me: &Actor, id: &str) -> Result<FullFilter> {
    let (me, id) = (me.id.clone(), id.to_string());
    data.db.run(move |conn| owned_sync(conn, &me, &id)).await
}

/// Creates a filter (see the module's rules).
pub async fn create(data: &Data<Context>, me: &Actor, edit: FilterEdit) -> Result<FullFilter> {
    let title = check_title(edit.title.as_deref().unwrap_or(""))?;
    let context = check_context(edit.context.as_deref().unwrap_or(&[]))?;
    let action = check_action(edit.filter_action.as_deref().unwrap_or("warn"))?;
    let expires_at = expiry(edit.expires_in.flatten())?;
    let mut keywords = Vec::new();
    if let Some(list) = &edit.keywords {
        for k in list.iter().filter(|k| !k.destroy) {
            keywords.push((
                check_keyword(k.keyword.as_deref().unwrap_or(""))?,
                k.whole_word.unwrap_or(true),
            ));
        }
        if keywords.is_empty() && !list.is_empty() {
            return Err(Error::unprocessable(
                "Validation failed: Keywords can't all be blank",
            ));
        }
    }
    let now = db::now();
    let filter = Filter {
        id: db::new_id(),
        account_id: me.id.clone(),
        title,
        context,
        filter_action: action,
        expires_at,
        created_at: now,
        updated_at: now,
    };
    let id = filter.id.clone();
    let me_id = me.id.clone();
    let full = data
        .db
        .transaction(move |conn| {
            Filter::insert(conn, &filter)?;
            for (keyword, whole_word) in keywords {
                FilterKeyword::insert(
                    conn,
                    &FilterKeyword {
                        id: db::new_id(),
                        filter_id: id.clone(),
                        keyword,
                        whole_word,
                        created_at: db::now(),
                    },
                )?;
            }
            owned_sync(conn, &me_id, &id)
        })
        .await?;
    changed(data, &me.id).await?;
    Ok(full)
}

/// Updates a filter: the fields given, and its keywords as
/// `keywords_attributes` names them (with an `id`: update, or delete
/// with `_destroy`; without: add).
pub async fn update(
    data: &Data<Context>,
    me: &Actor,
    id: &str,
    edit: FilterEdit,
) -> Result<FullFilter> {
    let current = get(data, me, id).await?;
    let mut filter = current.filter.clone();
    if let Some(title) = &edit.title {
        filter.title = check_title(title)?;
    }
    if let Some(context) = &edit.context {
        filter.context = check_context(context)?;
    }
    if let Some(action) = &edit.filter_action {
        filter.filter_action = check_action(action)?;
    }
    if let Some(expires_in) = edit.expires_in {
        filter.expires_at = expiry(expires_in)?;
    }
    filter.updated_at = db::now();
    enum Change {
        Add(String, bool),
        Edit(String, String, bool),
        Remove(String),
    }
    let mut changes = Vec::new();
    for k in edit.keywords.unwrap_or_default() {
        match &k.id {
            Some(kid) => {
                let Some(existing) = current.keywords.iter().find(|e| e.id == *kid) else {
                    return Err(not_found());
                };
                if k.destroy {
                    changes.push(Change::Remove(kid.clone()));
                } else {
                    let keyword = match &k.keyword {
                        Some(text) => check_keyword(text)?,
                        None => existing.keyword.clone(),
                    };
                    changes.push(Change::Edit(
                        kid.clone(),
                        keyword,
                        k.whole_word.unwrap_or(existing.whole_word),
                    ));
                }
            }
            None if k.destroy => {}
            None => changes.push(Change::Add(
                check_keyword(k.keyword.as_deref().unwrap_or(""))?,
                k.whole_word.unwrap_or(true),
            )),
        }
    }
    let (me_id, fid) = (me.id.clone(), id.to_string());
    let full = data
        .db
        .transaction(move |conn| {
            Filter::update(conn, &filter)?;
            for change in changes {
                match change {
                    Change::Add(keyword, whole_word) => FilterKeyword::insert(
                        conn,
                        &FilterKeyword {
                            id: db::new_id(),
                            filter_id: fid.clone(),
                            keyword,
                            whole_word,
                            created_at: db::now(),
                        },
                    )?,
                    Change::Edit(kid, keyword, whole_word) => {
                        FilterKeyword::update(conn, &kid, &keyword, whole_word)?
                    }
                    Change::Remove(kid) => FilterKeyword::delete(conn, &kid)?,
                }
            }
            owned_sync(conn, &me_id, &fid)
        })
        .await?;
    changed(data, &me.id).await?;
    Ok(full)
}

/// Deletes one of the account's filters.
pub async fn delete(data: &Data<Context>, me: &Actor, id: &str) -> Result<()> {
    let filter = get(data, me, id).await?;
    let fid = filter.filter.id.clone();
    data.db
        .transaction(move |conn| Ok(Filter::delete(conn, &fid)?))
        .await?;
    changed(data, &me.id).await
}

/// The keywords of one of the account's filters.
pub async fn keywords(
    data: &Data<Context>,
    me: &Actor,
    filter_id: &str,
) -> Result<Vec<FilterKeyword>> {
    Ok(get(data, me, filter_id).await?.keywords)
}

/// Adds a keyword to one of the account's filters.
pub async fn add_keyword(
    data: &Data<Context>,
    me: &Actor,
    filter_id: &str,
    keyword: &str,
    whole_word: Option<bool>,
) -> Result<FilterKeyword> {
    let filter = get(data, me, filter_id).await?;
    let row = FilterKeyword {
        id: db::new_id(),
        filter_id: filter.filter.id,
        keyword: check_keyword(keyword)?,
        whole_word: whole_word.unwrap_or(true),
        created_at: db::now(),
    };
    let stored = row.clone();
    data.db
        .run(move |conn| Ok(FilterKeyword::insert(conn, &row)?))
        .await?;
    changed(data, &me.id).await?;
    Ok(stored)
}

/// One keyword of the account's filters; another's answers `NotFound`.
pub async fn keyword(data: &Data<Context>, me: &Actor, id: &str) -> Result<FilterKeyword> {
    let (me, id) = (me.id.clone(), id.to_string());
    data.db
        .run(move |conn| {
            let keyword = FilterKeyword::by_id(conn, &id)?.ok_or_else(not_found)?;
            Filter::owned(conn, &me, &keyword.filter_id)?.ok_or_else(not_found)?;
            Ok(keyword)
        })
        .await
}

/// Changes a keyword's text or whole-word flag.
pub async fn update_keyword(
    data: &Data<Context>,
    me: &Actor,
    id: &str,
    text: Option<&str>,
    whole_word: Option<bool>,
) -> Result<FilterKeyword> {
    let mut row = keyword(data, me, id).await?;
    if let Some(text) = text {
        row.keyword = check_keyword(text)?;
    }
    if let Some(w) = whole_word {
        row.whole_word = w;
    }
    let stored = row.clone();
    data.db
        .run(move |conn| {
            Ok(FilterKeyword::update(
                conn,
                &row.id,
                &row.keyword,
                row.whole_word,
            )?)
        })
        .await?;
    changed(data, &me.id).await?;
    Ok(stored)
}

pub async fn delete_keyword(data: &Data<Context>, me: &Actor, id: &str) -> Result<()> {
    let row = keyword(data, me, id).await?;
    data.db
        .run(move |conn| Ok(FilterKeyword::delete(conn, &row.id)?))
        .await?;
    changed(data, &me.id).await
}

/// The statuses of one of the account's filters.
pub async fn statuses(
    data: &Data<Context>,
    me: &Actor,
    filter_id: &str,
) -> Result<Vec<FilterStatus>> {
    Ok(get(data, me, filter_id).await?.statuses)
}

/// Adds a status the account may see to one of its filters (a status
/// already there is answered as it is).
pub async fn add_status(
    data: &Data<Context>,
    me: &Actor,
    filter_id: &str,
    status_id: &str,
) -> Result<FilterStatus> {
    let filter = get(data, me, filter_id).await?;
    let item = crate::service::timelines::item_by_id(data, Some(me), status_id)
        .await
        .map_err(|e| e.with_kind(crate::error::ErrorKind::NotFound))?;
    let row = FilterStatus {
        id: db::new_id(),
        filter_id: filter.filter.id,
        post_id: item.post().id.clone(),
        created_at: db::now(),
    };
    let stored = data
        .db
        .run(move |conn| Ok(FilterStatus::insert(conn, &row)?))
        .await?;
    changed(data, &me.id).await?;
    Ok(stored)
}

/// One status of the account's filters; another's answers `NotFound`.
pub async fn status(data: &Data<Context>, me: &Actor, id: &str) -> Result<FilterStatus> {
    let (me, id) = (me.id.clone(), id.to_string());
    data.db
        .run(move |conn| {
            let row = FilterStatus::by_id(conn, &id)?.ok_or_else(not_found)?;
            Filter::owned(conn, &me, &row.filter_id)?.ok_or_else(not_found)?;
            Ok(row)
        })
        .await
}

pub async fn delete_status(data: &Data<Context>, me: &Actor, id: &str) -> Result<()> {
    let row = status(data, me, id).await?;
    data.db
        .run(move |conn| Ok(FilterStatus::delete(conn, &row.id)?))
        .await?;
    changed(data, &me.id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contexts_and_actions_are_checked() {
        assert!(check_context(&[]).is_err());
        assert!(check_context(&["home".into(), "nowhere".into()]).is_err());
        assert_eq!(
            check_context(&["home".into(), "public".into(), "home".into()]).unwrap(),
            "home,public"
        );
        assert!(check_action("warn").is_ok() && check_action("hide").is_ok());
        assert!(check_action("explode").is_err());
        assert!(check_title("  ").is_err());
        assert!(check_keyword("").is_err());
    }
}
