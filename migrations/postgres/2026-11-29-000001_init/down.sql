DROP TABLE local_users;
DROP TABLE actors;
