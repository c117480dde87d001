"""Size and range limits, each written once: GitHub's, and the bounds prenv's options accept."""

from __future__ import annotations

# GitHub refuses a comment body longer than this (characters).
COMMENT_LIMIT = 65536
# GitHub's limit for one step's summary is 1 MiB; stay below it with room for the truncation note.
SUMMARY_LIMIT_BYTES = 1024 * 1024 - 4096
# How many previews `prenv cleanup` destroys at once: the CLI option, the configuration and the
# action's `concurrency` input (its check and its description; tests/action holds them to these).
MIN_CONCURRENCY = 1
MAX_CONCURRENCY = 32
