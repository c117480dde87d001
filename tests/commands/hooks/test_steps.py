"""The init steps (hooks.migrate, hooks.seed) through `prenv deploy` against the emulator: what prenv
passes the root, the seed run once per preview, and a failing step reported where people look."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.commands.hooks.conftest import Repo, make_repo
from tests.commands.test_github import github_env, outputs
from tests.github.fake import fake_github
from tests.helpers import light_config, run_cli, write_config

pytestmark = pytest.mark.terraform

MIGRATE = ["python", "app.py", "migrate"]
SEED = ["python", "app.py", "seed"]
HOOKS = {"migrate": MIGRATE, "seed": SEED}
PASSWORD = "s3cr3t-db-password-4242"
API_TOKEN = "token=ghp_0123456789abcdef"


def passed(boto: Any, repo: Repo) -> dict[str, Any]:
    """What prenv passed the root for the init steps, from the workspace's state."""
    key = f"prenv/{repo.preview.names.workspace}/preview.tfstate"
    state = json.loads(boto("s3").get_object(Bucket=repo.bucket, Key=key)["Body"].read())
    return {name: state["outputs"][f"passed_{name}"]["value"] for name in ("migrate", "seed")}


def seed_record(boto: Any, repo: Repo) -> dict[str, Any] | None:
    s3 = boto("s3")
    key = f"prenv/{repo.preview.names.workspace}/prenv-seeded.json"
    try:
        return dict(json.loads(s3.get_object(Bucket=repo.bucket, Key=key)["Body"].read()))
    except s3.exceptions.NoSuchKey:
        return None


def comment_event(tmp_path: Path, pr: int, body: str, association: str) -> Path:
    event = {
        "action": "created",
        "issue": {"number": pr, "title": "Notes", "pull_request": {"url": f"https://api.test/pulls/{pr}"}},
        "comment": {"body": body, "author_association": association},
    }
    path = tmp_path / "comment-event.json"
    path.write_text(json.dumps(event), encoding="utf-8")
    return path


def test_the_seed_runs_on_the_first_deploy_only_unless_asked_and_goes_with_the_preview(
    tmp_path: Path, aws_env: dict[str, str], state_bucket: str, boto: Any, repository: str
) -> None:
    repo = make_repo(
        tmp_path, aws_env, state_bucket, boto, repository, 41, steps=("migrate", "seed"), hooks=HOOKS
    )

    first = repo.cli("deploy", "--pr", "41")
    assert first.exit_code == 0, first.stderr
    assert passed(boto, repo) == {"migrate": MIGRATE, "seed": SEED}
    record = seed_record(boto, repo)
    assert record is not None
    assert record["pr"] == 41

    again = repo.cli("deploy", "--pr", "41")
    assert again.exit_code == 0, again.stderr
    assert passed(boto, repo) == {"migrate": MIGRATE, "seed": []}  # migrations on every deploy

    reseeded = repo.cli("deploy", "--pr", "41", "--reseed")
    assert reseeded.exit_code == 0, reseeded.stderr
    assert passed(boto, repo)["seed"] == SEED

    assert repo.cli("deploy", "--pr", "41").exit_code == 0
    assert passed(boto, repo)["seed"] == []

    # `/prenv deploy --reseed` from a member of the repository.
    event = comment_event(tmp_path, 41, "/prenv deploy --reseed\nplease", "MEMBER")
    by_comment = repo.cli("deploy", env={**repo.env, "GITHUB_EVENT_PATH": str(event)})
    assert by_comment.exit_code == 0, by_comment.stderr
    assert passed(boto, repo)["seed"] == SEED

    gone = repo.cli("destroy", "--pr", "41")
    assert gone.exit_code == 0, gone.stderr
    assert seed_record(boto, repo) is None  # gone with the preview


def test_a_failing_migrate_step_is_migrate_failed_with_its_exit_code_and_last_lines_masked(
    tmp_path: Path, aws_env: dict[str, str], state_bucket: str, boto: Any, repository: str
) -> None:
    repo = make_repo(
        tmp_path,
        aws_env,
        state_bucket,
        boto,
        repository,
        2,
        steps=("migrate",),
        hooks={"migrate": MIGRATE},
        readiness={"timeout": "30s"},
        comment={"mask_patterns": [r"token=\S+"]},
    )
    repo.preview.extra_outputs["db_password"] = PASSWORD
    repo.configure(sensitive=("db_password",))
    lines = [f"applying step {n:02d}" for n in range(1, 58)] + [
        f"connecting as app with password {PASSWORD}",
        f"calling the notes API with {API_TOKEN}",
        'ERROR: column "author" of relation "notes" already exists',
    ]
    task = repo.preview.stop_task(
        reason="Task failed to start",
        stop_code="TaskFailedToStart",
        exits={"migrate": (1, ""), "app": (None, "")},
        logs={"migrate": lines},
    )
    with fake_github(repository=repository) as fake:
        env = {**aws_env, **github_env(tmp_path, fake, "pull_request.opened.json"), "PATH": aws_env["PATH"]}
        result = repo.cli("deploy", env=env)
        comment = fake.comment_bodies(2)[-1]

    assert result.exit_code == 1
    assert result.last_error_line == (
        "prenv: the migrate step exited with code 1, so the new version did not start [migrate-failed]; "
        "read its last log lines below or with `prenv logs 2`, fix it and push; run it by hand with "
        "`prenv run 2 -- python app.py migrate`"
    )
    assert outputs(tmp_path)["failure-reason"] == "migrate-failed"
    assert "**Failure reason:** `migrate-failed`" in comment
    assert f"migrate (task {task}) exited with code 1" in comment
    assert "The last 50 log lines of migrate" in comment
    assert "| applying step 11\n" in comment
    assert "| applying step 10\n" not in comment
    assert '| ERROR: column "author" of relation "notes" already exists' in comment
    assert "| connecting as app with password ***" in comment
    assert "| calling the notes API with ***" in comment
    unescaped = comment.replace("\\", "")
    assert "`prenv logs 2`" in unescaped
    assert "`prenv run 2 -- python app.py migrate`" in unescaped
    # The only place a secret may appear is the runner's own ::add-mask:: command, which hides it.
    masking = [line for line in result.stdout.splitlines() if line.startswith("::add-mask::")]
    assert f"::add-mask::{PASSWORD}" in masking
    for text in (comment, _unmasked(result.stdout), result.stderr):
        assert PASSWORD not in text
        assert "ghp_0123456789abcdef" not in text
    assert seed_record(boto, repo) is None


