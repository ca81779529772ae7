DROP TABLE domain_policies;
DROP TABLE reactions;
DROP TABLE post_tags;
DROP TABLE posts;
DROP TABLE follows;
DROP TABLE received_activities;
ALTER TABLE actors DROP COLUMN hide_network;
