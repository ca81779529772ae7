//! Posts: local narrations (Note, Article) and remote Notes, Articles and
//! Pages, with their hashtags and mentions.

use super::{
    marks::PostEdit,
    notification::Notification,
    schema::{post_tags, posts},
    stats, DbConn, DbUrl,
};
use diesel::prelude::*;

/// Who may see a post (DESIGN §4 Visibility).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Visibility {
    /// Addressed to Public: everywhere.
    Public,
    /// Public cc'd: anyone with the link, kept out of public timelines.
    Unlisted,
    /// The author's followers only.
    Followers,
    /// The mentioned actors only.
    Direct,
    /// The organisation's own people only: never federated.
    Local,
    /// Local, and kept out of the public timelines like `Unlisted`: what a
    /// Mastodon app asks for with `visibility=unlisted&local_only=true`.
    LocalUnlisted,
}

impl Visibility {
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Unlisted => "unlisted",
            Visibility::Followers => "followers",
            Visibility::Direct => "direct",
            Visibility::Local => "local",
            Visibility::LocalUnlisted => "local_unlisted",
        }
    }

    pub fn parse(s: &str) -> Option<Visibility> {
        Some(match s {
            "public" => Visibility::Public,
            "unlisted" => Visibility::Unlisted,
            "followers" | "private" => Visibility::Followers,
            "direct" => Visibility::Direct,
            "local" => Visibility::Local,
            "local_unlisted" => Visibility::LocalUnlisted,
            _ => return None,
        })
    }

    /// Public and unlisted posts may be shown to anyone who asks.
    pub fn is_public(self) -> bool {
        matches!(self, Visibility::Public | Visibility::Unlisted)
    }

    /// Never federated, never served to remote requests: for the
    /// organisation's own people.
    pub fn is_local_only(self) -> bool {
        matches!(self, Visibility::Local | Visibility::LocalUnlisted)
    }
}

/// The ActivityStreams type of a post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PostKind {
    Note,
    Article,
    Page,
}

impl PostKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PostKind::Note => "Note",
            PostKind::Article => "Article",
            PostKind::Page => "Page",
        }
    }

    pub fn parse(s: &str) -> Option<PostKind> {
        Some(match s {
            "Note" => PostKind::Note,
            "Article" => PostKind::Article,
            "Page" => PostKind::Page,
            _ => return None,
        })
    }
}

/// The kind of a narration (issue 13 §1): what a reader filters by, and
/// what the kind hashtag (`#learned`) or Outloud's `narrationKind` term
/// says on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NarrationKind {
    Doing,
    Learned,
    Stuck,
    Ask,
}

impl NarrationKind {
    /// Every kind, in the order the composer and the filters offer them.
    pub const ALL: [NarrationKind; 4] = [
        NarrationKind::Doing,
        NarrationKind::Learned,
        NarrationKind::Stuck,
        NarrationKind::Ask,
    ];

    /// The stored value, which is also the hashtag's name and the wire value.
    pub fn as_str(self) -> &'static str {
        match self {
            NarrationKind::Doing => "doing",
            NarrationKind::Learned => "learned",
            NarrationKind::Stuck => "stuck",
            NarrationKind::Ask => "ask",
        }
    }

    /// Reads a kind case-insensitively (hashtags are written any way);
    /// anything else is `None`.
    pub fn parse(s: &str) -> Option<NarrationKind> {
        NarrationKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
    }

    /// The kind of a narration: an explicit choice (the web composer's, or
    /// a peer's `narrationKind`) wins; else the first kind hashtag among
    /// `hashtags` (names with or without `#`, any case, in the order
    /// written); else none. The one rule for local posts
    /// (`service::narrations::kind_of`) and received ones (`apub::objects`).
    pub fn of(explicit: Option<NarrationKind>, hashtags: &[String]) -> Option<NarrationKind> {
        explicit.or_else(|| {
            hashtags
                .iter()
                .find_map(|tag| NarrationKind::parse(tag.trim_start_matches('#')))
        })
    }
}

