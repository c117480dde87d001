-- What prenv's shared mode reads before create.sql (it changes nothing): whether the pull request's
-- role exists, and the password version password.sql recorded on it.
SELECT rolname, shobj_description(oid, 'pg_authid') AS password_version
FROM pg_roles
WHERE rolname = :'role';
