"""From zero to a preview and back, as docs/setup.md's quick start says: `prenv setup` (the bootstrap and
base roots shipped with prenv, applied for real against the emulator), `prenv init` in a throwaway
repository with its own app and Dockerfile, a pull request opened and closed through the workflow init
wrote (its jobs run as GitHub runs them, tests/action/test_any_repository.py's machinery), then
`prenv setup --destroy`, after which nothing tagged for the repository is left.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from botocore.exceptions import ClientError

from prenv.core.naming import base_name, names_for
from tests import docker_stub
from tests.action.conftest import copy_action
from tests.action.fake_github import FakeGitHub
from tests.action.test_any_repository import (
    ACTION_COMMIT,
    APP,
    DOCKERFILE,
    PR,
    Workflow,
    _event,
    _failure,
    _git,
)
from tests.helpers import run_cli

# The shipped roots' fixtures (one environment for Terraform and the emulator, its clients).
from tests.terraform.conftest import Client, session_boto, tf_env  # noqa: F401 - fixtures

pytestmark = [pytest.mark.terraform, pytest.mark.slow]
ACCOUNT = "123456789012"  # moto's


def _over_tls(monkeypatch: pytest.MonkeyPatch) -> None:
    """The emulator answers over plain HTTP, where AWS answers over TLS; and moto 5 evaluates a Deny
    statement whose condition does not hold as a denial (`IAMPolicyStatement.is_action_permitted`: a
    failed condition returns DENIED, where AWS ignores the statement). So the state bucket's
    `DenyInsecureTransport` statement (terraform/bootstrap) would refuse every request. The in-process
    server evaluates bucket policies as AWS does for a TLS request: without that statement."""
    from moto.iam.access_control import IAMPolicy, PermissionResult
    from moto.s3.models import FakeBucket

    def insecure_transport_only(statement: dict[str, Any]) -> bool:
        condition = statement.get("Condition", {})
        return statement.get("Effect") == "Deny" and condition == {"Bool": {"aws:SecureTransport": "false"}}

    def get_permission(self: FakeBucket, action: str, resource: str) -> Any:
        if self.policy is None:
            return PermissionResult.NEUTRAL
        document = json.loads(self.policy)
        statements = document["Statement"]
        statements = statements if isinstance(statements, list) else [statements]
        kept = [statement for statement in statements if not insecure_transport_only(statement)]
        if not kept:
            return PermissionResult.NEUTRAL
        return IAMPolicy(json.dumps({**document, "Statement": kept})).is_action_permitted(action, resource)

    monkeypatch.setattr(FakeBucket, "get_permission", get_permission)


def _missing(call: Callable[[], Any]) -> bool:
    try:
        call()
    except ClientError:
        return True
    return False


def _left_behind(boto: Client, repository: str) -> dict[str, list[str]]:
    """What is still there of the repository's set-up, by the tagging API and per service."""
    name = base_name(repository)
    tagged = [
        item["ResourceARN"]
        for page in boto("resourcegroupstaggingapi")
        .get_paginator("get_resources")
        .paginate(TagFilters=[{"Key": "prenv:repository", "Values": [repository]}])
        for item in page["ResourceTagMappingList"]
    ]
    ecs = boto("ecs")

    def deleted(arn: str) -> bool:
        """What AWS (and moto) keep listing, tagged, after its deletion: task definitions, services and
        clusters (INACTIVE, or no longer described), NAT gateways (`deleted`)."""
        if ":service/" in arn:
            _, cluster, name = arn.split(":", 5)[5].split("/", 2)
            try:
                services = ecs.describe_services(cluster=cluster, services=[name])["services"]
            except ClientError:  # its cluster is gone
                return True
            return all(s["status"] == "INACTIVE" for s in services)
        if ":task-definition/" in arn:
            return ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]["status"] == "INACTIVE"
        if ":ecs:" in arn and ":cluster/" in arn:
            return all(c["status"] == "INACTIVE" for c in ecs.describe_clusters(clusters=[arn])["clusters"])
        if ":natgateway/" in arn:
            gateways = boto("ec2").describe_nat_gateways(NatGatewayIds=[arn.rsplit("/", 1)[1]])["NatGateways"]
            return all(g["State"] == "deleted" for g in gateways)
        return False

    live = [arn for arn in tagged if not deleted(arn)]
    iam = boto("iam")
    found = {
        "tagged": live,
        "s3": [b["Name"] for b in boto("s3").list_buckets()["Buckets"] if b["Name"].startswith(name)],
        "iam roles": [r["RoleName"] for r in iam.list_roles()["Roles"] if r["RoleName"].startswith(name)],
        "iam policies": [
            p["PolicyName"]
            for p in iam.list_policies(Scope="Local")["Policies"]
            if p["PolicyName"].startswith(name)
        ],
        "oidc providers": [
            p["Arn"] for p in iam.list_open_id_connect_providers()["OpenIDConnectProviderList"]
        ],
        "ecr": [
            r["repositoryName"]
            for r in boto("ecr").describe_repositories()["repositories"]
            if r["repositoryName"] == name
        ],
        "ecs": [
            c["clusterName"]
            for c in ecs.describe_clusters(clusters=[name])["clusters"]
            if c.get("status") == "ACTIVE"
        ],
        "load balancers": [
            lb["LoadBalancerName"]
            for lb in boto("elbv2").describe_load_balancers()["LoadBalancers"]
            if lb["LoadBalancerName"].startswith(name)
        ],
        "vpcs": [
            v["VpcId"]
            for v in boto("ec2").describe_vpcs(
                Filters=[{"Name": "tag:prenv:repository", "Values": [repository]}]
            )["Vpcs"]
        ],
        "db subnet groups": [
            g["DBSubnetGroupName"]
            for g in boto("rds").describe_db_subnet_groups()["DBSubnetGroups"]
            if g["DBSubnetGroupName"].startswith(name)
        ],
        "log groups": [
            g["logGroupName"]
            for g in boto("logs").describe_log_groups(
                logGroupNamePrefix=f"/prenv/{name.removeprefix('prenv-')}"
            )["logGroups"]
        ],
    }
    return {kind: items for kind, items in found.items() if items}


