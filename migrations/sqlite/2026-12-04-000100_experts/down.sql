-- Going back cannot know who opted in and who was reset: nobody is
-- listed without having chosen it, so the rows stay as they are.
SELECT 1;
