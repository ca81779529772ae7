-- Finding people who know (issue 13 §3): being listed is strictly opt-in.
-- The init migration made local people discoverable by default; from now
-- on new accounts start undiscoverable (service::accounts::create_user),
-- and the column's default says the same. Existing local people never
-- chose to be listed (the old default chose for them), so strict opt-in
-- means they are set to undiscoverable too and opt in from their settings
-- or update_credentials. Remote actors keep what their actor document
-- says, and local communities keep theirs (discoverable unless
-- members-only: a community's listing is its owner's decision, not a
-- person's).
ALTER TABLE actors ALTER COLUMN discoverable SET DEFAULT FALSE;
UPDATE actors SET discoverable = FALSE WHERE local AND kind = 'Person';
