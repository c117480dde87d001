"""One module per command, each exposing `run(services, ...)` that returns an exit status; and
`wiring`, what they share: the environment, the ports built once per run, the PR and its context."""
