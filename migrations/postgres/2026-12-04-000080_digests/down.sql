DROP TABLE digests_sent;
DROP TABLE digest_settings;
