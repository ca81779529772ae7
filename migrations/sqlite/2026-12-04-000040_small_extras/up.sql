-- Follow suggestions an account dismissed (DELETE /api/v1/suggestions/:id):
-- never suggested to it again.
CREATE TABLE suggestion_dismissals (
    account_id TEXT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    target_id TEXT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, target_id)
);

-- Mastodon's notification policy: for each condition, accept, filter or
-- drop. No row means accept everything.
CREATE TABLE notification_policies (
    account_id TEXT PRIMARY KEY NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    for_not_following TEXT NOT NULL,
    for_not_followers TEXT NOT NULL,
    for_new_accounts TEXT NOT NULL,
    for_private_mentions TEXT NOT NULL,
    for_limited_accounts TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- Senders whose notification request the account accepted: their
-- notifications are never filtered again.
CREATE TABLE notification_permissions (
    account_id TEXT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    from_account_id TEXT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, from_account_id)
);

-- A notification the policy filtered: kept out of the list, grouped into
-- a notification request per sender.
ALTER TABLE notifications ADD COLUMN filtered BOOLEAN NOT NULL DEFAULT FALSE;
CREATE INDEX notifications_filtered ON notifications (recipient_id, filtered, actor_id);
