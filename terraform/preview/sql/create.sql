-- Create a pull request's database and role (pr-database.sh create), or bring them back to this shape.
-- Idempotent: a second run changes nothing. Run by psql as the server's admin (CREATEDB and CREATEROLE,
-- not necessarily a superuser: the RDS master user) with -v db=NAME -v role=NAME; psql quotes both.
-- The password is set separately (password.sql), so it never appears in this SQL.
\ir session.sql

-- The role: may log in, nothing else (no superuser, createdb, createrole, replication, bypassrls, no
-- membership in other roles). An existing role with more is an error, never silently reduced. It
-- inherits (the default): as the database's owner it acts through the implicit pg_database_owner
-- role, which owns the public schema (PostgreSQL 15 and later).
DO $$
DECLARE
    pr_role text := current_setting('prenv.role');
    existing pg_roles;
    member_of text;
BEGIN
    SELECT * INTO existing FROM pg_roles WHERE rolname = pr_role;
    IF NOT FOUND THEN
        EXECUTE format(
            'CREATE ROLE %I LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS',
            pr_role);
    ELSIF existing.rolsuper OR existing.rolcreatedb OR existing.rolcreaterole OR existing.rolreplication
          OR existing.rolbypassrls OR NOT existing.rolcanlogin THEN
        RAISE EXCEPTION 'role % exists with attributes a pull request''s role must not have: drop it or '
            'use another PRENV_DB_ROLE', pr_role;
    END IF;
    SELECT string_agg(pg_get_userbyid(roleid), ', ') INTO member_of
        FROM pg_auth_members WHERE member = (SELECT oid FROM pg_roles WHERE rolname = pr_role);
    IF member_of IS NOT NULL THEN
        RAISE EXCEPTION 'role % is a member of %: a pull request''s role has no other privileges',
            pr_role, member_of;
    END IF;
    -- The admin acts for the role: it creates the role's database with the role as owner and, at drop,
    -- ends the role's sessions. PostgreSQL 16 no longer lets CREATEROLE do that without membership.
    IF NOT pg_has_role(current_user, pr_role, 'USAGE') THEN
        EXECUTE format('GRANT %I TO %I', pr_role, current_user);
    END IF;
END
$$;

-- The database, owned by the role (CREATE DATABASE cannot run inside a DO block or a transaction).
SELECT NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db') AS db_missing \gset
\if :db_missing
CREATE DATABASE :"db" OWNER :"role";
\endif

-- Only the role may connect to it; and the role may connect nowhere else: PUBLIC loses CONNECT and
-- TEMPORARY on every other database the admin may change (the maintenance database, other PRs'
-- databases created before this script revoked it). A database the admin cannot change (on RDS,
-- rdsadmin's) is named in a warning.
DO $$
DECLARE
    pr_db text := current_setting('prenv.db');
    pr_role text := current_setting('prenv.role');
    db_owner text;
    other record;
BEGIN
    SELECT pg_get_userbyid(datdba) INTO db_owner FROM pg_database WHERE datname = pr_db;
    IF db_owner <> pr_role THEN
        RAISE EXCEPTION 'database % exists and belongs to %, not to %: not a pull request''s database',
            pr_db, db_owner, pr_role;
    END IF;
    FOR other IN
        SELECT datname, datdba FROM pg_database
        WHERE datallowconn AND (has_database_privilege('public', oid, 'CONNECT')
                                OR has_database_privilege('public', oid, 'TEMPORARY'))
    LOOP
        IF pg_has_role(current_user, other.datdba, 'USAGE') THEN
            EXECUTE format('REVOKE CONNECT, TEMPORARY ON DATABASE %I FROM PUBLIC', other.datname);
        ELSE
            RAISE WARNING 'database % (owner %) stays open to every role: its owner can run '
                'REVOKE CONNECT, TEMPORARY ON DATABASE % FROM PUBLIC', other.datname,
                pg_get_userbyid(other.datdba), other.datname;
        END IF;
    END LOOP;
END
$$;
