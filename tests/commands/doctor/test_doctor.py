"""`prenv doctor` against the emulator and the GitHub stand-in: everything in place exits 0; each
planted mistake is named on its own line, with its fix, and exits 1."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest

from prenv.core.naming import base_name, names_for
from tests.commands.doctor.conftest import SHA, SetUp, make_bucket
from tests.helpers import CliResult


def lines(result: CliResult) -> dict[str, str]:
    """check id -> its line (`[FAIL] bucket: ...`)."""
    found = {}
    for line in result.stdout.splitlines():
        match = re.match(r"^\[ *(ok|warn|FAIL|skip)\] ([\w.:-]+): ", line)
        if match:
            found[match.group(2)] = line
    return found


def failures(result: CliResult) -> list[str]:
    return [check for check, line in lines(result).items() if line.startswith("[FAIL]")]


def test_everything_in_place_exits_0(complete: SetUp) -> None:
    result = complete.doctor()
    assert result.exit_code == 0, result.stdout + result.stderr
    found = lines(result)
    assert set(found) >= {
        "config",
        "terraform.root",
        "terraform",
        "aws.identity",
        "aws.region",
        "bucket",
        "bucket.versioning",
        "bucket.encryption",
        "base.cluster",
        "base.load-balancer",
        "base.subnets",
        "base.db-subnet-group",
        "base.ecr",
        "image",
        "exposure",
        "github.pull-requests-read",
        "github.pull-requests-write",
        "github.deployments-write",
        "variables",
        "readiness",
    }
    assert failures(result) == []
    role = f"{base_name(complete.repository)}-github-preview"
    assert f"assumed-role/{role}/prenv-preview" in found["aws.identity"]
    assert "as expected" in found["aws.identity"]
    assert found["base.subnets"].endswith("private subnets in 2 zones (us-east-1a, us-east-1b)")
    assert f"{complete.image} is in ECR" in found["image"]
    # In a workflow the token cannot list variables: the line says so (their effect was checked above).
    assert found["variables"].startswith("[skip] variables: cannot list the repository variables")
    # The exposure: no domain, open to anyone, plain HTTP: worth a warning, not a failure.
    assert found["exposure"].startswith("[warn] exposure: previews at http://")
    assert result.stdout.rstrip().endswith("checks passed (1 warnings)")
    # The token was probed, never used to change anything.
    assert complete.github.sequence() == [
        "GET repos/get",
        "GET pulls/list",
        "PATCH issues/update-comment",
        "POST repos/create-deployment",
    ]
    assert complete.github.deployments == []


def test_json_for_machines(complete: SetUp) -> None:
    result = complete.doctor("--json")
    assert result.exit_code == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["ok"] is True
    assert document["mode"] == "full"
    assert document["repository"] == complete.repository
    assert {
        "id": "bucket.versioning",
        "status": "ok",
        "message": "versioning enabled",
        "fix": "",
    } in document["checks"]


def _fails(setup: SetUp, check: str, *argv: str) -> str:
    result = setup.doctor(*argv)
    assert result.exit_code == 1, result.stdout
    assert failures(result) == [check], result.stdout
    line = lines(result)[check]
    assert " -> fix: " in line
    assert setup.output("failure-reason") == "setup-invalid"
    assert f"::error title=prenv doctor%3A {check}::" in result.stderr
    return line


def test_no_bucket(complete: SetUp) -> None:
    complete.configure(backend={"bucket": "prenv-doctor-no-such-bucket"})
    line = _fails(complete, "bucket")
    assert (
        "the state bucket prenv-doctor-no-such-bucket does not exist -> fix: apply terraform/bootstrap"
        in line
    )


def test_unversioned_bucket(complete: SetUp) -> None:
    bucket = make_bucket(complete.boto, complete.bucket + "-unversioned", versioned=False)
    complete.configure(backend={"bucket": bucket})
    line = _fails(complete, "bucket.versioning")
    assert f"versioning of {bucket} is never enabled" in line
    assert (
        f"aws s3api put-bucket-versioning --bucket {bucket} --versioning-configuration Status=Enabled" in line
    )


def test_base_missing(make_setup: Callable[..., SetUp]) -> None:
    complete = make_setup(base=False)
    result = complete.doctor("--quick")
    assert result.exit_code == 1
    # The image is in the base's repository: with no base, it is missing too.
    assert failures(result) == ["base", "image"], result.stdout
    line = lines(result)["base"]
    assert f"no shared base {base_name(complete.repository)} in us-east-1: nothing named" in line
    assert "-> fix: apply terraform/base" in line


def test_base_with_one_subnet(complete: SetUp) -> None:
    assert complete.base is not None
    complete.boto("ec2").delete_tags(
        Resources=[complete.base.subnet_ids[1]], Tags=[{"Key": "prenv:tier", "Value": "private"}]
    )
    line = _fails(complete, "base.subnets")
    assert "the base's private subnets are in 1 zone (us-east-1a): RDS needs subnets in two or more" in line
    assert "-> fix: apply terraform/base with az_count = 2 or more" in line


def test_image_missing(complete: SetUp) -> None:
    missing = complete.image.replace(SHA, "b" * 40)
    line = _fails(complete, "image", "--image", missing)
    assert f"{missing} is not in ECR (repository {base_name(complete.repository)} in us-east-1)" in line


def test_token_without_deployments_permission(complete: SetUp) -> None:
    del complete.github.permissions["deployments"]
    line = _fails(complete, "github.deployments-write")
    assert "the token cannot record GitHub Deployments: it lacks `deployments: write`" in line
    assert "(GitHub accepts: deployments=write)" in line
    assert "-> fix: grant it in the workflow job: `permissions: {deployments: write}`" in line


def test_wrong_role(complete: SetUp) -> None:
    complete.assume("someone-elses-role")
    line = _fails(complete, "aws.identity")
    assert "assumed-role/someone-elses-role/prenv-preview" in line
    assert f"not the role {base_name(complete.repository)}-github-preview" in line
    assert (
        "-> fix: set the repository variable PRENV_AWS_ROLE_ARN to terraform/bootstrap's output role_arn"
        in line
    )


def test_no_credentials_at_all(complete: SetUp, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        complete.env.pop(name)
        monkeypatch.delenv(name)  # boto3 falls back to the process's own environment
    complete.env["AWS_SHARED_CREDENTIALS_FILE"] = complete.env["AWS_CONFIG_FILE"] = "/nonexistent"
    complete.env["AWS_EC2_METADATA_DISABLED"] = "true"
    result = complete.doctor("--quick")
    assert result.exit_code == 1
    assert failures(result)[0] == "aws.identity"
    assert "no usable AWS credentials" in lines(result)["aws.identity"]
    # The AWS checks that need credentials are not made; GitHub still is.
    assert "bucket" not in lines(result)
    assert "github.deployments-write" in lines(result)


def test_a_bad_config_is_one_line(complete: SetUp) -> None:
    (complete.directory / ".github" / "prenv.yml").write_text(
        "backend: {bucket: x, region: us-east-1}\nbogus: 1\n"
    )
    result = complete.doctor()
    assert result.exit_code == 1
    assert lines(result)["config"].startswith("[FAIL] config: ")
    assert "unknown key 'bogus'" in lines(result)["config"]
    assert len(lines(result)) == 1


# --- quick mode: what the preview workflow runs before a PR's deploy -----------------------------------


def test_quick_checks_what_a_deploy_needs(complete: SetUp) -> None:
    result = complete.doctor("--quick", "--pr", "3")
    assert result.exit_code == 0, result.stdout
    found = lines(result)
    assert "image" in found
    assert "github.deployments-write" in found
    assert not {"variables", "exposure", "readiness"} & set(found)
    assert result.stdout.startswith(f"prenv doctor (quick): {complete.repository}\n")


def test_quick_stops_at_the_bucket_once_the_pr_has_a_state(complete: SetUp) -> None:
    workspace = names_for(4, complete.repository).workspace
    complete.boto("s3").put_object(
        Bucket=complete.bucket, Key=f"prenv/{workspace}/preview.tfstate", Body=b"{}"
    )
    complete.boto("ecs").delete_cluster(cluster=base_name(complete.repository))  # would fail a full check
    result = complete.doctor("--quick", "--pr", "4")
    assert result.exit_code == 0, result.stdout
    assert list(lines(result))[-1] == "first-deploy"
    assert "PR #4 has a state already (workspace pr-4)" in lines(result)["first-deploy"]
    assert complete.github.requests == []  # nothing asked of GitHub either


# --- from a laptop: the repository variables the workflows use ----------------------------------------


@pytest.fixture
def laptop(complete: SetUp) -> SetUp:
    """The same set-up checked from a maintainer's laptop: their own credentials, a token that can read
    the repository variables."""
    for name in ("GITHUB_ACTIONS", "GITHUB_OUTPUT"):
        complete.env.pop(name)
    complete.env.update(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_SESSION_TOKEN="testing"
    )
    complete.github.permissions = None
    account = "123456789012"
    complete.github.variables = {
        "PRENV_AWS_ROLE_ARN": f"arn:aws:iam::{account}:role/{base_name(complete.repository)}-github-preview",
        "PRENV_AWS_REGION": "us-east-1",
    }
    return complete


def test_from_a_laptop_every_variable_is_checked(laptop: SetUp) -> None:
    result = laptop.doctor()
    assert result.exit_code == 0, result.stdout
    found = lines(result)
    assert found["aws.identity"].startswith("[  ok] aws.identity: AWS credentials of arn:aws:")
    assert (
        found["variables.PRENV_AWS_REGION"]
        == "[  ok] variables.PRENV_AWS_REGION: PRENV_AWS_REGION = us-east-1"
    )
    assert found["variables.PRENV_LABEL"] == "[  ok] variables.PRENV_LABEL: PRENV_LABEL is not set (optional)"


def test_a_variable_naming_another_role_fails(laptop: SetUp) -> None:
    laptop.github.variables["PRENV_AWS_ROLE_ARN"] = "arn:aws:iam::123456789012:role/other"
    del laptop.github.variables["PRENV_AWS_REGION"]
    result = laptop.doctor()
    assert result.exit_code == 1
    assert failures(result) == ["variables.PRENV_AWS_REGION", "variables.PRENV_AWS_ROLE_ARN"]
    assert "PRENV_AWS_REGION is not set: the workflows need it" in lines(result)["variables.PRENV_AWS_REGION"]
    role_line = lines(result)["variables.PRENV_AWS_ROLE_ARN"]
    assert f"role other, not terraform/bootstrap's {base_name(laptop.repository)}-github-preview" in role_line
    assert "-> fix: gh variable set PRENV_AWS_ROLE_ARN --body " in role_line


def test_a_classic_token_is_judged_by_its_scopes(laptop: SetUp) -> None:
    laptop.github.scopes = ("read:org",)
    result = laptop.doctor("--quick")
    assert result.exit_code == 1
    assert failures(result) == ["github.token"]
    # The examples' repository is public: `public_repo` would do.
    assert "the classic token has read:org: prenv needs `public_repo`" in lines(result)["github.token"]
    # A classic token says what it may do: nothing is probed.
    assert laptop.github.sequence() == ["GET repos/get"]
