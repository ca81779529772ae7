-- Activity ids already processed: receiving one twice changes nothing.
CREATE TABLE received_activities (
    ap_id TEXT PRIMARY KEY NOT NULL,
    received_at TIMESTAMP NOT NULL
);

-- Follow edges between any two actors; `ap_id` is the Follow activity's id.
CREATE TABLE follows (
    id TEXT PRIMARY KEY NOT NULL,
    ap_id TEXT NOT NULL UNIQUE,
    follower_id TEXT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    followee_id TEXT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    state TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (follower_id, followee_id)
);
CREATE INDEX follows_followee ON follows (followee_id, state);

-- Narrations (Note, Article) and remote Pages, local and remote.
CREATE TABLE posts (
    id TEXT PRIMARY KEY NOT NULL,
    ap_id TEXT NOT NULL UNIQUE,
    author_id TEXT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    visibility TEXT NOT NULL,
    title TEXT,
    content TEXT NOT NULL,
    source TEXT,
    summary TEXT,
    sensitive BOOLEAN NOT NULL DEFAULT 0,
    language TEXT,
    in_reply_to TEXT,
    thread TEXT,
    url TEXT,
    to_json TEXT NOT NULL,
    cc_json TEXT NOT NULL,
    local BOOLEAN NOT NULL,
    published TIMESTAMP NOT NULL,
    updated TIMESTAMP,
    deleted_at TIMESTAMP
);
CREATE INDEX posts_author ON posts (author_id, id);
CREATE INDEX posts_in_reply_to ON posts (in_reply_to);
CREATE INDEX posts_thread ON posts (thread);

-- Hashtags and mentions of a post.
CREATE TABLE post_tags (
    post_id TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    href TEXT NOT NULL,
    PRIMARY KEY (post_id, kind, href)
);
CREATE INDEX post_tags_name ON post_tags (kind, name);

-- Likes and boosts (Announce) of posts by any actor, one of each kind per
-- actor and post.
CREATE TABLE reactions (
    id TEXT PRIMARY KEY NOT NULL,
    ap_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    actor_id TEXT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    post_id TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (kind, actor_id, post_id)
);
CREATE INDEX reactions_post ON reactions (post_id, kind);

-- The instance's federation policy: allowed or blocked domains.
CREATE TABLE domain_policies (
    domain TEXT PRIMARY KEY NOT NULL,
    action TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
-- Whether an actor's follower and following lists are hidden (counts stay public).
ALTER TABLE actors ADD COLUMN hide_network BOOLEAN NOT NULL DEFAULT 0;
