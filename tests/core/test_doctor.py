"""`prenv doctor`'s decisions over plain facts: each mistake is one failed check that says its fix."""

from __future__ import annotations

from datetime import timedelta

import pytest

from prenv.core import doctor
from prenv.core.config import parse
from prenv.core.doctor import BaseFacts, BucketFacts, Check, GitHubFacts, Identity, ImageFacts, Verdict
from prenv.core.naming import workflow_role_name

REPOSITORY = "octo-org/app"
ROLE = workflow_role_name(REPOSITORY)
ACCOUNT = "123456789012"


def statuses(checks: list[Check]) -> dict[str, Verdict]:
    return {check.id: check.status for check in checks}


def test_the_workflow_role_is_terraform_bootstraps() -> None:
    assert "prenv-" + ROLE.split("-")[1] + "-github-preview" == ROLE
    assert doctor.expected_role(REPOSITORY, given="", in_actions=True) == ROLE
    assert doctor.expected_role(REPOSITORY, given="", in_actions=False) == ""
    assert (
        doctor.expected_role(REPOSITORY, given=f"arn:aws:iam::{ACCOUNT}:role/path/x", in_actions=True) == "x"
    )
    assert doctor.expected_role(REPOSITORY, given="some-role", in_actions=False) == "some-role"


@pytest.mark.parametrize(
    ("arn", "status"),
    [
        (f"arn:aws:sts::{ACCOUNT}:assumed-role/{ROLE}/prenv-preview", Verdict.OK),
        (f"arn:aws:sts::{ACCOUNT}:assumed-role/other/prenv-preview", Verdict.FAIL),
        (f"arn:aws:iam::{ACCOUNT}:user/alice", Verdict.FAIL),
    ],
)
def test_identity_in_a_workflow(arn: str, status: Verdict) -> None:
    check = doctor.check_identity(Identity(arn, ACCOUNT), "", expected=ROLE, in_actions=True)
    assert check.status is status
    if status is Verdict.FAIL:
        assert check.message == f"the AWS credentials are {arn} (account {ACCOUNT}), not the role {ROLE}"
        assert check.fix.startswith("set the repository variable PRENV_AWS_ROLE_ARN")


def test_identity_on_a_laptop_is_whoever_it_is() -> None:
    check = doctor.check_identity(
        Identity(f"arn:aws:iam::{ACCOUNT}:user/alice", ACCOUNT), "", expected="", in_actions=False
    )
    assert check == Check(
        "aws.identity",
        Verdict.OK,
        f"AWS credentials of arn:aws:iam::{ACCOUNT}:user/alice (account {ACCOUNT})",
    )
    missing = doctor.check_identity(None, "Unable to locate credentials", expected="", in_actions=False)
    assert (missing.status, missing.message) == (
        Verdict.FAIL,
        "no usable AWS credentials: Unable to locate credentials",
    )


@pytest.mark.parametrize(
    ("binary", "version", "status"),
    [
        ("/usr/bin/terraform", "1.11.4", Verdict.OK),
        ("/usr/bin/terraform", "1.12.0", Verdict.OK),
        ("/usr/bin/terraform", "1.10.5", Verdict.FAIL),
        ("/usr/bin/tofu", "1.10.0", Verdict.OK),
        ("/usr/bin/tofu", "1.9.1", Verdict.FAIL),
    ],
)
def test_terraform_versions(binary: str, version: str, status: Verdict) -> None:
    assert doctor.check_terraform(binary, version, "").status is status


def test_terraform_missing_and_too_old_say_what_to_install() -> None:
    missing = doctor.check_terraform("", None, "terraform not found on PATH")
    assert (missing.status, missing.message) == (Verdict.FAIL, "terraform not found on PATH")
    assert "install Terraform >= 1.11" in missing.fix
    old = doctor.check_terraform("/bin/terraform", "1.9.8", "")
    assert (
        old.message == "Terraform 1.9.8 (/bin/terraform) is too old: the state lock file needs 1.11 or newer"
    )


