-- Account migration (issue 15 §3): Mastodon's `alsoKnownAs` and `movedTo`.
-- Kept beside `actors` rather than in it, so the actor row stays as it is.
-- Aliases: the other accounts an actor says it also is (its `alsoKnownAs`);
-- a local person adds them in the settings, a remote actor's are read from
-- its document each time it is fetched.
CREATE TABLE actor_aliases (
    actor_id TEXT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    alias_ap_id TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (actor_id, alias_ap_id)
);
-- Where an actor moved to (its `movedTo`): one row per moved actor.
CREATE TABLE actor_moves (
    actor_id TEXT PRIMARY KEY NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    target_ap_id TEXT NOT NULL,
    moved_at TIMESTAMP NOT NULL
);
CREATE INDEX actor_moves_target ON actor_moves (target_ap_id);
