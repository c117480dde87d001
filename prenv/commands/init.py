"""`prenv init`: writes `.github/prenv.yml` and the workflows (preview, cleanup, fork notice) into the
repository it runs in.

It asks only what it cannot find out: the state bucket and region come from `prenv setup`'s outputs
(kept in prenv's cache) or an existing `.github/prenv.yml`; the build context is `.` when the repository
has a Dockerfile at its root; the app's port and health path and the opt-in label are asked (with the
app contract's defaults) when stdin is a terminal, and every answer has a flag, so it runs unattended.
The workflows are prenv's own (prenv.core.onboarding), pinned to the installed prenv's release.

A file that exists is never overwritten without `--force`: one that already says what init would write
is left alone ("unchanged"), one that differs is kept and named, and init fails (exit 2). Running init
twice changes nothing and says so.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

import prenv
from prenv.commands import wiring
from prenv.commands.wiring import Services
from prenv.core.errors import ExitStatus, UsageError
from prenv.core.onboarding import (
    ACTION_REPOSITORY,
    Answers,
    OnboardingError,
    answers_from_config,
    check_commit,
    check_repository,
    config_text,
    pin_workflow,
)
from prenv.engine import bundled

CONFIG = Path(".github") / "prenv.yml"
WORKFLOWS = Path(".github") / "workflows"
# What is asked when stdin is a terminal and neither a flag nor what init found answers it.
_QUESTIONS = {
    "bucket": "State bucket (prenv setup's output state_bucket)",
    "region": "AWS region of the bucket and the previews",
    "port": "Port the app listens on ($PORT)",
    "health_path": "Path answering 200 when the app can serve",
    "label": "Opt-in label (empty: every PR gets a preview)",
}


@dataclass(frozen=True)
class InitOptions:
    bucket: str | None = None
    region: str | None = None
    context: str | None = None
    dockerfile: str | None = None
    port: int | None = None
    health_path: str | None = None
    label: str | None = None
    action: str = ACTION_REPOSITORY
    action_ref: str = ""
    force: bool = False
    interactive: bool = False  # stdin is a terminal: ask what is still unknown


Ask = Callable[[str, Any], Any]


def _found(services: Services, repository: str) -> dict[str, Any]:
    """What init can find out: prenv setup's outputs, the existing config, a Dockerfile at the root."""
    found: dict[str, Any] = {}
    if (services.cwd / "Dockerfile").is_file():
        found["context"] = "."
    if repository:
        record_path = wiring.setup_record_path(services.environment, repository)
        try:
            record = json.loads(record_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            record = {}
        if isinstance(record, Mapping):
            found.update(
                {key: record[key] for key in ("bucket", "region") if isinstance(record.get(key), str)}
            )
    config = services.cwd / CONFIG
    if config.is_file():
        try:
            document = yaml.safe_load(config.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError):
            document = None
        if isinstance(document, Mapping):
            found.update(answers_from_config(document))
    return found


def _answers(services: Services, options: InitOptions, ask: Ask | None) -> Answers:
    repository = ""
    with contextlib.suppress(UsageError):  # no remote yet: nothing of prenv setup's to find
        repository = wiring.resolve_setup_repository(services)
    values: dict[str, Any] = {**_found(services, repository)}
    for item in fields(InitOptions):
        given = getattr(options, item.name)
        if item.name in {f.name for f in fields(Answers)} and given is not None:
            values[item.name] = given
    for key, question in _QUESTIONS.items():
        if key in values:
            continue
        default = {f.name: f.default for f in fields(Answers)}.get(key)
        if ask is not None:
            values[key] = ask(question, default if isinstance(default, str | int) else None)
        elif key in {"bucket", "region"}:
            raise UsageError(
                f"prenv init cannot find the state bucket's {'name' if key == 'bucket' else 'region'}",
                hint="run prenv setup first (init reads its outputs), or pass --bucket and --region",
            )
    try:
        return Answers(**values).checked()
    except (OnboardingError, TypeError) as exc:
        raise UsageError(str(exc)) from None


def _commit(services: Services, options: InitOptions) -> str:
    tag = f"v{prenv.__version__}"
    try:
        check_repository(options.action)
        if options.action_ref:
            return check_commit(options.action_ref)
    except OnboardingError as exc:
        raise UsageError(str(exc)) from None
    commit = wiring.release_commit(options.action, tag, services.environment.path)
    if not commit:
        raise UsageError(
            f"cannot find the commit of {options.action}@{tag} (the release the workflows pin)",
            hint=f"pass --action-ref <40-hex commit of {tag}> (and --action OWNER/NAME for a fork of prenv)",
        )
    return commit


def planned_files(services: Services, options: InitOptions, ask: Ask | None = None) -> dict[Path, str]:
    """Every file init writes, relative to the repository, and its text."""
    answers = _answers(services, options, ask)
    commit = _commit(services, options)
    source = bundled.workflows_source()
    files = {CONFIG: config_text(answers)}
    for name in bundled.WORKFLOWS:
        text = (source / name).read_text(encoding="utf-8")
        files[WORKFLOWS / name] = pin_workflow(
            text, action=options.action, commit=commit, version=prenv.__version__
        )
    return files


def run(services: Services, options: InitOptions, ask: Ask | None = None) -> ExitStatus:
    files = planned_files(services, options, ask if options.interactive else None)
    written: list[Path] = []
    unchanged: list[Path] = []
    differing: list[Path] = []
    for relative, text in files.items():
        path = services.cwd / relative
        if path.is_file() and path.read_text(encoding="utf-8") == text:
            unchanged.append(relative)
        elif path.exists() and not options.force:
            differing.append(relative)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            written.append(relative)
    out = services.out
    for relative in written:
        out.write(f"prenv init: wrote {relative.as_posix()}\n")
    for relative in unchanged:
        out.write(f"prenv init: unchanged {relative.as_posix()}\n")
    for relative in differing:
        out.write(f"prenv init: kept {relative.as_posix()} (it differs from what prenv init writes)\n")
    out.flush()
    if differing:
        raise UsageError(
            f"{len(differing)} file(s) exist and differ: {', '.join(p.as_posix() for p in differing)}; "
            "nothing of theirs was changed",
            hint="pass --force to overwrite them (read `git diff` afterwards), or edit them yourself",
        )
    if not written:
        out.write("prenv init: nothing changed: every file already says what prenv init writes\n")
    else:
        out.write(
            "prenv init: next: commit these files, set the repository variables `prenv setup` printed, "
            "run `prenv doctor`, and open a pull request\n"
        )
    out.flush()
    return ExitStatus.SUCCESS