def test_a_region_other_than_the_buckets_fails() -> None:
    assert doctor.check_region("", "us-east-1").status is Verdict.OK
    assert doctor.check_region("us-east-1", "us-east-1").status is Verdict.OK
    check = doctor.check_region("eu-west-1", "us-east-1")
    assert check.status is Verdict.FAIL
    assert check.fix == "set AWS_REGION (the repository variable PRENV_AWS_REGION) to us-east-1"


GOOD_BUCKET = BucketFacts(
    "state", exists=True, region="us-east-1", versioning="Enabled", encryption=("aws:kms",)
)


@pytest.mark.parametrize(
    ("facts", "failed"),
    [
        (GOOD_BUCKET, []),
        (BucketFacts("state", exists=False), ["bucket"]),
        (BucketFacts("state", exists=None, error="AccessDenied"), ["bucket"]),
        (
            BucketFacts("state", exists=True, versioning="Suspended", encryption=("AES256",)),
            ["bucket.versioning"],
        ),
        (BucketFacts("state", exists=True, versioning="Enabled"), ["bucket.encryption"]),
        (
            BucketFacts(
                "state", exists=True, region="eu-west-1", versioning="Enabled", encryption=("AES256",)
            ),
            ["bucket.region"],
        ),
    ],
)
def test_bucket(facts: BucketFacts, failed: list[str]) -> None:
    assert [c.id for c in doctor.failed(doctor.check_bucket(facts, "us-east-1"))] == failed


def test_an_unversioned_bucket_says_how_to_version_it() -> None:
    (check,) = doctor.failed(
        doctor.check_bucket(BucketFacts("state", exists=True, encryption=("AES256",)), "us-east-1")
    )
    assert (
        check.message
        == "versioning of state is never enabled: a damaged or deleted state could not be recovered"
    )
    assert check.fix.startswith(
        "aws s3api put-bucket-versioning --bucket state --versioning-configuration Status=Enabled"
    )


GOOD_BASE = BaseFacts(
    name="prenv-abc123",
    region="us-east-1",
    vpc=True,
    cluster="ACTIVE",
    load_balancer="active",
    load_balancer_dns="prenv-abc123.elb.amazonaws.com",
    subnet_zones=("us-east-1a", "us-east-1b"),
    db_subnet_group_zones=("us-east-1a", "us-east-1b"),
    ecr_repository="123456789012.dkr.ecr.us-east-1.amazonaws.com/prenv-abc123",
    ingress=("0.0.0.0/0",),
)


def test_a_complete_base_passes_every_part() -> None:
    assert set(statuses(doctor.check_base(GOOD_BASE)).values()) == {Verdict.OK}


@pytest.mark.parametrize(
    ("changes", "failed", "message"),
    [
        ({"cluster": ""}, "base.cluster", "ECS cluster prenv-abc123 does not exist"),
        ({"cluster": "INACTIVE"}, "base.cluster", "ECS cluster prenv-abc123 is inactive"),
        (
            {"load_balancer": "provisioning"},
            "base.load-balancer",
            "load balancer prenv-abc123 is provisioning",
        ),
        (
            {"subnet_zones": ("us-east-1a", "us-east-1a")},
            "base.subnets",
            "the base's private subnets are in 1 zone (us-east-1a): RDS needs subnets in two or more",
        ),
        (
            {"db_subnet_group_zones": None},
            "base.db-subnet-group",
            "database subnet group prenv-abc123 does not exist",
        ),
        ({"ecr_repository": ""}, "base.ecr", "ECR repository prenv-abc123 does not exist"),
    ],
)
def test_each_missing_part_of_the_base(changes: dict[str, object], failed: str, message: str) -> None:
    from dataclasses import replace

    (check,) = doctor.failed(doctor.check_base(replace(GOOD_BASE, **changes)))  # type: ignore[arg-type]
    assert (check.id, check.message) == (failed, message)


