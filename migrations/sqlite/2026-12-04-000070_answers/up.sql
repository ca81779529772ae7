-- Questions with accepted answers (issue 13 §2): an `ask` narration is
-- open until its author, or a moderator of the community it was asked in,
-- accepts one reply as the answer. One row per answered ask; re-opening
-- deletes it, accepting another reply replaces it. Asks and answers are
-- both posts (local or received), so the row works for remote asks too.
CREATE TABLE accepted_answers (
    question_id TEXT PRIMARY KEY NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    answer_id TEXT NOT NULL REFERENCES posts (id) ON DELETE CASCADE,
    -- Who accepted it (the asker or a moderator); NULL once that actor is gone.
    accepted_by TEXT REFERENCES actors (id) ON DELETE SET NULL,
    accepted_at TIMESTAMP NOT NULL
);
-- "Accepted answers by this person" (finding experts) and "is this reply
-- the accepted one" (threads) look up by answer.
CREATE INDEX accepted_answers_answer ON accepted_answers (answer_id);
