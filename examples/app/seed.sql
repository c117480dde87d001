-- Seed data of a fresh preview (and of the local stack): run by `python app.py seed` after migrate.
-- Safe to run again: rows that exist are left as they are.
INSERT INTO notes (slug, author, body)
VALUES ('welcome', 'prenv', 'This preview''s database was migrated and seeded before the app started.')
ON CONFLICT (slug) DO NOTHING;
