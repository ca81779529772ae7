//! The one matching function every timeline, notification list, stream
//! and status conversion uses: a reader's filters in force ([`Active`])
//! and whether they warn about or hide a status.

use super::{with_rules, FilterContext, FullFilter};
use crate::{
    apub::Data,
    context::Context,
    db::{self, actor::Actor, filter::Filter, media::MediaAttachment, post::Post, DbConn},
    error::Result,
    service::timelines::Item,
};
use diesel::QueryResult;
use std::collections::HashMap;

/// What matched one filter on one status (Mastodon's FilterResult).
#[derive(Debug, Clone)]
pub struct FilterMatch<'a> {
    pub filter: &'a FullFilter,
    /// The filter's keywords found in the status, as stored.
    pub keyword_matches: Vec<String>,
    /// The status ids the filter names that the status is.
    pub status_matches: Vec<String>,
}

/// A reader's filters in force (not expired), loaded once per request.
#[derive(Debug, Clone, Default)]
pub struct Active {
    pub filters: Vec<FullFilter>,
}

impl Active {
    /// The filters of `account_id` in force now: one query when there
    /// are none.
    pub fn load(conn: &mut DbConn, account_id: &str) -> QueryResult<Active> {
        let filters = Filter::active(conn, account_id, db::now())?;
        Ok(Active {
            filters: with_rules(conn, filters)?,
        })
    }

    /// [`Active::load`] for a reader who may be signed out (no filters).
    pub fn of_viewer(conn: &mut DbConn, viewer: Option<&Actor>) -> QueryResult<Active> {
        match viewer {
            Some(v) if v.local => Active::load(conn, &v.id),
            _ => Ok(Active::default()),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.filters.is_empty()
    }

    /// Every filter that matches the post, in any context (Mastodon's
    /// `filtered` names them all with their contexts; apps show the
    /// warning where the context applies). `descriptions` are the alt
    /// texts of its media.
    pub fn matches<'a>(&'a self, post: &Post, descriptions: &[&str]) -> Vec<FilterMatch<'a>> {
        if self.filters.is_empty() {
            return Vec::new();
        }
        let text = searchable_text(post, descriptions);
        self.filters
            .iter()
            .filter_map(|f| {
                let keyword_matches: Vec<String> = f
                    .keywords
                    .iter()
                    .filter(|k| keyword_matches(&text, &k.keyword, k.whole_word))
                    .map(|k| k.keyword.clone())
                    .collect();
                let status_matches: Vec<String> = f
                    .statuses
                    .iter()
                    .filter(|s| s.post_id == post.id)
                    .map(|s| s.post_id.clone())
                    .collect();
                (!keyword_matches.is_empty() || !status_matches.is_empty()).then_some(FilterMatch {
                    filter: f,
                    keyword_matches,
                    status_matches,
                })
            })
            .collect()
    }

    /// Whether a `hide` filter of `context` matches the post.
    pub fn hides(&self, context: FilterContext, post: &Post, descriptions: &[&str]) -> bool {
        if !self
            .filters
            .iter()
            .any(|f| f.hides() && f.applies_in(context))
        {
            return false;
        }
        self.matches(post, descriptions)
            .iter()
            .any(|m| m.filter.hides() && m.filter.applies_in(context))
    }

    /// Whether any filter hides something in `context`.
    pub fn hides_in(&self, context: FilterContext) -> bool {
        self.filters
            .iter()
            .any(|f| f.hides() && f.applies_in(context))
    }
}

/// The alt texts of each post's media, in one query.
pub fn descriptions_of(
    conn: &mut DbConn,
    posts: &[&Post],
) -> QueryResult<HashMap<String, Vec<String>>> {
    let ids: Vec<String> = posts.iter().map(|p| p.id.clone()).collect();
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    for m in MediaAttachment::of_posts(conn, &ids)? {
        if let (Some(post_id), Some(description)) = (m.post_id, m.description) {
            out.entry(post_id).or_default().push(description);
        }
    }
    Ok(out)
}

/// The items of a timeline without those a `hide` filter of `context`
/// of the viewer matches (a boost or share by the post it shows). One
/// query for a viewer without filters.
pub fn drop_hidden(
    conn: &mut DbConn,
    viewer: Option<&Actor>,
    context: FilterContext,
    items: Vec<Item>,
) -> QueryResult<Vec<Item>> {
    let active = Active::of_viewer(conn, viewer)?;
    if !active.hides_in(context) || items.is_empty() {
        return Ok(items);
    }
    let posts: Vec<&Post> = items.iter().map(Item::post).collect();
    let descriptions = descriptions_of(conn, &posts)?;
    Ok(items
        .into_iter()
        .filter(|item| {
            let post = item.post();
            let d: Vec<&str> = descriptions
                .get(&post.id)
                .map(|v| v.iter().map(String::as_str).collect())
                .unwrap_or_default();
            !active.hides(context, post, &d)
        })
        .collect())
}

