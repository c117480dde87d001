"""`prenv doctor`'s decisions (pure): plain facts in, one `Check` per line out, each with its fix.

The adapters gather the facts (`prenv.aws.doctor`, `prenv.github.doctor`, the Terraform runner); the
command (`prenv.commands.doctor`) puts them here and prints what comes back. Nothing here does I/O, so
each failure the doctor names is a test over a value: no bucket, an unversioned one, no base, one zone,
no image, a token without `deployments: write`, credentials of another role.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from prenv.core import naming
from prenv.core.config import Config

# use_lockfile (S3 locking without DynamoDB) came with Terraform 1.11 and OpenTofu 1.10.
MIN_TERRAFORM = (1, 11)
MIN_TOFU = (1, 10)
# The variables the workflows need (the others they use are optional), and what each must hold.
REQUIRED_VARIABLES = ("PRENV_AWS_ROLE_ARN", "PRENV_AWS_REGION")
_ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}):role/(?:[\w+=,.@-]+/)*([\w+=,.@-]+)$")
_ASSUMED = re.compile(r"^arn:aws[a-z-]*:sts::(\d{12}):assumed-role/([\w+=,.@-]+)/[\w+=,.@-]+$")
_ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.amazonaws\.com(?:\.cn)?/"
    r"(?P<repository>[a-z0-9][a-z0-9._/-]*)(?::(?P<tag>[\w][\w.-]{0,127}))?(?:@(?P<digest>sha256:[0-9a-f]{64}))?$"
)
# How terraform/preview finds the shared base (by name, with data sources): a root without it does not
# use terraform/base, and its base is not the doctor's business.
_USES_BASE = re.compile(r'data\s+"aws_lb"\s+"base"')
_KMS_BY_DEFAULT = '{"Rules":[{"ApplyServerSideEncryptionByDefault":{"SSEAlgorithm":"aws:kms"}}]}'
_WORKFLOW_VARIABLE = re.compile(r"\bvars\.([A-Za-z_][A-Za-z0-9_]*)")


class Verdict(StrEnum):
    OK = "ok"
    WARN = "warn"  # works, but worth knowing (never fails the doctor)
    FAIL = "fail"  # a deploy would fail, or do what nobody wants
    SKIP = "skip"  # not checked, and why


@dataclass(frozen=True)
class Check:
    """One line of the doctor: what was checked, what was found, and how to fix it."""

    id: str
    status: Verdict
    message: str
    fix: str = ""


def failed(checks: Iterable[Check]) -> list[Check]:
    return [check for check in checks if check.status is Verdict.FAIL]


# --- the configuration and Terraform -------------------------------------------------------------------


def check_config(config: Config | None, error: str, fix: str) -> Check:
    if config is None:
        return Check(
            "config", Verdict.FAIL, error, fix or "fix the file (docs/setup.md shows a complete one)"
        )
    backend = config.backend
    return Check(
        "config",
        Verdict.OK,
        f"{config.path}: state in s3://{backend.bucket}/{backend.workspace_key_prefix}/ ({backend.region}), "
        f"root {config.terraform.root}",
    )


def check_root(root: str, exists: bool) -> Check:
    if exists:
        return Check("terraform.root", Verdict.OK, f"Terraform root {root} exists")
    return Check(
        "terraform.root",
        Verdict.FAIL,
        f"the Terraform root {root} does not exist",
        "set terraform.root in the config to the directory of the preview's Terraform",
    )


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def check_terraform(binary: str, version: str | None, error: str) -> Check:
    if version is None:
        return Check(
            "terraform",
            Verdict.FAIL,
            error or "Terraform was not found",
            "install Terraform >= 1.11 (https://developer.hashicorp.com/terraform/install), or set "
            "PRENV_TERRAFORM to the binary",
        )
    tofu = "tofu" in binary.rsplit("/", 1)[-1]
    minimum = MIN_TOFU if tofu else MIN_TERRAFORM
    name = "OpenTofu" if tofu else "Terraform"
    wanted = ".".join(map(str, minimum))
    if _version(version) < minimum:
        return Check(
            "terraform",
            Verdict.FAIL,
            f"{name} {version} ({binary}) is too old: the state lock file needs {wanted} or newer",
            f"install {name} >= {wanted} (the action's terraform-version input installs it in workflows)",
        )
    return Check("terraform", Verdict.OK, f"{name} {version} ({binary})")


# --- AWS ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Identity:
    """Who the AWS credentials are (STS GetCallerIdentity)."""

    arn: str
    account: str

    @property
    def role(self) -> str:
        """The role name, for credentials of an assumed role ('' otherwise)."""
        match = _ASSUMED.match(self.arn)
        return match.group(2) if match else ""


def expected_role(repository: str, *, given: str, in_actions: bool) -> str:
    """The role the credentials must be: `given` (`--role`, an ARN or a name), else in a workflow the
    one terraform/bootstrap makes for the repository; '' when any identity will do (a laptop)."""
    if given:
        match = _ROLE_ARN.match(given)
        return match.group(2) if match else given.strip()
    if in_actions and repository:
        return naming.workflow_role_name(repository)
    return ""


def check_identity(identity: Identity | None, error: str, *, expected: str, in_actions: bool) -> Check:
    if identity is None:
        where = "the workflow's OIDC step (aws-actions/configure-aws-credentials)" if in_actions else "AWS"
        return Check(
            "aws.identity",
            Verdict.FAIL,
            f"no usable AWS credentials: {error}",
            f"configure credentials for {where}: AWS_PROFILE or AWS_ACCESS_KEY_ID/..., and AWS_REGION",
        )
    found = f"{identity.arn} (account {identity.account})"
    if not expected:
        return Check("aws.identity", Verdict.OK, f"AWS credentials of {found}")
    if identity.role == expected:
        return Check("aws.identity", Verdict.OK, f"AWS credentials of {found}: role {expected}, as expected")
    return Check(
        "aws.identity",
        Verdict.FAIL,
        f"the AWS credentials are {found}, not the role {expected}",
        "set the repository variable PRENV_AWS_ROLE_ARN to terraform/bootstrap's output role_arn, and "
        "make sure no other AWS credentials reach the job (secrets, a runner's instance profile)"
        if in_actions
        else f"assume the role {expected} (or drop --role to accept any credentials)",
    )


def check_region(aws_region: str, backend_region: str) -> Check:
    if not aws_region or aws_region == backend_region:
        return Check("aws.region", Verdict.OK, f"region {backend_region}")
    return Check(
        "aws.region",
        Verdict.FAIL,
        f"AWS_REGION is {aws_region}, but the state bucket is in {backend_region}: previews would be "
        f"created in {aws_region}, away from the base",
        f"set AWS_REGION (the repository variable PRENV_AWS_REGION) to {backend_region}",
    )


@dataclass(frozen=True)
class BucketFacts:
    """The state bucket as S3 answers: `exists` None when S3 could not say (`error` says why)."""

    name: str
    exists: bool | None
    region: str = ""  # where S3 says the bucket is ('' when it did not say)
    versioning: str = ""  # Enabled, Suspended, or '' (never enabled)
    encryption: tuple[str, ...] = ()  # the default encryption's algorithms; () when none is set
    error: str = ""


def check_bucket(facts: BucketFacts, backend_region: str) -> list[Check]:
    bootstrap = (
        "apply terraform/bootstrap (it creates the bucket) and set backend.bucket to its state_bucket output"
    )
    if facts.exists is None:
        return [
            Check(
                "bucket",
                Verdict.FAIL,
                f"cannot reach the state bucket {facts.name}: {facts.error}",
                "check the credentials' access to the bucket (s3:ListBucket) and backend.region",
            )
        ]
    if not facts.exists:
        return [Check("bucket", Verdict.FAIL, f"the state bucket {facts.name} does not exist", bootstrap)]
    checks = [Check("bucket", Verdict.OK, f"state bucket {facts.name} exists and is reachable")]
    if facts.region and facts.region != backend_region:
        checks.append(
            Check(
                "bucket.region",
                Verdict.FAIL,
                f"the state bucket {facts.name} is in {facts.region}, not {backend_region}",
                f"set backend.region to {facts.region}",
            )
        )
    if facts.versioning != "Enabled":
        state = facts.versioning.lower() or "never enabled"
        checks.append(
            Check(
                "bucket.versioning",
                Verdict.FAIL,
                f"versioning of {facts.name} is {state}: a damaged or deleted state could not be recovered",
                f"aws s3api put-bucket-versioning --bucket {facts.name} "
                "--versioning-configuration Status=Enabled (terraform/bootstrap enables it)",
            )
        )
    else:
        checks.append(Check("bucket.versioning", Verdict.OK, "versioning enabled"))
    if not facts.encryption:
        checks.append(
            Check(
                "bucket.encryption",
                Verdict.FAIL,
                f"{facts.name} has no default encryption",
                f"aws s3api put-bucket-encryption --bucket {facts.name} "
                f"--server-side-encryption-configuration '{_KMS_BY_DEFAULT}' (terraform/bootstrap sets it)",
            )
        )
    else:
        checks.append(
            Check("bucket.encryption", Verdict.OK, f"encrypted by default ({', '.join(facts.encryption)})")
        )
    return checks


# --- the shared base -----------------------------------------------------------------------------------


def uses_base(root_texts: Iterable[str]) -> bool:
    """Whether a root finds prenv's shared base as terraform/preview does (its `.tf` files' text)."""
    return any(_USES_BASE.search(text) for text in root_texts)


@dataclass(frozen=True)
class BaseFacts:
    """terraform/base's parts, found by their name (`prenv-<hash6>`) in `region`."""

    name: str
    region: str
    vpc: bool = False
    cluster: str = ""  # the cluster's status (ACTIVE), '' when there is none
    load_balancer: str = ""  # the load balancer's state (active, provisioning), '' when there is none
    load_balancer_dns: str = ""
    load_balancer_tags: Mapping[str, str] = field(default_factory=dict)
    subnet_zones: tuple[str, ...] = ()  # the zone of each private subnet of the base's VPC
    db_subnet_group_zones: tuple[str, ...] | None = None  # None: no such group
    ecr_repository: str = ""  # the repository's URI, '' when there is none
    ingress: tuple[str, ...] = ()  # who may reach the load balancer (CIDR blocks)
    error: str = ""  # why the base could not be read

    @property
    def found(self) -> bool:
        return bool(
            self.vpc
            or self.cluster
            or self.load_balancer
            or self.db_subnet_group_zones is not None
            or self.ecr_repository
        )


