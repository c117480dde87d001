"""What `prenv init` writes and `prenv setup` prints, as text (pure: values in, text out).

The workflows are not templates of their own: they are prenv's own .github/workflows files (shipped in
the package), with each `uses: ./` (this repository runs its own action from its checkout) replaced by
the action of the installed prenv's release, pinned to its commit with the tag as a comment
(docs/setup.md, "Versions"). So there is one definition of each workflow.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from prenv.core.naming import base_name

ACTION_REPOSITORY = "OWNER/prenv"  # where the action lives on GitHub (docs/setup.md writes the same)
_LOCAL_USES = re.compile(r"^(?P<indent>[ \t]*)uses: \./[ \t]*$", re.MULTILINE)
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")
_LABEL = re.compile(r"^[^\s'\"#:][^'\"#]{0,49}$")  # GitHub allows 50 characters; no YAML-special quoting
_HEALTH_PATH = re.compile(r"^/[A-Za-z0-9._~/%-]*$")
_CONTEXT = re.compile(r"^[A-Za-z0-9._/-]+$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d$")


class OnboardingError(ValueError):
    """A value `prenv init` or `prenv setup` cannot use; the message says which and why."""


def check_commit(commit: str) -> str:
    if not _COMMIT.match(commit):
        raise OnboardingError(
            f"--action-ref must be the 40-hex commit of the release (v-tag), not {commit!r}: "
            "workflows pin actions by commit"
        )
    return commit


def check_repository(repository: str, what: str = "--action") -> str:
    if not _REPOSITORY.match(repository):
        raise OnboardingError(f"{what} must be OWNER/NAME, not {repository!r}")
    return repository


def check_region(region: str) -> str:
    if not _REGION.match(region):
        raise OnboardingError(f"--region must be an AWS region such as us-east-1, not {region!r}")
    return region


def check_bucket(bucket: str) -> str:
    if not _BUCKET.match(bucket):
        raise OnboardingError(
            f"--bucket must be an S3 bucket name (3-63 lowercase letters, digits, '.', '-'), not {bucket!r}"
        )
    return bucket


def uses_line(action: str, commit: str, version: str) -> str:
    """`OWNER/prenv@<commit> # v<version>`: the pinned action of a release."""
    return f"{check_repository(action)}@{check_commit(commit)} # v{version}"


def pin_workflow(text: str, *, action: str, commit: str, version: str) -> str:
    """A workflow of prenv's with every `uses: ./` replaced by the pinned action of the release (the
    fork notice uses no action: it is written as it is)."""
    pinned = uses_line(action, commit, version)
    return _LOCAL_USES.sub(lambda m: f"{m.group('indent')}uses: {pinned}", text)


@dataclass(frozen=True)
class Answers:
    """What `.github/prenv.yml` says that prenv cannot default: where the state is, how the app runs."""

    bucket: str
    region: str
    context: str = "."
    dockerfile: str = ""
    port: int = 8080
    health_path: str = "/healthz"
    label: str = ""

    def checked(self) -> Answers:
        check_bucket(self.bucket)
        check_region(self.region)
        if not 1 <= self.port <= 65535:
            raise OnboardingError(f"--port must be a TCP port (1-65535), not {self.port}")
        if not _HEALTH_PATH.match(self.health_path):
            raise OnboardingError(
                "--health-path must be a URL path starting with '/', such as /healthz, "
                f"not {self.health_path!r}"
            )
        for name, value in (("--context", self.context), ("--dockerfile", self.dockerfile)):
            if value and (not _CONTEXT.match(value) or value.startswith("/") or ".." in value.split("/")):
                raise OnboardingError(
                    f"{name} must be a path inside the repository, such as . or app/, not {value!r}"
                )
        if self.label and not _LABEL.match(self.label):
            raise OnboardingError(
                f"--label must be a GitHub label name of at most 50 characters without quotes or '#', "
                f"not {self.label!r}"
            )
        return self


def answers_from_config(document: Mapping[str, Any]) -> dict[str, Any]:
    """The answers an existing `.github/prenv.yml` already gives (so a second `prenv init` asks nothing)."""
    found: dict[str, Any] = {}
    backend = document.get("backend") if isinstance(document.get("backend"), Mapping) else {}
    build = document.get("build") if isinstance(document.get("build"), Mapping) else {}
    app = document.get("app") if isinstance(document.get("app"), Mapping) else {}
    for key, section, name in (
        ("bucket", backend, "bucket"),
        ("region", backend, "region"),
        ("context", build, "context"),
        ("dockerfile", build, "dockerfile"),
        ("port", app, "port"),
        ("health_path", app, "health_path"),
        ("label", document, "label"),
    ):
        value = section.get(name) if isinstance(section, Mapping) else None
        if isinstance(value, str | int) and not isinstance(value, bool):
            found[key] = value
    return found


def _yaml_string(value: str) -> str:
    """A YAML scalar for a value the checks above allow (quoted when empty or YAML would re-read it)."""
    if value == "" or value.lower() in {"true", "false", "yes", "no", "on", "off", "null", "~"}:
        return f'"{value}"'
    return value


def config_text(answers: Answers) -> str:
    """`.github/prenv.yml` as `prenv init` writes it: the settings a first deploy needs, commented."""
    a = answers.checked()
    return f"""\
# prenv's configuration, written by `prenv init`: what the workflows in .github/workflows (preview.yml,
# cleanup.yml) and `prenv` on a laptop read. Every other setting has a default; docs/setup.md of prenv
# and its README list them all. `prenv doctor` checks this file and the AWS and GitHub set-up.
version: 1

backend:
  bucket: {_yaml_string(a.bucket)} # the state bucket `prenv setup` created (output state_bucket)
  region: {_yaml_string(a.region)} # its region, where the previews run too

# The image: the preview workflow's image job builds <context>/Dockerfile (or `dockerfile`) and pushes it
# to the base's ECR repository, tagged with the PR's head commit.
build:
  context: {_yaml_string(a.context)}
  dockerfile: {_yaml_string(a.dockerfile)} # empty: <context>/Dockerfile

# The app contract: what the container listens on ($PORT) and the path answering 200 when it can serve
# (the load balancer's health check).
app:
  port: {a.port}
  health_path: {_yaml_string(a.health_path)}

# When set, only PRs carrying this label get a preview; set the repository variable PRENV_LABEL to the
# same value (`prenv setup` prints the command).
label: {_yaml_string(a.label)}
"""


def state_bucket_name(repository: str, account: str) -> str:
    """The state bucket terraform/bootstrap names by default: `prenv-<hash6>-tfstate-<account id>`."""
    return f"{base_name(repository)}-tfstate-{account}"


def variable_commands(repository: str, variables: Mapping[str, str]) -> list[str]:
    """`gh variable set NAME --body VALUE --repo OWNER/NAME`, one per repository variable."""
    return [
        shlex.join(["gh", "variable", "set", name, "--body", value, "--repo", repository])
        for name, value in variables.items()
    ]
