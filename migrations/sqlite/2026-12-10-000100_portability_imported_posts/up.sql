-- Narrations imported from an archive (issue 15 §3): one row per original
-- narration and importing person, so importing the same archive twice
-- creates nothing twice. Written in the transaction of the new post.
CREATE TABLE imported_posts (
    actor_id TEXT NOT NULL REFERENCES actors (id) ON DELETE CASCADE,
    original_id TEXT NOT NULL,
    post_id TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (actor_id, original_id)
);
CREATE INDEX imported_posts_post ON imported_posts (post_id);