_APPLY_BASE = "apply terraform/base with repository = the GitHub repository (owner/name), in the same region"


def check_base(facts: BaseFacts) -> list[Check]:
    where = f"{facts.name} in {facts.region}"
    if facts.error:
        return [
            Check(
                "base",
                Verdict.FAIL,
                f"cannot read the base {where}: {facts.error}",
                "check the credentials' read permissions (terraform/bootstrap's role has them)",
            )
        ]
    if not facts.found:
        return [
            Check("base", Verdict.FAIL, f"no shared base {where}: nothing named {facts.name}", _APPLY_BASE)
        ]
    checks: list[Check] = []

    def part(check_id: str, ok: bool, good: str, bad: str, fix: str = _APPLY_BASE) -> None:
        checks.append(Check(check_id, Verdict.OK, good) if ok else Check(check_id, Verdict.FAIL, bad, fix))

    part(
        "base.cluster",
        facts.cluster == "ACTIVE",
        f"ECS cluster {facts.name} is active",
        f"ECS cluster {facts.name} " + (f"is {facts.cluster.lower()}" if facts.cluster else "does not exist"),
    )
    part(
        "base.load-balancer",
        facts.load_balancer == "active",
        f"load balancer {facts.name} is active ({facts.load_balancer_dns})",
        f"load balancer {facts.name} "
        + (f"is {facts.load_balancer}" if facts.load_balancer else "does not exist"),
    )
    zones = sorted(set(facts.subnet_zones))
    part(
        "base.subnets",
        len(zones) >= 2,
        f"private subnets in {len(zones)} zones ({', '.join(zones)})",
        f"the base's private subnets are in {len(zones)} zone{'s' if len(zones) != 1 else ''}"
        + (f" ({', '.join(zones)})" if zones else "")
        + ": RDS needs subnets in two or more",
        "apply terraform/base with az_count = 2 or more (the default is 2)",
    )
    group = sorted(set(facts.db_subnet_group_zones or ()))
    part(
        "base.db-subnet-group",
        len(group) >= 2,
        f"database subnet group {facts.name} spans {len(group)} zones",
        f"database subnet group {facts.name} "
        + (
            "does not exist"
            if facts.db_subnet_group_zones is None
            else f"spans {len(group)} zone(s): RDS needs two"
        ),
    )
    part(
        "base.ecr",
        bool(facts.ecr_repository),
        f"ECR repository {facts.ecr_repository}",
        f"ECR repository {facts.name} does not exist",
    )
    return checks


