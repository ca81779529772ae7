-- Media attachments (docs/api.md, "Media"). One row per file a person
-- uploaded (local: the processed file and its thumbnail live in the media
-- store under file_key and thumbnail_key) or per attachment of a remote post
-- (remote_url set, nothing stored until the media proxy first fetches it).
-- An upload has no post_id until a status attaches it; housekeeping prunes
-- unattached uploads after a day.
CREATE TABLE media_attachments (
    id TEXT PRIMARY KEY NOT NULL,
    -- Who uploaded it (local), or the remote post's author.
    owner_id TEXT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    post_id TEXT REFERENCES posts (id) ON DELETE CASCADE,
    -- Order among the post's attachments, from 0.
    position BIGINT NOT NULL DEFAULT 0,
    -- Mastodon's attachment type: image, gifv, video, audio, unknown.
    kind TEXT NOT NULL,
    -- The MIME type, detected from the content (local) or as the remote said.
    media_type TEXT NOT NULL,
    -- Keys in the media store (local uploads; a proxied remote file once cached).
    file_key TEXT,
    thumbnail_key TEXT,
    -- The original URL of a remote attachment.
    remote_url TEXT,
    -- Alt text.
    description TEXT,
    focus_x DOUBLE PRECISION,
    focus_y DOUBLE PRECISION,
    width BIGINT,
    height BIGINT,
    thumbnail_width BIGINT,
    thumbnail_height BIGINT,
    blurhash TEXT,
    size_bytes BIGINT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX media_attachments_post ON media_attachments (post_id, position);
CREATE INDEX media_attachments_owner ON media_attachments (owner_id, created_at);
