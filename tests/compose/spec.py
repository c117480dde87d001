"""docker-compose.yml read as `docker compose` reads it: YAML (with merge keys), `.env` interpolation, and
the start order its `depends_on` conditions give. Used by the static tests and by the native replica."""

from __future__ import annotations

import re
from collections.abc import Mapping
from itertools import pairwise
from pathlib import Path
from typing import Any

import yaml

from tests.helpers import REPO_ROOT

COMPOSE = REPO_ROOT / "docker-compose.yml"
ENV_EXAMPLE = REPO_ROOT / ".env.example"

HEALTHY = "service_healthy"
COMPLETED = "service_completed_successfully"
STARTED = "service_started"

# ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error}, ${NAME?error}; $$ is a literal $.
_VARIABLE = re.compile(r"\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def load(path: Path = COMPOSE) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def env_file(path: Path = ENV_EXAMPLE) -> dict[str, str]:
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


def interpolate(value: Any, env: Mapping[str, str]) -> Any:
    """Compose's variable interpolation, enough for this file (and strict about unset required ones)."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1) or match.group(4)
        operator, argument = match.group(2) or "", match.group(3) or ""
        current = env.get(name)
        unset = current is None or (operator.startswith(":") and current == "")
        if operator.endswith("?") and unset:
            raise KeyError(f"{name}: {argument}")
        if operator.endswith("-") and unset:
            return argument
        return current or ""

    return _VARIABLE.sub(replace, value)


def variables(text: str) -> dict[str, bool]:
    """Variable name -> whether the compose file gives it a default everywhere it is used."""
    found: dict[str, bool] = {}
    for match in _VARIABLE.finditer(text):
        name = match.group(1) or match.group(4)
        if name:
            has_default = (match.group(2) or "").endswith("-")
            found[name] = found.get(name, True) and has_default
    return found


def dependencies(service: Mapping[str, Any]) -> dict[str, str]:
    """dependency -> condition (the short list form means service_started)."""
    depends = service.get("depends_on", {})
    if isinstance(depends, list):
        return dict.fromkeys(depends, STARTED)
    return {name: spec.get("condition", STARTED) for name, spec in depends.items()}


def is_step(service: Mapping[str, Any]) -> bool:
    """A one-shot step (provision, migrate, seed): runs to its end, never restarted."""
    return str(service.get("restart", "no")) == "no"


def start_order(services: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """The services in an order that starts every dependency first (file order among equals)."""
    order: list[str] = []
    pending = list(services)
    while pending:
        ready = [name for name in pending if set(dependencies(services[name])) <= set(order)]
        if not ready:
            raise ValueError(f"depends_on has a cycle among {', '.join(pending)}")
        order.append(ready[0])
        pending.remove(ready[0])
    return order


def waits_for(services: Mapping[str, Mapping[str, Any]], name: str) -> set[str]:
    """Every service `name` waits for, directly or through others."""
    found: set[str] = set()
    pending = list(dependencies(services[name]))
    while pending:
        dependency = pending.pop()
        if dependency not in found and dependency in services:
            found.add(dependency)
            pending.extend(dependencies(services[dependency]))
    return found


def unforced(services: Mapping[str, Mapping[str, Any]], order: list[str]) -> list[str]:
    """Where `order` is not the only possible one: a service that does not wait for the one before it."""
    return [
        f"{later} can start before {earlier} is done"
        for earlier, later in pairwise(order)
        if earlier not in waits_for(services, later)
    ]


def dependency_problems(services: Mapping[str, Mapping[str, Any]]) -> list[str]:
    """What makes a service start too early: a step must complete successfully before its dependants
    start, a long-running service must be healthy."""
    problems = []
    for name, service in services.items():
        for dependency, condition in dependencies(service).items():
            if dependency not in services:
                problems.append(f"{name} depends on {dependency}, which is not a service")
                continue
            wanted = COMPLETED if is_step(services[dependency]) else HEALTHY
            if condition != wanted:
                problems.append(f"{name} waits for {dependency} with {condition}, not {wanted}")
    return problems


def published(service: Mapping[str, Any]) -> dict[int, tuple[str, int]]:
    """container port -> (host address, host port), from `ports` entries ADDRESS:HOST_PORT:CONTAINER_PORT."""
    ports = {}
    for entry in service.get("ports", []):
        parts = str(entry).split(":")
        if len(parts) != 3:
            raise ValueError(f"port {entry!r}: write it as ADDRESS:HOST_PORT:CONTAINER_PORT")
        ports[int(parts[2])] = (parts[0], int(parts[1]))
    return ports
