-- Milestones of the night (a majority reached, the last seat declared), each once: its key,
-- its place among the events (`seq`, shared with declarations), and what it says (JSON).
-- Their announcements are outbox rows whose constituency_id is `milestone:KEY`.
CREATE TABLE milestones (
    key TEXT PRIMARY KEY,
    seq BIGINT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
);
