DELETE FROM notifications WHERE kind = 'admin.report';
ALTER TABLE notifications DROP COLUMN report_id;
DROP TABLE report_posts;
DROP TABLE reports;
