-- The outbox stored in the order a channel is served: clustered by (sink, target, seq), so
-- that a channel's rows sit together. Claiming a digest of 40 declarations, and marking it
-- sent, then writes a few pages instead of one page a row (rows are created event by event,
-- so in rowid order one channel's rows lie a page apart). Measured in the 100-channel e2e
-- run: the outbox updates took 1.6 s instead of 5.7 s (BENCHMARKS.md). `WITHOUT ROWID` is
-- SQLite's: this file is the SQLite store's.
-- The key stays unique; the indexes by state and by target are covered by the primary key
-- and the pending index; the digest index holds only rows that are in a digest.
CREATE TABLE outbox_by_target (
    idempotency_key TEXT NOT NULL UNIQUE,
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
    updated_at TEXT NOT NULL,
    digest_key TEXT,
    first_tried_at TEXT,
    PRIMARY KEY (sink, target, seq)
) WITHOUT ROWID;
INSERT INTO outbox_by_target (idempotency_key, sink, target, constituency_id, version, seq, state,
    attempts, next_attempt_at, message_id, last_error, created_at, updated_at, digest_key, first_tried_at)
  SELECT idempotency_key, sink, target, constituency_id, version, seq, state,
    attempts, next_attempt_at, message_id, last_error, created_at, updated_at, digest_key, first_tried_at
  FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_by_target RENAME TO outbox;
CREATE INDEX outbox_digest ON outbox (digest_key) WHERE digest_key IS NOT NULL;
CREATE INDEX outbox_pending ON outbox (sink, target, seq, next_attempt_at, state, attempts) WHERE state IN ('pending', 'claimed');
