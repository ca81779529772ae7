ALTER TABLE actors DROP COLUMN image_url;
