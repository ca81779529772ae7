-- Typed narrations (issue 13 §1): doing, learned, stuck, ask, or none.
-- `posts.kind` already holds the ActivityStreams type (Note, Article), so
-- the narration's kind is its own column.
ALTER TABLE posts ADD COLUMN narration_kind TEXT;
-- Timelines filtered by kind walk the newest typed posts of that kind.
CREATE INDEX posts_narration_kind ON posts (narration_kind, id) WHERE narration_kind IS NOT NULL;
