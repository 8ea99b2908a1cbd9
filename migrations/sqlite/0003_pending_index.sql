-- The announcements still to deliver, by target and in order: a partial index, so that
-- finding which channels have work, and reading a channel's next rows, touch only pending
-- rows, even when a night's worth of delivered rows sits beside them. Covering for the
-- search for channels with work.
CREATE INDEX outbox_pending ON outbox (sink, target, seq, next_attempt_at, state) WHERE state IN ('pending', 'claimed');
