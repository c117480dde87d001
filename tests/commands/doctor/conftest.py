"""A set-up for `prenv doctor` with everything in place (moto + the GitHub stand-in), and the fakes'
extras the doctor needs: token permissions, classic scopes, repository variables."""

from __future__ import annotations

import json
import re
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import responses
from requests import PreparedRequest

from prenv.core.naming import base_name, workflow_role_name
from tests.github.conftest import TOKEN
from tests.github.fake import FakeGitHub, Recorded
from tests.helpers import REPO_ROOT, CliResult, run_cli, write_config
from tests.roots_support.fake_base import FakeBase, create_fake_base

SHA = "a" * 40
# The workflow job's permissions in .github/workflows/preview.yml, as GitHub names them.
WORKFLOW_PERMISSIONS = {
    "contents": "read",
    "pull_requests": "write",
    "deployments": "write",
    "metadata": "read",
}
# What each operation the doctor (and prenv) sends needs, as GitHub's X-Accepted-GitHub-Permissions
# header says it: alternatives separated by ";" (GitHub docs, "Permissions required for GitHub Apps").
NEEDS = {
    "repos/get": "metadata=read",
    "pulls/get": "pull_requests=read",
    "pulls/list": "pull_requests=read",
    "issues/list-comments": "issues=read; pull_requests=read",
    "issues/create-comment": "issues=write; pull_requests=write",
    "issues/update-comment": "issues=write; pull_requests=write",
    "repos/create-deployment": "deployments=write",
    "repos/create-deployment-status": "deployments=write",
    "repos/list-deployments": "deployments=read",
    "actions/list-repo-variables": "actions_variables=read",
}
_LEVEL = {"read": 1, "write": 2, "admin": 3}
# git refuses these in a ref name (git-check-ref-format): GitHub answers 422 "No ref found".
_BAD_REF = re.compile(r"\.\.|[~^:?*\[\\\s]|@\{|\.lock$|/$|^/")
VARIABLES_PATH = re.compile(r"^/repos/(?P<owner>[^/]+)/(?P<repo>[^/]+)/actions/variables$")


