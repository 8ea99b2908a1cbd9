-- Which process drains which target, while several herald processes share the store: a
-- process takes a target before sending to it, renews what it holds while it runs, and lets
-- it go when done; a dead process's targets are taken by another once `until` has passed
-- (`until` is the server's clock, so the processes' own clocks do not matter). A SQLite
-- store is one process's and has no such table.
CREATE TABLE drains (
    sink TEXT NOT NULL,
    target TEXT NOT NULL,
    holder TEXT NOT NULL,
    until TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (sink, target)
);
CREATE INDEX drains_holder ON drains (holder);
