-- Browser sessions of the web app (docs/web.md). The cookie carries a
-- random token; only its SHA-256 is stored, so a database leak does not
-- leak sessions. Rows, not process memory: several processes share them.
CREATE TABLE web_sessions (
    id TEXT PRIMARY KEY NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    actor_id TEXT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    -- Bound to the session: every state-changing form carries it.
    csrf_token TEXT NOT NULL,
    user_agent TEXT NOT NULL,
    ip TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    last_seen_at TIMESTAMP NOT NULL
);
CREATE INDEX web_sessions_actor ON web_sessions (actor_id);
