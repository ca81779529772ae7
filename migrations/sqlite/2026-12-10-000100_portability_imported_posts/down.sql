DROP TABLE imported_posts;
