-- The role a subscription pings on gains, chosen by an admin (never @everyone); NULL pings
-- nobody.
ALTER TABLE subscriptions ADD COLUMN mention_role TEXT;
