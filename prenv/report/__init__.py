"""The reporter port and its implementations: the terminal, the GitHub Actions runtime, the PR (sticky
comment and Deployments)."""
