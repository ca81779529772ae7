DROP TABLE host_software;
DROP INDEX posts_community;
ALTER TABLE posts DROP COLUMN community_id;
DROP TABLE community_moderators;
DROP TABLE communities;
