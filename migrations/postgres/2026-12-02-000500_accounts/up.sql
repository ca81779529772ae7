-- Accounts as the web app manages them (docs/configuration.md, admin
-- pages): registration approval, suspension, the default visibility of
-- new narrations, and invite links.
ALTER TABLE local_users ADD COLUMN approved BOOLEAN NOT NULL DEFAULT TRUE;
ALTER TABLE local_users ADD COLUMN suspended_at TIMESTAMP;
ALTER TABLE local_users ADD COLUMN default_visibility TEXT NOT NULL DEFAULT 'public';
CREATE TABLE invites (
    id TEXT PRIMARY KEY NOT NULL,
    code TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    -- NULL: no limit.
    max_uses BIGINT,
    uses BIGINT NOT NULL DEFAULT 0,
    expires_at TIMESTAMP,
    revoked_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
-- What an admin changed of the instance's identity on the admin page
-- (`name`, `description`); a key without a row falls back to the
-- configuration file.
CREATE TABLE instance_settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
