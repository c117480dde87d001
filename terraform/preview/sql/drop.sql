-- Drop a pull request's database and role (pr-database.sh drop). Idempotent. Run by psql as the
-- server's admin with -v db=NAME -v role=NAME; psql quotes both (:"db", :'db').
\ir session.sql

-- Only a database that belongs to the role: a name that collides with anything else is left alone.
DO $$
DECLARE
    pr_db text := current_setting('prenv.db');
    pr_role text := current_setting('prenv.role');
    db_owner text;
BEGIN
    SELECT pg_get_userbyid(datdba) INTO db_owner FROM pg_database WHERE datname = pr_db;
    IF db_owner IS NOT NULL AND db_owner <> pr_role THEN
        RAISE EXCEPTION 'database % belongs to %, not to %: not a pull request''s database, left alone',
            pr_db, db_owner, pr_role;
    END IF;
END
$$;

-- FORCE ends the sessions still connected (the preview's tasks may still be draining).
DROP DATABASE IF EXISTS :"db" WITH (FORCE);
DROP ROLE IF EXISTS :"role";