/// One row of `posts`. Edits write a [`PostChanges`], never the whole row.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = posts)]
pub struct Post {
    pub id: String,
    pub ap_id: DbUrl,
    pub author_id: String,
    pub kind: String,
    pub visibility: String,
    /// `name`: an Article's title.
    pub title: Option<String>,
    /// Sanitized HTML.
    pub content: String,
    /// The Markdown the content was rendered from (local posts).
    pub source: Option<String>,
    /// Content warning.
    pub summary: Option<String>,
    pub sensitive: bool,
    pub language: Option<String>,
    /// The id of the post this one answers.
    pub in_reply_to: Option<String>,
    /// The id of the thread's first post (`context`).
    pub thread: Option<String>,
    pub url: Option<String>,
    /// `to` and `cc` as JSON arrays of URLs, as received or sent.
    pub to_json: String,
    pub cc_json: String,
    pub local: bool,
    pub published: chrono::NaiveDateTime,
    pub updated: Option<chrono::NaiveDateTime>,
    pub deleted_at: Option<chrono::NaiveDateTime>,
    /// The community the post was shared in (a Group actor).
    pub community_id: Option<String>,
    /// Title and content as plain text, for full-text search; `insert` and
    /// `update` derive it, whatever the caller set.
    pub search_text: Option<String>,
    /// What kind of narration it is ([`NarrationKind`]), if any. Not
    /// `kind`: that column holds the ActivityStreams type.
    pub narration_kind: Option<String>,
}

/// The columns an edit may change. Which community a post is shared in,
/// and whether it is deleted, are set by their own statements and never
/// from a copy read earlier: the same post arriving from its author and,
/// at the same moment, from a community sharing it would otherwise undo
/// the community link (a lost update on PostgreSQL).
#[derive(AsChangeset)]
#[diesel(table_name = posts)]
#[diesel(treat_none_as_null = true)]
struct PostChanges<'a> {
    kind: &'a str,
    visibility: &'a str,
    title: Option<&'a str>,
    content: &'a str,
    source: Option<&'a str>,
    summary: Option<&'a str>,
    sensitive: bool,
    language: Option<&'a str>,
    in_reply_to: Option<&'a str>,
    thread: Option<&'a str>,
    url: Option<&'a str>,
    to_json: &'a str,
    cc_json: &'a str,
    updated: Option<chrono::NaiveDateTime>,
    search_text: Option<&'a str>,
    narration_kind: Option<&'a str>,
}

impl<'a> PostChanges<'a> {
    fn of(post: &'a Post) -> PostChanges<'a> {
        PostChanges {
            kind: &post.kind,
            visibility: &post.visibility,
            title: post.title.as_deref(),
            content: &post.content,
            source: post.source.as_deref(),
            summary: post.summary.as_deref(),
            sensitive: post.sensitive,
            language: post.language.as_deref(),
            in_reply_to: post.in_reply_to.as_deref(),
            thread: post.thread.as_deref(),
            url: post.url.as_deref(),
            to_json: &post.to_json,
            cc_json: &post.cc_json,
            updated: post.updated,
            search_text: post.search_text.as_deref(),
            narration_kind: post.narration_kind.as_deref(),
        }
    }
}

/// A hashtag or mention of a post.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable, Insertable)]
#[diesel(table_name = post_tags)]
pub struct PostTag {
    pub post_id: String,
    /// `hashtag` or `mention`.
    pub kind: String,
    /// The tag without `#` (lower-case), or the mention's `@name@host`.
    pub name: String,
    /// The tag page or the mentioned actor's id.
    pub href: String,
}

impl Post {
    pub fn visibility(&self) -> Visibility {
        Visibility::parse(&self.visibility).unwrap_or(Visibility::Direct)
    }

    pub fn kind(&self) -> PostKind {
        PostKind::parse(&self.kind).unwrap_or(PostKind::Note)
    }

    /// The narration's kind, if it has one.
    pub fn narration_kind(&self) -> Option<NarrationKind> {
        self.narration_kind
            .as_deref()
            .and_then(NarrationKind::parse)
    }

    pub fn is_deleted(&self) -> bool {
        self.deleted_at.is_some()
    }