def test_setup_init_a_preview_and_setup_destroy_leave_nothing_behind(
    tmp_path: Path,
    tf_env: dict[str, str],  # noqa: F811 - the fixture imported above
    session_boto: Client,  # noqa: F811
    repository: str,
    github_api: FakeGitHub,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _over_tls(monkeypatch)
    region = tf_env["AWS_REGION"]
    repo = tmp_path / "shop"
    repo.mkdir()
    (repo / "server.py").write_text(APP, encoding="utf-8")
    (repo / "Dockerfile").write_text(DOCKERFILE, encoding="utf-8")
    _git(tmp_path, "init", "-q", "-b", "main", "shop")
    _git(repo, "remote", "add", "origin", f"https://github.com/{repository}.git")
    home = tmp_path / "home"
    env = {**tf_env, "HOME": str(home)}
    bucket = f"{base_name(repository)}-tfstate-{ACCOUNT}"
    s3 = session_boto("s3")

    # 1. prenv setup: bootstrap (its state moved into the bucket it made), then base; the variables to set.
    setup = run_cli(["setup", "--region", region], env=env, cwd=repo)
    assert setup.exit_code == 0, setup.stdout + setup.stderr
    role = f"arn:aws:iam::{ACCOUNT}:role/{base_name(repository)}-github-preview"
    assert f"  gh variable set PRENV_AWS_ROLE_ARN --body {role} --repo {repository}" in setup.stdout
    assert f"  gh variable set PRENV_AWS_REGION --body {region} --repo {repository}" in setup.stdout
    assert f"prenv setup: the bootstrap's state moved into s3://{bucket}/bootstrap.tfstate" in setup.stdout
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
    assert keys == {"bootstrap.tfstate", "base.tfstate"}
    assert sorted(p.name for p in repo.iterdir()) == [".git", "Dockerfile", "server.py"]  # no local state

    # Again: the bootstrap from its state in the bucket; nothing changes.
    again = run_cli(["setup", "--region", region], env=env, cwd=repo)
    assert again.exit_code == 0, again.stdout + again.stderr
    assert "prenv setup: terraform/bootstrap: no changes" in again.stdout
    assert "prenv setup: terraform/base: no changes" in again.stdout

    # 2. prenv init: the bucket and region from setup, the build context from the Dockerfile at the root.
    init = run_cli(["init", "--action-ref", ACTION_COMMIT], env=env, cwd=repo)
    assert init.exit_code == 0, init.stdout + init.stderr
    config = yaml.safe_load((repo / ".github" / "prenv.yml").read_text(encoding="utf-8"))
    assert config["backend"] == {"bucket": bucket, "region": region}
    assert config["build"]["context"] == "."
    twice = run_cli(["init", "--action-ref", ACTION_COMMIT], env=env, cwd=repo)
    assert twice.exit_code == 0
    assert twice.stdout.splitlines()[-1].startswith("prenv init: nothing changed")
    _git(repo, "add", "-A")
    _git(repo, "-c", "user.name=Dev", "-c", "user.email=dev@example.com", "commit", "-q", "-m", "prenv")
    sha = _git(repo, "rev-parse", "HEAD")

    # 3. A pull request opened: the workflow init wrote builds the app and deploys it on setup's base.
    # The jobs run as the role setup made (what the workflows' OIDC step gives them; `prenv doctor
    # --quick` checks it), not with the maintainer's credentials.
    assumed = session_boto("sts").assume_role(RoleArn=role, RoleSessionName="prenv-preview")["Credentials"]
    stub = docker_stub.install(tmp_path / "stub-bin")
    runner_env = {
        **env,
        "AWS_ACCESS_KEY_ID": assumed["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": assumed["SecretAccessKey"],
        "AWS_SESSION_TOKEN": assumed["SessionToken"],
        "PATH": f"{stub}{os.pathsep}{tf_env['PATH']}",
        "STUB_DOCKER_LOG": str(tmp_path / "docker-log"),
        "GITHUB_API_URL": github_api.url,
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_RUN_ID": "4242",
    }
    action = copy_action(tmp_path / "actions" / "prenv")
    preview = Workflow(
        repo / ".github" / "workflows" / "preview.yml", action, repo, runner_env, github_api, tmp_path / "rt"
    )
    events = tmp_path / "events"
    events.mkdir()
    opened = preview.run("pull_request", _event("pull_request.opened", repository, sha), events / "o.json")
    assert [(j.name, j.result) for j in opened.values()][:2] == [
        ("image", "success"),
        ("deploy", "success"),
    ], _failure(next(j for j in opened.values() if j.result == "failure"))
    deployed = opened["deploy"].runs[0].outputs
    (lb,) = session_boto("elbv2").describe_load_balancers(Names=[base_name(repository)])["LoadBalancers"]
    assert deployed["url"] == f"http://{lb['DNSName']}:{10000 + PR}/"
    ecs = session_boto("ecs")
    names = names_for(PR, repository)
    (service,) = ecs.describe_services(cluster=base_name(repository), services=[names.ecs_service])[
        "services"
    ]
    assert service["status"] == "ACTIVE"

    # setup --destroy refuses while a preview is left, and says which.
    refused = run_cli(["setup", "--destroy", "--region", region], env=env, cwd=repo)
    assert refused.exit_code == 1
    assert refused.last_error_line == (
        f"prenv: 1 preview(s) remain: PR #{PR} (pr-{PR}); nothing was removed [setup-failed]; destroy them "
        "first (close the PRs, or `prenv destroy --pr N`), then run prenv setup --destroy again"
    )

    # 4. Closed: the preview is destroyed.
    closed = preview.run(
        "pull_request", _event("pull_request.closed.not_merged", repository, sha), events / "c.json"
    )
    assert closed["destroy"].result == "success", _failure(closed["destroy"])

    # 5. prenv setup --destroy: the base (and its images), the bootstrap, the protected versioned bucket.
    removed = run_cli(["setup", "--destroy", "--region", region], env=env, cwd=repo)
    assert removed.exit_code == 0, removed.stdout + removed.stderr
    assert f"prenv setup: deleted 1 image(s) of the ECR repository {base_name(repository)}" in removed.stdout
    assert removed.stdout.splitlines()[-1] == (
        f"prenv setup: removed: nothing tagged for {repository} is left in {region}"
    )
    assert _missing(lambda: s3.head_bucket(Bucket=bucket))
    assert _left_behind(session_boto, repository) == {}
    # Once more: nothing to remove.
    nothing = run_cli(["setup", "--destroy", "--region", region], env=env, cwd=repo)
    assert (nothing.exit_code, nothing.stdout.splitlines()[-1]) == (
        0,
        f"prenv setup: nothing to remove: there is no state bucket {bucket} in {region}",
    )
