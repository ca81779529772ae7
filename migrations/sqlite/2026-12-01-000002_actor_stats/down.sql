DROP TABLE actor_stats;
