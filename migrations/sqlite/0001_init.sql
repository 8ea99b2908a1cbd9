-- herald's store. Plain SQL that runs on SQLite and PostgreSQL alike: no AUTOINCREMENT,
-- times as RFC 3339 text, JSON as text.

-- Every version of every declaration herald has accepted, with the event it made.
-- `version` counts herald's accepted versions per constituency; `seq` orders all events.
CREATE TABLE declarations (
    constituency_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    seq BIGINT NOT NULL,
    revision INTEGER NOT NULL,
    status TEXT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    differences TEXT NOT NULL,
    declared_at TEXT,
    seen_at TEXT NOT NULL,
    PRIMARY KEY (constituency_id, version)
);
CREATE UNIQUE INDEX declarations_seq ON declarations (seq);

-- One row per announcement per sink target, written in the same transaction as its event.
CREATE TABLE outbox (
    idempotency_key TEXT PRIMARY KEY,
    sink TEXT NOT NULL,
    target TEXT NOT NULL,
    constituency_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    seq BIGINT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    message_id TEXT,
    last_error TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX outbox_due ON outbox (sink, state, next_attempt_at);
CREATE INDEX outbox_target ON outbox (sink, target, seq);

-- Channels that receive announcements.
CREATE TABLE subscriptions (
    channel_id TEXT PRIMARY KEY,
    guild_id TEXT NOT NULL,
    filter TEXT NOT NULL,
    mode TEXT NOT NULL,
    paused_reason TEXT,
    created_by TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX subscriptions_guild ON subscriptions (guild_id);

-- Small facts about the running election (which election, when the feed last answered).
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