    /// `to` followed by `cc`.
    pub fn addressees(&self) -> Vec<String> {
        let mut all: Vec<String> = serde_json::from_str(&self.to_json).unwrap_or_default();
        all.extend(serde_json::from_str::<Vec<String>>(&self.cc_json).unwrap_or_default());
        all
    }

    pub fn insert(conn: &mut DbConn, post: &Post, tags: &[PostTag]) -> QueryResult<()> {
        diesel::insert_into(posts::table)
            .values(&post.with_search_text())
            .execute(conn)?;
        Post::replace_tags(conn, &post.id, tags)?;
        if !post.is_deleted() {
            super::events::emit(
                conn,
                super::events::StreamEvent::Posted {
                    post: post.id.clone(),
                },
            )?;
            Notification::notify_mentioned(conn, &post.id, &post.author_id)?;
            stats::adjust(
                conn,
                &post.author_id,
                stats::Delta {
                    statuses: i64::from(post.counts_in_stats()),
                    posted_at: Some(post.published),
                    ..Default::default()
                },
            )?;
        }
        Ok(())
    }

    /// Whether the post counts in its author's `statuses_count`: public and
    /// unlisted posts, as other servers see them.
    fn counts_in_stats(&self) -> bool {
        !self.is_deleted() && self.visibility().is_public()
    }

    /// Overwrites a post (matched by `id`) and its tags, all but its
    /// community and deletion (see [`PostChanges`]).
    /// When the text changed, the previous version is kept in `post_edits`
    /// and whoever liked or boosted the post is notified.
    pub fn update(conn: &mut DbConn, post: &Post, tags: &[PostTag]) -> QueryResult<()> {
        let before = Post::by_id(conn, &post.id)?;
        diesel::update(posts::table.find(&post.id))
            .set(&PostChanges::of(&post.with_search_text()))
            .execute(conn)?;
        Post::replace_tags(conn, &post.id, tags)?;
        super::events::emit(
            conn,
            super::events::StreamEvent::Edited {
                post: post.id.clone(),
            },
        )?;
        if let Some(before) = &before {
            let change = i64::from(post.counts_in_stats()) - i64::from(before.counts_in_stats());
            stats::adjust(
                conn,
                &post.author_id,
                stats::Delta {
                    statuses: change,
                    ..Default::default()
                },
            )?;
        }
        if let Some(before) = before.filter(|b| {
            !b.is_deleted()
                && (b.content != post.content || b.title != post.title || b.summary != post.summary)
        }) {
            PostEdit::insert(
                conn,
                &PostEdit {
                    id: super::new_id(),
                    post_id: before.id.clone(),
                    title: before.title.clone(),
                    content: before.content.clone(),
                    summary: before.summary.clone(),
                    sensitive: before.sensitive,
                    created_at: before.updated.unwrap_or(before.published),
                },
            )?;
            Notification::notify_edited(conn, &post.id, &post.author_id)?;
        }
        Ok(())
    }

    /// A copy whose `search_text` is the plain text of title and content.
    fn with_search_text(&self) -> Post {
        let mut text = self.title.clone().unwrap_or_default();
        text.push(' ');
        // A space before each tag keeps words of adjacent paragraphs apart.
        text.push_str(&crate::text::strip_html(&self.content.replace('<', " <")));
        Post {
            search_text: Some(text.trim().to_string()),
            ..self.clone()
        }
    }

    fn replace_tags(conn: &mut DbConn, post_id: &str, tags: &[PostTag]) -> QueryResult<()> {
        diesel::delete(post_tags::table.filter(post_tags::post_id.eq(post_id))).execute(conn)?;
        let mut seen = std::collections::HashSet::new();
        for tag in tags
            .iter()
            .filter(|t| seen.insert((t.kind.clone(), t.href.clone())))
        {
            diesel::insert_into(post_tags::table)
                .values(tag)
                .execute(conn)?;
        }
        Ok(())
    }

