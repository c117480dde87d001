-- Set the pull request's role's password from standard input (pr-database.sh pipes PRENV_DB_PASSWORD
-- in twice). psql computes the SCRAM verifier and sends only that: the server never sees, and never
-- logs, the password itself.
\password :"role"
