"""Text and JSON for `prenv status` and `prenv logs`: plain values in, strings and documents out."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from prenv.core import phases
from prenv.core.readiness import init_step_states
from prenv.core.troubleshoot import Location, Status, Task

_LABEL = 17  # width of the label column, as in `kubectl describe`


def _utc(at: datetime) -> datetime:
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)


def stamp(at: datetime | None) -> str:
    return _utc(at).strftime("%Y-%m-%dT%H:%M:%SZ") if at else ""


def ago(at: datetime | None, now: datetime) -> str:
    """`45s`, `3m`, `2h5m`, `3d` before `now`."""
    if at is None:
        return "-"
    seconds = max(0, int((_utc(now) - _utc(at)).total_seconds()))
    if seconds < 120:
        return f"{seconds}s"
    minutes = seconds // 60
    if minutes < 120:
        return f"{minutes}m"
    hours = minutes // 60
    return f"{hours}h{minutes % 60}m" if hours < 48 else f"{hours // 24}d"


def _table(rows: Sequence[Sequence[str]], indent: str = "  ") -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [indent + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]


def _field(label: str, value: str) -> str:
    return f"{label + ':':<{_LABEL}}{value}".rstrip()


def _notes(location: Location) -> list[str]:
    if not location.from_state:
        return [
            f"Note: workspace {location.workspace} has no Terraform state; "
            "these are the names prenv derives for the PR."
        ]
    if location.derived:
        missing = ", ".join(location.derived)
        return [f"Note: the Terraform state has no output {missing}; using the names prenv derives."]
    return []


def _overview(status: Status) -> list[str]:
    loc, svc, db = status.location, status.service, status.database
    lines = [
        _field("Preview", f"PR {loc.pr} (workspace {loc.workspace})"),
        _field("URL", loc.url or "-"),
        _field("Region", loc.region),
        _field("Cluster", loc.cluster or "-"),
    ]
    if svc is None:
        lines.append(_field("Service", f"{loc.service} (not found)"))
    else:
        rollout = svc.rollout_state + (f": {svc.rollout_reason}" if svc.rollout_reason else "")
        lines += [
            _field("Service", f"{svc.name} ({svc.status})"),
            _field("Tasks", f"desired {svc.desired}, running {svc.running}, pending {svc.pending}"),
            _field("Rollout", rollout),
            _field("Task definition", svc.task_definition),
            _field("ECS Exec", "on" if svc.exec_enabled else "off"),
        ]
    if db is None:
        lines.append(_field("Database", f"{loc.db_identifier} (not found)"))
    else:
        version = f"{db.engine} {db.version}".strip()
        lines.append(_field("Database", f"{db.identifier}: {db.status} ({version}) {db.endpoint}"))
    if status.asleep is not None:
        asleep = status.asleep
        lines.append(_field("Asleep", f"since {stamp(asleep.slept_at)} (wake: prenv wake {loc.pr})"))
    lines += [
        _field("Logs", f"{loc.log_group} (prenv logs {loc.pr})"),
        _field("Shell", f"prenv exec {loc.pr}"),
    ]
    return lines


def _task_lines(tasks: Sequence[Task], now: datetime, *, stopped: bool) -> list[str]:
    if not stopped:
        rows = [["TASK", "STATUS", "HEALTH", "TASK DEF", "STARTED"]]
        rows += [
            [t.id, t.last_status, t.health or "-", t.task_definition, f"{ago(t.started_at, now)} ago"]
            for t in tasks
        ]
        steps = [
            f"  {t.id} init steps: {', '.join(init_step_states(t))}" for t in tasks if init_step_states(t)
        ]
        return _table(rows) + steps
    lines: list[str] = []
    for t in tasks:
        why = ": ".join(part for part in (t.stop_code, t.stopped_reason) if part) or "no reason given"
        lines.append(f"  {t.id}  stopped {ago(t.stopped_at, now)} ago  {t.task_definition}  {why}")
        for c in t.containers:
            code = "-" if c.exit_code is None else str(c.exit_code)
            reason = f"  {c.reason}" if c.reason else ""
            lines.append(f"    {c.name}: exit code {code}{reason}")
    return lines


def render_status(status: Status, now: datetime) -> str:
    """`prenv status` for a terminal: a field list, then sections, then hints."""
    lines = _notes(status.location) + _overview(status)
    svc = status.service
    if svc is not None and svc.deployments:
        rows = [["STATUS", "ROLLOUT", "TASK DEF", "DESIRED", "RUNNING", "PENDING", "FAILED"]]
        rows += [
            [d.status, d.rollout_state or "-", d.task_definition]
            + [str(n) for n in (d.desired, d.running, d.pending, d.failed)]
            for d in svc.deployments
        ]
        lines += ["", "Deployments:", *_table(rows)]
    lines += ["", "Running tasks:"]
    lines += _task_lines(status.running, now, stopped=False) if status.running else ["  none"]
    lines += ["", "Stopped tasks (newest first):"]
    lines += _task_lines(status.stopped, now, stopped=True) if status.stopped else ["  none"]
    if status.targets is not None:
        lines += ["", "Targets:"]
        rows = [
            [f"{t.id}:{t.port}" if t.port else t.id, t.state, f"{t.reason} {t.description}".strip()]
            for t in status.targets
        ]
        lines += _table(rows) if rows else ["  none registered"]
    if svc is not None:
        lines += ["", "Events (newest first):"]
        lines += [f"  {ago(e.at, now) + ' ago':>9}  {e.message}" for e in svc.events] or ["  none"]
    if status.hints:
        lines += ["", "Hints:", *(f"  - {hint}" for hint in status.hints)]
    return "\n".join(lines) + "\n"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return stamp(value)
    if isinstance(value, Mapping):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    return value


def _task_document(task: Task) -> dict[str, Any]:
    return {**dataclasses.asdict(task), "init_steps": init_step_states(task)}


def status_document(status: Status) -> dict[str, Any]:
    """`prenv status --json`: every field, times in ISO 8601 UTC."""
    loc = status.location
    svc = status.service
    service = None
    if svc is not None:
        service = {
            **dataclasses.asdict(svc),
            "rollout_state": svc.rollout_state,
            "rollout_reason": svc.rollout_reason,
        }
    document = {
        "pr": loc.pr,
        "workspace": loc.workspace,
        "region": loc.region,
        "cluster": loc.cluster,
        "url": loc.url,
        "log_group": loc.log_group,
        "names_from": "terraform-outputs" if loc.from_state and not loc.derived else "derived",
        "derived": list(loc.derived),
        "service": service,
        "running_tasks": [_task_document(t) for t in status.running],
        "stopped_tasks": [_task_document(t) for t in status.stopped],
        "targets": None if status.targets is None else [dataclasses.asdict(t) for t in status.targets],
        "database": None if status.database is None else dataclasses.asdict(status.database),
        "hints": list(status.hints),
        "asleep": None if status.asleep is None else status.asleep.to_record(),
        "commands": {"logs": f"prenv logs {loc.pr}", "exec": f"prenv exec {loc.pr}"},
    }
    plain: dict[str, Any] = _plain(document)
    return plain


# --- logs ----------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class LogRecord:
    at: datetime
    stream: str
    task: str
    message: str
    event_id: str


def log_record(raw: Mapping[str, Any]) -> LogRecord:
    """A FilterLogEvents event; the task id is the last part of an awslogs stream name."""
    stream = str(raw.get("logStreamName", ""))
    return LogRecord(
        at=datetime.fromtimestamp(int(raw.get("timestamp", 0)) / 1000, tz=UTC),
        stream=stream,
        task=stream.rsplit("/", 1)[-1],
        message=str(raw.get("message", "")).rstrip("\n"),
        event_id=str(raw.get("eventId", "")),
    )


def render_log(record: LogRecord) -> str:
    milliseconds = record.at.strftime("%Y-%m-%dT%H:%M:%S.") + f"{record.at.microsecond // 1000:03d}Z"
    return f"{milliseconds} [{record.task[:8]}] {record.message}"


def log_json(record: LogRecord) -> str:
    document = {
        "time": record.at.isoformat().replace("+00:00", "Z"),
        "task": record.task,
        "stream": record.stream,
        "message": record.message,
    }
    return json.dumps(document, ensure_ascii=False)


def since_start(since: timedelta, now: datetime) -> int:
    """Milliseconds since the epoch of `now - since` (CloudWatch's startTime)."""
    return int((_utc(now) - since).timestamp() * 1000)


def last_deploy_lines(record: Mapping[str, Any] | None) -> list[str]:
    """`prenv status`: when the preview was last deployed, which commit, and how long each phase took
    (the deploy record's `phases`, prenv.core.phases)."""
    if not record:
        return []
    sha = str(record.get("head_sha") or "")[:7]
    line = f"Last deploy: {record.get('deployed_at', 'unknown')}" + (f" (commit {sha})" if sha else "")
    found = phases.from_record(record)
    return ["", line, f"  phases: {phases.summary(found)}" if found else "  phases: not recorded"]


def last_deploy_document(record: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """`prenv status --json`: the same facts as `last_deploy_lines`."""
    if not record:
        return None
    return {
        "deployed_at": record.get("deployed_at"),
        "head_sha": record.get("head_sha"),
        "phases": phases.to_record(phases.from_record(record)),
    }
