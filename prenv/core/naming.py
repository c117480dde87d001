"""Every name a preview needs, derived from the PR number and the repository only.

Branch names and PR titles never enter a name: they are attacker-controlled and unbounded. Names that
are account-wide carry a short, stable hash of the repository so that two repositories can share one
AWS account. `terraform/preview` derives the same names from `name_prefix` with the same suffixes; a
test holds the two together.

    name_prefix  = "prenv-<hash6>-pr<N>"        at most 20 characters (N <= MAX_PR_NUMBER)
    target group = name_prefix                  ALB and target group names: at most 32
    RDS          = name_prefix + "-db"          at most 63, letter first, lowercase, no "--"

The shared database server of a repository (database.mode shared, terraform/base) is
`prenv-<hash6>-shared`; on it, PR N's database and role are both `prenv_pr<N>` (PostgreSQL names: at
most 63 bytes, lowercase), and its password is in the secret `prenv/<hash6>/pr<N>/database`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

# The largest PR number with a preview: `terraform/preview` maps PR N to listener port 10000 + N (ports
# stop at 60000) or to ALB rule priority N (priorities stop at 50000), and its `pr_number` validation
# refuses more. prenv refuses it up front, with the same limit (tests/terraform holds the two together).
MAX_PR_NUMBER = 50000
# hash6: the first 6 hex characters of sha256(lowercase "owner/name"); the roots compute it the same way.
REPOSITORY_HASH_LENGTH = 6
STEM = "prenv"
# A pull request's database (and role) on the shared server; cleanup recognizes them by this shape.
PR_DATABASE_RE = re.compile(r"^prenv_pr([1-9][0-9]{0,4})$")

_PATTERN_FIELD = re.compile(r"\{([^{}]*)\}")
WORKSPACE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,89}$")


class NamingError(ValueError):
    """A PR number, repository or pattern that cannot produce valid names."""


@dataclass(frozen=True)
class Names:
    pr_number: int
    repository: str
    workspace: str
    repository_hash: str
    name_prefix: str
    target_group: str
    rds_identifier: str
    db_name: str
    ecs_service: str
    log_group: str
    execution_role: str
    task_role: str
    service_security_group: str
    db_security_group: str
    secret_prefix: str
    environment: str
    base: str  # the shared base's name (its load balancer, cluster, VPC): prenv-<hash6>
    pr_database: str  # database.mode shared: the PR's database and role on the shared server
    database_secret: str  # database.mode shared: the secret holding that role's password


def repository_hash(repository: str) -> str:
    """Six hex characters of SHA-256 over the lowercased `owner/name` (GitHub names are case-insensitive)."""
    if not repository.strip():
        raise NamingError("the repository name is empty")
    return hashlib.sha256(repository.strip().lower().encode("utf-8")).hexdigest()[:REPOSITORY_HASH_LENGTH]


def base_name(repository: str) -> str:
    """The name of the repository's shared base (`prenv-<hash6>`): its VPC, load balancer, cluster and
    ECR repository, as terraform/base names them."""
    return f"{STEM}-{repository_hash(repository)}"


def workflow_role_name(repository: str) -> str:
    """The role terraform/bootstrap makes for `repository`'s workflows: `prenv-<hash6>-github-preview`."""
    return f"{base_name(repository)}-github-preview"


def check_pr_number(pr_number: int) -> int:
    if isinstance(pr_number, bool) or not isinstance(pr_number, int):
        raise NamingError(f"the PR number must be an integer, not {pr_number!r}")
    if not 1 <= pr_number <= MAX_PR_NUMBER:
        raise NamingError(f"the PR number must be between 1 and {MAX_PR_NUMBER}, not {pr_number}")
    return pr_number


def workspace_name(pattern: str, pr_number: int) -> str:
    """Expand a workspace pattern such as `pr-{number}`; only the `{number}` field is allowed."""
    check_workspace_pattern(pattern)
    name = pattern.replace("{number}", str(check_pr_number(pr_number)))
    if not WORKSPACE_RE.match(name):
        raise NamingError(f"workspace name {name!r} from pattern {pattern!r} is not a valid workspace name")
    return name


def check_workspace_pattern(pattern: str) -> str:
    fields = _PATTERN_FIELD.findall(pattern)
    if fields != ["number"]:
        raise NamingError(
            f"the workspace pattern {pattern!r} must contain `{{number}}` exactly once and no other field"
        )
    sample = pattern.replace("{number}", "1")
    if not WORKSPACE_RE.match(sample):
        raise NamingError(
            f"the workspace pattern {pattern!r} gives invalid names: use letters, digits, '-', '_' and '.', "
            "starting with a letter or digit"
        )
    return pattern


def pr_number_from_workspace(pattern: str, workspace: str) -> int | None:
    """The inverse of `workspace_name`: the PR number of a workspace, or None if it is not a preview."""
    prefix, _, suffix = check_workspace_pattern(pattern).partition("{number}")
    match = re.fullmatch(re.escape(prefix) + r"([1-9][0-9]{0,9})" + re.escape(suffix), workspace)
    if not match:
        return None
    number = int(match.group(1))
    return number if number <= MAX_PR_NUMBER else None


def names_for(pr_number: int, repository: str, workspace_pattern: str = "pr-{number}") -> Names:
    """All names of PR `pr_number`'s preview in `repository` (`owner/name`)."""
    number = check_pr_number(pr_number)
    digest = repository_hash(repository)
    prefix = f"{STEM}-{digest}-pr{number}"
    return Names(
        pr_number=number,
        repository=repository.strip(),
        workspace=workspace_name(workspace_pattern, number),
        repository_hash=digest,
        name_prefix=prefix,
        target_group=prefix,
        rds_identifier=f"{prefix}-db",
        db_name="app",
        ecs_service=f"{prefix}-app",
        log_group=f"/prenv/{digest}/pr{number}",
        execution_role=f"{prefix}-exec",
        task_role=f"{prefix}-task",
        service_security_group=f"{prefix}-svc",
        db_security_group=f"{prefix}-db",
        secret_prefix=f"prenv/{digest}/pr{number}/",
        environment=f"pr-{number}",
        base=base_name(repository),
        pr_database=f"{STEM}_pr{number}",
        database_secret=f"prenv/{digest}/pr{number}/database",
    )


def shared_database_server(repository: str) -> str:
    """The identifier of the repository's shared database cluster (terraform/base)."""
    return f"{base_name(repository)}-shared"


def pr_number_from_database(name: str) -> int | None:
    """The PR number of a pull request's database name on the shared server, or None."""
    match = PR_DATABASE_RE.match(name)
    if not match:
        return None
    number = int(match.group(1))
    return number if number <= MAX_PR_NUMBER else None
