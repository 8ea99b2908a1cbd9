-- Digests: rows merged into one message are first claimed together under one key (the
-- digest's nonce), so that after a crash the same digest is sent again, not a different one.
ALTER TABLE outbox ADD COLUMN digest_key TEXT;
CREATE INDEX outbox_digest ON outbox (digest_key);
