-- Reports (Mastodon's Report; ActivityPub `Flag`), filed here through the
-- client API or received from other servers.
CREATE TABLE reports (
    id TEXT PRIMARY KEY NOT NULL,
    -- The id of the received Flag, so a repeat is stored once; NULL for
    -- reports filed here.
    ap_id TEXT UNIQUE,
    -- A local account, or (for a received Flag) the remote actor that sent
    -- it, usually another server's instance actor.
    reporter_id TEXT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    target_id TEXT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    -- The community the reported posts were shared in (or the reported
    -- Group itself), whose moderators are told.
    community_id TEXT REFERENCES actors (id) ON DELETE SET NULL,
    comment TEXT NOT NULL,
    category TEXT NOT NULL,
    forwarded BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    resolved_at TIMESTAMP,
    resolved_by TEXT REFERENCES actors (id) ON DELETE SET NULL
);
CREATE INDEX reports_target ON reports (target_id);
CREATE INDEX reports_community ON reports (community_id);

CREATE TABLE report_posts (
    report_id TEXT NOT NULL REFERENCES reports (id) ON DELETE CASCADE,
    post_id TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    PRIMARY KEY (report_id, post_id)
);

-- `admin.report` notifications name their report. No foreign key: SQLite
-- cannot drop a column that has one; notifications of a vanished report
-- are skipped when listed.
ALTER TABLE notifications ADD COLUMN report_id TEXT;