    /// Marks a post deleted: content cleared, the row kept as a tombstone
    /// so its id answers 410 and replies keep their place in the thread.
    pub fn mark_deleted(conn: &mut DbConn, id: &str) -> QueryResult<usize> {
        super::events::emit(
            conn,
            super::events::StreamEvent::Deleted {
                post: id.to_string(),
            },
        )?;
        if let Some(before) = Post::by_id(conn, id)?.filter(Post::counts_in_stats) {
            stats::adjust(
                conn,
                &before.author_id,
                stats::Delta {
                    statuses: -1,
                    ..Default::default()
                },
            )?;
        }
        diesel::update(posts::table.find(id))
            .set((
                posts::deleted_at.eq(Some(super::now())),
                posts::content.eq(""),
                posts::source.eq(None::<String>),
                posts::title.eq(None::<String>),
                posts::summary.eq(None::<String>),
                posts::search_text.eq(None::<String>),
            ))
            .execute(conn)
    }

    pub fn by_id(conn: &mut DbConn, id: &str) -> QueryResult<Option<Post>> {
        posts::table.find(id).first(conn).optional()
    }

    pub fn by_ap_id(conn: &mut DbConn, ap_id: &url::Url) -> QueryResult<Option<Post>> {
        posts::table
            .filter(posts::ap_id.eq(ap_id.as_str()))
            .first(conn)
            .optional()
    }

    pub fn tags(conn: &mut DbConn, post_id: &str) -> QueryResult<Vec<PostTag>> {
        post_tags::table
            .filter(post_tags::post_id.eq(post_id))
            .order((post_tags::kind.asc(), post_tags::name.asc()))
            .load(conn)
    }

    /// An author's posts of the given visibilities, newest first, before
    /// the id `before` when given (keyset pagination on time-ordered ids).
    pub fn list_by_author(
        conn: &mut DbConn,
        author_id: &str,
        visibilities: &[Visibility],
        before: Option<&str>,
        limit: i64,
    ) -> QueryResult<Vec<Post>> {
        let vis: Vec<&str> = visibilities.iter().map(|v| v.as_str()).collect();
        let mut query = posts::table
            .filter(posts::author_id.eq(author_id))
            .filter(posts::visibility.eq_any(vis))
            .filter(posts::deleted_at.is_null())
            .order(posts::id.desc())
            .limit(limit)
            .into_boxed();
        if let Some(before) = before {
            query = query.filter(posts::id.lt(before.to_string()));
        }
        query.load(conn)
    }

    pub fn count_by_author(
        conn: &mut DbConn,
        author_id: &str,
        visibilities: &[Visibility],
    ) -> QueryResult<i64> {
        let vis: Vec<&str> = visibilities.iter().map(|v| v.as_str()).collect();
        posts::table
            .filter(posts::author_id.eq(author_id))
            .filter(posts::visibility.eq_any(vis))
            .filter(posts::deleted_at.is_null())
            .count()
            .get_result(conn)
    }

    /// Replies to a post (by its ActivityPub id), oldest first.
    pub fn replies(conn: &mut DbConn, ap_id: &str) -> QueryResult<Vec<Post>> {
        posts::table
            .filter(posts::in_reply_to.eq(ap_id))
            .order(posts::id.asc())
            .load(conn)
    }

    /// Number of local, non-deleted posts (NodeInfo `localPosts`).
    pub fn count_local(conn: &mut DbConn) -> QueryResult<i64> {
        posts::table
            .filter(posts::local.eq(true))
            .filter(posts::deleted_at.is_null())
            .count()
            .get_result(conn)
    }
}

impl Post {
    /// Links a post to the community it was accepted into, with its content
    /// cleaned of the leading community mention.
    pub fn link_to_community(
        conn: &mut DbConn,
        post_id: &str,
        community_id: &str,
        content: &str,
    ) -> QueryResult<usize> {
        super::events::emit(
            conn,
            super::events::StreamEvent::Shared {
                post: post_id.to_string(),
            },
        )?;
        diesel::update(posts::table.find(post_id))
            .set((
                posts::community_id.eq(Some(community_id)),
                posts::content.eq(content),
            ))
            .execute(conn)
    }

