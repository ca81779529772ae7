-- Web Push (RFC 8030): one subscription per access token, and the durable
-- queue of pushes to send. A queue row is written in the transaction that
-- writes its notification, so a push survives a crash before delivery.
CREATE TABLE push_subscriptions (
    id TEXT PRIMARY KEY NOT NULL,
    token_id TEXT NOT NULL UNIQUE REFERENCES oauth_tokens (id) ON DELETE CASCADE,
    account_id TEXT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    endpoint TEXT NOT NULL,
    -- The subscriber's P-256 public key (uncompressed point) and auth
    -- secret, base64url without padding.
    p256dh TEXT NOT NULL,
    auth TEXT NOT NULL,
    -- true: RFC 8291 aes128gcm; false: the legacy aesgcm draft.
    standard BOOLEAN NOT NULL,
    -- The notification types pushed, comma-separated with a comma at each
    -- end (",mention,follow,") so one LIKE finds a type.
    alerts TEXT NOT NULL,
    -- all, followed, follower or none.
    policy TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX push_subscriptions_account ON push_subscriptions (account_id);

CREATE TABLE push_deliveries (
    subscription_id TEXT NOT NULL REFERENCES push_subscriptions (id) ON DELETE CASCADE,
    notification_id TEXT NOT NULL REFERENCES notifications (id) ON DELETE CASCADE,
    attempts BIGINT NOT NULL,
    next_attempt_at TIMESTAMP NOT NULL,
    -- A worker's lease: the row is being sent until then (a killed
    -- process's rows become due again when it passes).
    claim_token TEXT,
    claimed_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (subscription_id, notification_id)
);
CREATE INDEX push_deliveries_due ON push_deliveries (next_attempt_at);
CREATE INDEX push_deliveries_claim ON push_deliveries (claim_token);