def test_no_base_at_all_is_one_line() -> None:
    checks = doctor.check_base(BaseFacts(name="prenv-abc123", region="eu-west-1"))
    assert checks == [
        Check(
            "base",
            Verdict.FAIL,
            "no shared base prenv-abc123 in eu-west-1: nothing named prenv-abc123",
            "apply terraform/base with repository = the GitHub repository (owner/name), in the same region",
        )
    ]


def test_the_shipped_preview_root_uses_the_base() -> None:
    from tests.helpers import LIGHT_ROOT, REPO_ROOT

    assert doctor.uses_base(p.read_text() for p in (REPO_ROOT / "terraform" / "preview").glob("*.tf"))
    assert not doctor.uses_base(p.read_text() for p in LIGHT_ROOT.glob("*.tf"))


def test_ecr_image_references() -> None:
    image = doctor.ecr_image("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app:" + "a" * 40)
    assert image == doctor.EcrImage("123456789012", "eu-west-1", "team/app", "a" * 40, "")
    digest = "sha256:" + "b" * 64
    assert doctor.ecr_image(f"123456789012.dkr.ecr.us-east-1.amazonaws.com/app@{digest}") == doctor.EcrImage(
        "123456789012", "us-east-1", "app", "", digest
    )
    assert doctor.ecr_image("123456789012.dkr.ecr.us-east-1.amazonaws.com/app") == doctor.EcrImage(
        "123456789012", "us-east-1", "app", "latest", ""
    )
    for other in ("public.ecr.aws/nginx/nginx:1", "nginx", "ghcr.io/org/app:1", ""):
        assert doctor.ecr_image(other) is None


def test_images() -> None:
    ecr = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:v1"
    assert doctor.check_image(ImageFacts("")).status is Verdict.OK
    assert doctor.check_image(ImageFacts("nginx:1")).status is Verdict.OK
    assert doctor.check_image(ImageFacts(ecr, found=True)).status is Verdict.OK
    missing = doctor.check_image(ImageFacts(ecr, found=False))
    assert (missing.status, missing.message) == (
        Verdict.FAIL,
        f"{ecr} is not in ECR (repository app in us-east-1)",
    )
    assert doctor.check_image(ImageFacts(ecr, error="AccessDenied")).status is Verdict.FAIL


def test_github_without_a_token() -> None:
    facts = GitHubFacts(REPOSITORY, token=False)
    assert statuses(doctor.check_github(facts, needed=True, in_actions=False)) == {"github": Verdict.SKIP}
    assert statuses(doctor.check_github(facts, needed=True, in_actions=True)) == {"github": Verdict.FAIL}
    assert statuses(doctor.check_github(facts, needed=False, in_actions=True)) == {"github": Verdict.SKIP}


def test_github_permissions_probed() -> None:
    facts = GitHubFacts(
        REPOSITORY,
        token=True,
        granted={"pull-requests: read": True, "pull-requests: write": None, "deployments: write": False},
        accepted={"deployments: write": "deployments=write"},
    )
    checks = doctor.check_github(facts, needed=True, in_actions=True)
    assert statuses(checks) == {
        "github.pull-requests-read": Verdict.OK,
        "github.pull-requests-write": Verdict.WARN,
        "github.deployments-write": Verdict.FAIL,
    }
    assert checks[2].fix == "grant it in the workflow job: `permissions: {deployments: write}`"


@pytest.mark.parametrize(
    ("scopes", "private", "status"),
    [
        (("repo",), True, Verdict.OK),
        (("public_repo",), False, Verdict.OK),
        (("public_repo",), True, Verdict.FAIL),
        ((), False, Verdict.FAIL),
    ],
)
def test_classic_token_scopes(scopes: tuple[str, ...], private: bool, status: Verdict) -> None:
    facts = GitHubFacts(REPOSITORY, token=True, scopes=scopes, private=private)
    (check,) = doctor.check_github(facts, needed=True, in_actions=False)
    assert check.status is status


