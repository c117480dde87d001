-- The start of create.sql and drop.sql (\ir session.sql): stop at the first error, print only warnings
-- and errors, and put the names where the DO blocks can read them (they cannot see psql's variables).
\set ON_ERROR_STOP on
SET client_min_messages = warning;
SELECT set_config('prenv.db', :'db', false), set_config('prenv.role', :'role', false) \gset prenv_
