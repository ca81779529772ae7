DROP TABLE delivery_hosts;
DROP TABLE deliveries;
DROP TABLE outbound_activities;
