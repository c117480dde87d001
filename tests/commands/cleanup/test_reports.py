"""Stale locks and orphaned resources, from planted lock objects and planted tagged resources."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from prenv.core.naming import names_for
from tests.commands.cleanup.conftest import cleanup_env
from tests.github.fake import fake_github
from tests.helpers import run_cli, write_config

LOCK_ID = "9d0c3f4e-1a2b-4c5d-8e9f-0a1b2c3d4e5f"


def _tags(repository: str, workspace: str) -> list[dict[str, str]]:
    return [
        {"Key": "prenv:repository", "Value": repository},
        {"Key": "prenv:workspace", "Value": workspace},
        {"Key": "prenv:pr", "Value": workspace.removeprefix("pr-")},
    ]


def test_stale_locks_and_orphans(
    tmp_path: Path,
    aws_env: dict[str, str],
    boto: Any,
    state_bucket: str,
    repository: str,
    s3_time: Callable[[timedelta], AbstractContextManager[None]],
    now: datetime,
) -> None:
    s3 = boto("s3")
    state = json.dumps({"version": 4, "serial": 1, "resources": []})
    for number in (301, 302):
        s3.put_object(Bucket=state_bucket, Key=f"prenv/pr-{number}/preview.tfstate", Body=state)
    lock = {
        "ID": LOCK_ID,
        "Operation": "OperationTypeApply",
        "Who": "runner@gh-7",
        "Version": "1.11.4",
        "Created": "2026-11-29T01:00:00Z",
        "Path": f"{state_bucket}/prenv/pr-301/preview.tfstate",
        "Info": "",
    }
    with s3_time(timedelta(hours=3)):
        s3.put_object(Bucket=state_bucket, Key="prenv/pr-301/preview.tfstate.tflock", Body=json.dumps(lock))
    s3.put_object(
        Bucket=state_bucket,
        Key="prenv/pr-302/preview.tfstate.tflock",  # a run holding it now
        Body=json.dumps({**lock, "ID": "fresh"}),
    )
    # Orphans named and tagged as terraform/preview makes them: the bootstrap role may delete those only
    # (tests/iam checks every call against its policy).
    logs = boto("logs")
    orphan_log_group = names_for(399, repository).log_group
    logs.create_log_group(
        logGroupName=orphan_log_group, tags={t["Key"]: t["Value"] for t in _tags(repository, "pr-399")}
    )
    ec2 = boto("ec2")
    orphan_group = ec2.create_security_group(
        GroupName=names_for(398, repository).service_security_group,
        Description="an orphan of pr-398",
        TagSpecifications=[{"ResourceType": "security-group", "Tags": _tags(repository, "pr-398")}],
    )["GroupId"]
    orphan_group_arn = f"arn:aws:ec2:us-east-1:123456789012:security-group/{orphan_group}"
    logs.create_log_group(
        logGroupName="/prenv/live-301",  # its workspace has state: not an orphan
        tags={t["Key"]: t["Value"] for t in _tags(repository, "pr-301")},
    )
    logs.create_log_group(
        logGroupName="/prenv/other-repo",  # another repository's: not ours to report
        tags={t["Key"]: t["Value"] for t in _tags("someone/else", "pr-397")},
    )
    ecs = boto("ecs")
    definition = {"containerDefinitions": [{"name": "app", "image": "nginx", "memory": 128}]}
    active = ecs.register_task_definition(
        family=f"orphan-395-{state_bucket}",
        tags=[{"key": t["Key"], "value": t["Value"]} for t in _tags(repository, "pr-395")],
        **definition,
    )
    retired = ecs.register_task_definition(
        family=f"retired-396-{state_bucket}",
        tags=[{"key": t["Key"], "value": t["Value"]} for t in _tags(repository, "pr-396")],
        **definition,
    )
    # A destroyed preview's task definitions stay listed, INACTIVE, tags and all: not orphans.
    ecs.deregister_task_definition(taskDefinition=retired["taskDefinition"]["taskDefinitionArn"])
    write_config(
        tmp_path, {"backend": {"bucket": state_bucket, "region": "us-east-1"}, "repository": repository}
    )

    with fake_github(repository=repository) as fake:
        fake.add_pull(301)
        fake.add_pull(302)
        env = cleanup_env(aws_env, tmp_path, fake)
        dry = run_cli(["cleanup", "--dry-run"], env=env, cwd=tmp_path, clock=lambda: now)
        assert dry.exit_code == 0, dry.stderr
        assert (
            f"  pr-301: lock {LOCK_ID} by runner@gh-7, 3h old:  prenv unlock --pr 301 --lock-id {LOCK_ID}"
            in (dry.stdout)
        )
        assert "lock fresh" not in dry.stdout
        assert "Orphaned resources (3): made by prenv, but their workspace has no state:" in dry.stdout
        assert f"  pr-395: {active['taskDefinition']['taskDefinitionArn']}" in dry.stdout
        assert "retired-396" not in dry.stdout
        assert f"  pr-398: {orphan_group_arn}" in dry.stdout
        assert f"  pr-399: arn:aws:logs:us-east-1:123456789012:log-group:{orphan_log_group}" in dry.stdout
        assert "live-301" not in dry.stdout
        assert "other-repo" not in dry.stdout
        summary = (tmp_path / "summary.md").read_text()
        assert (
            f"| pr-301 | `{LOCK_ID}` | runner@gh-7 | 3h | `prenv unlock --pr 301 --lock-id {LOCK_ID}` |"
            in summary
        )
        assert ec2.describe_security_groups(GroupIds=[orphan_group])["SecurityGroups"]  # dry: untouched

        deleted = run_cli(["cleanup", "--delete-orphans"], env=env, cwd=tmp_path, clock=lambda: now)
        assert deleted.exit_code == 0, deleted.stderr
        assert f"{orphan_group_arn}  [deleted]" in deleted.stdout
        assert f"log-group:{orphan_log_group}  [deleted]" in deleted.stdout
        assert orphan_group not in {g["GroupId"] for g in ec2.describe_security_groups()["SecurityGroups"]}
        arn = active["taskDefinition"]["taskDefinitionArn"]
        assert f"{arn}  [deleted]" in deleted.stdout
        assert ecs.describe_task_definition(taskDefinition=arn)["taskDefinition"]["status"] == "INACTIVE"
        names = {
            g["logGroupName"] for g in logs.describe_log_groups(logGroupNamePrefix="/prenv/")["logGroups"]
        }
        assert orphan_log_group not in names  # deleted; the others (and other tests' groups) stay
        assert {"/prenv/live-301", "/prenv/other-repo"} <= names
        assert s3.get_object(
            Bucket=state_bucket, Key="prenv/pr-301/preview.tfstate.tflock"
        )  # locks: reported only
        assert [r.method for r in fake.requests] == ["GET"] * len(fake.requests)  # nothing written to GitHub
