ALTER TABLE actors DROP COLUMN icon_url;
DROP TABLE moderation_log;
DROP TABLE community_pins;
DROP TABLE community_bans;
DROP TABLE host_software;
DROP INDEX posts_community;
ALTER TABLE posts DROP COLUMN community_id;
DROP TABLE community_moderators;
DROP TABLE communities;
