"""pytest plugin: record the AWS calls of every test, then evaluate prenv's against the IAM policies.

Registered in tests/conftest.py (`pytest_plugins`). When the session's moto server starts, the recorder
is wrapped around it; each test's calls are evaluated when the test ends (after its teardown, so a
module fixture's calls count for the test that set it up or tore it down). A denied call, or a call of an
operation tests/iam/table.py does not know, fails that test at teardown with the calls listed. Works per
xdist worker: each worker has its own moto server, recorder and simulator.

Which calls are evaluated (tests/iam/README.md says why):
- prenv's own calls and those of the S3 backend of every Terraform run prenv starts;
- the AWS provider's calls of those runs, in tests that run the shipped roots (they use `tf_env`);
  the light example root (prenv/sandbox_root) runs only in the emulator and is not the role's business;
- never the tests' own calls, nor a maintainer's apply of terraform/base or terraform/bootstrap.

`PRENV_IAM_RECORD=<directory>` also writes each worker's calls and evaluated requests there (the input of
`python -m tests.iam.snapshot`, which refreshes tests/iam/recorded.json).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.iam import recorder as rec
from tests.iam.cases import preview_role_requests
from tests.iam.policies import Policies, instantiate, render
from tests.iam.simulator import ALLOWED, Request, Simulator, SimulatorUnavailable
from tests.iam.table import DATA_GAPS, Registry, UnknownOperation, requests_for

EVALUATED_ACTORS = {"prenv", "terraform"}
SHIPPED_ROOTS_FIXTURE = "tf_env"

# Tests whose prenv calls leave the bootstrap role's scope on purpose: each entry names the test (its
# function name, so a move keeps it) and the operations, with the reason. An entry whose calls are all
# allowed fails too: the exemption is no longer needed.
_SEARCH = frozenset(
    {("ecs", "ListClusters"), ("ecs", "DescribeServices"), ("ecs", "ListTasks"), ("ecs", "DescribeTasks")}
)
_SEARCH_REASON = (
    "a state without the ecs_cluster output: prenv looks for the service in every cluster of the "
    "account (prenv/commands/locate.py, find_service), which the bootstrap role may not list or read; "
    "terraform/preview always outputs its cluster"
)
EXEMPT: dict[str, tuple[frozenset[tuple[str, str]], str]] = {
    "test_without_outputs_the_names_prenv_derives_are_used": (_SEARCH, _SEARCH_REASON),
    "test_a_pr_without_a_preview_is_a_clear_failure": (_SEARCH, _SEARCH_REASON),
    "test_exec_needs_a_running_task": (_SEARCH, _SEARCH_REASON),
    "test_sign_in_comes_first_on_the_preview_rule": (
        frozenset({("secretsmanager", "GetSecretValue")}),
        "terraform/preview's oidc reads the identity provider's client secret, which the bootstrap role "
        "may read only once the maintainer grants it (extra_policy_documents, docs/setup.md)",
    ),
    "test_run_on_a_pr_without_a_preview_is_preview_not_found": (_SEARCH, _SEARCH_REASON),
}


@dataclass
class Evaluated:
    call: rec.Call
    request: Request
    result: str
    repository: str
    bucket: str
    role: str = "bootstrap"  # or the preview role (evaluated with the permissions boundary)


@dataclass
class State:
    recorder: rec.Recorder | None = None
    emulator: Any = None
    current: str = ""
    cursor: int = 0
    registry: Registry = field(default_factory=Registry)
    simulator: Simulator | None = None
    example: Policies | None = None
    evaluated: list[Evaluated] = field(default_factory=list)


STATE = State()


def _evaluated_actor(call: rec.Call, item: pytest.Item) -> bool:
    if call.actor in EVALUATED_ACTORS:
        return True
    return call.actor == "provider" and SHIPPED_ROOTS_FIXTURE in getattr(item, "fixturenames", ())


def _repositories(item: pytest.Item, calls: list[rec.Call]) -> list[str]:
    """The repositories the test deployed: its `repository` fixture, or a fixture value's
    `.repository`; else the prenv:repository tag prenv sent."""
    found: list[str] = []
    for name, value in getattr(item, "funcargs", {}).items():
        candidate = value if name == "repository" else getattr(value, "repository", None)
        if isinstance(candidate, str) and "/" in candidate and candidate not in found:
            found.append(candidate)
    if not found:
        for call in calls:
            for text in _tag_values(call.params, "prenv:repository"):
                if text not in found:
                    found.append(text)
    return found


def _tag_values(value: Any, key: str) -> Iterator[str]:
    if isinstance(value, dict):
        if value.get("Key") == key and isinstance(value.get("Value"), str):
            yield value["Value"]
        if key in value and isinstance(value[key], str):
            yield value[key]
        for inner in value.values():
            yield from _tag_values(inner, key)
    elif isinstance(value, list):
        for inner in value:
            yield from _tag_values(inner, key)


def _policies(repository: str, bucket: str) -> Policies:
    assert STATE.example is not None
    return instantiate(STATE.example, repository, bucket)


def _simulator() -> Simulator:
    if STATE.simulator is None:
        STATE.simulator = Simulator()
    return STATE.simulator


def _example_policies() -> Policies:
    if STATE.example is None:
        STATE.example = render(STATE.emulator)
    return STATE.example


def evaluate(policies: Policies, request: Request) -> str:
    return _simulator().evaluate(
        policies.role_arn,
        request,
        policies.identity,
        boundary={"github-boundary": policies.role_boundary},
        unvalidated=request.action in DATA_GAPS,
    )


def _collect(item: pytest.Item) -> tuple[list[tuple[rec.Call, list[Request]]], list[str]]:
    """The calls recorded since the last check, replayed into the registry; `item`'s evaluated ones
    with their authorizations, and the problems found on the way (unparsed requests, unknown rows)."""
    recorder = STATE.recorder
    assert recorder is not None
    calls = recorder.calls[STATE.cursor :]
    STATE.cursor += len(calls)
    problems = [f"the recorder could not parse {error}" for error in recorder.errors]
    recorder.errors.clear()
    chosen = {id(c) for c in calls if c.test == item.nodeid and _evaluated_actor(c, item)}
    pending: list[tuple[rec.Call, list[Request]]] = []
    for call in calls:
        if id(call) in chosen:
            try:
                pending.append((call, requests_for(call, STATE.registry)))
            except UnknownOperation as exc:
                problems.append(f"{call.actor}: {exc}")
            except (KeyError, TypeError, IndexError) as exc:
                problems.append(
                    f"{call.actor}: {call.service} {call.operation}: the row failed on this call: {exc!r}"
                )
        STATE.registry.observe(call)
    return pending, problems


def _check(item: pytest.Item) -> list[str]:
    """Evaluate the calls recorded since the last check; the problems found in `item`'s calls."""
    if STATE.recorder is None:
        return []
    pending, problems = _collect(item)
    if not pending:
        return problems
    example = _example_policies()
    repositories = _repositories(item, [c for c, _ in pending]) or [example.repository]
    buckets = sorted({c.params["Bucket"] for c, _ in pending if c.service == "s3"}) or [example.bucket]
    function = getattr(item, "originalname", item.name)
    exempt_ops, reason = EXEMPT.get(function, (frozenset(), ""))
    exempt_denied = 0
    for call, requests in pending:
        bucket = call.params.get("Bucket", buckets[0]) if call.service == "s3" else buckets[0]
        for request in requests:
            try:
                results = {r: evaluate(_policies(r, bucket), request) for r in repositories}
            except ValueError as exc:
                problems.append(f"{call.actor}: {call.service} {call.operation}: {exc}")
                continue
            repository = next((r for r, result in results.items() if result == ALLOWED), repositories[0])
            result = results[repository]
            STATE.evaluated.append(Evaluated(call, request, result, repository, bucket))
            if (call.service, call.operation) in exempt_ops:
                exempt_denied += result != ALLOWED
            elif result != ALLOWED:
                problems.append(f"{call.actor}: {call.service} {call.operation}: {result}: {request}")
        if (call.service, call.operation) == ("ecs", "RegisterTaskDefinition"):
            problems += _check_preview_roles(call, repositories, buckets[0])
    if exempt_ops and not exempt_denied:
        problems.append(
            f"{function} is exempt ({reason}), but none of its calls was denied: drop the exemption"
        )
    return problems


