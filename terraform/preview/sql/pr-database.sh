#!/bin/sh
# One pull request's database and role on a shared PostgreSQL server, over psql: the local stack's "PR"
# database (docker-compose.yml's `provision` service), or any server psql reaches. prenv's shared mode
# (database.mode = shared) runs the same SQL files (create.sql, drop.sql, password.sql) through the RDS
# Data API instead, from the runner, with no network path to the server (prenv/engine/shared_db.py).
#
#   pr-database.sh create    create the database and its role, or bring them back to this shape
#   pr-database.sh drop      drop both, ending open connections (WITH (FORCE))
#
# Both are idempotent: a second create changes nothing, a second drop finds nothing to drop.
#
# The server's admin connection comes from libpq's environment: PGHOST, PGPORT, PGUSER, PGPASSWORD,
# PGDATABASE (the admin's maintenance database), PGSSLMODE. The admin needs CREATEDB and CREATEROLE
# (the RDS master user has both); it need not be a superuser. The pull request's settings:
#
#   PRENV_DB_NAME      the database: a lowercase letter, then lowercase letters, digits or _ (63 at most)
#   PRENV_DB_ROLE      its role (same rules; default: PRENV_DB_NAME)
#   PRENV_DB_PASSWORD  the role's password (create only). It never appears on a command line or in SQL
#                      text the server may log: psql's \password reads it from standard input and sends
#                      only a SCRAM verifier computed on the client.
#
# The role owns its database, may log in only there (CONNECT is revoked from PUBLIC on it, and on every
# other database the admin owns) and has no other privilege on the server.
#
# Exit status: 0 done, 1 failed (the reason on stderr), 2 bad usage. Needs psql (15 or later: DROP
# DATABASE ... WITH (FORCE) needs a server of 13 or later) and setsid (util-linux), both in the
# postgres image. POSIX sh.
set -eu

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)

fail() {
    printf 'pr-database: %s\n' "$*" >&2
    exit 1
}

usage() {
    printf 'usage: pr-database.sh create|drop (settings in the environment: see the header of %s)\n' "$0" >&2
    exit 2
}

check_name() { # what, value
    case $2 in
    '' | [!a-z]* | *[!a-z0-9_]*)
        fail "$1 '$2' is not a database name prenv makes: a lowercase letter, then lowercase letters, digits or _"
        ;;
    esac
    [ "${#2}" -le 63 ] || fail "$1 '$2' is longer than 63 characters (PostgreSQL's limit)"
}

[ "$#" -eq 1 ] || usage
action=$1
case $action in create | drop) ;; *) usage ;; esac

db=${PRENV_DB_NAME:-}
[ -n "$db" ] || fail "set PRENV_DB_NAME to the pull request's database name"
role=${PRENV_DB_ROLE:-$db}
check_name PRENV_DB_NAME "$db"
check_name PRENV_DB_ROLE "$role"
case $db in postgres | template0 | template1 | rdsadmin)
    fail "PRENV_DB_NAME '$db' is one of the server's own databases, never a pull request's"
    ;;
esac
case $role in postgres | rdsadmin | rds_* | pg_*)
    fail "PRENV_DB_ROLE '$role' is one of the server's own roles, never a pull request's"
    ;;
esac

admin_sql() { # file: run it as the admin, with the names as psql variables (quoted by psql, :"db")
    psql --no-psqlrc --quiet --set ON_ERROR_STOP=1 --set db="$db" --set role="$role" --file "$here/$1"
}

# Whether the role can log in to its database with PRENV_DB_PASSWORD (set for psql alone, never argv).
can_log_in() {
    PGUSER=$role PGDATABASE=$db PGPASSWORD=$PRENV_DB_PASSWORD \
        psql --no-psqlrc --quiet --tuples-only --command 'SELECT 1' >/dev/null 2>&1
}

if [ "$action" = drop ]; then
    admin_sql drop.sql || fail "could not drop database $db and role $role (psql's error above)"
    printf 'pr-database: database %s and role %s are gone\n' "$db" "$role"
    exit 0
fi

[ -n "${PRENV_DB_PASSWORD:-}" ] || fail "set PRENV_DB_PASSWORD to the role's password (create needs it)"
admin_sql create.sql || fail "could not create database $db and role $role (psql's error above)"
if can_log_in; then
    password="unchanged"
else
    # \password asks twice; with no terminal (setsid: a new session has none) it reads standard input.
    # printf is a shell builtin: the password is in no process's arguments.
    if ! output=$(printf '%s\n%s\n' "$PRENV_DB_PASSWORD" "$PRENV_DB_PASSWORD" |
        setsid -w psql --no-psqlrc --quiet --set ON_ERROR_STOP=1 --set role="$role" \
            --set password_version="set by pr-database.sh" --file "$here/password.sql" 2>&1); then
        printf '%s\n' "$output" | sed -e 's/^Enter new password for user "[^"]*": *//' \
            -e 's/^Enter it again: *//' -e '/^$/d' >&2
        fail "could not set the password of role $role"
    fi
    can_log_in || fail "role $role cannot log in to database $db with PRENV_DB_PASSWORD (check pg_hba.conf and PGSSLMODE)"
    password="set"
fi
printf 'pr-database: database %s owned by role %s: ready (password %s)\n' "$db" "$role" "$password"
