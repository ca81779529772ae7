ALTER TABLE local_users DROP COLUMN registration_reason;
