"""The security rules of the workflows and the action, read from the files themselves."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.action import gha_expr
from tests.action.conftest import ACTION, WORKFLOWS, load_yaml, triggers
from tests.helpers import REPO_ROOT

WORKFLOW_FILES = sorted(WORKFLOWS.glob("*.yml"))
FILES = [*WORKFLOW_FILES, ACTION]
DEPLOYER = {"contents": "read", "pull-requests": "write", "deployments": "write", "id-token": "write"}
JOB_PERMISSIONS = {
    ("fork-notice.yml", "comment"): {"pull-requests": "write"},
    ("preview.yml", "image"): {"contents": "read", "pull-requests": "write", "id-token": "write"},
    ("preview.yml", "deploy"): DEPLOYER,
    ("preview.yml", "destroy"): DEPLOYER,
    # No Deployments: a wake changes no deployment, it scales the preview back (issue 17).
    ("preview.yml", "wake"): {"contents": "read", "pull-requests": "write", "id-token": "write"},
    ("cleanup.yml", "cleanup"): DEPLOYER,
    ("ci.yml", "ci"): {"contents": "read"},
}


def _steps(path: Path) -> list[dict[str, Any]]:
    document = load_yaml(path)
    if path == ACTION:
        return list(document["runs"]["steps"])
    return [step for job in document["jobs"].values() for step in job.get("steps", [])]


def test_the_workflows_are_the_expected_ones() -> None:
    assert [path.name for path in WORKFLOW_FILES] == [
        "ci.yml",
        "cleanup.yml",
        "fork-notice.yml",
        "preview.yml",
    ]


def test_preview_triggers() -> None:
    assert triggers(load_yaml(WORKFLOWS / "preview.yml")) == {
        "pull_request": {"types": ["opened", "synchronize", "reopened", "closed", "labeled"]},
        "issue_comment": {"types": ["created"]},
    }


def test_cleanup_triggers() -> None:
    on = triggers(load_yaml(WORKFLOWS / "cleanup.yml"))
    assert set(on) == {"schedule", "workflow_dispatch"}
    assert on["schedule"][0]["cron"]
    inputs = on["workflow_dispatch"]["inputs"]
    assert (inputs["dry-run"]["type"], inputs["max-age"]["type"]) == ("boolean", "string")


def test_ci_runs_the_project_checks_on_every_push_and_pr() -> None:
    ci = load_yaml(WORKFLOWS / "ci.yml")
    assert set(triggers(ci)) == {"push", "pull_request"}
    assert any(step.get("run") == "bash .ci/run" for step in _steps(WORKFLOWS / "ci.yml"))


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_no_permissions_by_default_and_the_least_per_job(path: Path) -> None:
    workflow = load_yaml(path)
    assert workflow["permissions"] == {}
    for name, job in workflow["jobs"].items():
        assert job["permissions"] == JOB_PERMISSIONS[(path.name, name)], f"{path.name}: {name}"


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_every_job_has_a_timeout(path: Path) -> None:
    for name, job in load_yaml(path)["jobs"].items():
        assert isinstance(job.get("timeout-minutes"), int), f"{path.name}: {name}"
        assert 0 < job["timeout-minutes"] <= 90


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_no_expression_inside_a_script(path: Path) -> None:
    for step in _steps(path):
        assert "${{" not in str(step.get("run", "")), f"{path.name}: {step.get('name')}"


@pytest.mark.parametrize("path", WORKFLOW_FILES, ids=lambda p: p.name)
def test_pull_request_target_only_for_the_fork_notice(path: Path) -> None:
    assert ("pull_request_target" in triggers(load_yaml(path))) is (path.name == "fork-notice.yml")


def test_the_fork_notice_runs_nothing_from_the_pr() -> None:
    path = WORKFLOWS / "fork-notice.yml"
    text = path.read_text(encoding="utf-8")
    # No checkout and no action at all: the job's only step is its own script.
    assert not any("uses" in step for step in _steps(path))
    assert not re.search(r"^\s*-?\s*uses:", text, re.M)
    # From the event: the PR number (through env) and, in the job's `if:`, the head repository's name.
    assert sorted(set(re.findall(r"github\.event\.[\w.]+", text))) == [
        "github.event.pull_request.head.repo.full_name",
        "github.event.pull_request.number",
    ]
    job = load_yaml(path)["jobs"]["comment"]
    assert "github.event.pull_request.head.repo.full_name" in job["if"]
    (step,) = job["steps"]
    assert step["env"]["PR_NUMBER"] == "${{ github.event.pull_request.number }}"
    # The trigger's zizmor ignore states why it is safe.
    trigger = next(line for line in text.splitlines() if line.strip().startswith("pull_request_target:"))
    assert trigger.endswith("# zizmor: ignore[dangerous-triggers]")
    assert "no checkout, fixed text, only the PR number from the event, through env" in text


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_no_stored_secrets(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert not re.search(r"\bsecrets\.", text)
    assert "aws-access-key-id" not in text


def test_every_checkout_drops_its_credentials() -> None:
    checkouts = [
        step
        for path in WORKFLOW_FILES
        for step in _steps(path)
        if str(step.get("uses", "")).startswith("actions/checkout@")
    ]
    assert len(checkouts) == 6
    assert all(step["with"]["persist-credentials"] is False for step in checkouts)


def test_aws_credentials_come_from_oidc_with_the_role_variable() -> None:
    steps = [
        step
        for path in WORKFLOW_FILES
        for step in _steps(path)
        if str(step.get("uses", "")).startswith("aws-actions/configure-aws-credentials@")
    ]
    assert len(steps) == 5
    for step in steps:
        assert step["with"]["role-to-assume"] == "${{ vars.PRENV_AWS_ROLE_ARN }}"
        assert step["with"]["aws-region"] == "${{ vars.PRENV_AWS_REGION }}"


@pytest.mark.parametrize(
    ("inputs", "dry_run", "max_age"),
    [
        ({}, "false", ""),
        ({"dry-run": True, "max-age": "3d"}, "true", "3d"),
        ({"dry-run": False}, "false", ""),
    ],
    ids=["schedule", "dispatch dry run", "dispatch real run"],
)
def test_cleanup_passes_its_dispatch_inputs(inputs: dict[str, Any], dry_run: str, max_age: str) -> None:
    step = next(s for s in _steps(WORKFLOWS / "cleanup.yml") if s.get("uses") == "./")
    contexts = {"inputs": inputs}
    assert step["with"]["command"] == "cleanup"
    assert gha_expr.render(step["with"]["dry-run"], contexts) == dry_run
    assert gha_expr.render(step["with"]["max-age"], contexts) == max_age


def test_the_action_uses_every_input_and_maps_every_output() -> None:
    action = load_yaml(ACTION)
    text = ACTION.read_text(encoding="utf-8")
    used = set(re.findall(r"inputs\.([A-Za-z0-9_-]+)", text))
    assert used == set(action["inputs"])
    for name, spec in action["outputs"].items():
        assert spec["value"] == f"${{{{ steps.run.outputs.{name} }}}}"
    assert "github.event" not in text  # the action reads the event only through prenv


def test_the_action_runs_terraform_setup_without_its_wrapper_and_only_when_needed() -> None:
    step = next(s for s in _steps(ACTION) if str(s.get("uses", "")).startswith("hashicorp/setup-terraform@"))
    assert step["with"]["terraform_wrapper"] is False
    assert step["if"] == "steps.prepare.outputs.terraform-setup == 'true'"


def test_the_repository_config_is_valid_and_prices_the_documented_sizes() -> None:
    from prenv.core import config

    example = config.load(REPO_ROOT / ".github" / "prenv.yml")
    assert example.terraform.root == ""  # the preview root shipped with prenv, as in any repository
    variables = example.terraform.variables
    assert (variables["cpu"], variables["memory"]) == (256, 512)
    assert (variables["db_instance_class"], variables["db_allocated_storage"]) == ("db.t4g.micro", 20)
    # This repository's previews build examples/app the way any repository builds its app: build.*.
    assert (example.build.context, example.build.dockerfile) == ("examples/app", "")
    # examples/app's health endpoint is /healthz (load balancer and prenv).
    assert example.app.health_path == "/healthz"
    # Readiness from AWS (the target group asks /healthz); the runner's HTTP probe stays off.
    assert example.readiness.enabled
    assert (example.health_check.enabled, example.health_check.path) == (False, "/healthz")
    # The init steps are examples/app's, as docker-compose.yml runs them.
    compose = load_yaml(REPO_ROOT / "docker-compose.yml")["services"]
    assert example.hooks.migrate == compose["migrate"]["command"]
    assert example.hooks.seed == compose["seed"]["command"]
    setup = (REPO_ROOT / "docs" / "setup.md").read_text(encoding="utf-8")
    assert "0.25 vCPU" in setup
    assert "db.t4g.micro" in setup