def _check_preview_roles(call: rec.Call, repositories: list[str], bucket: str) -> list[str]:
    """What ECS does with the task definition's roles, under each role's inline policies and the
    permissions boundary (which the role must carry)."""
    problems: list[str] = []
    for role, wanted in preview_role_requests(call, STATE.registry):
        name = role.rsplit("/", 1)[-1]
        tags = STATE.registry.tags.get(role, {})
        principal_tags = {f"aws:PrincipalTag/{k}": v for k, v in tags.items()}
        request = Request(wanted.action, wanted.resource, {**wanted.context, **principal_tags}, wanted.why)
        results: dict[str, str] = {}
        for repository in repositories:
            policies = _policies(repository, bucket)
            if STATE.registry.boundaries.get(name) != policies.boundary_arn:
                results[repository] = f"no permissions boundary {policies.boundary_arn}"
                continue
            try:
                results[repository] = _simulator().evaluate(
                    role,
                    request,
                    STATE.registry.inline.get(name, {}),
                    boundary={"boundary": policies.boundary},
                )
            except ValueError as exc:
                results[repository] = str(exc)
        repository = next((r for r, result in results.items() if result == ALLOWED), repositories[0])
        STATE.evaluated.append(Evaluated(call, request, results[repository], repository, bucket, role=name))
        if results[repository] != ALLOWED:
            problems.append(f"preview role {name}: {results[repository]}: {request}")
    return problems


