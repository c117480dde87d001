"""Sleep and wake against the emulator (issue 17): cleanup puts an idle preview to sleep (its ECS service
at zero tasks, its RDS instance stopped) and says so on the PR; a second run leaves it alone; `prenv
status` says it sleeps; `prenv wake` (or a deploy) brings it back and the comment says it is ready.

The preview's parts are planted through boto3 with the names terraform/preview gives them (so the
bootstrap role's policies apply to prenv's calls, tests/iam), and its workspace holds only the outputs
that name them (a root of outputs, as `prenv status`'s tests do).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from prenv.core.naming import Names, names_for
from tests.commands.cleanup.conftest import cleanup_env
from tests.commands.troubleshoot import planting
from tests.github.fake import FakeGitHub, fake_github
from tests.helpers import CliResult, light_config, read_outputs, run_cli, write_config

pytestmark = [pytest.mark.terraform, pytest.mark.usefixtures("tasks_stay_running")]

SLEEPING = "prenv-sleeping.json"


@pytest.fixture
def tasks_stay_running(moto_server: object) -> Iterator[None]:
    yield from planting.keep_tasks_running()


@dataclass
class Preview:
    """A planted preview of PR `names.pr_number`, deployed 3 days before `now`, and its open PR."""

    names: Names
    directory: Path
    env: dict[str, str]  # a workflow run: the token, the fake GitHub, outputs and summary files
    fake: FakeGitHub
    bucket: str
    now: datetime

    @property
    def cluster(self) -> str:
        return self.names.base

    def cli(self, *argv: str) -> CliResult:
        return run_cli(list(argv), env=self.env, cwd=self.directory, clock=lambda: self.now)

    def rows(self, result: CliResult) -> dict[str, str]:
        return {line.split()[0]: line for line in result.stdout.splitlines() if line.startswith("pr-")}

    def comment(self) -> str:
        bodies = [c["body"] for c in self.fake.comments.get(self.names.pr_number, []) if "prenv" in c["body"]]
        assert len(bodies) == 1, bodies  # one sticky comment, edited in place
        return bodies[0]

    def outputs(self) -> dict[str, str]:
        return read_outputs(self.directory / "output")


def _desired(boto: Any, preview: Preview) -> tuple[int, int]:
    service = boto("ecs").describe_services(cluster=preview.cluster, services=[preview.names.ecs_service])
    found = service["services"][0]
    return found["desiredCount"], found["runningCount"]


def _db_status(boto: Any, preview: Preview) -> str:
    found = boto("rds").describe_db_instances(DBInstanceIdentifier=preview.names.rds_identifier)
    return str(found["DBInstances"][0]["DBInstanceStatus"])


def _versions(boto: Any, bucket: str, key: str) -> list[str]:
    listing = boto("s3").list_object_versions(Bucket=bucket, Prefix=key)
    return [v["VersionId"] for v in listing.get("Versions", []) if v["Key"] == key]


@pytest.fixture
def preview(
    tmp_path: Path,
    aws_env: dict[str, str],
    boto: Any,
    state_bucket: str,
    repository: str,
    s3_time: Callable[[timedelta], AbstractContextManager[None]],
    now: datetime,
) -> Iterator[Preview]:
    number = 71
    names = names_for(number, repository)
    planted = planting.plant_preview(
        boto,
        cluster=names.base,
        service=names.ecs_service,
        target_group=names.target_group,
        db_identifier=names.rds_identifier,
    )
    outputs = {
        "url": f"https://pr-{number}.preview.example.com/",
        "region": "us-east-1",
        "ecs_cluster": names.base,
        "ecs_service": names.ecs_service,
        "log_group": names.log_group,
        "db_identifier": names.rds_identifier,
        "db_endpoint": planted.db_address,
        "target_group_arn": planted.target_group_arn,
    }
    root = planting.outputs_root(tmp_path / "root", outputs)
    write_config(
        tmp_path,
        light_config(
            state_bucket,
            root,
            repository=repository,
            cleanup={"max_age": "7d", "warn_before": "1d", "sleep_after": "2d"},
            # The service is planted (no load balancer for the emulator's ECS to register tasks in):
            # readiness from AWS is tested in tests/commands/hooks, sleep and wake here.
            readiness={"enabled": False},
        ),
    )
    with s3_time(timedelta(days=3)):
        deployed = run_cli(["deploy", "--pr", str(number)], env=aws_env, cwd=tmp_path)
    assert deployed.exit_code == 0, deployed.stderr
    with fake_github(repository=repository) as fake:
        fake.add_pull(number)
        env = cleanup_env(aws_env, tmp_path, fake)
        yield Preview(names, tmp_path, env, fake, state_bucket, now)


def test_cleanup_puts_an_idle_preview_to_sleep_and_wake_brings_it_back(boto: Any, preview: Preview) -> None:
    names, key = preview.names, f"prenv/{preview.names.workspace}/{SLEEPING}"
    assert _desired(boto, preview) == (1, 1)
    assert _db_status(boto, preview) == "available"

    # A dry run says what it would do, and does nothing.
    dry = preview.cli("cleanup", "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert "sleep (idle 3d, over the 2d sleep limit)" in preview.rows(dry)[names.workspace]
    assert preview.rows(dry)[names.workspace].endswith("would sleep")
    assert _desired(boto, preview) == (1, 1)
    assert _versions(boto, preview.bucket, key) == []

    # The first run: service at zero tasks, database stopped, the PR told.
    first = preview.cli("cleanup")
    assert first.exit_code == 0, first.stdout + first.stderr
    row = preview.rows(first)[names.workspace]
    assert "sleep (idle 3d, over the 2d sleep limit)" in row
    assert row.endswith(
        f"asleep: service {names.ecs_service} scaled from 1 to 0 tasks; database {names.rds_identifier} "
        "stopped; saves $0.00/day"  # a root of outputs only: nothing priced runs in its plan
    )
    assert _desired(boto, preview) == (0, 0)
    assert _db_status(boto, preview) == "stopped"
    assert preview.outputs()["slept"] == "1"
    record = json.loads(boto("s3").get_object(Bucket=preview.bucket, Key=key)["Body"].read())
    assert {k: record[k] for k in ("cluster", "service", "desired_count", "db_identifier", "region")} == {
        "cluster": names.base,
        "service": names.ecs_service,
        "desired_count": 1,
        "db_identifier": names.rds_identifier,
        "region": "us-east-1",
    }
    assert record["db_stopped_at"] is not None
    comment = preview.comment()
    assert f"Preview of PR #{names.pr_number} is asleep" in comment
    assert f"its database `{names.rds_identifier}` is stopped" in comment
    assert "comment `/prenv wake`" in comment
    assert f"run `prenv wake {names.pr_number}`" in comment
    assert "That saves about **\\$0.00/day**" in comment

    # The second run leaves it alone: no AWS write, no record written, no GitHub write.
    versions = _versions(boto, preview.bucket, key)
    preview.fake.requests.clear()
    second = preview.cli("cleanup")
    assert second.exit_code == 0, second.stderr
    assert "leave (asleep 0m (idle 3d))" in preview.rows(second)[names.workspace]
    assert preview.outputs()["slept"] == "0"
    assert _versions(boto, preview.bucket, key) == versions
    assert {r.method for r in preview.fake.requests} == {"GET"}
    assert _desired(boto, preview) == (0, 0)
    assert _db_status(boto, preview) == "stopped"

    # `prenv status` says it sleeps, and how to wake it (and no "scaled down?" or "database" hint).
    status = preview.cli("status", str(names.pr_number))
    assert status.exit_code == 0, status.stderr
    assert f"Asleep:          since {record['slept_at'][:19].replace('+00', '')}Z" in status.stdout
    assert f"(wake: prenv wake {names.pr_number})" in status.stdout
    hints = status.stdout.split("Hints:", 1)[1]
    assert f"the preview is asleep (idle): wake it with `prenv wake {names.pr_number}`" in hints
    assert "scaled down" not in hints
    document = json.loads(preview.cli("status", str(names.pr_number), "--json").stdout)
    assert document["asleep"]["service"] == names.ecs_service

    # `prenv wake`: the database started, the service back to its count, the comment ready again.
    deployed_before = boto("s3").head_object(
        Bucket=preview.bucket, Key=f"prenv/{names.workspace}/prenv-deployed.json"
    )["LastModified"]
    woken = preview.cli("wake", str(names.pr_number))
    assert woken.exit_code == 0, woken.stdout + woken.stderr
    assert woken.stdout.endswith(
        f"PR #{names.pr_number}'s preview is awake: https://pr-{names.pr_number}.preview.example.com/\n"
    )
    assert f"  database {names.rds_identifier} started\n" in woken.stdout
    assert f"  service {names.ecs_service} scaled from 0 to 1 tasks\n" in woken.stdout
    assert _desired(boto, preview) == (1, 1)
    assert _db_status(boto, preview) == "available"
    assert _versions(boto, preview.bucket, key) == versions  # deleted: no current version left
    assert "Contents" not in boto("s3").list_objects_v2(Bucket=preview.bucket, Prefix=key)
    assert preview.outputs()["woken"] == "true"
    comment = preview.comment()
    assert f"Preview of PR #{names.pr_number} is ready" in comment
    assert "**Awake** after sleeping" in comment
    assert "is asleep" not in comment
    # A wake is activity: the deploy record is written again, so cleanup's idleness starts over.
    deployed_after = boto("s3").head_object(
        Bucket=preview.bucket, Key=f"prenv/{names.workspace}/prenv-deployed.json"
    )["LastModified"]
    assert deployed_after > deployed_before

    # Waking an awake preview: nothing to do, said so.
    again = preview.cli("wake", str(names.pr_number))
    assert again.exit_code == 0, again.stderr
    assert again.stdout == f"PR #{names.pr_number}'s preview is not asleep: nothing to wake.\n"


def test_a_database_aws_restarted_is_stopped_again_and_a_deploy_wakes_the_preview(
    boto: Any, preview: Preview
) -> None:
    names, key = preview.names, f"prenv/{preview.names.workspace}/{SLEEPING}"
    assert preview.cli("cleanup").exit_code == 0
    assert _db_status(boto, preview) == "stopped"
    # Seven days later AWS starts the stopped instance again (here: the record says it was stopped 8
    # days ago, and the instance is started as AWS would).
    record = json.loads(boto("s3").get_object(Bucket=preview.bucket, Key=key)["Body"].read())
    record["db_stopped_at"] = (preview.now - timedelta(days=8)).isoformat()
    boto("s3").put_object(Bucket=preview.bucket, Key=key, Body=json.dumps(record).encode())
    boto("rds").start_db_instance(DBInstanceIdentifier=names.rds_identifier)
    assert _db_status(boto, preview) == "available"

    rerun = preview.cli("cleanup")
    assert rerun.exit_code == 0, rerun.stderr
    row = preview.rows(rerun)[names.workspace]
    assert "stop again (asleep, AWS restarts a stopped database after 8d)" in row
    assert row.endswith(f"asleep: database {names.rds_identifier} stopped")
    assert _db_status(boto, preview) == "stopped"
    record = json.loads(boto("s3").get_object(Bucket=preview.bucket, Key=key)["Body"].read())
    assert record["db_stopped_at"].startswith(preview.now.strftime("%Y-%m-%dT%H:%M"))

    # A push deploys, and the deploy wakes the preview first.
    deployed = run_cli(["deploy", "--pr", str(names.pr_number)], env=preview.env, cwd=preview.directory)
    assert deployed.exit_code == 0, deployed.stdout + deployed.stderr
    assert f"PR #{names.pr_number}'s preview is asleep: waking it before the deploy" in deployed.stdout
    assert _desired(boto, preview) == (1, 1)
    assert _db_status(boto, preview) == "available"
    assert "Contents" not in boto("s3").list_objects_v2(Bucket=preview.bucket, Prefix=key)
    assert f"Preview of PR #{preview.names.pr_number} is " in preview.comment()
    assert "is asleep" not in preview.comment()
