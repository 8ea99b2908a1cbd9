-- When each outbox row was first claimed for sending. Discord's enforce_nonce remembers a
-- nonce for a few minutes only: a row first tried longer ago than that is looked for in
-- the channel's history before it is sent again.
ALTER TABLE outbox ADD COLUMN first_tried_at TEXT;
