-- Mastodon's filters v2: a filter (title, contexts, action, expiry) with
-- keywords and statuses. v1 filters are a view of these (one per keyword).
CREATE TABLE filters (
    id TEXT PRIMARY KEY NOT NULL,
    account_id TEXT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    -- The contexts, comma-separated: home,notifications,public,thread,account.
    context TEXT NOT NULL,
    -- warn, hide or blur.
    filter_action TEXT NOT NULL,
    expires_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX filters_account ON filters (account_id);

CREATE TABLE filter_keywords (
    id TEXT PRIMARY KEY NOT NULL,
    filter_id TEXT NOT NULL REFERENCES filters (id) ON DELETE CASCADE,
    keyword TEXT NOT NULL,
    whole_word BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX filter_keywords_filter ON filter_keywords (filter_id);

CREATE TABLE filter_statuses (
    id TEXT PRIMARY KEY NOT NULL,
    filter_id TEXT NOT NULL REFERENCES filters (id) ON DELETE CASCADE,
    post_id TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    UNIQUE (filter_id, post_id)
);
