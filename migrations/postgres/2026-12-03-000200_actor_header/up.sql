-- A profile's header image (ActivityStreams `image` on the actor), as a URL:
-- for local people the media store's file set by update_credentials, for
-- remote actors their server's URL (served through the media proxy). The
-- avatar already lives in icon_url.
ALTER TABLE actors ADD COLUMN image_url TEXT;
