-- Create a pull request's database and role, or bring them back to this shape. Idempotent: a second
-- run changes nothing. Run as the server's admin (CREATEDB and CREATEROLE, not necessarily a superuser:
-- the RDS master user) with the variables db and role, which are quoted where they are used (:'db' a
-- literal, :"db" a name). The password is set separately (password.sql), so it is never in this SQL.
--
-- Two transports run this file: psql (pr-database.sh: the local stack, any server psql reaches) and
-- prenv through the RDS Data API (database.mode shared, prenv/engine/shared_db.py, which reads it with
-- prenv/core/sqlscript.py). So it keeps to what both understand: plain statements, \ir, \set
-- ON_ERROR_STOP and \gexec. Each step is one query whose rows are the statements to run (\gexec runs
-- each on its own, outside a transaction, as CREATE DATABASE requires); no statement relies on an
-- earlier one's session, as the Data API gives each call whichever connection it has.
\ir session.sql

-- The role may log in and do nothing else. A role that exists with more (superuser, createdb,
-- createrole, replication, bypassrls) or that cannot log in is an error, never silently reduced.
SELECT format('DO $$BEGIN RAISE EXCEPTION USING MESSAGE = %L; END$$', format(
    'role %s exists with attributes a pull request''s role must not have: drop it or use another '
    'PRENV_DB_ROLE', rolname))
FROM pg_roles
WHERE rolname = :'role'
  AND (rolsuper OR rolcreatedb OR rolcreaterole OR rolreplication OR rolbypassrls OR NOT rolcanlogin)
\gexec

-- Nor is it a member of any other role.
SELECT format('DO $$BEGIN RAISE EXCEPTION USING MESSAGE = %L; END$$', format(
    'role %s is a member of %s: a pull request''s role has no other privileges',
    :'role', string_agg(pg_get_userbyid(roleid), ', ' ORDER BY pg_get_userbyid(roleid))))
FROM pg_auth_members
WHERE member = (SELECT oid FROM pg_roles WHERE rolname = :'role')
HAVING count(*) > 0
\gexec

SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS', :'role')
WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = :'role')
\gexec

-- The admin acts for the role: it creates the role's database with the role as owner and, at drop,
-- ends the role's sessions. PostgreSQL 16 no longer lets CREATEROLE do that without membership. The
-- role inherits (the default): as the database's owner it acts through the implicit
-- pg_database_owner role, which owns the public schema (PostgreSQL 15 and later).
SELECT format('GRANT %I TO %I', :'role', current_user)
WHERE NOT pg_has_role(current_user, :'role', 'USAGE')
\gexec

SELECT format('CREATE DATABASE %I OWNER %I', :'db', :'role')
WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db')
\gexec

-- A database of that name that belongs to someone else is not a pull request's: left alone.
SELECT format('DO $$BEGIN RAISE EXCEPTION USING MESSAGE = %L; END$$', format(
    'database %s exists and belongs to %s, not to %s: not a pull request''s database',
    datname, pg_get_userbyid(datdba), :'role'))
FROM pg_database
WHERE datname = :'db' AND pg_get_userbyid(datdba) <> :'role'
\gexec

-- Only the role may connect to its database; and the role may connect nowhere else: PUBLIC loses
-- CONNECT and TEMPORARY on every database the admin may change (the maintenance database, other PRs'
-- databases made before this script revoked it). A database the admin cannot change (on RDS,
-- rdsadmin's) is named in a warning.
SELECT format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', datname)
FROM pg_database
WHERE datallowconn
  AND (has_database_privilege('public', oid, 'CONNECT') OR has_database_privilege('public', oid, 'TEMPORARY'))
  AND pg_has_role(current_user, datdba, 'USAGE')
ORDER BY datname
\gexec

SELECT format('DO $$BEGIN RAISE WARNING USING MESSAGE = %L; END$$', format(
    'database %s (owner %s) stays open to every role: its owner can run '
    'REVOKE CONNECT, TEMPORARY ON DATABASE %s FROM PUBLIC', datname, pg_get_userbyid(datdba), datname))
FROM pg_database
WHERE datallowconn
  AND (has_database_privilege('public', oid, 'CONNECT') OR has_database_privilege('public', oid, 'TEMPORARY'))
  AND NOT pg_has_role(current_user, datdba, 'USAGE')
ORDER BY datname
\gexec
