"""The pure core: domain values and decisions over plain values (naming, configuration, plan summaries,
cleanup decisions, the comment marker, masking, diagnosis, prices and cost estimates, the app contract).
Imports nothing outside `prenv.core`, no I/O, no environment, no clients."""
