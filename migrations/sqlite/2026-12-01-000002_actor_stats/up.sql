-- Counts shown on accounts (statuses, followers, following, last post),
-- kept up to date by the storage layer (db/stats.rs) where posts and
-- follows change, so pages of the client API count nothing.
CREATE TABLE actor_stats (
    actor_id TEXT PRIMARY KEY NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    statuses_count BIGINT NOT NULL DEFAULT 0,
    followers_count BIGINT NOT NULL DEFAULT 0,
    following_count BIGINT NOT NULL DEFAULT 0,
    last_status_at TIMESTAMP
);

INSERT INTO actor_stats (actor_id, statuses_count, followers_count, following_count, last_status_at)
SELECT a.id,
    (SELECT COUNT(*) FROM posts p
        WHERE p.author_id = a.id AND p.deleted_at IS NULL AND p.visibility IN ('public', 'unlisted')),
    (SELECT COUNT(*) FROM follows f WHERE f.followee_id = a.id AND f.state = 'accepted'),
    (SELECT COUNT(*) FROM follows f WHERE f.follower_id = a.id AND f.state = 'accepted'),
    (SELECT MAX(p.published) FROM posts p WHERE p.author_id = a.id AND p.deleted_at IS NULL)
FROM actors a;
