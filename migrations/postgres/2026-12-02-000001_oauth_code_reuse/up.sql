-- A used authorization code is kept (marked) instead of deleted, so that a
-- second exchange is recognised and the tokens issued from the code are
-- revoked (RFC 6749 §4.1.2). Tokens remember the code they came from;
-- refreshed tokens inherit it.
ALTER TABLE oauth_codes ADD COLUMN used_at TIMESTAMP;
ALTER TABLE oauth_tokens ADD COLUMN code_hash TEXT;
CREATE INDEX oauth_tokens_code_hash ON oauth_tokens (code_hash);
CREATE INDEX oauth_codes_expires ON oauth_codes (expires_at);
