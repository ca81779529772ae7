-- Partner instances (issue 13 §5): the hosts an admin names as partner
-- organisations. The Partners timeline shows public narrations of people
-- and communities on these hosts. `host` is normalised by
-- `service::partners::normalize_host` (lower-case, punycode, the port kept
-- when one was given) so it compares equal to `actors.domain`.
CREATE TABLE partner_instances (
    host TEXT PRIMARY KEY NOT NULL,
    -- The admin who named it; NULL when added from the command line or
    -- once that account is gone.
    added_by TEXT REFERENCES actors (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL
);
