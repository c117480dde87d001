"""prenv in a repository that is not this one, set up as docs/setup.md says, through its workflow.

A throwaway git repository with its own tiny app and Dockerfile gets what docs/setup.md's quick start
writes into it: `prenv init` (run as its command, with this run's bucket and region) writes
`.github/prenv.yml` and prenv's workflows pinned to the release; no Terraform. The workflow's jobs then
run as GitHub would run them for a pull request opened, pushed again and closed: each job's `if:`, its
steps' `if:` and `with:` read from the written workflow file, the
prenv steps run through the action (tests/action/runner.py) from a folder of their own, against the AWS
emulator and the GitHub stand-in. Checkout and AWS credentials are the two steps not run (the workspace
is the clone, the emulator's credentials are in the job's environment); docker is a stand-in
(tests/docker_stub.py) that pushes into the emulator's ECR. The base is the boto3 stand-in
(tests/roots_support/fake_base.py); the preview is the root shipped with prenv, applied for real.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

import prenv
from prenv.core.naming import base_name, names_for, workflow_role_name
from tests import docker_stub
from tests.action import gha_expr
from tests.action.conftest import copy_action, payload
from tests.action.fake_github import FakeGitHub
from tests.action.runner import ActionRun, CompositeRunner
from tests.action.test_action_moto import STAND_INS
from tests.helpers import REPO_ROOT, run_cli
from tests.roots_support.fake_base import create_fake_base

# The shipped roots' fixtures (one environment for Terraform and the emulator, its clients and buckets).
from tests.terraform.conftest import Client, new_bucket, session_boto, tf_env  # noqa: F401 - fixtures

pytestmark = [pytest.mark.terraform, pytest.mark.slow]

GIT = shutil.which("git") or "git"
SETUP = (REPO_ROOT / "docs" / "setup.md").read_text(encoding="utf-8")
ACTION_COMMIT = "0123456789abcdef0123456789abcdef01234567"  # the commit the user pins the action to
PR = 2  # the pull request of GitHub's example payloads

APP = '''"""A tiny app that keeps prenv's app contract: $PORT, /healthz."""
import http.server
import os


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = b"ok" if self.path == "/healthz" else b"hello from PR " + os.environ["PRENV_PR"].encode()
        self.send_response(200)
        self.end_headers()
        self.wfile.write(body)


