-- The search for channels with work puts channels whose next row was tried before first:
-- the pending index covers `attempts` too.
DROP INDEX outbox_pending;
CREATE INDEX outbox_pending ON outbox (sink, target, seq, next_attempt_at, state, attempts) WHERE state IN ('pending', 'claimed');
