"""The GitHub adapter (PyGithub underneath): REST and GraphQL requests with their retry and host rules,
and the plain values read from GitHub's answers."""
