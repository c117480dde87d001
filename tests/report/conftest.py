"""The reporters' tests use the GitHub adapter's fixtures: the fake API and an adapter on it."""

from __future__ import annotations

from tests.github.conftest import clock, fake, gh

__all__ = ["clock", "fake", "gh"]