# --- the image -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EcrImage:
    account: str
    region: str
    repository: str
    tag: str
    digest: str


def ecr_image(reference: str) -> EcrImage | None:
    """The parts of a private ECR image reference; None for any other registry."""
    match = _ECR_IMAGE.match(reference.strip())
    if not match:
        return None
    return EcrImage(
        account=match["account"],
        region=match["region"],
        repository=match["repository"],
        tag=match["tag"] or ("" if match["digest"] else "latest"),
        digest=match["digest"] or "",
    )


@dataclass(frozen=True)
class ImageFacts:
    reference: str  # what would be deployed ('' : the root's own default)
    found: bool | None = None  # in ECR? None when not looked up (not an ECR image, or unreadable)
    error: str = ""


def check_image(facts: ImageFacts) -> Check:
    if not facts.reference:
        return Check("image", Verdict.OK, "no image given: the root's default image is deployed")
    ecr = ecr_image(facts.reference)
    if ecr is None:
        return Check(
            "image",
            Verdict.OK,
            f"{facts.reference} is not in a private ECR registry: ECS pulls it from its public registry "
            "(not checked)",
        )
    if facts.error:
        return Check(
            "image",
            Verdict.FAIL,
            f"cannot look up {facts.reference} in ECR: {facts.error}",
            "check the credentials' ecr:DescribeImages on the repository",
        )
    if facts.found:
        return Check("image", Verdict.OK, f"{facts.reference} is in ECR")
    return Check(
        "image",
        Verdict.FAIL,
        f"{facts.reference} is not in ECR (repository {ecr.repository} in {ecr.region})",
        "build and push it first (`prenv image` with build.context set, as the preview workflow's image "
        "job runs it), or deploy another image",
    )


