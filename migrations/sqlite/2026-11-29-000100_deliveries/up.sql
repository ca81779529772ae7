-- The durable outbound queue (DESIGN §4 Delivery, docs/delivery.md).
-- An outbound activity is stored once; each target inbox gets one row in
-- `deliveries`. Both are written in the transaction of the change that
-- causes them, so a crash never loses or half-sends a fan-out.
CREATE TABLE outbound_activities (
    id TEXT PRIMARY KEY NOT NULL,
    ap_id TEXT NOT NULL UNIQUE,
    sender_actor_id TEXT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    -- The exact bytes that are signed and POSTed.
    json TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE deliveries (
    id TEXT PRIMARY KEY NOT NULL,
    activity_id TEXT NOT NULL REFERENCES outbound_activities (id) ON DELETE CASCADE,
    inbox_url TEXT NOT NULL,
    -- host[:port] of inbox_url: the unit of fairness and reachability.
    host TEXT NOT NULL,
    -- queued | delivered | failed
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    -- A claim is a lease: a worker that dies mid-send leaves a row that
    -- becomes claimable again once claimed_until has passed.
    claim_token TEXT,
    claimed_until TIMESTAMP,
    last_status BIGINT,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (activity_id, inbox_url)
);
CREATE INDEX deliveries_due ON deliveries (state, next_attempt_at);
CREATE INDEX deliveries_host_state ON deliveries (host, state);
CREATE INDEX deliveries_claim_token ON deliveries (claim_token);

-- Per-host health: when it started failing, and whether it is parked.
CREATE TABLE delivery_hosts (
    host TEXT PRIMARY KEY NOT NULL,
    failing_since TIMESTAMP,
    unreachable_since TIMESTAMP,
    last_success_at TIMESTAMP,
    last_failure_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
);
