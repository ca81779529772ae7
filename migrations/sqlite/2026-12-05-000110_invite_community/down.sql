ALTER TABLE invites DROP COLUMN community_id;