# --- GitHub --------------------------------------------------------------------------------------------

# What prenv does on GitHub, the permission each needs (as a workflow's `permissions:` names it).
PERMISSIONS = {
    "pull-requests: read": "read the pull requests",
    "pull-requests: write": "write the PR comment",
    "deployments: write": "record GitHub Deployments",
}


@dataclass(frozen=True)
class GitHubFacts:
    """What GitHub said about the token: its classic scopes (`X-OAuth-Scopes`; None for fine-grained and
    installation tokens), and for those each permission probed (None: the probe could not tell)."""

    repository: str
    token: bool
    error: str = ""  # the repository could not be read at all
    private: bool = True
    scopes: tuple[str, ...] | None = None
    granted: Mapping[str, bool | None] = field(default_factory=dict)
    accepted: Mapping[str, str] = field(default_factory=dict)  # permission -> X-Accepted-GitHub-Permissions


def check_github(facts: GitHubFacts, *, needed: bool, in_actions: bool) -> list[Check]:
    if not facts.token:
        if needed and in_actions:
            return [
                Check(
                    "github",
                    Verdict.FAIL,
                    "no GITHUB_TOKEN: prenv cannot write the PR comment or Deployments",
                    "pass `github-token: ${{ github.token }}` to the action, or set comment.enabled and "
                    "deployments.enabled to false",
                )
            ]
        return [
            Check("github", Verdict.SKIP, "no GITHUB_TOKEN: GitHub not checked (set it to check the token)")
        ]
    if facts.error:
        return [
            Check(
                "github",
                Verdict.FAIL,
                f"cannot read {facts.repository} on GitHub: {facts.error}",
                "check GITHUB_REPOSITORY (or `repository:` in the config) and that the token can read it",
            )
        ]
    if facts.scopes is not None:
        wanted = "public_repo" if not facts.private else "repo"
        ok = "repo" in facts.scopes or wanted in facts.scopes
        listed = ", ".join(facts.scopes) or "no scopes"
        if ok:
            return [
                Check(
                    "github.token", Verdict.OK, f"classic token with {listed}: enough for {facts.repository}"
                )
            ]
        return [
            Check(
                "github.token",
                Verdict.FAIL,
                f"the classic token has {listed}: prenv needs `{wanted}` to comment and record Deployments",
                f"give the token the `{wanted}` scope, or use the workflow's GITHUB_TOKEN",
            )
        ]
    checks = []
    for permission, what in PERMISSIONS.items():
        check_id = "github." + permission.replace(": ", "-")
        granted = facts.granted.get(permission)
        if granted:
            checks.append(Check(check_id, Verdict.OK, f"the token can {what} ({permission})"))
        elif granted is None:
            checks.append(
                Check(check_id, Verdict.WARN, f"could not tell whether the token can {what} ({permission})")
            )
        else:
            accepted = facts.accepted.get(permission, "")
            said = f" (GitHub accepts: {accepted})" if accepted else ""
            checks.append(
                Check(
                    check_id,
                    Verdict.FAIL,
                    f"the token cannot {what}: it lacks `{permission}`{said}",
                    f"grant it in the workflow job: `permissions: {{{permission}}}`"
                    if in_actions
                    else f"give the token `{permission}` (fine-grained token: repository permissions)",
                )
            )
    return checks


