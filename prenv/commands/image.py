"""`prenv image`: the PR's image in the base's ECR repository, built from the repository's own Dockerfile.

The image of commit SHA is `<account registry>/prenv-<hash6>:<SHA>` (the base's repository, immutable
tags). When it is there already, nothing is built (a re-run). Otherwise, with `build.context` in the
config, docker builds it from the checked-out repository and pushes it; `--no-build` (a comment
command's run, which must never build the PR's code) only looks it up. Without `build.context` and no
image in ECR, there is nothing to deploy but the config's `image` (or the placeholder): the `image`
output is empty. The `image` step output is what the action hands to `prenv deploy`.
"""

from __future__ import annotations

from prenv.aws import registry
from prenv.commands import wiring
from prenv.commands.wiring import Services
from prenv.core import naming
from prenv.core.config import Config
from prenv.core.errors import ConfigError, ExitStatus, FailureReason, PrenvError, UsageError
from prenv.core.event import pull_request_event
from prenv.core.image import ImageError, build_arguments, check_sha, dockerfile_of, reference
from prenv.engine.docker import Docker, find_docker
from prenv.report.runtime import read_event


def _sha(services: Services, option: str) -> str:
    event = pull_request_event(read_event(services.environment.event_path))
    sha = option or (event.head_sha if event else "")
    if not sha:
        raise UsageError(
            "no commit to name the image by",
            hint="pass --sha SHA, or run on a pull_request event (GITHUB_EVENT_PATH)",
        )
    try:
        return check_sha(sha)
    except ImageError as exc:
        raise UsageError(f"--sha: {exc}") from None


def _build_inputs(services: Services, config: Config) -> tuple[str, str]:
    """The build context and Dockerfile, relative to the repository, checked to exist."""
    context = config.build.context
    dockerfile = dockerfile_of(context, config.build.dockerfile)
    if not (services.cwd / context).is_dir():
        raise ConfigError(
            f"{config.path}: build.context {context!r} is not a directory of the repository",
            hint="set build.context to the folder docker builds, relative to the repository",
        )
    if not (services.cwd / dockerfile).is_file():
        raise ConfigError(
            f"{config.path}: no Dockerfile at {dockerfile!r}",
            hint="set build.dockerfile to its path, relative to the repository",
        )
    return context, dockerfile


def run(services: Services, *, sha: str = "", build: bool = True) -> ExitStatus:
    config = wiring.load_config(services)
    commit = _sha(services, sha)
    ports = wiring.build_ports(services, config)
    runtime = ports.runtime
    aws = ports.aws(wiring.default_region(ports, config))
    repository = naming.base_name(ports.repository)
    login = registry.login(aws)
    image = reference(login.host, repository, commit)
    out = services.out

    if registry.has_image(aws, repository, commit):
        out.write(f"{image} is in ECR already (its tags are immutable): nothing to build.\n")
        runtime.set_outputs({"image": image, "built": "false", "failure-reason": ""})
        return ExitStatus.SUCCESS
    if not config.build.context:
        out.write(
            f"build.context is not set in {config.path}: no image is built, and the preview runs the "
            "config's image (or the placeholder until the PR has an image of its own).\n"
        )
        runtime.set_outputs({"image": "", "built": "false", "failure-reason": ""})
        return ExitStatus.SUCCESS
    if not build:
        raise PrenvError(
            f"no image {image} in ECR",
            reason=FailureReason.IMAGE_MISSING,
            hint=f"the pull_request run of commit {commit[:7]} builds and pushes it: re-run that run "
            "(or push a commit), then ask again",
        )

    context, dockerfile = _build_inputs(services, config)
    docker = Docker(find_docker(ports.environment.path), services.env, services.cwd)
    docker.login(login)
    try:
        out.write(f"Building {image} from {context} ({dockerfile})...\n")
        out.flush()
        docker.run("build", build_arguments(image, context=context, dockerfile=dockerfile, sha=commit))
        try:
            docker.run("push", ["push", image])
        except PrenvError:
            if not registry.has_image(aws, repository, commit):
                raise
            out.write(f"{image} was pushed by another run meanwhile.\n")  # same commit, same tag
    finally:
        docker.logout(login.host)
    out.write(f"Pushed {image}.\n")
    runtime.set_outputs({"image": image, "built": "true", "failure-reason": ""})
    return ExitStatus.SUCCESS
