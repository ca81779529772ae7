-- An invite link may name a local community its users join when they sign
-- up (issue 15 §2). No foreign key, as on SQLite (which cannot drop a
-- column that has one): a community deleted since is simply not joined
-- (service::registrations).
ALTER TABLE invites ADD COLUMN community_id TEXT;
