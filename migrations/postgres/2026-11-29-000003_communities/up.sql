-- Communities of practice: settings of local Group actors.
CREATE TABLE communities (
    actor_id TEXT PRIMARY KEY NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    owner_id TEXT NOT NULL REFERENCES actors (id),
    -- Who may post: members | anyone | moderators.
    posting TEXT NOT NULL,
    members_only BOOLEAN NOT NULL DEFAULT FALSE,
    created_at TIMESTAMP NOT NULL
);

-- Moderators of local communities; they may be remote actors.
CREATE TABLE community_moderators (
    community_id TEXT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    actor_id TEXT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    added_at TIMESTAMP NOT NULL,
    PRIMARY KEY (community_id, actor_id)
);

-- The community a post was shared in (FEP-1b12 `audience`).
ALTER TABLE posts ADD COLUMN community_id TEXT REFERENCES actors (id);
CREATE INDEX posts_community ON posts (community_id, id);

-- What software each remote host runs (from NodeInfo), to tell group-aware
-- servers from microblogs.
CREATE TABLE host_software (
    domain TEXT PRIMARY KEY NOT NULL,
    software TEXT NOT NULL,
    fetched_at TIMESTAMP NOT NULL
);

-- Actors banned from a local community: their posts are refused.
CREATE TABLE community_bans (
    community_id TEXT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    actor_id TEXT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    reason TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (community_id, actor_id)
);

-- Posts pinned in a local community (its `featured` collection).
CREATE TABLE community_pins (
    community_id TEXT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    post_id TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    pinned_at TIMESTAMP NOT NULL,
    PRIMARY KEY (community_id, post_id)
);

-- Every moderation action in a local community, by whom, on what.
CREATE TABLE moderation_log (
    id TEXT PRIMARY KEY NOT NULL,
    community_id TEXT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    moderator_id TEXT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    reason TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX moderation_log_community ON moderation_log (community_id, id);

-- An actor's avatar or community's icon (a URL; Outloud stores no media yet).
ALTER TABLE actors ADD COLUMN icon_url TEXT;