def test_a_failing_seed_step_is_seed_failed_and_the_next_deploy_seeds_again(
    tmp_path: Path, aws_env: dict[str, str], state_bucket: str, boto: Any, repository: str
) -> None:
    repo = make_repo(
        tmp_path,
        aws_env,
        state_bucket,
        boto,
        repository,
        43,
        steps=("migrate", "seed"),
        hooks=HOOKS,
        readiness={"timeout": "30s"},
    )
    repo.preview.stop_task(
        reason="Task failed to start",
        stop_code="TaskFailedToStart",
        exits={"migrate": (0, ""), "seed": (2, ""), "app": (None, "")},
        logs={"seed": ["loading seed.sql", 'ERROR: relation "notes" does not exist']},
    )
    result = repo.cli("deploy", "--pr", "43")
    assert result.exit_code == 1
    assert "[seed-failed]" in result.last_error_line
    assert '| ERROR: relation "notes" does not exist' in result.stderr
    assert seed_record(boto, repo) is None
    # ECS starts a task that works; the next deploy passes the seed again (it never succeeded).
    boto("ecs").update_service(
        cluster=repo.preview.cluster, service=repo.preview.service, forceNewDeployment=True
    )
    assert repo.cli("deploy", "--pr", "43").exit_code == 0
    assert passed(boto, repo)["seed"] == SEED
    assert seed_record(boto, repo) is not None


def test_a_seed_that_succeeded_is_remembered_though_the_app_never_got_ready(
    tmp_path: Path, aws_env: dict[str, str], state_bucket: str, boto: Any, repository: str
) -> None:
    """The seed did its work once its step exited 0: a deploy that then fails (the app crashes) does
    not make the next deploy load it again."""
    repo = make_repo(
        tmp_path,
        aws_env,
        state_bucket,
        boto,
        repository,
        44,
        steps=("migrate", "seed"),
        hooks=HOOKS,
        readiness={"timeout": "3s"},
    )
    repo.preview.stop_task(
        reason="Essential container in task exited",
        exits={"migrate": (0, ""), "seed": (0, ""), "app": (1, "")},
        logs={"app": ["Traceback (most recent call last):", "KeyError: 'NOTES_TITLE'"]},
    )
    failed = repo.cli("deploy", "--pr", "44")
    assert failed.exit_code == 1
    assert "[not-ready]" in failed.last_error_line
    record = seed_record(boto, repo)
    assert record is not None
    assert record["pr"] == 44
    # The fix is pushed and ECS runs a task that works: the seed is not passed again.
    boto("ecs").update_service(
        cluster=repo.preview.cluster, service=repo.preview.service, forceNewDeployment=True
    )
    fixed = repo.cli("deploy", "--pr", "44")
    assert fixed.exit_code == 0, fixed.stderr
    assert passed(boto, repo) == {"migrate": MIGRATE, "seed": []}


def test_hooks_a_root_cannot_take_are_a_configuration_error(
    tmp_path: Path, aws_env: dict[str, str], state_bucket: str, light_root: Path, repository: str
) -> None:
    path = write_config(tmp_path, light_config(state_bucket, light_root, repository=repository, hooks=HOOKS))
    result = run_cli(["deploy", "--pr", "5"], env=aws_env, cwd=tmp_path)
    assert result.exit_code == 2
    assert result.last_error_line == (
        f"prenv: {path}: hooks.migrate is set, but the Terraform root {light_root} declares no variable "
        "'migrate_command' to run it [config-invalid]; use prenv's preview root, or declare "
        '`variable "migrate_command"` (a list of strings) in yours and run it before the app starts'
    )


def _unmasked(stdout: str) -> str:
    """The log without the ::add-mask:: commands (the runner shows none of them)."""
    return "\n".join(line for line in stdout.splitlines() if not line.startswith("::add-mask::"))
