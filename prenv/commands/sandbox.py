"""`prenv sandbox`: the whole PR lifecycle against an embedded AWS emulator, with no cloud account.

It starts moto in this process, creates the state bucket, then runs the real engine (real Terraform,
real S3 backend, real lock files) for a pretend PR: deploy, redeploy (no changes), destroy, and shows
that the workspace's state is gone. With the repository's `terraform/preview` (and `terraform/base`,
applied once first) it runs those; elsewhere it runs a small example root shipped with prenv.

It talks as it goes (`prenv.report.progress`): a line per step with the time elapsed, Terraform's
progress at least every 10 seconds while it works, a compact summary of each plan and deploy (counts,
risky changes, the URL, labelled as the emulator's); the comments prenv would post go to files, one per
stage. `--verbose` prints everything: Terraform's output, the plans, the outputs, the comments.
"""

from __future__ import annotations

import functools
import json
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from prenv.commands import deploy, destroy, wiring
from prenv.commands.wiring import Ports, Services, Target
from prenv.core.config import Backend, Config, backend_settings
from prenv.core.errors import ExitStatus, FailureReason, PrenvError
from prenv.engine.terraform import Terraform
from prenv.report.port import Reporter, Reporters
from prenv.report.pr import LocalCommentReporter
from prenv.report.progress import SandboxTerminal, StepLog, TerraformProgress
from prenv.sandbox import emulator

BUCKET = "prenv-sandbox-state"
REPOSITORY = "prenv-sandbox/app"
EXAMPLE_ROOT = Path(__file__).resolve().parent.parent / "sandbox" / "example_root"


@dataclass
class Layout:
    """Which Terraform the sandbox runs: the repository's base + preview, or the example root."""

    preview: Path
    base: Path | None
    source: str


