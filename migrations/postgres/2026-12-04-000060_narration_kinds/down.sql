DROP INDEX posts_narration_kind;
ALTER TABLE posts DROP COLUMN narration_kind;
