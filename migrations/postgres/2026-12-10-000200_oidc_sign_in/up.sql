-- OpenID Connect sign-in (issue 15 §1). A sign-in under way: several
-- processes share the database, so the browser may come back from the
-- provider to another one. The row is the `state` (its SHA-256, so a read
-- of the table gives nothing to replay), used once, expired after minutes.
CREATE TABLE oidc_logins (
    state_hash TEXT PRIMARY KEY NOT NULL,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    -- A local path to go to once signed in (`/home`, or the OAuth
    -- authorization page of a Mastodon app).
    return_to TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX oidc_logins_created ON oidc_logins (created_at);

-- Which provider account is which local account.
CREATE TABLE oidc_identities (
    issuer TEXT NOT NULL,
    subject TEXT NOT NULL,
    actor_id TEXT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    -- The provider's refresh token, if it gave one: a refresh of an
    -- Outloud token asks the provider again with it.
    refresh_token TEXT,
    created_at TIMESTAMP NOT NULL,
    last_sign_in_at TIMESTAMP NOT NULL,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX oidc_identities_actor ON oidc_identities (actor_id);
