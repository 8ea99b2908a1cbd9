-- The outbox by audience: an event is queued once for each subscription filter that wants it
-- (`fanout`), not once for each channel, and a channel's messages are rows of their own
-- (`messages`), one for each message sent or being sent. A channel's next announcements are
-- the events of its filters after its last message: at 10,000 channels a declaration is a
-- few rows, not 10,000, and a night's store stays small (BENCHMARKS.md, `cargo bench --bench
-- outbox`).

-- An event for one audience: the console (filter '' ), or the channels whose subscription
-- has this filter and publish flag. `follows`: the filter does not take this version, but
-- took an earlier one: it goes to those channels that were told of the seat (or milestone).
-- `n` numbers an audience's events (1, 2, …), so that what a target is owed is counted in a
-- few seeks, not by reading it all.
CREATE TABLE fanout (
    sink TEXT NOT NULL,
    filter TEXT NOT NULL,
    publish INTEGER NOT NULL,
    seq BIGINT NOT NULL,
    announced TEXT NOT NULL,
    version INTEGER NOT NULL,
    follows INTEGER NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (sink, filter, publish, seq)
) WITHOUT ROWID;
CREATE INDEX fanout_announced ON fanout (sink, announced, version);

-- One message to one target, claimed before it is sent and marked after: one announcement
-- (`carries` NULL), or a digest of several (`carries`: a line `announced<TAB>version` for
-- each, between newlines). `seq`..`last_seq` are the events it stands for; a target's last
-- message's `last_seq` is where its next announcements start. `key` is the nonce's source.
CREATE TABLE messages (
    key TEXT NOT NULL UNIQUE,
    sink TEXT NOT NULL,
    target TEXT NOT NULL,
    seq BIGINT NOT NULL,
    last_seq BIGINT NOT NULL,
    announced TEXT NOT NULL,
    version INTEGER NOT NULL,
    carries TEXT,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    first_tried_at TEXT,
    message_id TEXT,
    last_error TEXT,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (sink, target, seq)
) WITHOUT ROWID;
CREATE INDEX messages_open ON messages (sink, target, seq, next_attempt_at, attempts) WHERE state IN ('pending', 'claimed');

-- The announcements of the old outbox become messages: each row alone, and the rows of a
-- digest together.
INSERT INTO messages (key, sink, target, seq, last_seq, announced, version, carries, state,
    attempts, next_attempt_at, first_tried_at, message_id, last_error, updated_at)
  SELECT idempotency_key, sink, target, seq, seq, constituency_id, version, NULL, state,
    attempts, next_attempt_at, first_tried_at, message_id, last_error, updated_at
  FROM outbox WHERE digest_key IS NULL;
INSERT INTO messages (key, sink, target, seq, last_seq, announced, version, carries, state,
    attempts, next_attempt_at, first_tried_at, message_id, last_error, updated_at)
  SELECT digest_key, sink, target, MIN(seq), MAX(seq), MIN(constituency_id), MIN(version),
    char(10) || group_concat(constituency_id || char(9) || version, char(10)) || char(10),
    CASE WHEN MAX(state = 'merged') = 1 THEN 'sent' WHEN MAX(state = 'failed') = 1 THEN 'failed' ELSE 'claimed' END,
    MAX(attempts), MAX(next_attempt_at), MIN(first_tried_at), MAX(message_id), MAX(last_error), MAX(updated_at)
  FROM outbox WHERE digest_key IS NOT NULL GROUP BY digest_key, sink, target;
DROP TABLE outbox;

-- A subscription takes the events after the one it was made (or resumed) at.
ALTER TABLE subscriptions ADD COLUMN since_seq BIGINT NOT NULL DEFAULT 0;
UPDATE subscriptions SET since_seq = (SELECT MAX(m) FROM (
    SELECT COALESCE(MAX(seq), 0) AS m FROM declarations UNION ALL SELECT COALESCE(MAX(seq), 0) AS m FROM milestones));
