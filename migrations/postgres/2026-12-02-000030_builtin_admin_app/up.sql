-- The built-in application of tokens made by `outloud admin create-token`:
-- Mastodon clients expect every token to have an application
-- (GET /api/v1/apps/verify_credentials). It has no redirect URI and a
-- secret hash no secret matches, so no OAuth flow can use it. Tokens made
-- before it existed (the only ones without an application) join it.
-- The id is service::oauth::ADMIN_APP_ID.
INSERT INTO oauth_apps (id, client_id, client_secret_hash, name, website, redirect_uris, scopes, created_at)
VALUES ('00000000-0000-7000-8000-000000000000', 'outloud-admin', '', 'outloud admin', NULL, '',
        'read write follow push profile admin:read admin:write', (CURRENT_TIMESTAMP AT TIME ZONE 'UTC'))
ON CONFLICT DO NOTHING;
UPDATE oauth_tokens SET app_id = '00000000-0000-7000-8000-000000000000' WHERE app_id IS NULL;
