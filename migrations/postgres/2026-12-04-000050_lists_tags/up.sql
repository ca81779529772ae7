-- Followed hashtags: a person's home timeline also shows public posts
-- with these tags (names stored as post_tags stores them: lowercase,
-- without `#`).
CREATE TABLE followed_tags (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (account_id, name)
);
CREATE INDEX followed_tags_name ON followed_tags (name);

-- Mastodon's lists: named subsets of the accounts a person follows.
CREATE TABLE lists (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    -- followed, list or none.
    replies_policy TEXT NOT NULL,
    -- Members' posts are kept out of the owner's home timeline.
    exclusive BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX lists_account ON lists (account_id);

-- A member is a followed account: the row goes with the follow (an
-- unfollow removes the member). `follow_id` is NULL only for the list's
-- owner, whom Mastodon lets add themself.
CREATE TABLE list_members (
    id TEXT PRIMARY KEY NOT NULL,
    list_id TEXT NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
    follow_id TEXT REFERENCES follows (id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (list_id, account_id)
);
CREATE INDEX list_members_account ON list_members (account_id);
CREATE INDEX list_members_follow ON list_members (follow_id);
