-- Actors: local and remote people, communities (Group) and the instance actor
-- (Application). Ids are UUIDv7 text, so they sort by creation time.
CREATE TABLE actors (
    id TEXT PRIMARY KEY NOT NULL,
    ap_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    username TEXT NOT NULL,
    domain TEXT NOT NULL,
    local BOOLEAN NOT NULL,
    display_name TEXT,
    summary TEXT,
    summary_source TEXT,
    url TEXT,
    inbox_url TEXT NOT NULL,
    shared_inbox_url TEXT,
    outbox_url TEXT,
    followers_url TEXT,
    following_url TEXT,
    public_key_pem TEXT NOT NULL,
    private_key_pem TEXT,
    manually_approves_followers BOOLEAN NOT NULL DEFAULT FALSE,
    discoverable BOOLEAN NOT NULL DEFAULT TRUE,
    published TIMESTAMP NOT NULL,
    updated TIMESTAMP,
    last_fetched_at TIMESTAMP
);
-- Users and communities share one local name space (DESIGN §3).
CREATE UNIQUE INDEX actors_local_username ON actors (username) WHERE local;
CREATE INDEX actors_domain_username ON actors (domain, username);

-- Credentials and role of local accounts, one per local Person.
CREATE TABLE local_users (
    actor_id TEXT PRIMARY KEY NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