class DoctorGitHub(FakeGitHub):
    """The GitHub stand-in with a token that has `permissions` (None: every permission) or, for a
    classic token, `scopes` (sent as X-OAuth-Scopes); it also lists repository variables.

    GitHub's published examples (tests/fixtures/github) have no "list repository variables" operation:
    its answer here has the shape GitHub documents for it (`total_count`, `variables` of name, value,
    created_at, updated_at; https://docs.github.com/rest/actions/variables#list-repository-variables).
    """

    def __init__(
        self,
        mock: responses.RequestsMock,
        *,
        permissions: dict[str, str] | None = None,
        scopes: tuple[str, ...] | None = None,
        variables: dict[str, str] | None = None,
        **options: Any,
    ) -> None:
        super().__init__(mock, **options)
        self.permissions = permissions
        self.scopes = scopes
        self.variables = dict(variables or {})

    def _allowed(self, operation: str) -> bool:
        if self.permissions is None or operation not in NEEDS:
            return True
        for alternative in NEEDS[operation].split(";"):
            name, _, level = alternative.strip().partition("=")
            if _LEVEL.get(self.permissions.get(name, ""), 0) >= _LEVEL[level]:
                return True
        return False

    def _refused(self, operation: str) -> tuple[int, dict[str, str], Any]:
        return (
            403,
            {"X-Accepted-GitHub-Permissions": NEEDS[operation]},
            {
                "message": "Resource not accessible by integration",
                "documentation_url": "https://docs.github.com/rest",
            },
        )

    def _handle(self, request: PreparedRequest) -> tuple[int, dict[str, str], str]:
        url = urllib.parse.urlsplit(str(request.url))
        base = urllib.parse.urlsplit(self.api_url)
        path = url.path[len(base.path) :] if url.path.startswith(base.path + "/") else ""
        match = VARIABLES_PATH.match(path)
        if match is None or request.method != "GET":
            status, headers, body = super()._handle(request)
        else:
            query = dict(urllib.parse.parse_qsl(url.query))
            record = Recorded("GET", path, query, None, "actions/list-repo-variables")
            self.requests.append(record)
            status, headers, data = self._variables(match, query)
            record.status = status
            body = json.dumps(data)
            headers = {"Content-Type": "application/json; charset=utf-8", **headers}
        if self.scopes is not None:
            headers = {**headers, "X-OAuth-Scopes": ", ".join(self.scopes)}
        return status, headers, body

    def _variables(self, match: re.Match[str], query: dict[str, str]) -> tuple[int, dict[str, str], Any]:
        if f"{match['owner']}/{match['repo']}" != self.repository:
            return 404, {}, {"message": "Not Found"}
        if not self._allowed("actions/list-repo-variables"):
            return self._refused("actions/list-repo-variables")
        per_page, page = min(int(query.get("per_page", 10)), 30), int(query.get("page", 1))
        items = [
            {
                "name": name,
                "value": value,
                "created_at": "2026-11-01T10:00:00Z",
                "updated_at": "2026-11-02T10:00:00Z",
            }
            for name, value in sorted(self.variables.items())
        ]
        return (
            200,
            {},
            {"total_count": len(items), "variables": items[(page - 1) * per_page : page * per_page]},
        )

    def _answer(
        self, op: str, params: dict[str, str], query: dict[str, str], body: Any, path: str
    ) -> tuple[int, dict[str, str], Any]:
        if not self._allowed(op):
            return self._refused(op)
        if (
            op == "repos/create-deployment"
            and isinstance(body, dict)
            and _BAD_REF.search(str(body.get("ref")))
        ):
            message = f"No ref found for: {body['ref']}"
            return 422, {}, {"message": message, "documentation_url": "https://docs.github.com/rest"}
        return super()._answer(op, params, query, body, path)


MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": 2,
            "digest": "sha256:" + "0" * 64,
        },
        "layers": [],
    }
)
WORKFLOW = """on: pull_request
jobs:
  deploy:
    runs-on: ubuntu-24.04
    steps:
      - uses: aws-actions/configure-aws-credentials@e3dd6a429d7300a6a4c196c26e071d42e0343502
        with:
          role-to-assume: ${{ vars.PRENV_AWS_ROLE_ARN }}
          aws-region: ${{ vars.PRENV_AWS_REGION }}
      - if: vars.PRENV_LABEL != ''
        run: echo labelled
"""


