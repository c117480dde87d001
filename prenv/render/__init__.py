"""Pure rendering: plain values in, size-bounded text out (the PR comment, the job summary, the cleanup
report, `prenv status` and `prenv logs`). Imports only `prenv.core` and `prenv.render`."""
