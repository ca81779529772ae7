//! Search queries. Full-text search over posts is the one query that must
//! differ per backend: SQLite's FTS5 table `posts_fts` and PostgreSQL's
//! `to_tsvector` index, both over `posts.search_text`.

use super::{
    actor::Actor,
    schema::{actors, post_tags, posts},
    DbConn,
};
use diesel::{prelude::*, sql_types::Text};

/// Posts whose text contains every word of `query`, newest first, limited
/// to the visibilities given. Candidates only: the caller still applies
/// per-viewer visibility.
pub fn posts_matching(
    conn: &mut DbConn,
    query: &str,
    visibilities: &[&str],
    limit: i64,
    offset: i64,
) -> QueryResult<Vec<super::post::Post>> {
    let words: Vec<String> = query
        .split_whitespace()
        .map(|w| {
            w.chars()
                .filter(|c| c.is_alphanumeric())
                .collect::<String>()
        })
        .filter(|w| !w.is_empty())
        .collect();
    if words.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<String> = match conn {
        DbConn::Sqlite(c) => {
            // Each word quoted: FTS5 query syntax never sees user operators.
            let fts: String = words
                .iter()
                .map(|w| format!("\"{w}\""))
                .collect::<Vec<_>>()
                .join(" ");
            diesel::sql_query(
                "SELECT p.id AS id FROM posts_fts f JOIN posts p ON p.rowid = f.rowid \
                 WHERE posts_fts MATCH ? ORDER BY p.id DESC LIMIT 1000",
            )
            .bind::<Text, _>(fts)
            .load::<IdRow>(c)?
            .into_iter()
            .map(|r| r.id)
            .collect()
        }
        DbConn::Postgresql(c) => diesel::sql_query(
            "SELECT id FROM posts WHERE to_tsvector('simple', coalesce(search_text, '')) \
             @@ plainto_tsquery('simple', $1) ORDER BY id DESC LIMIT 1000",
        )
        .bind::<Text, _>(words.join(" "))
        .load::<IdRow>(c)?
        .into_iter()
        .map(|r| r.id)
        .collect(),
    };
    posts::table
        .filter(posts::id.eq_any(ids))
        .filter(posts::deleted_at.is_null())
        .filter(posts::visibility.eq_any(visibilities.to_vec()))
        .order(posts::id.desc())
        .limit(limit)
        .offset(offset)
        .load(conn)
}

#[derive(QueryableByName)]
struct IdRow {
    #[diesel(sql_type = Text)]
    id: String,
}

/// Known people and communities whose name or display name contains
/// `query` (case-insensitively), local ones first.
pub fn actors_matching(
    conn: &mut DbConn,
    query: &str,
    limit: i64,
    offset: i64,
) -> QueryResult<Vec<Actor>> {
    let pattern = format!(
        "%{}%",
        query
            .to_lowercase()
            .replace(['\\', '%'], "")
            .replace('_', "\\_")
    );
    actors::table
        .filter(actors::kind.eq_any(["Person", "Group"]))
        .filter(
            diesel::dsl::sql::<diesel::sql_types::Bool>("(lower(username) LIKE ")
                .bind::<Text, _>(pattern.clone())
                .sql(" ESCAPE '\\' OR lower(coalesce(display_name, '')) LIKE ")
                .bind::<Text, _>(pattern)
                .sql(" ESCAPE '\\')"),
        )
        .order((actors::local.desc(), actors::username.asc()))
        .limit(limit)
        .offset(offset)
        .load(conn)
}

/// Hashtags in use that start with `prefix`.
pub fn hashtags_matching(conn: &mut DbConn, prefix: &str, limit: i64) -> QueryResult<Vec<String>> {
    let prefix: String = prefix
        .trim_start_matches('#')
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '_')
        .collect();
    if prefix.is_empty() {
        return Ok(Vec::new());
    }
    // Only hashtags of posts anyone may read: a tag used only in private
    // posts must not be revealed by its name.
    post_tags::table
        .inner_join(posts::table.on(posts::id.eq(post_tags::post_id)))
        .filter(posts::visibility.eq_any(["public", "unlisted"]))
        .filter(posts::deleted_at.is_null())
        .filter(post_tags::kind.eq("hashtag"))
        .filter(
            post_tags::name.eq(prefix.clone()).or(post_tags::name
                .like(format!("{}%", prefix.replace('_', "\\_")))
                .escape('\\')),
        )
        .select(post_tags::name)
        .distinct()
        .order(post_tags::name.asc())
        .limit(limit)
        .load(conn)
}
