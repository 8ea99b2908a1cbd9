-- Several subscriptions per channel, one per filter: each has its own number (`id`), mode
-- and role to ping; a channel receives an announcement once if any of its subscriptions
-- wants it. `created_in` is the channel where /subscribe was run (told when the channel is
-- paused); `publish` is set for an announcement channel (milestones are published to the
-- servers that follow it).
CREATE TABLE subscriptions_by_filter (
    id BIGINT PRIMARY KEY,
    channel_id TEXT NOT NULL,
    guild_id TEXT NOT NULL,
    filter TEXT NOT NULL,
    mode TEXT NOT NULL,
    paused_reason TEXT,
    created_by TEXT,
    created_at TEXT NOT NULL,
    mention_role TEXT,
    created_in TEXT,
    publish INTEGER NOT NULL DEFAULT 0,
    UNIQUE (channel_id, filter)
);
INSERT INTO subscriptions_by_filter (id, channel_id, guild_id, filter, mode, paused_reason, created_by, created_at, mention_role)
    SELECT ROW_NUMBER() OVER (ORDER BY channel_id), channel_id, guild_id, filter, mode, paused_reason, created_by, created_at, mention_role
    FROM subscriptions;
DROP TABLE subscriptions;
ALTER TABLE subscriptions_by_filter RENAME TO subscriptions;
CREATE INDEX subscriptions_guild ON subscriptions (guild_id);
CREATE INDEX subscriptions_channel ON subscriptions (channel_id);
