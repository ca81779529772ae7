-- Weekly digests (issue 13 §4). A person's digest choices live in their own
-- table, one row per local person, made when they first open the digest
-- settings: the e-mail address, whether to mail the digest, and the secret
-- token of their digest's Atom feed (feed readers cannot sign in).
CREATE TABLE digest_settings (
    actor_id TEXT PRIMARY KEY NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    email TEXT,
    digest_email BOOLEAN NOT NULL DEFAULT FALSE,
    feed_token TEXT NOT NULL UNIQUE,
    updated_at TIMESTAMP NOT NULL
);
-- One row per person per digest week (`2026-W48`): the claim that makes
-- the weekly e-mail go out once, whichever `serve` process gets there
-- first (INSERT … ON CONFLICT DO NOTHING on the primary key). `status` is
-- `sending` while a process sends, `sent` once the SMTP server took it,
-- `failed` when it refused or could not be reached (retried on a later
-- pass, up to a few attempts).
CREATE TABLE digests_sent (
    person_id TEXT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    week TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    last_error TEXT,
    claimed_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP,
    PRIMARY KEY (person_id, week)
);
