DROP TABLE partner_instances;
