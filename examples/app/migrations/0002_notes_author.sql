-- Who wrote a note ('' for notes written before authors were recorded).
ALTER TABLE notes ADD COLUMN author text NOT NULL DEFAULT '';
CREATE INDEX notes_created_at ON notes (created_at DESC);
