-- Housekeeping (src/housekeeping.rs) deletes by age: these indexes find
-- the old rows without scanning the tables.
CREATE INDEX outbound_activities_created ON outbound_activities (created_at);
CREATE INDEX received_activities_received ON received_activities (received_at);
