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
# The configuration file: its size, how deep its values nest, and how many values its YAML aliases may
# expand to (an "alias bomb" of a few lines expands to billions), so a hostile file is refused at once.
CONFIG_LIMIT_BYTES = 256 * 1024
CONFIG_MAX_DEPTH = 32
CONFIG_MAX_VALUES = 100_000
# The event payload (GITHUB_EVENT_PATH): GitHub caps webhook payloads at 25 MB; GitHub's own nest about
# ten levels deep.
EVENT_LIMIT_BYTES = 25 * 1024 * 1024
EVENT_MAX_DEPTH = 64
# Seconds one mask pattern may run on one text before it is called catastrophic (`config-invalid`).
MASK_PATTERN_TIMEOUT = 0.5
# A repository's template override: how much it may write and for how long it may run.
TEMPLATE_OUTPUT_LIMIT = 2 * 1024 * 1024
TEMPLATE_SECONDS = 5.0