def workflow_variables(texts: Iterable[str]) -> list[str]:
    """The repository variables (`vars.NAME`) the workflows use, sorted, each once."""
    return sorted({name for text in texts for name in _WORKFLOW_VARIABLE.findall(text)})


@dataclass(frozen=True)
class Expected:
    """What the variables should hold, as far as the other facts tell (each '' when unknown)."""

    role: str = ""  # the role's name
    account: str = ""
    region: str = ""
    ecr_repository: str = ""
    label: str = ""


def check_variables(
    used: Sequence[str], values: Mapping[str, str] | None, error: str, expected: Expected
) -> list[Check]:
    if not used:
        return [
            Check("variables", Verdict.SKIP, "no workflow in .github/workflows uses a repository variable")
        ]
    if values is None:
        return [
            Check(
                "variables",
                Verdict.SKIP,
                f"cannot list the repository variables ({error}): the workflows use {', '.join(used)}",
                "check them with `gh variable list` (a token needs `variables: read` for the doctor to)",
            )
        ]
    checks = []
    for name in used:
        value = values.get(name, "")
        check_id = f"variables.{name}"
        setting = f"gh variable set {name} --body "
        if not value:
            if name in REQUIRED_VARIABLES:
                checks.append(
                    Check(
                        check_id,
                        Verdict.FAIL,
                        f"{name} is not set: the workflows need it",
                        setting + "<value>",
                    )
                )
            else:
                checks.append(Check(check_id, Verdict.OK, f"{name} is not set (optional)"))
            continue
        problem, fix = _variable_problem(name, value, expected)
        if problem:
            checks.append(Check(check_id, Verdict.FAIL, f"{name} = {value}: {problem}", setting + fix))
        else:
            checks.append(Check(check_id, Verdict.OK, f"{name} = {value}"))
    return checks


