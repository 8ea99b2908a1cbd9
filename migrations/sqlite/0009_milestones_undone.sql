-- A milestone a correction undoes: its announcements are edited (`standing` 0, `why` says
-- what undid it), and it may be reached again (`standing` 1 once more). Each turn is a
-- version: odd versions are announced as posts, even ones as edits of the post before.
ALTER TABLE milestones ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE milestones ADD COLUMN standing INTEGER NOT NULL DEFAULT 1;
ALTER TABLE milestones ADD COLUMN why TEXT;
