DROP INDEX oauth_codes_expires;
DROP INDEX oauth_tokens_code_hash;
ALTER TABLE oauth_tokens DROP COLUMN code_hash;
ALTER TABLE oauth_codes DROP COLUMN used_at;
