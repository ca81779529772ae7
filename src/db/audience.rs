//! One post's audience among many readers at once: the batch form of
//! `timeline::*_contains`, for the streaming dispatcher.
//!
//! `*_contains` asks one reader's timeline query about one post; with
//! 10,000 connected readers that is 10,000 queries per event, run one after
//! another, and an event took seconds to reach the last of them. Here the
//! same rules are decided for one post and a whole list of readers with a
//! handful of queries (a few per 1,000 readers): the facts of the post
//! that the rules look at (its author's domain, its mentions and hashtags)
//! and the readers' own rows those rules join (blocks, mutes and domain
//! blocks of its author, follows of its author and community). The rules
//! are then applied in memory, clause by clause as `timeline.rs` writes
//! them; a change to a rule there must be made here too (the streaming
//! column of the visibility table, `tests/integration/streaming_visibility.rs`,
//! checks both against each other).

use super::{
    actor::Actor,
    post::Post,
    schema::{
        account_marks, actors, followed_tags, follows, list_members, lists, post_tags, posts,
        reactions,
    },
    timeline::Origin,
    DbConn,
};
use diesel::prelude::*;
use std::collections::HashSet;

/// Readers per query: well under both backends' bind-parameter limits.
const CHUNK: usize = 1_000;

/// What the timelines' rules need to know about one post and a set of
/// readers.
#[derive(Debug)]
pub struct Audience {
    pub post: Post,
    /// The author's domain (`None` when the author's row is gone).
    author_domain: Option<String>,
    /// `href`s of the post's mentions.
    mentions: HashSet<String>,
    /// The post's hashtags, lowercase.
    hashtags: HashSet<String>,
    /// Readers who blocked or muted the author, or blocked its domain.
    hidden: HashSet<String>,
    /// Readers who follow the author (accepted).
    followers: HashSet<String>,
    /// Readers who follow the post's community (accepted).
    members: HashSet<String>,
    /// Readers who follow one of the post's hashtags.
    tag_followers: HashSet<String>,
    /// Readers with the author in one of their exclusive lists: the post
    /// stays out of their home.
    excluded: HashSet<String>,
    /// Readers with a reaction (like, boost) or a bookmark or pin on the
    /// post: the only ones whose rendering of it differs from a stranger's.
    involved: HashSet<String>,
}

impl Audience {
    /// Loads the post and what `readers` have to do with it; `None` when
    /// the post does not exist, or was deleted and `deleted_too` is false.
    pub fn load(
        conn: &mut DbConn,
        post_id: &str,
        readers: &[String],
        deleted_too: bool,
    ) -> QueryResult<Option<Audience>> {
        let mut q = posts::table
            .filter(posts::id.eq(post_id.to_string()))
            .into_boxed();
        if !deleted_too {
            q = q.filter(posts::deleted_at.is_null());
        }
        let Some(post) = q.first::<Post>(conn).optional()? else {
            return Ok(None);
        };
        let author_domain: Option<String> = actors::table
            .filter(actors::id.eq(&post.author_id))
            .select(actors::domain)
            .first::<String>(conn)
            .optional()?;
        let tags: Vec<(String, String, String)> = post_tags::table
            .filter(post_tags::post_id.eq(&post.id))
            .select((post_tags::kind, post_tags::href, post_tags::name))
            .load(conn)?;
        let mut mentions = HashSet::new();
        let mut hashtags = HashSet::new();
        for (kind, href, name) in tags {
            match kind.as_str() {
                "mention" => {
                    mentions.insert(href);
                }
                // Tag timelines compare the stored name with the asked
                // tag lowercased: a stored name is matched as it is.
                "hashtag" => {
                    hashtags.insert(name);
                }
                _ => {}
            }
        }
        let mut audience = Audience {
            post,
            author_domain,
            mentions,
            hashtags,
            hidden: HashSet::new(),
            followers: HashSet::new(),
            members: HashSet::new(),
            tag_followers: HashSet::new(),
            excluded: HashSet::new(),
            involved: HashSet::new(),
        };
        audience.load_post_side(conn)?;
        // Follows are the one set that can be far larger than the readers
        // connected (an author with 100,000 followers, ten of them
        // reading): asked among the readers when they are few, else from
        // the author's side in one query.
        if readers.len() <= CHUNK {
            audience.load_follows(conn, Some(readers))?;
        } else {
            audience.load_follows(conn, None)?;
        }
        Ok(Some(audience))
    }

