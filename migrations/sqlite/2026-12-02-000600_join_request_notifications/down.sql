ALTER TABLE notifications DROP COLUMN group_id;
