DROP TABLE instance_settings;
DROP TABLE invites;
ALTER TABLE local_users DROP COLUMN default_visibility;
ALTER TABLE local_users DROP COLUMN suspended_at;
ALTER TABLE local_users DROP COLUMN approved;