def choose_roots(cwd: Path, root_option: str | None, work: Path) -> Layout:
    """Copy the Terraform to run into `work` (so nothing is written into the repository) and say which."""
    if root_option:
        source = (cwd / root_option).resolve()
        if not source.is_dir():
            raise PrenvError(
                f"--root {root_option}: no such directory",
                reason=FailureReason.USAGE,
                exit_status=ExitStatus.USAGE,
            )
        target = work / "root"
        shutil.copytree(source, target, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
        return Layout(preview=target, base=None, source=str(source))
    repo_terraform = cwd / "terraform"
    if (repo_terraform / "preview").is_dir():
        target = work / "terraform"
        shutil.copytree(repo_terraform, target, ignore=shutil.ignore_patterns(".terraform*", "*.tfstate*"))
        base = target / "base" if (target / "base").is_dir() else None
        return Layout(preview=target / "preview", base=base, source=str(repo_terraform / "preview"))
    target = work / "root"
    shutil.copytree(EXAMPLE_ROOT, target, ignore=shutil.ignore_patterns(".terraform*", "__pycache__"))
    return Layout(preview=target, base=None, source="the example root shipped with prenv")


def write_config(path: Path, preview_root: Path, region: str) -> Path:
    path.write_text(
        "\n".join(
            [
                "# Written by `prenv sandbox`: the emulator's state bucket and the root it runs.",
                "backend:",
                f"  bucket: {BUCKET}",
                f"  region: {region}",
                "  key: preview.tfstate",
                "  workspace_key_prefix: prenv",
                "terraform:",
                f"  root: {preview_root}",
                "  lock_timeout: 30s",
                f"repository: {REPOSITORY}",
                "",
            ]
        ),
        encoding="utf-8",
    )
    return path


def _apply_base(
    services: Services, base: Path, work: Path, log: StepLog, progress: TerraformProgress
) -> None:
    """Apply the repository's shared base once (its state beside the previews', in the emulator)."""
    environment = services.environment
    show = functools.partial(wiring.print_output, services.runtime(services.err), services.err)
    binary = wiring.terraform_binary(environment)
    tf = Terraform(
        root=base, binary=binary, env=services.env, verbose=services.verbose, show=show, progress=progress
    )
    log.step(f"base ({base.name}), applied once: VPC, load balancer, ECS cluster ... (about 90s)")
    start = log.elapsed()
    backend = Backend(bucket=BUCKET, region=environment.aws.region, key="base.tfstate")
    tf.init(backend_settings(backend, custom_endpoint=environment.aws.custom_s3_endpoint))
    var_file = work / "base.tfvars.json"
    var_file.write_text(json.dumps({"repository": REPOSITORY}), encoding="utf-8")
    plan_file = work / "base.tfplan"
    changed = tf.plan(plan_file, var_file).changed
    if changed:
        tf.apply(plan_file)
    log.step(f"base ready in {log.elapsed() - start:.0f}s: {progress.done} resources created")


def run(services: Services, pr: str, *, keep: bool, root: str | None, comments: str) -> ExitStatus:
    log = StepLog(services.out)
    work = Path(tempfile.mkdtemp(prefix="prenv-sandbox-"))
    emu = emulator.start_emulator()
    try:
        log.raw(f"prenv sandbox: AWS is EMULATED by moto on {emu.endpoint}: no cloud account is used,")
        log.raw("nothing real is created, nothing is sent to GitHub. Every URL below is the emulator's.")
        mirror = emulator.find_provider_mirror(
            services.environment.provider_mirror, services.environment.data_home
        )
        env = emu.isolated_environment(services.env, work / "cli", mirror)
        env["PRENV_SANDBOX"] = "1"
        env["GITHUB_REPOSITORY"] = REPOSITORY
        log.step(
            "Terraform providers: " + (f"local mirror {mirror}" if mirror else "downloaded from the registry")
        )
        emulator.create_bucket(emu, BUCKET)
        layout = choose_roots(services.cwd, root, work)
        log.step(f"state bucket s3://{BUCKET} created in the emulator; Terraform root: {layout.source}")
        config_path = write_config(work / "prenv.yml", layout.preview, emu.region)
        local = LocalCommentReporter(
            config=wiring.load_config(replace(services, config_path=str(config_path))),
            template_dir=services.cwd,
            directory=services.cwd / comments,
            say=log.raw if services.verbose else log.detail,
            full=services.verbose,
        )
        local.clear()
        progress = TerraformProgress(log)
        sub = replace(
            services,
            env=env,
            config_path=str(config_path),
            reporter_factory=_reporters(log, local, verbose=services.verbose),
            terraform_progress=progress,
        )
        if layout.base is not None:
            _apply_base(sub, layout.base, work, log, progress)
        log.step(f"[1/3] prenv deploy --pr {pr} (workspace pr-{pr})")
        deploy.run(sub, pr, sha="0" * 40)
        log.step(f"[2/3] prenv deploy --pr {pr} (again: nothing changed, so nothing is applied)")
        deploy.run(sub, pr, sha="0" * 40)
        if keep:
            _wait_kept(log, emu, pr)
            return ExitStatus.SUCCESS
        log.step(f"[3/3] prenv destroy --pr {pr}")
        destroy.run(sub, pr)
        config = wiring.load_config(sub)
        leftover = wiring.build_ports(sub, config).bucket.workspace_keys(f"pr-{pr}")
        if leftover:
            raise PrenvError(
                f"state objects are left after the destroy: {', '.join(leftover)}",
                reason=FailureReason.DESTROY_FAILED,
            )
        log.step(
            f"state of workspace pr-{pr} is gone: no object under s3://{BUCKET}/prenv/pr-{pr}/ "
            "(`terraform workspace list` no longer shows it)"
        )
        if local.written:
            log.step(f"the {len(local.written)} PR comments prenv would have posted: {local.directory}/")
        log.step("sandbox lifecycle complete: deploy, redeploy (no changes), destroy")
        return ExitStatus.SUCCESS
    finally:
        emu.stop()
        shutil.rmtree(work, ignore_errors=True)


def _wait_kept(log: StepLog, emu: emulator.Emulator, pr: str) -> None:
    log.raw(f"--keep: the preview of PR {pr} stays up in the emulator at {emu.endpoint}.")
    log.raw(
        f"Try: AWS_ENDPOINT_URL={emu.endpoint} AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing "
        f"aws --region {emu.region} s3 ls s3://{BUCKET} --recursive"
    )
    log.raw("The emulator lives in this process: press Ctrl-C to stop it (everything in it is then gone).")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        log.raw("Stopping the emulator.")


def _reporters(
    log: StepLog, local: LocalCommentReporter, *, verbose: bool
) -> Callable[[Ports, Config, Target], Reporter]:
    """The sandbox's reporters: the compact terminal lines, and the PR comments prenv would post, in files."""

    def build(ports: Ports, config: Config, tgt: Target) -> Reporter:
        return Reporters([SandboxTerminal(log, verbose=verbose), local])

    return build