    /// Posts shared in a community, newest first.
    pub fn list_in_community(
        conn: &mut DbConn,
        community_id: &str,
        before: Option<&str>,
        limit: i64,
    ) -> QueryResult<Vec<Post>> {
        let mut query = posts::table
            .filter(posts::community_id.eq(community_id))
            .filter(posts::deleted_at.is_null())
            .order(posts::id.desc())
            .limit(limit)
            .into_boxed();
        if let Some(before) = before {
            query = query.filter(posts::id.lt(before.to_string()));
        }
        query.load(conn)
    }
}

impl Post {
    /// Records the (remote) community a post was shared in.
    pub fn set_community(
        conn: &mut DbConn,
        post_id: &str,
        community_id: &str,
    ) -> QueryResult<usize> {
        super::events::emit(
            conn,
            super::events::StreamEvent::Shared {
                post: post_id.to_string(),
            },
        )?;
        diesel::update(posts::table.find(post_id))
            .set(posts::community_id.eq(Some(community_id)))
            .execute(conn)
    }
}

impl Post {
    /// Takes a post out of the community it was shared in (a moderator
    /// removed it there; the author's original stays).
    pub fn clear_community(conn: &mut DbConn, post_id: &str) -> QueryResult<usize> {
        diesel::update(posts::table.find(post_id))
            .set(posts::community_id.eq(None::<String>))
            .execute(conn)
    }
}

impl Post {
    /// When the latest post was shared in a community.
    pub fn last_in_community(
        conn: &mut DbConn,
        community_id: &str,
    ) -> QueryResult<Option<chrono::NaiveDateTime>> {
        posts::table
            .filter(posts::community_id.eq(community_id))
            .filter(posts::deleted_at.is_null())
            .select(diesel::dsl::max(posts::published))
            .first(conn)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        db::{migrations, new_id, now},
        service::accounts::{create_user, NewUser},
        testing::for_each_backend,
        urls::Urls,
    };

    /// An edit read before a community link was made must not undo it
    /// (nor undelete a post deleted meanwhile).
    #[test]
    fn edits_keep_community_and_deletion() {
        for_each_backend("post_update", |db| {
            let mut conn = db.get().unwrap();
            migrations::run_pending(&mut conn).unwrap();
            drop(conn);
            let urls = Urls::new("http", "alpha.localhost:1").unwrap();
            let rt = tokio::runtime::Runtime::new().unwrap();
            let user = |name| NewUser {
                name,
                password: "long enough",
                role: crate::db::local_user::Role::User,
            };
            let author = rt.block_on(create_user(db, &urls, user("ana"))).unwrap();
            let group = rt.block_on(create_user(db, &urls, user("rust"))).unwrap();
            let mut conn = db.get().unwrap();
            let post = Post {
                id: new_id(),
                ap_id: DbUrl(url::Url::parse("http://alpha.localhost:1/objects/1").unwrap()),
                author_id: author.id.clone(),
                kind: PostKind::Note.as_str().into(),
                visibility: Visibility::Public.as_str().into(),
                title: None,
                content: "<p>first</p>".into(),
                source: None,
                summary: None,
                sensitive: false,
                language: None,
                in_reply_to: None,
                thread: None,
                url: None,
                to_json: "[]".into(),
                cc_json: "[]".into(),
                local: false,
                published: now(),
                updated: None,
                deleted_at: None,
                community_id: None,
                search_text: None,
                narration_kind: None,
            };
            Post::insert(&mut conn, &post, &[]).unwrap();
            let stale = Post::by_id(&mut conn, &post.id).unwrap().unwrap();
            Post::set_community(&mut conn, &post.id, &group.id).unwrap();
            let edited = Post {
                content: "<p>second</p>".into(),
                ..stale.clone()
            };
            Post::update(&mut conn, &edited, &[]).unwrap();
            let now_stored = Post::by_id(&mut conn, &post.id).unwrap().unwrap();
            assert_eq!(now_stored.content, "<p>second</p>");
            assert_eq!(now_stored.community_id.as_deref(), Some(group.id.as_str()));

            Post::mark_deleted(&mut conn, &post.id).unwrap();
            Post::update(&mut conn, &stale, &[]).unwrap();
            let now_stored = Post::by_id(&mut conn, &post.id).unwrap().unwrap();
            assert!(now_stored.is_deleted());
        });
    }
}
