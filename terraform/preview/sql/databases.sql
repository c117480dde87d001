-- Every database on the server that has the shape create.sql gives a pull request's database (owned
-- by a role of the same name); prenv's cleanup keeps those whose name is a pull request's database
-- name and whose workspace no longer exists: the orphans.
SELECT d.datname
FROM pg_database d
JOIN pg_roles r ON r.oid = d.datdba
WHERE r.rolname = d.datname
ORDER BY d.datname;
