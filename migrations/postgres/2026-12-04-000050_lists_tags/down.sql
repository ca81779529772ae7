DROP TABLE list_members;
DROP TABLE lists;
DROP TABLE followed_tags;
