DROP TABLE actor_moves;
DROP TABLE actor_aliases;
