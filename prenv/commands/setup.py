"""`prenv setup`: the AWS side of a repository's set-up, from an installed prenv (no clone of prenv).

Applies the roots shipped with prenv, with the maintainer's administrator credentials (`--profile`, or
the AWS SDK's variables), in `--region`:

1. terraform/bootstrap: the state bucket, GitHub's OIDC provider and the workflows' role. Its first
   state is local (the bucket does not exist yet), in a scratch directory; once applied, the state is
   moved into the bucket it created (`terraform init -migrate-state`, key `bootstrap.tfstate`) and the
   local copy is dropped only when the bucket holds it. Later runs use the bucket directly.
2. terraform/base: network, load balancer, cluster, ECR repository; state key `base.tfstate`.

Then it prints the repository variables to set, with their `gh variable set` commands, and keeps the
outputs in prenv's cache for `prenv init`. A second run applies nothing new.

`prenv setup --destroy` removes both when no preview is left (it lists the previews otherwise, and
refuses): the base's images first (Terraform deletes only an empty ECR repository), then the base, then
the bootstrap. The state bucket is protected from `terraform destroy` (`prevent_destroy`), versioned, and
holds the bootstrap's own state, so it is handled explicitly: Terraform forgets it and its settings
(`state rm`), destroys everything else (role, policies, OIDC provider), and prenv deletes every object
version and delete marker, then the bucket.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prenv import SETUP_USER_AGENT
from prenv.aws import setup as aws_setup
from prenv.aws.client import Aws, client_factory
from prenv.commands import wiring
from prenv.commands.wiring import Services
from prenv.core import naming
from prenv.core.config import Backend, Config, backend_settings
from prenv.core.errors import ExitStatus, FailureReason, PrenvError, UsageError
from prenv.core.onboarding import (
    OnboardingError,
    check_region,
    check_repository,
    state_bucket_name,
    variable_commands,
)
from prenv.engine import bundled
from prenv.engine.terraform import Terraform

BOOTSTRAP_KEY = "bootstrap.tfstate"
BASE_KEY = "base.tfstate"
BACKEND_FILE = "prenv_backend.tf"  # makes the bootstrap's local state an S3 one once the bucket exists
BACKEND_BLOCK = 'terraform {\n  backend "s3" {}\n}\n'
# The state bucket (prevent_destroy) and its settings: removed by prenv itself, with the bucket. Terraform
# does not dismantle the bucket that holds the very state it writes while it destroys.
BUCKET_RESOURCES = "aws_s3_bucket"


@dataclass(frozen=True)
class SetupOptions:
    region: str = ""
    profile: str = ""
    repository: str = ""
    main_branch: str = "main"
    create_oidc_provider: bool = True
    destroy: bool = False
    bootstrap_vars: str = ""  # a JSON file of terraform/bootstrap's variables (extra_policy_documents, ...)
    base_vars: str = ""  # a JSON file of terraform/base's variables (domain, ingress_cidrs, ...)


@dataclass
class _SetupRun:
    """One `prenv setup` run: its environment (region and profile set), AWS, Terraform, scratch folder."""

    services: Services
    env: dict[str, str]
    repository: str
    region: str
    aws: Aws
    binary: str
    scratch: Path
    custom_endpoint: bool

    def say(self, line: str) -> None:
        self.services.out.write(f"prenv setup: {line}\n")
        self.services.out.flush()

    def terraform(self, root: Path, name: str) -> Terraform:
        show = lambda title, text: wiring.print_output(  # noqa: E731 - the Printer of the engine's
            self.services.runtime(self.services.err), self.services.err, title, text
        )
        return Terraform(
            root=root,
            binary=self.binary,
            env=self.env,
            data_dir=self.scratch / f"data-{name}",
            verbose=self.services.verbose,
            show=show,
            user_agent=SETUP_USER_AGENT,
        )

    def backend(self, bucket: str, key: str) -> dict[str, str]:
        return backend_settings(
            Backend(bucket=bucket, region=self.region, key=key), custom_endpoint=self.custom_endpoint
        )

    def var_file(self, name: str, values: Mapping[str, Any]) -> Path:
        path = self.scratch / f"{name}.tfvars.json"
        path.write_text(json.dumps(values), encoding="utf-8")
        return path

    def apply(self, tf: Terraform, var_file: Path, name: str) -> dict[str, Any]:
        plan = self.scratch / f"{name}.tfplan"
        if tf.plan(plan, var_file).changed:
            self.say(f"applying terraform/{name} (the AWS provider's waits: a few minutes)")
            tf.apply(plan)
        else:
            self.say(f"terraform/{name}: no changes")
        return {key: value.get("value") for key, value in tf.outputs().items()}


def _start(services: Services, options: SetupOptions, scratch: Path) -> _SetupRun:
    env = dict(services.env)
    region = options.region or services.environment.aws.region
    if not region:
        raise UsageError("no region", hint="pass --region, such as --region us-east-1")
    try:
        check_region(region)
        repository = options.repository or wiring.resolve_setup_repository(services)
        check_repository(repository, "--repository")
    except OnboardingError as exc:
        raise UsageError(str(exc)) from None
    env["AWS_REGION"] = region
    env.pop("AWS_DEFAULT_REGION", None)
    if options.profile:
        env["AWS_PROFILE"] = options.profile
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            env.pop(name, None)  # the profile's credentials, not the environment's
    settings = wiring.aws_settings(env)
    path_style = settings.custom_s3_endpoint
    s3 = {"addressing_style": "path" if path_style else "auto"}
    aws = Aws(client_factory(settings, region, s3=s3, user_agent_extra=SETUP_USER_AGENT))
    binary = wiring.terraform_binary(services.environment)
    return _SetupRun(services, env, repository, region, aws, binary, scratch, path_style)


def run(services: Services, options: SetupOptions) -> ExitStatus:
    # Bad input fails before any AWS call.
    user_variables(options.bootstrap_vars, "--bootstrap-vars", BOOTSTRAP_OURS)
    user_variables(options.base_vars, "--base-vars", BASE_OURS)
    with tempfile.TemporaryDirectory(prefix="prenv-setup-") as folder:
        setup = _start(services, options, Path(folder))
        account = aws_setup.account_id(setup.aws)
        bucket = state_bucket_name(setup.repository, account)
        setup.say(f"{setup.repository} in account {account}, {setup.region}; state bucket {bucket}")
        if options.destroy:
            return _destroy(setup, bucket)
        return _apply(setup, options, bucket)


def _bootstrap_copy(setup: _SetupRun, *, with_backend: bool) -> Path:
    """A private copy of the shipped bootstrap root (its first state is local: it lives in the copy)."""
    root = setup.scratch / "bootstrap"
    if not root.exists():
        root.mkdir()
        bundled.copy_files(bundled.source(name="bootstrap"), root, bundled.ROOTS["bootstrap"])
    if with_backend:
        (root / BACKEND_FILE).write_text(BACKEND_BLOCK, encoding="utf-8")
    return root


BOOTSTRAP_OURS = ("repository", "state_bucket_name", "main_branch", "create_oidc_provider")
BASE_OURS = ("repository",)


def user_variables(path: str, option: str, ours: tuple[str, ...]) -> dict[str, Any]:
    """The variables of a `--bootstrap-vars` / `--base-vars` JSON file (prenv's own are refused)."""
    if not path:
        return {}
    try:
        given = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{option} {path}: cannot read a JSON object of variables: {exc}") from None
    if not isinstance(given, dict):
        raise UsageError(
            f'{option} {path}: must hold a JSON object of variables, such as {{"domain": "..."}}'
        )
    clash = sorted(set(given) & set(ours))
    if clash:
        raise UsageError(
            f"{option} {path}: sets {', '.join(clash)}, which prenv setup sets itself",
            hint="remove them from the file (use --repository, --main-branch, --no-oidc-provider)",
        )
    return given


def _apply(setup: _SetupRun, options: SetupOptions, bucket: str) -> ExitStatus:
    ours = {
        "repository": setup.repository,
        "state_bucket_name": bucket,
        "main_branch": options.main_branch,
        "create_oidc_provider": options.create_oidc_provider,
    }
    variables = {**user_variables(options.bootstrap_vars, "--bootstrap-vars", BOOTSTRAP_OURS), **ours}
    base_variables = {
        **user_variables(options.base_vars, "--base-vars", BASE_OURS),
        "repository": setup.repository,
    }
    var_file = setup.var_file("bootstrap", variables)
    migrated = aws_setup.bucket_exists(setup.aws, bucket) and aws_setup.object_exists(
        setup.aws, bucket, BOOTSTRAP_KEY
    )
    if aws_setup.bucket_exists(setup.aws, bucket) and not migrated:
        raise PrenvError(
            f"the state bucket {bucket} exists but holds no {BOOTSTRAP_KEY}: it was not made by prenv setup",
            reason=FailureReason.SETUP_FAILED,
            hint="if terraform/bootstrap was applied by hand, move its state into the bucket under the key "
            f"{BOOTSTRAP_KEY} (terraform init -migrate-state), then run prenv setup again",
        )
    root = _bootstrap_copy(setup, with_backend=migrated)
    tf = setup.terraform(root, "bootstrap")
    tf.init(setup.backend(bucket, BOOTSTRAP_KEY) if migrated else {})
    outputs = setup.apply(tf, var_file, "bootstrap")
    if not migrated:
        _migrate(setup, root, tf, bucket)
    base = setup.terraform(bundled.working_copy(_roots_cache(setup), name="base"), "base")
    base.init(setup.backend(bucket, BASE_KEY))
    base_outputs = setup.apply(base, setup.var_file("base", base_variables), "base")
    _report(setup, outputs, base_outputs)
    return ExitStatus.SUCCESS


def _roots_cache(setup: _SetupRun) -> Path:
    return Path(setup.services.environment.cache_home) / "prenv" / "roots"


def _migrate(setup: _SetupRun, root: Path, tf: Terraform, bucket: str) -> None:
    """Move the bootstrap's local state into the bucket; the local file is dropped only once it is there."""
    local = root / "terraform.tfstate"
    (root / BACKEND_FILE).write_text(BACKEND_BLOCK, encoding="utf-8")
    try:
        tf.init(setup.backend(bucket, BOOTSTRAP_KEY), migrate_state=True)
        _check_migrated(setup, bucket)
    except PrenvError as exc:
        kept = setup.services.cwd / "prenv-bootstrap.tfstate"
        if local.is_file():
            shutil.copy2(local, kept)
        exc.hint = (
            f"the bootstrap's state was kept in {kept}: keep it, and run prenv setup again "
            "(or move it into the bucket by hand)"
        )
        raise
    setup.say(f"the bootstrap's state moved into s3://{bucket}/{BOOTSTRAP_KEY}")


def _check_migrated(setup: _SetupRun, bucket: str) -> None:
    if not aws_setup.object_exists(setup.aws, bucket, BOOTSTRAP_KEY):
        raise PrenvError(
            f"terraform init -migrate-state left no {BOOTSTRAP_KEY} in {bucket}",
            reason=FailureReason.SETUP_FAILED,
        )


def _report(setup: _SetupRun, bootstrap: Mapping[str, Any], base: Mapping[str, Any]) -> None:
    variables = {
        "PRENV_AWS_ROLE_ARN": str(bootstrap["role_arn"]),
        "PRENV_AWS_REGION": str(bootstrap["region"]),
    }
    record = {
        "repository": setup.repository,
        "bucket": str(bootstrap["state_bucket"]),
        "region": str(bootstrap["region"]),
        "role_arn": variables["PRENV_AWS_ROLE_ARN"],
        "ecr_repository_url": str(base.get("ecr_repository_url", "")),
        "alb_dns_name": str(base.get("alb_dns_name", "")),
    }
    path = wiring.setup_record_path(setup.services.environment, setup.repository)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        setup.services.warn(f"cannot keep the set-up's outputs for prenv init in {path}: {exc}")
    out = setup.services.out
    out.write(
        f"\nSet up: state bucket {record['bucket']} ({record['region']}), role {record['role_arn']}, "
        f"the base {naming.base_name(setup.repository)}.\n"
        "Set the repository variables the workflows read (Settings > Secrets and variables > Actions > "
        "Variables), for example with GitHub's CLI:\n\n"
    )
    for command in variable_commands(setup.repository, variables):
        out.write(f"  {command}\n")
    out.write(
        "\n  # optional: only PRs with this label get a preview (the same value as `label:` in the config)\n"
        f"  gh variable set PRENV_LABEL --body preview --repo {setup.repository}\n\n"
        "Next: `prenv init` in the repository writes .github/prenv.yml and the workflows.\n"
    )
    out.flush()


def _destroy(setup: _SetupRun, bucket: str) -> ExitStatus:
    if not aws_setup.bucket_exists(setup.aws, bucket):
        setup.say(f"nothing to remove: there is no state bucket {bucket} in {setup.region}")
        return ExitStatus.SUCCESS
    if not aws_setup.object_exists(setup.aws, bucket, BOOTSTRAP_KEY):
        raise PrenvError(
            f"the state bucket {bucket} holds no {BOOTSTRAP_KEY}: it was not made by prenv setup; "
            "nothing was removed",
            reason=FailureReason.SETUP_FAILED,
            hint="remove what it holds yourself (prenv deletes only a bucket it made)",
        )
    bare = Config(backend=Backend(bucket=bucket, region=setup.region))
    listing = wiring.state_bucket_of(bare, setup.aws).list_previews()
    if listing.previews:
        previews = ", ".join(f"PR #{p.pr_number} ({p.workspace})" for p in listing.previews)
        raise PrenvError(
            f"{len(listing.previews)} preview(s) remain: {previews}; nothing was removed",
            reason=FailureReason.SETUP_FAILED,
            hint="destroy them first (close the PRs, or `prenv destroy --pr N`), "
            "then run prenv setup --destroy again",
        )
    if aws_setup.object_exists(setup.aws, bucket, BASE_KEY):
        images = aws_setup.delete_images(setup.aws, naming.base_name(setup.repository))
        if images:
            setup.say(f"deleted {images} image(s) of the ECR repository {naming.base_name(setup.repository)}")
        base = setup.terraform(bundled.working_copy(_roots_cache(setup), name="base"), "base")
        base.init(setup.backend(bucket, BASE_KEY))
        setup.say("destroying terraform/base (the AWS provider's waits: a few minutes)")
        base.destroy(setup.var_file("base", {"repository": setup.repository}))
        if base.state_list():
            raise PrenvError(
                "terraform/base's state still holds resources after its destroy; nothing else was removed",
                reason=FailureReason.DESTROY_FAILED,
                hint="run prenv setup --destroy again",
            )
    root = _bootstrap_copy(setup, with_backend=True)
    tf = setup.terraform(root, "bootstrap")
    tf.init(setup.backend(bucket, BOOTSTRAP_KEY))
    bucket_resources = [a for a in tf.state_list() if a.split(".", 1)[0].startswith(BUCKET_RESOURCES)]
    if bucket_resources:  # the bucket, with its settings, is deleted below once it is empty
        tf.state_rm(bucket_resources)
    setup.say("destroying terraform/bootstrap (the role, its policies, the OIDC provider)")
    tf.destroy(setup.var_file("bootstrap", {"repository": setup.repository, "state_bucket_name": bucket}))
    if tf.state_list():
        raise PrenvError(
            "terraform/bootstrap's state still holds resources after its destroy; the bucket was kept",
            reason=FailureReason.DESTROY_FAILED,
            hint="run prenv setup --destroy again",
        )
    deleted = aws_setup.empty_and_delete_bucket(setup.aws, bucket)
    setup.say(f"deleted the state bucket {bucket} ({deleted} object versions and delete markers)")
    left = aws_setup.remaining(setup.aws, setup.repository)
    if left:
        raise PrenvError(
            f"{len(left)} resource(s) tagged prenv:repository={setup.repository} remain: {', '.join(left)}",
            reason=FailureReason.DESTROY_FAILED,
            hint="delete them in the AWS console or with the AWS CLI",
        )
    setup.say(f"removed: nothing tagged for {setup.repository} is left in {setup.region}")
    return ExitStatus.SUCCESS
