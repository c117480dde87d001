"""The phases of a deploy and how long each took: the job summary, the deploy record and `prenv status`
show them, and docs/time-to-url.md models them.

    init       terraform init (S3 backend) and the read of the workspace's state beside it; in shared mode
               the workspace's creation when it has none (otherwise `plan` creates it)
    database   shared mode: the PR's database, role and secret (the server was woken during init)
    plan       terraform plan -out (and its show -json when there is nothing to apply, or in `prenv plan`)
    apply      apply of the saved plan, with show -json of that plan and its report running beside it
               (the phase ends when both have), then the outputs (read from the state object)
    readiness  what the deploy waits for after the apply (the health check)

Pure: the clock is given (`Stopwatch(clock)`), so tests fix every duration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

ORDER = ("init", "database", "plan", "apply", "readiness")


@dataclass(frozen=True)
class Phase:
    name: str
    seconds: float


@dataclass
class Stopwatch:
    """Times the phases of one run with `clock` (the command's clock: `Services.clock`)."""

    clock: Callable[[], datetime]
    phases: list[Phase] = field(default_factory=list)

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time the block as phase `name`; a block that fails is timed too (it shows where time went)."""
        start = self.clock()
        try:
            yield
        finally:
            self.phases.append(Phase(name, max(0.0, (self.clock() - start).total_seconds())))

    def result(self) -> tuple[Phase, ...]:
        return ordered(self.phases)


def ordered(phases: Sequence[Phase]) -> tuple[Phase, ...]:
    rank = {name: index for index, name in enumerate(ORDER)}
    return tuple(sorted(phases, key=lambda p: rank.get(p.name, len(ORDER))))


def to_record(phases: Sequence[Phase]) -> list[dict[str, Any]]:
    """The phases as the deploy record keeps them."""
    return [{"phase": p.name, "seconds": round(p.seconds, 1)} for p in phases]


def from_record(record: Mapping[str, Any] | None) -> tuple[Phase, ...]:
    """The phases a deploy record holds (none when it holds none, or not in this shape)."""
    entries = (record or {}).get("phases")
    found: list[Phase] = []
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        name, seconds = entry.get("phase"), entry.get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float):
            continue
        if isinstance(name, str) and name:
            found.append(Phase(name, float(seconds)))
    return ordered(found)


def duration(seconds: float) -> str:
    """`4.2s`, `1m 05s`: whole seconds from a minute on."""
    if seconds < 60:
        return f"{seconds:.1f}s"
    whole = round(seconds)
    return f"{whole // 60}m {whole % 60:02d}s"


def summary(phases: Sequence[Phase]) -> str:
    """One line: `init 6.1s, plan 9.8s, apply 1m 12s (total 1m 28s)`: the phases run one after the
    other, so the total is the time from init to ready."""
    if not phases:
        return ""
    ordered_phases = ordered(phases)
    parts = ", ".join(f"{p.name} {duration(p.seconds)}" for p in ordered_phases)
    return f"{parts} (total {duration(sum(p.seconds for p in ordered_phases))})"