def _variable_problem(name: str, value: str, expected: Expected) -> tuple[str, str]:
    if name == "PRENV_AWS_ROLE_ARN":
        match = _ROLE_ARN.match(value)
        if not match:
            return "not an IAM role ARN", "<terraform/bootstrap's output role_arn>"
        account, role = match.groups()
        if expected.account and account != expected.account:
            return (
                f"a role of account {account}, not {expected.account}",
                "<terraform/bootstrap's output role_arn>",
            )
        if expected.role and role != expected.role:
            return (
                f"role {role}, not terraform/bootstrap's {expected.role}",
                "<terraform/bootstrap's output role_arn>",
            )
    if name == "PRENV_AWS_REGION" and expected.region and value != expected.region:
        return f"the state bucket is in {expected.region}", expected.region
    if name == "PRENV_ECR_REPOSITORY" and expected.ecr_repository and value != expected.ecr_repository:
        return f"the base's repository is {expected.ecr_repository}", expected.ecr_repository
    if name == "PRENV_LABEL" and value != expected.label:
        return f"the config's label is {expected.label or '(none)'}", expected.label or '""'
    return "", ""


# --- exposure and readiness -----------------------------------------------------------------------------


def check_exposure(facts: BaseFacts) -> Check:
    domain = facts.load_balancer_tags.get("prenv:domain", "")
    https = facts.load_balancer_tags.get("prenv:https", "false") == "true"
    if domain:
        where = f"{'https' if https else 'http'}://pr-<N>.{domain}/"
    else:
        where = (
            f"http://{facts.load_balancer_dns or '<load balancer>'}:<10000 + N>/ (no domain: a port per PR)"
        )
    if not facts.ingress:
        return Check(
            "exposure",
            Verdict.WARN,
            f"previews at {where}, but the load balancer's security group lets nobody in",
            "set terraform/base's ingress_cidrs to who should open previews",
        )
    public = any(cidr in ("0.0.0.0/0", "::/0") for cidr in facts.ingress)
    message = f"previews at {where}, open to " + (
        "anyone with the URL" if public else ", ".join(facts.ingress)
    )
    if public and not https:
        return Check(
            "exposure",
            Verdict.WARN,
            message + ", over plain HTTP",
            "restrict terraform/base's ingress_cidrs, or give it a domain and a certificate for HTTPS",
        )
    return Check("exposure", Verdict.OK, message)


def check_readiness(config: Config) -> Check:
    health = config.health_check
    balancer_path = config.app.health_path  # what the bundled root's target group checks
    steady = config.terraform.variables.get("wait_for_steady_state") is True
    if health.enabled:
        if balancer_path != health.path:
            return Check(
                "readiness",
                Verdict.WARN,
                f"prenv waits for {health.path} but the load balancer checks {balancer_path}",
                "remove health_check.path (it defaults to app.health_path), or set both to one path",
            )
        seconds = int(health.timeout.total_seconds())
        return Check(
            "readiness", Verdict.OK, f"ready once {health.path} answers 2xx (waits up to {seconds}s)"
        )
    if steady:
        return Check("readiness", Verdict.OK, "ready once the ECS service is steady (wait_for_steady_state)")
    return Check(
        "readiness",
        Verdict.WARN,
        "ready is reported as soon as Terraform has applied: the app may still be starting",
        "set health_check.enabled: true (and its path) in the config",
    )
