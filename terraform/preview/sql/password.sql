-- Set the pull request's role's password. The server never sees the password itself, only a
-- SCRAM-SHA-256 verifier computed on the client: psql's \password computes it (pr-database.sh pipes
-- PRENV_DB_PASSWORD in twice); prenv's shared mode computes the same verifier (prenv/core/scram.py)
-- and sends `ALTER USER ... PASSWORD '<verifier>'`, what \password sends.
--
-- The comment records which version of the password the role was given (prenv: the version of the
-- pull request's Secrets Manager secret), so a later run can tell, without reading the secret or
-- logging in, whether the secret and the role still agree (status.sql reads it).
\set ON_ERROR_STOP on
\password :"role"
COMMENT ON ROLE :"role" IS :'password_version';
