DROP INDEX notifications_filtered;
ALTER TABLE notifications DROP COLUMN filtered;
DROP TABLE notification_permissions;
DROP TABLE notification_policies;
DROP TABLE suggestion_dismissals;
