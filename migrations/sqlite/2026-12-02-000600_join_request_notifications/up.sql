-- The community a `join_request` notification is about (the applicant is
-- the notification's actor).
ALTER TABLE notifications ADD COLUMN group_id TEXT;
