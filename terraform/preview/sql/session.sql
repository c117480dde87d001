-- The start of create.sql and drop.sql (\ir session.sql): stop at the first error and print only
-- warnings and errors. No statement depends on the session: the RDS Data API may run each one on a
-- connection of its own.
\set ON_ERROR_STOP on
SET client_min_messages = warning;
