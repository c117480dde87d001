"""`prenv doctor`: everything a first deploy needs, checked one line at a time, each with its fix.

From a laptop or a workflow: the config, Terraform, the AWS credentials (in a workflow: the role
terraform/bootstrap made), the state bucket, the shared base, the image, the GitHub token, the repository
variables the workflows use, how previews are exposed and when they count as ready. The facts come from
the adapters (`prenv.aws.doctor`, `prenv.github.doctor`), the decisions from `prenv.core.doctor`.

Exit 1 when any check fails (the `failure-reason` is `setup-invalid`), 0 otherwise; `--json` for
machines. `--quick` is what the preview workflow runs before a PR's deploy: only what would make the
deploy fail, and nothing at all beyond the state bucket when the PR's workspace already has a state
(its first deploy was checked).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from prenv.aws import doctor as aws_facts
from prenv.aws.client import AwsError
from prenv.commands import wiring
from prenv.commands.wiring import Ports, Services
from prenv.core import doctor, naming
from prenv.core.config import Config
from prenv.core.doctor import Check, Verdict
from prenv.core.errors import ConfigError, ExitStatus, FailureReason, PrenvError
from prenv.engine import bundled
from prenv.engine.terraform import Terraform
from prenv.github.client import GitHub
from prenv.github.doctor import repository_variables, token_facts

WORKFLOWS = Path(".github") / "workflows"


@dataclass(frozen=True)
class DoctorOptions:
    quick: bool = False
    as_json: bool = False
    role: str = ""  # the role the credentials must be (an ARN or a name); in a workflow: bootstrap's
    image: str = ""  # the image to check (the deploy's --image); default: the config's
    pr: str | None = None  # quick: the PR about to be deployed (default: from the event)


@dataclass
class Doctor:
    """One run of the checks: what was found so far, in order, and the facts later checks reuse."""

    services: Services
    options: DoctorOptions
    checks: list[Check] = field(default_factory=list)
    identity: doctor.Identity | None = None
    base: doctor.BaseFacts | None = None

    def add(self, *found: Check) -> bool:
        """Record checks; False when one of them failed (the checks that need it are not made)."""
        self.checks += found
        return not doctor.failed(found)


def run(services: Services, options: DoctorOptions) -> int:
    found = Doctor(services, options)
    repository = ""
    try:
        repository = _examine(found)
    finally:
        _report(found, repository)
    return int(ExitStatus.FAILURE if doctor.failed(found.checks) else ExitStatus.SUCCESS)


def _examine(found: Doctor) -> str:
    services, options = found.services, found.options
    environment = services.environment
    try:
        config = wiring.load_config(services)
    except ConfigError as exc:
        found.add(doctor.check_config(None, exc.message, exc.hint))
        return ""
    found.add(doctor.check_config(config, "", ""))
    try:
        repository = wiring.resolve_repository(
            config, environment, lambda: wiring.git_remotes(services.cwd, environment.path)
        )
    except ConfigError as exc:
        found.add(Check("repository", Verdict.FAIL, exc.message, exc.hint))
        return ""
    configured = config.root_path(services.cwd)
    root = bundled.source() if configured is None else configured  # no root named: the one shipped
    found.add(doctor.check_root(config.terraform.root or "(shipped with prenv)", root.is_dir()))
    found.add(_terraform(services, config))
    ports = wiring.build_ports(services, config)
    if _aws(found, ports, config, repository):
        if _first_deploy_done(found, ports, config, repository):
            return repository
        _base(found, ports, config, repository, root)
    _github(found, ports, config, repository)
    if not options.quick:
        found.add(doctor.check_readiness(config))
    return repository


def _terraform(services: Services, config: Config) -> Check:
    try:
        binary = wiring.terraform_binary(services.environment, config.terraform.binary)
    except PrenvError as exc:
        return doctor.check_terraform("", None, exc.message)
    try:
        version = Terraform(root=services.cwd, binary=binary, env=services.env).version()
    except PrenvError as exc:
        return doctor.check_terraform(binary, None, exc.message)
    return doctor.check_terraform(binary, version, "")


def _aws(found: Doctor, ports: Ports, config: Config, repository: str) -> bool:
    """Credentials, region and the state bucket; False when the rest of AWS cannot be checked."""
    environment = ports.environment
    in_actions = environment.actions.in_actions
    aws = ports.aws(config.backend.region)
    try:
        who: doctor.Identity | None = aws_facts.identity(aws)
        error = ""
    except AwsError as exc:
        who, error = None, exc.one_line()
    expected = doctor.expected_role(repository, given=found.options.role, in_actions=in_actions)
    found.identity = who
    if not found.add(doctor.check_identity(who, error, expected=expected, in_actions=in_actions)):
        return False
    found.add(doctor.check_region(environment.aws.region, config.backend.region))
    bucket = aws_facts.bucket_facts(ports.bucket.aws, config.backend.bucket)
    return found.add(*doctor.check_bucket(bucket, config.backend.region))


def _first_deploy_done(found: Doctor, ports: Ports, config: Config, repository: str) -> bool:
    """Quick mode: True when the PR's workspace has a state already (its first deploy was checked), or
    when the bucket cannot be listed (a failed check says why): nothing more is checked either way."""
    if not found.options.quick:
        return False
    try:
        number, _ = wiring.resolve_pr(found.services, found.options.pr)
    except PrenvError:
        return False  # no PR in sight: check everything
    workspace = naming.names_for(number, repository, config.workspace_pattern).workspace
    try:
        keys = ports.bucket.workspace_keys(workspace)
    except AwsError as exc:
        found.add(
            Check(
                "first-deploy",
                Verdict.FAIL,
                f"cannot list workspace {workspace} in the state bucket: {exc.one_line()}",
                "check the credentials' s3:ListBucket on the state bucket",
            )
        )
        return True
    if not any(key.endswith("/" + config.backend.key) for key in keys):
        return False
    found.add(
        Check(
            "first-deploy",
            Verdict.OK,
            f"PR #{number} has a state already (workspace {workspace}): the set-up was checked before its "
            "first deploy",
        )
    )
    return True


def _base(found: Doctor, ports: Ports, config: Config, repository: str, root: Path) -> None:
    region = wiring.default_region(ports, config)
    aws = ports.aws(region)
    texts = [path.read_text(encoding="utf-8", errors="replace") for path in sorted(root.glob("*.tf"))]
    if doctor.uses_base(texts):
        found.base = aws_facts.base_facts(aws, naming.base_name(repository), region)
        found.add(*doctor.check_base(found.base))
    else:
        found.add(
            Check(
                "base",
                Verdict.SKIP,
                f"the root {config.terraform.root} does not use prenv's shared base (terraform/base)",
            )
        )
    image = found.options.image or config.image
    ecr = doctor.ecr_image(image)
    facts = doctor.ImageFacts(reference=image)
    if ecr is not None:
        try:
            facts = doctor.ImageFacts(
                reference=image, found=aws_facts.image_exists(ports.aws(ecr.region), ecr)
            )
        except AwsError as exc:
            facts = doctor.ImageFacts(reference=image, error=exc.one_line())
    found.add(doctor.check_image(facts))
    if not found.options.quick and found.base is not None and found.base.found:
        found.add(doctor.check_exposure(found.base))


def _github(found: Doctor, ports: Ports, config: Config, repository: str) -> None:
    in_actions = ports.environment.actions.in_actions
    github: GitHub | None = ports.github()
    needed = config.comment.enabled or config.deployments.enabled
    facts = token_facts(github) if github is not None else doctor.GitHubFacts(repository, token=False)
    found.add(*doctor.check_github(facts, needed=needed, in_actions=in_actions))
    if found.options.quick or github is None:
        return
    used = doctor.workflow_variables(
        path.read_text(encoding="utf-8", errors="replace")
        for path in sorted((found.services.cwd / WORKFLOWS).glob("*.y*ml"))
    )
    # The workflow's own token cannot list variables; there, the checks above saw their effect (the
    # role assumed, AWS_REGION) already.
    values, error = (
        (None, "the workflow's token cannot list them") if in_actions else repository_variables(github)
    )
    expected = doctor.Expected(
        role=naming.workflow_role_name(repository),
        account=found.identity.account if found.identity else "",
        region=config.backend.region,
        ecr_repository=found.base.ecr_repository if found.base else "",
        label=config.label,
    )
    found.add(*doctor.check_variables(used, values, error, expected))


# --- what the doctor says ------------------------------------------------------------------------------

_MARK = {Verdict.OK: "ok", Verdict.WARN: "warn", Verdict.FAIL: "FAIL", Verdict.SKIP: "skip"}


def _report(found: Doctor, repository: str) -> None:
    services, checks = found.services, found.checks
    failures = doctor.failed(checks)
    mode = "quick" if found.options.quick else "full"
    if found.options.as_json:
        document = {
            "ok": not failures,
            "mode": mode,
            "repository": repository,
            "checks": [asdict(check) for check in checks],
        }
        services.out.write(json.dumps(document, indent=2) + "\n")
    else:
        out = services.out
        out.write(f"prenv doctor ({mode}){': ' + repository if repository else ''}\n")
        for check in checks:
            fix = (
                f" -> fix: {check.fix}" if check.fix and check.status in (Verdict.FAIL, Verdict.WARN) else ""
            )
            out.write(f"[{_MARK[check.status]:>4}] {check.id}: {check.message}{fix}\n")
        if failures:
            out.write(
                f"prenv doctor: {len(failures)} of {len(checks)} checks failed; fix them and run it again\n"
            )
        else:
            warned = sum(check.status is Verdict.WARN for check in checks)
            out.write(
                f"prenv doctor: all {len(checks)} checks passed"
                + (f" ({warned} warnings)" if warned else "")
                + "\n"
            )
    services.out.flush()
    if failures:
        runtime = services.runtime(services.err)
        runtime.set_outputs({"failure-reason": FailureReason.SETUP_INVALID})
        for check in failures:
            runtime.annotate("error", f"{check.message}; fix: {check.fix}", title=f"prenv doctor: {check.id}")