    /// The sets asked from the post's side, one indexed query each
    /// whatever the number of readers: who blocks or mutes its author or
    /// blocks the author's domain, who follows one of its hashtags, whose
    /// exclusive lists hold the author, who reacted to it, bookmarked or
    /// pinned it. Each is a superset of the readers concerned; they are
    /// only ever asked whether they hold a reader.
    fn load_post_side(&mut self, conn: &mut DbConn) -> QueryResult<()> {
        let post = &self.post;
        let hidden: Vec<String> = account_marks::table
            .filter(account_marks::target_id.eq(&post.author_id))
            .filter(account_marks::kind.eq_any(["block", "mute"]))
            .select(account_marks::actor_id)
            .load(conn)?;
        self.hidden.extend(hidden);
        if let Some(domain) = &self.author_domain {
            let blocked: Vec<String> = account_marks::table
                .filter(account_marks::target_id.eq(domain))
                .filter(account_marks::kind.eq("domain_block"))
                .select(account_marks::actor_id)
                .load(conn)?;
            self.hidden.extend(blocked);
        }
        if !self.hashtags.is_empty() {
            let names: Vec<String> = self.hashtags.iter().cloned().collect();
            let following: Vec<String> = followed_tags::table
                .filter(followed_tags::name.eq_any(&names))
                .select(followed_tags::account_id)
                .load(conn)?;
            self.tag_followers.extend(following);
        }
        let excluding: Vec<String> = list_members::table
            .inner_join(lists::table)
            .filter(list_members::account_id.eq(&post.author_id))
            .filter(lists::exclusive.eq(true))
            .filter(lists::account_id.ne(&post.author_id))
            .select(lists::account_id)
            .load(conn)?;
        self.excluded.extend(excluding);
        let reacted: Vec<String> = reactions::table
            .filter(reactions::post_id.eq(&post.id))
            .select(reactions::actor_id)
            .load(conn)?;
        self.involved.extend(reacted);
        let marked: Vec<String> = account_marks::table
            .filter(account_marks::target_id.eq(&post.id))
            .filter(account_marks::kind.eq_any(["bookmark", "pin"]))
            .select(account_marks::actor_id)
            .load(conn)?;
        self.involved.extend(marked);
        Ok(())
    }

    /// Accepted follows of the author and of the post's community: among
    /// `readers` (in chunks), or all of them (`None`).
    fn load_follows(&mut self, conn: &mut DbConn, readers: Option<&[String]>) -> QueryResult<()> {
        let post = &self.post;
        let mut followees = vec![post.author_id.clone()];
        followees.extend(post.community_id.clone());
        let query = || {
            follows::table
                .filter(follows::state.eq("accepted"))
                .filter(follows::followee_id.eq_any(followees.clone()))
                .select((follows::follower_id, follows::followee_id))
                .into_boxed()
        };
        let follows: Vec<(String, String)> = match readers {
            Some(readers) => {
                let mut all = Vec::new();
                for chunk in readers.chunks(CHUNK) {
                    all.extend(query().filter(follows::follower_id.eq_any(chunk)).load::<(
                        String,
                        String,
                    )>(
                        conn
                    )?);
                }
                all
            }
            None => query().load(conn)?,
        };
        for (follower, followee) in follows {
            if followee == post.author_id {
                self.followers.insert(follower.clone());
            }
            if post.community_id.as_ref() == Some(&followee) {
                self.members.insert(follower);
            }
        }
        Ok(())
    }

    fn hides(&self, reader: &Actor) -> bool {
        self.hidden.contains(&reader.id)
    }

    /// `timeline::home_contains`: not hidden (nor by an exclusive list),
    /// and the reader's own post, a followed author's (not direct), shared
    /// in a community followed, mentioning the reader, or public with a
    /// hashtag the reader follows.
    pub fn on_home(&self, reader: &Actor) -> bool {
        let post = &self.post;
        !self.hides(reader)
            && !self.excluded.contains(&reader.id)
            && (post.author_id == reader.id
                || (self.followers.contains(&reader.id) && post.visibility != "direct")
                || (post.community_id.is_some() && self.members.contains(&reader.id))
                || self.mentions.contains(reader.ap_id.0.as_str())
                || (post.visibility == "public" && self.tag_followers.contains(&reader.id)))
    }

    /// Whether the reader follows the post's community: the `joined` of
    /// `service::timelines::home_entry`.
    pub fn joined(&self, reader: &Actor) -> Vec<String> {
        match &self.post.community_id {
            Some(c) if self.members.contains(&reader.id) => vec![c.clone()],
            _ => Vec::new(),
        }
    }

    /// `timeline::public_contains` with a reader.
    pub fn on_public(&self, reader: &Actor, origin: Origin) -> bool {
        let post = &self.post;
        let visible = post.visibility == "public" || (post.visibility == "local" && reader.local);
        let origin_ok = match origin {
            Origin::All => true,
            Origin::Local => post.local,
            Origin::Remote => !post.local,
        };
        visible && origin_ok && !self.hides(reader)
    }

    /// `timeline::tag_contains` with a reader (`tag` without `#`).
    pub fn on_tag(&self, reader: &Actor, tag: &str, origin: Origin) -> bool {
        self.hashtags.contains(&tag.to_lowercase()) && self.on_public(reader, origin)
    }

    /// `timeline::direct_contains`.
    pub fn on_direct(&self, reader: &Actor) -> bool {
        let post = &self.post;
        post.visibility == "direct"
            && post.community_id.is_none()
            && (post.author_id == reader.id || self.mentions.contains(reader.ap_id.0.as_str()))
    }

    /// Whether the post renders for this reader as for any stranger to it
    /// (no like, boost, bookmark or pin of theirs on it: the only
    /// reader-specific parts of a status).
    pub fn renders_as_stranger(&self, reader: &Actor) -> bool {
        !self.involved.contains(&reader.id)
    }
}