# --- hooks -------------------------------------------------------------------------------------------


@pytest.hookimpl(hookwrapper=True)
def pytest_fixture_setup(fixturedef: Any, request: Any) -> Iterator[None]:
    outcome = yield
    if fixturedef.argname == "moto_server" and STATE.recorder is None:
        emulator = outcome.get_result()
        STATE.emulator = emulator
        STATE.recorder = rec.install(emulator.server)
        STATE.recorder.test = STATE.current


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    STATE.current = item.nodeid
    if STATE.recorder is not None:
        STATE.recorder.test = item.nodeid


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    if call.when != "teardown" or STATE.recorder is None:
        return
    report = outcome.get_result()
    try:
        problems = _check(item)
    except SimulatorUnavailable as exc:
        problems = [str(exc)]
    if problems:
        report.outcome = "failed"
        shown = problems[:40] + ([f"... and {len(problems) - 40} more"] if len(problems) > 40 else [])
        report.longrepr = "AWS calls the bootstrap role may not make (tests/iam):\n  " + "\n  ".join(shown)


def pytest_sessionfinish(session: pytest.Session) -> None:
    directory = os.environ.get("PRENV_IAM_RECORD")
    if directory and STATE.recorder is not None:
        worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
        Path(directory).mkdir(parents=True, exist_ok=True)
        document = {
            "calls": [c.as_dict() for c in STATE.recorder.calls],
            "evaluated": [
                {
                    "call": {"service": e.call.service, "operation": e.call.operation, "actor": e.call.actor},
                    "action": e.request.action,
                    "resource": e.request.resource,
                    "context": dict(e.request.context),
                    "why": e.request.why,
                    "result": e.result,
                    "test": e.call.test,
                    "repository": e.repository,
                    "bucket": e.bucket,
                    "role": e.role,
                    "resource_policy": e.request.resource_policy,
                }
                for e in STATE.evaluated
            ],
        }
        (Path(directory) / f"{worker}.json").write_text(json.dumps(document), encoding="utf-8")
    if STATE.simulator is not None:
        STATE.simulator.close()