http.server.ThreadingHTTPServer(("0.0.0.0", int(os.environ["PORT"])), Handler).serve_forever()
'''
DOCKERFILE = """FROM public.ecr.aws/docker/library/python:3.12-alpine
COPY server.py /srv/server.py
USER 10001:10001
EXPOSE 8080
STOPSIGNAL SIGTERM
CMD ["python", "/srv/server.py"]
"""


def documented(marker: str) -> str:
    """The fenced block between `<!-- marker:start ... -->` and `<!-- marker:end -->` of docs/setup.md."""
    match = re.search(rf"<!-- {marker}:start[^>]*-->\n```\w*\n(.*?)```\n<!-- {marker}:end -->", SETUP, re.S)
    assert match, f"docs/setup.md has no {marker} block"
    return match.group(1)


def init_command(bucket: str, region: str) -> list[str]:
    """The quick start's `prenv init` (docs/setup.md), as arguments, with this run's values."""
    (line,) = [line for line in documented("quick-start").splitlines() if line.startswith("prenv init")]
    # The release's commit is looked up with git ls-remote, which needs GitHub: given here instead.
    return [
        *line.split("#", 1)[0].split()[1:],
        "--action-ref",
        ACTION_COMMIT,
        "--bucket",
        bucket,
        "--region",
        region,
    ]


def _git(folder: Path, *args: str, check: bool = True) -> str:
    done = subprocess.run([GIT, "-C", str(folder), *args], capture_output=True, text=True, check=check)
    return done.stdout.strip()


def user_repository(folder: Path, bucket: str, region: str) -> tuple[Path, str]:
    """The throwaway repository, written as docs/setup.md says; returns it and its head commit."""
    folder.mkdir(parents=True)
    (folder / "server.py").write_text(APP, encoding="utf-8")
    (folder / "Dockerfile").write_text(DOCKERFILE, encoding="utf-8")
    _git(folder.parent, "init", "-q", "-b", "main", folder.name)
    env = {"PATH": os.environ["PATH"], "HOME": str(folder.parent / "init-home")}
    done = run_cli(init_command(bucket, region), env=env, cwd=folder)
    assert done.exit_code == 0, done.stdout + done.stderr
    _git(folder, "add", "-A")
    _git(folder, "-c", "user.name=Dev", "-c", "user.email=dev@example.com", "commit", "-q", "-m", "app")
    return folder, _git(folder, "rev-parse", "HEAD")


@dataclass
class Job:
    name: str
    result: str  # success, failure, skipped
    steps: dict[str, Any] = field(default_factory=dict)  # id -> {"outputs": ...}
    runs: list[ActionRun] = field(default_factory=list)  # the prenv steps' runs of the action
    outputs: dict[str, str] = field(default_factory=dict)


@dataclass
class Workflow:
    """One workflow file of the user's repository, its jobs run as GitHub runs them (in `needs` order)."""

    path: Path
    action: Path  # action.yml of the pinned action, in a folder of its own
    workspace: Path
    env: dict[str, str]
    github_api: FakeGitHub
    runner_temp: Path

    def run(self, event_name: str, event: dict[str, Any], event_file: Path) -> dict[str, Job]:
        document = yaml.safe_load(self.path.read_text(encoding="utf-8"))
        event_file.write_text(json.dumps(event), encoding="utf-8")
        github = gha_expr.github_context(event_name, event, workspace=str(self.workspace))
        jobs: dict[str, Job] = {}
        for name, spec in document["jobs"].items():
            needs = spec.get("needs", [])
            needs = [needs] if isinstance(needs, str) else list(needs)
            contexts: dict[str, Any] = {
                "github": github,
                "vars": {
                    "PRENV_AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/x",
                    "PRENV_AWS_REGION": "us-east-1",
                },
                "needs": {n: {"result": jobs[n].result, "outputs": jobs[n].outputs} for n in needs},
            }
            if any(jobs[n].result != "success" for n in needs) or not gha_expr.condition(
                spec.get("if"), contexts
            ):
                jobs[name] = Job(name, "skipped")
                continue
            jobs[name] = self._job(name, spec, contexts, event_file)
        return jobs

    def _job(self, name: str, spec: dict[str, Any], contexts: dict[str, Any], event_file: Path) -> Job:
        job = Job(name, "success")
        contexts["steps"] = job.steps
        for number, step in enumerate(spec["steps"]):
            step_id = str(step.get("id") or f"__{number}")
            if not gha_expr.condition(step.get("if"), contexts):
                job.steps[step_id] = {"outputs": {}, "outcome": "skipped"}
                continue
            uses = str(step.get("uses", ""))
            if uses.startswith(("actions/checkout@", "aws-actions/configure-aws-credentials@")):
                job.steps[step_id] = {"outputs": {}, "outcome": "success"}  # the clone; the emulator's keys
                continue
            assert uses.startswith("OWNER/prenv@"), f"{name}: a step this test does not run: {step}"
            assert uses == f"OWNER/prenv@{ACTION_COMMIT}", uses
            inputs = {k: gha_expr.render(str(v), contexts) for k, v in (step.get("with") or {}).items()}
            runner = CompositeRunner(
                action_file=self.action,
                workspace=self.workspace,
                runner_temp=self.runner_temp,
                github={**contexts["github"]},
                env=dict(self.env),
                event_path=event_file,
                uses=STAND_INS,
            )
            run = runner.run(inputs)
            job.runs.append(run)
            outcome = "failure" if run.failed else "success"
            job.steps[step_id] = {"outputs": run.outputs, "outcome": outcome}
            if run.failed:
                job.result = "failure"
                break
        job.outputs = {k: gha_expr.render(str(v), contexts) for k, v in (spec.get("outputs") or {}).items()}
        return job


def _event(base: str, repository: str, sha: str) -> dict[str, Any]:
    """GitHub's example payload, about the user's repository and its head commit."""
    event = payload(base)
    owner, name = repository.split("/")
    event["repository"].update({"full_name": repository, "name": name})
    event["repository"]["owner"]["login"] = owner
    event["pull_request"]["head"]["repo"] = {**event["pull_request"]["head"]["repo"], "full_name": repository}
    event["pull_request"]["base"]["repo"] = {**event["pull_request"]["base"]["repo"], "full_name": repository}
    event["pull_request"]["head"]["sha"] = sha
    return event


def workflow_credentials(boto: Client, repository: str) -> dict[str, str]:
    """The credentials of the workflows' role (named as terraform/bootstrap names it, made here), as the
    workflow's OIDC step gives them; `prenv doctor --quick` before the first deploy checks the role."""
    trust = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Federated": "github"}, "Action": "sts:AssumeRole"}],
    }
    iam = boto("iam")
    arn = iam.create_role(RoleName=workflow_role_name(repository), AssumeRolePolicyDocument=json.dumps(trust))
    credentials = boto("sts").assume_role(RoleArn=arn["Role"]["Arn"], RoleSessionName="prenv-preview")
    return {
        "AWS_ACCESS_KEY_ID": credentials["Credentials"]["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": credentials["Credentials"]["SecretAccessKey"],
        "AWS_SESSION_TOKEN": credentials["Credentials"]["SessionToken"],
    }


def _failure(job: Job) -> str:
    return "\n".join(step.stdout + step.stderr for run in job.runs for step in run.steps)


def test_a_repository_set_up_as_documented_deploys_redeploys_and_destroys_its_own_app(
    tmp_path: Path,
    tf_env: dict[str, str],  # noqa: F811 - the fixture imported above
    session_boto: Client,  # noqa: F811
    new_bucket: Callable[[], str],  # noqa: F811
    repository: str,
    github_api: FakeGitHub,
) -> None:
    region = tf_env["AWS_REGION"]
    base = create_fake_base(session_boto, repository)
    bucket = new_bucket()
    # Encrypted by default, as terraform/bootstrap makes it (`prenv doctor --quick` checks it).
    session_boto("s3").put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    repo, sha = user_repository(tmp_path / "shop", bucket, region)
    assert not (repo / "terraform").exists()
    assert _git(repo, "grep", "-l", "examples/app", check=False) == ""  # nothing names prenv's own app
    action = copy_action(tmp_path / "actions" / "prenv")  # the pinned action: not the workspace
    home = tmp_path / "home"
    stub = docker_stub.install(tmp_path / "stub-bin")
    env = {
        **tf_env,
        **workflow_credentials(session_boto, repository),
        "PATH": f"{stub}{os.pathsep}{tf_env['PATH']}",
        "HOME": str(home),
        "STUB_DOCKER_LOG": str(tmp_path / "docker-log"),
        "GITHUB_API_URL": github_api.url,
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_RUN_ID": "4242",
    }
    preview = Workflow(
        repo / ".github" / "workflows" / "preview.yml",
        action,
        repo,
        env,
        github_api,
        tmp_path / "runner-temp",
    )
    names = names_for(PR, repository)
    image = f"123456789012.dkr.ecr.{region}.amazonaws.com/{base_name(repository)}:{sha}"
    events = tmp_path / "events"
    events.mkdir()

    # Opened: the image job builds the app from its Dockerfile and pushes it; the deploy job deploys it.
    opened = preview.run(
        "pull_request", _event("pull_request.opened", repository, sha), events / "opened.json"
    )
    assert [(j.name, j.result) for j in opened.values()] == [
        ("image", "success"),
        ("deploy", "success"),
        ("destroy", "skipped"),
        ("wake", "skipped"),
    ], _failure(next(j for j in opened.values() if j.result == "failure"))
    assert opened["image"].outputs == {"image": image, "sha": ""}
    build = next(call for call in docker_stub.calls(tmp_path / "docker-log") if call[0] == "build")
    assert build[-5:] == ["--file", "Dockerfile", "--tag", image, "."]
    deployed = opened["deploy"].runs[0].outputs
    assert (deployed["failure-reason"], deployed["changes"], deployed["workspace"]) == (
        "",
        "true",
        f"pr-{PR}",
    )
    assert deployed["url"] == f"http://{base.alb_dns_name}:{10000 + PR}/"
    ecs = session_boto("ecs")
    (service,) = ecs.describe_services(cluster=base.name, services=[names.ecs_service])["services"]
    task = ecs.describe_task_definition(taskDefinition=service["taskDefinition"])["taskDefinition"]
    (container,) = task["containerDefinitions"]
    assert container["image"] == image  # the user's image, not the placeholder
    assert "command" not in container or not container["command"]
    environment = {entry["name"]: entry["value"] for entry in container["environment"]}
    assert (environment["PORT"], environment["PRENV_HEAD_SHA"]) == ("8080", sha)
    # The preview root shipped with prenv ran, from prenv's cache; nothing was written into the clone.
    roots = sorted(path.name for path in (home / ".cache" / "prenv" / "roots").iterdir())
    assert [name.rsplit("-", 1)[0] for name in roots] == [f"preview-{prenv.__version__}"]
    assert _git(repo, "status", "--porcelain", "--untracked-files=all") == ""

    # Pushed again (same commit, as a re-run): nothing is built, nothing changes.
    again = preview.run(
        "pull_request", _event("pull_request.synchronize", repository, sha), events / "synchronize.json"
    )
    assert again["deploy"].result == "success", _failure(again["deploy"])
    assert again["image"].outputs["image"] == image
    assert [call[0] for call in docker_stub.calls(tmp_path / "docker-log")].count("build") == 1
    assert again["deploy"].runs[0].outputs["changes"] == "false"

    # Closed: the preview is destroyed and its workspace deleted.
    closed = preview.run(
        "pull_request", _event("pull_request.closed.not_merged", repository, sha), events / "closed.json"
    )
    assert [(j.name, j.result) for j in closed.values()] == [
        ("image", "skipped"),
        ("deploy", "skipped"),
        ("destroy", "success"),
        ("wake", "skipped"),
    ], _failure(closed["destroy"])
    destroyed = closed["destroy"].runs[0].outputs
    assert (destroyed["failure-reason"], destroyed["workspace"]) == ("", f"pr-{PR}")
    assert int(destroyed["destroyed"]) > 10
    services = ecs.describe_services(cluster=base.name, services=[names.ecs_service])["services"]
    assert [s["status"] for s in services] in ([], ["INACTIVE"])
    assert github_api.errors == []  # every request body matched GitHub's published request schema
