"""`prenv image` against the emulator's ECR, with a stand-in docker (tests/docker_stub.py): the image of
the head commit built from the repository's own Dockerfile and pushed once, looked up only on a comment
command's run, and every failure one clear line."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest

from prenv.core.naming import base_name
from tests import docker_stub
from tests.action.runner import parse_file_command
from tests.helpers import CliResult, run_cli, write_config

SHA = "4f3c2b1a0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a"
REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
PASSWORD = "123456789012-auth-token"  # what the emulator's GetAuthorizationToken gives, after "AWS:"


@pytest.fixture
def repo(tmp_path: Path, repository: str, boto: Any) -> Path:
    """A repository with its own app and Dockerfile, and the base's ECR repository in the emulator."""
    folder = tmp_path / "repo"
    (folder / "web").mkdir(parents=True)
    (folder / "web" / "Dockerfile").write_text("FROM scratch\n", encoding="utf-8")
    write_config(
        folder,
        {
            "backend": {"bucket": "unused", "region": "us-east-1"},
            "repository": repository,
            "build": {"context": "web"},
        },
    )
    boto("ecr").create_repository(repositoryName=base_name(repository), imageTagMutability="IMMUTABLE")
    return folder


@pytest.fixture
def env(aws_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    stub = docker_stub.install(tmp_path / "stub-bin")
    return {
        **aws_env,
        "PATH": f"{stub}{os.pathsep}{aws_env['PATH']}",
        "STUB_DOCKER_LOG": str(tmp_path / "docker-log"),
        "GITHUB_OUTPUT": str(tmp_path / "github-output"),
    }


def _image(repo: Path, env: dict[str, str], *argv: str, **extra: str) -> CliResult:
    Path(env["GITHUB_OUTPUT"]).write_text("", encoding="utf-8")  # this run's step outputs only
    return run_cli(["image", "--sha", SHA, *argv], env={**env, **extra}, cwd=repo)


def _outputs(env: dict[str, str]) -> dict[str, str]:
    return parse_file_command(Path(env["GITHUB_OUTPUT"]).read_text(encoding="utf-8"))


def _calls(env: dict[str, str]) -> list[list[str]]:
    return docker_stub.calls(Path(env["STUB_DOCKER_LOG"]))


def test_the_image_of_the_head_commit_is_built_once(
    repo: Path, env: dict[str, str], repository: str, boto: Any
) -> None:
    image = f"{REGISTRY}/{base_name(repository)}:{SHA}"
    built = _image(repo, env)
    assert built.exit_code == 0, built.stderr
    assert f"Pushed {image}." in built.stdout
    assert _outputs(env) == {"image": image, "built": "true", "failure-reason": ""}
    assert _calls(env) == [
        ["login", "--username", "AWS", "--password-stdin", REGISTRY],
        [
            "build",
            "--pull",
            "--label",
            f"org.opencontainers.image.revision={SHA}",
            "--file",
            "web/Dockerfile",
            "--tag",
            image,
            "web",
        ],
        ["push", image],
        ["logout", REGISTRY],
    ]
    assert (Path(env["STUB_DOCKER_LOG"]) / "login-stdin").read_text(encoding="utf-8") == PASSWORD
    assert PASSWORD not in built.stdout + built.stderr  # only ever on docker's stdin
    tags = boto("ecr").describe_images(repositoryName=base_name(repository))["imageDetails"][0]["imageTags"]
    assert tags == [SHA]

    again = _image(repo, env)  # a re-run of the same commit: the tag is there, nothing is built
    assert again.exit_code == 0, again.stderr
    assert f"{image} is in ECR already (its tags are immutable): nothing to build." in again.stdout
    assert len(_calls(env)) == 4


def test_a_push_that_loses_the_race_for_the_tag_is_not_a_failure(repo: Path, env: dict[str, str]) -> None:
    result = _image(repo, env, STUB_PUSH="race")
    assert result.exit_code == 0, result.stderr
    assert "was pushed by another run meanwhile" in result.stdout


def test_a_failed_push_or_build_fails_with_dockers_words(repo: Path, env: dict[str, str]) -> None:
    denied = _image(repo, env, STUB_PUSH="denied")
    assert denied.exit_code == 1
    assert denied.last_error_line == (
        "prenv: docker push failed (exit code 1) [image-failed]; read docker's output below"
    )
    assert "denied: User is not authorized to perform: ecr:InitiateLayerUpload" in denied.stderr
    assert _outputs(env)["failure-reason"] == "image-failed"
    assert _calls(env)[-1][0] == "logout"  # logged out whatever happened

    broken = _image(repo, env, STUB_BUILD="fail")
    assert broken.exit_code == 1
    assert broken.last_error_line.startswith("prenv: docker build failed (exit code 1) [image-failed]")
    assert "make: *** No rule to make target 'all'." in broken.stderr


def test_a_comment_run_only_looks_the_image_up(repo: Path, env: dict[str, str], repository: str) -> None:
    image = f"{REGISTRY}/{base_name(repository)}:{SHA}"
    missing = _image(repo, env, "--no-build")
    assert missing.exit_code == 1
    assert missing.last_error_line == (
        f"prenv: no image {image} in ECR [image-missing]; the pull_request run of commit "
        f"{SHA[:7]} builds and pushes it: re-run that run (or push a commit), then ask again"
    )
    assert _calls(env) == []  # nothing built, not even a login
    assert _image(repo, env).exit_code == 0
    found = _image(repo, env, "--no-build")
    assert found.exit_code == 0
    assert _outputs(env) == {"image": image, "built": "false", "failure-reason": ""}


def test_without_build_context_the_preview_runs_the_configured_image(
    repo: Path, env: dict[str, str], repository: str
) -> None:
    write_config(repo, {"backend": {"bucket": "unused", "region": "us-east-1"}, "repository": repository})
    result = _image(repo, env)
    assert result.exit_code == 0, result.stderr
    assert "build.context is not set" in result.stdout
    assert _outputs(env) == {"image": "", "built": "false", "failure-reason": ""}
    assert _calls(env) == []


def test_mistakes_are_one_clear_line(repo: Path, env: dict[str, str], repository: str, boto: Any) -> None:
    bad_sha = run_cli(["image", "--sha", "main"], env=env, cwd=repo)
    assert bad_sha.exit_code == 2
    assert bad_sha.last_error_line == (
        "prenv: --sha: 'main' is not a full commit SHA (40 or 64 hexadecimal characters) [bad-usage]"
    )
    no_sha = run_cli(["image"], env=env, cwd=repo)
    assert no_sha.exit_code == 2
    assert "no commit to name the image by" in no_sha.last_error_line

    write_config(
        repo,
        {
            "backend": {"bucket": "unused", "region": "us-east-1"},
            "repository": repository,
            "build": {"context": "web", "dockerfile": "docker/Dockerfile.preview"},
        },
    )
    no_dockerfile = _image(repo, env)
    assert no_dockerfile.exit_code == 2
    assert no_dockerfile.last_error_line.endswith(
        "no Dockerfile at 'docker/Dockerfile.preview' [config-invalid]; set build.dockerfile to its "
        "path, relative to the repository"
    )

    write_config(
        repo,
        {
            "backend": {"bucket": "unused", "region": "us-east-1"},
            "repository": repository,
            "build": {"context": "web"},
        },
    )
    no_docker = _image(repo, env, PATH=str(Path(sys.executable).parent))
    assert no_docker.exit_code == 1
    assert no_docker.last_error_line.startswith(
        "prenv: docker is not on PATH, so prenv cannot build the preview's image [image-failed]"
    )

    boto("ecr").delete_repository(repositoryName=base_name(repository), force=True)
    no_base = _image(repo, env)
    assert no_base.exit_code == 1
    assert no_base.last_error_line == (
        f"prenv: the base's ECR repository {base_name(repository)} does not exist in this account and "
        "region [image-missing]; apply terraform/base for this repository first (docs/setup.md), with "
        "the same region"
    )
