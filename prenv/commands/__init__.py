"""One module per command. Each exposes `run(services, ...)`, returning an exit status."""