@dataclass
class SetUp:
    """A repository (`directory`) set up for prenv, with everything a first deploy needs in place."""

    directory: Path
    env: dict[str, str]
    repository: str
    bucket: str
    base: FakeBase | None
    image: str
    boto: Callable[[str], Any]
    github: DoctorGitHub
    document: dict[str, Any] = field(default_factory=dict)

    def doctor(self, *argv: str) -> CliResult:
        return run_cli(["doctor", *argv], env=self.env, cwd=self.directory)

    def configure(self, **changes: Any) -> None:
        """Rewrite .github/prenv.yml with `changes` (top-level keys; mappings are merged)."""
        for key, value in changes.items():
            current = self.document.get(key)
            self.document[key] = {**current, **value} if isinstance(current, dict) else value
        write_config(self.directory, self.document)

    def assume(self, role: str) -> None:
        """Run with the credentials of `role` (made in the emulator), as the workflow's OIDC step would."""
        iam = self.boto("iam")
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "ecs-tasks.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        try:
            arn = iam.create_role(RoleName=role, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
        except iam.exceptions.EntityAlreadyExistsException:
            arn = iam.get_role(RoleName=role)["Role"]["Arn"]
        credentials = self.boto("sts").assume_role(RoleArn=arn, RoleSessionName="prenv-preview")[
            "Credentials"
        ]
        self.env.update(
            AWS_ACCESS_KEY_ID=credentials["AccessKeyId"],
            AWS_SECRET_ACCESS_KEY=credentials["SecretAccessKey"],
            AWS_SESSION_TOKEN=credentials["SessionToken"],
        )

    def output(self, name: str) -> str:
        """A step output the run wrote to GITHUB_OUTPUT (name<<delimiter blocks)."""
        lines = Path(self.env["GITHUB_OUTPUT"]).read_text().splitlines()
        for index, line in enumerate(lines):
            if line.startswith(name + "<<"):
                return lines[index + 1]
        return ""


@pytest.fixture
def github(repository: str) -> Iterator[DoctorGitHub]:
    """The GitHub stand-in, with the token of the preview workflow's job (its `permissions:`)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        fake = DoctorGitHub(
            mock,
            repository=repository,
            permissions=dict(WORKFLOW_PERMISSIONS),
            variables={},
        )
        yield fake
        fake.assert_clean()


def make_bucket(
    boto: Callable[[str], Any], name: str, *, versioned: bool = True, encrypted: bool = True
) -> str:
    s3 = boto("s3")
    s3.create_bucket(Bucket=name)
    if versioned:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    if encrypted:
        s3.put_bucket_encryption(
            Bucket=name,
            ServerSideEncryptionConfiguration={
                "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]
            },
        )
    return name


@pytest.fixture
def make_setup(
    tmp_path: Path, aws_env: dict[str, str], boto: Callable[[str], Any], repository: str, github: DoctorGitHub
) -> Callable[..., SetUp]:
    """`make_setup(base=True)`: everything in place, seen from the preview workflow's job
    (GITHUB_ACTIONS=true, bootstrap's role); with `base=False`, terraform/base was never applied."""

    def make(*, base: bool = True) -> SetUp:
        bucket = make_bucket(boto, f"prenv-doctor-{uuid.uuid4().hex[:12]}")
        made = None
        uri = f"123456789012.dkr.ecr.us-east-1.amazonaws.com/{base_name(repository)}"
        if base:
            made = create_fake_base(boto, repository)
            boto("ec2").authorize_security_group_ingress(  # terraform/base's default ingress_cidrs
                GroupId=made.alb_security_group_id,
                IpPermissions=[
                    {
                        "IpProtocol": "tcp",
                        "FromPort": 10001,
                        "ToPort": 60000,
                        "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                    }
                ],
            )
            ecr = boto("ecr")  # the fake base made the base's repository
            uri = ecr.describe_repositories(repositoryNames=[base_name(repository)])["repositories"][0][
                "repositoryUri"
            ]
            ecr.put_image(repositoryName=base_name(repository), imageManifest=MANIFEST, imageTag=SHA)
        directory = tmp_path / "repo"
        (directory / ".github" / "workflows").mkdir(parents=True)
        (directory / ".github" / "workflows" / "preview.yml").write_text(WORKFLOW)
        env = {
            **aws_env,
            "GITHUB_ACTIONS": "true",
            "GITHUB_TOKEN": TOKEN,
            "GITHUB_API_URL": github.api_url,
            "GITHUB_REPOSITORY": repository,
            "GITHUB_OUTPUT": str(tmp_path / "output"),
        }
        setup = SetUp(directory, env, repository, bucket, made, f"{uri}:{SHA}", boto, github)
        setup.configure(
            backend={"bucket": bucket, "region": "us-east-1"},
            terraform={"root": str(REPO_ROOT / "terraform" / "preview")},
            app={"health_path": "/healthz"},
            image=setup.image,
            health_check={"enabled": True, "path": "/healthz"},
        )
        setup.assume(workflow_role_name(repository))
        return setup

    return make


@pytest.fixture
def complete(make_setup: Callable[..., SetUp]) -> SetUp:
    return make_setup()