WORKFLOW = (
    "role: ${{ vars.PRENV_AWS_ROLE_ARN }}\\nif: vars.PRENV_LABEL != ''\\nx: ${{ vars.PRENV_AWS_REGION }}"
)


def test_the_variables_the_workflows_use() -> None:
    assert doctor.workflow_variables([WORKFLOW, "${{ vars.PRENV_LABEL }}"]) == [
        "PRENV_AWS_REGION",
        "PRENV_AWS_ROLE_ARN",
        "PRENV_LABEL",
    ]


def test_variables_against_what_they_should_hold() -> None:
    expected = doctor.Expected(
        role=ROLE, account=ACCOUNT, region="us-east-1", ecr_repository="r/x", label="preview"
    )
    used = ["PRENV_AWS_REGION", "PRENV_AWS_ROLE_ARN", "PRENV_ECR_REPOSITORY", "PRENV_LABEL", "PRENV_OTHER"]
    values = {
        "PRENV_AWS_ROLE_ARN": f"arn:aws:iam::999999999999:role/{ROLE}",
        "PRENV_AWS_REGION": "us-east-1",
        "PRENV_ECR_REPOSITORY": "r/y",
        "PRENV_LABEL": "preview",
    }
    checks = {check.id: check for check in doctor.check_variables(used, values, "", expected)}
    assert checks["variables.PRENV_AWS_REGION"].status is Verdict.OK
    assert checks["variables.PRENV_AWS_ROLE_ARN"].message.endswith(
        "a role of account 999999999999, not 123456789012"
    )
    assert checks["variables.PRENV_ECR_REPOSITORY"].fix == "gh variable set PRENV_ECR_REPOSITORY --body r/x"
    assert checks["variables.PRENV_LABEL"].status is Verdict.OK
    assert checks["variables.PRENV_OTHER"].status is Verdict.OK  # not set, not one prenv needs
    unreadable = doctor.check_variables(used, None, "HTTP 403", expected)
    assert [(c.id, c.status) for c in unreadable] == [("variables", Verdict.SKIP)]
    assert doctor.check_variables([], {}, "", expected)[0].status is Verdict.SKIP


def test_exposure() -> None:
    assert doctor.check_exposure(GOOD_BASE).status is Verdict.WARN  # public, plain HTTP
    https = doctor.check_exposure(
        BaseFacts(
            **{
                **GOOD_BASE.__dict__,
                "load_balancer_tags": {"prenv:domain": "p.example.com", "prenv:https": "true"},
            }
        )
    )
    assert (https.status, https.message) == (
        Verdict.OK,
        "previews at https://pr-<N>.p.example.com/, open to anyone with the URL",
    )
    office = doctor.check_exposure(BaseFacts(**{**GOOD_BASE.__dict__, "ingress": ("203.0.113.0/24",)}))
    assert office.status is Verdict.OK
    assert office.message.endswith("open to 203.0.113.0/24")
    closed = doctor.check_exposure(BaseFacts(**{**GOOD_BASE.__dict__, "ingress": ()}))
    assert closed.status is Verdict.WARN


def test_readiness() -> None:
    base = "backend: {bucket: b, region: us-east-1}\n"
    assert doctor.check_readiness(parse(base)).status is Verdict.WARN
    steady = parse(base + "terraform: {variables: {wait_for_steady_state: true}}\n")
    assert doctor.check_readiness(steady).status is Verdict.OK
    health = parse(base + "app: {health_path: /up}\nhealth_check: {enabled: true, timeout: 2m}\n")
    assert doctor.check_readiness(health).message == "ready once /up answers 2xx (waits up to 120s)"
    assert health.health_check.timeout == timedelta(minutes=2)
    apart = parse(base + "health_check: {enabled: true, path: /up}\napp: {health_path: /healthz}\n")
    warned = doctor.check_readiness(apart)
    assert (warned.status, warned.message) == (
        Verdict.WARN,
        "prenv waits for /up but the load balancer checks /healthz",
    )
