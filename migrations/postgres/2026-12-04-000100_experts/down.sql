-- Going back restores the old default but cannot know who opted in and
-- who was reset: nobody is listed without having chosen it, so the rows
-- stay as they are.
ALTER TABLE actors ALTER COLUMN discoverable SET DEFAULT TRUE;
