-- Drop a pull request's database and role. Idempotent. Run as the server's admin with the variables
-- db and role, by psql (pr-database.sh) or by prenv through the RDS Data API: see create.sql.
\ir session.sql

-- Only a database that belongs to the role: a name that collides with anything else is left alone.
SELECT format('DO $$BEGIN RAISE EXCEPTION USING MESSAGE = %L; END$$', format(
    'database %s belongs to %s, not to %s: not a pull request''s database, left alone',
    datname, pg_get_userbyid(datdba), :'role'))
FROM pg_database
WHERE datname = :'db' AND pg_get_userbyid(datdba) <> :'role'
\gexec

-- FORCE ends the sessions still connected (the preview's tasks may still be draining).
DROP DATABASE IF EXISTS :"db" WITH (FORCE);
DROP ROLE IF EXISTS :"role";
