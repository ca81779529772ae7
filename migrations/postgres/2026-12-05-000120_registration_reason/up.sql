-- Why someone wants to join, asked when registrations wait for an admin
-- (Mastodon's `reason`); shown in the approval queue (issue 15 §2).
ALTER TABLE local_users ADD COLUMN registration_reason TEXT;
