-- herald's store on PostgreSQL: the schema the SQLite store reached at its migration 0011
-- (`migrations/sqlite/`), in one step. Times are RFC 3339 text and JSON is text, as there;
-- every number is a BIGINT (herald reads them as 64-bit integers). A later change of the
-- schema is a migration in both folders.

-- Every version of every declaration herald has accepted, with the event it made.
-- `version` counts herald's accepted versions per constituency; `seq` orders all events.
CREATE TABLE declarations (
    constituency_id TEXT NOT NULL,
    version BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    revision BIGINT NOT NULL,
    status TEXT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL,
    differences TEXT NOT NULL,
    declared_at TEXT,
    seen_at TEXT NOT NULL,
    PRIMARY KEY (constituency_id, version)
);
CREATE UNIQUE INDEX declarations_seq ON declarations (seq);

-- Milestones of the night, each once (see migrations/sqlite/0007 and 0009).
CREATE TABLE milestones (
    key TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    standing BIGINT NOT NULL DEFAULT 1,
    why TEXT
);

-- Channels that receive announcements: one row per (channel, filter).
CREATE TABLE subscriptions (
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
    publish BIGINT NOT NULL DEFAULT 0,
    since_seq BIGINT NOT NULL DEFAULT 0,
    UNIQUE (channel_id, filter)
);
CREATE INDEX subscriptions_guild ON subscriptions (guild_id);
CREATE INDEX subscriptions_channel ON subscriptions (channel_id);

-- Small facts about the running election.
CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- An event for one audience (see migrations/sqlite/0011).
CREATE TABLE fanout (
    sink TEXT NOT NULL,
    filter TEXT NOT NULL,
    publish BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    announced TEXT NOT NULL,
    version BIGINT NOT NULL,
    follows BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (sink, filter, publish, seq)
);
CREATE INDEX fanout_announced ON fanout (sink, announced, version);

-- One message to one target (see migrations/sqlite/0011).
CREATE TABLE messages (
    key TEXT NOT NULL UNIQUE,
    sink TEXT NOT NULL,
    target TEXT NOT NULL,
    seq BIGINT NOT NULL,
    last_seq BIGINT NOT NULL,
    announced TEXT NOT NULL,
    version BIGINT NOT NULL,
    carries TEXT,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    first_tried_at TEXT,
    message_id TEXT,
    last_error TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (sink, target, seq)
);
CREATE INDEX messages_open ON messages (sink, target, seq, next_attempt_at, attempts) WHERE state IN ('pending', 'claimed');