/// Whether a `hide` filter of `context` of the viewer matches the post.
pub fn hides_post(
    conn: &mut DbConn,
    viewer: &Actor,
    context: FilterContext,
    post: &Post,
) -> QueryResult<bool> {
    let active = Active::of_viewer(conn, Some(viewer))?;
    if !active.hides_in(context) {
        return Ok(false);
    }
    let descriptions = descriptions_of(conn, &[post])?;
    let d: Vec<&str> = descriptions
        .get(&post.id)
        .map(|v| v.iter().map(String::as_str).collect())
        .unwrap_or_default();
    Ok(active.hides(context, post, &d))
}

/// Which of these readers have filters in force (the streaming
/// dispatcher renders for them alone).
pub async fn readers_with_filters(
    data: &Data<Context>,
    ids: Vec<String>,
) -> Result<std::collections::HashSet<String>> {
    data.db
        .run(move |conn| {
            Ok(Filter::accounts_with_active(conn, &ids, db::now())?
                .into_iter()
                .collect())
        })
        .await
}

/// [`drop_hidden`] for a list of posts.
pub fn drop_hidden_posts(
    conn: &mut DbConn,
    viewer: Option<&Actor>,
    context: FilterContext,
    posts: Vec<Post>,
) -> QueryResult<Vec<Post>> {
    Ok(drop_hidden(
        conn,
        viewer,
        context,
        posts.into_iter().map(Item::Post).collect(),
    )?
    .into_iter()
    .map(Item::into_post)
    .collect())
}

/// What a filter matches against: the content warning, the text without
/// markup, an article's title and the media descriptions, as Mastodon's
/// `searchable_text`.
pub fn searchable_text(post: &Post, descriptions: &[&str]) -> String {
    let mut parts: Vec<String> = Vec::new();
    if let Some(summary) = &post.summary {
        parts.push(summary.clone());
    }
    if let Some(title) = &post.title {
        parts.push(title.clone());
    }
    parts.push(crate::text::strip_html(&post.content));
    parts.extend(descriptions.iter().map(|d| d.to_string()));
    parts.join("\n\n")
}

fn is_word_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Whether `keyword` occurs in `text`, ignoring case. With `whole_word`,
/// as Mastodon's `\b…\b`: a keyword that begins (ends) with a word
/// character must not have one just before (after) it; "cat" matches
/// "a cat." but not "concatenate", "#cat" matches "the #cat".
pub fn keyword_matches(text: &str, keyword: &str, whole_word: bool) -> bool {
    let keyword = keyword.trim().to_lowercase();
    if keyword.is_empty() {
        return false;
    }
    let text = text.to_lowercase();
    if !whole_word {
        return text.contains(&keyword);
    }
    let starts_word = keyword.chars().next().is_some_and(is_word_char);
    let ends_word = keyword.chars().next_back().is_some_and(is_word_char);
    text.match_indices(&keyword).any(|(start, found)| {
        let before = text[..start].chars().next_back();
        let after = text[start + found.len()..].chars().next();
        (!starts_word || !before.is_some_and(is_word_char))
            && (!ends_word || !after.is_some_and(is_word_char))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_words_need_boundaries_where_the_keyword_has_word_characters() {
        assert!(keyword_matches("I saw a cat.", "cat", true));
        assert!(keyword_matches("CAT videos", "cat", true));
        assert!(keyword_matches("(cat)", "Cat", true));
        assert!(!keyword_matches("concatenate", "cat", true));
        assert!(!keyword_matches("cats", "cat", true));
        assert!(!keyword_matches("cat_food", "cat", true));
        assert!(keyword_matches("cats", "cat", false));
        assert!(keyword_matches("concatenate", "CAT", false));
        // A keyword ending in punctuation needs no boundary there.
        assert!(keyword_matches("the #rustlang talk", "#rust", false));
        assert!(!keyword_matches("the #rustlang talk", "#rust", true));
        assert!(keyword_matches("the #rust talk", "#rust", true));
        assert!(keyword_matches("wow!!", "wow!", true));
        // Several words; a later occurrence may be the whole one.
        assert!(keyword_matches("scatter, cat food", "cat food", true));
        // Unicode letters are word characters.
        assert!(!keyword_matches("bärchen", "bär", true));
        assert!(keyword_matches("ein Bär!", "bär", true));
        assert!(!keyword_matches("anything", "  ", true));
    }
}
