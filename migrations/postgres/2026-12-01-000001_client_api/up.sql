-- The Mastodon client API (docs/api.md): OAuth, notifications, and the
-- per-account lists Mastodon apps read and write.

-- Client applications (POST /api/v1/apps). The secret is stored hashed.
CREATE TABLE oauth_apps (
    id TEXT PRIMARY KEY NOT NULL,
    client_id TEXT NOT NULL UNIQUE,
    client_secret_hash TEXT NOT NULL,
    name TEXT NOT NULL,
    website TEXT,
    -- One URI per line.
    redirect_uris TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- Authorization codes: single use, short-lived, stored hashed.
CREATE TABLE oauth_codes (
    code_hash TEXT PRIMARY KEY NOT NULL,
    app_id TEXT NOT NULL REFERENCES oauth_apps (id) ON DELETE CASCADE,
    actor_id TEXT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    scopes TEXT NOT NULL,
    -- PKCE S256 challenge, when the client sent one.
    code_challenge TEXT,
    expires_at TIMESTAMP NOT NULL
);

-- Access tokens, stored hashed (SHA-256): a database leak does not leak
-- sessions. `actor_id` is empty for client_credentials tokens.
CREATE TABLE oauth_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    refresh_hash TEXT UNIQUE,
    app_id TEXT REFERENCES oauth_apps (id) ON DELETE CASCADE,
    actor_id TEXT REFERENCES actors (id) ON DELETE CASCADE,
    scopes TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    revoked_at TIMESTAMP
);
CREATE INDEX oauth_tokens_actor ON oauth_tokens (actor_id);

-- Notifications of local accounts. `kind` is Mastodon's type name.
CREATE TABLE notifications (
    id TEXT PRIMARY KEY NOT NULL,
    recipient_id TEXT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    actor_id TEXT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    post_id TEXT REFERENCES posts (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX notifications_recipient ON notifications (recipient_id, id);

-- Bookmarks and profile pins of local accounts; blocks and mutes.
-- `kind`: bookmark | pin | block | mute | mute_notifications.
CREATE TABLE account_marks (
    id TEXT PRIMARY KEY NOT NULL,
    actor_id TEXT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    -- A post id (bookmark, pin) or an actor id (block, mute).
    target_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (actor_id, kind, target_id)
);
CREATE INDEX account_marks_target ON account_marks (target_id, kind);

-- Reading positions (GET/POST /api/v1/markers).
CREATE TABLE markers (
    actor_id TEXT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    timeline TEXT NOT NULL,
    last_read_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (actor_id, timeline)
);

-- Idempotency-Key of status creation: a retried POST returns the first
-- status instead of posting twice.
CREATE TABLE idempotency_keys (
    actor_id TEXT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    post_id TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (actor_id, key)
);

-- Earlier versions of edited posts (GET /api/v1/statuses/:id/history).
CREATE TABLE post_edits (
    id TEXT PRIMARY KEY NOT NULL,
    post_id TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    title TEXT,
    content TEXT NOT NULL,
    summary TEXT,
    sensitive BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX post_edits_post ON post_edits (post_id, id);

-- Profile metadata fields, a JSON array of {name, value}.
ALTER TABLE actors ADD COLUMN fields_json TEXT;

-- Plain text of a post (title and content without markup), for search.
ALTER TABLE posts ADD COLUMN search_text TEXT;

-- Full-text search over `search_text` (the `simple` configuration: posts
-- are in many languages).
CREATE INDEX posts_search ON posts USING gin (to_tsvector('simple', coalesce(search_text, '')));
